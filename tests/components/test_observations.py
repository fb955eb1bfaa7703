"""The run explains itself: every observation has a real run (a Trainer on the embedded sample, small
and fast) that provokes it and one that does not; the observer says each thing once, spaced out, and
again only after it cleared."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nnstudio.components.observations as obs
from nnstudio.components.observations import (
    KINDS, NetworkFacts, Observation, Observer, RunFacts, measure_network, pick_probe, probe_size,
)
from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.training.history import TrainingHistory


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def run(sample, sizes=(784, 16, 16, 10), activation="sigmoid", cost="quadratic", eta=1.5, epochs=3, n_train=None,
        eta_later=None, every=20) -> dict:
    """Train for real; look at the numbers every ``every`` mini-batches (a quarter of a second apart, as the
    feed does at display rate); return {kind: the mini-batch it was first said at}."""
    net = Network(sizes, activation=activation, cost=cost, seed=0)
    X, y = sample.train_x[:n_train], sample.train_labels[:n_train]
    tr = Trainer(net, X, y, sample.test_x, sample.test_labels, learning_rate=eta, batch_size=10, epochs=epochs, seed=0)
    probe = pick_probe(len(X), sizes)
    observer, said, now = Observer(), {}, 0.0
    with TrainingHistory() as h:
        while not tr.finished:
            if eta_later and tr.history and len(tr.history) == eta_later[0] and tr.learning_rate != eta_later[1]:
                tr.learning_rate = eta_later[1]  # (the learner raises η mid-run)
            r = tr.step()
            h.append(r)
            if r.step % every == 0:
                now += 0.25
                facts = RunFacts.of_history(h, tr.learning_rate, cost, activation)
                for o in observer.check(facts, measure_network(net, X[probe], y[probe], r.step), now):
                    assert o.kind in KINDS and o.title and o.text and o.advice and o.view
                    said.setdefault(o.kind, r.step)
    return said


# (what provokes it, what does not): each a real run
def test_overshoot_eta_raised_mid_run_versus_the_videos_recipe(sample):
    said = run(sample, eta_later=(2, 10.0))  # η 1.5 for two epochs, then 10
    assert "overshoot" in said and said["overshoot"] > 800
    assert "overshoot" not in run(sample)


def test_plateau_with_a_tiny_eta_versus_the_videos_recipe(sample):
    said = run(sample, eta=0.01)
    assert "plateau" in said
    assert "plateau" not in run(sample)
    assert "plateau" not in run(sample, cost="cross-entropy", eta=0.5)


def test_confidently_wrong_outputs_with_the_quadratic_cost_only(sample):
    assert "confident_wrong" in run(sample, eta=20.0, epochs=1)
    # the same saturated outputs with cross-entropy are not slow to learn: nothing said
    assert "confident_wrong" not in run(sample, cost="cross-entropy", eta=20.0, epochs=1)
    assert "confident_wrong" not in run(sample)


def test_saturated_sigmoid_and_tanh_neurons(sample):
    assert "saturated" in run(sample, activation="tanh", eta=5.0, epochs=1)
    assert "saturated" not in run(sample)
    assert "saturated" not in run(sample, activation="tanh", eta=0.5, epochs=1)


def test_dead_relu_neurons(sample):
    said = run(sample, activation="relu", eta=3.0, epochs=1)
    assert "dead" in said and "saturated" not in said
    assert "dead" not in run(sample, activation="relu", eta=0.3)


def test_overfitting_on_200_images_versus_4000(sample):
    said = run(sample, sizes=(784, 30, 10), cost="cross-entropy", eta=0.5, epochs=40, n_train=200, every=5)
    assert "overfitting" in said
    assert "overfitting" not in run(sample, sizes=(784, 30, 10), cost="cross-entropy", eta=0.5, epochs=6)


def test_vanishing_gradient_in_a_deep_sigmoid_network_not_in_the_videos_one(sample):
    assert "vanishing" in run(sample, sizes=(784, 16, 16, 16, 16, 10), epochs=1)
    assert "vanishing" not in run(sample)
    assert "vanishing" not in run(sample, sizes=(784, 16, 16, 16, 16, 10), activation="relu", eta=0.1, epochs=1)


def test_gradient_size_is_per_weight_not_per_layer(sample):
    """The first layer has 12,544 weights and the last 160: their RMS per weight is compared, not their sums."""
    net = Network((784, 16, 16, 10), seed=0)
    X, y = sample.train_x[:64], sample.train_labels[:64]
    facts = measure_network(net, X, y)
    gw, _ = net.backprop(X, y)
    assert facts.grad_rms == pytest.approx([math.sqrt(float(np.mean(g * g))) for g in gw], rel=1e-12)
    sums = [float(np.sqrt(np.sum(g * g))) for g in gw]
    assert sums[0] / sums[-1] > facts.grad_rms[0] / facts.grad_rms[-1] * 8  # (norms flatter the big layer)
    assert probe_size((784, 16, 16, 10)) == 256 and probe_size((784, 4096, 4096, 10)) == 16


# ---------------------------------------------------------------- the observer: once, spaced, again only after clearing
def fake(monkeypatch, holds: dict):
    def make(kind):
        return lambda run, net, on: Observation(kind, kind, "text", "advice", "plots") if holds[kind] else None

    monkeypatch.setattr(obs, "DETECTORS", {k: make(k) for k in KINDS})


def test_each_observation_is_said_once_until_its_condition_clears(monkeypatch):
    holds = {k: False for k in KINDS}
    fake(monkeypatch, holds)
    o = Observer(min_gap=3.0, refire_after=30.0)
    facts = RunFacts(np.zeros(0), 0)
    holds["plateau"] = True
    assert [x.kind for x in o.check(facts, None, 0.0)] == ["plateau"]
    for t in np.arange(0.25, 60, 0.25):  # every frame for a minute: not again
        assert o.check(facts, None, t) == []
    holds["plateau"] = False
    assert o.check(facts, None, 60.0) == []
    holds["plateau"] = True
    assert [x.kind for x in o.check(facts, None, 60.25)] == ["plateau"]  # it cleared and came back
    holds["plateau"] = False
    o.check(facts, None, 61.0)
    holds["plateau"] = True
    assert o.check(facts, None, 62.0) == []  # back too soon after it was said: waits
    assert [x.kind for x in o.check(facts, None, 90.5)] == ["plateau"]


def test_at_most_one_new_observation_every_few_seconds(monkeypatch):
    holds = {k: True for k in KINDS}
    fake(monkeypatch, holds)
    o = Observer(min_gap=3.0)
    facts = RunFacts(np.zeros(0), 0)
    said = []
    for t in np.arange(0.0, 30.0, 0.25):
        said += [(x.kind, t) for x in o.check(facts, None, t)]
    assert [k for k, _ in said] == list(KINDS)  # every one, in order of importance
    times = [t for _, t in said]
    assert all(b - a >= 3.0 for a, b in zip(times, times[1:]))
    o.reset()  # a new run: may be said again
    assert len(o.check(facts, None, 31.0)) == 1


def test_run_facts_from_the_history():
    from nnstudio.core.trainer import BatchReport

    with TrainingHistory() as h:
        h.extend([BatchReport(0, i, np.arange(10), 1.0 / (i + 1), 0.0, 10 * (i + 1), i + 1, 1.5, 10) for i in range(50)])
        f = RunFacts.of_history(h, 1.5, "quadratic", "sigmoid", recent=20)
    assert f.step == 50 and len(f.costs) == 20 and f.costs[-1] == pytest.approx(1 / 50)
    empty = RunFacts.of_history(TrainingHistory(), 1.5, "quadratic", "sigmoid")
    assert empty.step == 0 and not len(empty.costs)
    assert Observer().check(empty, None, 0.0) == []
    assert isinstance(measure_network(Network((784, 5, 10), seed=1), np.zeros((3, 784)), [1, 2, 3]), NetworkFacts)


def test_overshoot_also_when_the_cost_zig_zags_or_blows_up():
    """The two other faces of a step too long, on the numbers alone: epoch costs up and down by more than
    10 % each time, and an infinite cost; steady or gently falling costs say nothing."""
    flat = np.full(200, 0.2)

    def epochs(costs):
        return [(i + 1, 4000 * (i + 1), c, 0.8, None) for i, c in enumerate(costs)]

    zig = obs.overshoot(RunFacts(flat, 400, epochs([0.30, 0.20, 0.32, 0.21]), 8.0), None, False)
    assert zig is not None and "zig-zags" in zig.title and "η = 2.67" in zig.advice
    assert obs.overshoot(RunFacts(flat, 400, epochs([0.30, 0.25, 0.22, 0.20]), 1.5), None, False) is None
    assert obs.overshoot(RunFacts(flat, 400, epochs([0.30, 0.29, 0.30, 0.29]), 1.5), None, False) is None
    blown = obs.overshoot(RunFacts(np.r_[flat, np.inf], 201, [], 30.0), None, False)
    assert blown is not None and "blew up" in blown.title and blown.view == "playground"
