"""Fixtures of the gradient-descent views' tests: a view shown at a given size, alone or in the studio
window."""

from __future__ import annotations

import pytest

from nnstudio.gui.qt import QtWidgets


@pytest.fixture
def shown(qtbot):
    """``shown(widget, width, height)``: the widget on screen at that size, its layout settled."""

    def show(widget, width, height):
        qtbot.addWidget(widget)
        widget.resize(width, height)
        widget.show()
        qtbot.waitExposed(widget)
        qtbot.wait(30)  # (an arrangement chosen for the size settles after the first layout)
        return widget

    return show


@pytest.fixture
def in_window(qtbot, make_window):
    """``in_window(name, size)``: (the view, its dock's scroll area) in a studio window of that size, in
    the default layout, with the view raised."""

    def make(name, size):
        w = make_window(load_views=True, size=size, start=False)
        w.reset_layout()
        w.show_view(name)
        qtbot.wait(50)
        view = w.views[name]
        area = view.parentWidget().parentWidget()
        assert isinstance(area, QtWidgets.QScrollArea) and area.widget() is view
        return view, area

    return make
