"""Lesson files: parsing and checking them, the shipped lessons, the learner's progress (Qt-free)."""

from __future__ import annotations

import re
import textwrap

import pytest

from nnstudio.lessons.live import LIVE
from nnstudio.lessons.parser import (
    BACKPROP_TABS, LESSONS_DIR, ExampleSpec, LessonError, LessonProgress, NeuronSpec, ParamSpec, load_lessons,
    parse_lesson,
)


def lesson_text(front: str, body: str = "Some text.\n\n## Try this\nSomething.") -> str:
    return "---\n" + textwrap.dedent(front).strip() + "\n---\n" + body


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
