"""Fixtures of the session tests."""

from __future__ import annotations

import pytest

from nnstudio.session import Session
from nnstudio.training.workers import InlineWorker


@pytest.fixture
def session():
    """A session on the embedded sample, its worker inline (deterministic, in this thread), started
    and idle with the shipped network on screen.  (A test module may define its own.)"""
    s = Session(worker=InlineWorker(steps_per_drain=400))
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    yield s
    s.shutdown()
