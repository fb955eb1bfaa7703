"""The timeline in the window, driven like a person: the scrubber under the plots shows any
mini-batch (bit for bit), the past is marked in the violet of theme.PAST with "step s of N", L goes
back to live, the cost curve answers a hover with the exact mini-batch, epoch and cost and a click
scrubs there, Continue from here forks with new settings, runs are saved, opened and exported."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gui import key, settle, until_paused
from PIL import Image

from nnstudio.core import Network, Trainer
from nnstudio.gui.qt import QtCore, QtWidgets, Qt
from nnstudio.gui.style import theme
from nnstudio.gui.views.timeline import past_colour
from nnstudio.training.runfile import load_run

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)")

STEPS = 3300  # (several checkpoints: the loop keeps one every ~480-970 mini-batches here)


@pytest.fixture
def trained(qtbot, make_window):
    w = make_window()
    s = w.session
    key(qtbot, w, Qt.Key.Key_Space)  # (Play: a new network of the recipe)
    qtbot.waitUntil(lambda: s.history.n >= STEPS, timeout=60000)
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_Space))
    settle(qtbot, w)
    w.timeline_bar.refresh()
    return w


def fresh(w, step: int) -> np.ndarray:
    """The run of the window's recipe from its start, stopped at ``step`` (its settings per step from
    the history)."""
    s = w.session
    ds = s.dataset
    net = s._run_start.copy()
    rows = s.history.rows()
    tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=1.0, batch_size=10, seed=s.architecture["seed"])
    for k in range(step):
        tr.learning_rate, tr.batch_size = float(rows["learning_rate"][k]), int(rows["batch_size"][k])
        tr.step()
    return net.buffer.copy()


def wait_shown(qtbot, w, step):
    qtbot.waitUntil(lambda: w.session.snapshot.past is not None and w.session.snapshot.past[0] == step, timeout=15000)


def test_scrubbing_shows_the_past_bit_for_bit_and_l_goes_back_to_live(qtbot, trained):
    w = trained
    s, bar = w.session, w.timeline_bar
    last = s.last_report.step
    live = s.network.buffer.copy()
    assert bar.slider.isEnabled() and bar.slider.maximum() == last and bar.slider.value() == last
    assert "live" in bar.readout.text() and not bar.live_button.isEnabled()
    # the keyboard on the scrubber: PgDn a tenth of the run back, ← one mini-batch
    bar.slider.setFocus()
    qtbot.keyClick(bar.slider, Qt.Key.Key_PageDown)
    qtbot.keyClick(bar.slider, Qt.Key.Key_Left)
    step = bar.slider.value()
    assert step == last - bar.slider.pageStep() - 1
    wait_shown(qtbot, w, step)
    assert np.array_equal(s.network.buffer, fresh(w, step))
    assert s.snapshot.past == (step, last)
    text = f"step {step:,} of {last:,}"
    violet = past_colour(bar)  # (theme.PAST; a darker violet on a light palette)
    assert violet in (theme.PAST, theme.LIGHT["PAST"])
    assert text in bar.readout.text() and violet in bar.readout.text()
    assert bar.live_button.isEnabled() and bar.fork_button.isEnabled()
    status = w.status.network_label
    assert status.text().endswith("past: " + text) and violet in status.styleSheet()
    assert "past: " + text in w.windowTitle()
    # a click on the groove goes there (a quarter of the way along)
    sl = bar.slider
    qtbot.mouseClick(sl, Qt.MouseButton.LeftButton, pos=QtCore.QPoint(sl.width() // 4, sl.height() // 2))
    assert abs(sl.value() - last / 4) < 0.05 * last, sl.value()
    wait_shown(qtbot, w, sl.value())
    assert np.array_equal(s.network.buffer, fresh(w, sl.value()))
    # a drag to another step, far back (the replay starts from an earlier checkpoint)
    bar.slider.setValue(123)
    wait_shown(qtbot, w, 123)
    assert np.array_equal(s.network.buffer, fresh(w, 123))
    assert s.timeline.last_ms < 2000 and s.timeline.last_replayed <= 2000
    # the status bar's numbers are the step on screen's, not the live run's
    labels = w.status.labels
    assert labels["epoch"].text().split() == ["epoch", "1"] and labels["batch"].text().split() == ["batch", "123/400"]
    assert labels["examples"].text().split() == ["1,230", "seen"]
    # L: back to live, from anywhere in the window
    w.activateWindow()
    key(qtbot, w, Qt.Key.Key_L)
    assert s.snapshot.past is None and np.array_equal(s.network.buffer, live)
    assert "live" in bar.readout.text() and "past" not in status.text() and status.styleSheet() == ""
    assert bar.slider.value() == last and not bar.live_button.isEnabled()
    assert labels["examples"].text().split() == [f"{s.last_report.examples_seen:,}", "seen"]


def probe_at_step(qtbot, w, step: int) -> QtCore.QPoint:
    """The viewport point over the cost curve's mini-batch ``step``, the mouse moved there."""
    plot = w.plots.cost_plot
    vb = plot.getPlotItem().vb
    row = w.session.history.rows(step - 1, step)[0]
    x = w.cost_probe._seen_to_x(float(row["examples_seen"]))
    # (the plots follow the history at frame rate: wait until they show the whole run)
    end = w.cost_probe._seen_to_x(float(w.session.history.rows()["examples_seen"][-1]))
    qtbot.waitUntil(lambda: vb.viewRange()[0][0] <= x and vb.viewRange()[0][1] >= 0.95 * end, timeout=5000)
    y = float(np.mean(vb.viewRange()[1]))
    pt = plot.mapFromScene(vb.mapViewToScene(QtCore.QPointF(x, y)))
    qtbot.mouseMove(plot.viewport(), pt)
    return pt


def test_the_cost_curve_answers_a_hover_and_a_click_scrubs_there(qtbot, trained):
    w = trained
    s, probe = w.session, w.cost_probe
    QtWidgets.QApplication.processEvents()
    for step in (700, 2500):
        pt = probe_at_step(qtbot, w, step)
        qtbot.waitUntil(lambda: probe.hover_row is not None, timeout=5000)
        row = probe.hover_row
        got = int(row["step"])
        per_pixel = s.history.n / w.plots.cost_plot.viewport().width()
        assert abs(got - step) <= 2 * per_pixel + 1  # (the nearest mini-batch to the pixel under the mouse)
        want = s.history.rows(got - 1, got)[0]
        assert float(row["cost"]) == float(want["cost"]) and int(row["epoch"]) == int(want["epoch"])
        text = probe.hover_text
        assert text.startswith(f"mini-batch {got:,} · epoch {int(want['epoch']) + 1} ")
        assert f"cost {float(want['cost']):.5f}" in text and probe.label.isVisible()
        # a click shows the network then, and a violet line marks it on the curve
        qtbot.mouseClick(w.plots.cost_plot.viewport(), Qt.MouseButton.LeftButton, pos=pt)
        wait_shown(qtbot, w, got)
        assert np.array_equal(s.network.buffer, fresh(w, got))
        assert probe.marker.isVisible() and w.timeline_bar.slider.value() == got
    # leaving the plot hides the label
    QtWidgets.QApplication.sendEvent(w.plots.cost_plot.viewport(), QtCore.QEvent(QtCore.QEvent.Type.Leave))
    assert not probe.label.isVisible()
    w.live_action.trigger()
    assert not probe.marker.isVisible()


def test_continue_from_here_forks_with_new_settings(qtbot, trained, monkeypatch):
    w = trained
    s = w.session
    last = s.last_report.step
    w.timeline_bar.slider.setValue(1000)
    wait_shown(qtbot, w, 1000)
    at_1000 = s.network.buffer.copy()
    before = s.history.rows()
    asked = []

    def answer(dialog):
        asked.append(dialog.objectName())
        dialog.eta.setValue(0.25)
        dialog.batch.setValue(5)
        return True
    monkeypatch.setattr(w, "ask_dialog", answer)
    monkeypatch.setattr(w, "confirm_discard", lambda what: asked.append(what) or True)
    w.continue_action.trigger()
    settle(qtbot, w)
    assert asked[0] == "continueDialog" and f"{last - 1000:,} mini-batches after it" in asked[1]
    assert s.snapshot.past is None and s.history.n == 1000 and np.array_equal(s.network.buffer, at_1000)
    assert s.hyper["learning_rate"] == 0.25 and s.hyper["batch_size"] == 5
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))  # (one mini-batch of the new run)
    rows = s.history.rows()
    assert len(rows) == 1001 and rows["learning_rate"][-1] == 0.25 and rows["batch_size"][-1] == 5
    assert np.array_equal(rows[:1000], before[:1000])  # (up to the fork, the history is the old run's)
    # the timeline still reaches back before the fork, bit for bit
    w.timeline_bar.slider.setValue(400)
    wait_shown(qtbot, w, 400)
    assert np.array_equal(s.network.buffer, fresh(w, 400))
    key(qtbot, w, Qt.Key.Key_L)


def test_save_open_and_refuse_runs_from_the_file_menu(qtbot, trained, tmp_path, monkeypatch):
    w = trained
    s = w.session
    path = tmp_path / "for-class.npz"
    live, rows = s.network.buffer.copy(), s.history.rows()
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(tmp_path / "for-class"))
    w.save_run_action.trigger()
    assert path.is_file() and load_run(path).last_step == s.last_report.step
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_R))  # (rewind: another network on screen)
    monkeypatch.setattr(w, "confirm_discard", lambda what: True)
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(path))
    w.open_run_action.trigger()
    settle(qtbot, w)
    assert np.array_equal(s.network.buffer, live) and np.array_equal(s.history.rows(), rows)
    assert "for-class.npz" in w.windowTitle()
    w.timeline_bar.refresh()
    w.timeline_bar.slider.setValue(2000)
    wait_shown(qtbot, w, 2000)
    assert np.array_equal(s.network.buffer, fresh(w, 2000))
    key(qtbot, w, Qt.Key.Key_L)
    # a damaged run file: one line in a message, nothing changes
    bad = tmp_path / "damaged.npz"
    bad.write_bytes(path.read_bytes()[:5000])
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(bad))
    n = len(w.messages)
    w.open_run_action.trigger()
    assert len(w.messages) == n + 1
    level, _title, text = w.messages[-1]
    assert level == "error" and text.startswith("damaged.npz: ") and "\n" not in text
    assert np.array_equal(s.network.buffer, live) and "for-class.npz" in w.windowTitle()


def test_export_replay_from_the_window(qtbot, trained, tmp_path, monkeypatch):
    w = trained
    out = tmp_path / "training.gif"

    def answer(dialog):
        assert dialog.objectName() == "exportReplayDialog"
        dialog.first.setValue(100)
        dialog.frames.setValue(6)
        dialog.fps.setValue(12.5)
        dialog.width_box.setValue(400)
        dialog.height_box.setValue(225)
        return True
    monkeypatch.setattr(w, "ask_dialog", answer)
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(tmp_path / "training"))
    w.export_replay_action.trigger()
    r = w.runs.last_export
    assert r is not None and r.steps[0] == 100 and r.steps[-1] == w.session.last_report.step and len(r.steps) == 6
    with Image.open(out) as im:
        assert im.n_frames == 6 and im.size == (400, 225) and im.info["duration"] == 80
    assert "Exported training.gif: 6 frames" in w.statusBar().currentMessage()
    assert w.session.snapshot.past is None  # (the export never touches what is on screen)


def test_the_past_is_a_darker_violet_in_the_light_theme(qtbot, trained):
    w = trained
    w.light_action.trigger()
    w.timeline_bar.slider.setValue(500)
    wait_shown(qtbot, w, 500)
    dark_violet = theme.LIGHT["PAST"]
    assert dark_violet in w.timeline_bar.readout.text() and dark_violet in w.status.network_label.styleSheet()
    w.light_action.trigger()  # (back to the dark theme: the pale violet again)
    w.timeline_bar.slider.setValue(600)
    wait_shown(qtbot, w, 600)
    assert theme.PAST in w.timeline_bar.readout.text()
    key(qtbot, w, Qt.Key.Key_L)
