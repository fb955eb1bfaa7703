"""The draw panel in the docks a small window gives it (1024×700: about 700×230; 1280×720: 950×290),
hosted as the window hosts it (a scroll area that scrolls when the panel cannot shrink): every tool and
all ten output bars on screen without scrolling, nothing on top of anything else, and the pen's width
in words."""

from __future__ import annotations

import pytest

from nnstudio.core import Network
from nnstudio.gui.qt import QtCore, QtWidgets, Qt
from nnstudio.gui.views.pad import DrawPanel

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

DOCKS = [(700, 230), (700, 280), (950, 250), (950, 290), (1250, 330), (1250, 420), (600, 520),
         (600, 330)]  # (the last: beside the lessons at 1024×700)


def hosted(qtbot, width, height):
    area = QtWidgets.QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    panel = DrawPanel()
    area.setWidget(panel)
    qtbot.addWidget(area)
    area.resize(width, height)
    area.show()
    qtbot.waitExposed(area)
    qtbot.wait(30)  # (the scroll bars settle after the first layout)
    return area, panel


def rect_in(widget, ancestor) -> QtCore.QRect:
    return QtCore.QRect(widget.mapTo(ancestor, QtCore.QPoint(0, 0)), widget.size())


@pytest.mark.parametrize("width,height", DOCKS)
def test_every_tool_and_all_ten_bars_show_without_scrolling(qtbot, width, height):
    area, panel = hosted(qtbot, width, height)
    assert area.verticalScrollBar().maximum() == 0 and area.horizontalScrollBar().maximum() == 0
    view = area.viewport().rect()
    parts = [panel.brush_button, panel.eraser_button, panel.undo_button, panel.clear_button, panel.example_button,
             panel.width_label, panel.width_slider, panel.pad, panel.preview, panel.guess, panel.bars,
             panel.model_label]
    rects = []
    for w in parts:
        assert w.isVisible(), w
        r = rect_in(w, area.viewport())
        assert view.contains(r), (w, r, view)
        assert w.width() >= w.minimumSizeHint().width() - 1 and w.height() >= w.minimumSizeHint().height() - 1, w
        rects.append((w, r))
    for i, (a, ra) in enumerate(rects):
        for b, rb in rects[i + 1:]:
            assert not ra.intersects(rb), (a, b)
    assert panel.bars.height() >= 10 * 13  # ten rows of at least 13 px: each digit readable


def test_a_short_dock_puts_the_tools_in_two_columns_and_a_tall_one_in_a_strip(qtbot):
    area, panel = hosted(qtbot, 700, 230)
    assert panel.brush_button.y() == panel.eraser_button.y()  # side by side
    assert panel.width_slider.orientation() == Qt.Orientation.Horizontal
    area.resize(900, 600)
    qtbot.wait(30)
    assert panel.eraser_button.y() > panel.brush_button.y()  # one under the other
    assert panel.width_slider.orientation() == Qt.Orientation.Vertical


def test_the_width_slider_says_the_pen_width(qtbot):
    area, panel = hosted(qtbot, 700, 280)
    assert panel.width_label.text() == f"Width {panel.pad.brush_width} px"
    panel.width_slider.setValue(30)
    assert panel.width_label.text() == "Width 30 px" and panel.pad.brush_width == 30
    panel.pad.setFocus()
    qtbot.keyClick(panel.pad, Qt.Key.Key_Minus)
    assert panel.width_label.text() == f"Width {panel.pad.brush_width} px" and panel.pad.brush_width < 30


def test_long_notes_are_shortened_where_narrow_and_kept_whole_in_text(qtbot):
    area, panel = hosted(qtbot, 700, 230)
    panel.set_network(Network((784, 16, 16, 10), seed=0),
                      "a-very-long-network-file-name-that-does-not-fit-in-two-lines-of-the-bars-column.npz")
    note = panel.model_label
    assert note.text().endswith(".npz")
    shown = note.lines()
    assert len(shown) <= 2 and shown[-1].endswith("…")
    assert all(note.fontMetrics().horizontalAdvance(line) <= note.width() for line in shown)
