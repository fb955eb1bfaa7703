"""The live numbers: each {{live.name}} matches the network it is computed from (Qt-free)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from nnstudio.core import Network
from nnstudio.components.explain import default_batch_indices
from nnstudio.core.gradcheck import numerical_derivative
from nnstudio.lessons.live import LIVE, MISSING, LiveContext, explorer_batch, live_values, resolve_example
from nnstudio.lessons.render import render_html, render_text
from nnstudio.lessons.specs import ExampleSpec, NeuronSpec, ParamSpec


def context(net, ds, split="test", index=1, **kw) -> LiveContext:
    X = ds.test_x if split == "test" else ds.train_x
    y = ds.test_labels if split == "test" else ds.train_labels
    return LiveContext(net, X[index] / 255.0, int(y[index]), f"{split} #{index}", ds, **kw)


# ------------------------------------------------------------------------------ the shipped lessons
def test_every_shipped_step_renders_with_live_numbers(lessons, net, ds):
    cache = {}
    for x in lessons:
        s = x.setup
        split, i = "test", 1
        if not s.example.keeps:
            split, i = s.example.split, resolve_example(s.example, ds, net)
        ctx = context(net, ds, split, i, neuron=s.neuron, parameter=s.parameter, focus=s.focus, preset=s.preset,
                      learning_rate=s.learning_rate, start=s.start, training_batch_size=s.training_batch_size)
        values = live_values(ctx, x.placeholders, cache)
        assert MISSING not in values.values(), (x.id, values)
        for t in (x.text, x.try_text):
            out = render_text(t, values)
            assert "{{" not in out and "}}" not in out
            html = render_html(t, values)
            assert "{{" not in html


# ------------------------------------------------------------------------------ examples
def test_resolving_examples(ds, net):
    first2 = int(np.flatnonzero(ds.train_labels == 2)[0])
    assert resolve_example(ExampleSpec.parse("train label 2"), ds, net) == first2
    i = resolve_example(ExampleSpec.parse("train label 2 misread"), ds, net)
    assert ds.train_labels[i] == 2 and net.predict(ds.train_x[i:i + 1])[0] != 2
    twos = np.flatnonzero(ds.train_labels == 2)
    assert i == twos[np.flatnonzero(net.predict(ds.train_x[twos]) != 2)[0]]
    h = resolve_example(ExampleSpec.parse("test label 5 hardest"), ds, net)
    fives = np.flatnonzero(ds.test_labels == 5)
    costs = net.feedforward(ds.test_x[fives]).copy()
    costs[:, 5] -= 1
    assert h == fives[np.argmax((costs ** 2).sum(axis=1))]
    assert resolve_example(ExampleSpec.parse("test 7"), ds) == 7
    with pytest.raises(ValueError, match="1,000 test images, not #5000"):
        resolve_example(ExampleSpec.parse("test 5000"), ds)


# ------------------------------------------------------------------------------ live numbers
def test_live_numbers_match_the_network(net, ds):
    ctx = context(net, ds, "test", 1)
    names = ["sizes", "n_params", "n_weights", "n_biases", "n_inputs", "n_hidden", "label", "guess", "confidence",
             "cost", "accuracy", "test_cost", "train_cost", "lit_pixels", "source", "n_train", "n_test"]
    v = live_values(ctx, names)
    x, y = ds.test_x[1] / 255.0, int(ds.test_labels[1])
    a = net.feedforward(x[None])[0]
    target = np.eye(10)[y]
    assert v["sizes"] == "784-16-16-10" and v["n_params"] == "13,002"
    assert (v["n_weights"], v["n_biases"], v["n_inputs"], v["n_hidden"]) == ("12,960", "42", "784", "16 and 16")
    assert v["label"] == str(y) and v["guess"] == str(int(a.argmax()))
    assert float(v["confidence"]) == pytest.approx(a.max(), rel=5e-3)
    # the videos' cost: Σ (a − y)², no ½, whatever cost the network was trained with
    assert net.cost.name == "cross-entropy"
    assert float(v["cost"].replace("−", "-")) == pytest.approx(((a - target) ** 2).sum(), rel=5e-3)
    acc, _ = net.evaluate(ds.test_x, ds.test_labels)
    assert v["accuracy"] == f"{100 * acc:.1f} %"
    out = net.feedforward(ds.train_x)
    train = ((out - np.eye(10)[ds.train_labels]) ** 2).sum(axis=1).mean()
    assert float(v["train_cost"]) == pytest.approx(train, rel=5e-3)
    assert v["lit_pixels"] == str(int((x > 0.5).sum()))
    assert (v["source"], v["n_train"], v["n_test"]) == ("test #1", "4,000", "1,000")


def test_live_backprop_numbers(net, ds):
    i = resolve_example(ExampleSpec.parse("train label 2 misread"), ds, net)
    spec = ParamSpec.parse("weight last label brightest")
    ctx = context(net, ds, "train", i, parameter=spec, explorer_eta=1.5)
    v = live_values(ctx, ["out_a", "out_desired", "cr_product", "cr_numerical", "cr_error", "batch_avg_change",
                          "batch_agree", "explorer_batch_size", "param", "step_cost_before", "step_cost_after"])
    num = lambda s: float(s.replace("−", "-").replace("×10", "e").translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))
    x = ds.train_x[i] / 255.0
    a2 = net.feedforward(x[None])[0][2]
    assert num(v["out_a"]) == pytest.approx(a2, rel=5e-3)
    assert num(v["out_desired"]) == pytest.approx(-2 * (a2 - 1), rel=5e-3)  # −∂C/∂a, C = Σ (a − y)²
    assert num(v["cr_product"]) == pytest.approx(num(v["cr_numerical"]), rel=1e-3)
    assert num(v["cr_error"]) < 1e-6
    # the average of the mini-batch's wished changes is −∂C/∂w of the batch's mean quadratic cost
    from nnstudio.components.explain import explained

    q = explained(net, "quadratic")
    idx = default_batch_indices(ds.n_train, 10, 0)
    ref = spec.resolve(net, x, 2)
    gw, gb = q.backprop(ds.train_x[idx], ds.train_labels[idx])
    assert num(v["batch_avg_change"]) == pytest.approx(-ref.of(gw, gb), rel=5e-3)
    col = ref.gradcheck_col(net.sizes)
    assert -numerical_derivative(q, ds.train_x[idx] / 255.0, ds.train_labels[idx], ref.layer, ref.row, col) == \
        pytest.approx(num(v["batch_avg_change"]), rel=1e-2)
    assert v["explorer_batch_size"] == "10" and v["param"].startswith("weight from hidden 2 neuron")
    assert num(v["step_cost_after"]) < num(v["step_cost_before"])


def test_live_playground_numbers(net, ds):
    ctx = LiveContext(preset="valley", learning_rate=0.1)
    v = live_values(ctx, ["preset", "eta", "regime", "eta_crawls", "eta_overshoots", "eta_diverges", "descent"])
    assert v["preset"] == "elongated valley" and v["eta"] == "0.1" and v["regime"] == "a good size"
    assert float(v["eta_diverges"]) == pytest.approx(0.5, rel=1e-2)  # 2 ÷ curvature 4
    assert re.fullmatch(r"reaches the bottom in [\d,]+ steps", v["descent"])
    far = live_values(LiveContext(preset="valley", learning_rate=0.9), ["regime", "descent"])
    assert far == {"regime": "far too large", "descent": "never settles: it diverges"}


def test_live_neuron_numbers(net, ds):
    ctx = context(net, ds, "test", 1, neuron=NeuronSpec(1, 3))
    v = live_values(ctx, ["neuron", "neuron_weighted_sum", "neuron_bias", "neuron_z", "neuron_activation"])
    x = ds.test_x[1] / 255.0
    s = float(net.weights[0][3] @ x)
    b = float(net.biases[0][3])
    assert v["neuron"] == "3"
    assert float(v["neuron_weighted_sum"].replace("−", "-")) == pytest.approx(s, rel=5e-3, abs=1e-3)
    assert float(v["neuron_bias"].replace("−", "-")) == pytest.approx(b, rel=5e-3, abs=1e-3)
    assert float(v["neuron_activation"]) == pytest.approx(1 / (1 + math.exp(-(s + b))), rel=5e-3, abs=1e-3)


def test_missing_context_gives_a_dash_never_an_error():
    v = live_values(LiveContext(), list(LIVE))
    assert v["cost"] == MISSING and v["sizes"] == MISSING and v["regime"] == MISSING
    net = Network((784, 16, 16, 10), seed=0)
    v = live_values(LiveContext(network=net), ["sizes", "cost", "accuracy", "noise_guess"])
    assert v["sizes"] == "784-16-16-10" and v["cost"] == MISSING and v["accuracy"] == MISSING
    assert v["noise_guess"] != MISSING
    with pytest.raises(KeyError):
        live_values(LiveContext(), ["no_such_value"])


def test_explorer_batch_follows_the_last_mini_batch(ds):
    assert np.array_equal(explorer_batch(ds, None), default_batch_indices(ds.n_train, 10, 0))
    assert np.array_equal(explorer_batch(ds, np.array([5, 6])), [5, 6])
    assert np.array_equal(explorer_batch(ds, np.array([5, 99999])), default_batch_indices(ds.n_train, 10, 0))
    assert explorer_batch(None) is None


def test_every_live_function_is_named_after_its_value():
    """Tracebacks and profiles tell the live functions apart: ``live_<name>``."""
    assert {name: fn.__name__ for name, (_, fn) in LIVE.items()} == {name: f"live_{name}" for name in LIVE}
