"""Teach it yours, end to end through the studio's widgets: draw a digit the network misreads (real mouse
strokes on the pad), click the digit it is, Step ▶, and it is read as that digit; Undo puts back every
weight bit for bit; the drawing is kept in "my digits", shown by the dataset browser (relabel, delete) and
still there after a restart; a damaged "my digits" file is told in one line and nothing else is lost."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers_gui import settle
from test_pad import stroke

from nnstudio.data.mydigits import FILE_NAME, load_my_digits, my_digits_path
from nnstudio.gui.qt import Qt
from nnstudio.gui.views.evaluation.pages import MINE
from nnstudio.gui.views.pad.view import CAPTION_TAUGHT
from nnstudio.session.teach import REAL_IN_BATCH

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def same(a, b) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


def slashed_zero():
    """A zero with a slash through it, as programmers write it: the shipped network reads it as 8."""
    oval = [(140 + 50 * math.cos(t), 140 + 85 * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 31)]
    slash = [(95 + 90 * i / 12, 225 - 170 * i / 12) for i in range(13)]
    return [oval, slash]


def draw(qtbot, pad_view, strokes):
    for s in strokes:
        stroke(qtbot, pad_view.pad, s)
    qtbot.waitUntil(lambda: not pad_view._timer.isActive() and pad_view.prediction is not None, timeout=5000)
    return pad_view.prediction


def reads(qtbot, pad_view, digit, timeout=10000):
    """Wait until the pad reads its drawing as ``digit`` (with the network now on screen)."""
    qtbot.waitUntil(lambda: pad_view.prediction is not None and pad_view.prediction.guess == digit, timeout=timeout)


def click_bar(qtbot, pad_view, digit):
    qtbot.mouseClick(pad_view.bars, Qt.MouseButton.LeftButton, pos=pad_view.bars.row_center(digit))


def teach_a_slashed_zero(qtbot, w):
    """Draw a slashed zero on the window's pad, click the 0 bar, Step ▶, and wait until it reads 0."""
    w.show_view("draw")
    pad = w.views["draw"]
    draw(qtbot, pad, slashed_zero())
    click_bar(qtbot, pad, 0)
    qtbot.mouseClick(pad.teach_panel.step_button, Qt.MouseButton.LeftButton)
    reads(qtbot, pad, 0)
    return pad


@pytest.fixture
def studio(make_window):
    w = make_window(load_views=True, size=(1600, 1000))
    w.show_view("draw")
    return w


def test_teach_a_misread_drawing_step_it_is_read_right_undo_puts_every_weight_back(qtbot, studio):
    w, s = studio, studio.session
    pad = w.views["draw"]
    pred = draw(qtbot, pad, slashed_zero())
    assert pred.guess == 8, pred.activations  # (misread)
    before_net = s.network.copy()

    click_bar(qtbot, pad, 0)  # "no: it's a 0"
    assert pad.teaching == 0 and pad.teach_panel.isVisible() and not pad.guess.isVisible()
    assert pad.outputs_caption.text() == CAPTION_TAUGHT
    assert "That's a <b" in pad.teach_panel.title.text() and "at first read as 8" in pad.teach_panel.title.text()
    # the drawing, labelled 0, is the studio's example: the Backprop explorer shows its desired nudges
    assert s.current_input.label == 0 and s.current_input.source == "drawing pad"
    qtbot.mouseClick(pad.teach_panel.nudges_button, Qt.MouseButton.LeftButton)
    explorer = w.views["backprop"]
    qtbot.waitUntil(lambda: explorer.isVisible() and explorer.current_example is not None, timeout=5000)
    assert explorer.current_example[1] == 0
    assert np.allclose(explorer.current_example[0].reshape(-1), pad.network_input().reshape(-1))
    # ... with the network's own cost (the step's), whatever cost the explorer explained with before
    assert explorer.cost_box.currentText().startswith("cross-entropy") and s.network.cost.name == "cross-entropy"
    explained_cost = explorer.example_cost.cost

    # Step ▶ (mixed with 9 real digits, the default)
    assert not pad.teach_panel.alone
    w.show_view("draw")
    qtbot.mouseClick(pad.teach_panel.step_button, Qt.MouseButton.LeftButton)
    reads(qtbot, pad, 0)
    res = pad.taught
    assert res is not None and res.label == 0 and res.guess_before == 8 and res.learned
    assert len(res.real_indices) == REAL_IN_BATCH and not res.alone
    assert res.example_cost_before == pytest.approx(explained_cost)  # (the explorer explained this very step)
    assert not same(s.network, before_net) and w.undo_action.isEnabled()
    # the bars: the digit said outlined, each output's value before the step dashed; then what the step did
    assert np.array_equal(pad.bars.before, res.before) and pad.bars.values().argmax() == 0
    qtbot.waitUntil(lambda: pad.taught.measured, timeout=10000)
    res = pad.taught
    text = pad.teach_panel.result.text()
    assert text.startswith(f"Read as 8 ({res.before[8]:.2f}) → 0 ({res.after[0]:.2f}) after one step with 9 real digits")
    assert f"Test accuracy {100 * res.accuracy_before:.1f} % → {100 * res.accuracy_after:.1f} %" in text
    assert f"(alone: {100 * res.other_accuracy_after:.1f} %)" in text
    assert res.other_accuracy_after < res.accuracy_after  # (why it is averaged with real digits)
    assert "averaged with 9 real digits" in pad.teach_panel.why.text()
    assert list(s.teacher.my_digits.labels) == [0] and my_digits_path().is_file()

    # Undo (the panel's button): every weight as it was, bit for bit, and the drawing misread again
    qtbot.mouseClick(pad.teach_panel.undo_button, Qt.MouseButton.LeftButton)
    assert same(s.network, before_net) and not s.can_undo
    reads(qtbot, pad, 8)
    assert "changed since this step" in pad.teach_panel.result.text()
    assert pad.bars.before is None
    # the drawing stays in my digits (kept when taught; the browser deletes it)
    assert len(s.teacher.my_digits) == 1

    # drawing again ends teaching: the preview and the guess come back
    stroke(qtbot, pad.pad, [(60, 60), (70, 70)])
    assert pad.teaching is None and pad.guess.isVisible() and not pad.teach_panel.isVisible()
    # (let the new drawing reach every view before the window closes: MainWindow hands inputs over in a
    # QTimer.singleShot(0, ...) that is not tied to the window, and one still queued would reach it deleted)
    qtbot.waitUntil(lambda: not pad._timer.isActive() and w.views_input is s.current_input, timeout=5000)


def test_the_digit_key_teaches_and_alone_is_one_choice(qtbot, studio):
    w, s = studio, studio.session
    pad = w.views["draw"]
    draw(qtbot, pad, slashed_zero())
    pad.pad.setFocus()
    qtbot.keyClick(pad.pad, Qt.Key.Key_0)
    assert pad.teaching == 0
    qtbot.mouseClick(pad.teach_panel.alone_radio, Qt.MouseButton.LeftButton)
    assert pad.teach_panel.alone
    qtbot.mouseClick(pad.teach_panel.step_button, Qt.MouseButton.LeftButton)
    reads(qtbot, pad, 0)
    qtbot.waitUntil(lambda: pad.taught is not None and pad.taught.measured, timeout=10000)
    res = pad.taught
    assert res.alone and len(res.real_indices) == REAL_IN_BATCH  # (the same 9 for the other choice's accuracy)
    assert "(mixed: " in pad.teach_panel.result.text()
    assert res.accuracy_after < res.other_accuracy_after


def test_my_digits_survive_a_restart_and_the_browser_relabels_and_deletes_them(qtbot, make_window):
    w = make_window(load_views=True, size=(1600, 1000))
    teach_a_slashed_zero(qtbot, w)
    kept = w.session.teacher.my_digits
    assert len(kept) == 1
    w.close()

    w2 = make_window(load_views=True, size=(1600, 1000))  # (a restart: a new window, the same data folder)
    mine = w2.session.teacher.my_digits
    assert list(mine.ids) == list(kept.ids) and np.array_equal(mine.images, kept.images)
    assert w2.controls.mix_in_check.text() == "Mix in my digits (1)"
    ev = w2.views["evaluation"]
    w2.show_view("evaluation")
    b = ev.browser
    ev.show_page(b)
    assert b.split_combo.itemText(2) == "my digits (1)"
    b.split_combo.setCurrentIndex(2)
    assert b.split == MINE and b.mine.isVisible() and len(b.gallery.items()) == 1
    item = b.gallery.items()[0]
    assert item.caption == "0"
    qtbot.mouseClick(b.gallery.viewport(), Qt.MouseButton.LeftButton, pos=b.gallery.item_rect(0).center())
    assert b.mine.selected == int(mine.ids[0]) and b.mine.label_combo.currentIndex() == 0
    # the launch shows the pretrained network again: it reads the slashed zero as 8, and the thumbnail says so
    # (in red) once the view has the network (at the next display frame)
    qtbot.waitUntil(lambda: b.gallery.items()[0].detail == "read 8", timeout=5000)
    # review: the digit is the studio's example
    assert w2.session.current_input.source == f"my digit #{int(mine.ids[0])}"
    # relabel (the combo), then delete
    combo = b.mine.label_combo
    combo.setFocus()
    for _ in range(6):
        qtbot.keyClick(combo, Qt.Key.Key_Down)  # (a user picks 6 with the keyboard: each pick is 'activated')
    assert list(load_my_digits().labels) == [6] and b.gallery.items()[0].caption == "6"
    qtbot.mouseClick(b.mine.delete_button, Qt.MouseButton.LeftButton)
    assert len(load_my_digits()) == 0 and b.split_combo.itemText(2) == "my digits (0)"
    assert b.gallery.items() == [] and b.mine.selected is None


def test_a_damaged_my_digits_file_is_told_in_one_line_and_nothing_else_is_lost(qtbot, make_window):
    path = my_digits_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    damaged = b"PK\x03\x04" + bytes(range(256)) * 4
    path.write_bytes(damaged)
    w = make_window(load_views=True, size=(1600, 1000))
    said = [m for m in w.messages if m[1] == "My digits"]
    assert len(said) == 1 and said[0][0] == "warning", w.messages
    text = said[0][2]
    assert "\n" not in text and text.startswith(f"{FILE_NAME}: damaged") and "not used; kept as" in text
    aside = [p for p in path.parent.iterdir() if p.name != FILE_NAME]
    assert len(aside) == 1 and aside[0].name in text and aside[0].read_bytes() == damaged
    assert not path.exists()  # (not overwritten: set aside, and a new file only once something is taught)
    # the studio is whole: the network, the data, the pad; teaching starts a new file
    w.show_view("draw")
    pad = w.views["draw"]
    assert draw(qtbot, pad, slashed_zero()).guess == 8
    click_bar(qtbot, pad, 0)
    qtbot.mouseClick(pad.teach_panel.step_button, Qt.MouseButton.LeftButton)
    reads(qtbot, pad, 0)
    assert len(load_my_digits(path)) == 1 and aside[0].read_bytes() == damaged


def test_training_can_mix_my_digits_in(qtbot, make_window):
    w = make_window(load_views=True, size=(1600, 1000))
    s = w.session
    teach_a_slashed_zero(qtbot, w)
    n = s.dataset.n_train
    taught = s.network.copy()
    w.controls.mix_in_check.setChecked(True)  # (the Training panel's box)
    settle(qtbot, w)
    r = s.teacher.in_run[1]
    assert s.teacher.mix_in and s.teacher.in_run == (1, r) and r >= 1 and s.history.n_train == n + r
    assert same(s.network, taught)  # (the weights are kept: a new run of the same network)
    assert w.controls.my_digits_info.text().startswith(f"In training, each {r} times")
    w.close()
    w2 = make_window(load_views=True, size=(1600, 1000))  # (the choice is remembered, and the first run takes it)
    assert w2.controls.mix_in_check.isChecked() and w2.session.teacher.in_run == (1, r)
    assert w2.session.history.n_train == n + r


def test_the_panel_says_when_one_step_was_not_enough(qtbot):
    from nnstudio.gui.views.pad.teach import TeachPanel
    from nnstudio.session.teach import TeachResult

    panel = TeachPanel()
    qtbot.addWidget(panel)
    before, after = np.full(10, 0.01), np.full(10, 0.01)
    before[5], after[3], after[9] = 0.82, 0.96, 0.41
    res = TeachResult(1, 9, False, 0.5, "cross-entropy", np.zeros(784), np.arange(9), before, after, 1.0, 0.5,
                      accuracy_before=0.936, accuracy_after=0.923, other_accuracy_after=0.55)
    panel.show_result(res, [str(d) for d in range(10)])
    text = panel.result.text()
    assert text.startswith("Read as 5 (0.82) → 3 (0.96) after one step with 9 real digits (η = 0.5). ")
    assert "Test accuracy 93.6 % → 92.3 % (alone: 55.0 %)." in text and text.endswith("Not read as 9 yet: Step ▶ again.")
    panel.show_result(res, [str(d) for d in range(10)], current=False)
    assert "changed since this step" in panel.result.text()


SIZES = [(1024, 700), (1280, 720), (1600, 1000), (1920, 1080)]


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_teaching_panel_and_my_digits_fit_at_every_size(qtbot, make_window, size, theme):
    from geometry import problems

    w = make_window(load_views=True, size=size)
    if theme == "light":
        w.light_action.trigger()
    w.reset_layout()
    w.show_view("draw")
    qtbot.wait(50)
    pad = w.views["draw"]
    draw(qtbot, pad, slashed_zero())
    click_bar(qtbot, pad, 0)
    qtbot.wait(30)
    found = {p: "labelled" for p in problems(w)}
    qtbot.mouseClick(pad.teach_panel.step_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pad.taught is not None and pad.taught.measured, timeout=10000)
    qtbot.wait(30)
    assert pad.teach_panel.isVisible() and pad.bars.isVisible()
    found.update({p: "stepped" for p in problems(w) if p not in found})
    ev = w.views["evaluation"]
    w.show_view("evaluation")
    ev.show_page(ev.browser)
    ev.browser.split_combo.setCurrentIndex(2)
    qtbot.mouseClick(ev.browser.gallery.viewport(), Qt.MouseButton.LeftButton,
                     pos=ev.browser.gallery.item_rect(0).center())
    qtbot.wait(30)
    assert ev.browser.mine.delete_button.isVisible()
    found.update({p: "my digits" for p in problems(w) if p not in found})
    assert not found, "\n".join(f"[{state}] {p}" for p, state in found.items())
