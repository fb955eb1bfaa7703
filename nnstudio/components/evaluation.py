"""What did the network learn?  Test-set evaluation and the probes the videos use.

Qt-free (NumPy only), so the CLI (``nnstudio evaluate``), the tests and the studio's
evaluation view all compute the same numbers with the same code:

- :func:`evaluate` runs the network over labelled images once and keeps what every view
  needs: each example's output activations, prediction, confidence (the activation of the
  winning output neuron), cost, and the confusion matrix.  :func:`evaluation_report` turns
  that into the plain dict printed by ``nnstudio evaluate --json``.
- :func:`top_activating`: for each neuron, the images that light it up most.
- :func:`input_gradient` backpropagates *to the input*: ∂a/∂x (or ∂z/∂x) of one neuron,
  using the network's own weights; :func:`maximise_activation` climbs it (projected
  gradient ascent inside the 0..1 pixel box) to find the input a neuron "wants".
- :func:`probe_images`, :func:`noise_test`, :func:`noise_examples`, :func:`noise_statistics`:
  random noise, sparse dots, a blank image, a solid square: the network still names a digit,
  often confidently.
- :func:`average_images`: the average image of each class.

Layers are numbered as in ``ForwardPass.activations``: 0 is the input layer, 1 the first
hidden layer, ``len(net.sizes) - 1`` the output layer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnstudio._cancel import Cancelled, check
from nnstudio.core.network import Network, as_targets

__all__ = [
    "Analysis", "Cancelled", "Evaluation", "MaximisedInput", "Mistake", "NoiseStatistics", "PROBES", "ProbeResult",
    "TopActivating", "analyse", "average_images", "class_indices", "confusion_matrix", "evaluate",
    "evaluation_report", "input_gradient", "layer_activations", "maximise_activation", "noise_examples", "noise_statistics",
    "noise_test", "per_class_accuracy", "probe_images", "top_activating",
]

StopCheck = Callable[[], bool] | None

#: rows per forward pass: bounds memory (a forward pass makes a float64 copy of its rows: 6 MB for
#: 1,000 MNIST images, 60 MB for 10,000) and is faster than bigger chunks (the copy stays in cache:
#: 10,000 test images in ~15 ms instead of ~20)
CHUNK = 1000


def _check(should_stop: StopCheck) -> None:
    check(should_stop)


# --------------------------------------------------------------------------- confusion / accuracy
def confusion_matrix(labels, predictions, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    labels = np.asarray(labels).astype(np.intp).ravel()
    predictions = np.asarray(predictions).astype(np.intp).ravel()
    if labels.shape != predictions.shape:
        raise ValueError(f"{labels.size} labels but {predictions.size} predictions")
    for name, v in (("labels", labels), ("predictions", predictions)):
        if v.size and (v.min() < 0 or v.max() >= n_classes):
            raise ValueError(f"{name} must lie in 0..{n_classes - 1}")
    flat = np.bincount(labels * n_classes + predictions, minlength=n_classes * n_classes)
    return flat[: n_classes * n_classes].reshape(n_classes, n_classes).astype(np.int64)


def per_class_accuracy(confusion) -> list[float | None]:
    """Fraction of each true class read correctly (None for a class with no examples)."""
    confusion = np.asarray(confusion)
    totals = confusion.sum(axis=1)
    return [float(confusion[i, i] / totals[i]) if totals[i] else None for i in range(len(confusion))]


@dataclass(frozen=True)
class Mistake:
    index: int  # index in the evaluated split
    label: int  # the true class
    predicted: int  # what the network read it as
    confidence: float  # activation of the winning output neuron (0..1)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """One pass of a network over labelled examples."""

    outputs: np.ndarray  # (N, n_out) output activations
    labels: np.ndarray  # (N,) true classes
    predictions: np.ndarray  # (N,) brightest output neuron
    costs: np.ndarray  # (N,) each example's cost
    confusion: np.ndarray  # (n_classes, n_classes) counts: row true, column predicted
    hidden: dict = field(default_factory=dict)  # layer -> (N, n_layer) activations, when kept
    hidden_z: dict = field(default_factory=dict)  # layer -> (N, n_layer) weighted sums z, when kept

    @property
    def n_classes(self) -> int:
        return len(self.confusion)

    @property
    def total(self) -> int:
        return int(len(self.labels))

    @property
    def correct(self) -> int:
        return int(np.trace(self.confusion))

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(1, len(self.labels)))

    @property
    def mean_cost(self) -> float:
        return float(self.costs.mean()) if len(self.costs) else 0.0

    @property
    def per_digit(self) -> list[float | None]:
        return per_class_accuracy(self.confusion)

    @property
    def confidences(self) -> np.ndarray:
        """(N,) activation of each example's winning output neuron."""
        if not len(self.predictions):
            return np.zeros(0)
        return self.outputs[np.arange(len(self.predictions)), self.predictions]

    def report(self) -> dict:
        """The plain dict of ``nnstudio evaluate --json`` (JSON-ready Python numbers)."""
        return {
            "accuracy": self.accuracy,
            "correct": self.correct,
            "total": self.total,
            "mean_cost": self.mean_cost,
            "per_digit": self.per_digit,
            "confusion": self.confusion.tolist(),
        }

    def misclassified_indices(self, order: str = "confidence", descending: bool = True) -> np.ndarray:
        """Indices of the wrongly read examples.

        ``order``: ``"confidence"`` (most confident mistakes first by default), ``"label"``
        (by true class, then confidence), ``"predicted"`` or ``"index"``.
        """
        wrong = np.flatnonzero(self.predictions != self.labels)
        return self._sorted(wrong, order, descending)

    def misclassified(self, order: str = "confidence", descending: bool = True) -> list[Mistake]:
        conf = self.confidences
        return [
            Mistake(int(i), int(self.labels[i]), int(self.predictions[i]), float(conf[i]))
            for i in self.misclassified_indices(order, descending)
        ]

    def cell(self, true: int, predicted: int, descending: bool = True) -> np.ndarray:
        """Indices of the examples counted in confusion cell (true, predicted), most confident first."""
        idx = np.flatnonzero((self.labels == true) & (self.predictions == predicted))
        return self._sorted(idx, "confidence", descending)

    def _sorted(self, idx: np.ndarray, order: str, descending: bool) -> np.ndarray:
        if not len(idx):
            return idx
        conf = self.confidences[idx]
        if order == "confidence":
            key = np.lexsort((idx, -conf if descending else conf))
        elif order == "label":
            key = np.lexsort((idx, -conf if descending else conf, self.labels[idx]))
        elif order == "predicted":
            key = np.lexsort((idx, -conf if descending else conf, self.predictions[idx]))
        elif order == "index":
            key = np.argsort(idx)
        else:
            raise ValueError(f"unknown order {order!r}; choose confidence, label, predicted or index")
        return idx[key]


def evaluate(
    net: Network,
    images,
    labels,
    n_classes: int | None = None,
    *,
    keep_hidden: bool = False,
    should_stop: StopCheck = None,
    chunk: int = CHUNK,
) -> Evaluation:
    """Run ``net`` over labelled images ((N, 28, 28) or (N, 784); uint8 pixels or floats 0..1).

    ``keep_hidden`` keeps every hidden and output layer's activations (for
    :func:`top_activating`).  ``should_stop`` is polled between chunks; when it returns
    True the work stops with :class:`Cancelled`.
    """
    images = np.asarray(images)
    x = images.reshape(len(images), -1)
    labels = np.asarray(labels).astype(np.intp).ravel()
    n_out = net.sizes[-1]
    n_classes = n_out if n_classes is None else int(n_classes)
    if len(x) != len(labels):
        raise ValueError(f"{len(x)} images but {len(labels)} labels")
    if n_classes != n_out:
        raise ValueError(f"the network has {n_out} output neurons but the data has {n_classes} classes")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    outputs = np.empty((len(x), n_out))
    hidden = {l: np.empty((len(x), n)) for l, n in enumerate(net.sizes) if l > 0} if keep_hidden else {}
    hidden_z = {l: np.empty_like(a) for l, a in hidden.items()}
    chunk = max(1, chunk)
    for i in range(0, len(x), chunk):
        _check(should_stop)
        fp = net.forward(x[i : i + chunk])
        outputs[i : i + chunk] = fp.output
        for l, store in hidden.items():
            store[i : i + chunk] = fp.activations[l]
            hidden_z[l][i : i + chunk] = fp.zs[l - 1]
    _check(should_stop)
    predictions = outputs.argmax(axis=1) if len(outputs) else np.zeros(0, dtype=np.intp)
    costs = net.cost.per_example(outputs, as_targets(labels, n_out)) if len(labels) else np.zeros(0)
    return Evaluation(
        outputs=outputs, labels=labels, predictions=predictions, costs=costs,
        confusion=confusion_matrix(labels, predictions, n_classes), hidden=hidden, hidden_z=hidden_z,
    )


def evaluation_report(net: Network, images, labels, n_classes: int = 10) -> dict:
    """Accuracy, per-digit accuracy, confusion matrix and mean cost, as ``nnstudio evaluate --json`` prints them.

    Keys: ``accuracy`` (fraction), ``correct``, ``total``, ``mean_cost`` (mean over the
    examples of C = Σ (a − y)² for the quadratic cost), ``per_digit`` (fraction per class,
    None for an empty class), ``confusion`` (rows true, columns predicted).
    """
    return evaluate(net, images, labels, n_classes).report()


# --------------------------------------------------------------------------- hidden neurons
def layer_activations(net: Network, images, layer: int, chunk: int = CHUNK) -> np.ndarray:
    """(N, n_layer) activations of layer ``layer`` (1 = first hidden layer) for each image."""
    _check_layer(net, layer)
    x = np.asarray(images)
    x = x.reshape(len(x), -1)
    out = np.empty((len(x), net.sizes[layer]))
    for i in range(0, len(x), chunk):
        out[i : i + chunk] = net.forward(x[i : i + chunk]).activations[layer]
    return out


@dataclass(frozen=True)
class TopActivating:
    layer: int
    indices: np.ndarray  # (n_neurons, k) example indices, strongest first
    activations: np.ndarray  # (n_neurons, k) their activations


def top_activating(activations, k: int = 6, layer: int = 0, scores=None) -> TopActivating:
    """For each neuron (column of ``activations`` (N, n)), the k examples that activate it most.

    ``scores`` (same shape) ranks the examples instead of the activations: pass the
    weighted sums z, which keep ordering examples where a sigmoid has saturated at 1.
    """
    a = np.asarray(activations, dtype=np.float64)
    s = a if scores is None else np.asarray(scores, dtype=np.float64)
    if s.shape != a.shape:
        raise ValueError("scores and activations differ in shape")
    n_ex, n = a.shape
    k = max(0, min(int(k), n_ex))
    if k == 0:
        return TopActivating(layer, np.zeros((n, 0), dtype=np.intp), np.zeros((n, 0)))
    part = np.argpartition(-s, k - 1, axis=0)[:k].T  # (n, k) unordered
    vals = np.take_along_axis(s.T, part, axis=1)
    order = np.lexsort((part, -vals), axis=-1)  # strongest first, ties by index
    idx = np.take_along_axis(part, order, axis=1).astype(np.intp)
    return TopActivating(layer, idx, np.take_along_axis(a.T, idx, axis=1))


def _check_layer(net: Network, layer: int) -> None:
    if not 1 <= layer < len(net.sizes):
        raise ValueError(f"layer must be 1..{len(net.sizes) - 1} (0 is the input), got {layer}")


def input_gradient(net: Network, X, layer: int, neurons, of: str = "activation"):
    """Backpropagate one neuron per row back to the input.

    ``X`` (N, n_in); ``neurons``: an int, or one neuron index per row.  Returns
    ``(values, grads)``: the neuron's activation (``of="activation"``) or weighted sum
    (``of="z"``) for each row, shape (N,), and its gradient with respect to that row's
    input pixels, shape (N, n_in).  It is the chain rule of backpropagation with the
    network's own weights, stopped at the input instead of at the weights:
    ∂a/∂x = f'(z) · W⁽ˡ⁾ ... f'(z⁽¹⁾) · W⁽¹⁾.
    """
    _check_layer(net, layer)
    if of not in ("activation", "z"):
        raise ValueError("of must be 'activation' or 'z'")
    fp = net.forward(X)
    n = len(fp.activations[0])
    rows = np.arange(n)
    neurons = np.broadcast_to(np.asarray(neurons, dtype=np.intp), (n,))
    z = fp.zs[layer - 1]
    a = fp.activations[layer]
    delta = np.zeros_like(z)
    if of == "z":
        values = z[rows, neurons].copy()
        delta[rows, neurons] = 1.0
    else:
        values = a[rows, neurons].copy()
        delta[rows, neurons] = net.layer_activation(layer - 1).derivative(z, a)[rows, neurons]
    for i in range(layer - 1, -1, -1):
        da = delta @ net.params[i][:-1].T  # ∂value/∂activations[i]
        if i == 0:
            return values, da
        delta = da * net.layer_activation(i - 1).derivative(fp.zs[i - 1], fp.activations[i])
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class MaximisedInput:
    layer: int
    neurons: np.ndarray  # (n,) which neurons
    pixels: np.ndarray  # (n, n_in) the input found for each, 0..1
    activations: np.ndarray  # (n,) each neuron's activation on its input
    blank_activations: np.ndarray  # (n,) each neuron's activation on a blank (all-zero) input
    steps: int


def maximise_activation(
    net: Network,
    layer: int,
    neurons=None,
    *,
    steps: int = 150,
    step_size: float = 0.25,
    seed: int = 0,
    should_stop: StopCheck = None,
) -> MaximisedInput:
    """The input that makes each neuron of ``layer`` fire most, by gradient ascent on the input.

    Each neuron gets its own image (all neurons are climbed together, one row each).  We
    start from a dim grey with a little noise, and at every step move every pixel along
    ∂z/∂x (z, the neuron's weighted sum, grows with its activation and its gradient does
    not vanish when the activation nears 1), with normalised steps that shrink over time,
    keeping pixels inside 0..1.  The best image seen is returned.  Nothing makes the result
    look like a stroke: it shows honestly what the neuron responds to.
    """
    _check_layer(net, layer)
    if neurons is None:
        neurons = np.arange(net.sizes[layer])
    neurons = np.atleast_1d(np.asarray(neurons, dtype=np.intp))
    if neurons.size and (neurons.min() < 0 or neurons.max() >= net.sizes[layer]):
        raise ValueError(f"layer {layer} has neurons 0..{net.sizes[layer] - 1}")
    n, n_in = len(neurons), net.sizes[0]
    rng = np.random.default_rng(seed)
    x = np.clip(0.2 + 0.05 * rng.standard_normal((n, n_in)), 0.0, 1.0)
    rows = np.arange(n)
    best_x = x.copy()
    best_z = np.full(n, -np.inf)
    for t in range(max(1, steps)):
        if t % 16 == 0:
            _check(should_stop)
        z, g = input_gradient(net, x, layer, neurons, of="z")
        better = z > best_z
        best_z[better] = z[better]
        best_x[better] = x[better]
        rms = np.sqrt((g * g).mean(axis=1, keepdims=True))
        eta = step_size * 0.5 * (1.0 + math.cos(math.pi * t / max(1, steps)))  # cosine decay
        x = np.clip(x + (eta + 1e-3) * g / (rms + 1e-12), 0.0, 1.0)
    z, _ = input_gradient(net, x, layer, neurons, of="z")
    better = z > best_z
    best_x[better] = x[better]
    acts = net.forward(best_x).activations[layer][rows, neurons]
    blank = net.forward(np.zeros((1, n_in))).activations[layer][0, neurons]
    return MaximisedInput(layer, neurons, best_x, acts, blank, steps)


# --------------------------------------------------------------------------- probes
#: the inputs of the noise test, in display order
PROBES = ("random noise", "sparse dots", "blank", "solid square", "all white")

#: fraction of the pixels lit in "sparse dots" (about the ink of a handwritten digit)
SPARSE = 0.15


def _sparse_dots(rng, n: int, size: int) -> np.ndarray:
    return (rng.random((n, size)) < SPARSE) * rng.uniform(0.5, 1.0, (n, size))


def probe_images(seed: int = 0, side: int = 28) -> dict[str, np.ndarray]:
    """The noise-test inputs as flat float images 0..1: uniform random noise, sparse random dots
    (about as much ink as a digit), blank, a solid square, all white."""
    rng = np.random.default_rng(seed)
    square = np.zeros((side, side))
    lo, hi = side * 2 // 7, side - side * 2 // 7  # a 12×12 square in the middle of 28×28
    square[lo:hi, lo:hi] = 1.0
    return {
        "random noise": rng.random(side * side),
        "sparse dots": _sparse_dots(rng, 1, side * side)[0],
        "blank": np.zeros(side * side),
        "solid square": square.ravel(),
        "all white": np.ones(side * side),
    }


@dataclass(frozen=True)
class ProbeResult:
    name: str
    pixels: np.ndarray  # (n_in,) 0..1
    outputs: np.ndarray  # (n_out,) output activations
    digit: int  # the brightest output neuron
    confidence: float  # its activation


def noise_test(net: Network, seed: int = 0) -> list[ProbeResult]:
    """What the network answers for inputs that are not digits at all."""
    probes = probe_images(seed, int(round(math.sqrt(net.sizes[0]))))
    names = list(probes)
    x = np.stack([probes[k] for k in names])
    if x.shape[1] != net.sizes[0]:
        raise ValueError(f"the probes are {x.shape[1]} pixels but the network takes {net.sizes[0]} inputs")
    out = net.feedforward(x)
    return [
        ProbeResult(name, x[i], out[i], int(out[i].argmax()), float(out[i].max())) for i, name in enumerate(names)
    ]


def noise_examples(net: Network, n: int = 24, seed: int = 0) -> list[ProbeResult]:
    """``n`` random inputs (half uniform noise, half sparse dots) with the network's answers, most confident first."""
    rng = np.random.default_rng(seed + 7919)
    size = net.sizes[0]
    half = n // 2
    x = np.concatenate([rng.random((half, size)), _sparse_dots(rng, n - half, size)])
    names = [f"random noise {i + 1}" for i in range(half)] + [f"sparse dots {i + 1}" for i in range(n - half)]
    out = net.feedforward(x) if n else np.zeros((0, net.sizes[-1]))
    res = [ProbeResult(names[i], x[i], out[i], int(out[i].argmax()), float(out[i].max())) for i in range(n)]
    return sorted(res, key=lambda r: -r.confidence)


@dataclass(frozen=True)
class NoiseStatistics:
    n: int  # how many random-noise images
    counts: np.ndarray  # (n_out,) how often each class was the answer
    mean_confidence: float  # mean activation of the winning output neuron
    confident_fraction: float  # fraction answered with a winning activation above 0.5
    mean_output_sum: float  # mean of the sum of the 10 output activations (not a probability: no need to be 1)


def noise_statistics(net: Network, n: int = 1000, seed: int = 0) -> NoiseStatistics:
    """Feed ``n`` uniform random-noise images and summarise the answers."""
    rng = np.random.default_rng(seed)
    out = net.feedforward(rng.random((n, net.sizes[0])))
    win = out.max(axis=1)
    return NoiseStatistics(
        n=int(n), counts=np.bincount(out.argmax(axis=1), minlength=net.sizes[-1]).astype(np.int64),
        mean_confidence=float(win.mean()) if n else 0.0,
        confident_fraction=float((win > 0.5).mean()) if n else 0.0,
        mean_output_sum=float(out.sum(axis=1).mean()) if n else 0.0,
    )


# --------------------------------------------------------------------------- dataset
def class_indices(labels, cls: int | None = None) -> np.ndarray:
    """Indices of the examples of class ``cls`` (all examples when None), in order."""
    labels = np.asarray(labels)
    if cls is None:
        return np.arange(len(labels))
    return np.flatnonzero(labels == cls)


def average_images(images, labels, n_classes: int, should_stop: StopCheck = None) -> np.ndarray:
    """(n_classes, H, W) average image of each class, 0..1 (uint8 pixels are scaled by 1/255; zeros for an empty class)."""
    images = np.asarray(images)
    labels = np.asarray(labels)
    scale = 1.0 / 255.0 if images.dtype == np.uint8 else 1.0
    out = np.zeros((n_classes,) + images.shape[1:])
    for c in range(n_classes):
        _check(should_stop)
        mask = labels == c
        m = int(mask.sum())
        if m:
            out[c] = images[mask].sum(axis=0, dtype=np.float64) * (scale / m)
    return out


# --------------------------------------------------------------------------- everything at once
@dataclass(frozen=True, eq=False)
class Analysis:
    """Everything the evaluation view shows for one network on one split."""

    evaluation: Evaluation
    top: dict  # layer -> TopActivating (hidden and output layers)
    maximised: dict  # layer -> MaximisedInput (layers 2..L)
    probes: list  # ProbeResult of each of PROBES
    noise: NoiseStatistics
    noise_examples: list  # ProbeResult, most confident first
    seconds: float

    def report(self) -> dict:
        return self.evaluation.report()


def analyse(
    net: Network,
    images,
    labels,
    n_classes: int | None = None,
    *,
    top_k: int = 6,
    maximise_steps: int = 150,
    noise_seed: int = 0,
    should_stop: StopCheck = None,
) -> Analysis:
    """Evaluate, find each neuron's top images and maximising input, and run the noise test."""
    t0 = time.perf_counter()
    ev = evaluate(net, images, labels, n_classes, keep_hidden=True, should_stop=should_stop)
    top = {l: top_activating(a, top_k, layer=l, scores=ev.hidden_z[l]) for l, a in ev.hidden.items()}
    maximised = {}
    for l in range(2, len(net.sizes)):
        _check(should_stop)
        maximised[l] = maximise_activation(net, l, steps=maximise_steps, should_stop=should_stop)
    _check(should_stop)
    probes = noise_test(net, noise_seed)
    noise = noise_statistics(net, 1000, noise_seed)
    examples = noise_examples(net, 24, noise_seed)
    # the hidden activations were only needed for the top images: do not keep 60,000 × n per layer around
    ev = Evaluation(ev.outputs, ev.labels, ev.predictions, ev.costs, ev.confusion)
    return Analysis(ev, top, maximised, probes, noise, examples, time.perf_counter() - t0)
