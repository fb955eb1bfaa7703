"""Numerical gradient check: backprop's gradient against central finite differences.

Used by the tests (every activation × cost) and by the app, which shows the numerical
derivative beside the chain-rule product for the weight a learner picked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network


def numerical_derivative(network: Network, X, Y, layer: int, row: int, col: int, eps: float = 1e-6) -> float:
    """∂C/∂θ by central differences for one parameter of the mean cost over (X, Y).

    ``layer`` is the weight layer (0 = into the first hidden layer), ``row`` the neuron it
    feeds, ``col`` the neuron it comes from; ``col == n_in`` addresses that neuron's bias.
    The parameter is restored exactly afterwards.
    """
    p = network.params[layer]  # stored transposed: (n_in + 1, n_out)
    old = p[col, row]
    try:
        p[col, row] = old + eps
        c_plus = network.cost_of(X, Y)
        p[col, row] = old - eps
        c_minus = network.cost_of(X, Y)
    finally:
        p[col, row] = old
    return (c_plus - c_minus) / (2.0 * eps)


def numerical_gradient(network: Network, X, Y, eps: float = 1e-6):
    """The whole gradient by finite differences: (grad_weights, grad_biases). Slow; small nets only."""
    gw, gb = [], []
    for l, p in enumerate(network.params):
        g = np.zeros((p.shape[1], p.shape[0]))
        for r in range(p.shape[1]):
            for c in range(p.shape[0]):
                g[r, c] = numerical_derivative(network, X, Y, l, r, c, eps)
        gw.append(g[:, :-1])
        gb.append(g[:, -1].copy())
    return gw, gb


@dataclass
class GradientCheck:
    checked: int
    max_abs_error: float
    max_rel_error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.max_rel_error <= self.tolerance

    def __str__(self) -> str:
        verdict = "agrees" if self.passed else "DISAGREES"
        return (
            f"backprop {verdict} with finite differences on {self.checked} parameters "
            f"(max relative error {self.max_rel_error:.2e}, max absolute error {self.max_abs_error:.2e})"
        )


def gradient_check(
    network: Network, X, Y, *, samples: int | None = 200, eps: float = 1e-6,
    tolerance: float = 1e-5, seed: int | None = 0,
) -> GradientCheck:
    """Compare :meth:`Network.backprop` with finite differences.

    ``samples`` parameters are picked at random (all of them when None).  The relative
    error is |g_bp − g_num| / max(|g_bp| + |g_num|, 1e-8).
    """
    gw, gb = network.backprop(X, Y)
    addresses = [
        (l, r, c) for l, p in enumerate(network.params) for r in range(p.shape[1]) for c in range(p.shape[0])
    ]
    if samples is not None and samples < len(addresses):
        rng = np.random.default_rng(seed)
        pick = rng.choice(len(addresses), size=samples, replace=False)
        addresses = [addresses[i] for i in pick]
    max_abs = max_rel = 0.0
    for l, r, c in addresses:
        analytic = gb[l][r] if c == network.params[l].shape[0] - 1 else gw[l][r, c]
        numeric = numerical_derivative(network, X, Y, l, r, c, eps)
        err = abs(analytic - numeric)
        max_abs = max(max_abs, err)
        max_rel = max(max_rel, err / max(abs(analytic) + abs(numeric), 1e-8))
    return GradientCheck(len(addresses), max_abs, max_rel, tolerance)
