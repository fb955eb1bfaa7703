"""Which neurons matter: the test accuracy with one hidden neuron switched off, for each neuron.

**Switched off** means what the videos' picture suggests: the neuron's activation counts as 0 for
everything after it.  The next layer's weighted sums are z = Σₖ wₖ aₖ + b, so a neuron whose
activation is 0 adds nothing to them; that is exactly what setting its *outgoing* weights to 0
does (:func:`switch_off`).  Its own weighted sum and activation are unchanged (it still "sees" the
input the same way), but nobody downstream hears it.  Output neurons have no outgoing weights:
they cannot be switched off this way (their activation *is* the answer).

:func:`ablation` computes, for every neuron of a hidden layer, the accuracy of the network with
that one neuron switched off: one forward pass up to the layer, then the rest of the network once
per neuron with that neuron's activation set to 0.  Setting an activation to 0 and setting its
outgoing weights to 0 give the same numbers (the same products, a 0 term either way), so the
chart equals switching each neuron off and evaluating the network (tests/components/test_ablation.py).

Qt-free and cancellable (``should_stop`` between neurons): the GUI runs it off its thread.
"""

from __future__ import annotations

import numpy as np

from nnstudio._cancel import Cancelled
from nnstudio.core.network import as_inputs

#: rows per forward pass (bounded memory for a large test split)
CHUNK = 2000


def hidden_layer(sizes, layer: int) -> bool:
    """Is diagram layer ``layer`` (0 = input, len(sizes) - 1 = output) a hidden layer?"""
    return 0 < int(layer) < len(sizes) - 1


def switch_off(params, layer: int, index: int) -> list[np.ndarray]:
    """A copy of ``params`` (``Network.get_params()`` layout) with neuron ``index`` of hidden layer
    ``layer`` switched off: its outgoing weights set to 0."""
    out = [np.array(p, dtype=np.float64, copy=True) for p in params]
    sizes = [p.shape[0] - 1 for p in out] + [out[-1].shape[1]]
    if not hidden_layer(sizes, layer):
        raise ValueError(f"only a hidden neuron can be switched off, not one of layer {layer}")
    if not 0 <= index < sizes[layer]:
        raise ValueError(f"layer {layer} has {sizes[layer]} neurons, not {index + 1}")
    out[layer][index, :] = 0.0  # row `index` of the next weight layer: the weights *from* this neuron
    return out


def is_switched_off(network, layer: int, index: int) -> bool:
    """True when the hidden neuron's outgoing weights are all 0 (nothing downstream hears it)."""
    if not hidden_layer(network.sizes, layer):
        return False
    return not np.any(network.params[layer][index, :])


def _forward_from(network, a: np.ndarray, layer: int) -> np.ndarray:
    """Activations ``a`` of diagram layer ``layer`` → the output activations."""
    with np.errstate(over="ignore", invalid="ignore"):
        for l in range(layer, len(network.params)):
            p = network.params[l]
            z = a @ p[:-1]
            z += p[-1]
            a = network.layer_activation(l)(z)
    return a


def accuracy(network, X, labels) -> float:
    """The fraction of ``X`` the network reads as its label (the brightest output neuron)."""
    labels = np.asarray(labels)
    if not len(labels):
        return 0.0
    right = sum(int(np.count_nonzero(network.predict(X[i : i + CHUNK]) == labels[i : i + CHUNK]))
                for i in range(0, len(labels), CHUNK))
    return right / len(labels)


def ablation(network, X, labels, layer: int, should_stop=None) -> np.ndarray:
    """For each neuron of hidden layer ``layer``: the accuracy on (X, labels) with that neuron
    switched off.  ``should_stop()`` is asked between neurons (raises Cancelled)."""
    if not hidden_layer(network.sizes, layer):
        raise ValueError(f"layer {layer} is not a hidden layer of a {'-'.join(map(str, network.sizes))} network")
    labels = np.asarray(labels)
    n = network.sizes[layer]
    right = np.zeros(n, dtype=np.int64)
    if not len(labels):
        return np.zeros(n)
    for i in range(0, len(labels), CHUNK):
        a = as_inputs(X[i : i + CHUNK])
        with np.errstate(over="ignore", invalid="ignore"):
            for l in range(layer):
                p = network.params[l]
                z = a @ p[:-1]
                z += p[-1]
                a = network.layer_activation(l)(z)
        lab = labels[i : i + CHUNK]
        for j in range(n):
            if should_stop is not None and should_stop():
                raise Cancelled("ablation cancelled")
            keep = a[:, j].copy()
            a[:, j] = 0.0
            out = _forward_from(network, a, layer)
            a[:, j] = keep
            right[j] += int(np.count_nonzero(out.argmax(axis=1) == lab))
    return right / len(labels)
