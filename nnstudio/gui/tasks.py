"""Runs the evaluation view's computations off the GUI thread.

One private :class:`QThreadPool` with a single thread: jobs run one at a time, in order.
Jobs are named; asking for a job while one of the same name is waiting replaces the
waiting one (so a burst of epoch ends costs at most one running and one waiting job, and
the newest always runs).  A running job is never interrupted by a newer request: its
result is real (that epoch's numbers) and is shown when it arrives.

A job is ``fn(should_stop) -> result``; long computations poll ``should_stop()`` and raise
:class:`nnstudio.components.evaluation.Cancelled`.  :meth:`JobRunner.shutdown` asks the running
job to stop, drops the waiting ones and waits for the thread to finish, so after it
returns nothing is left running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from nnstudio.components.evaluation import Cancelled
from nnstudio.gui.qt import QtCore, Signal, Slot


class _Relay(QtCore.QObject):
    """Lives in the GUI thread; the worker emits through it (queued to the GUI thread)."""

    done = Signal(str, int, object)
    failed = Signal(str, int, str)
    ended = Signal(int)


class JobRunner(QtCore.QObject):
    #: (name, result) of a job that finished, on the GUI thread
    finished = Signal(str, object)
    #: (name, one-line message) of a job that raised
    failed = Signal(str, str)
    #: True while a job runs or waits
    busyChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pool = QtCore.QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._relay.ended.connect(self._on_ended)
        self._pending: dict[str, Callable] = {}
        self._running: str | None = None
        self._cancel = threading.Event()
        self._generation = 0  # bumped by shutdown: results of older jobs are dropped

    # ------------------------------------------------------------------ API
    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._pending)

    @property
    def running(self) -> str | None:
        return self._running

    def active_threads(self) -> int:
        return self._pool.activeThreadCount()

    def submit(self, name: str, fn: Callable) -> None:
        """Run ``fn(should_stop)`` in the worker thread; replaces a waiting job of the same name."""
        was_busy = self.busy
        self._pending[name] = fn
        if self._running is None:
            self._start_next()
        if not was_busy:
            self.busyChanged.emit(True)

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Stop the running job, drop waiting ones, wait for the thread: nothing runs afterwards."""
        was_busy = self.busy
        self._pending.clear()
        self._generation += 1
        self._cancel.set()
        self._pool.clear()
        ok = self._pool.waitForDone(timeout_ms)
        self._running = None
        self._cancel = threading.Event()
        if was_busy:
            self.busyChanged.emit(False)
        return ok

    # ------------------------------------------------------------------ internals
    def _start_next(self) -> None:
        if not self._pending:
            return
        name = next(iter(self._pending))
        fn = self._pending.pop(name)
        self._running = name
        relay, cancel, gen = self._relay, self._cancel, self._generation

        def run():
            try:
                result = fn(cancel.is_set)
            except Cancelled:
                pass
            except Exception as e:  # noqa: BLE001 - shown to the user as one line
                relay.failed.emit(name, gen, f"{type(e).__name__}: {e}".splitlines()[0])
            else:
                relay.done.emit(name, gen, result)
            finally:
                relay.ended.emit(gen)

        self._pool.start(run)

    @Slot(str, int, object)
    def _on_done(self, name, gen, result) -> None:
        if gen == self._generation:
            self.finished.emit(name, result)

    @Slot(str, int, str)
    def _on_failed(self, name, gen, message) -> None:
        if gen == self._generation:
            self.failed.emit(name, message)

    @Slot(int)
    def _on_ended(self, gen) -> None:
        if gen != self._generation or self._running is None:  # a job from before a shutdown
            return
        self._running = None
        if self._pending:
            self._start_next()
        else:
            self.busyChanged.emit(False)
