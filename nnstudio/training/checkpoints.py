"""The run's checkpoints, and any mini-batch of the run rebuilt from them bit for bit (no Qt here).

The trainer replays bit for bit: from the weights after step *c* and where the run was then
(:meth:`nnstudio.core.Trainer.position`: the step, the epoch, the place in its shuffled order,
the shuffle stream's state), the steps after *c* are exactly the run's, given the learning rate
and mini-batch size each one used (the history has both for every mini-batch).  So the run keeps
a **checkpoint** now and then, and any step *s* is the nearest checkpoint at or before *s* plus at
most a few hundred replayed mini-batches.

*Where they are taken.*  The training loop (in the training process) already sends snapshots of
the network at display rate; it marks one as a checkpoint (it carries the trainer's position)
when at least half a :func:`spacing` of examples went by since the last one, and sends one
anyway when a whole spacing went by without a snapshot.  Every outside change of the weights (an
explorer step, an undo, a lesson's edit), a divergence and the start of a run are *forced*
checkpoints (the run jumps there: no replay may cross them).  So the GUI's message traffic does
not grow per mini-batch: at full speed the display's snapshots are the checkpoints, and at most
one more snapshot goes per spacing.  The session (in the GUI's process, which has the data and
the history) keeps them in a :class:`CheckpointStore` and rebuilds steps with a
:class:`Replayer`.

*How far apart.*  :func:`spacing` aims at :data:`REPLAY_SECONDS` of replay on the engine in use
(a cost model of a mini-batch, measured in ``benchmarks/bench_timeline.py``): 784-16-16-10 at
mini-batch 10 gets a checkpoint every ~970 mini-batches on the C engine, ~190 on NumPy's (12 ms of
work, so that a machine busy with other things still rebuilds a step within the 50 ms target).
The store holds float64 weights exactly (in a temporary file: the page cache holds them, not the
process), at most :data:`BUDGET_BYTES`; past that, each new checkpoint makes it drop the ordinary
one whose neighbours are closest together (the gaps stay even, as short as the budget allows).
30 epochs of MNIST (180,000 mini-batches of 10) on the C engine keep ~190-370 checkpoints,
20-40 MB.
"""

from __future__ import annotations

import bisect
import math
import os
import tempfile
import threading
import weakref
from dataclasses import dataclass

import numpy as np

from nnstudio._cancel import Cancelled
from nnstudio.core import Network, Trainer
from nnstudio.core.trainer import BatchReport, c_engine_available

#: seconds a reconstruction's replay should take at most on an idle core (the target is 50 ms)
REPLAY_SECONDS = 0.012
#: bytes of weights the checkpoints of one run may hold (the target: ≤ 100 MB for 30 MNIST epochs)
BUDGET_BYTES = 96 * 2**20


def step_seconds(batch_size: int, n_params: int, n_layers: int, engine: str | None = None) -> float:
    """A mini-batch's time, from the cost model measured on this project's 2-core machine
    (``benchmarks/bench_timeline.py --calibrate``): a fixed cost per call and per layer, plus a cost
    per example and parameter (the C engine needs no per-layer calls)."""
    engine = engine or ("c" if c_engine_available() else "numpy")
    work = max(1, batch_size) * n_params
    if engine == "c":
        return 2e-6 + 8e-11 * work
    return 20e-6 + 8e-6 * n_layers + 1.5e-10 * work


def spacing(batch_size: int, n_params: int, n_layers: int, engine: str | None = None) -> int:
    """Examples between two checkpoints: what :data:`REPLAY_SECONDS` of replay covers."""
    steps = max(1, int(REPLAY_SECONDS / step_seconds(batch_size, n_params, n_layers, engine)))
    return steps * max(1, batch_size)


def trainer_spacing(trainer: Trainer) -> int:
    net = trainer.network
    return spacing(trainer.batch_size, net.n_params, len(net.params), trainer.engine_in_use)


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint's description (its weights are in the store)."""

    step: int
    position: dict  # Trainer.position(), plus "lr" and "bs" (the settings then) and "forced"
    forced: bool  # the run jumped here (start, edit, divergence): never dropped, never replayed across

    @property
    def seen(self) -> int:
        return int(self.position["seen"])


class CheckpointStore:
    """The checkpoints of one run: weights (float64 vectors laid out like ``Network.buffer``) in a
    temporary file, their descriptions in memory, in increasing step order.  Thread-safe (the
    session adds from the GUI thread while a reconstruction reads in another)."""

    def __init__(self, n_params: int, budget_bytes: float = BUDGET_BYTES):
        self.n_params = int(n_params)
        self.budget_bytes = budget_bytes
        self._lock = threading.RLock()
        self._file = tempfile.TemporaryFile(prefix="nnstudio-checkpoints-")
        self._finalizer = weakref.finalize(self, self._file.close)  # (closed when the store goes)
        self._items: list[Checkpoint] = []
        self._steps: list[int] = []
        self._slots: list[int] = []
        self._free: list[int] = []
        self._nslots = 0
        #: how many checkpoints the budget made the store drop (for the benchmark and the notes)
        self.thinned = 0

    def close(self) -> None:
        with self._lock:
            self._finalizer()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes of weights held (what the budget counts)."""
        return len(self._items) * self.n_params * 8

    @property
    def first_step(self) -> int | None:
        return self._steps[0] if self._steps else None

    @property
    def steps(self) -> list[int]:
        return list(self._steps)

    def items(self) -> list[Checkpoint]:
        with self._lock:
            return list(self._items)

    # ------------------------------------------------------------------ adding
    def add(self, params: np.ndarray, position: dict, forced: bool = False) -> bool:
        """Keep these weights as the checkpoint at ``position["step"]``.  An ordinary checkpoint at
        or before the last one's step is ignored; a forced one replaces a checkpoint at its step."""
        params = np.ascontiguousarray(params, dtype=np.float64).reshape(-1)
        if params.size != self.n_params:
            raise ValueError(f"a checkpoint of {params.size} parameters in a store of {self.n_params}")
        step = int(position["step"])
        with self._lock:
            last = self._steps[-1] if self._steps else None
            if last is not None and step < last:
                return False  # (older than what the run has: another run's, or out of order)
            if not forced and step == last:
                return False
            cp = Checkpoint(step, dict(position, forced=forced), forced)
            if last is not None and step == last:  # (an edit at the step of the last one: the new weights win)
                slot = self._slots[-1]
                self._items[-1] = Checkpoint(step, cp.position, forced or self._items[-1].forced)
            else:
                slot = self._free.pop() if self._free else self._new_slot()
                self._items.append(cp)
                self._steps.append(step)
                self._slots.append(slot)
            os.pwrite(self._file.fileno(), params.view(np.uint8), slot * self.n_params * 8)
            if self.nbytes > self.budget_bytes:
                self._thin()
            return True

    def _new_slot(self) -> int:
        self._nslots += 1
        return self._nslots - 1

    def _drop(self, indices) -> None:
        drop = set(indices)
        self._free.extend(self._slots[i] for i in drop)
        keep = [i for i in range(len(self._items)) if i not in drop]
        self._items = [self._items[i] for i in keep]
        self._steps = [self._steps[i] for i in keep]
        self._slots = [self._slots[i] for i in keep]

    def _thin(self) -> None:
        """Over budget: drop ordinary checkpoints (never the first, the last or a forced one), each
        time the one whose neighbours are closest together, until the rest fit: the longest replay
        stays as short as the budget allows, the run's early and late parts alike.  If only forced
        ones are left, the oldest half of the timeline goes."""
        while self.nbytes > self.budget_bytes and len(self._items) > 1:
            steps = np.asarray(self._steps)
            merged = (steps[2:] - steps[:-2]).astype(float)  # (the gap left if checkpoint i + 1 went)
            forced = np.fromiter((c.forced for c in self._items[1:-1]), bool, len(merged))
            merged[forced] = np.inf
            if not len(merged) or not np.isfinite(merged).any():
                self._drop(range(len(self._items) // 2))
            else:
                self._drop([int(np.argmin(merged)) + 1])
            self.thinned += 1

    def truncate(self, step: int) -> None:
        """Forget the checkpoints after ``step`` (a run continued from there instead)."""
        with self._lock:
            k = bisect.bisect_right(self._steps, step)
            self._drop(range(k, len(self._items)))

    # ------------------------------------------------------------------ reading
    def nearest(self, step: int) -> int | None:
        """Index of the last checkpoint at or before ``step`` (None if there is none)."""
        with self._lock:
            k = bisect.bisect_right(self._steps, step) - 1
            return k if k >= 0 else None

    def get(self, index: int) -> tuple[Checkpoint, np.ndarray]:
        with self._lock:
            cp, slot = self._items[index], self._slots[index]
            out = np.empty(self.n_params)
            buf = memoryview(out.view(np.uint8))
            got = os.preadv(self._file.fileno(), [buf], slot * self.n_params * 8)
            if got != buf.nbytes:
                raise OSError("the checkpoints' temporary file is shorter than expected")
            return cp, out

    def forced_between(self, i0: int, i1: int) -> bool:
        """Is any checkpoint with index in (i0, i1] forced?"""
        with self._lock:
            return any(c.forced for c in self._items[i0 + 1 : i1 + 1])

    def arrays(self) -> tuple[list[dict], np.ndarray]:
        """Every checkpoint: (positions, weights as an (n, n_params) array), for a run file."""
        with self._lock:
            params = np.empty((len(self._items), self.n_params))
            for i in range(len(self._items)):
                params[i] = self.get(i)[1]
            return [dict(c.position) for c in self._items], params

    @classmethod
    def from_arrays(cls, positions: list[dict], params: np.ndarray, budget_bytes: float = math.inf) -> "CheckpointStore":
        store = cls(params.shape[1], budget_bytes)
        for pos, p in zip(positions, params):
            store.add(p, pos, forced=True)
            store._items[-1] = Checkpoint(int(pos["step"]), dict(pos), bool(pos.get("forced", False)))
        return store


@dataclass
class Rebuilt:
    """A step rebuilt: the network after it, and the report of that mini-batch (None at a
    checkpoint that was not replayed to, e.g. the start)."""

    network: Network
    step: int
    position: dict
    report: BatchReport | None
    replayed: int  # mini-batches replayed to get here
    exact: bool  # False: some replayed steps' settings were not in the history (its disk failed)


class Replayer:
    """Rebuilds any step of a run from its :class:`CheckpointStore`.

    ``template``: a network of the run's architecture (its weights are not used); ``train_x``,
    ``train_labels``: the run's training set; ``seed``: its shuffle seed.  Stepping
    forward from the last step rebuilt is incremental (an export rendering consecutive frames
    replays the range once).  One thread at a time."""

    def __init__(self, store: CheckpointStore, template: Network, train_x, train_labels, *, seed=0,
                 weight_decay: float = 0.0, engine: str = "auto"):
        self.store = store
        self._trainer = Trainer(template.copy(), train_x, train_labels, seed=seed, weight_decay=weight_decay,
                                engine=engine)
        self._from: int | None = None  # the checkpoint index the trainer resumed from
        self._last: BatchReport | None = None

    @property
    def engine(self) -> str:
        return self._trainer.engine_in_use

    def invalidate(self) -> None:
        """The store changed under the replay (a run continued from an earlier step)."""
        self._from = None

    def at(self, step: int, settings=None, cancelled=lambda: False) -> Rebuilt:
        """The run as it was after mini-batch ``step`` (bit for bit).  ``settings``: ``(step0,
        learning rates, mini-batch sizes)`` of steps step0+1.. (at least up to ``step``, from the
        nearest checkpoint on: :func:`nnstudio.training.runfile.history_settings`), or None (each
        checkpoint's own settings are then used until the next: not exact if they changed between).
        Raises ValueError for a step before the first checkpoint."""
        store, tr = self.store, self._trainer
        i = store.nearest(step)
        if i is None:
            raise ValueError(f"step {step:,} is before the timeline's first checkpoint")
        cp_step = store._steps[i]
        t = tr.step_count
        carry_on = (self._from is not None and cp_step <= t <= step and (self._from == i or (
            self._from < i and not store.forced_between(self._from, i))))
        if not carry_on:
            cp, params = store.get(i)
            pos = cp.position
            net = tr.network
            tr.resume([params[a:b].reshape(p.shape) for p, (a, b) in zip(net.params, _bounds(net))], pos)
            tr.learning_rate = float(pos.get("lr", tr.learning_rate))
            tr.batch_size = int(pos.get("bs", tr.batch_size))
            tr.epochs = None
            self._from = i
            self._last = None
        replayed = step - tr.step_count
        exact = True
        if replayed > 0:
            lrs = bss = None
            off = 0
            if settings is not None:
                step0, lrs, bss = settings
                off = tr.step_count - step0
                if off < 0 or off + replayed > len(lrs):
                    lrs = bss = None
            exact = lrs is not None
            r = None
            for k in range(replayed):
                if lrs is not None:
                    lr, bs = float(lrs[off + k]), int(bss[off + k])
                    if lr != tr.learning_rate:
                        tr.learning_rate = lr
                    if bs != tr.batch_size:
                        tr.batch_size = bs
                r = tr.step()
                if not k % 256 and cancelled():
                    self._from = None
                    raise Cancelled()
            self._last = r
        return Rebuilt(tr.network.copy(), tr.step_count, tr.position(), self._last if tr.step_count == step else None,
                       max(0, replayed), exact)


def _bounds(net: Network) -> list[tuple[int, int]]:
    out, i = [], 0
    for p in net.params:
        out.append((i, i + p.size))
        i += p.size
    return out
