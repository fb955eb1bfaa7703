"""The playground in the studio window at 1024×700, 1280×720, 1600×1000 and 1920×1080, and at the dock
sizes those give it: the whole map and the run controls on screen without scrolling, headings of 9 pt,
and paths that stay in view however far they wander (or an arrow says where they went)."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets
from nnstudio.gui.views.descent.playground import MAP_PAD, PlaygroundView

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SIZES = [(1024, 700), (1280, 720), (1600, 1000), (1920, 1080)]
DOCKS = [(700, 250), (950, 260), (1250, 330)]  # (the playground's share of those windows)


@pytest.fixture
def docked(shown):
    """A playground of a dock's size."""
    return lambda width, height: shown(PlaygroundView(), width, height)


def inside(widget, viewport) -> bool:
    r = QtCore.QRect(widget.mapTo(viewport, QtCore.QPoint(0, 0)), widget.size())
    return viewport.rect().contains(r)


def view_range(view):
    (x0, x1), (y0, y1) = view.plot.getPlotItem().getViewBox().viewRange()
    return x0, x1, y0, y1


def run_steps(view, n):
    for _ in range(n):
        if view._all_finished():
            break
        view._advance(1.0)
    view._refresh()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_whole_map_and_the_run_controls_show_without_scrolling(in_window, size):
    view, area = in_window("playground", size)
    assert area.verticalScrollBar().maximum() == 0 and area.horizontalScrollBar().maximum() == 0
    assert inside(view.plot, area.viewport())
    panel = view.side_scroll
    assert inside(panel, area.viewport()) and panel.verticalScrollBar().value() == 0
    for b in (view.run_button, view.step_button, view.reset_button, view.speed_slider):
        assert inside(b, panel.viewport()), b
    # the function's whole domain is on the map
    x0, x1, y0, y1 = view_range(view)
    d = view.preset.domain
    assert x0 <= d[0] + 1e-6 and x1 >= d[1] - 1e-6 and y0 <= d[2] + 1e-6 and y1 >= d[3] - 1e-6
    # the step plot is on screen too (beside the map, under it, or in the panel) and its title fits it
    sp = view.step_plot
    assert inside(sp, area.viewport()) or inside(sp, panel.widget())
    title = sp.getPlotItem().titleLabel.text
    assert QtGui.QFontMetrics(view.font()).horizontalAdvance(title) <= sp.width()


def test_section_headings_are_9_pt(docked):
    view = docked(950, 260)
    headings = [lab for lab in view.findChildren(QtWidgets.QLabel) if lab.text().isupper() and len(lab.text()) > 2]
    assert len(headings) >= 4
    assert all(lab.font().pointSizeF() >= 9 for lab in headings)


@pytest.mark.parametrize("width,height", DOCKS)
def test_a_wandering_path_stays_on_the_map(docked, width, height):
    view = docked(width, height)
    view.set_preset("bowl")
    view.set_learning_rate(0.3)
    view.set_stochastic(True, batch_size=1)  # the drunk path wanders far out of the domain
    for _ in range(30):
        run_steps(view, 3)
        x0, x1, y0, y1 = view_range(view)
        px0, px1, py0, py1 = view.preset.padded_domain(MAP_PAD)
        for run in (view.careful, view.drunk):
            P = run.path_array()
            P = P[(P[:, 0] >= px0) & (P[:, 0] <= px1) & (P[:, 1] >= py0) & (P[:, 1] <= py1)]
            assert np.all((P[:, 0] >= x0) & (P[:, 0] <= x1) & (P[:, 1] >= y0) & (P[:, 1] <= y1))
    assert view_range(view)[1] > view.preset.domain[1]  # it did wander out of the domain
    # a new start brings the function's own map back
    view.reset()
    x0, x1, y0, y1 = view_range(view)
    assert x1 - x0 < 2.5 * (view.preset.domain[1] - view.preset.domain[0])


def test_a_path_that_runs_off_the_map_is_marked_by_an_arrow_towards_it(docked):
    view = docked(700, 250)
    view.set_preset("bowl")
    view.set_learning_rate(1.05)  # past 2 ÷ curvature: it runs off
    view.set_start(1.5, 1.0)
    run_steps(view, 400)
    assert view.careful.status == "diverged"
    ball = view.careful.point
    x0, x1, y0, y1 = view_range(view)
    assert not (x0 <= ball[0] <= x1 and y0 <= ball[1] <= y1)
    arrow = view.offmap_arrow
    assert arrow.isVisible() and view.offmap_label.isVisible()
    tip = np.array([arrow.pos().x(), arrow.pos().y()])
    assert x0 <= tip[0] <= x1 and y0 <= tip[1] <= y1
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    a, b = tip - centre, ball - centre
    assert a @ b / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.99  # on the way to the ball
    assert "off the map" in view.offmap_label.textItem.toPlainText()
    view.set_learning_rate(0.1)  # a good one: the path stays on the map, the arrow goes
    run_steps(view, 400)
    assert not arrow.isVisible()
