"""The Compare window, driven like a person in the real studio window: Training ▸ Compare runs… opens it
with η too small / good / too large paused at their common start (three diagrams of the same
weights), one Step button moves every run over the same examples, Play and Pause drive them all,
the presets change the runs, the curves are overlaid (one per run, in the run's colour), "Open in
the studio" hands a run over (Training ▸ Undo takes it back), and the studio's network is never
changed by the comparison itself."""

from __future__ import annotations

import pytest
from helpers_session import same

from nnstudio.gui.qt import QtCore, Qt

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)")


def click(qtbot, button):
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.fixture
def studio(make_window):
    return make_window(load_views=True, size=(1600, 1000), full_speed=False)


def test_compare_runs_from_the_menu_step_play_and_open_in_the_studio(qtbot, studio):
    w = studio
    s = w.session
    before = s.network.copy()
    w.compare_action.trigger()
    win = w.compare_window
    qtbot.waitUntil(lambda: len(win.panels) == 3, timeout=30000)
    c = win.comparison
    assert win.isVisible() and "separate experiment" in win.windowTitle()
    # η too small / good / too large, paused at their common start: three diagrams of the same weights
    assert [p.header.text().split("&nbsp;·&nbsp;")[-1] for p in win.panels] == [
        "η = 0.1 (too small)", "η = 1.5 (good)", "η = 10 (too large)"]
    nets = [p.canvas.model.network for p in win.panels]
    assert all(same(n, nets[0]) for n in nets) and c.run_state == "paused"
    assert "What to look for" in win.note.text()
    # one Step: every run, the same examples
    click(qtbot, win.step_button)
    qtbot.waitUntil(lambda: c.step_count == 1 and all(p.canvas.model.network is not None
                                                        and c.states[i].step == 1 for i, p in enumerate(win.panels)),
                    timeout=30000)
    qtbot.waitUntil(lambda: "step 1 " in win.progress.text(), timeout=5000)
    nets = [p.canvas.model.network for p in win.panels]
    assert not same(nets[0], nets[1]) and not same(nets[1], nets[2])  # (one η each)
    # Play, then Pause: every run moved on together
    win.speed_combo.setCurrentIndex(win.speed_combo.findText("full speed"))
    click(qtbot, win.play_button)
    assert win.play_button.text() == "Pause"
    qtbot.waitUntil(lambda: c.step_count >= 150, timeout=60000)
    click(qtbot, win.play_button)
    qtbot.waitUntil(lambda: c.run_state == "paused", timeout=30000)
    qtbot.wait(200)
    win.tick()
    n = c.step_count
    assert all(st.step == n for st in c.states) and all(h.n == n for h in c.histories)
    # the curves: one per run, overlaid, up to the examples seen
    xs = [curve.getData()[0] for curve in win.plots.cost_curves]
    assert len(xs) == 3 and all(x is not None and len(x) and x[-1] == n * 10 for x in xs)
    assert "A · η = 0.1 (too small)" in win.plots.legend_label.text()
    # the studio's network is untouched by the comparison
    assert same(s.network, before)
    # "Open in the studio": run B becomes the studio's network; Training ▸ Undo puts the old one back
    s.confirm = lambda question: True
    click(qtbot, win.panels[1].open_button)
    qtbot.waitUntil(lambda: same(s.network, c.states[1].network), timeout=10000)
    assert s.hyper["learning_rate"] == 1.5
    assert "Run B" in win.note.text()
    w.undo_action.trigger()
    qtbot.waitUntil(lambda: not same(s.network, c.states[1].network), timeout=10000)
    # closing the studio stops the comparison's training process too
    worker = c.worker
    assert worker.alive
    w.close()
    assert c.worker is None and not worker.alive


def test_the_presets_and_a_custom_comparison(qtbot, studio):
    w = studio
    win = w.open_compare()
    qtbot.waitUntil(lambda: len(win.panels) == 3, timeout=30000)
    c = win.comparison
    click(qtbot, win.preset_buttons["batch"])
    qtbot.waitUntil(lambda: c.setup.vary == "batch_size", timeout=5000)
    assert [r.batch_size for r in c.runs] == [1, 10, 100] and len(win.panels) == 3
    click(qtbot, win.step_button)
    qtbot.waitUntil(lambda: c.step_count == 1, timeout=30000)
    assert [st.step for st in c.states] == [100, 10, 1]  # one step: the same 100 examples for each
    click(qtbot, win.preset_buttons["activation"])
    qtbot.waitUntil(lambda: len(win.panels) == 2, timeout=5000)
    assert [r.activation for r in c.runs] == ["sigmoid", "relu"]
    # any setting, typed: bad values are one line in the note, nothing set up
    win.vary_combo.setCurrentIndex(win.vary_combo.findData("learning_rate"))
    win.values_edit.setText("0.5, oops")
    click(qtbot, win.start_button)
    assert "not a number" in win.note.text() and c.setup.vary == "activation"
    win.values_edit.setText("0.5, 3")
    qtbot.keyClick(win.values_edit, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: c.setup.vary == "learning_rate", timeout=5000)
    assert [r.learning_rate for r in c.runs] == [0.5, 3.0] and len(win.panels) == 2
    # Rewind: every run at the common start again
    click(qtbot, win.step_button)
    qtbot.waitUntil(lambda: c.step_count == 1, timeout=30000)
    click(qtbot, win.rewind_button)
    assert c.step_count == 0 and all(h.n == 0 for h in c.histories)
    win.close()
    assert not win.isVisible() and c.run_state != "running"
