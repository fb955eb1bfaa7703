"""The real network's cost slice: exact at the centre, equal to the slow way everywhere, fast paths honest."""

import numpy as np
import pytest

from nnstudio.core import Network
from nnstudio.components.landscape import (
    Cancelled,
    GDvsSGD,
    TrajectoryRing,
    compute_landscape,
    filter_normalized,
    flat_to_params,
    grid_axis,
    make_directions,
    params_to_flat,
    training_subset,
)
from nnstudio.data import load_dataset


@pytest.fixture(scope="module")
def sample():
    ds = load_dataset("mnist-sample")
    idx = training_subset(ds.n_train, 1000, seed=0)
    return ds, ds.train_x[idx], ds.train_labels[idx]


def toy(n=120, n_in=12, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, n_in)) * 255).astype(np.uint8)
    y = x[:, :4].argmax(axis=1)
    return x, y


def slow_cost(net, d1p, d2p, a, b, X, Y):
    q = net.copy()
    q.set_params([p + a * u + b * v for p, u, v in zip(net.params, d1p, d2p)])
    return q.cost_of(X, Y)


@pytest.mark.parametrize("mode", ["random", "gradient"])
def test_centre_value_is_the_engines_cost_on_the_same_subset(sample, mode):
    _, X, Y = sample
    net = Network(seed=3)
    d = make_directions(net, mode, X, Y, seed=1)
    land = compute_landscape(net, X, Y, d, span=0.5, resolution=9)
    c = len(land.alphas) // 2
    assert land.alphas[c] == 0.0 and land.betas[c] == 0.0
    assert land.costs[c, c] == pytest.approx(net.cost_of(X, Y), rel=1e-12)
    assert land.centre_cost == net.cost_of(X, Y)
    # the current point projects to the origin
    np.testing.assert_array_equal(land.project(net.flat_parameters()), [[0.0, 0.0]])
    assert land.n_examples == 1000


@pytest.mark.parametrize("activation,cost", [("sigmoid", "quadratic"), ("tanh", "quadratic"),
                                             ("relu", "cross-entropy"), ("sigmoid", "cross-entropy")])
def test_every_grid_point_equals_the_slow_way(activation, cost):
    X, Y = toy()
    net = Network((12, 7, 5, 4), activation=activation, cost=cost, seed=2)
    d = make_directions(net, "random", seed=4)
    land = compute_landscape(net, X, Y, d, span=1.5, resolution=7)
    d1p, d2p = d.params(net.sizes)
    for j in range(7):
        for i in range(7):
            slow = slow_cost(net, d1p, d2p, land.alphas[i], land.betas[j], X, Y)
            assert land.costs[j, i] == pytest.approx(slow, rel=1e-10, abs=1e-13)
    assert land.costs[3, 3] == pytest.approx(net.cost_of(X, Y), rel=1e-12)
    assert land.levels.size and len(land.contours) == land.levels.size


def test_projection_recovers_coordinates_and_filter_normalisation():
    X, Y = toy()
    net = Network((12, 7, 5, 4), seed=5)
    d = make_directions(net, "random", seed=6)
    theta = net.flat_parameters()
    pts = np.stack([theta + 0.3 * d.d1 - 0.2 * d.d2, theta, theta - 1.1 * d.d2])
    np.testing.assert_allclose(d.project(pts, theta), [[0.3, -0.2], [0, 0], [0, -1.1]], atol=1e-12)
    np.testing.assert_allclose(d.distance_from_plane(pts, theta), 0, atol=1e-12)
    # filter-normalised: each neuron's direction has the length of that neuron's weights and bias
    for u, p in zip(d.params(net.sizes)[0], net.params):
        np.testing.assert_allclose(np.linalg.norm(u, axis=0), np.linalg.norm(p, axis=0))
    lay = filter_normalized([np.ones_like(p) for p in net.params], net.params, "layer")
    for u, p in zip(lay, net.params):
        assert np.linalg.norm(u) == pytest.approx(np.linalg.norm(p))
    with pytest.raises(ValueError):
        filter_normalized(net.params, net.params, "nope")
    back = flat_to_params(theta, net.sizes)
    np.testing.assert_array_equal(params_to_flat(back), theta)


def test_gradient_direction_points_downhill_and_relates_alpha_to_eta():
    X, Y = toy()
    net = Network((12, 7, 5, 4), seed=1)
    d = make_directions(net, "gradient", X, Y, seed=0)
    gw, gb = net.backprop(X, Y)
    g = net.flat_gradient(gw, gb)
    cos = d.d1 @ -g / (np.linalg.norm(d.d1) * np.linalg.norm(g))
    assert cos == pytest.approx(1.0)
    assert abs(d.d1 @ d.d2) < 1e-9 * np.linalg.norm(d.d1) * np.linalg.norm(d.d2)
    # α = 1 along D₁ is exactly a gradient step of η = eta_per_alpha
    eta = d.eta_per_alpha
    np.testing.assert_allclose(net.flat_parameters() + d.d1, net.flat_parameters() - eta * g)
    land = compute_landscape(net, X, Y, d, span=0.01, resolution=5)
    assert land.costs[2, 3] < land.costs[2, 2] < land.costs[2, 1]  # downhill to the right


def test_pca_directions_follow_the_path():
    net = Network((12, 7, 5, 4), seed=1)
    theta = net.flat_parameters()
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((2, theta.size))
    t = np.linspace(1, 0, 30)
    path = theta + np.outer(3 * t, u) + np.outer(t * (1 - t), v)  # a curve ending at θ
    d = make_directions(net, "pca", trajectory=path)
    xy = d.project(path, theta)
    assert np.abs(xy).max() == pytest.approx(0.8, rel=1e-6)  # the path fills ±0.8 of the grid
    assert np.all(d.distance_from_plane(path, theta) < 1e-8 * np.linalg.norm(u))  # a plane curve, fully in
    with pytest.raises(ValueError, match="too short"):
        make_directions(net, "pca", trajectory=path[:2])


def test_ring_keeps_a_thinned_whole_run_and_restarts_on_rewind():
    ring = TrajectoryRing(capacity=8)
    for s in range(1, 40):
        ring.add(np.full(3, float(s)), s)
    assert len(ring) <= 8
    steps = ring.steps()
    assert steps[0] == 1 and np.all(np.diff(steps) > 0)
    assert steps[-1] >= 33  # still recent
    np.testing.assert_array_equal(ring.points()[:, 0], steps)
    assert not ring.add(np.zeros(3), 39)  # the same step twice is not kept
    ring.add(np.zeros(3), 2)  # a rewind starts a new path
    assert len(ring) == 1 and ring.steps()[0] == 2


def test_the_ring_of_a_big_network_is_bounded_in_bytes(monkeypatch):
    """200 copies of a big network's parameters would be gigabytes: the ring holds fewer (never fewer
    than 4) and still spans the whole run."""
    from nnstudio.components import landscape

    small = TrajectoryRing(capacity=200)
    small.add(np.zeros(13_002), 1)  # the videos' network: all 200 (20.8 MB)
    assert small.rows == 200
    monkeypatch.setattr(landscape, "RING_BYTES", 8 * 1000 * 10)  # (room for 10 vectors of 1,000)
    ring = TrajectoryRing(capacity=200)
    for s in range(1, 101):
        ring.add(np.full(1000, float(s)), s)
    assert ring.rows == 10 and len(ring) <= 10 and ring.points().nbytes <= landscape.RING_BYTES
    assert ring.steps()[0] == 1 and ring.steps()[-1] >= 90
    huge = TrajectoryRing(capacity=200)
    monkeypatch.setattr(landscape, "RING_BYTES", 8)
    huge.add(np.zeros(1000), 1)
    assert huge.rows == 4


def test_cancel_and_bad_input():
    X, Y = toy()
    net = Network((12, 7, 5, 4), seed=1)
    d = make_directions(net, "random")
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(Cancelled):
        compute_landscape(net, X, Y, d, resolution=41, cancel=cancel)
    for span, res in ((0, 11), (-1, 11), (float("nan"), 11), (1, 1)):
        with pytest.raises(ValueError):
            grid_axis(span, res)
    with pytest.raises(ValueError):
        make_directions(net, "sideways")


def test_full_batch_vs_sgd_from_the_same_weights():
    X, Y = toy(400)
    net = Network((12, 8, 4), seed=0)
    seen = []
    g = GDvsSGD(net, X, Y, n_train=300, n_eval=100, epochs=4, batch_size=10, evals_per_epoch=4,
                learning_rate_full=1.5, learning_rate_sgd=1.5)
    res = g.run(on_point=lambda w, p: seen.append(w))
    full, sgd = res.curve("full"), res.curve("sgd")
    assert full[0, 3] == sgd[0, 3] == pytest.approx(net.cost_of(g.eval_x, g.eval_y))  # same start
    assert full[-1, 0] == sgd[-1, 0] == 1200  # the same budget of examples
    assert full[-1, 2] == 4 and sgd[-1, 2] == 120  # one step per epoch vs 30 per epoch
    assert np.all(np.diff(full[:, 0]) > 0) and np.all(np.diff(sgd[:, 1]) >= 0)
    assert sgd[-1, 3] < full[-1, 3]  # many rough steps beat a few careful ones here
    assert len(seen) == len(full) + len(sgd)
    cancelled = GDvsSGD(net, X, Y, n_train=300, epochs=50).run(cancel=lambda: True)
    assert cancelled.cancelled


def test_ring_projection_matches_direct_projection():
    net = Network((12, 7, 5, 4), seed=1)
    d = make_directions(net, "random", seed=2)
    theta = net.flat_parameters()
    ring = TrajectoryRing(16)
    rng = np.random.default_rng(0)
    for s in range(10):
        ring.add(theta + rng.standard_normal(theta.size) * 0.1, s)
    np.testing.assert_allclose(ring.project(d, theta), d.project(ring.points(), theta), atol=1e-10)
    assert ring.project(d, np.zeros(3)).shape == (0, 2)
