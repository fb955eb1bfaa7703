"""The diagram's −∂C/∂w and Δw edges, headless: while the session asks for the last step's change,
each snapshot's Δθ is exactly the parameters after minus before that mini-batch, and its −∂C/∂w is
the gradient of that mini-batch's mean cost computed directly (Network.backprop at the weights
before the step, on the step's own examples), stepping one mini-batch at a time, at full speed, and
with weight decay; the DiagramModel's edges show exactly those values."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.components.diagram import DiagramModel
from nnstudio.core import Network, Trainer
from nnstudio.training.workers import InlineWorker


def pump(s, until, n=50):
    for _ in range(n):
        s.poll()
        if until():
            return
    raise AssertionError("the worker did not get there")


def direct_descent(before: Network, X, labels):
    """−∂C/∂θ of the mean cost over (X, labels) at ``before``, per layer shaped like network.params."""
    gw, gb = before.backprop(X, labels)
    return [-np.vstack([w.T, b[None, :]]) for w, b in zip(gw, gb)]


def check(snap, before: Network, X, labels):
    after = snap.network
    # Δw: exactly the parameters after minus before
    for d, a, b in zip(snap.change_params(), after.params, before.params):
        assert np.array_equal(d, a - b)
    # −∂C/∂w: the mini-batch's gradient, computed directly (Δθ/η carries the rounding of θ and the
    # kernel's order of additions: measured ≤ 5e-13 of the layer's largest, on the sample)
    for mine, direct in zip(snap.descent_params(), direct_descent(before, X, labels)):
        assert np.allclose(mine, direct, rtol=0, atol=1e-9 * np.abs(direct).max() + 1e-15)
    # and the diagram shows exactly those (the edges of gap g are (n_out, n_in), like the weights)
    m = DiagramModel()
    m.set_network(after, snap)
    for mode, params in (("gradient", snap.descent_params()), ("change", snap.change_params())):
        m.set_modes(edges=mode)
        assert m.edges_available
        for g, p in enumerate(params):
            assert np.array_equal(m.edge_matrix(g), p[:-1].T)
            assert m.edge_value(g, 3, 2) == p[3, 2]
    m.set_modes(edges="weights")
    assert all(np.array_equal(m.edge_matrix(g), w) for g, w in enumerate(after.weights))


def test_stepping_the_edges_show_the_last_mini_batchs_gradient_and_change(session):
    s = session
    s.show_step_changes(True)
    s.step_batch()
    pump(s, lambda: s.run_state == "paused" and s.snapshot.step == 1)
    ds = s.dataset
    for k in range(2, 6):
        before = s.network.copy()
        s.step_batch()
        pump(s, lambda: s.run_state == "paused" and s.snapshot.step == k)
        snap = s.snapshot
        assert snap.has_step_change
        idx = np.asarray(s.last_report.indices)
        assert len(idx) == s.hyper["batch_size"] == snap.batch_size
        check(snap, before, ds.train_x[idx], ds.train_labels[idx])
    # off again: snapshots carry nothing more than the network, and the diagram says so
    s.show_step_changes(False)
    s.step_batch()
    pump(s, lambda: s.run_state == "paused" and s.snapshot.step == 6)
    assert not s.snapshot.has_step_change
    m = DiagramModel()
    m.set_network(s.network, s.snapshot)
    m.set_modes(edges="gradient")
    assert not m.edges_available and m.edge_matrix(0) is None


def test_at_full_speed_each_snapshots_change_is_its_own_steps(session):
    """Full speed keeps the weights from before a step only when a snapshot follows it: every
    snapshot that carries a change carries the change of the step it shows."""
    s = session
    s.show_step_changes(True)
    s.set_speed(0)  # (full speed)
    s.play()
    seen = []
    for _ in range(40):
        s.poll()
        snap = s.snapshot
        if snap is not None and snap.has_step_change and snap.step not in [x.step for x in seen]:
            seen.append(snap)
        if len(seen) >= 3:
            break
    s.pause()
    pump(s, lambda: s.run_state == "paused")
    assert s.snapshot.has_step_change  # a pause finds its last step's change
    seen.append(s.snapshot)
    ds = s.dataset
    arch = s.architecture
    for snap in seen:
        # the same run alone, to the step before the snapshot's: its weights are "before"
        solo = Trainer(Network(arch["sizes"], activation=arch["activation"], cost=arch["cost"], init=arch["init"],
                               seed=arch["seed"]), ds.train_x, ds.train_labels, learning_rate=s.hyper["learning_rate"],
                       batch_size=int(s.hyper["batch_size"]), seed=arch["seed"])
        for _ in range(snap.step - 1):
            solo.step()
        before = solo.network.copy()
        r = solo.step()
        assert np.array_equal(solo.network.buffer, snap.network.buffer)
        check(snap, before, ds.train_x[r.indices], ds.train_labels[r.indices])


def test_with_weight_decay_the_gradient_leaves_the_shrink_out():
    """w_after = (1 − ηλ/n) w_before − η ∂C/∂w: the edges' −∂C/∂w is the cost's gradient alone."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (200, 20), dtype=np.uint8)
    y = rng.integers(0, 3, 200)

    def trainer():
        return Trainer(Network((20, 6, 3), seed=1), X, y, learning_rate=2.0, batch_size=8, seed=4, weight_decay=5.0)

    w = InlineWorker()
    w.start()
    w.set_trainer(trainer())
    w.send("detail", True)
    snaps = []
    for _ in range(4):
        w.step_batch()
        snaps += [m[1] for m in w.drain() if isinstance(m, tuple) and m[0] == "snapshot"]
    snap = snaps[-1]
    assert snap.step == 4 and snap.step_shrink == pytest.approx(1 - 2.0 * 5.0 / 200)
    solo = trainer()
    for _ in range(3):
        solo.step()
    before = solo.network.copy()
    r = solo.step()
    check(snap, before, X[r.indices], y[r.indices])
