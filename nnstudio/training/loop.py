"""The training process: the core trainer stepping in a process of its own (no Qt here).

:mod:`nnstudio.gui.training.process` starts :func:`main` in a child process and talks to it over
two pipes.  The loop is the same as the thread worker's (:mod:`nnstudio.gui.training.thread`):
between two mini-batches it handles the commands the GUI sent (play, pause, step, rewind,
reset, learning rate, batch size, a new trainer, abort) and otherwise steps.  What it
produces goes back as messages, in order:

* ``("batches", perms, rows)``: every mini-batch since the last such message, one compact
  tuple each (see :func:`_row`), flushed every few milliseconds and before any other
  message.  A batch's example indices are a slice of its epoch's order; each order is sent
  once (``perms``: id → array) and the rows refer to it by id;
* ``("snapshot", Snapshot)``: a copy of the network, at most ``snapshot_hz`` times a second
  while running and after every pause or step;
* ``("state", str)``, ``("restarted", Snapshot, generation)``, ``("diverged",)`` (the last
  row diverged), ``("shown",)`` (follow the last row), ``("pong", token)``,
  ``("error", message, traceback)``; ``("finished",)`` when the loop ends.

Why a process: a mini-batch of 784-16-16-10 takes ~20 µs; at that rate the trainer and the
GUI thread, sharing one interpreter lock, slow each other down (the GUI stalls while the
trainer runs Python, the trainer waits while the GUI paints).  Here each has its own
interpreter and its own core, and the window can draw at display rate while training runs
at full speed.
"""

from __future__ import annotations

import time
import traceback

import numpy as np

from nnstudio.session.model import Snapshot

#: seconds between two flushes of the batch rows at full speed
FLUSH_EVERY = 0.004
#: seconds between two looks at the command pipe at full speed (a pause lands this fast)
POLL_EVERY = 0.001
#: at or below this speed every mini-batch is shown to the user (input + snapshot)
FOLLOW_SPEED = 10
#: the trainer's own list of epoch reports is trimmed to the latest ones here (the window keeps
#: every epoch in its TrainingHistory; 30 minutes on the 4,000-image sample are 130,000 epochs)
KEEP_EPOCHS = 2000


def _row(r, perm_id: int):
    """A BatchReport as a tuple (pickles ~20× faster than the dataclass with its array)."""
    return (r.epoch, r.batch, r.offset, r.cost, r.seconds, r.examples_seen, r.step,
            r.learning_rate, r.batch_size, r.epoch_end, r.diverged, perm_id)


class Commands:
    """What a command does to the training state, shared by the thread worker
    (:class:`nnstudio.gui.training.thread.TrainingWorker`) and this process's loop.  They differ only in
    how they tell the GUI: the hooks ``_set_state(state)``, ``_snapshot(report)``,
    ``_restarted(snapshot, generation)`` and ``_pong(token)``."""

    _trainer = None
    _mode = "pause"  # "play" | "pause" | "batch" | "epoch"
    _speed = 0.0  # mini-batches per second; 0 = full speed
    _last = None  # the last BatchReport
    generation = 0  # bumped at every rewind/reset/new trainer

    @staticmethod
    def _fresh(tr) -> bool:
        return bool(getattr(tr, "fresh_start", False)) and tr.step_count == 0

    def _handle(self, cmd) -> None:
        kind = cmd[0]
        tr = self._trainer
        if kind == "mode":
            mode = cmd[1]
            if tr is None:
                self._set_state("idle")
                return
            if mode == "pause":
                was = self._mode
                self._mode = "pause"
                if was != "pause":
                    self._snapshot(self._last)
                self._set_state("finished" if tr.finished else "paused")
                return
            if tr.finished:
                self._mode = "pause"
                self._set_state("finished")
                return
            self._mode = mode
            self._set_state("running")
        elif kind == "lr":
            if tr is not None:
                tr.learning_rate = cmd[1]
        elif kind == "bs":
            if tr is not None:
                tr.batch_size = max(1, cmd[1])
        elif kind == "epochs":
            if tr is not None:
                tr.epochs = cmd[1]
        elif kind == "speed":
            self._speed = max(0.0, cmd[1])
        elif kind in ("rewind", "reset", "trainer"):
            if kind == "trainer":
                self._trainer = tr = cmd[1]
            elif tr is None:
                return
            elif kind == "rewind":
                tr.rewind()
            else:
                tr.reset(cmd[1])
            self._last = None
            self.generation += 1
            # a rewind or reset while playing keeps playing; a new trainer starts paused
            running = kind != "trainer" and self._mode == "play" and tr is not None and not tr.finished
            if not running:
                self._mode = "pause"
            self._restarted(Snapshot.of(tr.network, fresh=self._fresh(tr)), self.generation)
            self._set_state("running" if running else "paused")
        elif kind == "snapshot":
            if tr is not None:
                self._snapshot(self._last)
        elif kind == "ping":
            self._pong(cmd[1])


class _Loop(Commands):
    def __init__(self, cmd_conn, msg_conn, snapshot_hz: float, max_backlog: int):
        self.cmd = cmd_conn
        self.out = msg_conn
        self._trainer = None
        self._mode = "pause"  # "play" | "pause" | "batch" | "epoch"
        self._speed = 0.0
        self.snap_interval = 1.0 / max(1e-3, min(60.0, float(snapshot_hz)))
        self.generation = 0
        self.abort = False
        self._last = None
        self.rows: list = []
        self.new_perms: dict = {}
        self.perm = None
        self.perm_id = 0
        self.recorded = 0  # reports produced
        self.consumed = 0  # reports the GUI says it has taken in
        self.max_backlog = int(max_backlog)

    # ------------------------------------------------------------------ messages
    def flush(self) -> None:
        if self.rows or self.new_perms:
            self.out.send(("batches", self.new_perms, self.rows))
            self.rows = []
            self.new_perms = {}

    def send(self, *msg) -> None:
        self.flush()  # every batch before whatever comes next
        self.out.send(msg)

    def record(self, r) -> None:
        self.recorded += 1
        perm = r.indices.base
        if perm is not self.perm:
            self.perm = perm
            self.perm_id += 1
            if perm is None:  # (not a slice of an epoch order: send the indices themselves)
                self.perm_id = -1
            else:
                self.new_perms[self.perm_id] = perm
        if self.perm_id < 0:
            self.rows.append(_row(r, -1) + (np.array(r.indices),))
        else:
            self.rows.append(_row(r, self.perm_id))

    def _set_state(self, state: str) -> None:
        self.send("state", state)

    def _snapshot(self, report=None) -> None:
        tr = self._trainer
        self.send("snapshot", Snapshot.of(tr.network, report, fresh=self._fresh(tr)))

    # ------------------------------------------------------------------ commands
    def _handle(self, cmd) -> None:
        kind = cmd[0]
        if kind == "snapint":
            self.snap_interval = max(1.0 / 60.0, cmd[1])
        elif kind == "consumed":
            self.consumed = cmd[1]
        elif kind == "backlog":
            self.max_backlog = cmd[1]
        elif kind == "abort":
            self.abort = True
        else:
            super()._handle(cmd)

    def _restarted(self, snap, generation: int) -> None:
        self.send("restarted", snap, generation)

    def _pong(self, token: int) -> None:
        self.send("pong", token)

    def pending(self) -> None:
        cmd = self.cmd
        while not self.abort and cmd.poll():
            self._handle(cmd.recv())

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        perf = time.perf_counter
        next_snap = next_due = 0.0
        self.send("state", "idle" if self._trainer is None else "paused")
        while True:
            self.pending()
            if self.abort:
                return
            tr, mode = self._trainer, self._mode
            if tr is None or mode == "pause":
                self.flush()
                self._handle(self.cmd.recv())  # sleep until the GUI says something
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
                    self.flush()
                    self.cmd.poll(next_due - now)
                    continue
                next_due = max(now, next_due) + 1.0 / speed
            step = tr.step
            record = self.record
            follow = mode == "batch" or 0 < speed <= FOLLOW_SPEED
            next_flush = next_poll = perf() + POLL_EVERY
            while True:
                if self.recorded - self.consumed > self.max_backlog:
                    # back-pressure: the GUI is behind; wait a little, obeying commands
                    self.flush()
                    self.cmd.poll(0.002)
                    break
                r = step()
                self._last = r
                record(r)
                if r.diverged:
                    self._mode = "pause"
                    self._snapshot(r)
                    self.send("diverged")
                    self._set_state("paused")
                    break
                if mode == "batch":
                    self.send("shown")
                    self._mode = "pause"
                    self._snapshot(r)
                    self._set_state("finished" if tr.finished else "paused")
                    break
                if r.epoch_end is not None:
                    if len(tr.history) > KEEP_EPOCHS:  # the window keeps its own per-epoch record
                        del tr.history[: len(tr.history) - KEEP_EPOCHS // 2]
                    next_snap = perf() + self.snap_interval
                    self._snapshot(r)
                    if mode == "epoch":
                        self._mode = "pause"
                        self._set_state("finished" if tr.finished else "paused")
                    break
                now = perf()
                if follow or now >= next_snap:
                    next_snap = now + self.snap_interval
                    self._snapshot(r)
                if speed:
                    break
                if now >= next_poll:
                    next_poll = now + POLL_EVERY
                    if now >= next_flush:
                        self.flush()
                        next_flush = now + FLUSH_EVERY
                    if self.cmd.poll():
                        break


def main(cmd_conn, msg_conn, snapshot_hz: float = 60.0, max_backlog: int = 3000) -> None:
    """Entry point of the training process."""
    np.seterr(all="ignore")  # a diverging run is reported (report.diverged), not warned about
    loop = _Loop(cmd_conn, msg_conn, snapshot_hz, max_backlog)
    try:
        loop.run()
    except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        return  # the GUI went away
    except Exception as e:  # never die silently: tell the GUI why
        try:
            loop.send("error", f"training stopped: {type(e).__name__}: {e}", traceback.format_exc())
        except OSError:
            return
    try:
        loop.send("finished")
    except OSError:
        pass
