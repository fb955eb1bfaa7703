"""The drawing pad and the draw-and-classify panel, driven with real mouse strokes and key presses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nnstudio.core import Network
from nnstudio.data import load_dataset, load_image, to_mnist
from nnstudio.gui.style import theme
from nnstudio.gui.views.pad import CANVAS_SIZE, DrawingPad, DrawPanel, Prediction
from nnstudio.gui.qt import QtCore, QtGui, Qt
from nnstudio.session.model import InputExample, Snapshot

# the offscreen platform says this whenever a top-level widget with a minimum size is shown
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


# ----------------------------------------------------------------------------------------------- helpers
def widget_point(pad: DrawingPad, x: float, y: float) -> QtCore.QPoint:
    p = pad.from_canvas(x, y)
    return QtCore.QPoint(round(p.x()), round(p.y()))


def stroke(qtbot, pad: DrawingPad, points) -> None:
    """Press, move through ``points`` (canvas coordinates), release: what a person does with a mouse."""
    pts = [widget_point(pad, x, y) for x, y in points]
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(pad, p)
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=pts[-1])


def vertical_line(x=140.0, top=50.0, bottom=230.0, n=24):
    return [(x + 2.0 * (i / n), top + (bottom - top) * i / n) for i in range(n + 1)]


def ellipse(cx=140.0, cy=140.0, rx=55.0, ry=85.0, n=48):
    return [(cx + rx * math.sin(2 * math.pi * i / n), cy - ry * math.cos(2 * math.pi * i / n)) for i in range(n + 1)]


def accent_pixels(widget) -> int:
    """How many pixels of the rendered widget are (close to) the accent colour."""
    img = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(img.height(), img.bytesPerLine() // 4, 4)
    acc = QtGui.QColor(theme.ACCENT)
    bgr = np.array([acc.blue(), acc.green(), acc.red()])
    return int((np.abs(a[:, : img.width(), :3].astype(int) - bgr).sum(axis=2) < 40).sum())


@pytest.fixture
def panel(qtbot):
    w = DrawPanel()
    qtbot.addWidget(w)
    w.resize(760, 440)
    w.show()
    qtbot.waitExposed(w)
    return w


def draw_and_wait(qtbot, panel, points) -> Prediction:
    with qtbot.waitSignal(panel.predictionChanged, timeout=3000):
        stroke(qtbot, panel.pad, points)
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=3000)
    return panel.prediction


# ----------------------------------------------------------------------------------------------- reading
def test_empty_pad_shows_no_guess(panel):
    assert panel.pad.is_empty()
    assert panel.prediction is None or panel.prediction.blank
    assert panel.guess.text() == "Draw a digit"
    assert panel.bars.values() is None
    assert accent_pixels(panel.bars) == 0  # no bar is lit
    assert panel.network is None  # nothing is loaded before the user draws


def test_vertical_stroke_reads_as_one_with_the_shipped_network(qtbot, panel):
    messages = []
    panel.statusMessage.connect(messages.append)
    pred = draw_and_wait(qtbot, panel, vertical_line())
    assert pred.guess == 1, pred.activations
    assert panel.guess.guess == "1" and panel.guess.text().startswith("1 ") and panel.guess.sure
    assert f"{100 * pred.confidence:.0f} % confident" in panel.guess.text()
    assert panel.bars.values().argmax() == 1
    assert accent_pixels(panel.bars) > 50  # the winning bar is drawn in the accent colour
    # a panel on its own (no studio gave it a network) reads with the pretrained one, and says so
    assert tuple(panel.network.sizes) == (784, 16, 16, 10)
    assert "Read by the pretrained 784-16-16-10" in panel.model_label.text()
    assert "% on MNIST test" in panel.model_label.text()


def test_ellipse_reads_as_zero(qtbot, panel):
    pred = draw_and_wait(qtbot, panel, ellipse())
    assert pred.guess == 0, pred.activations


@pytest.mark.parametrize("width", [10, 44])
def test_stroke_thickness_does_not_swing_the_answer(qtbot, panel, width):
    panel.width_slider.setValue(width)
    assert panel.pad.brush_width == width
    assert draw_and_wait(qtbot, panel, vertical_line()).guess == 1
    panel.pad.clear()
    assert draw_and_wait(qtbot, panel, ellipse()).guess == 0


def test_the_answer_updates_while_the_stroke_is_still_being_drawn(qtbot, panel):
    pad = panel.pad
    pts = [widget_point(pad, x, y) for x, y in vertical_line(n=40)]
    updates = []
    panel.predictionChanged.connect(updates.append)
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:20]:
        qtbot.mouseMove(pad, p)
    qtbot.waitUntil(lambda: len(updates) >= 1, timeout=3000)  # button still held
    mid = len(updates)
    assert not updates[-1].blank
    for p in pts[20:]:
        qtbot.mouseMove(pad, p)
        qtbot.wait(2)
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=pts[-1])
    qtbot.waitUntil(lambda: len(updates) > mid, timeout=3000)
    assert updates[-1].guess == 1


def test_updates_are_coalesced_to_display_rate(qtbot, panel):
    panel.pad.load_digit(np.eye(28, dtype=np.uint8) * 255)
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=3000)
    updates = []
    panel.predictionChanged.connect(updates.append)
    for _ in range(200):  # 200 stroke segments in one event-loop turn
        panel.pad.changed.emit()
    qtbot.waitUntil(lambda: len(updates) >= 1, timeout=3000)
    qtbot.wait(60)
    assert len(updates) == 1


# ----------------------------------------------------------------------------------------------- tools
def test_eraser_removes_ink(qtbot, panel):
    pad = panel.pad
    stroke(qtbot, pad, [(60, 140), (220, 140)])
    row = pad.array()[140]
    assert row[80:200].min() == 255
    qtbot.mouseClick(panel.eraser_button, Qt.MouseButton.LeftButton)
    assert pad.eraser and panel.eraser_button.isChecked()
    panel.width_slider.setValue(50)
    stroke(qtbot, pad, [(100, 140), (180, 140)])
    a = pad.array()
    assert a[130:151, 100:181].max() == 0  # erased under the eraser...
    assert a[140, 55:70].min() > 200  # ...and only there
    stroke(qtbot, pad, [(40, 140), (100, 140)])
    stroke(qtbot, pad, [(180, 140), (240, 140)])
    assert pad.is_empty()
    qtbot.waitUntil(lambda: panel.prediction is not None and panel.prediction.blank, timeout=3000)
    assert panel.guess.text() == "Draw a digit"
    qtbot.keyClick(pad, Qt.Key.Key_B)
    assert not pad.eraser and panel.brush_button.isChecked()


def test_undo_restores_the_previous_pixels(qtbot, panel):
    pad = panel.pad
    stroke(qtbot, pad, vertical_line())
    after_one = pad.array()
    stroke(qtbot, pad, [(60, 60), (220, 60)])
    assert not np.array_equal(pad.array(), after_one)
    qtbot.keyClick(pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(pad.array(), after_one)
    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    assert pad.is_empty() and not pad.array().any()
    assert not pad.undo()  # nothing left to undo
    assert not panel.undo_button.isEnabled() and not panel.clear_button.isEnabled()


@pytest.mark.parametrize("key", [Qt.Key.Key_Delete, Qt.Key.Key_Backspace, Qt.Key.Key_C])
def test_clear_by_key_and_undo_the_clear(qtbot, panel, key):
    pad = panel.pad
    draw_and_wait(qtbot, panel, vertical_line())
    drawn = pad.array()
    with qtbot.waitSignal(panel.predictionChanged, timeout=3000):
        qtbot.keyClick(pad, key)
    assert not pad.array().any()
    assert panel.prediction.blank and panel.guess.text() == "Draw a digit"
    qtbot.keyClick(pad, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(pad.array(), drawn)


def test_clear_button(qtbot, panel):
    stroke(qtbot, panel.pad, ellipse())
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.pad.is_empty() and not panel.pad.array().any()


def test_brush_width_keys_and_slider(qtbot, panel):
    pad = panel.pad
    w = pad.brush_width
    qtbot.keyClick(pad, Qt.Key.Key_Plus)
    assert pad.brush_width == w + 2 == panel.width_slider.value()
    stroke(qtbot, pad, [(40, 100), (240, 100)])
    thin_ink = (pad.array() > 127).sum()
    pad.clear()
    panel.width_slider.setValue(40)
    stroke(qtbot, pad, [(40, 100), (240, 100)])
    assert (pad.array() > 127).sum() > 1.5 * thin_ink


def test_tablet_pressure_sets_the_stroke_width(qtbot, panel):
    pad = panel.pad
    widths = []
    for pressure in (0.1, 1.0):
        pad.clear()
        dev = QtGui.QPointingDevice.primaryPointingDevice()
        for kind, (x, y) in zip(
            (QtCore.QEvent.Type.TabletPress, QtCore.QEvent.Type.TabletMove, QtCore.QEvent.Type.TabletRelease),
            ((40, 140), (140, 140), (240, 140)),
        ):
            pos = QtCore.QPointF(widget_point(pad, x, y))
            ev = QtGui.QTabletEvent(
                kind, dev, pos, pad.mapToGlobal(pos), pressure, 0.0, 0.0, 0.0, 0.0, 0.0,
                Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
                Qt.MouseButton.NoButton if kind == QtCore.QEvent.Type.TabletRelease else Qt.MouseButton.LeftButton,
            )
            QtCore.QCoreApplication.sendEvent(pad, ev)
        widths.append(int((pad.array()[:, 140] > 127).sum()))
    assert widths[0] >= 3 and widths[1] > 2 * widths[0]


# ----------------------------------------------------------------------------------------------- same path as `nnstudio predict`
def test_pad_and_predict_path_see_identical_28x28(qtbot, panel, tmp_path, capsys):
    from nnstudio.cli import main, shipped_model_path

    pred = draw_and_wait(qtbot, panel, ellipse(rx=40, ry=70))
    png = tmp_path / "drawing.png"
    assert panel.pad.save(png)
    via_file = to_mnist(load_image(png))  # exactly what `nnstudio predict` does with a file
    assert np.array_equal(via_file, panel.network_input())
    assert np.array_equal(via_file, pred.pixels)
    capsys.readouterr()
    assert main(["predict", str(shipped_model_path()), str(png), "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["digit"] == pred.guess
    assert np.allclose(rec["activations"], pred.activations, rtol=0, atol=1e-12)


def test_drawing_becomes_the_studio_input(qtbot, panel):
    with qtbot.waitSignal(panel.inputRequested, timeout=3000) as sig:
        stroke(qtbot, panel.pad, vertical_line())
    ex = sig.args[0]
    assert isinstance(ex, InputExample) and ex.source == "drawing pad"
    assert ex.pixels.shape == (784,) and ex.pixels.max() == pytest.approx(1.0)
    qtbot.waitUntil(lambda: not panel._timer.isActive(), timeout=3000)
    with qtbot.waitSignal(panel.inputRequested, timeout=3000) as sig:
        panel.pad.clear()
    assert sig.args[0].extra.get("blank") and not sig.args[0].pixels.any()


def test_reads_with_the_latest_snapshot(qtbot, panel):
    messages = []
    panel.statusMessage.connect(messages.append)
    net = Network((784, 16, 16, 10), seed=3)  # an untrained network, as at the start of a run
    panel.set_snapshot(Snapshot.of(net))
    pred = draw_and_wait(qtbot, panel, vertical_line())
    assert np.allclose(pred.activations, net.feedforward(panel.network_input().reshape(1, -1))[0])
    assert panel.model_label.text() == "Read by a 784-16-16-10 network"
    panel.set_network_label("new 784-16-16-10 (seed 3)")  # the studio names its network
    assert panel.model_label.text() == "Read by new 784-16-16-10 (seed 3)"
    assert not any("pretrained" in m for m in messages)  # no fallback needed
    # training moves on: a newer snapshot re-reads the same drawing
    net2 = Network((784, 16, 16, 10), seed=4)
    with qtbot.waitSignal(panel.predictionChanged, timeout=3000) as sig:
        panel.set_snapshot(Snapshot(net2, step=12_000, epoch=2))
    assert np.allclose(sig.args[0].activations, net2.feedforward(panel.network_input().reshape(1, -1))[0])
    assert panel.model_label.text() == "Read by new 784-16-16-10 (seed 3)"  # the studio's name for it


def test_load_example_puts_a_dataset_digit_on_the_pad(qtbot, panel):
    ds = load_dataset("mnist-sample")
    panel.set_dataset(ds)
    with qtbot.waitSignal(panel.inputRequested, timeout=3000) as sig:
        i = panel.load_example(7)
    assert i == 7 and not panel.pad.is_empty()
    ex = sig.args[0]
    assert ex.label == int(ds.test_labels[7]) and "test #7" in ex.extra["example"]
    # the network sees the dataset's own image (MNIST is already 20x20-fitted and mass-centred)
    assert np.allclose(ex.pixels, to_mnist(ds.test_images[7]).ravel())
    assert np.abs(ex.pixels - ds.test_images[7].ravel() / ds.test_images[7].max()).max() < 1e-3
    qtbot.waitUntil(lambda: panel.prediction is not None and not panel.prediction.blank, timeout=3000)
    qtbot.mouseClick(panel.example_button, Qt.MouseButton.LeftButton)  # a random one, by the button
    assert panel.pad.can_undo() and not panel.pad.is_empty()


def test_set_array_checks_its_input(qtbot):
    pad = DrawingPad()
    qtbot.addWidget(pad)
    with pytest.raises(ValueError):
        pad.set_array(np.zeros((10, 10), np.uint8))
    a = np.zeros((CANVAS_SIZE, CANVAS_SIZE), np.uint8)
    a[100:180, 130:150] = 255
    pad.set_array(a)
    assert np.array_equal(pad.array(), a) and not pad.is_empty()


def test_pad_keys_win_over_window_shortcuts_only_for_pad_commands(qtbot):
    """In the studio, E/N/R/Space/[ ] are training shortcuts; with the pad focused C and Delete clear the pad
    (not a window action), while Space still reaches the window."""
    from nnstudio.gui.qt import QtWidgets

    win = QtWidgets.QMainWindow()
    qtbot.addWidget(win)
    panel = DrawPanel()
    win.setCentralWidget(panel)
    fired = []
    for key in ("C", "Delete", "Space"):
        act = QtGui.QAction(key, win)
        act.setShortcut(QtGui.QKeySequence(key))
        act.triggered.connect(lambda _=False, k=key: fired.append(k))
        win.addAction(act)
    win.resize(760, 440)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is win, timeout=3000)
    panel.pad.setFocus()
    for key in (Qt.Key.Key_C, Qt.Key.Key_Delete):
        stroke(qtbot, panel.pad, vertical_line())
        qtbot.keyClick(panel.pad, key)
        assert panel.pad.is_empty()
    qtbot.keyClick(panel.pad, Qt.Key.Key_Space)
    assert fired == ["Space"]


def test_an_untrained_network_is_not_sure(qtbot, panel):
    """A fresh network lights several outputs about equally: the guess is shown, flagged "not sure"."""
    net = Network((784, 16, 16, 10), seed=0)
    panel.set_snapshot(Snapshot.of(net))
    pred = draw_and_wait(qtbot, panel, vertical_line())
    second = np.sort(pred.activations)[-2]
    assert pred.confidence - second < 0.2
    assert panel.guess.text().endswith("(not sure)") and not panel.guess.sure


def test_a_fresh_random_network_is_read_with_as_it_is(qtbot, panel):
    """One network on screen: the pad reads with the studio's network even when it is untrained
    random weights (it used to borrow the shipped network meanwhile, while the diagram showed the
    random one)."""
    from nnstudio.core import Network
    from nnstudio.session.model import Snapshot

    fresh = Network(seed=5)
    panel.set_snapshot(Snapshot.of(fresh))
    assert all(np.array_equal(a, b) for a, b in zip(panel.network.params, fresh.params))
    pred = draw_and_wait(qtbot, panel, vertical_line())
    assert np.allclose(pred.activations, fresh.feedforward(panel.network_input().reshape(1, -1))[0])
