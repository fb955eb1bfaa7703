"""The "What did it learn?" view at the sizes its dock has on real screens: every page fits the dock's
width (it scrolls down, never sideways), counts fit their cells, the noise cards wrap, every average
digit is on screen, and no text is under 9 pt."""

import numpy as np
import pytest

import geometry
from nnstudio.core import Network
from nnstudio.data import load_dataset
from nnstudio.gui.qt import QtGui, QtWidgets
from nnstudio.gui.views.evaluation.view import EvaluationView
from nnstudio.gui.views.evaluation.widgets import ClassBars, ConfusionMatrixWidget
from nnstudio.gui.window import docks
from nnstudio.session.model import Snapshot

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

#: the Evaluation dock (width × height) in a window of 1024×700, 1280×720 and 1600×1000
DOCKS = {"1024x700": (700, 280), "1280x720": (950, 280), "1600x1000": (1250, 340)}


@pytest.fixture
def docked(qtbot):
    """``make(width, height)``: an evaluated view in a scroll area of that size, as the window docks it."""
    data = load_dataset("mnist-sample")

    def make(width, height):
        v = EvaluationView(maximise_steps=5, min_interval=0)
        area = docks._host(v, "evaluationScroll")  # (the scroll area the window's dock holds it in)
        qtbot.addWidget(area)
        area.resize(width, height)
        area.show()
        qtbot.waitExposed(area)
        v.set_dataset(data)
        with qtbot.waitSignal(v.evaluated, timeout=10_000):
            v.set_snapshot(Snapshot(Network(seed=1), epoch=1, step=400))
        qtbot.waitUntil(lambda: not v.busy, timeout=10_000)  # (the average digits too)
        return area, v

    return make


def page_scroll(v, page) -> QtWidgets.QScrollArea:
    return page.parentWidget().parentWidget()


@pytest.mark.parametrize("screen", DOCKS)
@pytest.mark.parametrize("name", ("summary", "mistakes", "neurons", "noise", "browser"))
def test_every_page_fits_the_dock_of_every_screen(docked, qtbot, screen, name):
    area, v = docked(*DOCKS[screen])
    page = getattr(v, name)
    v.show_page(page)
    qtbot.wait(20)
    assert page.width() <= page_scroll(v, page).viewport().width()  # no sideways scrolling
    assert v.width() <= area.viewport().width()
    assert geometry.problems(area) == []


def test_counts_fit_their_cells_even_in_thousands(qtbot):
    m = ConfusionMatrixWidget()
    qtbot.addWidget(m)
    counts = np.full((10, 10), 7)
    np.fill_diagonal(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    m.set_matrix(counts)
    m.resize(m.minimumSizeHint())
    m.show()
    qtbot.waitExposed(m)
    fm = QtGui.QFontMetrics(m.font())
    for t in range(10):
        for p in range(10):
            assert m.cell_rect(t, p).width() >= fm.horizontalAdvance(m.cell_text(t, p)) + 4
            assert m.cell_rect(t, p).height() >= fm.height()
    assert m.cell_text(1, 1) == "1,135"


def test_the_summary_stacks_the_bars_under_the_matrix_when_narrow(docked, qtbot):
    area, v = docked(700, 280)
    s = v.summary
    counts = np.full((10, 10), 7)
    np.fill_diagonal(counts, 1135)  # (a full test set: counts in thousands make the matrix wider)
    s.confusion.set_matrix(counts)
    qtbot.wait(20)
    conf, bars = s.confusion.geometry(), s.bars.geometry()
    assert bars.top() >= conf.bottom() or bars.left() >= conf.right()
    assert s.width() <= page_scroll(v, s).viewport().width()
    area.resize(1250, 340)
    qtbot.wait(20)
    assert s.bars.geometry().left() > s.confusion.geometry().right()  # side by side when there is room


def test_class_bars_give_each_class_a_line(qtbot):
    bars = ClassBars()
    qtbot.addWidget(bars)
    bars.set_values([0.9] * 10, [str(i) for i in range(10)], 0.9)
    bars.resize(bars.minimumSizeHint())
    assert bars._row(0).height() >= QtGui.QFontMetrics(bars.font()).height()


def test_the_noise_cards_wrap_and_every_average_digit_is_on_screen(docked, qtbot):
    area, v = docked(700, 280)
    v.show_page(v.noise)
    qtbot.wait(20)
    cards = list(v.noise.cards.values())
    assert all(c.geometry().right() <= v.noise.width() for c in cards)
    assert len({c.geometry().top() for c in cards}) > 1  # (more than one row)
    assert all(c.width() >= c.minimumSizeHint().width() for c in cards)
    v.show_page(v.browser)
    qtbot.wait(20)
    g = v.browser.averages
    assert len(g.items()) == 10 and g.verticalScrollBar().maximum() == 0
    assert all(g.viewport().rect().contains(g.item_rect(i)) for i in range(10))
    area.resize(1250, 340)
    v.show_page(v.noise)
    qtbot.wait(20)
    assert len({c.geometry().top() for c in cards}) == 1  # all five in a row when there is room
