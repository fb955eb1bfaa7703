"""The studio main window, driven like a person would: clicks, keys and typing (pytest-qt)."""

from __future__ import annotations

import csv
import random

import numpy as np
import pytest
from helpers_gui import button, click, key, type_into, until_paused

from nnstudio.core import Network, load_model, save_model
from nnstudio.gui.window import docks as mw_docks
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.window.mainwindow import MainWindow, Placeholder
from nnstudio.gui.views.plots import BS, LR, STEP
from nnstudio.gui.qt import QtGui, QtWidgets, Qt
from nnstudio.gui.style import theme
from nnstudio.session.model import InputExample

# the offscreen platform (tests) cannot apply a top-level window's size hints; harmless
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

REQUIRED_NAMES = {
    "playPauseButton": QtWidgets.QToolButton,
    "stepBatchButton": QtWidgets.QToolButton,
    "stepEpochButton": QtWidgets.QToolButton,
    "rewindButton": QtWidgets.QToolButton,
    "resetButton": QtWidgets.QToolButton,
    "costPlot": QtWidgets.QWidget,
    "accuracyPlot": QtWidgets.QWidget,
    "learningRateInput": QtWidgets.QDoubleSpinBox,
    "batchSizeInput": QtWidgets.QSpinBox,
    "datasetSelector": QtWidgets.QComboBox,
    "epochsInput": QtWidgets.QSpinBox,
    "layerSizesInput": QtWidgets.QLineEdit,
    "activationSelector": QtWidgets.QComboBox,
    "costSelector": QtWidgets.QComboBox,
    "initSelector": QtWidgets.QComboBox,
    "seedInput": QtWidgets.QSpinBox,
    "speedSlider": QtWidgets.QSlider,
    "loadProgress": QtWidgets.QProgressBar,
    "trainingDock": QtWidgets.QDockWidget,
    "plotsDock": QtWidgets.QDockWidget,
    "drawDock": QtWidgets.QDockWidget,
    "backpropDock": QtWidgets.QDockWidget,
    "gradientDock": QtWidgets.QDockWidget,
    "evaluationDock": QtWidgets.QDockWidget,
}


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture
def app_look():
    """Restore the application's style, palette and stylesheet after a theme test."""
    app = QtWidgets.QApplication.instance()
    saved = (app.style().name(), QtGui.QPalette(app.palette()), app.styleSheet())
    yield app
    app.setStyle(saved[0])
    app.setPalette(saved[1])
    app.setStyleSheet(saved[2])


# ----------------------------------------------------------------------------------- helpers
def number(widget, value: float) -> str:
    """``value`` written as the widget's locale expects it."""
    return str(value).replace(".", widget.locale().decimalPoint())


def params(snap):
    return [p.copy() for p in snap.network.params]


def dismiss_message(qtbot, w):
    """Click OK on the message box, back to the main window (as a person would)."""
    box = w.findChild(QtWidgets.QMessageBox, "messageDialog")
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.button(QtWidgets.QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not box.isVisible()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)


def lr_input(w):
    return w.findChild(QtWidgets.QDoubleSpinBox, "learningRateInput")


# ----------------------------------------------------------------------------------- basics
def test_title_names_tooltips_and_shortcuts(window):
    w = window
    assert w.windowTitle().startswith("nnstudio — ")
    assert "784-16-16-10" in w.windowTitle() and "mnist-sample" in w.windowTitle()
    for name, kind in REQUIRED_NAMES.items():
        found = w.findChild(kind, name)
        assert found is not None, name
    for name, shortcut in (("playPauseButton", "Space"), ("stepBatchButton", "N"), ("stepEpochButton", "E"),
                           ("rewindButton", "R"), ("resetButton", "Ctrl+Shift+R")):
        b = button(w, name)
        assert b.defaultAction().shortcut().toString() == shortcut
        assert b.toolTip() and f"({QtGui.QKeySequence(shortcut).toString(QtGui.QKeySequence.SequenceFormat.NativeText)})" in b.toolTip()
    for name in ("learningRateInput", "batchSizeInput", "datasetSelector", "layerSizesInput", "speedSlider",
                 "epochsInput", "seedInput", "activationSelector", "costSelector", "initSelector"):
        assert w.findChild(QtWidgets.QWidget, name).toolTip(), name
    assert {d.objectName() for d in w.docks} == {"trainingDock", "plotsDock", "observationsDock", "drawDock",
                                                 "backpropDock", "gradientDock", "evaluationDock"}
    # a View menu toggles every dock
    view_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&View")
    toggles = [a for a in view_menu.actions() if a.objectName().endswith("DockToggle")]
    assert len(toggles) == 7
    toggles[1].trigger()
    assert w.plots_dock.isHidden()
    toggles[1].trigger()
    assert not w.plots_dock.isHidden()


def test_window_appears_before_the_dataset_is_loaded(qtbot, make_window):
    w = make_window(start=False)
    assert w.isVisible()
    assert not w.actions.play.isEnabled()
    with qtbot.waitSignal(w.datasetReady, timeout=30000):
        w.start()
        assert w.status.load_progress.isVisible()  # progress shown while the data loads in a thread
        assert w.status.state_label.text() == "Loading data"
    qtbot.waitUntil(lambda: w.actions.play.isEnabled() and not w.status.load_progress.isVisible())
    assert w.dataset.name == "mnist-sample"


# ----------------------------------------------------------------------------------- run controls
def test_step_batch_adds_exactly_one_point(qtbot, window):
    w = window
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepBatchButton"))
    assert w.history.n == 1
    qtbot.waitUntil(lambda: w.plots.point_count() == 1)
    qtbot.wait(50)
    assert w.plots.point_count() == 1 and w.history.n == 1
    assert w.latest_snapshot.step == 1
    r = w.session.last_report
    assert (r.step, r.epoch, r.batch) == (1, 0, 0)
    # the stepped batch's first example became the current input
    qtbot.waitUntil(lambda: w.current_input is not None and w.current_input.source.startswith("mini-batch"))
    assert w.current_input.source == "mini-batch 1 of epoch 1"
    assert w.current_input.split == "train" and w.current_input.index == int(r.indices[0])
    # the keyboard does the same
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
    assert w.history.n == 2
    qtbot.waitUntil(lambda: w.plots.point_count() == 2)
    assert "batch     2/400" in w.status.labels["batch"].text()


def test_step_epoch_advances_exactly_one_epoch(qtbot, window):
    w = window
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepEpochButton"))
    assert len(w.history.epochs) == 1 and w.history.n == 400
    assert w.latest_snapshot.epoch == 1
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_E))
    assert len(w.history.epochs) == 2 and w.history.n == 800
    qtbot.waitUntil(lambda: "after epoch 2" in w.plots.accuracy_label.text())
    x, y = w.plots.accuracy_curve.getData()
    assert len(x) == 2 and 50 < y[-1] <= 100


def test_play_then_pause_stops_training(qtbot, window):
    w = window
    click(qtbot, w, "playPauseButton")
    assert button(w, "playPauseButton").text() == "Pause"
    qtbot.waitUntil(lambda: w.history.n > 30, timeout=10000)
    until_paused(qtbot, w, lambda: click(qtbot, w, "playPauseButton"))
    assert button(w, "playPauseButton").text() == "Play"
    n = w.history.n
    qtbot.wait(100)
    assert w.history.n == n and w.session.run_state == "paused"
    steps = w.history.column(STEP)
    assert np.array_equal(steps, np.arange(1, n + 1))  # every mini-batch arrived, in order
    qtbot.waitUntil(lambda: w.plots.point_count() == n)
    # Space plays and pauses too
    key(qtbot, w, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: w.history.n > n, timeout=10000)
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_Space))


def test_rewind_then_the_same_steps_is_bit_identical(qtbot, window):
    w = window

    def run():
        until_paused(qtbot, w, lambda: click(qtbot, w, "stepEpochButton"))
        for _ in range(3):
            until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
        return params(w.latest_snapshot), w.history.costs.copy()

    first, costs = run()
    until_paused(qtbot, w, lambda: click(qtbot, w, "rewindButton"))
    assert w.history.n == 0 and w.latest_snapshot.step == 0
    qtbot.waitUntil(lambda: w.plots.point_count() == 0)
    second, costs2 = run()
    assert np.array_equal(costs, costs2)
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
    # R rewinds too; Reset draws a new seed and new weights
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_R))
    assert w.history.n == 0
    seed = w.controls.seed_input.value()
    until_paused(qtbot, w, lambda: click(qtbot, w, "resetButton"))
    assert w.controls.seed_input.value() != seed
    assert not np.array_equal(params(w.latest_snapshot)[0], first[0])


def test_learning_rate_typed_mid_run_applies_at_the_next_batch(qtbot, window):
    w = window
    lr = lr_input(w)
    # paused: the next stepped batch uses the new value
    type_into(qtbot, lr, number(lr, 0.5))
    assert lr.value() == 0.5
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
    assert w.session.last_report.learning_rate == 0.5
    # running: the reports switch once from the old value to the new one
    click(qtbot, w, "playPauseButton")
    qtbot.waitUntil(lambda: w.history.n > 20, timeout=10000)
    type_into(qtbot, lr, number(lr, 0.25))
    qtbot.waitUntil(lambda: w.session.last_report.learning_rate == 0.25, timeout=10000)
    until_paused(qtbot, w, lambda: click(qtbot, w, "playPauseButton"))
    lrs = list(w.history.column(LR))
    assert lrs[0] == 0.5
    switch = lrs.index(0.25)
    assert set(lrs[:switch]) == {0.5} and set(lrs[switch:]) == {0.25}
    assert w.status.labels["lr"].text() == "η 0.25"


def test_batch_size_change_applies_at_the_next_batch(qtbot, window):
    w = window
    bs = w.findChild(QtWidgets.QSpinBox, "batchSizeInput")
    type_into(qtbot, bs, "32")
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
    assert w.session.last_report.batch_size == 32 and len(w.session.last_report.indices) == 32
    assert w.history.column(BS)[-1] == 32


def test_slow_motion_shows_every_batch(qtbot, window):
    w = window
    slider = w.findChild(QtWidgets.QSlider, "speedSlider")
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_Home)  # slowest: 1 mini-batch per second
    assert w.controls.speed() == 1
    key(qtbot, w, Qt.Key.Key_BracketRight)  # ] faster: 2/s
    key(qtbot, w, Qt.Key.Key_BracketRight)  # 5/s
    assert w.controls.speed() == 5 and "5 mini-batches/s" in w.controls.speed_label.text()
    seen = []
    record = seen.append
    w.session.events.network.connect(record)
    click(qtbot, w, "playPauseButton")
    qtbot.waitUntil(lambda: w.history.n >= 3, timeout=5000)
    until_paused(qtbot, w, lambda: click(qtbot, w, "playPauseButton"))
    w.session.events.network.disconnect(record)
    assert w.history.n < 8  # 5 per second, not full speed
    assert set(w.history.column(STEP).astype(int)) <= {s.step for s in seen}


def test_closing_mid_run_leaves_no_thread(qtbot, make_window):
    w = make_window()
    click(qtbot, w, "playPauseButton")
    qtbot.waitUntil(lambda: w.history.n > 10, timeout=10000)
    assert w.session.worker.alive
    w.close()
    assert not w.session.worker.alive


def test_500_random_actions_never_raise_or_deadlock(qtbot, window):
    w = window
    rng = random.Random(1234)
    lr, bs = lr_input(w), w.findChild(QtWidgets.QSpinBox, "batchSizeInput")
    actions = [
        lambda: click(qtbot, w, "playPauseButton"),
        lambda: click(qtbot, w, "stepBatchButton"),
        lambda: click(qtbot, w, "stepEpochButton"),
        lambda: click(qtbot, w, "rewindButton"),
        lambda: click(qtbot, w, "resetButton"),
        lambda: key(qtbot, w, Qt.Key.Key_Space),
        lambda: key(qtbot, w, Qt.Key.Key_N),
        lambda: key(qtbot, w, Qt.Key.Key_E),
        lambda: key(qtbot, w, Qt.Key.Key_R),
        lambda: key(qtbot, w, Qt.Key.Key_BracketLeft),
        lambda: key(qtbot, w, Qt.Key.Key_BracketRight),
        lambda: type_into(qtbot, lr, number(lr, rng.choice([0.05, 0.3, 1.5, 3.0, 8.0]))),
        lambda: type_into(qtbot, bs, str(rng.choice([5, 10, 37, 100]))),
        lambda: w.plots.x_toggle.click(),
    ]
    for _ in range(500):
        rng.choice(actions)()
        qtbot.wait(rng.choice([0, 0, 1, 5]))
    # still responsive: pause lands, a step is exactly one batch, the history is consistent
    until_paused(qtbot, w, w.pause)
    if w.session.run_state != "finished":
        n = w.history.n
        until_paused(qtbot, w, lambda: click(qtbot, w, "stepBatchButton"))
        assert w.history.n == n + 1
    steps = w.history.column(STEP)
    assert np.array_equal(steps, np.arange(1, len(steps) + 1))
    assert [m for m in w.messages if m[0] == "error"] == []


# ----------------------------------------------------------------------------------- architecture
def test_architecture_change_asks_before_discarding(qtbot, window, monkeypatch):
    w = window
    asked = []
    monkeypatch.setattr(w, "confirm_discard", lambda what: asked.append(what) or False)
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
    sizes = w.findChild(QtWidgets.QLineEdit, "layerSizesInput")
    type_into(qtbot, sizes, "784-32-10")
    assert len(asked) == 1
    assert sizes.text() == "784-16-16-10" and w.history.n == 1  # kept
    monkeypatch.setattr(w, "confirm_discard", lambda what: asked.append(what) or True)
    until_paused(qtbot, w, lambda: type_into(qtbot, sizes, "784 32 10"))
    assert len(asked) == 2
    assert w.latest_snapshot.network.sizes == (784, 32, 10) and w.history.n == 0
    assert sizes.text() == "784-32-10" and "784-32-10" in w.windowTitle()
    # an untrained network is replaced without asking
    combo = w.findChild(QtWidgets.QComboBox, "activationSelector")
    combo.setFocus()
    until_paused(qtbot, w, lambda: qtbot.keyClick(combo, Qt.Key.Key_Down))
    assert w.latest_snapshot.network.activation.name == combo.currentText() == "tanh"
    assert len(asked) == 2


def test_invalid_layer_sizes_are_refused_with_a_message(qtbot, window):
    w = window
    sizes = w.findChild(QtWidgets.QLineEdit, "layerSizesInput")
    type_into(qtbot, sizes, "784-16-9")
    qtbot.wait(20)
    assert sizes.property("invalid") is True
    assert "784" in w.statusBar().message() and "10" in w.statusBar().message()
    assert w.latest_snapshot.network.sizes == (784, 16, 16, 10)
    type_into(qtbot, sizes, "784-16-16-10")
    assert not sizes.property("invalid")


# ----------------------------------------------------------------------------------- datasets
def test_offline_download_failure_keeps_the_previous_dataset(qtbot, window, tmp_cache, monkeypatch):
    w = window
    monkeypatch.setenv("NNSTUDIO_MIRRORS", (tmp_cache / "no-such-mirror").as_uri() + "/")
    combo = w.findChild(QtWidgets.QComboBox, "datasetSelector")
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # mnist: not downloaded, the download fails
    qtbot.waitUntil(lambda: bool(w.messages), timeout=20000)
    level, title, text = w.messages[-1]
    assert level == "warning" and "could not download" in text and "keeps using mnist-sample" in text
    qtbot.waitUntil(lambda: combo.isEnabled())
    assert w.dataset.name == "mnist-sample" and combo.currentData() == "mnist-sample"
    assert w.findChild(QtWidgets.QProgressDialog, "downloadDialog") is None or not w.findChild(
        QtWidgets.QProgressDialog, "downloadDialog").isVisible()
    dismiss_message(qtbot, w)
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))  # still training on the sample
    assert w.history.n == 1


def test_download_progress_dialog_can_be_cancelled(qtbot, window, tmp_cache, monkeypatch):
    import threading

    import nnstudio.data as data
    from nnstudio.data import DownloadCancelled

    started = threading.Event()

    def slow_download(name, *, download=True, progress=None, cancel=None, **kw):
        total = 10_000_000
        for i in range(2000):  # ~20 s unless cancelled
            progress(i * 5000, total, "train-images-idx3-ubyte.gz")
            started.set()
            if cancel():
                raise DownloadCancelled(f"{name}: download cancelled")
            threading.Event().wait(0.01)
        raise AssertionError("never cancelled")

    monkeypatch.setattr(data, "load_dataset", slow_download)
    combo = w_combo = window.findChild(QtWidgets.QComboBox, "datasetSelector")
    w = window
    combo.setFocus()
    qtbot.keyClick(w_combo, Qt.Key.Key_Down)
    dlg = w.findChild(QtWidgets.QProgressDialog, "downloadDialog")
    assert dlg is not None and dlg.isVisible()
    qtbot.waitUntil(lambda: dlg.value() > 0, timeout=10000)
    assert "MB" in dlg.labelText()
    cancel = dlg.findChild(QtWidgets.QPushButton)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cancelled" in w.statusBar().message(), timeout=10000)
    assert w.dataset.name == "mnist-sample" and combo.currentData() == "mnist-sample" and combo.isEnabled()
    assert w.messages == []


def test_folder_dataset_and_settings_round_trip(qtbot, make_window, tmp_path, monkeypatch):
    from helpers_http import make_idx_folder

    folder = tmp_path / "my-digits"
    make_idx_folder(folder, n_train=60, n_test=20)
    w = make_window()
    monkeypatch.setattr(w, "ask_folder", lambda title, start: str(folder))
    combo = w.findChild(QtWidgets.QComboBox, "datasetSelector")
    combo.setFocus()
    with qtbot.waitSignal(w.datasetReady, timeout=20000):
        qtbot.keyClick(combo, Qt.Key.Key_End)  # "Folder…"
    assert w.dataset.n_train == 60 and combo.currentData() == str(folder)
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_E))
    assert w.history.n == 6
    # change what the settings keep, then close
    lr = lr_input(w)
    type_into(qtbot, lr, number(lr, 0.75))
    type_into(qtbot, w.findChild(QtWidgets.QSpinBox, "batchSizeInput"), "20")
    type_into(qtbot, w.findChild(QtWidgets.QSpinBox, "epochsInput"), "7")
    monkeypatch.setattr(w, "confirm_discard", lambda what: True)
    until_paused(qtbot, w, lambda: type_into(qtbot, w.findChild(QtWidgets.QLineEdit, "layerSizesInput"), "784-20-10"))
    w.plots_dock.toggleViewAction().trigger()
    w.resize(w.width() - 40, w.height() - 40)
    model = tmp_path / "kept.npz"
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(model))
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert model.is_file()
    w.close()
    saved_geometry = bytes(w.saveGeometry())
    restored = []
    real_restore = MainWindow.restoreGeometry
    monkeypatch.setattr(MainWindow, "restoreGeometry", lambda self, g: restored.append(bytes(g)) or real_restore(self, g))

    w2 = make_window(epochs=None)
    assert w2.dataset.name == str(folder) and w2.dataset_key == str(folder)
    assert lr_input(w2).value() == 0.75
    assert w2.findChild(QtWidgets.QSpinBox, "batchSizeInput").value() == 20
    assert w2.findChild(QtWidgets.QSpinBox, "epochsInput").value() == 7
    assert w2.findChild(QtWidgets.QLineEdit, "layerSizesInput").text() == "784-20-10"
    assert w2.latest_snapshot.network.sizes == (784, 20, 10)
    assert w2.plots_dock.isHidden() and not w2.draw_dock.isHidden()
    # (the offscreen test screen is 800×800, so Qt fits the restored geometry onto it)
    assert restored == [saved_geometry]
    assert w2.reopen_action.isEnabled() and "kept.npz" in w2.reopen_action.text()


def test_settings_survive_garbage(qtbot, make_window, settings_dir):
    settings_dir.mkdir(parents=True, exist_ok=True)
    (settings_dir / "nnstudio.ini").write_text(
        "[train]\nlearning_rate=banana\nbatch_size=-4\nepochs=nan\n[net]\nsizes=7-x\nseed=zzz\n"
        "[window]\ngeometry=@ByteArray(garbage)\nstate=nope\n[data]\ndataset=/no/such/folder\n"
    )
    w = make_window()
    assert w.dataset.name == "mnist-sample"
    # unusable values fall back to their defaults (and the user is told once)
    assert lr_input(w).value() == 1.5 and w.controls.batch_input.value() == 10
    assert w.controls.sizes_input.text() == "784-16-16-10"
    assert "gone" in w.statusBar().message() or w.dataset_key == "mnist-sample"


# ----------------------------------------------------------------------------------- files
def test_save_open_and_bad_model_files(qtbot, window, tmp_path, monkeypatch):
    w = window
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_E))
    saved = tmp_path / "net.npz"
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(saved))
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    net, meta = load_model(saved, with_metadata=True)
    for a, b in zip(net.params, w.latest_snapshot.network.params):
        assert np.array_equal(a, b)
    assert meta["epochs"] == 1 and meta["dataset"] == "mnist-sample" and 0 < meta["accuracy"] <= 1
    trained = params(w.latest_snapshot)
    # rewind (other weights), then open the saved file again
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_R))
    asked = []
    monkeypatch.setattr(w, "confirm_discard", lambda what: asked.append(what) or True)
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(saved))
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier))
    assert asked == []  # the rewound network had nothing to lose
    for a, b in zip(trained, params(w.latest_snapshot)):
        assert np.array_equal(a, b)
    assert "net.npz" in w.windowTitle()
    # a damaged file and an incompatible network: a message, and the window carries on
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip at all")
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(bad))
    key(qtbot, w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert w.messages[-1][0] == "error" and "bad.npz" in w.messages[-1][2]
    dismiss_message(qtbot, w)
    other = tmp_path / "other.npz"
    save_model(Network((784, 5, 3), seed=0), other)
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(other))
    key(qtbot, w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert w.messages[-1][0] == "error" and "784-5-3" in w.messages[-1][2]
    dismiss_message(qtbot, w)
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
    # saving where it cannot be written
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(tmp_path / "no" / "such" / "dir" / "x.npz"))
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert w.messages[-1][0] == "error"


def test_open_pretrained_when_missing_says_so(qtbot, window, tmp_path, monkeypatch):
    import nnstudio.session.session as session_mod

    monkeypatch.setattr(session_mod, "shipped_model_path", lambda: tmp_path / "missing.npz")
    window.open_pretrained_action.trigger()
    level, title, text = window.messages[-1]
    assert level == "info" and "no pretrained network yet" in text and "missing.npz" in text
    box = window.findChild(QtWidgets.QMessageBox, "messageDialog")
    assert box.isVisible() and not box.isModal()
    # and when it exists, it opens
    path = tmp_path / "pre.npz"
    save_model(Network(seed=3), path)
    monkeypatch.setattr(session_mod, "shipped_model_path", lambda: path)
    until_paused(qtbot, window, window.open_pretrained_action.trigger)
    assert np.array_equal(window.latest_snapshot.network.params[0], Network(seed=3).params[0])


def test_export_plots_png_and_history_csv(qtbot, window, tmp_path, monkeypatch):
    w = window
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_E))
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_N))
    png, csv_path = tmp_path / "plots.png", tmp_path / "history"
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(png))
    w.export_png_action.trigger()
    img = QtGui.QImage(str(png))
    assert not img.isNull() and img.width() > 100 and img.height() > 100
    monkeypatch.setattr(w, "ask_save_path", lambda *a: str(csv_path))
    w.export_csv_action.trigger()
    with open(str(csv_path) + ".csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 401
    assert rows[0]["step"] == "1" and rows[-1]["step"] == "401"
    assert rows[399]["test_accuracy"] and 0 < float(rows[399]["test_accuracy"]) <= 1
    assert rows[398]["test_accuracy"] == ""
    assert float(rows[0]["cost"]) == w.history.costs[0]
    assert [m for m in w.messages if m[0] == "error"] == []


def test_divergence_pauses_and_says_what_to_change(qtbot, window, tmp_path, monkeypatch):
    w = window
    net = Network((784, 16, 10), activation="relu", seed=0)
    # every first-layer sum overflows to +inf (in any order of addition, on either engine),
    # and the next layer's mixed-sign weights turn inf into NaN
    net.params[0][:-1] = 1e307
    path = tmp_path / "wild.npz"
    save_model(net, path)
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(path))
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier))
    click(qtbot, w, "playPauseButton")
    qtbot.waitUntil(lambda: any(m[1] == "Training diverged" for m in w.messages), timeout=10000)
    text = next(m[2] for m in w.messages if m[1] == "Training diverged")
    assert "Lower the learning rate" in text and "η = 0.15" in text
    qtbot.waitUntil(lambda: w.session.run_state == "paused")
    assert button(w, "playPauseButton").text() == "Play"
    assert all(np.isfinite(p).all() for p in w.latest_snapshot.network.params)


# ----------------------------------------------------------------------------------- views
class FakeView(StudioView):
    title = "Fake"

    def __init__(self):
        super().__init__()
        self.calls = []

    def set_snapshot(self, snapshot):
        self.calls.append(("snapshot", snapshot))

    def set_input(self, example):
        self.calls.append(("input", example))

    def set_dataset(self, dataset):
        self.calls.append(("dataset", dataset))

    def kinds(self, kind):
        return [c[1] for c in self.calls if c[0] == kind]


def test_views_get_dataset_snapshots_and_inputs(qtbot, make_window):
    views = {}

    def factory(key):
        def make():
            views[key] = FakeView()
            return views[key]
        return make

    w = make_window(view_factories={"diagram": factory("diagram"), "draw": factory("draw"),
                                    "evaluation": factory("evaluation")})
    d, pad = views["diagram"], views["draw"]
    assert w.centralWidget() is d
    assert isinstance(w.views["backprop"], Placeholder)
    assert pad.kinds("dataset") == [w.dataset]
    qtbot.waitUntil(lambda: bool(pad.kinds("input") and pad.kinds("snapshot")))
    first = pad.kinds("input")[0]
    assert first.source == "test #0" and first.label == int(w.dataset.test_labels[0])
    assert first.pixels.shape == (784,) and first.pixels.max() <= 1.0
    # a view asks for an input: every view gets it
    ex = InputExample(pixels=np.zeros(784), source="drawing pad")
    with qtbot.waitSignal(w.inputChanged):
        pad.inputRequested.emit(ex)
    assert d.kinds("input")[-1] is ex and views["evaluation"].kinds("input")[-1] is ex
    pad.statusMessage.emit("hello from the pad")
    assert w.statusBar().message() == "hello from the pad"
    # snapshots are handed over at display rate, not per mini-batch
    n0 = len(d.kinds("snapshot"))
    click(qtbot, w, "playPauseButton")
    qtbot.wait(400)
    until_paused(qtbot, w, lambda: click(qtbot, w, "playPauseButton"))
    # the pause snapshot reaches the views on the next display frame (the machine may be busy)
    qtbot.waitUntil(lambda: d.kinds("snapshot")[-1] is w.latest_snapshot, timeout=3000)
    n_snap = len(d.kinds("snapshot")) - n0
    assert w.history.n > 200 and 2 <= n_snap <= 0.45 * 60 + 3
    assert w.latest_snapshot.step == w.history.n
    # stepping a batch makes its first example the current input
    with qtbot.waitSignal(w.inputChanged, timeout=5000):
        click(qtbot, w, "stepBatchButton")
    got = d.kinds("input")[-1]
    assert got.source.startswith("mini-batch ") and got.split == "train"
    assert got.index == int(w.session.last_report.indices[0])
    assert np.array_equal(got.extra["batch_indices"], w.session.last_report.indices)


def test_missing_views_get_labelled_placeholders(qtbot, make_window, monkeypatch):
    specs = tuple((k, "nnstudio.gui.no_such_module_" + k, c, t) for k, _m, c, t in mw_docks.VIEW_SPECS)
    monkeypatch.setattr(mw_docks, "VIEW_SPECS", specs)
    w = make_window(load_views=True)
    for key, _m, _c, title in specs:
        v = w.views[key]
        assert isinstance(v, Placeholder)
        assert title in v.findChild(QtWidgets.QLabel).text()
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepBatchButton"))


def test_real_views_are_hosted_and_fed(qtbot, make_window):
    w = make_window(load_views=True)
    hosted = w.studio_views()
    assert hosted  # whatever views exist in this build
    until_paused(qtbot, w, lambda: click(qtbot, w, "stepBatchButton"))
    click(qtbot, w, "playPauseButton")
    qtbot.waitUntil(lambda: w.history.n > 50, timeout=15000)
    until_paused(qtbot, w, lambda: click(qtbot, w, "playPauseButton"))
    qtbot.wait(50)
    assert [m for m in w.messages if m[0] == "error"] == []


def test_light_theme_toggle(qtbot, window, app_look):
    w = window
    light = w.findChild(QtGui.QAction, "lightThemeAction")
    light.trigger()
    pal = QtWidgets.QApplication.instance().palette()
    assert pal.color(QtGui.QPalette.ColorRole.Window).name() == theme.LIGHT["BACKGROUND"]
    img = w.plots.cost_plot.grab().toImage()
    assert QtGui.QColor(img.pixel(3, 3)).lightness() > 200
    light.trigger()
    pal = QtWidgets.QApplication.instance().palette()
    assert pal.color(QtGui.QPalette.ColorRole.Window).name() == theme.BACKGROUND
    img = w.plots.cost_plot.grab().toImage()
    assert QtGui.QColor(img.pixel(3, 3)).lightness() < 60


def test_application_identity_and_icon(qtbot):
    from nnstudio.gui.app import app_icon, create_app

    app = create_app()
    assert app.applicationName() == "nnstudio" and app.desktopFileName() == "nnstudio"
    icon = app_icon()
    assert not icon.isNull()
    assert not app.windowIcon().isNull()
    pm = icon.pixmap(64, 64)
    assert pm.width() == 64 and not pm.toImage().isNull()


def test_fields_have_keyboard_shortcuts(qtbot, window):
    w = window
    for key, name in ((Qt.Key.Key_L, "learningRateInput"), (Qt.Key.Key_M, "batchSizeInput"),
                      (Qt.Key.Key_Y, "layerSizesInput"), (Qt.Key.Key_D, "datasetSelector"),
                      (Qt.Key.Key_E, "speedSlider")):
        target = w.findChild(QtWidgets.QWidget, name)
        key_mod = Qt.KeyboardModifier.AltModifier
        qtbot.keyClick(w, key, key_mod)
        focus = QtWidgets.QApplication.focusWidget()
        assert focus is target or target.isAncestorOf(focus), name
        assert "Alt+" in target.toolTip()
