"""The studio's state, Qt-free: one :class:`Session` that every view listens to and sends commands to."""

from .events import Event, Events
from .model import InputExample, Origin, Snapshot, sizes_text
from .runner import SyncRunner
from .session import DEFAULT_ARCHITECTURE, DEFAULT_HYPER, Session, SessionError

__all__ = ["DEFAULT_ARCHITECTURE", "DEFAULT_HYPER", "Event", "Events", "InputExample", "Origin", "Session",
           "SessionError", "Snapshot", "SyncRunner", "sizes_text"]
