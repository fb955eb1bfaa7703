"""All background work of the GUI goes through here (superqt's one worker family, for nnstudio).

* :class:`Task`: a function run in a thread of its own.  ``fn(task)`` may call
  ``task.checkpoint()`` between chunks (it hands the GIL to the GUI thread and says whether to
  stop), report ``task.progress.emit(done, total)`` or ``task.point.emit(name, value)``.  It ends
  with exactly one of ``succeeded(result)``, ``failed(one-line message)`` or nothing at all when it
  was cancelled (``cancel()``, or the function raised :class:`~nnstudio._cancel.Cancelled`).
  ``task.error`` keeps the exception of a failed task.
* :class:`JobRunner`: named jobs one at a time, in order, on one Task after another; asking for a
  job while one of the same name waits replaces the waiting one (so a burst of requests costs at
  most one running and one waiting job, and the newest always runs).
* :class:`QtRunner`: the session's runner (``nnstudio.session.runner``) on Tasks: the work in a
  thread, the answer on the GUI thread.

The training loop is not a task: it has a worker of its own (``nnstudio.training.workers``);
:class:`PipeWatch` wakes the GUI when such a worker has something to say.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable

from nnstudio._cancel import Cancelled
from nnstudio.gui.qt import QtCore, Signal, Slot

log = logging.getLogger(__name__)


def one_line(e: BaseException) -> str:
    """An exception as one line for the user."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if isinstance(e, (ValueError, MemoryError, OSError)) and text:
        return text
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


class Task(QtCore.QThread):
    """``fn(task)`` in a thread of its own; see the module docstring."""

    progress = Signal(object, object)  # (done, total): numbers, or whatever the work reports
    point = Signal(str, object)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, fn: Callable, parent=None):
        super().__init__(parent)
        self._fn = fn
        self._cancel = threading.Event()
        self.seconds = 0.0
        self.error: BaseException | None = None
        #: emit ``succeeded`` even after cancel() (the work itself says what cancelling did)
        self.answer_when_cancelled = False

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def checkpoint(self) -> bool:
        """For the work, between chunks: let the GUI thread have the GIL, then say whether to stop.
        (``time.sleep(0)`` releases the GIL, so a waiting GUI thread gets it at once instead of
        after the interpreter's switch interval.)"""
        time.sleep(0)
        return self._cancel.is_set()

    def run(self) -> None:
        t0 = time.perf_counter()
        try:
            result = self._fn(self)
        except Cancelled:
            return
        except Exception as e:  # work must never take the app down: say what happened in one line
            if not isinstance(e, (ValueError, MemoryError, OSError)):
                log.error("background task failed:\n%s", traceback.format_exc())
            self.error = e
            self.failed.emit(one_line(e))
            return
        finally:
            self.seconds = time.perf_counter() - t0
        if self.answer_when_cancelled or not self._cancel.is_set():
            self.succeeded.emit(result)


class JobRunner(QtCore.QObject):
    """Named jobs ``fn(should_stop) -> result``, one at a time; see the module docstring.
    :meth:`shutdown` stops the running job, drops the waiting ones and waits for the thread."""

    #: (name, result) of a job that finished, on the GUI thread
    finished = Signal(str, object)
    #: (name, one-line message) of a job that raised
    failed = Signal(str, str)
    #: True while a job runs or waits
    busyChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._pending: dict[str, Callable] = {}
        self._task: Task | None = None
        self._running: str | None = None
        self._old: set[Task] = set()  # tasks let go by a shutdown that have not ended yet

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._pending)

    @property
    def running(self) -> str | None:
        return self._running

    def active_threads(self) -> int:
        return int(self._task is not None and self._task.isRunning()) + sum(t.isRunning() for t in self._old)

    def submit(self, name: str, fn: Callable) -> None:
        """Run ``fn(should_stop)`` off the GUI thread; replaces a waiting job of the same name."""
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
        ok = True
        for task in [t for t in (self._task, *self._old) if t is not None]:
            task.cancel()
            ok = task.wait(timeout_ms) and ok
        self._task = None
        self._old.clear()
        self._running = None
        if was_busy:
            self.busyChanged.emit(False)
        return ok

    def _start_next(self) -> None:
        if not self._pending:
            return
        name = next(iter(self._pending))
        fn = self._pending.pop(name)
        self._running = name
        task = Task(lambda t: fn(t.cancelled), self)
        task.succeeded.connect(lambda result, n=name: self.finished.emit(n, result))
        task.failed.connect(lambda message, n=name: self.failed.emit(n, message))
        task.finished.connect(self._ended)
        self._task = task
        task.start()

    @Slot()
    def _ended(self) -> None:
        task = self.sender()
        if task is not self._task:  # (a task from before a shutdown)
            return
        task.deleteLater()
        self._task = None
        self._running = None
        if self._pending:
            self._start_next()
        else:
            self.busyChanged.emit(False)


class QtRunner(QtCore.QObject):
    """The session's runner: ``submit(fn, done, failed, progress)`` runs ``fn(cancelled, progress)``
    in a Task; then ``done(result)`` or ``failed(exception)`` (a cancelled load fails with its
    Cancelled exception, so the session can say so) runs on the GUI thread."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tasks: set[Task] = set()

    def submit(self, fn, done, failed, progress=None) -> Task:
        def work(task: Task):
            try:
                return True, fn(task.cancelled, lambda *a: task.progress.emit(a, None))
            except Exception as e:  # handed to the session on the GUI thread, which says what it means
                return False, e

        task = Task(work, self)
        task.answer_when_cancelled = True
        task.succeeded.connect(lambda answer: done(answer[1]) if answer[0] else failed(answer[1]))
        if progress is not None:
            task.progress.connect(lambda args, _none: progress(*args))
        task.finished.connect(lambda: self._finished(task))
        self._tasks.add(task)
        task.start()
        return task

    def _finished(self, task: Task) -> None:
        self._tasks.discard(task)
        task.deleteLater()

    def shutdown(self, timeout_ms: int = 60_000) -> None:
        """Cancel and join every task; their answers are not delivered."""
        for task in list(self._tasks):
            task.answer_when_cancelled = False
            task.cancel()
            task.wait(timeout_ms)
        self._tasks.clear()

    def running(self) -> int:
        return sum(t.isRunning() for t in self._tasks)


class PipeWatch(QtCore.QObject):
    """Call ``callback`` whenever a worker's file descriptor is readable (a ``QSocketNotifier``),
    following the worker as it changes: :meth:`watch` with the worker's ``fileno()`` (None, or -1 for
    a worker whose pipe is closed: nothing is watched)."""

    def __init__(self, callback: Callable, parent=None):
        super().__init__(parent)
        self._callback = callback
        self.notifier: QtCore.QSocketNotifier | None = None
        self.fd: int | None = None

    def watch(self, fd: int | None) -> None:
        if fd is not None and fd < 0:  # (a stopped worker: Qt would warn of an invalid socket)
            fd = None
        if fd == self.fd:
            return
        self.stop()
        self.fd = fd
        if fd is not None:
            self.notifier = QtCore.QSocketNotifier(fd, QtCore.QSocketNotifier.Type.Read, self)
            self.notifier.activated.connect(self._callback)

    def watching(self, fd: int | None) -> bool:
        """Is ``fd`` (a worker's ``fileno()``) the one watched?"""
        return (None if fd is not None and fd < 0 else fd) == self.fd

    def stop(self) -> None:
        if self.notifier is not None:
            self.notifier.setEnabled(False)
            self.notifier.deleteLater()
            self.notifier = None
        self.fd = None
