"""A plain feed-forward network, as in 3Blue1Brown's "Neural networks" chapters.

Layer l holds activations a⁽ˡ⁾.  The next layer's weighted sums are
z⁽ˡ⁺¹⁾ = W⁽ˡ⁺¹⁾ a⁽ˡ⁾ + b⁽ˡ⁺¹⁾, and its activations a⁽ˡ⁺¹⁾ = f(z⁽ˡ⁺¹⁾).  Hidden layers use
the chosen activation (sigmoid by default); the output layer always uses the sigmoid, so
every output activation lies between 0 and 1 as in the videos (and cross-entropy is
well defined).

Storage: each layer's weights and bias live together in one array of shape
(n_in + 1, n_out): row i holds the weights *from* input neuron i, and the last row holds
the biases (the "ones column" trick, stored transposed because ``a @ P`` is the fastest
product for a small batch).  ``weights[l]`` (shaped (n_out, n_in), as in the videos'
W a + b) and ``biases[l]`` are *views* into it, so the fast trainer updates both with one operation and anyone holding
``net.weights`` sees the live values.  Modify them in place (``net.weights[0][...] = w``)
or with :meth:`Network.set_parameters`.

Inputs are batches X of shape (N, n_in).  Float arrays are used as they are (activations
between 0 and 1); uint8 arrays (raw pixels) are scaled by 1/255.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnstudio.limits import check_network

from .activations import Activation, get_activation
from .costs import Cost, CrossEntropy, get_cost

DEFAULT_SIZES = (784, 16, 16, 10)
INITS = ("scaled", "normal")


def as_inputs(X) -> np.ndarray:
    """A batch of inputs as float64 activations: uint8 pixels are scaled by 1/255."""
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[None, :]
    if X.dtype == np.uint8:
        return X * (1.0 / 255.0)
    return X.astype(np.float64, copy=False)


def as_targets(Y, n_out: int) -> np.ndarray:
    """Desired outputs: integer labels become one-hot rows (1 for the digit, 0 elsewhere)."""
    Y = np.asarray(Y)
    if Y.ndim == 0:
        Y = Y[None]
    if Y.ndim == 1:
        labels = Y.astype(np.intp)
        if labels.size and (labels.min() < 0 or labels.max() >= n_out):
            raise ValueError(f"labels must lie in 0..{n_out - 1}")
        out = np.zeros((labels.size, n_out))
        out[np.arange(labels.size), labels] = 1.0
        return out
    if Y.ndim != 2 or Y.shape[1] != n_out:
        raise ValueError(f"targets must be labels (N,) or one-hot rows (N, {n_out}), got {Y.shape}")
    return Y.astype(np.float64, copy=False)


@dataclass
class ForwardPass:
    """Everything one forward pass computed, per layer (index 0 is the input layer)."""

    zs: list  # zs[l] for l = 1..L, stored at index l - 1: shape (N, n_l)
    activations: list  # activations[0] = inputs, activations[l] = f(z_l): shape (N, n_l)

    @property
    def output(self) -> np.ndarray:
        return self.activations[-1]


@dataclass
class BackpropDetails:
    """Per-example quantities of backpropagation, for the views that explain it.

    For each example i (its *own* cost C_i, not divided by N):

    - ``dC_da[l]``: ∂C_i/∂a for the neurons of layer l + 1 (the "desired nudges", with a
      minus sign: a neuron wants to move by −∂C/∂a);
    - ``deltas[l]``: ∂C_i/∂z = ∂C_i/∂a · f'(z) for layer l + 1;
    - gradients follow as ∂C_i/∂W = δ ⊗ a_prev and ∂C_i/∂b = δ.
    """

    forward: ForwardPass
    targets: np.ndarray
    costs: np.ndarray  # (N,) each example's cost
    dC_da: list
    deltas: list


class Network:
    """A feed-forward network of any layer sizes (default 784-16-16-10)."""

    def __init__(
        self,
        sizes=DEFAULT_SIZES,
        activation: str | Activation = "sigmoid",
        cost: str | Cost = "quadratic",
        init: str = "scaled",
        seed: int | None = None,
    ):
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"a network needs at least two layers of size >= 1, got {sizes}")
        if init not in INITS:
            raise ValueError(f"unknown initialisation {init!r}; choose one of: {', '.join(INITS)}")
        check_network(sizes)  # (LimitError, a ValueError, before anything is allocated)
        self.sizes = sizes
        self.activation = get_activation(activation)
        self.output_activation = get_activation("sigmoid")
        self.cost = get_cost(cost)
        self.init = init
        self._allocate()
        self.initialize(seed)

    # ------------------------------------------------------------------ parameters
    def initialize(self, seed: int | np.random.Generator | None = None) -> None:
        """Fresh random weights and biases.

        ``"scaled"`` (the default) draws each weight from N(0, 1/n_in), so a neuron's
        weighted sum starts with a spread of about 1 whatever its fan-in and the sigmoid
        does not start saturated; it learns faster and ends a little better than the
        book's first choice.  ``"normal"`` is that first choice: every weight N(0, 1).
        Biases are N(0, 1) in both.
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        for p in self.params:
            n_in, n_out = p.shape[0] - 1, p.shape[1]
            scale = 1.0 / np.sqrt(n_in) if self.init == "scaled" else 1.0
            p[:-1].T[...] = rng.standard_normal((n_out, n_in)) * scale
            p[-1] = rng.standard_normal(n_out)

    @property
    def weights(self) -> list[np.ndarray]:
        """Per layer, the weights shaped (n_out, n_in): live views, modify in place."""
        return [p[:-1].T for p in self.params]

    @property
    def biases(self) -> list[np.ndarray]:
        """Per layer, the biases shaped (n_out,): live views, modify in place."""
        return [p[-1] for p in self.params]

    @property
    def n_params(self) -> int:
        """The number of weights and biases (13,002 for 784-16-16-10)."""
        return sum(p.size for p in self.params)

    def set_parameters(self, weights, biases) -> None:
        weights, biases = list(weights), list(biases)
        if len(weights) != len(self.params) or len(biases) != len(self.params):
            raise ValueError("wrong number of layers")
        for p, w, b in zip(self.params, weights, biases):
            w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if w.shape != (p.shape[1], p.shape[0] - 1) or b.shape != (p.shape[1],):
                raise ValueError(f"shape mismatch: expected {p.shape[1]}x{p.shape[0] - 1}")
        for p, w, b in zip(self.params, weights, biases):
            p[:-1].T[...] = w
            p[-1] = b

    def get_params(self) -> list[np.ndarray]:
        """A copy of all parameters (one (n_in + 1, n_out) array per layer, biases last)."""
        return [p.copy() for p in self.params]

    def set_params(self, params) -> None:
        for p, q in zip(self.params, params, strict=True):
            p[...] = q

    def flat_parameters(self) -> np.ndarray:
        """All weights and biases as one vector: per layer, its weights row by row then its biases."""
        return np.concatenate([np.concatenate([p[:-1].T.ravel(), p[-1]]) for p in self.params])

    def set_flat_parameters(self, vector) -> None:
        vector = np.asarray(vector, dtype=np.float64)
        if vector.shape != (self.n_params,):
            raise ValueError(f"expected {self.n_params} parameters, got {vector.shape}")
        i = 0
        for p in self.params:
            n_in, n_out = p.shape[0] - 1, p.shape[1]
            p[:-1].T[...] = vector[i : i + n_in * n_out].reshape(n_out, n_in)
            i += n_in * n_out
            p[-1] = vector[i : i + n_out]
            i += n_out

    def flat_gradient(self, grad_weights, grad_biases) -> np.ndarray:
        """Gradients laid out like :meth:`flat_parameters`."""
        return np.concatenate([np.concatenate([w.ravel(), b]) for w, b in zip(grad_weights, grad_biases)])

    def __getstate__(self):
        # params are views into one buffer: pickle the buffer, rebuild the views
        return {"sizes": self.sizes, "activation": self.activation, "output_activation": self.output_activation,
                "cost": self.cost, "init": self.init, "buffer": self.buffer}

    def __setstate__(self, state):
        buffer = state.pop("buffer")
        self.__dict__.update(state)
        self._allocate(np.ascontiguousarray(buffer, dtype=np.float64))

    def copy(self) -> "Network":
        other = Network.__new__(Network)
        other.sizes = self.sizes
        other.activation = self.activation
        other.output_activation = self.output_activation
        other.cost = self.cost
        other.init = self.init
        other._allocate(self.buffer.copy())
        return other

    def _allocate(self, buffer: np.ndarray | None = None) -> None:
        """All parameters live in one flat buffer; ``params[l]`` are views into it, so the
        trainer can update every layer with a single addition."""
        shapes = [(n_in + 1, n_out) for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:])]
        total = sum(a * b for a, b in shapes)
        self.buffer = np.zeros(total) if buffer is None else buffer
        self.params, i = [], 0
        for shape in shapes:
            n = shape[0] * shape[1]
            self.params.append(self.buffer[i : i + n].reshape(shape))
            i += n

    def layer_activation(self, layer: int) -> Activation:
        """Activation of weight layer ``layer`` (0 = first hidden layer, last = output)."""
        return self.output_activation if layer == len(self.params) - 1 else self.activation

    def describe(self) -> str:
        return (
            f"{'-'.join(map(str, self.sizes))} {self.activation.name} network, "
            f"{self.cost.name} cost, {self.n_params:,} weights and biases"
        )

    def __repr__(self) -> str:
        return f"<Network {self.describe()}>"

    # ------------------------------------------------------------------ forward
    def forward(self, X) -> ForwardPass:
        """Every layer's weighted sums z and activations a for a batch X of shape (N, n_in)."""
        a = as_inputs(X)
        if a.shape[1] != self.sizes[0]:
            raise ValueError(f"inputs have {a.shape[1]} values, the network expects {self.sizes[0]}")
        zs, acts = [], [a]
        # extreme (but finite) weights may overflow: inf and NaN are the honest answer (the
        # views clip them, the trainer reports a divergence), not a warning
        with np.errstate(over="ignore", invalid="ignore"):
            for l, p in enumerate(self.params):
                z = a @ p[:-1]
                z += p[-1]
                a = self.layer_activation(l)(z)
                zs.append(z)
                acts.append(a)
        return ForwardPass(zs, acts)

    def feedforward(self, X) -> np.ndarray:
        """Output activations (N, n_out) for a batch X of shape (N, n_in)."""
        return self.forward(X).output

    def predict(self, X) -> np.ndarray:
        """The digit each input is read as: the brightest output neuron."""
        return np.argmax(self.feedforward(X), axis=1)

    def cost_of(self, X, Y) -> float:
        """Mean cost over the examples."""
        out = self.feedforward(X)
        return self.cost.mean(out, as_targets(Y, self.sizes[-1]))

    def evaluate(self, X, labels, batch: int = 10_000) -> tuple[float, float]:
        """(accuracy as a fraction, mean cost) on labelled examples."""
        labels = np.asarray(labels)
        if len(labels) == 0:
            return 0.0, 0.0
        correct, total_cost = 0, 0.0
        for i in range(0, len(labels), batch):
            out = self.feedforward(X[i : i + batch])
            lab = labels[i : i + batch]
            correct += int(np.count_nonzero(out.argmax(axis=1) == lab))
            total_cost += float(self.cost.per_example(out, as_targets(lab, self.sizes[-1])).sum())
        return correct / len(labels), total_cost / len(labels)

    # ------------------------------------------------------------------ backward
    def backprop_details(self, X, Y) -> BackpropDetails:
        """Per-example backpropagation: each example's ∂C/∂a and ∂C/∂z for every layer."""
        fp = self.forward(X)
        y = as_targets(Y, self.sizes[-1])
        if len(y) != len(fp.output):
            raise ValueError("inputs and targets differ in number")
        aL, zL = fp.activations[-1], fp.zs[-1]
        dC_da = self.cost.derivative(aL, y)
        if isinstance(self.cost, CrossEntropy):
            delta = aL - y  # the sigmoid's σ' cancels the cost's denominator exactly
        else:
            delta = dC_da * self.output_activation.derivative(zL, aL)
        dadz, deltas = [dC_da], [delta]
        for l in range(len(self.params) - 1, 0, -1):
            da = delta @ self.params[l][:-1].T
            delta = da * self.layer_activation(l - 1).derivative(fp.zs[l - 1], fp.activations[l])
            dadz.insert(0, da)
            deltas.insert(0, delta)
        costs = self.cost.per_example(aL, y)
        return BackpropDetails(fp, y, costs, dadz, deltas)

    def backprop(self, X, Y) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Gradient of the *mean* cost over the batch: (grad_weights, grad_biases)."""
        d = self.backprop_details(X, Y)
        n = len(d.targets)
        gw = [(delta.T @ a) / n for delta, a in zip(d.deltas, d.forward.activations[:-1])]
        gb = [delta.mean(axis=0) for delta in d.deltas]
        return gw, gb

    def per_example_gradients(self, X, Y) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Each example's own gradient: weights (N, n_out, n_in) and biases (N, n_out) per layer.

        Their average over the examples is :meth:`backprop`.
        """
        d = self.backprop_details(X, Y)
        gw = [np.einsum("ni,nj->nij", delta, a) for delta, a in zip(d.deltas, d.forward.activations[:-1])]
        gb = [delta.copy() for delta in d.deltas]
        return gw, gb
