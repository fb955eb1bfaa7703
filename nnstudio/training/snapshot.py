"""A snapshot: an immutable copy of the network being trained, with where the run was.

Snapshots are taken by the training loop (in whatever thread or process it runs), at most at
display rate and after every pause or step, so that nobody ever reads arrays the trainer is
mutating.  ``generation`` counts the runs (every rewind, reset or new trainer starts one) and
``edits`` the changes made to the weights from outside the run (an adopted explorer step, an
undo): whoever receives snapshots can drop the ones that left before its last command.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnstudio.core import Network


@dataclass(frozen=True)
class Snapshot:
    network: Network  # a private copy: never mutated after it is made
    step: int = 0  # mini-batches done since the start (or rewind)
    epoch: int = 0  # epochs completed
    batch: int = 0  # index of the last batch within its epoch
    examples_seen: int = 0
    learning_rate: float = 0.0
    batch_size: int = 0
    batch_indices: np.ndarray | None = None  # training-set indices of the mini-batch just used
    batch_cost: float | None = None
    at_epoch_end: bool = False  # taken right after the batch that ended an epoch
    generation: int = 0  # the run it belongs to
    edits: int = 0  # weight changes from outside the run so far (in this generation)
    #: a checkpoint of the timeline (nnstudio.training.checkpoints): the trainer's position, else None
    position: dict | None = None
    #: (step, last step) when this is the run as it was at an earlier step (the timeline), else None
    past: tuple[int, int] | None = None

    @classmethod
    def of(cls, network: Network, report=None, **kw) -> "Snapshot":
        """Copy ``network`` now (call it in the thread that owns the network)."""
        if report is None:
            pos = kw.get("position")
            if pos is not None and pos["step"]:  # (a run continued from a step of another)
                kw = dict(kw, step=pos["step"], epoch=pos["epoch"], examples_seen=pos["seen"])
            return cls(network.copy(), **kw)
        return cls(
            network.copy(), step=report.step, epoch=report.epoch + (1 if report.epoch_end else 0),
            batch=report.batch, examples_seen=report.examples_seen, learning_rate=report.learning_rate,
            batch_size=report.batch_size, batch_indices=np.array(report.indices), batch_cost=report.cost,
            at_epoch_end=report.epoch_end is not None, **kw,
        )

    @property
    def order(self) -> tuple[int, int]:
        """(generation, edits): a snapshot with a smaller order is older."""
        return (self.generation, self.edits)
