"""Compare runs, headless: the runs of a comparison start bit-identical (the same initial weights and
the same shuffle), each run trained in lockstep equals the same run trained alone (weights and every
mini-batch's cost), one Step moves every run over the same examples, Rewind replays exactly, a run
opens in the studio as an undoable adoption, and bad values are one line."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers_session import same

from nnstudio.core import Network, Trainer
from nnstudio.session import SessionError
from nnstudio.session.compare import PRESETS, Comparison, parse_values
from nnstudio.training.lockstep import LockstepTrainer
from nnstudio.training.workers import InlineWorker, ProcessWorker


@pytest.fixture
def comparison(session):
    c = Comparison(session, worker_factory=lambda: InlineWorker(steps_per_drain=500))
    yield c
    c.shutdown()


def lockstep(c: Comparison) -> LockstepTrainer:
    return c.worker.loop._trainer  # (the inline worker's loop holds the comparison's trainer)


def drain(c: Comparison, until=lambda: False, n: int = 200) -> None:
    for _ in range(n):
        c.poll()
        if until():
            return


def alone(c: Comparison, i: int) -> Trainer:
    """Run ``i`` of the comparison as the studio would train it on its own: a network of the
    recipe's seed and a trainer of the same seed."""
    s, setup, run = c.session, c.setup, c.runs[i]
    ds = s.dataset
    net = Network(setup.sizes, activation=run.activation, cost=run.cost, init=run.init, seed=setup.seed)
    return Trainer(net, ds.train_x, ds.train_labels, ds.test_x, ds.test_labels, learning_rate=run.learning_rate,
                   batch_size=run.batch_size, epochs=setup.epochs, seed=setup.seed)


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_every_presets_runs_start_from_the_same_weights_and_the_same_shuffle(comparison, key):
    c = comparison
    setup = c.start_preset(key)
    c.poll()
    assert len(setup.runs) >= 2 and c.run_state == "paused"
    assert setup.preset == key and setup.note  # (what to look for)
    first = c.initial_network(0)
    for i in range(1, len(setup.runs)):
        net = c.initial_network(i)
        if key == "init":  # the same draws of the seed, only scaled: N(0, 1) = √n_in × N(0, 1/n_in)
            for p, q, n_in in zip(first.params, net.params, first.sizes[:-1]):
                assert np.array_equal(q[-1], p[-1])  # the biases: bit-identical
                assert np.allclose(q[:-1], p[:-1] * np.sqrt(n_in), rtol=1e-12, atol=0)
        else:
            assert same(net, first), f"run {setup.runs[i].name} starts from other weights"
        assert np.array_equal(c.states[i].network.buffer, net.buffer)  # (what the diagrams show at the start)
    # the same shuffle: after one lockstep step every run has trained on the same examples, in the same order
    c.step()
    drain(c, lambda: c.step_count == 1)
    lk = lockstep(c)
    seen = [np.asarray(r.indices) for r in lk._last]
    stride = lk.stride
    for i, (run, idx) in enumerate(zip(setup.runs, seen)):
        # the run's last mini-batch is the last run.batch_size of the stride's examples
        widest = seen[int(np.argmax([r.batch_size for r in setup.runs]))]
        assert np.array_equal(idx, widest[stride - run.batch_size:]), f"run {run.name} saw other examples"
        assert c.states[i].examples_seen == stride


def test_the_runs_are_bit_identical_to_the_same_runs_trained_alone(comparison):
    """η too small / good / too large, over an epoch's end (the sample's 4,000 digits) and on."""
    c = comparison
    setup = c.start_preset("eta")
    c.step_epoch()
    drain(c, lambda: c.run_state == "paused" and c.step_count >= 400)
    for _ in range(7):
        c.step()
    drain(c, lambda: c.step_count >= 407)
    assert c.step_count == 407 and c.run_state == "paused"
    for i, run in enumerate(setup.runs):
        st, h = c.states[i], c.histories[i]
        assert st.step == 407 and st.epoch == 1
        solo = alone(c, i)
        reports = [solo.step() for _ in range(st.step)]
        assert same(st.network, solo.network), f"run {run.name} differs from the same run trained alone"
        assert h.n == st.step  # every mini-batch's report arrived
        assert np.array_equal(h.costs, np.array([r.cost for r in reports]))
        assert solo.history[0].test_accuracy == h.last_accuracy[1]  # the epoch's test accuracy


def test_mini_batch_1_vs_10_vs_100_see_the_same_examples_and_equal_their_runs_alone(comparison):
    c = comparison
    setup = c.start_preset("batch")
    assert [r.batch_size for r in setup.runs] == [1, 10, 100]
    for _ in range(3):
        c.step()
    drain(c, lambda: c.step_count >= 3)
    assert [st.step for st in c.states] == [300, 30, 3]  # one step: 100 of 1, 10 of 10, 1 of 100
    assert [st.examples_seen for st in c.states] == [300, 300, 300]
    for i in range(3):
        solo = alone(c, i)
        for _ in range(c.states[i].step):
            solo.step()
        assert same(c.states[i].network, solo.network)


def test_sigmoid_vs_relu_and_the_two_costs_equal_their_runs_alone(comparison):
    c = comparison
    for key in ("activation", "cost"):
        setup = c.start_preset(key)
        for _ in range(25):
            c.step()
        drain(c, lambda: c.step_count >= 25)
        for i, run in enumerate(setup.runs):
            solo = alone(c, i)
            for _ in range(25):
                solo.step()
            assert same(c.states[i].network, solo.network), f"{key}: run {run.name}"


def test_rewind_replays_exactly_and_play_pause_drive_every_run(comparison):
    c = comparison
    c.start_preset("eta")
    c.play()
    assert c.run_state == "running"
    drain(c, lambda: c.step_count >= 30)
    c.pause()
    drain(c, lambda: c.run_state == "paused", 20)
    n = c.step_count
    assert n >= 30 and all(st.step == n for st in c.states)
    first = [st.network.copy() for st in c.states]
    costs = [h.costs.copy() for h in c.histories]
    c.rewind()
    assert c.step_count == 0 and all(h.n == 0 for h in c.histories)
    assert all(same(st.network, c.initial_network(i)) for i, st in enumerate(c.states))
    for _ in range(n):
        c.step()
    drain(c, lambda: c.step_count >= n)
    for i, st in enumerate(c.states):
        assert same(st.network, first[i])
        assert np.array_equal(c.histories[i].costs, costs[i])


def test_a_run_that_diverges_stops_and_the_others_go_on(comparison):
    c = comparison
    c.start_preset("eta")
    c.poll()
    lk = lockstep(c)
    tr = lk.trainers[2]
    step = tr.step

    def diverging():  # (the trainer's own report of a divergence: its last good weights restored)
        r = step()
        if r.step == 37:
            r.diverged = True
        return r

    tr.step = diverging
    c.step_epoch()
    drain(c, lambda: c.run_state in ("paused", "finished") and c.step_count >= 400)
    a, b, z = c.states
    assert z.diverged_at == 37 and z.step == 37  # stopped where it diverged
    assert a.diverged_at is None and a.step == 400 and b.step == 400  # the others went on
    assert "diverged at its mini-batch 37" in c.run_status(2)
    assert c.histories[2].n == 37 and c.histories[0].n == 400


def test_open_in_studio_adopts_the_run_and_undo_puts_the_studios_weights_back(session, comparison):
    s, c = session, comparison
    c.start_preset("eta", start="studio")  # (from the studio's network as it is: the shipped one)
    before = s.network.copy()
    for _ in range(5):
        c.step()
    drain(c, lambda: c.step_count >= 5)
    assert same(s.network, before)  # a comparison never changes the studio's network by itself
    assert c.open_in_studio(2)
    assert same(s.network, c.states[2].network) and s.hyper["learning_rate"] == 10.0
    s.undo()
    assert same(s.network, before)


def test_bad_values_are_one_clear_line(comparison):
    c = comparison
    for vary, text, words in (("learning_rate", "0.1", "2 to 4 values"), ("learning_rate", "1, 1", "differ"),
                              ("learning_rate", "1, x", "not a number"), ("activation", "sigmoid, swish", "swish"),
                              ("batch_size", "10, 0", "between"), ("learning_rate", "1,2,3,4,5", "2 to 4"),
                              ("dropout", "1, 2", "cannot vary")):
        with pytest.raises(SessionError) as e:
            parse_values(vary, text)
        assert words in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(SessionError, match="larger than the 4,000"):
        c.start("batch_size", (10, 5000))
    with pytest.raises(SessionError, match="initialisation"):
        c.start("init", ("scaled", "normal"), start="studio")
    assert parse_values("activation", "Sigmoid, ReLU") == ("sigmoid", "relu")
    assert parse_values("cost", "quadratic, CE") == ("quadratic", "cross-entropy")
    assert c.setup is None  # nothing half set up


def test_in_a_training_process_the_runs_equal_the_same_runs_trained_alone(session):
    """What the window does: the lockstep trainer goes to a training process of its own."""
    c = Comparison(session, worker_factory=ProcessWorker)
    try:
        setup = c.start_preset("eta")
        c.step_epoch()
        deadline = time.monotonic() + 60
        while not (c.run_state == "paused" and c.step_count >= 400 and all(st.step == 400 for st in c.states)):
            assert time.monotonic() < deadline, "the comparison's training process did not finish an epoch"
            c.poll()
            time.sleep(0.01)
        for i, run in enumerate(setup.runs):
            solo = alone(c, i)
            for _ in range(400):
                solo.step()
            assert same(c.states[i].network, solo.network), f"run {run.name}"
            assert c.histories[i].n == 400
    finally:
        c.shutdown(timeout=5)
