"""The playground view, driven like a person: clicks on the map, the buttons, the learning-rate bar."""

import re

import numpy as np
import pytest

from nnstudio.gui.qt import QtCore, Qt
from nnstudio.gui.views.descent.playground import LearningRateBar, PlaygroundView
from nnstudio.gui.style import theme

# the offscreen platform says this on every show(); it is not about our widgets
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def view(qtbot):
    v = PlaygroundView()
    qtbot.addWidget(v)
    v.resize(1100, 720)
    v.show()
    qtbot.waitExposed(v)
    return v


def pixel_of(view, x, y) -> QtCore.QPoint:
    """Where the data point (x, y) is on the plot's viewport."""
    vb = view.plot.getPlotItem().getViewBox()
    scene = vb.mapViewToScene(QtCore.QPointF(x, y))
    return view.plot.mapFromScene(scene)


def all_text(view) -> str:
    from nnstudio.gui.qt import QtWidgets

    return " ".join(lab.text() for lab in view.findChildren(QtWidgets.QLabel))


def count_color(img, rgb, tol=40) -> int:
    from nnstudio.gui.qt import QtGui

    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)[..., :3][..., ::-1]
    return int((np.abs(a.astype(int) - np.array(rgb)).max(axis=-1) < tol).sum())


def test_click_drops_the_start_point_and_step_moves_by_eta_times_the_gradient(qtbot, view):
    qtbot.mouseClick(view.plot.viewport(), Qt.LeftButton, pos=pixel_of(view, 1.0, -0.5))
    start = view.careful.path[0]
    assert start == pytest.approx([1.0, -0.5], abs=0.03)
    assert view.careful.steps_done == 0
    qtbot.mouseClick(view.step_button, Qt.LeftButton)
    assert view.careful.steps_done == 1
    lr = view.learning_rate
    expected = start - lr * view.preset.gradient(start)
    assert view.careful.point == pytest.approx(expected)
    # the step length is shown: η × |∇C| = length
    length = view.careful.step_lengths[-1]
    assert "step length" in view.readout.text()
    assert f"{length:.3f}".rstrip("0")[:4] in view.readout.text()


def test_run_draws_the_path_and_stops_at_the_bottom(qtbot, view):
    view.set_learning_rate(0.3)
    assert "good" in view.regime_label.text()
    view.set_speed(60)
    before = count_color(view.plot.grab().toImage(), (0xF5, 0xC5, 0x42))
    with qtbot.waitSignal(view.runFinished, timeout=5000) as blocker:
        qtbot.mouseClick(view.run_button, Qt.LeftButton)
        assert view.is_running and view.run_button.text() == "Pause"
    assert blocker.args == ["converged"]
    assert not view.is_running and view.run_button.text() == "Run"
    assert "Converged" in view.status_label.text()
    after = count_color(view.plot.grab().toImage(), (0xF5, 0xC5, 0x42))
    assert after > before + 100  # the yellow path is on screen
    lengths = np.array(view.careful.step_lengths)
    assert lengths[-1] < lengths[0] / 100  # steps shrink as the slope flattens
    x, y = view.careful_steps.getData()
    assert len(x) == len(lengths)


def test_too_large_a_learning_rate_diverges_without_nan_on_screen(qtbot, view):
    bar = view.lr_bar
    qtbot.mouseClick(bar, Qt.LeftButton, pos=QtCore.QPoint(int(bar.x_of(3.0)), 12))
    assert view.learning_rate == pytest.approx(3.0, rel=0.05)
    assert "diverges" in view.regime_label.text()
    view.set_speed(60)
    with qtbot.waitSignal(view.runFinished, timeout=5000) as blocker:
        view.run()
    assert blocker.args == ["diverged"]
    assert "Diverged" in view.status_label.text() and "stability bound" in view.status_label.text()
    text = all_text(view).lower()
    assert not re.search(r"\bnan\b|\binf\b", text)
    for item in (view.careful_path, view.careful_steps):
        x, y = item.getData()
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("key", ["minima", "saddle"])
def test_non_quadratic_presets_report_divergence_too(qtbot, view, key):
    view.preset_box.setCurrentIndex(view.preset_box.findData(key))
    assert view.preset.key == key
    view.set_learning_rate(1.3 * view.preset.stability_bound)
    view.careful.run()
    view.step()  # refreshes the screen (a finished run does not move)
    assert view.careful.status == "diverged"
    assert "Diverged" in view.status_label.text()


def test_learning_rate_bar_keys_and_regime_zones(qtbot):
    bar = LearningRateBar()
    qtbot.addWidget(bar)
    bar.resize(300, 46)
    bar.setValue(0.1)
    with qtbot.waitSignal(bar.valueChanged):
        qtbot.keyClick(bar, Qt.Key_Right)
    assert bar.value() == pytest.approx(0.1 * 10**0.05)
    assert bar.value_at(bar.x_of(0.02)) == pytest.approx(0.02)


def test_arrows_on_demand(qtbot, view):
    assert not view.arrows.isVisible()
    view.arrows_box.click()
    assert view.arrows.isVisible()
    x, y = view.arrows.getData()
    assert len(x) > 300 and np.all(np.isfinite(x))


def test_stochastic_race_shows_both_paths_and_their_times(qtbot, view):
    view.preset_box.setCurrentIndex(view.preset_box.findData("valley"))
    view.stochastic_box.click()
    assert view.stochastic and view.drunk is not None
    view.set_speed(60)
    with qtbot.waitSignal(view.runFinished, timeout=15000):
        view.run()
    assert view._reached["careful"] is not None and view._reached["drunk"] is not None
    text = view.race_label.text()
    assert "example-gradients" in text and "less time" in text
    dx, dy = view.drunk_path.getData()
    assert len(dx) > 5
    img = view.plot.grab().toImage()
    assert count_color(img, (0xFC, 0x62, 0x55)) > 50  # the red drunk path is drawn


def test_every_preset_loads(qtbot, view):
    for i in range(view.preset_box.count()):
        view.preset_box.setCurrentIndex(i)
        key = view.preset_box.itemData(i)
        assert view.preset.key == key
        assert view.careful.path[0] == pytest.approx(view.preset.start)
        x, y = view.contours.getData()
        assert len(x) > 100
    assert theme.ACCENT  # the palette module is what the view draws with
