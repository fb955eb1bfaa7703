"""Cost functions.

The videos define the cost of one example as the sum of squared differences between the
output activations and the desired ones, **C = Σ (a − y)²**, with no ½ in front (so
∂C/∂a = 2(a − y)), and the cost of the model as the average of that over the examples.
That is the default here.  Cross-entropy is offered as an option; it pairs with the
sigmoid output layer so that the output error is simply a − y.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


class Cost:
    name: str = ""
    label: str = ""

    def per_example(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cost of each example (rows of a and y)."""
        raise NotImplementedError  # pragma: no cover

    def mean(self, a: np.ndarray, y: np.ndarray) -> float:
        return float(self.per_example(a, y).mean()) if len(a) else 0.0

    def terms(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The per-output-neuron terms that add up to the cost of one example."""
        raise NotImplementedError  # pragma: no cover

    def derivative(self, a: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂C/∂a for each example's own cost."""
        raise NotImplementedError  # pragma: no cover

    def __repr__(self) -> str:
        return f"<cost {self.name}>"


class Quadratic(Cost):
    name = "quadratic"
    label = "C = Σ (a − y)²  (per example, no ½; averaged over examples)"

    def terms(self, a, y):
        d = a - y
        return d * d

    def per_example(self, a, y):
        d = a - y
        return np.einsum("ij,ij->i", d, d)

    def derivative(self, a, y):
        return 2.0 * (a - y)


class CrossEntropy(Cost):
    name = "cross-entropy"
    label = "C = −Σ [y ln a + (1 − y) ln(1 − a)]  (per example; averaged over examples)"

    def terms(self, a, y):
        a = np.clip(a, _EPS, 1.0 - _EPS)
        return -(y * np.log(a) + (1.0 - y) * np.log1p(-a))

    def per_example(self, a, y):
        return self.terms(a, y).sum(axis=1)

    def derivative(self, a, y):
        a = np.clip(a, _EPS, 1.0 - _EPS)
        return (a - y) / (a * (1.0 - a))


COSTS: dict[str, Cost] = {c.name: c for c in (Quadratic(), CrossEntropy())}
COSTS["ce"] = COSTS["cross-entropy"]
COSTS["crossentropy"] = COSTS["cross-entropy"]


def get_cost(name: str | Cost) -> Cost:
    if isinstance(name, Cost):
        return name
    try:
        return COSTS[name]
    except KeyError:
        raise ValueError(
            f"unknown cost {name!r}; choose one of: quadratic, cross-entropy"
        ) from None
