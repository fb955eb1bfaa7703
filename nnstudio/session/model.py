"""Qt-free state the views are given (napari-style: plain objects, no Qt).

A :class:`Snapshot` is an immutable copy of the network taken in the worker thread (at
display rate, and on pause/step), so the GUI never reads arrays the trainer is mutating.
An :class:`InputExample` is "the current input" that every view shows: a dataset example,
the drawing pad's image, or an example of the mini-batch just stepped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    #: the weights are a fresh random initialisation: nothing trained or loaded yet
    fresh: bool = False

    @classmethod
    def of(cls, network: Network, report=None, **kw) -> "Snapshot":
        """Copy ``network`` now (call it in the thread that owns the network)."""
        if report is None:
            return cls(network.copy(), **kw)
        return cls(
            network.copy(), step=report.step, epoch=report.epoch + (1 if report.epoch_end else 0),
            batch=report.batch, examples_seen=report.examples_seen, learning_rate=report.learning_rate,
            batch_size=report.batch_size, batch_indices=np.array(report.indices), batch_cost=report.cost, **kw,
        )


@dataclass(frozen=True)
class InputExample:
    pixels: np.ndarray  # (784,) float64 in [0, 1], bright ink on dark, as the network sees it
    label: int | None = None  # the true digit, when known
    source: str = ""  # e.g. "test #42", "drawing pad", "mini-batch 3 of epoch 2"
    index: int | None = None  # index in its dataset split, when it has one
    split: str | None = None  # "train" or "test"
    extra: dict = field(default_factory=dict)

    @property
    def image(self) -> np.ndarray:
        return self.pixels.reshape(28, 28)
