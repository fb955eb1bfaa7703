"""The training loop: the one place where commands meet the trainer (no Qt here).

:class:`TrainingLoop` is the generator-worker pattern (superqt's ``GeneratorWorker``): between
two mini-batches it handles the commands that arrived (play, pause, step a mini-batch or an
epoch, rewind, reset, adopt other weights, new learning rate, batch size, epochs or speed, a
new trainer, ping, abort) and otherwise calls ``trainer.step()``.  What it produces goes out,
in order, as *messages* (see :mod:`nnstudio.training.messages`): every mini-batch's
:class:`~nnstudio.core.BatchReport` (none dropped), snapshots of the network (at most
``snapshot_hz`` a second while running, and after every pause or step), state changes, run
restarts, divergences, pongs and errors.

The same loop runs in a thread of the GUI's process, in a training process of its own, or
inline (headless tests); the workers in :mod:`nnstudio.training.workers` differ only in how
commands come in and messages go out, which they provide by overriding the hooks
:meth:`TrainingLoop.pending`, :meth:`TrainingLoop.wait`, :meth:`TrainingLoop.emit`,
:meth:`TrainingLoop.record`, :meth:`TrainingLoop.flush` and :meth:`TrainingLoop.interrupted`.

**The last step's change** (the diagram's −∂C/∂w and Δw edges): after the command
``("detail", True)`` snapshots carry Δθ of the step just taken
(:attr:`~nnstudio.training.snapshot.Snapshot.step_change`).  That needs the weights from before
the step, and a copy of them per mini-batch would slow full speed down by a tenth, so the loop
*arms* only the steps a snapshot will follow (it copies the weights just before them): every
step when a speed is set or one step is asked for, the last one of a bounded turn; at full speed
the step after a snapshot fell due (the snapshot waits that one step) and one more step when a
command arrives (so that a pause finds its last step's change), and in an epoch the loop stops
at (Epoch, the run's last), the step that ends it.  Without ``detail`` the full-speed loop is
unchanged.  A trainer with a ``snapshot_extra()`` method (a comparison's runs:
:mod:`nnstudio.training.lockstep`) adds what it returns to every snapshot.
"""

from __future__ import annotations

import time

import numpy as np

from nnstudio.training.checkpoints import trainer_spacing
from nnstudio.training.snapshot import Snapshot

#: the "watch" pace: speed up as the network learns (see watch_rate)
WATCH = -1.0
#: fixed speeds offered by the speed slider, in mini-batches per second (0 = full speed)
FIXED_SPEEDS = (1, 2, 5, 10, 30, 100, 300, 1000, 0)
#: every speed setting: the watch pace, or a fixed speed
SPEEDS = (WATCH,) + FIXED_SPEEDS
#: at or below this speed every mini-batch is shown to the user (input + snapshot)
FOLLOW_SPEED = 10
#: the watch pace starts at WATCH_START mini-batches a second and adds one every WATCH_TAU steps...
WATCH_START, WATCH_TAU = 2.0, 1.5
#: ...and runs at full speed once it would pass this rate
WATCH_FULL = 20_000.0


def watch_rate(step: int) -> float:
    """The watch pace's speed after ``step`` mini-batches of a run (0: full speed).

    rate = WATCH_START + step / WATCH_TAU, so the step count grows exponentially with time:
    n(t) = WATCH_START·WATCH_TAU·(e^(t/WATCH_TAU) − 1).  The first mini-batches come one by one
    (2, 2.7, 3.3… a second), when the cost falls fastest; ~160 steps are done after 6 s, ~1,200
    after 9 s, and full speed is reached after ~15 s.  Equal spans of time show equal *ratios* of
    steps ("log time"), so the change on screen stays steady while learning slows down.  A
    function of the step alone: a rewound run replays at the same pace."""
    rate = WATCH_START + step / WATCH_TAU
    return 0.0 if rate >= WATCH_FULL else rate
#: the trainer's own list of epoch reports is trimmed to the latest ones (the session keeps every
#: epoch in its TrainingHistory; 30 minutes on the 4,000-image sample are 130,000 epochs)
KEEP_EPOCHS = 2000

#: the commands a loop understands: (name, arguments...)
COMMANDS = ("mode", "lr", "bs", "epochs", "speed", "rewind", "reset", "trainer", "adopt", "snapshot",
            "snapint", "consumed", "backlog", "ping", "abort", "detail")


class TrainingLoop:
    """Runs a trainer under the control of commands.  Subclasses provide the hooks."""

    def __init__(self, snapshot_hz: float = 60.0, max_backlog: int = 3000):
        self._trainer = None
        self._mode = "pause"  # "play" | "pause" | "batch" | "epoch"
        self._speed = 0.0  # mini-batches per second; 0 = full speed; WATCH = speeding up (watch_rate)
        self._last = None  # the last BatchReport
        self._epochs_left = 0  # in "epoch" mode: epoch ends to go before pausing
        self._batches_left = 0  # in "batch" mode: mini-batches to go before pausing
        self.snap_interval = 1.0 / max(1e-3, min(60.0, float(snapshot_hz)))
        #: bumped at every rewind / reset / new trainer: the run a message belongs to
        self.generation = 0
        #: bumped at every "adopt" (weights changed from outside the run), reset by a new run
        self.edits = 0
        self.abort = False
        self.recorded = 0  # mini-batch reports produced
        self.consumed = 0  # reports the receiver says it has taken in
        self.max_backlog = int(max_backlog)
        self.state = "idle"
        self.handled = 0  # commands handled so far
        self._next_snap = self._next_due = 0.0
        # the timeline's checkpoints (nnstudio.training.checkpoints): a snapshot carries the trainer's
        # position from examples seen _ckpt_half on, and one goes anyway at _ckpt_next
        self._ckpt_half = self._ckpt_next = 0
        #: snapshots carry the last step's change (the "detail" command; see the module docstring)
        self.step_detail = False
        self._before = None  # the weights from before the last armed step (a reused buffer)
        self._before_step = -1  # the step _before is the start of (-1: none)
        self._arm_next = False  # arm the next step: a snapshot waits for it

    # ------------------------------------------------------------------ hooks
    def pending(self) -> list:
        """The commands that arrived since the last call (without waiting)."""
        raise NotImplementedError

    def wait(self, timeout: float | None) -> None:
        """Block until a command may have arrived, or ``timeout`` seconds (None: forever)."""
        raise NotImplementedError

    def emit(self, *msg) -> None:
        """Send a message (after every mini-batch recorded before it)."""
        raise NotImplementedError

    def record(self, report) -> None:
        """Send a mini-batch's report (may be buffered until :meth:`flush` or the next message)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Send buffered reports now."""

    def interrupted(self, now: float) -> bool:
        """Called after every mini-batch at full speed: True ends the tight loop (to look at
        commands).  Also the place to flush reports every few milliseconds."""
        return False

    # ------------------------------------------------------------------ messages
    def _snapshot(self, report=None, forced: bool = False) -> None:
        tr = self._trainer
        change = None
        if self.step_detail and report is not None and report.step == self._before_step and not report.diverged:
            change = tr.network.buffer - self._before
        self.emit("snapshot", Snapshot.of(tr.network, report, generation=self.generation, edits=self.edits,
                                          position=self._checkpoint(forced), step_change=change,
                                          step_shrink=_shrink(tr, report) if change is not None else 1.0,
                                          extra=_extra(tr)))

    def _arm(self, tr) -> None:
        """Keep the weights as they are before the next step (see the module docstring)."""
        buf = tr.network.buffer
        b = self._before
        if b is None or b.shape != buf.shape:
            b = self._before = np.empty_like(buf)
        np.copyto(b, buf)
        self._before_step = tr.step_count + 1
        self._arm_next = False

    def _has_change(self, r) -> bool:
        """Does a snapshot after report ``r`` carry its step's change (or need none)?"""
        return not self.step_detail or r.step == self._before_step

    def _checkpoint(self, forced: bool = False) -> dict | None:
        """The trainer's position if this snapshot is to be a checkpoint of the timeline (forced: the
        run jumped here), else None."""
        tr = self._trainer
        seen = tr.examples_seen
        if not forced and seen < self._ckpt_half:
            return None
        gap = trainer_spacing(tr)
        self._ckpt_half, self._ckpt_next = seen + gap // 2, seen + gap
        return dict(tr.position(), lr=tr.learning_rate, bs=tr.batch_size, forced=forced)

    def _set_state(self, state: str) -> None:
        """Say the state, with how many commands were handled so far: a receiver that sent more
        can tell a state that is already out of date from one that answers its last command."""
        self.state = state
        self.emit("state", state, self.handled)

    # ------------------------------------------------------------------ commands
    def handle(self, cmd) -> None:
        self.handled += 1
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
            if mode == "epoch":
                # to the end of the epoch in progress; each press while it runs adds one more epoch
                self._epochs_left = self._epochs_left + 1 if self._mode == "epoch" else 1
            elif mode == "batch":  # each press counts, however fast they come
                self._batches_left = self._batches_left + 1 if self._mode == "batch" else 1
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
                if self.state == "finished" and not tr.finished:
                    self._set_state("paused")
        elif kind == "speed":
            self._speed = WATCH if cmd[1] < 0 else cmd[1]
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
            self._before_step = -1
            self.generation += 1
            self.edits = 0
            # a rewind or reset while playing keeps playing; a new trainer starts paused
            running = kind != "trainer" and self._mode == "play" and tr is not None and not tr.finished
            if not running:
                self._mode = "pause"
            self.emit("restarted", Snapshot.of(tr.network, generation=self.generation, position=self._checkpoint(True),
                                               extra=_extra(tr)), self.generation)
            self._set_state("running" if running else ("finished" if tr.finished else "paused"))
        elif kind == "adopt":
            if tr is not None:
                tr.adopt(cmd[1])
                self.edits += 1
                self._before_step = -1  # (no step led to these weights)
                self._snapshot(self._last, forced=True)
        elif kind == "snapshot":
            if tr is not None:
                self._snapshot(self._last)
        elif kind == "snapint":
            self.snap_interval = max(1.0 / 60.0, cmd[1])
        elif kind == "consumed":
            self.consumed = cmd[1]
        elif kind == "backlog":
            self.max_backlog = cmd[1]
        elif kind == "ping":
            self.emit("pong", cmd[1])
        elif kind == "abort":
            self.abort = True
        elif kind == "detail":
            was, self.step_detail = self.step_detail, bool(cmd[1])
            last = self._last
            if self.step_detail and not was and tr is not None and last is not None and last.step == self._before_step:
                self._snapshot(last)  # the last step's change, now that it is wanted

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        """Turn until aborted."""
        self.emit("state", self.state if self._trainer is not None else "idle", self.handled)
        while not self.abort:
            self.turn()

    def turn(self, max_steps: int | None = None) -> None:
        """Handle the pending commands, then train until something needs attention (a command,
        a pause, the end of an epoch, a step of slow motion) or ``max_steps`` mini-batches."""
        perf = time.perf_counter
        for cmd in self.pending():
            self.handle(cmd)
        if self.abort:
            return
        tr, mode = self._trainer, self._mode
        if tr is None or mode == "pause":
            self.flush()
            self.wait(None)  # sleep until a command comes
            return
        if tr.finished:
            self._mode = "pause"
            self._snapshot(self._last)
            self._set_state("finished")
            return
        speed = self._speed if mode == "play" else 0.0
        if speed < 0:
            speed = watch_rate(tr.step_count)
        if speed:
            now = perf()
            if now < self._next_due:
                self.flush()
                self.wait(self._next_due - now)
                return  # look at the commands before stepping
            self._next_due = max(now, self._next_due) + 1.0 / speed
        step, record = tr.step, self.record
        follow = mode == "batch" or 0 < speed <= FOLLOW_SPEED
        detail = self.step_detail
        # (detail: the epoch this turn may stop at is stepped here, where its last step is armed)
        ends = detail and (mode == "epoch" or tr.epochs is not None and tr.epoch + 1 >= tr.epochs)
        if mode == "play" and not speed and max_steps is None and not ends:
            self._full_speed(tr)
            return
        arm_all = bool(speed) or mode == "batch"
        n_train = tr.n_train if ends else 0
        leave = False
        n = 0
        while True:
            if self.recorded - self.consumed > self.max_backlog:
                # back-pressure: the receiver is behind; wait a little, obeying commands
                self.flush()
                self.wait(0.002)
                return
            if (arm_all or self._arm_next or (max_steps is not None and n + 1 >= max_steps)
                    or (ends and tr.examples_seen - tr.epoch * n_train + tr.batch_size >= n_train)):
                self._arm(tr)
            r = step()
            self._last = r
            self.recorded += 1
            record(r)
            n += 1
            if r.diverged:
                self._diverged(r)
                return
            if mode == "batch" or follow:  # (slow motion: each batch may become the current input)
                self.emit("shown", r, mode)
            if mode == "batch":
                self._snapshot(r)
                self._batches_left -= 1
                if self._batches_left <= 0 or tr.finished:
                    self._mode = "pause"
                    self._set_state("finished" if tr.finished else "paused")
                return
            if r.epoch_end is not None:
                self._epoch_ended(tr, r, mode, follow)
                return  # (looks at tr.finished)
            now = perf()
            if follow or now >= self._next_snap or r.examples_seen >= self._ckpt_next:
                if self._has_change(r):
                    self._next_snap = now + self.snap_interval
                    self._snapshot(r)
                else:
                    self._arm_next = True  # (after the next step, which keeps its change)
            if leave or speed or (max_steps is not None and n >= max_steps):
                return
            if self.interrupted(now):
                if self._has_change(r):
                    return
                self._arm_next = leave = True  # one more step, its change kept: what the command finds

    def _full_speed(self, tr) -> None:
        """The tight loop of "play" at full speed: the clock, the snapshots, the commands and the
        back-pressure are looked at every 16 mini-batches (~0.2 ms), not after each one (that
        bookkeeping was ~10 % of the time of a 784-16-16-10 mini-batch of 10)."""
        step, record, perf = tr.step, self.record, time.perf_counter
        if self.recorded - self.consumed > self.max_backlog:
            # back-pressure: the receiver is behind; wait a little, obeying commands
            self.flush()
            self.wait(0.002)
            return
        limit = self.consumed + self.max_backlog
        recorded = self.recorded
        detail = self.step_detail
        # (detail: a due snapshot, or a command, waits one more step, armed, so that it finds its change)
        arm = due = stop = False
        try:
            while True:
                if arm:
                    self._arm(tr)
                r = step()
                recorded += 1
                record(r)
                if r.diverged:
                    self._last = r
                    self._diverged(r)
                    return
                if r.epoch_end is not None:
                    self._last = r
                    self._epoch_ended(tr, r, "play", False)
                    return
                if arm or not recorded & 15:
                    self._last = r
                    now = perf()
                    due = due or now >= self._next_snap or r.examples_seen >= self._ckpt_next
                    stop = stop or self.interrupted(now) or recorded > limit
                    if detail and not arm and (due or stop):
                        arm = True
                        continue
                    arm = False
                    if due:
                        due = False
                        self._next_snap = now + self.snap_interval
                        self._snapshot(r)
                    if stop:
                        return
        finally:
            self.recorded = recorded

    def _diverged(self, r) -> None:
        self._mode = "pause"
        self._snapshot(r, forced=True)
        self.emit("diverged", r)
        self._set_state("paused")

    def _epoch_ended(self, tr, r, mode: str, follow: bool) -> None:
        if len(tr.history) > KEEP_EPOCHS:  # the session keeps its own per-epoch record
            del tr.history[: len(tr.history) - KEEP_EPOCHS // 2]
        now = time.perf_counter()
        # the network as the epoch left it, unless a snapshot went less than a frame ago
        # (the embedded sample's epochs take ~6 ms at full speed: 150 a second)
        # ((detail) not while playing on without this step's change: the next snapshot has one)
        if (mode != "play" or follow or now >= self._next_snap or tr.finished or r.examples_seen >= self._ckpt_next) and (
                mode != "play" or tr.finished or self._has_change(r)):
            self._next_snap = now + self.snap_interval
            self._snapshot(r)
        if mode == "epoch":
            self._epochs_left -= 1
            if self._epochs_left <= 0 or tr.finished:
                self._mode = "pause"
                self._set_state("finished" if tr.finished else "paused")


def _shrink(tr, report) -> float:
    """The weight decay's factor in the step ``report`` describes (1.0 without weight decay)."""
    decay = getattr(tr, "weight_decay", 0.0)
    return 1.0 - report.learning_rate * decay / tr.n_train if decay else 1.0


def _extra(tr):
    """What the trainer adds to its snapshots (its ``snapshot_extra()``), or None."""
    fn = getattr(tr, "snapshot_extra", None)
    return None if fn is None else fn()
