"""Which neurons matter: the chart's numbers equal switching each neuron off and evaluating the network."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio._cancel import Cancelled
from nnstudio._resources import shipped_model_path
from nnstudio.components.ablation import ablation, accuracy, hidden_layer, is_switched_off, switch_off
from nnstudio.core import Network, load_model
from nnstudio.data import load_dataset


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def direct(net, X, labels, layer, j) -> float:
    """Switch neuron j off in a copy (its outgoing weights to 0) and evaluate it, the plain way."""
    off = net.copy()
    off.set_params(switch_off(net.get_params(), layer, j))
    assert is_switched_off(off, layer, j)
    return off.evaluate(X, labels)[0]


@pytest.mark.parametrize("layer", [1, 2])
def test_the_ablation_chart_equals_a_direct_computation(sample, layer):
    net = load_model(shipped_model_path())
    X, y = sample.test_x, sample.test_labels
    chart = ablation(net, X, y, layer)
    assert chart.shape == (16,)
    expected = np.array([direct(net, X, y, layer, j) for j in range(16)])
    assert np.array_equal(chart, expected)
    full = accuracy(net, X, y)
    assert full == net.evaluate(X, y)[0]
    # switching a neuron off costs the trained network accuracy on the whole, and never helps much
    assert chart.mean() < full and chart.max() <= full + 0.02
    assert full - chart.min() > 0.02  # some neuron matters


def test_ablation_in_chunks_and_any_activation(sample, monkeypatch):
    import nnstudio.components.ablation as ab

    net = Network((784, 12, 9, 10), activation="relu", seed=1)
    X, y = sample.test_x[:700], sample.test_labels[:700]
    whole = ablation(net, X, y, 2)
    monkeypatch.setattr(ab, "CHUNK", 128)
    assert np.array_equal(ablation(net, X, y, 2), whole)
    assert np.array_equal(whole, [direct(net, X, y, 2, j) for j in range(9)])


def test_only_hidden_layers_and_cancelling(sample):
    net = Network((784, 16, 10), seed=0)
    assert hidden_layer(net.sizes, 1) and not hidden_layer(net.sizes, 0) and not hidden_layer(net.sizes, 2)
    with pytest.raises(ValueError, match="not a hidden layer"):
        ablation(net, sample.test_x, sample.test_labels, 2)
    with pytest.raises(Cancelled):
        ablation(net, sample.test_x, sample.test_labels, 1, should_stop=lambda: True)
    assert accuracy(net, sample.test_x[:0], sample.test_labels[:0]) == 0.0
