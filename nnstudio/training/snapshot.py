"""A snapshot: an immutable copy of the network being trained, with where the run was.

Snapshots are taken by the training loop (in whatever thread or process it runs), at most at
display rate and after every pause or step, so that nobody ever reads arrays the trainer is
mutating.  ``generation`` counts the runs (every rewind, reset or new trainer starts one) and
``edits`` the changes made to the weights from outside the run (an adopted explorer step, an
undo): whoever receives snapshots can drop the ones that left before its last command.

A snapshot may also carry **the last step's change** of every weight and bias
(:attr:`Snapshot.step_change`, Δθ = θ after − θ before that mini-batch), when the loop was asked
for it (the diagram's −∂C/∂w and Δw edges) and kept the weights from before that step (it does
so at display rate, not for every mini-batch: see :mod:`nnstudio.training.loop`).  The gradient
of the last mini-batch follows from it exactly: plain SGD moved every parameter by
Δθ = −η ∂C/∂θ (weights first shrunk by the weight decay's factor, when there is one), so
−∂C/∂θ = (Δθ − (shrink − 1)·θ_before) / η (:meth:`Snapshot.descent_params`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

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
    #: the last step's Δθ, flat and laid out like ``network.buffer`` (None: not asked for, no step yet,
    #: or the weights changed since by other means: an adopted edit, a divergence's restore)
    step_change: np.ndarray | None = None
    step_shrink: float = 1.0  # the weight decay's factor in that step (1: none)
    extra: object = None  # what a trainer adds to its snapshots (a comparison's runs: training.lockstep)
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

    # ------------------------------------------------------------------ the last step
    @property
    def has_step_change(self) -> bool:
        return self.step_change is not None

    def change_params(self) -> list[np.ndarray] | None:
        """The last step's Δθ per layer, shaped like ``network.params`` ((n_in + 1, n_out): the
        weights' rows, then the biases), or None."""
        return None if self.step_change is None else _layers(self.network, self.step_change)

    @cached_property
    def _descent(self) -> list[np.ndarray] | None:
        d = self.step_change
        eta = self.learning_rate
        if d is None or not eta:
            return None
        if self.step_shrink == 1.0:
            g = d / eta
        else:  # w_after = shrink·w_before − η g for the weights (not the biases)
            before = self.network.buffer - d
            g = d.copy()
            for p, b in zip(_layers(self.network, g), _layers(self.network, before)):
                p[:-1] -= (self.step_shrink - 1.0) * b[:-1]
            g /= eta
        return _layers(self.network, g)

    def descent_params(self) -> list[np.ndarray] | None:
        """−∂C/∂θ of the last mini-batch's mean cost (C = Σ(a − y)² per example, as the videos
        write it), at the weights before that step, per layer shaped like ``network.params``; or
        None.  (The direction the step went: Δθ = η × this, for plain SGD.)"""
        return self._descent

    @property
    def order(self) -> tuple[int, int]:
        """(generation, edits): a snapshot with a smaller order is older."""
        return (self.generation, self.edits)


def _layers(network: Network, flat: np.ndarray) -> list[np.ndarray]:
    """``flat`` (laid out like ``network.buffer``) as per-layer views shaped like ``network.params``."""
    out, i = [], 0
    for p in network.params:
        out.append(flat[i : i + p.size].reshape(p.shape))
        i += p.size
    return out
