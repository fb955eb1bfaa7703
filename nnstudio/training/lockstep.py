"""Several runs trained in lockstep, as one trainer: what a comparison runs (no Qt here).

A comparison (:mod:`nnstudio.session.compare`) trains N networks that start from the same weights
and the same shuffle and differ in one setting.  Rather than a training loop of its own, it hands
the one :class:`~nnstudio.training.loop.TrainingLoop` (in a worker of its own:
:mod:`nnstudio.training.workers`) a :class:`LockstepTrainer`: it looks like one
:class:`~nnstudio.core.Trainer` to the loop (``step()``, ``rewind()``, ``finished``,
``network``, ...), and each of its steps steps every run.  So play, pause, Step, Epoch, the speeds,
the back-pressure and the training process are the loop's, unchanged.

**One step steps all, over the same examples.**  A lockstep step moves every run on by the same
number of examples: the largest mini-batch of the runs (its *stride*).  Runs of equal mini-batch
sizes take one mini-batch each; in "mini-batch 1 vs 10 vs 100" one step is 100 mini-batches of 1,
10 of 10 and 1 of 100, so that after every step all the runs have seen the same examples, in the
same order, and their curves line up on an "examples seen" axis.  (A run whose mini-batch does not
divide the stride is at most one mini-batch ahead.)

**Per-run reports.**  The loop records the lockstep's own report per step; each run's mini-batch
reports (every one) are kept here as rows and leave with the next snapshot
(:meth:`LockstepTrainer.snapshot_extra`: the loop adds it to every snapshot it takes, at display
rate and at every pause, step and end), one :class:`~nnstudio.training.reportblock.ReportBlock`
per run, with each run's own network: a :class:`RunsSnapshot`.

A run whose cost diverges (its trainer restores its last good weights) stops there, marked; the
others go on.  The comparison is over when every run finished its epochs or stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnstudio.core import Network, Trainer
from nnstudio.core.trainer import BatchReport, EpochReport
from nnstudio.training.reportblock import WIRE, ReportBlock, wire_row


@dataclass(frozen=True)
class RunState:
    """One run of a comparison, as a snapshot carries it."""

    network: Network  # a private copy
    step: int  # its own mini-batches so far
    epoch: int  # epochs it completed
    examples_seen: int
    batch_cost: float | None  # the cost of its last mini-batch
    at_epoch_end: bool  # its last mini-batch ended an epoch
    diverged_at: int | None  # its own step at which the cost became infinite (it stopped there)
    finished: bool  # all its epochs done
    block: ReportBlock | None  # its mini-batch reports since the previous snapshot (None: none)


@dataclass(frozen=True)
class RunsSnapshot:
    """What a comparison's snapshots carry (``Snapshot.extra``): every run's state."""

    runs: tuple[RunState, ...]
    step: int  # lockstep steps so far
    examples: int  # examples each run has seen (at least)


class LockstepTrainer:
    """N trainers stepped together (see the module docstring).  The trainers must not be used by
    anyone else once handed over."""

    weight_decay = 0.0

    def __init__(self, trainers: Sequence[Trainer]):
        if not trainers:
            raise ValueError("a comparison needs at least one run")
        self.trainers = list(trainers)
        self.stride = max(int(t.batch_size) for t in self.trainers)
        self.history: list[EpochReport] = []
        self._restart()

    def _restart(self) -> None:
        n = len(self.trainers)
        self.step_count = 0
        self.examples_seen = 0  # every run has seen at least this many examples
        self.epoch = 0  # the fewest epochs a run still going has completed
        self.batch_in_epoch = 0
        self.diverged_at: list[int | None] = [None] * n
        self.history = []
        self._last: list[BatchReport | None] = [None] * n
        self._rows: list[list] = [[] for _ in range(n)]
        self._ends: list[dict] = [{} for _ in range(n)]

    # ------------------------------------------------------------------ what the loop reads
    @property
    def network(self) -> Network:
        """The first run's network (what the loop's own snapshot copies; the runs' travel in
        :meth:`snapshot_extra`)."""
        return self.trainers[0].network

    @property
    def learning_rate(self) -> float:
        return self.trainers[0].learning_rate

    @property
    def batch_size(self) -> int:
        return self.stride

    @property
    def epochs(self) -> int | None:
        return self.trainers[0].epochs

    @epochs.setter
    def epochs(self, n: int | None) -> None:
        for t in self.trainers:
            t.epochs = n

    @property
    def n_train(self) -> int:
        return self.trainers[0].n_train

    @property
    def engine_in_use(self) -> str:
        return self.trainers[0].engine_in_use

    @property
    def finished(self) -> bool:
        return all(t.finished or d is not None for t, d in zip(self.trainers, self.diverged_at))

    def position(self) -> dict:
        """(The loop's checkpoints ask every trainer where it is; a comparison keeps none.)"""
        return {"step": self.step_count, "epoch": self.epoch, "batch": self.batch_in_epoch, "pos": 0,
                "seen": self.examples_seen, "rng": None}

    # ------------------------------------------------------------------ control
    def rewind(self) -> None:
        """Every run back to the common initial weights and the start of the same shuffle."""
        for t in self.trainers:
            t.rewind()
        self._restart()

    def reset(self, seed: int | None = None) -> None:
        """Every run from new weights of ``seed`` (the same draws for all) and its shuffle."""
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        for t in self.trainers:
            t.reset(seed)
        self._restart()

    def adopt(self, params) -> None:
        raise RuntimeError("the runs of a comparison take no outside weights")

    def step(self) -> BatchReport:
        """One lockstep step: every run still going trains until it has seen ``stride`` more
        examples.  Returns the lockstep's own report (its epoch ends when every run still going
        has ended that epoch)."""
        if self.finished:
            raise RuntimeError("every run of the comparison is done")
        t0 = time.perf_counter()
        target = self.examples_seen + self.stride
        last = None
        for i, tr in enumerate(self.trainers):
            if self.diverged_at[i] is not None:
                continue
            rows, ends = self._rows[i], self._ends[i]
            while not tr.finished and tr.examples_seen < target:
                r = tr.step()
                if r.epoch_end is not None:
                    ends[len(rows)] = (r.epoch_end, None)
                rows.append(wire_row(r, -1))
                self._last[i] = last = r
                if r.diverged:
                    self.diverged_at[i] = r.step
                    break
        self.step_count += 1
        self.examples_seen = target
        going = [t.epoch for t, d in zip(self.trainers, self.diverged_at) if d is None]
        epoch = min(going) if going else max(t.epoch for t in self.trainers)
        end = None
        batch = self.batch_in_epoch
        if epoch > self.epoch:
            accs = [t.history[-1].test_accuracy for t, d in zip(self.trainers, self.diverged_at)
                    if d is None and t.history and t.history[-1].test_accuracy is not None]
            end = EpochReport(epoch, math.nan, float(np.mean(accs)) if accs else None, None,
                              time.perf_counter() - t0, 0.0)
            self.history.append(end)
            self.epoch = epoch
            self.batch_in_epoch = 0
        else:
            self.batch_in_epoch = batch + 1
        idx = last.indices if last is not None else np.empty(0, dtype=np.intp)
        return BatchReport(epoch - (1 if end is not None else 0), batch, idx,
                           last.cost if last is not None else math.nan, time.perf_counter() - t0, target,
                           self.step_count, self.learning_rate, self.stride, end, False,
                           last.offset if last is not None else 0)

    # ------------------------------------------------------------------ what snapshots carry
    def snapshot_extra(self) -> RunsSnapshot:
        """Every run's network (copied now) and its reports since the last call (handed over: each
        report leaves in exactly one snapshot)."""
        runs = []
        for i, tr in enumerate(self.trainers):
            rows, ends = self._rows[i], self._ends[i]
            block = ReportBlock(np.array(rows, dtype=WIRE), ends) if rows else None
            self._rows[i], self._ends[i] = [], {}
            r = self._last[i]
            runs.append(RunState(tr.network.copy(), tr.step_count, tr.epoch, tr.examples_seen,
                                 None if r is None else r.cost, r is not None and r.epoch_end is not None,
                                 self.diverged_at[i], tr.finished, block))
        return RunsSnapshot(tuple(runs), self.step_count, self.examples_seen)
