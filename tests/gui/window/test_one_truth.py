"""What a new user met when the studio contradicted itself, one test each (driven as a person does)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers_gui import click, key, type_into, until_paused
from helpers_http import make_idx_folder

from nnstudio.core import Network, save_model
from nnstudio.gui.qt import QtGui, QtWidgets, Qt
from nnstudio.gui.window.frames import shown

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def look_at(qtbot, w, name):
    w.show_view(name)
    v = w.views[name]
    qtbot.waitUntil(lambda: shown(v), timeout=5000)
    return v


def test_the_pad_reads_with_the_network_the_diagram_shows(qtbot, studio):
    """Fresh launch, draw: the pad read with the shipped network while the diagram lit the untrained
    one; after Rewind and Reset the split came back."""
    w = studio
    for action in (None, "rewindButton", "resetButton"):
        if action:
            until_paused(qtbot, w, lambda: click(qtbot, w, action))
        pad = look_at(qtbot, w, "draw")
        pad.pad.load_digit(w.dataset.test_images[3])  # a digit on the pad (the Example button's way)
        qtbot.waitUntil(lambda: w.session.current_input.source == "drawing pad", timeout=5000)
        qtbot.waitUntil(lambda: w.views["diagram"].example is w.session.current_input, timeout=5000)
        net = w.session.network
        want = net.feedforward(pad.network_input().reshape(1, -1))[0]
        qtbot.waitUntil(lambda: pad.prediction is not None and np.array_equal(pad.prediction.activations, want))
        m = w.views["diagram"].canvas.model
        np.testing.assert_array_equal(m.activations(len(net.sizes) - 1).ravel(), want)


def test_the_title_names_the_network_after_training_and_saving(qtbot, studio, tmp_path, monkeypatch):
    w = studio
    assert "pretrained 784-16-16-10" in w.windowTitle()
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepEpochButton"))  # new weights, trained
    assert "pretrained" not in w.windowTitle() and "mnist-784-16-16-10.npz" not in w.windowTitle()
    assert "new 784-16-16-10 (seed 0) •" in w.windowTitle()
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(tmp_path / "mynet.npz"))
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert w.windowTitle().startswith("nnstudio — mynet.npz —")
    assert w.status.network_label.text() == "mynet.npz"


def test_the_landscape_has_the_network_and_drops_its_slice_on_reset(qtbot, studio):
    w = studio
    type_into(qtbot, w.findChild(QtWidgets.QSpinBox, "epochsInput"), "3")
    with qtbot.waitSignal(w.trainingPaused, timeout=20000):
        key(qtbot, w, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: w.session.run_state == "finished", timeout=20000)
    w.gradient_dock.raise_()
    w.gradient_tabs.setCurrentIndex(1)
    land = w.views["landscape"]
    qtbot.waitUntil(lambda: shown(land) and land.network is not None, timeout=5000)
    assert "No network" not in land.message.toPlainText()
    land.set_resolution(7)
    land.set_examples(100)
    qtbot.mouseClick(land.compute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: land.landscape is not None, timeout=20000)
    until_paused(qtbot, w, lambda: click(qtbot, w, "resetButton"))
    qtbot.waitUntil(lambda: land.landscape is None, timeout=5000)  # a slice through the old weights is gone


def test_after_rewind_the_diagram_and_status_bar_agree(qtbot, studio):
    w = studio
    for _ in range(3):
        until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
    dg = w.views["diagram"]
    qtbot.waitUntil(lambda: dg.snapshot is w.session.snapshot and dg.example is w.session.current_input)
    assert dg.example.source.startswith("mini-batch")
    footer_epoch = int(re.search(r"epoch (\d+)", dg.canvas.footer_text()[1]).group(1))
    status_epoch = int(re.search(r"epoch\s+(\d+)", w.status.labels["epoch"].text()).group(1))
    assert footer_epoch == status_epoch == 1
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_R))
    qtbot.waitUntil(lambda: dg.snapshot is w.session.snapshot and dg.example is w.session.current_input)
    assert dg.example.source == "test #0"  # no caption from the run that was rewound
    assert "mini-batch" not in dg.canvas.footer_text()[1] and w.status.labels["epoch"].text() == "epoch —"


def test_the_explorer_steps_with_the_studios_eta_and_the_studio_adopts_it(qtbot, studio):
    w = studio
    lr = w.findChild(QtWidgets.QDoubleSpinBox, "learningRateInput")
    type_into(qtbot, lr, str(0.3).replace(".", lr.locale().decimalPoint()))
    bp = look_at(qtbot, w, "backprop")
    assert bp.learning_rate == 0.3
    bp.eta_box.setValue(0.7)  # and the other way: the explorer's η is the studio's
    assert w.session.hyper["learning_rate"] == 0.7 and lr.value() == 0.7
    qtbot.waitUntil(lambda: bp.network is not None)
    before = w.session.network.copy()
    with qtbot.waitSignal(bp.stepApplied):
        qtbot.mouseClick(bp.step_button, Qt.MouseButton.LeftButton)
    after = w.session.network
    assert not np.array_equal(after.params[0], before.params[0])  # the studio's network took the step
    qtbot.waitUntil(lambda: np.array_equal(w.views["diagram"].snapshot.network.params[0], after.params[0]))
    w.undo_action.trigger()  # Training ▸ Undo puts the weights back, bit for bit
    assert all(np.array_equal(a, b) for a, b in zip(w.session.network.params, before.params))


def test_reset_layout_does_not_run_a_lesson(qtbot, studio):
    w = studio
    w.lessons_action.trigger()
    view = w.lessons_view
    qtbot.waitUntil(view.setup_button.isVisible)
    type_into(qtbot, w.findChild(QtWidgets.QDoubleSpinBox, "learningRateInput"), "0.25".replace(".", w.locale().decimalPoint()))
    snap, hyper = w.session.snapshot, dict(w.session.hyper)
    reset = w.findChild(QtGui.QAction, "resetLayoutAction")
    reset.trigger()
    qtbot.wait(200)
    assert w.session.snapshot is snap and w.session.hyper == hyper and not view.ready


def test_evaluation_never_shows_a_discarded_networks_numbers(qtbot, studio, tmp_path, monkeypatch):
    w = studio
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepEpochButton"))
    ev = look_at(qtbot, w, "evaluation")
    qtbot.waitUntil(lambda: ev.analysis is not None and not ev.busy, timeout=20000)
    old = w.session.network.copy()
    # another dataset the network cannot read: a new network (asked first), and no old numbers meanwhile
    path = tmp_path / "wide.npz"
    save_model(Network((784, 40, 10), seed=2), path)
    monkeypatch.setattr(w, "confirm_discard", lambda what: True)
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(path))
    seen = []
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier))
    for _ in range(40):  # watch it as a person would, a frame at a time
        res = ev._result
        seen.append(None if res is None else res.network)
        qtbot.wait(15)
    assert not any(n is not None and n.sizes == old.sizes for n in seen)
    qtbot.waitUntil(lambda: ev.analysis is not None and not ev.busy, timeout=20000)
    assert ev._result.network.sizes == (784, 40, 10)


def test_switching_to_data_of_the_same_size_keeps_the_network_to_test_it(qtbot, studio, tmp_path, monkeypatch):
    """Train on the sample, then test the same network on other data of the same shape."""
    w = studio
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepEpochButton"))
    net = w.session.network.copy()
    folder = tmp_path / "other-digits"
    make_idx_folder(folder, n_train=60, n_test=20)
    monkeypatch.setattr(w, "ask_folder", lambda *a: str(folder))
    asked = []
    monkeypatch.setattr(w, "confirm_discard", lambda what: asked.append(what) or False)
    combo = w.findChild(QtWidgets.QComboBox, "datasetSelector")
    combo.setFocus()
    with qtbot.waitSignal(w.datasetReady, timeout=20000):
        qtbot.keyClick(combo, Qt.Key.Key_End)
    assert asked == [] and w.dataset.n_train == 60
    assert all(np.array_equal(a, b) for a, b in zip(w.session.network.params, net.params))
    assert "new 784-16-16-10 (seed 0) •" in w.windowTitle()
    ev = look_at(qtbot, w, "evaluation")
    qtbot.waitUntil(lambda: ev.analysis is not None and not ev.busy and ev._result.dataset is w.dataset, timeout=20000)
    acc, _ = net.evaluate(w.dataset.test_x, w.dataset.test_labels)
    assert ev.report["accuracy"] == pytest.approx(acc)


def test_evaluation_says_how_the_network_was_trained(qtbot, studio):
    """A 30-epoch network was labelled "after 0 epochs" (its training happened elsewhere)."""
    w = studio
    ev = look_at(qtbot, w, "evaluation")
    qtbot.waitUntil(lambda: ev.analysis is not None and not ev.busy, timeout=20000)
    text = ev.summary.when_label.text()
    assert "after 0 epochs" not in text
    assert text.startswith("pretrained 784-16-16-10, as it is (not trained in this run yet)")
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepEpochButton"))
    qtbot.waitUntil(lambda: ev.analysis is not None and not ev.busy and ev._result.step == 400, timeout=20000)
    assert ev.summary.when_label.text().startswith("new 784-16-16-10 (seed 0) • after 1 epoch of this run")


def test_file_dialogs_start_in_the_users_folders(qtbot, studio, tmp_path, monkeypatch):
    """File ▸ Save opened inside the installed package (site-packages/nnstudio/resources/models)."""
    import nnstudio

    w = studio
    asked = []
    monkeypatch.setattr(w, "ask_save_path", lambda title, start, filters: asked.append(start) or None)
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert asked and not asked[0].startswith(str(__import__("pathlib").Path(nnstudio.__file__).parent))
    assert "resources" not in asked[0]
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(tmp_path / "kept" / "net.npz"))
    (tmp_path / "kept").mkdir()
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    monkeypatch.setattr(w, "ask_save_path", lambda title, start, filters: asked.append(start) or None)
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert asked[-1].startswith(str(tmp_path / "kept"))  # the last folder used


def test_space_on_a_fresh_profile_starts_a_run_you_can_watch(qtbot, make_window):
    """Space ran all 30 epochs of the sample in under a second: nothing to watch."""
    w = make_window(load_views=True, size=(1280, 720), full_speed=False, epochs=None)
    assert w.controls.speed_label.text() == "speeds up as it learns"
    key(qtbot, w, Qt.Key.Key_Space)
    qtbot.wait(1500)
    s = w.session
    assert s.run_state == "running" and 1 <= s.history.n <= 12  # one by one at first
    dg = w.views["diagram"]
    qtbot.waitUntil(lambda: dg.example is not None and dg.example.source.startswith("mini-batch"), timeout=3000)
    # (the pace is a function of the step: 30 epochs of the sample take ~11 s, so after 6-9 s it still learns)
    from nnstudio.training.loop import WATCH_START, WATCH_TAU
    import math

    steps_at = lambda t: WATCH_START * WATCH_TAU * (math.exp(t / WATCH_TAU) - 1)  # noqa: E731
    assert steps_at(9.0) < 30 * 400 * 0.2
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_Space))
