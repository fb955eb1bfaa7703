"""Lessons as data: parsing and checking lesson files, progress, live numbers and rendering (Qt-free)."""

from __future__ import annotations

import math
import re
import textwrap

import numpy as np
import pytest

from nnstudio.cli import shipped_model_path
from nnstudio.core import Network, load_model
from nnstudio.components.explain import ParamRef, default_batch_indices
from nnstudio.core.gradcheck import numerical_derivative
from nnstudio.lessons.parser import (
    BACKPROP_TABS, LESSONS_DIR, LIVE, MISSING, ExampleSpec, LessonError, LessonProgress, LiveContext, NeuronSpec,
    ParamSpec, explorer_batch, live_values, load_lessons, markdown_to_html, parse_lesson, placeholders, render_html,
    render_text, resolve_example,
)
from nnstudio.data import load_dataset


@pytest.fixture(scope="module")
def ds():
    return load_dataset("mnist-sample")


@pytest.fixture(scope="module")
def net():
    return load_model(shipped_model_path())


@pytest.fixture(scope="module")
def lessons():
    return load_lessons()


def lesson_text(front: str, body: str = "Some text.\n\n## Try this\nSomething.") -> str:
    return "---\n" + textwrap.dedent(front).strip() + "\n---\n" + body


def context(net, ds, split="test", index=1, **kw) -> LiveContext:
    X = ds.test_x if split == "test" else ds.train_x
    y = ds.test_labels if split == "test" else ds.train_labels
    return LiveContext(net, X[index] / 255.0, int(y[index]), f"{split} #{index}", ds, **kw)


# ------------------------------------------------------------------------------ the shipped lessons
def test_the_shipped_path_has_twelve_valid_steps(lessons):
    assert [x.number for x in lessons] == list(range(1, 13))
    assert len({x.id for x in lessons}) == 12
    assert all(x.path.parent == LESSONS_DIR for x in lessons)
    for x in lessons:
        assert x.title and x.text and x.try_text, x.id
        assert x.placeholders <= set(LIVE), x.id
        assert x.placeholders, f"{x.id}: its numbers must come from the live network"
        assert x.setup.show, x.id
        # numbers in the text are live: the only digits written by hand are definitions (activations lie
        # between 0 and 1, "lit" means above 0.5, the desired output is 1 or 0, the 28×28 image, the 2 of ∂(a − y)²/∂a = 2(a − y))
        plain = re.sub(r"\{\{[^}]*\}\}", "", x.text + x.try_text)
        for m in re.finditer(r"\d+(?:[.,]\d+)?", plain):
            assert m.group() in {"0", "0.5", "1", "2", "28"}, (x.id, m.group())


def test_the_path_follows_the_videos(lessons):
    s = {x.id: x.setup for x in lessons}
    assert s["neuron"].example.target == "pad" and "diagram" in s["neuron"].show
    assert s["weights"].neuron == NeuronSpec(1, None)
    assert s["descent-picture"].primary == "playground" and s["sgd"].stochastic is True
    assert s["descent-network"].backprop_tab == "parameters"
    # step 8 explains a training example whose label is 2
    ex = s["backprop-one"].example
    assert (ex.target, ex.split, ex.label) == ("window", "train", 2)
    assert [s[k].backprop_tab for k in ("backprop-one", "backprop-all-neurons", "backprop-all-examples", "calculus")] \
        == ["one neuron", "all neurons", "all examples", "chain rule"]
    assert s["train-and-test"].network == "fresh" and s["train-and-test"].training_speed == 0.0
    assert set(BACKPROP_TABS) >= {x.setup.backprop_tab for x in lessons if x.setup.backprop_tab}


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


# ------------------------------------------------------------------------------ parsing and checking
def test_front_matter_values_comments_and_quotes():
    x = parse_lesson(lesson_text("""
        # a comment line
        id: my-step
        title: "Backprop: one example"
        show: backprop, diagram   # trailing comment
        backprop_tab: chain rule
        example: train label 2 misread
        parameter: weight last label brightest
        """), "05-my-step.md")
    assert (x.number, x.id, x.title) == (5, "my-step", "Backprop: one example")
    assert x.setup.show == ("backprop", "diagram") and x.setup.primary == "backprop"
    assert x.setup.example == ExampleSpec("window", "train", None, 2, "misread")
    assert x.setup.parameter == ParamSpec("weight", None, None, None)
    assert (x.text, x.try_text) == ("Some text.", "Something.")


@pytest.mark.parametrize("front, body, message", [
    ("id: a\ntitle: A\nshow: draw\ncolour: red", None, r"x\.md:5: unknown key 'colour'"),
    ("id: a\ntitle: A\nshow: drawing", None, r"x\.md:4: show: unknown view 'drawing'"),
    ("id: a\ntitle: A\nshow: draw\nshow: diagram", None, r"x\.md:5: 'show' is given twice"),
    ("id: a\ntitle: A\nshow: playground\nlearning_rate: -1", None, r"x\.md:5: learning_rate: .*positive"),
    ("id: a\ntitle: A\nshow: draw\nexample: test x", None, r"x\.md:5: example: index must be a whole number"),
    ("id: a\ntitle: A\nshow: draw\nexample: pad train 3", None, r"x\.md:5: example: the drawing pad takes test"),
    ("id: a\ntitle: A\nshow: draw\nbackprop_tab: chain rule", None, r"x\.md:5: backprop_tab needs 'backprop'"),
    ("id: a\ntitle: A\nshow: backprop\nbackprop_tab: chains", None, r"x\.md:5: backprop_tab: choose one of"),
    ("id: A b\ntitle: A\nshow: draw", None, r"x\.md:2: id must be"),
    ("title: A\nshow: draw", None, r"needs 'id:'"),
    ("id: a\ntitle: A", None, r"needs 'show:'"),
    ("id: a\ntitle: A\nshow: draw", "Text only.", r"'## Try this' section"),
    ("id: a\ntitle: A\nshow: draw", "## Try this\nx", r"no text before"),
    ("id: a\ntitle: A\nshow: draw", "The cost is {{live.kost}}.\n\n## Try this\nx", r"x\.md:6: unknown live value"),
    ("id: a\ntitle: A\nshow: draw", "Cost {{cost}}.\n\n## Try this\nx", r"x\.md:6: a placeholder is written"),
    ("id: a\ntitle: A\nshow: draw\nnonsense", None, r"x\.md:5: expected 'key: value'"),
])
def test_mistakes_are_one_line_errors_with_file_and_line(front, body, message):
    text = "---\n" + front + "\n---\n" + (body if body is not None else "Text.\n\n## Try this\nx")
    with pytest.raises(LessonError, match=message) as e:
        parse_lesson(text, "x.md")
    assert "\n" not in str(e.value)


def test_no_front_matter_or_no_end():
    with pytest.raises(LessonError, match="starts with a '---' line"):
        parse_lesson("Just text", "x.md")
    with pytest.raises(LessonError, match="no closing '---'"):
        parse_lesson("---\nid: a\n", "x.md")


def test_load_lessons_checks_numbering_and_ignores_other_files(tmp_path):
    (tmp_path / "README.md").write_text("not a lesson")
    (tmp_path / "01-a.md").write_text(lesson_text("id: a\ntitle: A\nshow: draw"))
    (tmp_path / "02-b.md").write_text(lesson_text("id: b\ntitle: B\nshow: diagram"))
    assert [x.id for x in load_lessons(tmp_path)] == ["a", "b"]
    (tmp_path / "04-d.md").write_text(lesson_text("id: d\ntitle: D\nshow: draw"))
    with pytest.raises(LessonError, match="expected 03"):
        load_lessons(tmp_path)
    (tmp_path / "04-d.md").unlink()
    (tmp_path / "03-c.md").write_text(lesson_text("id: a\ntitle: C\nshow: draw"))
    with pytest.raises(LessonError, match="used by more than one"):
        load_lessons(tmp_path)
    (tmp_path / "03-c.md").write_bytes(b"---\nid: c\n\xff\xfe")
    with pytest.raises(LessonError, match="not UTF-8"):
        load_lessons(tmp_path)
    with pytest.raises(LessonError, match="no lesson files"):
        load_lessons(tmp_path / "nowhere")


def test_a_translation_keeps_the_setup(tmp_path):
    (tmp_path / "01-a.md").write_text(lesson_text("id: a\ntitle: A\nshow: draw\nnetwork: pretrained"))
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "01-a.md").write_text(lesson_text(
        "id: a\ntitle: Un neurone", "Le coût est {{live.cost}}.\n\n## Try this\nDessinez."))
    base = load_lessons(tmp_path)[0]
    fr = load_lessons(tmp_path, lang="fr")[0]
    assert (fr.title, fr.text, fr.try_text) == ("Un neurone", "Le coût est {{live.cost}}.", "Dessinez.")
    assert fr.setup == base.setup and fr.number == 1
    assert load_lessons(tmp_path, lang="de")[0] == base  # no such translation: the original
    (tmp_path / "fr" / "01-a.md").write_text(lesson_text("id: a\ntitle: Un\nnetwork: fresh"))
    with pytest.raises(LessonError, match="translation holds id, title and text only"):
        load_lessons(tmp_path, lang="fr")


@pytest.mark.parametrize("text, spec", [
    ("keep", ExampleSpec()),
    ("test 3", ExampleSpec("window", "test", 3)),
    ("train 17", ExampleSpec("window", "train", 17)),
    ("train label 2", ExampleSpec("window", "train", None, 2, "first")),
    ("test label 9 hardest", ExampleSpec("window", "test", None, 9, "hardest")),
    ("pad test 3", ExampleSpec("pad", "test", 3)),
    ("pad clear", ExampleSpec("pad", clear=True)),
])
def test_example_specs(text, spec):
    assert ExampleSpec.parse(text) == spec


@pytest.mark.parametrize("text", ["", "valid 3", "test", "test -1", "train label", "train label 2 best",
                                  "pad test label 2", "test 1 2"])
def test_bad_example_specs(text):
    with pytest.raises(ValueError):
        ExampleSpec.parse(text)


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


def test_neuron_and_parameter_specs(net, ds):
    x = ds.test_x[1] / 255.0
    a1 = net.forward(x[None]).activations[1][0]
    assert NeuronSpec.parse("1 brightest").resolve(net, x) == (1, int(np.argmax(a1)))
    assert NeuronSpec.parse("2 5").resolve(net, x) == (2, 5)
    with pytest.raises(ValueError):
        NeuronSpec.parse("2 16").resolve(net, x)
    a2 = net.forward(x[None]).activations[2][0]
    assert ParamSpec.parse("weight last label brightest").resolve(net, x, 7) == ParamRef(2, 7, int(np.argmax(a2)))
    assert ParamSpec.parse("bias 1 3").resolve(net, x, 7) == ParamRef(0, 3, None)
    assert ParamSpec.parse("weight 2 4 9").resolve(net, x, 7) == ParamRef(1, 4, 9)
    for bad in ("weight last label", "bias 1 2 3", "gain 1 2", "weight 0 1 1"):
        with pytest.raises(ValueError):
            ParamSpec.parse(bad)


# ------------------------------------------------------------------------------ progress
def test_progress_moves_and_remembers():
    p = LessonProgress(("a", "b", "c"))
    assert (p.current, p.at_start, p.visited) == (0, True, {"a"})
    p.next(), p.next(), p.next()
    assert p.current == 2 and p.at_end and p.visited == {"a", "b", "c"}
    p.back()
    assert p.current_id == "b"
    p.go(-5)
    assert p.current == 0
    saved = LessonProgress(("a", "b", "c"), 1).save()
    assert saved == {"step": "b", "visited": "b"}
    q = LessonProgress.restore(("a", "b", "c"), **{"step": "c", "visited": "a,c"})
    assert (q.current_id, q.visited) == ("c", {"a", "c"})
    assert LessonProgress.restore(("a", "b"), ["b"], ["a", "zzz"]).current == 0  # a list is not a step id
    r = LessonProgress.restore(("a", "b"), "gone", 42)
    assert (r.current, r.visited) == (0, {"a"})
    with pytest.raises(ValueError):
        LessonProgress(())


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


# ------------------------------------------------------------------------------ rendering
def test_rendering_markdown_and_values():
    t = "A **bold** *word* and `code`: {{live.cost}}.\n\n- one {{live.guess}}\n- two\n  continued\n\n## Heading"
    html = render_html(t, {"cost": "0.5 <b>", "guess": "7"}, "color:red")
    assert "<b>bold</b>" in html and "<i>word</i>" in html and '<span style="white-space:nowrap">code</span>' in html
    assert '<span style="color:red">0.5 &lt;b&gt;</span>' in html
    assert "<ul><li>one <span" in html and "<li>two continued</li></ul>" in html and "<h3>Heading</h3>" in html
    assert render_text("cost {{ live.cost }}!", {"cost": "1"}) == "cost 1!"
    assert render_text("{{live.cost}}", {}) == MISSING
    assert render_html("x{{live.cost_note}}", {"cost_note": ""}) == "<p>x</p>"
    assert markdown_to_html("a < b & c") == "<p>a &lt; b &amp; c</p>"
    assert placeholders("{{live.a}} {{ live.b }} {{c}}") == {"a", "b"}
