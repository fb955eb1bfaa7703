"""The numbers behind the Backprop explorer (Qt-free).

Everything the explorer shows is computed here, from the engine's own backpropagation
(:meth:`Network.backprop_details`), so the view holds no maths and the tests can check
every number against ``net.backprop`` and a finite-difference derivative.

Conventions, as in 3Blue1Brown's videos:

- the cost of one example is C = Σ (a − y)² (no ½), so ∂C/∂a = 2(a − y) for the quadratic
  cost; the cost of a mini-batch is the *average* of its examples' costs;
- a neuron's **desired nudge** is −∂C/∂a: how much, and in which direction, this example
  wants its activation to move (positive = up);
- a parameter's **desired change** for one example is −∂C/∂θ of that example's cost; the
  mini-batch's step is η times the *average* of those (−η ∇C of the mean cost).

Layers are numbered as in the diagram: layer 0 is the input, layer L the output.  A
:class:`ParamRef` names one weight or bias by its *weight layer* ``layer`` (0 feeds the
first hidden layer, i.e. neuron layer ``layer + 1``), the neuron ``row`` it feeds, and the
neuron ``col`` it comes from (``None`` for the bias).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nnstudio.core.gradcheck import numerical_derivative
from nnstudio.core.costs import get_cost
from nnstudio.core.network import Network, as_inputs

__all__ = [
    "ParamRef", "ExampleCost", "ThreeWays", "Nudges", "BatchNudges", "ParameterNudges", "PathTerm", "ChainRule",
    "StepResult", "fmt", "layer_name", "default_batch_indices", "example_cost", "three_ways", "nudges",
    "batch_nudges", "parameter_nudges", "layer_grid", "chain_rule", "sgd_step", "MAX_PATHS", "COST_FORMULAS",
    "cost_formulas", "explained",
]

#: full paths to the output are enumerated only up to this many (784-16-16-10: at most 160)
MAX_PATHS = 100_000


# ---------------------------------------------------------------------------- helpers
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")

#: how the explorer writes each cost: one term, the sum, and ∂C/∂a
COST_FORMULAS = {
    "quadratic": {"term": "(a − y)²", "sum": "Σ (a − y)²", "dC_da": "2(a − y)", "desired": "−2(a − y)"},
    "cross-entropy": {
        "term": "−[y ln a + (1−y) ln(1−a)]", "sum": "−Σ [y ln a + (1−y) ln(1−a)]",
        "dC_da": "(a − y) / (a(1 − a))", "desired": "−(a − y) / (a(1 − a))",
    },
}


def cost_formulas(cost) -> dict:
    """The explorer's way of writing ``cost`` (a :class:`Cost` or its name)."""
    return COST_FORMULAS[getattr(cost, "name", cost)]


def explained(net: Network, cost: str | None) -> Network:
    """A copy of ``net`` whose cost is ``cost`` (e.g. the videos' "quadratic"); the weights are shared by value."""
    new = net.copy()
    if cost is not None:
        new.cost = get_cost(cost)
    return new

def fmt(x: float, sig: int = 4, plus: bool = False) -> str:
    """A real number with ``sig`` significant digits and a true minus sign (−0.01234)."""
    x = float(x)
    if not math.isfinite(x):
        return "nan" if math.isnan(x) else ("∞" if x > 0 else "−∞")
    if x == 0.0:
        return "0"
    s = f"{x:.{sig}g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}×10{str(int(exp)).translate(_SUPERSCRIPT)}"
    if plus and x > 0:
        s = "+" + s
    return s.replace("-", "−")


def layer_name(sizes, layer: int) -> str:
    """Human name of neuron layer ``layer`` (0 = input, L = output)."""
    last = len(sizes) - 1
    if layer == 0:
        return "input"
    if layer == last:
        return "output"
    return f"hidden {layer}"


def default_batch_indices(n_train: int, size: int = 10, seed: int = 0) -> np.ndarray:
    """The mini-batch to explain when training has not used one yet: ``size`` fixed-seed examples."""
    size = min(int(size), int(n_train))
    return np.sort(np.random.default_rng(seed).choice(int(n_train), size=size, replace=False))


def _one(x) -> np.ndarray:
    x = as_inputs(x)
    if x.shape[0] != 1:
        raise ValueError("expected one example")
    return x


@dataclass(frozen=True)
class ParamRef:
    """One weight (``col`` = the neuron it comes from) or bias (``col`` None)."""

    layer: int  # weight layer: 0 feeds neuron layer 1
    row: int  # the neuron it feeds, in neuron layer layer + 1
    col: int | None = None  # the neuron it comes from, in neuron layer `layer`; None = bias

    @property
    def is_bias(self) -> bool:
        return self.col is None

    def check(self, sizes) -> "ParamRef":
        L = len(sizes) - 1
        if not 0 <= self.layer < L:
            raise ValueError(f"weight layer must lie in 0..{L - 1}")
        if not 0 <= self.row < sizes[self.layer + 1]:
            raise ValueError(f"neuron must lie in 0..{sizes[self.layer + 1] - 1}")
        if self.col is not None and not 0 <= self.col < sizes[self.layer]:
            raise ValueError(f"source neuron must lie in 0..{sizes[self.layer] - 1}")
        return self

    def flat_index(self, sizes) -> int:
        """Its index in :meth:`Network.flat_parameters` (per layer: weights row by row, then biases)."""
        self.check(sizes)
        i = 0
        for l in range(self.layer):
            i += sizes[l + 1] * (sizes[l] + 1)
        n_in, n_out = sizes[self.layer], sizes[self.layer + 1]
        if self.col is None:
            return i + n_in * n_out + self.row
        return i + self.row * n_in + self.col

    @classmethod
    def from_flat(cls, sizes, index: int) -> "ParamRef":
        index = int(index)
        if index < 0:
            raise ValueError("index must be >= 0")
        for l in range(len(sizes) - 1):
            n_in, n_out = sizes[l], sizes[l + 1]
            n = n_out * (n_in + 1)
            if index < n:
                if index < n_in * n_out:
                    return cls(l, index // n_in, index % n_in)
                return cls(l, index - n_in * n_out, None)
            index -= n
        raise ValueError("index beyond the last parameter")

    def gradcheck_col(self, sizes) -> int:
        """The column :func:`numerical_derivative` uses (``n_in`` for the bias)."""
        return sizes[self.layer] if self.col is None else self.col

    def value(self, net: Network) -> float:
        if self.col is None:
            return float(net.biases[self.layer][self.row])
        return float(net.weights[self.layer][self.row, self.col])

    def of(self, grad_w, grad_b) -> float:
        """Pick this parameter out of gradients laid out like :meth:`Network.backprop`'s."""
        if self.col is None:
            return float(grad_b[self.layer][self.row])
        return float(grad_w[self.layer][self.row, self.col])

    def label(self) -> str:
        """Short name: w(2)[5,12] is the weight from neuron 12 of layer 1 into neuron 5 of layer 2."""
        n = self.layer + 1
        return f"b({n})[{self.row}]" if self.col is None else f"w({n})[{self.row},{self.col}]"

    def describe(self, sizes) -> str:
        to = f"{layer_name(sizes, self.layer + 1)} neuron {self.row}"
        if self.col is None:
            return f"bias of {to}"
        src = "pixel" if self.layer == 0 else f"{layer_name(sizes, self.layer)} neuron"
        return f"weight from {src} {self.col} to {to}"


# ---------------------------------------------------------------------------- one example: cost
@dataclass
class ExampleCost:
    """One example's output against the desired output, and its cost term by term."""

    label: int  # the desired digit
    activations: np.ndarray  # (n_out,) a
    targets: np.ndarray  # (n_out,) y: 1 for the desired digit, 0 elsewhere
    terms: np.ndarray  # (n_out,) the cost's terms, (a − y)² for the quadratic cost
    cost: float  # their sum
    dC_da: np.ndarray  # (n_out,) ∂C/∂a = 2(a − y)
    desired: np.ndarray  # (n_out,) the desired nudges −∂C/∂a
    guess: int  # the brightest output neuron


def example_cost(net: Network, x, label: int) -> ExampleCost:
    d = net.backprop_details(_one(x), [int(label)])
    a, y = d.forward.output[0], d.targets[0]
    terms = net.cost.terms(a[None], y[None])[0]
    return ExampleCost(
        int(label), a.copy(), y.copy(), terms, float(d.costs[0]), d.dC_da[-1][0].copy(), -d.dC_da[-1][0],
        int(np.argmax(a)),
    )


# ---------------------------------------------------------------------------- the three ways
@dataclass
class ThreeWays:
    """The three ways to change one neuron's activation a = f(w·a_prev + b).

    ``da_db``, ``da_dw`` and ``da_dprev`` say how fast a rises per unit change of the bias,
    of each incoming weight (∝ the previous activations: the brightest connections matter
    most) and of each previous activation (∝ the weights: positive-weight neurons should
    get brighter, negative ones dimmer).  ``mag_*`` are the lengths of those gradients,
    i.e. how much a rises per unit step taken the best way along each.  ``want_*`` are
    this example's desired changes (−∂C/∂θ = desired nudge × ∂a/∂θ).
    """

    layer: int  # neuron layer (L = output)
    neuron: int
    a: float
    z: float
    fprime: float  # f'(z), σ'(z) for the sigmoid
    desired: float  # −∂C/∂a
    bias: float
    weights: np.ndarray  # (n_prev,)
    prev_activations: np.ndarray  # (n_prev,)
    da_db: float
    da_dw: np.ndarray
    da_dprev: np.ndarray
    mag_bias: float
    mag_weights: float
    mag_prev: float
    want_bias: float
    want_weights: np.ndarray
    want_prev: np.ndarray


def three_ways(net: Network, x, label: int, neuron: int | None = None, layer: int | None = None) -> ThreeWays:
    """The three ways for ``neuron`` of neuron layer ``layer`` (default: the desired digit's output neuron)."""
    L = len(net.sizes) - 1
    layer = L if layer is None else int(layer)
    if not 1 <= layer <= L:
        raise ValueError(f"layer must lie in 1..{L}")
    neuron = int(label) if neuron is None else int(neuron)
    d = net.backprop_details(_one(x), [int(label)])
    l = layer - 1  # weight layer
    a = float(d.forward.activations[layer][0, neuron])
    z = float(d.forward.zs[l][0, neuron])
    fp = float(net.layer_activation(l).derivative(d.forward.zs[l][0, neuron:neuron + 1],
                                                 d.forward.activations[layer][0, neuron:neuron + 1])[0])
    desired = -float(d.dC_da[l][0, neuron])
    w = net.weights[l][neuron].copy()
    ap = d.forward.activations[l][0].copy()
    da_dw, da_dprev = fp * ap, fp * w
    return ThreeWays(
        layer, neuron, a, z, fp, desired, float(net.biases[l][neuron]), w, ap,
        fp, da_dw, da_dprev, abs(fp), float(np.linalg.norm(da_dw)), float(np.linalg.norm(da_dprev)),
        desired * fp, desired * da_dw, desired * da_dprev,
    )


# ---------------------------------------------------------------------------- one example: all neurons
@dataclass
class Nudges:
    """One example's desired nudges for every neuron, propagated backwards.

    ``desired[k]`` belongs to neuron layer k + 1 (the last is the output).  For a hidden
    layer, ``contributions[k][j, i]`` is what neuron j of the layer after wants from
    neuron i: wᵢⱼ-weighted, f'(z_j)-scaled desired nudge of j.  Summed over j it is neuron
    i's own desired nudge: ``contributions[k].sum(axis=0) == desired[k]``.
    """

    label: int
    cost: float
    activations: list  # neuron layers 0..L, each (n,)
    zs: list  # neuron layers 1..L
    fprimes: list  # f'(z) for neuron layers 1..L
    desired: list  # −∂C/∂a for neuron layers 1..L
    contributions: list  # for neuron layers 1..L-1: (n_next, n)


def nudges(net: Network, x, label: int) -> Nudges:
    d = net.backprop_details(_one(x), [int(label)])
    acts = [a[0].copy() for a in d.forward.activations]
    zs = [z[0].copy() for z in d.forward.zs]
    fps = [net.layer_activation(l).derivative(d.forward.zs[l], d.forward.activations[l + 1])[0]
           for l in range(len(zs))]
    desired = [-g[0] for g in d.dC_da]
    contributions = []
    for k in range(len(desired) - 1):
        w_next = net.weights[k + 1]  # (n_next, n)
        contributions.append(w_next * (fps[k + 1] * desired[k + 1])[:, None])
    return Nudges(int(label), float(d.costs[0]), acts, zs, fps, desired, contributions)


# ---------------------------------------------------------------------------- all examples
@dataclass
class BatchNudges:
    """Each mini-batch example's desired change to one parameter, and their average (the step's direction)."""

    ref: ParamRef
    labels: np.ndarray  # (N,)
    guesses: np.ndarray  # (N,)
    costs: np.ndarray  # (N,) each example's own cost
    changes: np.ndarray  # (N,) −∂C_i/∂θ
    value: float  # the parameter's current value

    @property
    def average(self) -> float:
        """The average desired change = −∂C/∂θ of the mini-batch's mean cost."""
        return float(self.changes.mean()) if self.changes.size else 0.0

    @property
    def mean_cost(self) -> float:
        return float(self.costs.mean()) if self.costs.size else 0.0


def batch_nudges(net: Network, X, labels, ref: ParamRef) -> BatchNudges:
    ref.check(net.sizes)
    labels = np.asarray(labels, dtype=np.intp)
    d = net.backprop_details(X, labels)
    delta = d.deltas[ref.layer][:, ref.row]
    ch = -delta if ref.col is None else -delta * d.forward.activations[ref.layer][:, ref.col]
    return BatchNudges(ref, labels.copy(), d.forward.output.argmax(axis=1), d.costs.copy(), ch.copy(),
                       ref.value(net))


@dataclass
class ParameterNudges:
    """All weights and biases as one vector beside the negative gradient of the mini-batch's mean cost."""

    params: np.ndarray  # (n,) laid out like Network.flat_parameters
    neg_grad: np.ndarray  # (n,) −∇C
    top: np.ndarray  # indices of the largest |−∇C|, largest first
    layer_slices: list  # (start, stop) per weight layer
    top_share: float  # fraction of |∇C|² carried by the `top` entries

    def refs(self, sizes) -> list[ParamRef]:
        return [ParamRef.from_flat(sizes, i) for i in self.top]


def parameter_nudges(net: Network, X, labels, top: int = 10) -> ParameterNudges:
    gw, gb = net.backprop(X, labels)
    g = -net.flat_gradient(gw, gb)
    k = min(int(top), g.size)
    idx = np.argpartition(-np.abs(g), k - 1)[:k] if k else np.zeros(0, np.intp)
    idx = idx[np.argsort(-np.abs(g[idx]), kind="stable")]
    total = float(np.dot(g, g))
    share = float(np.dot(g[idx], g[idx]) / total) if total > 0 else 0.0
    slices, i = [], 0
    for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:]):
        n = n_out * (n_in + 1)
        slices.append((i, i + n))
        i += n
    return ParameterNudges(net.flat_parameters(), g, idx, slices, share)


def layer_grid(sizes, flat: np.ndarray, layer: int) -> np.ndarray:
    """Weight layer ``layer`` of a flat vector as a grid (n_out, n_in + 1): weights, then the bias column."""
    i = sum(sizes[l + 1] * (sizes[l] + 1) for l in range(layer))
    n_in, n_out = sizes[layer], sizes[layer + 1]
    w = flat[i:i + n_in * n_out].reshape(n_out, n_in)
    b = flat[i + n_in * n_out:i + n_in * n_out + n_out]
    return np.concatenate([w, b[:, None]], axis=1)


# ---------------------------------------------------------------------------- chain rule
@dataclass
class PathTerm:
    """One term of ∂C/∂a_j = Σ_m w_mj · f'(z_m) · ∂C/∂a_m (m runs over the next layer)."""

    via: int  # neuron m of the next layer
    weight: float  # w_mj
    fprime: float  # f'(z_m)
    dC_da: float  # ∂C/∂a_m
    product: float


@dataclass
class ChainRule:
    """∂C/∂θ for one example's cost, as the chain rule's product of factors with live values.

    For a weight: ∂C/∂w = a_prev · f'(z) · ∂C/∂a; for a bias the first factor is 1.
    At the output ∂C/∂a = 2(a − y); in a hidden layer it is the sum over the next layer
    (``terms``), and unrolled all the way, the sum over every path to the output
    (``n_paths`` of them, the largest in ``top_paths``).
    """

    ref: ParamRef
    label: int
    cost: float
    a_prev: float  # 1 for a bias
    z: float
    a: float
    fprime: float
    dC_da: float
    product: float  # a_prev · f'(z) · ∂C/∂a
    backprop: float  # the engine's ∂C/∂θ (net.backprop on this example)
    numerical: float  # central finite difference of the same
    target: float | None = None  # y (output layer only)
    terms: list = field(default_factory=list)  # PathTerm, hidden layers only
    n_paths: int = 1
    top_paths: list = field(default_factory=list)  # [(neurons through each later layer, value)], largest first
    paths_sum: float | None = None  # sum of all full paths (== dC_da)

    @property
    def is_output(self) -> bool:
        return self.target is not None

    @property
    def error(self) -> float:
        return abs(self.backprop - self.numerical)


def _all_paths(net: Network, d, layer: int, neuron: int) -> np.ndarray:
    """Products along every path from ``neuron`` of neuron layer ``layer`` to the output cost.

    Shape (n_{layer+1}, ..., n_L); each entry is Π (w · f'(z)) along the path × ∂C/∂a at its output.
    """
    L = len(net.sizes) - 1
    vals = None
    for k in range(layer, L):  # hop from neuron layer k to k + 1 through weight layer k
        fp = net.layer_activation(k).derivative(d.forward.zs[k], d.forward.activations[k + 1])[0]
        if vals is None:
            hop = net.weights[k][:, neuron] * fp  # (n_{k+1},)
            vals = hop
        else:
            prev_layer_size = vals.shape[-1]
            hop = net.weights[k] * fp[:, None]  # (n_{k+1}, n_k)
            vals = vals[..., None] * hop.T.reshape((1,) * (vals.ndim - 1) + (prev_layer_size, -1))
    return vals * d.dC_da[-1][0]


def chain_rule(net: Network, x, label: int, ref: ParamRef, top_paths: int = 6, eps: float = 1e-6) -> ChainRule:
    ref.check(net.sizes)
    X, Y = _one(x), [int(label)]
    d = net.backprop_details(X, Y)
    l, j = ref.layer, ref.row
    a_prev = 1.0 if ref.col is None else float(d.forward.activations[l][0, ref.col])
    z = float(d.forward.zs[l][0, j])
    a = float(d.forward.activations[l + 1][0, j])
    fp = float(net.layer_activation(l).derivative(d.forward.zs[l][0:1, j], d.forward.activations[l + 1][0:1, j])[0])
    dC_da = float(d.dC_da[l][0, j])
    gw, gb = net.backprop(X, Y)
    num = numerical_derivative(net, X, Y, l, j, ref.gradcheck_col(net.sizes), eps)
    cr = ChainRule(ref, int(label), float(d.costs[0]), a_prev, z, a, fp, dC_da, a_prev * fp * dC_da,
                   ref.of(gw, gb), float(num))
    L = len(net.sizes) - 1
    if l + 1 == L:
        cr.target = float(d.targets[0, j])
        return cr
    w_next = net.weights[l + 1][:, j]
    fp_next = net.layer_activation(l + 1).derivative(d.forward.zs[l + 1], d.forward.activations[l + 2])[0]
    da_next = d.dC_da[l + 1][0]
    cr.terms = [PathTerm(m, float(w_next[m]), float(fp_next[m]), float(da_next[m]),
                         float(w_next[m] * fp_next[m] * da_next[m])) for m in range(len(w_next))]
    cr.n_paths = int(np.prod(net.sizes[l + 2:]))
    if cr.n_paths <= MAX_PATHS:
        paths = _all_paths(net, d, l + 1, j)
        cr.paths_sum = float(paths.sum())
        flat = paths.ravel()
        k = min(int(top_paths), flat.size)
        order = np.argsort(-np.abs(flat), kind="stable")[:k]
        cr.top_paths = [(tuple(int(i) for i in np.unravel_index(o, paths.shape)), float(flat[o])) for o in order]
    return cr


# ---------------------------------------------------------------------------- one SGD step
@dataclass
class StepResult:
    """One plain SGD step on a mini-batch: θ ← θ − η · (average over the batch of ∇C_i)."""

    network: Network  # the stepped copy
    learning_rate: float
    mean_gradient: np.ndarray  # flat ∇C of the batch's mean cost (before the step)
    change: np.ndarray  # flat θ_after − θ_before = −η · mean_gradient
    batch_cost_before: float
    batch_cost_after: float
    example_cost_before: float | None = None
    example_cost_after: float | None = None


def sgd_step(net: Network, X, labels, learning_rate: float, example=None) -> StepResult:
    """Apply exactly the averaged nudge to a copy of ``net`` (``net`` itself is not changed).

    ``example`` is an optional (x, label) whose cost is reported before and after.
    """
    eta = float(learning_rate)
    if not math.isfinite(eta) or eta <= 0:
        raise ValueError("the learning rate must be a positive number")
    labels = np.asarray(labels, dtype=np.intp)
    if len(labels) == 0:
        raise ValueError("the mini-batch is empty")
    before = net.flat_parameters()
    gw, gb = net.backprop(X, labels)
    g = net.flat_gradient(gw, gb)
    new = net.copy()
    new.set_flat_parameters(before - eta * g)
    res = StepResult(new, eta, g, new.flat_parameters() - before, net.cost_of(X, labels), new.cost_of(X, labels))
    if example is not None:
        x, y = example
        res.example_cost_before = net.cost_of(_one(x), [int(y)])
        res.example_cost_after = new.cost_of(_one(x), [int(y)])
    return res

