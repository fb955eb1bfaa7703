"""Activation functions: sigmoid (the videos'), tanh and ReLU.

Each activation knows how to compute a = f(z) in place and f'(z) from z and a, so the
trainer never allocates inside its loop.  Only NumPy is used here.
"""

from __future__ import annotations

import numpy as np


class Activation:
    name: str = ""
    #: the range of the activation, used by views to map it to brightness
    low: float = 0.0
    high: float = 1.0

    def __call__(self, z: np.ndarray) -> np.ndarray:
        out = np.empty_like(z, dtype=np.float64)
        self.apply(z, out)
        return out

    def apply(self, z: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """f'(z), given z and a = f(z) (whichever is cheaper)."""
        raise NotImplementedError  # pragma: no cover

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^−z), computed as ½ + ½·tanh(z/2): no overflow, no warnings."""

    name = "sigmoid"

    def apply(self, z, out):
        np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        np.multiply(out, 0.5, out=out)
        np.add(out, 0.5, out=out)

    def derivative(self, z, a, out=None):
        # σ'(z) = σ(z)(1 − σ(z))
        out = np.subtract(1.0, a, out=out)
        np.multiply(out, a, out=out)
        return out


class Tanh(Activation):
    name = "tanh"
    low = -1.0

    def apply(self, z, out):
        np.tanh(z, out=out)

    def derivative(self, z, a, out=None):
        out = np.multiply(a, a, out=out)
        np.subtract(1.0, out, out=out)
        return out


class ReLU(Activation):
    name = "relu"
    high = np.inf

    def apply(self, z, out):
        np.maximum(z, 0.0, out=out)

    def derivative(self, z, a, out=None):
        if out is None:
            out = np.empty(np.shape(z), dtype=np.float64)
        np.greater(z, 0.0, out=out)
        return out


ACTIVATIONS: dict[str, Activation] = {a.name: a for a in (Sigmoid(), Tanh(), ReLU())}


def get_activation(name: str | Activation) -> Activation:
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}"
        ) from None
