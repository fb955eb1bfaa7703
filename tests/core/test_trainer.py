"""The trainer: one mini-batch per step, exact SGD, bit-for-bit replay."""

import numpy as np
import pytest

from nnstudio.core import DivergedError, Network, Trainer
from nnstudio.core.trainer import c_engine_available


@pytest.fixture(params=["c", "numpy"], autouse=True)
def engine(request, monkeypatch):
    """Every test here runs on both engines: the C kernel and the NumPy reference loop."""
    if request.param == "c" and not c_engine_available():
        pytest.skip("the C kernel _nnstudio_sgd is not built (pip install . builds it when a C compiler is present)")
    monkeypatch.setenv("NNSTUDIO_ENGINE", request.param)
    return request.param


def toy_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.random((n, 12)) * 255).astype(np.uint8)
    y = (x[:, :4].argmax(axis=1)).astype(np.uint8)  # learnable: which of the first four is brightest
    return x, y


def make(batch_size=10, lr=1.5, seed=0, **kw):
    x, y = toy_data()
    net = Network((12, 8, 6, 4), seed=seed, **kw)
    return Trainer(net, x[:160], y[:160], x[160:], y[160:], learning_rate=lr, batch_size=batch_size, seed=seed)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("as_float", [False, True])
def test_each_step_is_exactly_minus_eta_times_the_mean_gradient(activation, cost, as_float):
    tr = make(batch_size=7, activation=activation, cost=cost, lr=0.8)
    if as_float:
        tr.train_x = tr.train_x / 255.0
    ref = tr.network.copy()
    for _ in range(5):
        r = tr.step()
        x, y = tr.batch_examples(r)
        gw, gb = ref.backprop(x, y)
        assert r.cost == pytest.approx(ref.cost_of(x, y), abs=1e-12)
        for l in range(3):
            np.testing.assert_allclose(tr.network.weights[l], ref.weights[l] - 0.8 * gw[l], atol=1e-13)
            np.testing.assert_allclose(tr.network.biases[l], ref.biases[l] - 0.8 * gb[l], atol=1e-13)
        ref.set_params(tr.network.params)


def test_the_engine_in_use_is_the_one_asked_for(engine):
    assert make().engine_in_use == engine


def test_engine_argument_is_checked():
    x, y = toy_data()
    with pytest.raises(ValueError, match="unknown engine"):
        Trainer(Network((12, 4)), x, y, engine="gpu")


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("as_float", [False, True])
def test_the_two_engines_agree(activation, cost, as_float):
    """C and NumPy add up in different orders: equal to rounding, over a whole run with a
    partial last batch, a batch-size change and weight decay."""
    if not c_engine_available():
        pytest.skip("the C kernel is not built")
    runs = []
    for eng in ("c", "numpy"):
        x, y = toy_data()
        if as_float:
            x = x / 255.0
        net = Network((12, 8, 6, 4), activation=activation, cost=cost, seed=3)
        tr = Trainer(net, x[:160], y[:160], x[160:], y[160:], learning_rate=0.7, batch_size=9, seed=3,
                     weight_decay=0.5, engine=eng)
        assert tr.engine_in_use == eng
        costs = [tr.step().cost for _ in range(25)]
        tr.batch_size = 31
        costs += [tr.step().cost for _ in range(12)]
        runs.append((costs, net.get_params()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-9, atol=1e-12)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)


def test_c_engine_falls_back_or_refuses_what_it_cannot_run(monkeypatch):
    monkeypatch.delenv("NNSTUDIO_ENGINE")
    x, y = toy_data()
    tr = Trainer(Network((12, 4)), x.astype(np.float32), y)  # float32 inputs: NumPy loop
    assert tr.engine_in_use == "numpy"
    assert np.isfinite(tr.step().cost)
    tr = Trainer(Network((12, 4)), x.astype(np.float32), y, engine="c")
    if c_engine_available():
        with pytest.raises(RuntimeError, match="cannot run"):
            tr.step()
    else:
        with pytest.raises(RuntimeError, match="not built"):
            tr.step()


def test_c_kernel_checks_its_arguments():
    if not c_engine_available():
        pytest.skip("the C kernel is not built")
    import _nnstudio_sgd as sgd

    net = Network((12, 8, 4))
    x = np.zeros((20, 12), np.uint8)
    with pytest.raises(ValueError):
        sgd.Kernel(net.buffer[:-1], net.sizes, (0, 0), 0, x)  # wrong parameter count
    with pytest.raises(ValueError):
        sgd.Kernel(net.buffer, net.sizes, (0, 0), 0, x[:, :11])  # wrong input width
    with pytest.raises(ValueError):
        sgd.Kernel(net.buffer, net.sizes, (0, 9), 0, x)  # unknown activation
    k = sgd.Kernel(net.buffer, net.sizes, (0, 0), 0, x)
    with pytest.raises(RuntimeError, match="set_epoch"):
        k.step(0, 5, 1.0, 1.0)
    with pytest.raises(ValueError, match="permutation"):
        k.set_epoch(np.arange(20) + 1, np.zeros((20, 4)))  # an index past the end
    with pytest.raises(ValueError, match="permutation"):
        k.set_epoch(np.arange(20), np.zeros((20, 3)))
    k.set_epoch(np.arange(20), np.zeros((20, 4)))
    with pytest.raises(ValueError, match="out of range"):
        k.step(15, 6, 1.0, 1.0)
    assert np.isfinite(k.step(15, 5, 1.0, 1.0))


def test_reports_and_epochs():
    tr = make(batch_size=30)
    reports = tr.run_epoch()
    assert len(reports) == 6  # 160 = 5 × 30 + 10
    assert [r.batch for r in reports] == list(range(6))
    assert [r.batch_size for r in reports] == [30] * 5 + [10]
    idx = np.concatenate([r.indices for r in reports])
    assert sorted(idx) == list(range(160))  # every example once per epoch
    end = reports[-1].epoch_end
    assert end is not None and end.epoch == 1 and 0 <= end.test_accuracy <= 1
    assert all(r.epoch_end is None for r in reports[:-1])
    assert reports[-1].examples_seen == 160 and reports[-1].step == 6
    assert tr.epoch == 1 and tr.history == [end]


def test_rewind_replays_bit_for_bit():
    tr = make()
    first = [tr.step() for _ in range(37)]
    w_after = tr.network.get_params()
    tr.rewind()
    second = [tr.step() for _ in range(37)]
    for a, b in zip(first, second):
        assert a.cost == b.cost
        np.testing.assert_array_equal(a.indices, b.indices)
    for a, b in zip(w_after, tr.network.params):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_run_and_reset_changes_it():
    a, b = make(seed=4), make(seed=4)
    for _ in range(20):
        assert a.step().cost == b.step().cost
    b.reset(seed=5)
    assert not np.array_equal(a.network.params[0], b.network.params[0])
    b.reset(seed=4)
    a.rewind()
    for _ in range(20):
        assert a.step().cost == b.step().cost


def test_learning_rate_and_batch_size_change_at_the_next_step():
    tr = make()
    tr.step()
    tr.learning_rate = 0.0
    before = tr.network.get_params()
    r = tr.step()
    assert r.learning_rate == 0.0
    for a, b in zip(before, tr.network.params):
        np.testing.assert_array_equal(a, b)
    tr.batch_size = 25
    r = tr.step()
    assert r.batch_size == 25 and len(r.indices) == 25


def test_training_learns():
    tr = make(batch_size=10, lr=3.0)
    tr.epochs = 40
    tr.run()
    assert tr.history[-1].test_accuracy > 0.8
    assert tr.history[-1].train_cost < tr.history[0].train_cost


@pytest.mark.parametrize("numpy_errors", ["raise", "ignore"])
def test_divergence_restores_finite_weights_and_stops(numpy_errors):
    tr = make(activation="relu")
    for _ in range(3):
        tr.step()
    tr.learning_rate = 1e300
    with np.errstate(all=numpy_errors), pytest.raises(DivergedError, match="learning rate"):
        tr.run(epochs=5)
    assert all(np.isfinite(p).all() for p in tr.network.params)
    tr.learning_rate = 0.5  # the learner lowers it and carries on
    assert np.isfinite(tr.step().cost)


def test_divergence_report_in_the_generator():
    tr = make(activation="relu", lr=1e300)
    tr.epochs = 100
    with np.errstate(all="ignore"):
        reports = list(tr.steps())
    assert reports[-1].diverged and len(reports) < 100 * 16
    assert all(np.isfinite(p).all() for p in tr.network.params)


def test_epochs_limit_ends_the_generator():
    tr = make(batch_size=80)
    tr.epochs = 2
    reports = list(tr.steps())
    assert len(reports) == 4 and tr.finished


def test_bad_data_is_refused():
    net = Network((12, 4), seed=0)
    with pytest.raises(ValueError):
        Trainer(net, np.zeros((5, 11)), np.zeros(5, int))
    with pytest.raises(ValueError):
        Trainer(net, np.zeros((5, 12)), np.zeros(4, int))


def test_weight_decay_shrinks_weights_not_biases():
    tr = make(batch_size=7, lr=0.8)
    tr.weight_decay = 5.0
    ref = tr.network.copy()
    r = tr.step()
    x, y = tr.batch_examples(r)
    gw, gb = ref.backprop(x, y)
    shrink = 1 - 0.8 * 5.0 / 160
    for l in range(3):
        np.testing.assert_allclose(tr.network.weights[l], shrink * ref.weights[l] - 0.8 * gw[l], atol=1e-13)
        np.testing.assert_allclose(tr.network.biases[l], ref.biases[l] - 0.8 * gb[l], atol=1e-13)


def test_adopt_carries_the_run_on_from_other_weights():
    """Weights changed from outside (an explorer step, an undo) mid-epoch: the run goes on from them,
    in the same shuffle order, exactly as if they had been there all along."""
    a, b = make(), make()
    for _ in range(3):
        a.step(), b.step()
    other = Network(sizes=a.network.sizes, seed=9)
    a.adopt(other.params)
    b.network.set_params(other.params)
    b._gen = None
    ra, rb = a.step(), b.step()
    assert (ra.epoch, ra.batch, ra.step) == (rb.epoch, rb.batch, rb.step) == (0, 3, 4)
    assert np.array_equal(ra.indices, rb.indices)
    for p, q in zip(a.network.params, b.network.params):
        assert np.array_equal(p, q)


@pytest.mark.parametrize("as_float", [False, True])
def test_the_epoch_evaluation_is_the_networks(as_float):
    """Both engines report the accuracy and cost Network.evaluate computes (the C engine with its
    own forward pass: equal to rounding)."""
    tr = make()
    if as_float:
        tr.test_x = tr.test_x / 255.0
    for _ in range(5):
        tr.step()
    acc, cost = tr.evaluate()
    ref_acc, ref_cost = tr.network.evaluate(tr.test_x, tr.test_labels)
    assert acc == ref_acc
    assert cost == pytest.approx(ref_cost, rel=1e-12)
    tr.eval_limit = 7
    assert tr.evaluate() == pytest.approx(tr.network.evaluate(tr.test_x[:7], tr.test_labels[:7]), rel=1e-12)


def test_c_kernel_forward_checks_its_arguments():
    if not c_engine_available():
        pytest.skip("the C kernel is not built")
    import _nnstudio_sgd as sgd

    net = Network((12, 8, 4), seed=0)
    x = (np.arange(60) % 7 * 30).astype(np.uint8).reshape(5, 12)
    k = sgd.Kernel(net.buffer, net.sizes, (0, 0), 0, x)
    out = np.empty((5, 4))
    k.forward(x, out)
    np.testing.assert_allclose(out, net.feedforward(x), rtol=1e-14)
    with pytest.raises(ValueError):
        k.forward(x[:, :11], out)
    with pytest.raises(ValueError):
        k.forward(x, np.empty((4, 4)))
    with pytest.raises(ValueError):
        k.forward(x.astype(np.float32), out)
