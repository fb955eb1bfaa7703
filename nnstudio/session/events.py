"""Events without Qt: a named signal that any number of callbacks can listen to (napari-style).

    session.events.network.connect(view.on_network)
    session.events.network.emit(snapshot)

Callbacks run synchronously, in the order they connected, on the thread that emits (the
session emits only on its own thread: the GUI thread in the studio).  A callback that raises
is logged and does not stop the others.  The Qt adapter (``nnstudio.gui.window.adapter``) turns
these into Qt signals where a widget wants one.
"""

from __future__ import annotations

import logging
import traceback
import weakref

log = logging.getLogger(__name__)


class Event:
    """One kind of event; ``connect(callback)``, ``disconnect(callback)``, ``emit(*args)``."""

    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc
        self._callbacks: list = []
        self.emitting = False

    def connect(self, callback) -> None:
        """Call ``callback(*args)`` at every emit.  Bound methods are held weakly (a view that is
        deleted stops listening); other callables strongly."""
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            ref = weakref.WeakMethod(callback)
        else:
            ref = (lambda cb: (lambda: cb))(callback)
        self._callbacks.append(ref)

    def disconnect(self, callback) -> None:
        self._callbacks = [r for r in self._callbacks if r() not in (None, callback)]

    def emit(self, *args) -> None:
        dead = False
        self.emitting = True
        try:
            for ref in list(self._callbacks):
                cb = ref()
                if cb is None:
                    dead = True
                    continue
                try:
                    cb(*args)
                except Exception:
                    log.error("a listener of %s failed:\n%s", self.name, traceback.format_exc())
        finally:
            self.emitting = False
        if dead:
            self._callbacks = [r for r in self._callbacks if r() is not None]

    def __len__(self) -> int:
        return sum(1 for r in self._callbacks if r() is not None)


class Events:
    """A group of named events: ``Events(network="the network changed", ...)``."""

    def __init__(self, **docs: str):
        self._names = tuple(docs)
        for name, doc in docs.items():
            setattr(self, name, Event(name, doc))

    def __iter__(self):
        return (getattr(self, n) for n in self._names)

    @property
    def names(self) -> tuple[str, ...]:
        return self._names
