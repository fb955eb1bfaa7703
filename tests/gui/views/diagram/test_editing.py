"""Editing a neuron through the widgets, in the studio window: click a neuron in the diagram, drag its bias
slider with the mouse, switch it off, Reset, Undo; the session's network, the diagram, the pad's reading
and the inspector's test accuracy follow; "which neurons matter" equals a direct computation and a click
on a bar inspects that neuron."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gui import settle

from nnstudio.components.ablation import ablation, accuracy
from nnstudio.gui.qt import QtCore, QtWidgets, Qt
from nnstudio.gui.views.diagram.editing import STEPS, AblationChart

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)")


def same(a, b) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


def handle_center(slider) -> QtCore.QPoint:
    opt = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(opt)
    r = slider.style().subControlRect(QtWidgets.QStyle.ComplexControl.CC_Slider, opt,
                                      QtWidgets.QStyle.SubControl.SC_SliderHandle, slider)
    return r.center()


def drag(qtbot, slider, dx: int) -> None:
    """Press on the slider's handle, move ``dx`` pixels in steps, release: a person's drag."""
    p = handle_center(slider)
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=p)
    for k in range(1, 6):
        qtbot.mouseMove(slider, QtCore.QPoint(p.x() + dx * k // 5, p.y()))
        qtbot.wait(10)
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QtCore.QPoint(p.x() + dx, p.y()))


@pytest.fixture
def edit_window(qtbot, studio):
    w = studio
    diagram, pad = w.views["diagram"], w.views["draw"]
    pad.load_example(0)
    qtbot.waitUntil(lambda: pad.bars.values() is not None, timeout=10000)
    c = diagram.canvas
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=c.neuron_center(1, 3).toPoint())
    ins = diagram.inspector
    assert ins is not None and (ins.layer, ins.index) == (1, 3)
    return w, diagram, pad, ins


def test_dragging_the_bias_slider_moves_that_neurons_z_and_everything_follows(qtbot, edit_window):
    w, diagram, pad, ins = edit_window
    s = w.session
    base = s.network.copy()
    X, y = s.dataset.test_x, s.dataset.test_labels
    z0 = base.forward(X[:200]).zs[0]
    reading0 = pad.bars.values()
    panel = ins.edit_panel
    assert panel.bias_slider.isEnabled() and panel.off_check.isEnabled() and not panel.reset_button.isEnabled()
    drag(qtbot, panel.bias_slider, 60)
    shift = panel.bias_slider.value() / STEPS
    assert shift > 0.5
    # exactly that neuron's z moved, by exactly the dragged amount
    dz = s.network.forward(X[:200]).zs[0] - z0
    assert np.allclose(dz[:, 3], shift, rtol=0, atol=1e-12)
    assert not np.any(np.delete(dz, 3, axis=1))
    assert s.network.biases[0][3] == base.biases[0][3] + shift
    assert f"+{shift:.2f}" in panel.bias_value.text() and panel.reset_button.isEnabled()
    # the diagram, the pad's reading and the test accuracy follow
    qtbot.waitUntil(lambda: diagram.canvas.snapshot is s.snapshot, timeout=5000)
    qtbot.waitUntil(lambda: not np.array_equal(pad.bars.values(), reading0), timeout=5000)
    want = f"{100 * accuracy(base, X, y):.1f} % → <b>{100 * accuracy(s.network, X, y):.1f} %</b> with this edit"
    qtbot.waitUntil(lambda: want in panel.accuracy_label.text(), timeout=10000)
    # one drag is one undo step, bit-identical
    assert w.undo_action.isEnabled()
    w.undo_action.trigger()
    assert same(s.network, base)
    qtbot.waitUntil(lambda: panel.bias_slider.value() == 0, timeout=5000)


def test_switch_off_then_reset_and_undo_are_bit_identical(qtbot, edit_window):
    w, diagram, pad, ins = edit_window
    s = w.session
    base = s.network.copy()
    panel = ins.edit_panel
    drag(qtbot, panel.scale_slider, -40)
    scaled = s.network.copy()
    assert not same(scaled, base)
    qtbot.mouseClick(panel.off_check, Qt.MouseButton.LeftButton)
    assert panel.off_check.isChecked()
    # its outgoing weights are 0: the next layer hears it as if its activation were 0
    assert not np.any(s.network.weights[1][:, 3])
    X = s.dataset.test_x[:100]
    fp = scaled.forward(X)
    a1 = fp.activations[1].copy()
    a1[:, 3] = 0.0
    np.testing.assert_allclose(s.network.forward(X).zs[1], a1 @ scaled.weights[1].T + scaled.biases[1], atol=1e-12)
    # Undo: back one control at a time, bit for bit
    w.undo_action.trigger()
    assert same(s.network, scaled)
    w.undo_action.trigger()
    assert same(s.network, base)
    # an edit, then the inspector's Reset: the base again, bit for bit
    qtbot.mouseClick(panel.off_check, Qt.MouseButton.LeftButton)
    assert not same(s.network, base)
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert same(s.network, base) and not panel.off_check.isChecked() and not panel.reset_button.isEnabled()


def test_which_neurons_matter_equals_a_direct_computation_and_a_bar_click_inspects(qtbot, edit_window):
    w, diagram, pad, ins = edit_window
    s = w.session
    bar = ins.bottom_tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(1).center())
    chart = ins.ablation_chart
    assert isinstance(chart, AblationChart)
    qtbot.waitUntil(lambda: chart.values.size == 16, timeout=20000)
    X, y = s.dataset.test_x, s.dataset.test_labels
    direct = []
    for j in range(16):  # switch each off by hand and measure
        net = s.network.copy()
        net.weights[1][:, j] = 0.0
        direct.append(accuracy(net, X, y))
    np.testing.assert_allclose(chart.values, 100 * np.array(direct), rtol=0, atol=1e-9)
    np.testing.assert_allclose(chart.values, 100 * ablation(s.network, X, y, 1), rtol=0, atol=1e-9)
    assert chart.full == pytest.approx(100 * accuracy(s.network, X, y)) and chart.highlight == 3
    assert "switched off" in ins.ablation_note.text()
    # under each bar, that neuron's weight image (what it looks for in the pixels)
    assert len(chart.images) == 16 and chart.thumb_side() >= 10
    assert chart.images[3].width() == 28 and chart.images[3].pixelColor(0, 0).isValid()
    # a click on bar 7 inspects neuron 7
    settle(qtbot, w)
    pos = chart.bar_rect(7).center().toPoint()
    qtbot.mouseClick(chart, Qt.MouseButton.LeftButton, pos=QtCore.QPoint(pos.x(), chart.height() - 30))
    qtbot.waitUntil(lambda: (ins.layer, ins.index) == (1, 7), timeout=5000)
    assert diagram.canvas.selected == (1, 7)
    qtbot.waitUntil(lambda: chart.highlight == 7, timeout=5000)
    # an output neuron: no ablation (nothing to switch off), and the off box is disabled
    diagram.select_neuron(len(s.network.sizes) - 1, 4, inspect=True)
    qtbot.waitUntil(lambda: ins.layer == len(s.network.sizes) - 1, timeout=5000)
    assert not ins.edit_panel.off_check.isEnabled() and chart.values.size == 0
