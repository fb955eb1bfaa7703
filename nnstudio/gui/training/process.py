"""The training worker in a process of its own, behind the thread worker's interface.

:class:`TrainingProcess` is a drop-in for :class:`~nnstudio.gui.training.thread.TrainingThread`: its
``worker`` has the same commands (``play()``, ``pause()``, ``step_batch()``, ...) and the
same signals (``batchDone`` for EVERY mini-batch, ``epochDone``, ``snapshotReady``,
``stateChanged``, ``restarted``/``runMarker``, ``diverged``, ``batchShown``, ``error``,
``finished``, ``pong``), emitted in the same order.  The trainer itself runs in a child
process (:mod:`nnstudio.training.loop`, no Qt there); a reader thread here receives its
messages and emits the signals, so ``ReportInbox`` and the window work unchanged.

Why: see :mod:`nnstudio.training.loop`.  Sharing one interpreter lock, a ~20 µs mini-batch
and the GUI's painting slow each other down; in two processes the trainer keeps its speed
with the window open and the window can draw at display rate.

Start method: ``forkserver`` where the platform has it (a clean server process, started
without Qt, forks each training process in a few milliseconds), else ``spawn``.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading

from nnstudio.core.trainer import BatchReport
from nnstudio.gui.qt import QtCore, Signal, Slot
from nnstudio.gui.training.thread import WorkerBase

log = logging.getLogger(__name__)

_CTX = None


def _context():
    global _CTX
    if _CTX is None:
        # One BLAS thread in the training process, as the CLI does for itself: its matrices
        # are small, and idle OpenBLAS threads spin on the core the GUI needs.  (Read when
        # the server process imports numpy: it inherits this environment.)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, "1")
        if "forkserver" in mp.get_all_start_methods():
            _CTX = mp.get_context("forkserver")
            # the server imports these once; every training process starts with them loaded
            _CTX.set_forkserver_preload(["numpy", "nnstudio.core", "nnstudio.training.loop"])
        else:  # pragma: no cover - Windows
            _CTX = mp.get_context("spawn")
    return _CTX


def _widen(conn, size: int = 1 << 20) -> None:
    """Give a pipe a 1 MB buffer (Linux; the default 64 KB is less than one snapshot of a
    784-100-10 network, so the trainer would wait for the GUI to read each one)."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError, ValueError):  # pragma: no cover - other systems, or capped
        pass


class ProcessTrainingWorker(WorkerBase):
    """The GUI side of the training process: commands go down a pipe (``set_trainer``
    pickles the trainer across; the GUI's copy is not used again), messages come back and
    become the thread worker's signals (emitted from the reader thread)."""

    #: the same reports in bulk: a list per message (the window's inbox takes these)
    batchesDone = Signal(object)

    #: the trainer runs in another process: the GUI need not step aside while it paints
    separate_process = True

    def __init__(self, *, snapshot_hz: float = 60.0, max_backlog: int = 30_000):
        super().__init__()
        self._snapshot_hz = float(snapshot_hz)
        self._backlog = int(max_backlog)
        self._lock = threading.Lock()
        self._cmd = None  # our end of the command pipe
        self._msg = None  # our end of the message pipe
        self._stopping = False
        self._snap_sent = None
        self.hold = False  # (the thread worker's; nothing to step aside from here)
        self.emitted = 0  # reports emitted (reader thread only)
        self._consumed = 0
        self.generation = 0
        self.state = "idle"
        self._perms: dict = {}
        self._last = None
        mo = self.metaObject()
        self._batch_done_method = mo.method(mo.indexOfSignal("batchDone(PyObject)"))

    # Back-pressure, as the thread worker does it: the GUI says how many reports it consumed;
    # more than max_backlog behind, the training process waits (still obeying commands), so
    # the GUI's event queue cannot grow without bound and a pause still lands within a frame.
    @property
    def consumed(self) -> int:
        return self._consumed

    @consumed.setter
    def consumed(self, n: int) -> None:
        if n != self._consumed:
            self._consumed = int(n)
            self._send("consumed", self._consumed)

    @property
    def _max_backlog(self) -> int:
        return self._backlog

    @_max_backlog.setter
    def _max_backlog(self, n: int) -> None:
        self._backlog = int(n)
        self._send("backlog", self._backlog)

    # ------------------------------------------------------------------ commands (GUI thread)
    def _send(self, *cmd) -> None:
        conn = self._cmd
        if conn is None:
            return
        with self._lock:
            try:
                conn.send(cmd)
            except (OSError, ValueError):  # the process is gone: the reader reports it
                pass

    def set_snapshot_interval(self, seconds: float) -> None:
        seconds = max(1.0 / 60.0, float(seconds))
        if seconds != self._snap_sent:
            self._snap_sent = seconds
            self._send("snapint", seconds)

    def abort(self) -> None:
        self._stopping = True
        self._send("abort")

    # ------------------------------------------------------------------ the reader (its thread)
    @Slot()
    def run(self) -> None:
        try:
            self._read()
        except Exception as e:  # pragma: no cover - never let the reader die silently
            log.exception("training reader failed")
            self.error.emit(f"training stopped: {type(e).__name__}: {e}")
        finally:
            self.finished.emit()

    def _read(self) -> None:
        conn = self._msg
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                if not self._stopping:
                    self.error.emit("training stopped: the training process ended unexpectedly")
                return
            kind = msg[0]
            if kind == "batches":
                self._batches(msg[1], msg[2])
            elif kind == "snapshot":
                self.snapshotReady.emit(msg[1])
            elif kind == "state":
                self.state = msg[1]
                self.stateChanged.emit(msg[1])
            elif kind == "restarted":
                snap, gen = msg[1], msg[2]
                self.generation = gen
                self._last = None
                self.runMarker.emit(gen)
                self.restarted.emit(snap, gen)
                self.snapshotReady.emit(snap)
            elif kind == "diverged":
                self.diverged.emit(self._last)
            elif kind == "shown":
                self.batchShown.emit(self._last)
            elif kind == "pong":
                self.pong.emit(msg[1])
            elif kind == "error":
                log.error("training process failed:\n%s", msg[2])
                self.error.emit(msg[1])
            elif kind == "finished":
                return

    def _batches(self, new_perms: dict, rows: list) -> None:
        perms = self._perms
        if new_perms:
            perms.update(new_perms)
        # ``batchDone`` once per mini-batch for whoever listens to single reports;
        # ``batchesDone`` once per message with all of them (what the window's inbox uses:
        # a signal per mini-batch, 20-40 thousand a second, would cost the GUI process
        # more than the trainer needs to make them)
        per_report = self.isSignalConnected(self._batch_done_method)
        emit, epoch_done = self.batchDone.emit, self.epochDone.emit
        reports = []
        r = None
        for row in rows:
            epoch, batch, off, cost, sec, seen, step, lr, bs, end, div, pid = row[:12]
            idx = perms[pid][off : off + bs] if pid >= 0 else row[12]
            r = BatchReport(epoch, batch, idx, cost, sec, seen, step, lr, bs, end, div, off)
            reports.append(r)
        self.emitted += len(reports)
        if reports:
            self.batchesDone.emit(reports)
        for r in reports:
            if per_report:
                emit(r)
            if r.epoch_end is not None:
                epoch_done(r.epoch_end)
        if r is not None:
            self._last = r
        if len(perms) > 1:  # later rows can only name the last epoch order or newer ones
            last = rows[-1][11] if rows else max(perms)
            for k in [k for k in perms if k < last]:
                del perms[k]


class TrainingProcess(QtCore.QObject):
    """Owns a :class:`ProcessTrainingWorker`, its training process and its reader thread;
    stops and joins both cleanly (same interface as ``TrainingThread``)."""

    def __init__(self, parent=None, **worker_kw):
        super().__init__(parent)
        self.worker = ProcessTrainingWorker(**worker_kw)
        self.thread = QtCore.QThread()
        self.thread.setObjectName("nnstudio-training-reader")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.process = None

    def start(self) -> None:
        from nnstudio.training import loop as trainchild

        ctx = _context()
        cmd_recv, cmd_send = ctx.Pipe(duplex=False)
        msg_recv, msg_send = ctx.Pipe(duplex=False)
        _widen(msg_send)
        self.process = ctx.Process(
            target=trainchild.main, args=(cmd_recv, msg_send, self.worker._snapshot_hz, self.worker._backlog),
            name="nnstudio-training", daemon=True,
        )
        self.process.start()
        cmd_recv.close()  # the child's ends: closed here so EOF is seen when it exits
        msg_send.close()
        self.worker._cmd, self.worker._msg = cmd_send, msg_recv
        self.thread.start()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Abort the loop, join the process and the reader thread.  True if they ended."""
        w = self.worker
        if self.process is None:
            return True
        w.abort()
        ok = True
        self.process.join(timeout_ms / 1000)
        if self.process.is_alive():  # pragma: no cover - a step never takes this long
            log.error("training process did not stop within %d ms; terminating it", timeout_ms)
            self.process.terminate()
            self.process.join(2)
            ok = False
        self.thread.quit()
        if not self.thread.wait(timeout_ms):  # pragma: no cover
            log.error("training reader did not stop within %d ms", timeout_ms)
            ok = False
        for conn in (w._cmd, w._msg):
            if conn is not None:
                conn.close()
        w._cmd = w._msg = None
        self.process.close()
        self.process = None
        return ok
