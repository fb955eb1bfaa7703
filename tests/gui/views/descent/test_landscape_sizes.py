"""The cost landscape in the studio window at 1024×700 … 1920×1080 and at the dock sizes those give it:
the slice's map whole with its controls beside it (the readout never under the α axis), every control
whole, the comparison one tab away in a short dock and under the slice in a tall one."""

from __future__ import annotations

import pytest

from nnstudio.core import Network
from nnstudio.data import load_dataset
from nnstudio.gui.qt import QtCore, QtWidgets
from nnstudio.gui.views.descent.landscape import LandscapeView
from nnstudio.session.model import Snapshot

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SIZES = [(1024, 700), (1280, 720), (1600, 1000), (1920, 1080)]


@pytest.fixture(scope="module")
def dataset():
    return load_dataset("mnist-sample")


def global_rect(widget) -> QtCore.QRect:
    return QtCore.QRect(widget.mapToGlobal(QtCore.QPoint(0, 0)), widget.size())


def controls(view):
    kinds = (QtWidgets.QAbstractButton, QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QtWidgets.QLabel)
    return [w for w in view.findChildren(QtWidgets.QWidget) if isinstance(w, kinds) and w.isVisible()
            and not w.objectName().startswith("qt_") and not isinstance(w.parentWidget(), QtWidgets.QTabBar)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_slice_and_its_controls_show_without_scrolling(in_window, size):
    view, area = in_window("landscape", size)
    assert area.verticalScrollBar().maximum() == 0 and area.horizontalScrollBar().maximum() == 0
    assert global_rect(area.viewport()).contains(global_rect(view.plot))
    side = view.compute_button.parentWidget().parentWidget().parentWidget()  # the column's scroll area
    assert isinstance(side, QtWidgets.QScrollArea)
    for c in (view.mode_box, view.span_spin, view.res_spin, view.n_spin, view.compute_button):
        assert global_rect(side.viewport()).contains(global_rect(c)), c
    for c in controls(view):  # none cut short
        assert c.width() >= c.minimumSizeHint().width() - 1, (c, c.width(), c.minimumSizeHint())


def test_the_readout_is_never_under_the_alpha_axis(qtbot, shown, dataset):
    view = shown(LandscapeView(), 950, 260)
    view.set_dataset(dataset)
    view.set_snapshot(Snapshot.of(Network((784, 16, 16, 10), seed=0)))
    view.set_mode("gradient")  # the longest axis labels
    view.set_resolution(11)
    view.set_examples(200)
    with qtbot.waitSignal(view.landscapeReady, timeout=20000):
        view.compute()
    qtbot.wait(30)
    label = view.plot.getPlotItem().getAxis("bottom").label
    assert "α" in label.toPlainText()
    m = label.document().documentMargin()  # (the text's box, without the empty margin around it)
    scene_rect = label.mapRectToScene(label.boundingRect().adjusted(m, m, -m, -m))
    on_view = view.plot.mapFromScene(scene_rect).boundingRect()
    alpha = QtCore.QRect(view.plot.mapToGlobal(on_view.topLeft()), on_view.size())
    assert global_rect(view.plot).contains(alpha)
    assert view.caption.isVisible() and "current weights" in view.caption.text()
    assert not alpha.intersects(global_rect(view.caption))
    for c in controls(view):
        assert c.width() >= c.minimumSizeHint().width() - 1, c


def test_a_short_view_has_a_tab_for_each_part_and_a_tall_one_shows_both(qtbot, shown):
    view = shown(LandscapeView(), 950, 260)
    tabs = view.findChild(QtWidgets.QTabWidget, "landscapeTabs")
    assert tabs.isVisible() and tabs.count() == 2
    assert view.plot.isVisible() and not view.compare_button.isVisible()
    tabs.setCurrentIndex(1)
    assert view.compare_button.isVisible() and view.plot_examples.isVisible() and view.plot_time.isVisible()
    view.resize(1000, 800)
    qtbot.wait(30)
    assert not tabs.isVisible()
    assert view.plot.isVisible() and view.compare_button.isVisible() and view.plot_time.isVisible()
    assert global_rect(view.plot).bottom() < global_rect(view.plot_examples).top()
