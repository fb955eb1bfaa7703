"""The training worker: the core :class:`~nnstudio.core.Trainer` stepping in its own thread.

This is the generator-worker pattern (superqt's ``GeneratorWorker``): a loop that, between
two mini-batches, handles the commands the GUI queued (play, pause, step, rewind, reset,
new learning rate or batch size, a new trainer, abort) and otherwise calls
``trainer.step()``.  The GUI never touches the trainer's arrays; it gets

* ``batchDone(BatchReport)`` for EVERY mini-batch (a small object: epoch, batch, cost,
  indices, ...), so the cost plot misses none;
* ``epochDone(EpochReport)`` at the end of every epoch (test accuracy, mean cost, ...);
* ``snapshotReady(Snapshot)``: a private copy of the network, taken here, in the worker,
  at most ``snapshot_hz`` times a second while running and always after a pause or step;
* ``stateChanged(str)``: ``"running"``, ``"paused"``, ``"finished"`` (the epoch budget is
  spent) or ``"idle"`` (no trainer yet);
* ``restarted(Snapshot, generation)`` after a rewind, reset or new trainer (the history
  starts over; every report emitted before it belongs to the old run, every one after to
  the new, whose generation number it carries);
* ``diverged(BatchReport)`` when the cost became inf/NaN (the trainer restored its last
  good weights; the worker pauses);
* ``batchShown(BatchReport)`` for a mini-batch the user stepped on its own, so the window
  can make that batch the current input (in slow motion every batch gets its snapshot);
* ``error(str)`` for anything unexpected, and ``finished()`` when the loop ends.

Commands are plain method calls from the GUI thread (``play()``, ``pause()``, ...): they
append to a deque and wake the loop, so they are cheap and never block.  They take
effect between two mini-batches: a new learning rate applies to the very next batch.

Receiving every mini-batch cheaply: a queued (cross-thread) signal per mini-batch would
make the GUI thread take the GIL thousands of times a second, each time waiting for the
busy worker to let go of it (the GIL "convoy"): the GUI stalls and the worker slows down.
So the window connects ``batchDone`` with a *direct* connection to a :class:`ReportInbox`
(a deque append, in the worker thread, ~1 µs) and drains it on its display timer; the
other signals are few and queued.  Ordering is kept by draining the inbox before handling
any queued signal, and by run markers in the inbox.

Back-pressure: the GUI acknowledges how many reports it consumed (``consumed``); if it
falls more than ``max_backlog`` behind (a very busy GUI thread), the worker waits a little
so the event queue cannot grow without bound and a pause still lands within a frame.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import deque

import numpy as np

from nnstudio.gui.qt import QtCore, Signal, Slot
from nnstudio.session.model import Snapshot
from nnstudio.training.loop import Commands

log = logging.getLogger(__name__)

#: speeds offered by the speed control, in mini-batches per second (0 = full speed)
SPEEDS = (1, 2, 5, 10, 30, 100, 300, 1000, 0)
#: at or below this speed every mini-batch is shown to the user (input + snapshot)
FOLLOW_SPEED = 10
#: at full speed the worker sleeps YIELD_SLEEP seconds every YIELD_EVERY seconds (see _loop)
YIELD_EVERY = 0.010
YIELD_SLEEP = 0.0001


class WorkerBase(QtCore.QObject):
    """What every training worker offers the window: the signals, and the commands, which
    subclasses carry out in ``_send(*cmd)`` (a queue here, a pipe to the training process in
    ``procworker.py``)."""

    batchDone = Signal(object)  # BatchReport
    epochDone = Signal(object)  # EpochReport (test accuracy, mean cost, ...)
    batchShown = Signal(object)  # BatchReport of a batch to follow (step / slow motion)
    snapshotReady = Signal(object)  # Snapshot
    stateChanged = Signal(str)
    restarted = Signal(object, int)  # Snapshot, generation
    runMarker = Signal(int)  # emitted just before restarted, in the worker thread (for ReportInbox)
    diverged = Signal(object)  # BatchReport
    error = Signal(str)
    finished = Signal()
    pong = Signal(int)  # answers ping(): every signal emitted before it has been delivered

    def _send(self, *cmd) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ commands (any thread)
    def play(self) -> None:
        self._send("mode", "play")

    def pause(self) -> None:
        self._send("mode", "pause")

    def step_batch(self) -> None:
        self._send("mode", "batch")

    def step_epoch(self) -> None:
        self._send("mode", "epoch")

    def rewind(self) -> None:
        self._send("rewind")

    def reset(self, seed: int | None) -> None:
        self._send("reset", seed)

    def set_learning_rate(self, eta: float) -> None:
        self._send("lr", float(eta))

    def set_batch_size(self, n: int) -> None:
        self._send("bs", int(n))

    def set_epochs(self, n: int | None) -> None:
        self._send("epochs", None if not n else int(n))

    def set_speed(self, batches_per_second: float) -> None:
        self._send("speed", float(batches_per_second or 0.0))

    def set_trainer(self, trainer) -> None:
        """Hand over a new trainer (the GUI must not touch it afterwards); pauses."""
        self._send("trainer", trainer)

    def request_snapshot(self) -> None:
        self._send("snapshot")

    def ping(self, token: int = 0) -> None:
        """Ask for a ``pong(token)``: when it arrives, every earlier command was handled and
        every signal emitted before was delivered (queued signals keep their order)."""
        self._send("ping", int(token))


class TrainingWorker(WorkerBase, Commands):
    """The trainer stepping in this (worker) thread; what each command does is
    :class:`~nnstudio.training.loop.Commands`, shared with the training process."""

    def __init__(self, trainer=None, *, snapshot_hz: float = 60.0, max_backlog: int = 3000):
        super().__init__()
        self._cmds: deque = deque()
        self._cond = threading.Condition()
        self._abort = False
        self._trainer = trainer
        self._mode = "pause"  # "play" | "pause" | "batch" | "epoch"
        self._speed = 0.0  # mini-batches per second; 0 = full speed
        self._snap_interval = 1.0 / max(1e-3, min(60.0, float(snapshot_hz)))
        self._max_backlog = int(max_backlog)
        #: set by the GUI while it draws a frame: the worker steps aside (sleeps) meanwhile.
        #: Without this the GUI thread, whose painting releases and re-takes the GIL at
        #: every Qt call, waits up to a switch interval (5 ms) each time to get it back
        #: from the busy trainer: a 7 ms frame took 60-100 ms.  Stepping aside for the
        #: frame costs the trainer exactly the frame's time, which the GUI keeps small.
        self.hold = False
        self.yield_every = YIELD_EVERY  # seconds between two short sleeps at full speed (0: never)
        self.emitted = 0  # written by the worker only
        self.consumed = 0  # written by the GUI only
        #: bumped at every rewind/reset/new trainer (written by the worker only): reports of
        #: different runs can be told apart by whoever collects them (see ReportInbox)
        self.generation = 0
        self.state = "idle" if trainer is None else "paused"

    def _send(self, *cmd) -> None:
        self._cmds.append(cmd)
        with self._cond:
            self._cond.notify_all()

    def set_snapshot_interval(self, seconds: float) -> None:
        """How often to copy the network while running (the GUI's frame interval, ≥ 1/60 s)."""
        self._snap_interval = max(1.0 / 60.0, float(seconds))

    def abort(self) -> None:
        """Ask the loop to end (the thread's owner then quits and joins the thread)."""
        self._abort = True
        with self._cond:
            self._cond.notify_all()

    # ------------------------------------------------------------------ the loop (worker thread)
    @Slot()
    def run(self) -> None:
        # A diverging run is reported (report.diverged), not warned about by NumPy.
        np.seterr(all="ignore")
        try:
            self._loop()
        except Exception as e:  # never let an exception kill the thread silently
            log.error("training worker failed:\n%s", traceback.format_exc())
            self.error.emit(f"training stopped: {type(e).__name__}: {e}")
        finally:
            self.finished.emit()

    def _set_state(self, state: str) -> None:
        self.state = state
        self.stateChanged.emit(state)

    def _snapshot(self, report=None) -> Snapshot:
        tr = self._trainer
        snap = Snapshot.of(tr.network, report, fresh=self._fresh(tr))
        self.snapshotReady.emit(snap)
        return snap

    def _restarted(self, snap, generation: int) -> None:
        self.runMarker.emit(generation)
        self.restarted.emit(snap, generation)
        self.snapshotReady.emit(snap)

    def _pong(self, token: int) -> None:
        self.pong.emit(token)

    def _wait(self, timeout: float | None) -> None:
        with self._cond:
            if not self._cmds and not self._abort:
                self._cond.wait(timeout)

    def _step_aside(self, limit: float = 0.1) -> None:
        """Sleep while the GUI draws a frame (at most ``limit`` s; commands end it too)."""
        end = time.perf_counter() + limit
        sleep = time.sleep
        while self.hold and not self._cmds and not self._abort and time.perf_counter() < end:
            sleep(0.0003)

    def _loop(self) -> None:
        cmds = self._cmds
        perf = time.perf_counter
        emit = self.batchDone.emit
        sleep = time.sleep
        next_yield = 0.0
        yield_sleep = YIELD_SLEEP
        self._last = None
        next_snap = 0.0
        next_due = 0.0
        self.stateChanged.emit(self.state)
        while True:
            while cmds:
                self._handle(cmds.popleft())
            if self._abort:
                return
            tr = self._trainer
            mode = self._mode
            if tr is None or mode == "pause":
                self._wait(None)
                continue
            if tr.finished:
                self._mode = "pause"
                self._snapshot(self._last)
                self._set_state("finished")
                continue
            speed = self._speed if mode == "play" else 0.0
            if speed:
                now = perf()
                if now < next_due:
                    self._wait(next_due - now)
                    continue  # re-check commands before stepping
                next_due = max(now, next_due) + 1.0 / speed
            # the tight loop: full-speed mini-batches until something needs attention
            step = tr.step
            follow = mode == "batch" or 0 < speed <= FOLLOW_SPEED
            backlog = self._max_backlog
            while True:
                if self.emitted - self.consumed > backlog:
                    # back-pressure: let a swamped GUI thread catch up (rare; bounds the queue)
                    self._wait(0.002)
                    break
                if self.hold:
                    self._step_aside()
                    break
                r = step()
                self._last = r
                self.emitted += 1
                emit(r)
                if r.diverged:
                    self._mode = "pause"
                    self._snapshot(r)
                    self.diverged.emit(r)
                    self._set_state("paused")
                    break
                if mode == "batch":
                    self.batchShown.emit(r)
                    self._mode = "pause"
                    self._snapshot(r)
                    self._set_state("finished" if tr.finished else "paused")
                    break
                if r.epoch_end is not None:
                    self.epochDone.emit(r.epoch_end)
                    next_snap = perf() + self._snap_interval
                    self._snapshot(r)
                    if mode == "epoch":
                        self._mode = "pause"
                        self._set_state("finished" if tr.finished else "paused")
                    break  # (checks tr.finished)
                now = perf()
                if follow or now >= next_snap:
                    next_snap = now + self._snap_interval
                    self._snapshot(r)
                if now >= next_yield and self.yield_every:
                    # Let the GUI thread in: the trainer's NumPy calls drop and re-take the GIL
                    # all the time, and a thread waiting for it can lose that race for tens of
                    # milliseconds (CPython's GIL is not fair).  A short sleep every few ms
                    # hands it over for sure, for ~2 % of the time.
                    sleep(yield_sleep)
                    next_yield = perf() + self.yield_every
                if speed or cmds or self._abort:
                    break


class ReportInbox:
    """Collects the worker's ``batchDone`` reports in the worker thread, for the GUI to drain
    at display rate.  (With the training process's worker, which also has ``batchesDone``, it
    takes those lists instead, in that worker's reader thread: see ``procworker.py``.)

    The reports go straight into a deque (``batchDone`` is connected with a direct connection
    to ``deque.append``: no Python frame, well under a microsecond); a run marker (the new
    generation number, an ``int``) goes into the same deque at every rewind/reset/new
    trainer, so ``drain()`` can tell the runs apart exactly.  Deque appends and pops are
    thread-safe.
    """

    def __init__(self, worker: TrainingWorker):
        self._q: deque = deque()
        self.markers = 0  # run markers put so far (written by the worker thread only)
        DC = QtCore.Qt.ConnectionType.DirectConnection
        if hasattr(worker, "batchesDone"):  # the training process's worker: a list per message
            worker.batchesDone.connect(self._q.extend, DC)
        else:
            worker.batchDone.connect(self._q.append, DC)
        worker.runMarker.connect(self._mark, DC)

    def _mark(self, generation: int) -> None:
        self.markers += 1
        self._q.append(int(generation))

    def drain(self) -> list:
        """Everything collected so far, in order: BatchReports and int run markers."""
        q = self._q
        pop = q.popleft
        return [pop() for _ in range(len(q))]

    def __len__(self) -> int:
        return len(self._q)


class TrainingThread(QtCore.QObject):
    """Owns a :class:`TrainingWorker` and the QThread it runs in; stops and joins cleanly."""

    def __init__(self, parent=None, **worker_kw):
        super().__init__(parent)
        self.worker = TrainingWorker(**worker_kw)
        self.thread = QtCore.QThread()
        self.thread.setObjectName("nnstudio-training")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout_ms: int = 10_000) -> bool:
        """Abort the loop, quit and join the thread.  True if it ended."""
        if not self.thread.isRunning():
            return True
        self.worker.abort()
        self.thread.quit()  # the loop returns to the thread's event loop, which then quits
        ok = self.thread.wait(timeout_ms)
        if not ok:  # pragma: no cover - a step never takes this long
            log.error("training thread did not stop within %d ms", timeout_ms)
        return ok
