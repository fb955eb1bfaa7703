"""The engine: shapes, the videos' conventions, and backprop against finite differences."""

import itertools

import numpy as np
import pytest

from nnstudio.core import Network, gradient_check, numerical_gradient
from nnstudio.core.activations import ACTIVATIONS


def small_batch(n_in=6, n_out=4, n=9, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_in)), rng.integers(0, n_out, n)


def test_default_is_the_videos_network():
    net = Network(seed=0)
    assert net.sizes == (784, 16, 16, 10)
    assert net.n_params == 13_002
    assert [w.shape for w in net.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.biases] == [(16,), (16,), (10,)]
    assert net.activation.name == "sigmoid" and net.cost.name == "quadratic"


def test_weights_and_biases_are_live_views():
    net = Network((3, 2, 2), seed=0)
    net.weights[0][1, 2] = 7.0
    net.biases[1][0] = -3.0
    assert net.weights[0][1, 2] == 7.0 and net.biases[1][0] == -3.0
    x = np.array([[0.0, 0.0, 1.0]])
    fp = net.forward(x)
    assert fp.zs[0][0, 1] == pytest.approx(7.0 + net.biases[0][1])


def test_forward_matches_hand_computation():
    net = Network((2, 2, 1), seed=0)
    net.set_parameters([[[1.0, -1.0], [0.5, 2.0]], [[1.0, 1.0]]], [[0.0, -1.0], [-0.5]])
    x = np.array([[1.0, 0.5]])
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = sig(np.array([1.0 - 0.5, 0.5 + 1.0 - 1.0]))
    out = sig(h.sum() - 0.5)
    fp = net.forward(x)
    np.testing.assert_allclose(fp.activations[1][0], h, rtol=1e-12)
    np.testing.assert_allclose(fp.output[0, 0], out, rtol=1e-12)
    assert len(fp.zs) == 2 and len(fp.activations) == 3


def test_uint8_inputs_are_pixels():
    net = Network((4, 3, 2), seed=1)
    px = np.array([[0, 51, 255, 128]], dtype=np.uint8)
    np.testing.assert_allclose(net.feedforward(px), net.feedforward(px / 255.0), rtol=1e-12)


def test_quadratic_cost_has_no_half():
    net = Network((2, 2), seed=0)
    x, y = np.array([[0.3, 0.7]]), np.array([1])
    a = net.feedforward(x)[0]
    assert net.cost_of(x, y) == pytest.approx((a[0] - 0) ** 2 + (a[1] - 1) ** 2)


def test_output_is_between_zero_and_one_for_every_hidden_activation():
    x, _ = small_batch()
    for act in ACTIVATIONS:
        out = Network((6, 5, 4), activation=act, seed=0).feedforward(x * 50)
        assert (out >= 0).all() and (out <= 1).all()


@pytest.mark.parametrize("activation,cost", list(itertools.product(["sigmoid", "tanh", "relu"], ["quadratic", "cross-entropy"])))
def test_backprop_matches_finite_differences(activation, cost):
    net = Network((6, 5, 4, 4), activation=activation, cost=cost, seed=3)
    x, y = small_batch()
    check = gradient_check(net, x, y, samples=None)
    assert check.checked == net.n_params
    assert check.max_abs_error < 1e-8, str(check)
    gw, gb = net.backprop(x, y)
    nw, nb = numerical_gradient(net, x, y)
    for a, b in zip(gw + gb, nw + nb):
        np.testing.assert_allclose(a, b, atol=1e-8)


@pytest.mark.parametrize("init", ["scaled", "normal"])
def test_initialisation_spread(init):
    net = Network((784, 100, 10), init=init, seed=0)
    std = net.weights[0].std()
    assert std == pytest.approx(1 / 28 if init == "scaled" else 1.0, rel=0.05)
    assert net.biases[0].std() == pytest.approx(1.0, rel=0.25)


def test_per_example_gradients_average_to_the_batch_gradient():
    net = Network((6, 5, 4), seed=2)
    x, y = small_batch(n=7)
    gw, gb = net.backprop(x, y)
    pw, pb = net.per_example_gradients(x, y)
    for l in range(2):
        assert pw[l].shape == (7,) + gw[l].shape
        np.testing.assert_allclose(pw[l].mean(axis=0), gw[l], atol=1e-14)
        np.testing.assert_allclose(pb[l].mean(axis=0), gb[l], atol=1e-14)
    # and each one is the gradient of that example alone
    w1, b1 = net.backprop(x[3:4], y[3:4])
    np.testing.assert_allclose(pw[0][3], w1[0], atol=1e-14)


def test_flat_parameters_round_trip():
    net = Network((5, 3, 2), seed=0)
    v = net.flat_parameters()
    assert v.shape == (net.n_params,)
    other = Network((5, 3, 2), seed=9)
    other.set_flat_parameters(v)
    for a, b in zip(other.params, net.params):
        np.testing.assert_array_equal(a, b)
    gw, gb = net.backprop(*small_batch(5, 2))
    assert net.flat_gradient(gw, gb).shape == v.shape


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="activation"):
        Network(activation="swish")
    with pytest.raises(ValueError, match="cost"):
        Network(cost="hinge")
    with pytest.raises(ValueError, match="two layers"):
        Network((784,))
    with pytest.raises(ValueError, match="expects 784"):
        Network(seed=0).feedforward(np.zeros((1, 10)))


def test_evaluate_counts_correct_answers():
    net = Network((4, 3), seed=0)
    x = np.random.default_rng(0).random((50, 4))
    pred = net.predict(x)
    acc, cost = net.evaluate(x, pred)
    assert acc == 1.0
    acc, _ = net.evaluate(x, (pred + 1) % 3)
    assert acc == 0.0
    assert cost >= 0
