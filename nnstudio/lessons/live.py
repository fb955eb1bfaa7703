"""The live numbers of the lessons: each ``{{live.name}}`` of a lesson's text (Qt-free).

Every value is a function registered in :data:`LIVE` by ``@live(name, doc)``.  :class:`Live`
computes them from a :class:`LiveContext` (the network, the current example, the dataset, and
the step's selections), each intermediate result once; :func:`live_values` is the entry point.
A value that cannot be computed yet (no network, no example, no dataset) is :data:`MISSING`.
The videos' conventions hold throughout: the cost of one example is C = Σ (a − y)² (no ½),
the model's cost is its average over examples, and a neuron's desired nudge is −∂C/∂a.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from nnstudio.components.evaluation import noise_test
from nnstudio.components.explain import ParamRef, batch_nudges, chain_rule, default_batch_indices, example_cost
from nnstudio.components.explain import explained, fmt, layer_name, nudges, parameter_nudges, sgd_step, three_ways
from nnstudio.core.network import Network, as_inputs
from nnstudio.components.playground import PRESETS, DescentRun
from nnstudio.lessons.specs import ExampleSpec, NeuronSpec, ParamSpec

__all__ = ["LIVE", "MISSING", "LiveContext", "Live", "live", "live_values", "resolve_example", "explorer_batch"]


@dataclass
class LiveContext:
    """What the live numbers are computed from: the window's state and the step's selections."""

    network: Network | None = None
    pixels: np.ndarray | None = None  # (n_in,) the current input, 0..1
    label: int | None = None  # its true class, when known
    source: str = ""
    dataset: object = None  # an nnstudio Dataset (train_x, train_labels, test_x, test_labels, class_names)
    batch_indices: np.ndarray | None = None  # the last mini-batch stepped (training-set indices)
    explorer_eta: float = 1.5  # the Backprop explorer's learning rate
    neuron: NeuronSpec | None = None
    parameter: ParamSpec | None = None
    focus: int | None = None
    preset: str | None = None
    learning_rate: float | None = None  # the playground's
    start: tuple | None = None
    training_learning_rate: float | None = None
    training_batch_size: int | None = None
    noise_seed: int = 0


#: name -> (description, function(Live) -> str)
LIVE: dict[str, tuple[str, object]] = {}
MISSING = "—"


def live(name: str, doc: str):
    """Register the decorated function (named ``live_<name>``) as the live value ``name``."""
    def register(fn):
        LIVE[name] = (doc, fn)
        return fn
    return register


def _count(n) -> str:
    return f"{int(n):,}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


class Live:
    """Computes the live values for one context (each intermediate result once)."""

    CHUNK = 10_000

    def __init__(self, ctx: LiveContext, cache: dict | None = None):
        self.ctx = ctx
        self.cache = cache if cache is not None else {}

    def value(self, name: str) -> str:
        try:
            fn = LIVE[name][1]
        except KeyError:
            raise KeyError(f"unknown live value {name!r}") from None
        try:
            v = fn(self)
        except (_Missing, ValueError, IndexError, FloatingPointError):
            return MISSING
        return MISSING if v is None else str(v)

    # ------------------------------------------------------------------ inputs
    @property
    def net(self) -> Network:
        if self.ctx.network is None:
            raise _Missing
        return self.ctx.network

    @cached_property
    def q(self) -> Network:
        """The network explained with the videos' cost, Σ (a − y)²."""
        return explained(self.net, "quadratic")

    @property
    def ds(self):
        if self.ctx.dataset is None:
            raise _Missing
        return self.ctx.dataset

    def name(self, k: int) -> str:
        names = getattr(self.ctx.dataset, "class_names", None)
        if names is not None and 0 <= k < len(names) and len(names) == self.net.sizes[-1]:
            return str(names[k])
        return str(k)

    @property
    def x(self) -> np.ndarray:
        p = self.ctx.pixels
        if p is None or np.asarray(p).size != self.net.sizes[0]:
            raise _Missing
        return as_inputs(np.asarray(p, dtype=np.float64).ravel())

    @cached_property
    def fwd(self):
        return self.net.forward(self.x)

    @property
    def out(self) -> np.ndarray:
        return self.fwd.output[0]

    @cached_property
    def guess(self) -> int:
        return int(np.argmax(self.out))

    @property
    def desired(self) -> int:
        """The desired digit: the true label, or (a drawing) the network's guess, as the explorer does."""
        lab = self.ctx.label
        if lab is None or not 0 <= lab < self.net.sizes[-1]:
            return self.guess
        return int(lab)

    @cached_property
    def ex_cost(self):
        return example_cost(self.q, self.x, self.desired)

    # ------------------------------------------------------------------ whole splits (cached across renders)
    def _key(self, what):
        return (what, id(self.ctx.network), id(self.ctx.dataset))

    def split_outputs(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(outputs (N, n_out), labels (N,)) of a dataset split, in chunks (never a float copy of it all)."""
        key = self._key(("outputs", split))
        if key not in self.cache:
            X = self.ds.test_x if split == "test" else self.ds.train_x
            y = np.asarray(self.ds.test_labels if split == "test" else self.ds.train_labels)
            if X.shape[1] != self.net.sizes[0]:
                raise _Missing
            outs = [self.net.feedforward(X[i:i + self.CHUNK]) for i in range(0, len(X), self.CHUNK)]
            out = np.concatenate(outs) if outs else np.zeros((0, self.net.sizes[-1]))
            self._remember(key, (out, y))
        return self.cache[key]

    def split_costs(self, split: str) -> np.ndarray:
        """Each example's Σ (a − y)² over a split."""
        out, y = self.split_outputs(split)
        Y = np.zeros_like(out)
        Y[np.arange(len(y)), y.astype(np.intp)] = 1.0
        return ((out - Y) ** 2).sum(axis=1)

    def _remember(self, key, value):
        if len(self.cache) > 16:  # a few networks' worth: enough for a step and its neighbours
            self.cache.pop(next(iter(self.cache)))
        self.cache[key] = value

    @cached_property
    def batch(self):
        """(X, labels) of the mini-batch the Backprop explorer shows."""
        idx = explorer_batch(self.ds, self.ctx.batch_indices)
        if idx is None:
            raise _Missing
        return self.ds.train_x[idx], np.asarray(self.ds.train_labels)[idx].astype(np.intp)

    @cached_property
    def ref(self) -> ParamRef:
        spec = self.ctx.parameter or ParamSpec("weight", None, None, None)
        try:
            return spec.resolve(self.net, self.x, self.desired)
        except ValueError:
            raise _Missing from None

    @cached_property
    def focus(self) -> int:
        f = self.ctx.focus
        return self.desired if f is None or not 0 <= f < self.net.sizes[-1] else int(f)

    @cached_property
    def three(self):
        return three_ways(self.q, self.x, self.desired, neuron=self.focus)

    @cached_property
    def nud(self):
        return nudges(self.q, self.x, self.desired)

    @cached_property
    def chain(self):
        return chain_rule(self.q, self.x, self.desired, self.ref)

    @cached_property
    def step(self):
        X, y = self.batch
        return sgd_step(self.q, X, y, self.ctx.explorer_eta)

    @cached_property
    def neuron(self) -> tuple[int, int]:
        spec = self.ctx.neuron or NeuronSpec(1, None)
        try:
            return spec.resolve(self.net, self.x)
        except ValueError:
            raise _Missing from None

    @cached_property
    def fn(self):
        key = self.ctx.preset
        if key not in PRESETS:
            raise _Missing
        return PRESETS[key]

    @property
    def eta(self) -> float:
        return float(self.ctx.learning_rate if self.ctx.learning_rate else self.fn.learning_rate)


class _Missing(Exception):
    """A live value cannot be computed yet (no network, no example, no dataset)."""


def explorer_batch(dataset, batch_indices=None, size: int = 10) -> np.ndarray | None:
    """The mini-batch the Backprop explorer explains: the last one stepped, else ``size`` fixed examples."""
    if dataset is None or getattr(dataset, "n_train", 0) == 0:
        return None
    n = dataset.n_train
    if batch_indices is not None and len(batch_indices):
        idx = np.asarray(batch_indices, dtype=np.intp)
        if idx.min() >= 0 and idx.max() < n:
            return idx
    return default_batch_indices(n, size, seed=0)


def resolve_example(spec: ExampleSpec, dataset, network: Network | None = None) -> int:
    """The index in ``spec.split`` of the example ``spec`` names (ValueError with a one-line reason)."""
    labels = np.asarray(dataset.test_labels if spec.split == "test" else dataset.train_labels)
    if spec.index is not None:
        if spec.index >= len(labels):
            raise ValueError(f"{dataset.name} has {len(labels):,} {spec.split} images, not #{spec.index}")
        return int(spec.index)
    idx = np.flatnonzero(labels == spec.label)
    if idx.size == 0:
        raise ValueError(f"{dataset.name} has no {spec.split} image of class {spec.label}")
    if spec.pick == "first" or network is None:
        return int(idx[0])
    X = dataset.test_x if spec.split == "test" else dataset.train_x
    out = np.concatenate([network.feedforward(X[idx[i:i + 10_000]]) for i in range(0, idx.size, 10_000)])
    if spec.pick == "misread":
        wrong = np.flatnonzero(out.argmax(axis=1) != spec.label)
        return int(idx[wrong[0]]) if wrong.size else int(idx[0])
    Y = np.zeros_like(out)
    Y[:, spec.label] = 1.0
    return int(idx[int(np.argmax(((out - Y) ** 2).sum(axis=1)))])


# ------------------------------------------------------------------------------- the values
@live("sizes", "the layer sizes, e.g. 784-16-16-10")
def live_sizes(v: Live):
    return "-".join(str(n) for n in v.net.sizes)


@live("n_inputs", "neurons in the input layer (784 pixels)")
def live_n_inputs(v):
    return _count(v.net.sizes[0])


@live("n_hidden", "neurons per hidden layer, e.g. '16 and 16'")
def live_n_hidden(v):
    h = [str(n) for n in v.net.sizes[1:-1]]
    return " and ".join([", ".join(h[:-1]), h[-1]]) if len(h) > 1 else (h[0] if h else "none")


@live("n_outputs", "neurons in the output layer")
def live_n_outputs(v):
    return _count(v.net.sizes[-1])


@live("n_params", "weights and biases in all (13,002)")
def live_n_params(v):
    return _count(v.net.n_params)


@live("n_weights", "weights in all")
def live_n_weights(v):
    return _count(sum(a * b for a, b in zip(v.net.sizes[:-1], v.net.sizes[1:])))


@live("n_biases", "biases in all")
def live_n_biases(v):
    return _count(sum(v.net.sizes[1:]))


@live("n_train", "training images in the dataset")
def live_n_train(v):
    return _count(v.ds.n_train)


@live("n_test", "test images in the dataset")
def live_n_test(v):
    return _count(v.ds.n_test)


@live("source", "where the current example comes from, e.g. 'test #1'")
def live_source(v):
    if v.ctx.pixels is None:
        raise _Missing
    return v.ctx.source or "the current example"


@live("label", "the desired digit of the current example (for a drawing: the network's guess)")
def live_label(v):
    return v.name(v.desired)


@live("guess", "the digit the network reads (its brightest output neuron)")
def live_guess(v):
    return v.name(v.guess)


@live("confidence", "the activation of that output neuron")
def live_confidence(v):
    return fmt(v.out[v.guess], 3)


@live("runner_up", "the second brightest output neuron")
def live_runner_up(v):
    return v.name(int(np.argsort(v.out)[-2]))


@live("lit_pixels", "input neurons of this example with activation above 0.5")
def live_lit_pixels(v):
    return _count((v.x[0] > 0.5).sum())


@live("hidden_lit", "neurons of the first hidden layer with activation above 0.5")
def live_hidden_lit(v):
    return _count((v.fwd.activations[1][0] > 0.5).sum())


@live("cost", "this example's cost Σ (a − y)²")
def live_cost(v):
    return fmt(v.ex_cost.cost, 4)


@live("cost_label_term", "the desired digit's term (a − 1)²")
def live_cost_label_term(v):
    return fmt(v.ex_cost.terms[v.desired], 3)


@live("accuracy", "share of the test images read correctly")
def live_accuracy(v):
    out, y = v.split_outputs("test")
    return _pct(float((out.argmax(axis=1) == y).mean())) if len(y) else MISSING


@live("test_cost", "the average of Σ (a − y)² over the test images")
def live_test_cost(v):
    c = v.split_costs("test")
    return fmt(c.mean(), 3) if c.size else MISSING


@live("train_cost", "the average of Σ (a − y)² over the training images (the model's cost)")
def live_train_cost(v):
    c = v.split_costs("train")
    return fmt(c.mean(), 3) if c.size else MISSING


def _worst(v):
    c = v.split_costs("test")
    if not c.size:
        raise _Missing
    i = int(np.argmax(c))
    out, y = v.split_outputs("test")
    return i, c[i], int(y[i]), int(out[i].argmax())


@live("worst_index", "the test image with the highest cost")
def live_worst_index(v):
    return str(_worst(v)[0])


@live("worst_cost", "its cost")
def live_worst_cost(v):
    return fmt(_worst(v)[1], 4)


@live("worst_label", "its true digit")
def live_worst_label(v):
    return v.name(_worst(v)[2])


@live("worst_guess", "what the network reads it as")
def live_worst_guess(v):
    return v.name(_worst(v)[3])


@live("own_cost", "the cost this network is trained with")
def live_own_cost(v):
    return v.net.cost.name


@live("cost_note", "a sentence when the network was trained with another cost than Σ (a − y)² (else nothing)")
def live_cost_note(v):
    if v.net.cost.name == "quadratic":
        return ""
    return (f" (The Evaluation panel's mean cost is the {v.net.cost.name} cost this network was trained with, "
            "so it is a different number.)")


def _noise(v):
    res = {r.name: r for r in noise_test(v.net, v.ctx.noise_seed)}
    return res["random noise"]


@live("noise_guess", "the digit the network answers for random noise")
def live_noise_guess(v):
    return v.name(_noise(v).digit)


@live("noise_confidence", "the activation of that answer")
def live_noise_confidence(v):
    return fmt(_noise(v).confidence, 3)


# ----------------------------------------------------------------------- one neuron (diagram)
@live("neuron", "the highlighted neuron's index in its layer")
def live_neuron(v):
    return str(v.neuron[1])


@live("neuron_layer", "the highlighted neuron's layer, e.g. 'hidden 1'")
def live_neuron_layer(v):
    return layer_name(v.net.sizes, v.neuron[0])


def _neuron_parts(v):
    layer, j = v.neuron
    a_prev = v.fwd.activations[layer - 1][0]
    w = v.net.weights[layer - 1][j]
    b = float(v.net.biases[layer - 1][j])
    s = float(w @ a_prev)
    return s, b, s + b, float(v.fwd.activations[layer][0, j])


@live("neuron_weighted_sum", "its weighted sum w·a of the previous layer (before the bias)")
def live_neuron_weighted_sum(v):
    return fmt(_neuron_parts(v)[0], 3)


@live("neuron_bias", "its bias b")
def live_neuron_bias(v):
    return fmt(_neuron_parts(v)[1], 3)


@live("neuron_z", "z = w·a + b")
def live_neuron_z(v):
    return fmt(_neuron_parts(v)[2], 3)


@live("neuron_activation", "its activation σ(z)")
def live_neuron_activation(v):
    return fmt(_neuron_parts(v)[3], 3)


# ----------------------------------------------------------------------- the playground
@live("preset", "the playground's function, e.g. 'elongated valley'")
def live_preset(v):
    return v.fn.name.lower()


@live("eta", "the playground's learning rate")
def live_eta(v):
    return fmt(v.eta, 3)


_REGIME_WORDS = {"crawls": "too small", "good": "a good size", "overshoots": "too large", "diverges": "far too large"}


@live("regime", "what that learning rate is for this function: too small / a good size / too large / far too large")
def live_regime(v):
    return _REGIME_WORDS[v.fn.regime(v.eta).key]


@live("eta_crawls", "below this learning rate it crawls")
def live_eta_crawls(v):
    return fmt(v.fn.regimes()[1].low, 2)


@live("eta_overshoots", "above this it overshoots (zig-zags)")
def live_eta_overshoots(v):
    return fmt(v.fn.regimes()[2].low, 2)


@live("eta_diverges", "above this (2 ÷ curvature) it diverges")
def live_eta_diverges(v):
    return fmt(v.fn.stability_bound, 2)


@live("descent", "how gradient descent with that learning rate ends, e.g. 'reaches the bottom in 47 steps'")
def live_descent(v):
    start = v.ctx.start if v.ctx.start is not None else v.fn.start
    run = DescentRun(v.fn, start, v.eta, max_steps=3000).run()
    if run.status == "converged":
        return f"reaches the bottom in {_count(run.steps_done)} steps"
    if run.status == "diverged":
        return "never settles: it diverges"
    return f"is still crawling after {_count(run.steps_done)} steps"


# ----------------------------------------------------------------------- SGD on the real network
@live("batch_size", "the real trainer's mini-batch size")
def live_batch_size(v):
    return _count(v.ctx.training_batch_size or 10)


@live("batches_per_epoch", "mini-batches in one pass over the training images")
def live_batches_per_epoch(v):
    return _count(math.ceil(v.ds.n_train / (v.ctx.training_batch_size or 10)))


@live("batch_cosine", "how well one mini-batch's downhill direction agrees with the full one (cosine)")
def live_batch_cosine(v):
    key = v._key("full-gradient")
    if key not in v.cache:
        X, y = v.ds.train_x, np.asarray(v.ds.train_labels)
        total = None
        for i in range(0, len(X), v.CHUNK):
            gw, gb = v.q.backprop(X[i:i + v.CHUNK], y[i:i + v.CHUNK])
            g = v.q.flat_gradient(gw, gb) * len(y[i:i + v.CHUNK])
            total = g if total is None else total + g
        v._remember(key, total / len(X))
    full = v.cache[key]
    Xb, yb = v.batch
    gw, gb = v.q.backprop(Xb, yb)
    g = v.q.flat_gradient(gw, gb)
    den = float(np.linalg.norm(g) * np.linalg.norm(full))
    return fmt(float(g @ full) / den, 2) if den else MISSING


# ----------------------------------------------------------------------- backprop
@live("explorer_batch_size", "examples in the Backprop explorer's mini-batch")
def live_explorer_batch_size(v):
    return _count(len(v.batch[1]))


@live("step_eta", "the Backprop explorer's learning rate")
def live_step_eta(v):
    return fmt(v.ctx.explorer_eta, 3)


@live("step_cost_before", "the mini-batch's average cost before one step")
def live_step_cost_before(v):
    return fmt(v.step.batch_cost_before, 4)


@live("step_cost_after", "…and after it")
def live_step_cost_after(v):
    return fmt(v.step.batch_cost_after, 4)


def _top(v):
    X, y = v.batch
    pn = parameter_nudges(v.q, X, y, top=1)
    i = int(pn.top[0])
    return ParamRef.from_flat(v.net.sizes, i), float(pn.neg_grad[i])


@live("top_param", "the parameter with the largest entry of −∇C")
def live_top_param(v):
    return _top(v)[0].describe(v.net.sizes)


@live("top_param_change", "that entry of −∇C")
def live_top_param_change(v):
    return fmt(_top(v)[1], 3, plus=True)


@live("focus", "the output neuron the explorer explains")
def live_focus(v):
    return v.name(v.focus)


@live("out_a", "its activation a")
def live_out_a(v):
    return fmt(v.three.a, 3)


@live("out_desired", "its desired nudge −∂C/∂a = −2(a − y)")
def live_out_desired(v):
    return fmt(v.three.desired, 4, plus=True)


@live("out_bias", "its bias b")
def live_out_bias(v):
    return fmt(v.three.bias, 3)


@live("bright_prev", "the brightest neuron of the layer before it")
def live_bright_prev(v):
    return str(int(np.argmax(v.three.prev_activations)))


@live("bright_prev_a", "that neuron's activation")
def live_bright_prev_a(v):
    return fmt(float(np.max(v.three.prev_activations)), 3)


@live("bright_prev_w", "its weight into the explained neuron")
def live_bright_prev_w(v):
    return fmt(float(v.three.weights[int(np.argmax(v.three.prev_activations))]), 3)


def _most_down(v):
    d = v.nud.desired[-1].copy()
    d[v.desired] = np.inf
    k = int(np.argmin(d))
    return k, float(d[k])


@live("most_down", "the output neuron that most wants to go down")
def live_most_down(v):
    return v.name(_most_down(v)[0])


@live("most_down_desired", "its desired nudge")
def live_most_down_desired(v):
    return fmt(_most_down(v)[1], 4, plus=True)


def _hidden_top(v):
    d = v.nud.desired[-2]
    k = int(np.argmax(np.abs(d)))
    return k, float(d[k])


@live("hidden_top", "the last hidden layer's neuron with the largest desired nudge")
def live_hidden_top(v):
    if len(v.net.sizes) < 3:
        raise _Missing
    return str(_hidden_top(v)[0])


@live("hidden_top_desired", "its desired nudge (the sum of what every output asks of it)")
def live_hidden_top_desired(v):
    if len(v.net.sizes) < 3:
        raise _Missing
    return fmt(_hidden_top(v)[1], 4, plus=True)


@live("param", "the explained weight or bias, in words")
def live_param(v):
    return v.ref.describe(v.net.sizes)


def _batch_changes(v):
    X, y = v.batch
    return batch_nudges(v.q, X, y, v.ref)


@live("batch_avg_change", "the average of the mini-batch's desired changes to it (the step's direction)")
def live_batch_avg_change(v):
    return fmt(_batch_changes(v).average, 3, plus=True)


@live("batch_min_change", "the smallest desired change in the mini-batch")
def live_batch_min_change(v):
    return fmt(float(_batch_changes(v).changes.min()), 3, plus=True)


@live("batch_max_change", "the largest desired change in the mini-batch")
def live_batch_max_change(v):
    return fmt(float(_batch_changes(v).changes.max()), 3, plus=True)


@live("batch_agree", "how many examples want it to move the way the average does")
def live_batch_agree(v):
    bn = _batch_changes(v)
    return _count(int((np.sign(bn.changes) == np.sign(bn.average)).sum()))


@live("batch_direction", "'go up' or 'go down': the average's direction")
def live_batch_direction(v):
    return "go up" if _batch_changes(v).average >= 0 else "go down"


@live("cr_a_prev", "chain rule: the activation the weight multiplies")
def live_cr_a_prev(v):
    return fmt(v.chain.a_prev, 3)


@live("cr_fprime", "chain rule: σ′(z)")
def live_cr_fprime(v):
    return fmt(v.chain.fprime, 3)


@live("cr_dC_da", "chain rule: ∂C/∂a")
def live_cr_dC_da(v):
    return fmt(v.chain.dC_da, 4)


@live("cr_product", "chain rule: the product, ∂C/∂w")
def live_cr_product(v):
    return fmt(v.chain.product, 4)


@live("cr_numerical", "the same derivative measured by nudging the weight")
def live_cr_numerical(v):
    return fmt(v.chain.numerical, 4)


@live("cr_error", "the difference between the two")
def live_cr_error(v):
    return fmt(v.chain.error, 1)


# ----------------------------------------------------------------------- training
@live("train_eta", "the real trainer's learning rate")
def live_train_eta(v):
    return fmt(v.ctx.training_learning_rate or 1.5, 3)


def live_values(ctx: LiveContext, names, cache: dict | None = None) -> dict[str, str]:
    """The live values ``names`` for ``ctx`` (a value that cannot be computed yet is "—")."""
    v = Live(ctx, cache)
    return {n: v.value(n) for n in names}
