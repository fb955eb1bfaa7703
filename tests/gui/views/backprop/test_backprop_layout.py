"""The Backprop explorer at the sizes its dock has on real screens: every tab readable, nothing cut off,
no painted number on top of another, no text under 9 pt; scrolling (down) where the dock is short."""

import numpy as np
import pytest

import geometry
from nnstudio.core import Network
from nnstudio.data import load_dataset
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets
from nnstudio.gui.style import theme
from nnstudio.gui.style.palette import apply_theme
from nnstudio.gui.views.backprop import BackpropView
from nnstudio.gui.views.backprop._common import TAB_NAMES, TABS, _Canvas
from nnstudio.gui.window import docks
from nnstudio.session.model import Snapshot

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

BATCH = np.array([3, 141, 592, 653, 589, 793, 2384, 626, 433, 832])
#: the Backprop dock (width × height) in a window of 1024×700, 1280×720 and 1600×1000
DOCKS = {"1024x700": (700, 230), "1280x720": (950, 250), "1600x1000": (1250, 330)}


@pytest.fixture(scope="module")
def ds():
    return load_dataset("mnist-sample")


@pytest.fixture
def docked(qtbot, ds):
    """``make(width, height, sizes=...)``: the explorer in a scroll area of that size, as the window docks it."""

    def make(width, height, sizes=(784, 16, 16, 10)):
        v = BackpropView()
        area = docks._host(v, "backpropScroll")  # (the scroll area the window's dock holds it in)
        qtbot.addWidget(area)
        area.resize(width, height)
        v.set_dataset(ds)
        v.set_snapshot(Snapshot(Network(sizes, seed=5), step=7, learning_rate=2.0, batch_indices=BATCH))
        area.show()
        qtbot.waitExposed(area)
        return area, v

    return make


def text_problems(canvas) -> list[str]:
    """What a person would see wrong with a canvas' painted text: under 9 pt, outside the canvas, or
    on top of another piece of text."""
    canvas.grab()  # (paints it, and so lays its text out)
    drawn = canvas.drawn_text
    out = []
    inside = QtCore.QRectF(canvas.rect()).adjusted(-1, -1, 1, 1)
    for box, text, pt in drawn:
        if pt + 0.05 < 9:
            out.append(f"{text!r} at {pt:.1f} pt")
        if not inside.contains(box):
            out.append(f"{text!r} leaves the {canvas.width()}×{canvas.height()} canvas at {box}")
    for i, (a, ta, _) in enumerate(drawn):
        for b, tb, _ in drawn[i + 1:]:
            both = a.intersected(b)
            if both.width() > 1 and both.height() > 1:
                out.append(f"{ta!r} overlaps {tb!r}")
    return [f"{type(canvas).__name__}: {p}" for p in out]


def check_tab(qtbot, area, v, tab):
    v.show_tab(tab)
    qtbot.wait(20)
    panel = v.tabs.currentWidget()
    canvases = [c for c in panel.findChildren(_Canvas) if c.isVisible()]
    assert canvases
    problems = []
    for c in canvases:
        need = c.minimumSizeHint()
        if c.width() < need.width() or c.height() < need.height():
            problems.append(f"{type(c).__name__} squeezed to {c.width()}×{c.height()} (needs {need.width()}×"
                            f"{need.height()})")
        problems += text_problems(c)
    assert any(c.drawn_text for c in canvases)
    problems += geometry.problems(area)
    return problems


@pytest.mark.parametrize("screen", DOCKS)
@pytest.mark.parametrize("tab", TABS)
def test_every_tab_reads_in_the_dock_of_every_screen(docked, qtbot, screen, tab):
    area, v = docked(*DOCKS[screen])
    assert check_tab(qtbot, area, v, tab) == []
    # it fits the dock's width (scrolling only down), and scrolls rather than squeezing when the dock is short
    assert v.width() <= area.viewport().width()
    assert v.height() >= v.minimumSizeHint().height()


@pytest.mark.parametrize("tab", ("all neurons", "all examples", "parameters", "chain rule"))
def test_a_bigger_network_and_a_step_keep_the_text_apart(docked, qtbot, tab):
    # 100 and 30 hidden neurons: the diagram draws 32 of a layer (too close for labels: it leaves them
    # to the tooltips), and after a Step every image gains a line ("was …")
    area, v = docked(700, 230, sizes=(784, 100, 30, 10))
    v.step()
    assert check_tab(qtbot, area, v, tab) == []
    assert v.width() <= area.viewport().width()


def test_the_header_and_the_tabs_follow_the_width(docked, qtbot):
    area, v = docked(1250, 330)
    controls = v.header.itemAt(1).layout()
    assert v.header.direction() == QtWidgets.QBoxLayout.Direction.LeftToRight
    assert [v.tabs.tabText(i) for i in range(5)] == [full for full, _ in TAB_NAMES]
    beside = v.cost_box.mapTo(v, QtCore.QPoint(0, 0))
    assert beside.x() > v.example_label.mapTo(v, QtCore.QPoint(0, 0)).x()  # the controls right of the example
    area.resize(700, 230)
    qtbot.wait(20)
    assert v.header.direction() == QtWidgets.QBoxLayout.Direction.TopToBottom
    below = v.cost_box.mapTo(v, QtCore.QPoint(0, 0))
    assert below.y() > v.thumb.geometry().bottom() - 10  # the controls under the example
    assert [v.tabs.tabText(i) for i in range(5)] == [short for _, short in TAB_NAMES]
    assert v.tabs.tabToolTip(1) == TAB_NAMES[1][0]
    bar = v.tabs.tabBar()
    assert bar.tabRect(4).right() <= bar.width()  # every tab in sight, no scroll arrows needed
    assert controls.geometry().right() <= v.width()
    # the cost's name is never cut ("(trained with)" included)
    assert v.cost_box.width() >= v.cost_box.minimumSizeHint().width()
    fm = v.cost_box.fontMetrics()
    assert v.cost_box.width() > max(fm.horizontalAdvance(v.cost_box.itemText(i)) for i in range(v.cost_box.count()))


def test_the_explorer_is_as_tall_as_the_tab_on_screen(docked, qtbot):
    area, v = docked(700, 230)
    v.show_tab("one neuron")
    qtbot.wait(20)
    tall = v.minimumSizeHint().height()
    v.show_tab("all examples")
    qtbot.wait(20)
    assert v.minimumSizeHint().height() < tall - 100  # (not the tallest tab's height on every tab)


def test_labels_keep_the_videos_light_text_in_the_light_theme(docked, qtbot):
    app = QtWidgets.QApplication.instance()
    palette, sheet = app.palette(), app.styleSheet()
    try:
        apply_theme(app, dark=False)
        area, v = docked(950, 250)
        qtbot.wait(20)
        text = QtGui.QColor(theme.TEXT)
        for label in (v.example_label, v.all_neurons.caption, v.one_neuron.title):
            assert label.palette().color(QtGui.QPalette.ColorRole.WindowText) == text
        assert v.convention.palette().color(QtGui.QPalette.ColorRole.WindowText) == QtGui.QColor(theme.MUTED)
        assert v.convention.font().pointSizeF() >= 9
    finally:
        app.setStyleSheet(sheet)
        app.setPalette(palette)


def test_the_output_table_sizes_its_columns_to_their_text(docked, qtbot):
    area, v = docked(700, 230)
    v.show_tab("one neuron")
    qtbot.wait(20)
    table = v.one_neuron.outputs
    table.grab()
    boxes = {t: box for box, t, _ in table.drawn_text}
    heads = ["activation a\n│ = desired y", "a", "(a − y)²", "desired nudge\n−∂C/∂a = −2(a − y)"]
    # the headings left to right, each clear of the next, the last one within the table
    for left, right in zip(heads, heads[1:]):
        assert boxes[left].right() < boxes[right].left()
    assert boxes[heads[-1]].right() <= table.width()
    # ten rows of at least a line each, and the sum under them
    line = QtGui.QFontMetrics(table.font()).height()
    rows = table._rows()
    assert len(rows) == 10 and min(h for _, h in rows) >= line
    total = [box for box, t, _ in table.drawn_text if t.startswith("cost of this example")]
    assert total and total[0].top() >= rows[-1][0] + rows[-1][1] and total[0].bottom() <= table.height()
