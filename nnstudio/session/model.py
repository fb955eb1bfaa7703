"""Plain values the session hands to its views (no Qt): the current input, and where the
network on screen came from.  (Snapshots, the network's copies, are made by the training loop:
:class:`nnstudio.training.snapshot.Snapshot`, re-exported here.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnstudio.training.snapshot import Snapshot

__all__ = ["InputExample", "Origin", "Snapshot", "sizes_text"]


def sizes_text(sizes) -> str:
    """(784, 16, 16, 10) -> "784-16-16-10"."""
    return "-".join(str(int(s)) for s in sizes)


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

    @property
    def from_batch(self) -> bool:
        """An example of a mini-batch the trainer stepped (it belongs to one run)."""
        return "batch_indices" in self.extra or "batch_step" in self.extra


@dataclass(frozen=True)
class Origin:
    """Where the network on screen came from, and the one name every view, the title and the
    status bar call it by."""

    kind: str  # "shipped" | "fresh" | "file"
    name: str  # short: "pretrained 784-16-16-10", "new 784-16-16-10 (seed 0)", "mynet.npz"
    detail: str = ""  # one sentence more: "shipped with nnstudio; 96.1 % on MNIST test"
    path: str | None = None  # the file, for "file" and "shipped"
    seed: int | None = None  # the seed of its initial weights, when known
    accuracy: float | None = None  # test accuracy when saved (from the file), when known

    @classmethod
    def shipped(cls, sizes, path, accuracy=None) -> "Origin":
        acc = f"; {100 * accuracy:.1f} % on MNIST test" if isinstance(accuracy, (int, float)) else ""
        return cls("shipped", f"pretrained {sizes_text(sizes)}", f"shipped with nnstudio{acc}", str(path),
                   accuracy=accuracy if isinstance(accuracy, (int, float)) else None)

    @classmethod
    def fresh(cls, sizes, seed) -> "Origin":
        return cls("fresh", f"new {sizes_text(sizes)} (seed {seed})", f"random weights from seed {seed}",
                   seed=seed)

    @classmethod
    def file(cls, path, sizes, seed=None, accuracy=None) -> "Origin":
        p = Path(path)
        acc = f"; {100 * accuracy:.1f} % on its test set when saved" if isinstance(accuracy, (int, float)) else ""
        return cls("file", p.name, f"{sizes_text(sizes)} from {p}{acc}", str(p), seed=seed,
                   accuracy=accuracy if isinstance(accuracy, (int, float)) else None)
