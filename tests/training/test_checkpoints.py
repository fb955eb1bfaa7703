"""The checkpoint store (bounded, forced checkpoints kept, truncated by a continued run) and the
replayer (any step bit for bit from the nearest checkpoint, forward incrementally)."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.training.checkpoints import BUDGET_BYTES, CheckpointStore, Replayer, spacing, step_seconds


def pos(step: int, **kw) -> dict:
    return dict({"step": step, "epoch": 0, "batch": step, "pos": step, "seen": step, "rng": {}}, **kw)


def test_the_store_keeps_exact_weights_and_finds_the_nearest_checkpoint():
    store = CheckpointStore(5)
    rng = np.random.default_rng(0)
    kept = {}
    for step in (0, 10, 25, 40):
        w = rng.standard_normal(5)
        assert store.add(w, pos(step), forced=step == 0)
        kept[step] = w
    assert store.steps == [0, 10, 25, 40] and store.nbytes == 4 * 5 * 8
    assert store.nearest(24) == 1 and store.nearest(25) == 2 and store.nearest(99) == 3
    for i, step in enumerate(store.steps):
        cp, w = store.get(i)
        assert cp.step == step and np.array_equal(w, kept[step])  # (float64, bit for bit)
    assert not store.add(rng.standard_normal(5), pos(30))  # older than the last: ignored
    assert not store.add(rng.standard_normal(5), pos(40))  # an ordinary one at the same step too
    edited = rng.standard_normal(5)
    assert store.add(edited, pos(40), forced=True)  # an edit at that step: the new weights win
    assert np.array_equal(store.get(3)[1], edited) and store.get(3)[0].forced
    with pytest.raises(ValueError):
        store.add(np.zeros(6), pos(50))


def test_the_store_stays_within_its_budget_and_never_drops_forced_checkpoints():
    n = 100
    budget = 40 * n * 8  # room for 40 checkpoints
    store = CheckpointStore(n, budget_bytes=budget)
    forced = {0, 335, 775}
    for step in range(0, 2000, 5):
        store.add(np.full(n, float(step)), pos(step), forced=step in forced)
        assert store.nbytes <= budget
    assert store.thinned >= 1 and len(store) == 40, "the budget is used, not halved"
    assert forced <= set(store.steps), "forced checkpoints (the run jumped there) are never dropped"
    assert store.steps[0] == 0 and store.steps[-1] == 1995
    # what is left is still exact and evenly spread: the longest replay is at most twice the even gap
    for i, step in enumerate(store.steps):
        assert np.array_equal(store.get(i)[1], np.full(n, float(step)))
    gaps = np.diff(store.steps)
    assert gaps.max() <= 2 * 1995 / 39


def test_truncate_forgets_what_comes_after_a_step():
    store = CheckpointStore(3)
    for step in (0, 100, 200, 300):
        store.add(np.full(3, float(step)), pos(step), forced=step == 0)
    store.truncate(150)
    assert store.steps == [0, 100]
    assert store.add(np.full(3, 7.0), pos(160))  # (the continued run's checkpoints come after it)
    assert store.steps == [0, 100, 160] and np.array_equal(store.get(2)[1], np.full(3, 7.0))


def test_the_spacing_meets_both_targets_for_30_epochs_of_mnist():
    """784-16-16-10, mini-batch 10: the spacing's replay is ~12 ms of the cost model (≤ 50 ms with
    room for a loaded machine).  The loop keeps a checkpoint every half to one spacing; where 30
    epochs of MNIST would pass the budget the store keeps as many as fit, evenly spread (the longest
    gap at most twice the even one): on either engine the longest replay is still within 50 ms."""
    net = Network((784, 16, 16, 10), seed=0)
    assert BUDGET_BYTES <= 100 * 2**20
    batches = 30 * 60_000 // 10
    fit = BUDGET_BYTES // (net.n_params * 8)  # (checkpoints the budget holds)
    for engine in ("c", "numpy"):
        one = step_seconds(10, net.n_params, len(net.params), engine)
        gap = spacing(10, net.n_params, len(net.params), engine) // 10  # (mini-batches)
        assert gap * one <= 0.025, engine
        longest = gap if batches / (gap / 2) <= fit else 2 * batches / fit
        assert longest * one <= 0.050, engine


@pytest.fixture(scope="module")
def sample():
    ds = load_dataset("mnist-sample")
    return ds.train_x, ds.train_labels


def run_to(x, y, steps, seed=4, lrs=None, bss=None, store=None, every=37):
    net = Network((784, 12, 10), seed=seed)
    tr = Trainer(net, x, y, learning_rate=1.0, batch_size=10, seed=seed)
    for k in range(steps):
        if store is not None and k % every == 0:
            store.add(net.buffer, dict(tr.position(), lr=tr.learning_rate, bs=tr.batch_size), forced=k == 0)
        if lrs is not None:
            tr.learning_rate, tr.batch_size = float(lrs[k]), int(bss[k])
        tr.step()
    return net, tr


def test_the_replayer_rebuilds_any_step_bit_for_bit_in_any_order(sample):
    x, y = sample
    store = CheckpointStore(Network((784, 12, 10), seed=0).n_params)
    lrs = np.where(np.arange(400) < 150, 1.0, 0.3)
    bss = np.where(np.arange(400) < 220, 10, 7)
    net, _ = run_to(x, y, 400, lrs=lrs, bss=bss, store=store)
    rep = Replayer(store, net, x, y, seed=4)
    for step in (399, 5, 151, 150, 36, 37, 38, 221, 300, 301, 0):
        got = rep.at(step, (0, lrs, bss))
        want, _ = run_to(x, y, step, lrs=lrs, bss=bss)
        assert got.step == step and np.array_equal(got.network.buffer, want.buffer), step
        assert got.exact
        assert got.replayed <= 37
    # without the settings each checkpoint's own are used: exact only where they did not change
    assert not rep.at(160, None).exact


def test_a_replay_never_crosses_a_forced_checkpoint(sample):
    """After an edit (a forced checkpoint) the run jumped: a step after it is rebuilt from it, not by
    carrying on from a step before it."""
    x, y = sample
    net, tr = run_to(x, y, 50)
    store = CheckpointStore(net.n_params)
    start = Network((784, 12, 10), seed=4)
    tr0 = Trainer(start, x, y, learning_rate=1.0, batch_size=10, seed=4)
    store.add(start.buffer, dict(tr0.position(), lr=1.0, bs=10), forced=True)
    net.params[0][0, 0] += 1.0  # an edit at step 50
    store.add(net.buffer, dict(tr.position(), lr=1.0, bs=10), forced=True)
    rep = Replayer(store, net, x, y, seed=4)
    rep.at(40)
    got = rep.at(60)
    for _ in range(10):
        tr.step()
    assert np.array_equal(got.network.buffer, tr.network.buffer)
