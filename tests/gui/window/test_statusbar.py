"""The status bar's messages stay readable in a small window."""

from __future__ import annotations

import pytest

from nnstudio.gui.qt import QtWidgets

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def test_a_long_message_ends_at_a_word_and_keeps_its_whole_text_as_tooltip(qtbot, make_window):
    w = make_window(size=(1024, 700))
    bar = w.statusBar()
    qtbot.wait(50)
    room = bar.message_room()
    assert 100 < room < 1024
    long = ("New network 784-16-16-10 (sigmoid, quadratic cost, seed 1234): press Space to train it, "
            "or open a saved one from the File menu")
    bar.showMessage(long, 5000)
    shown = bar.currentMessage()
    assert shown != long and shown.endswith(" …")
    assert long.startswith(shown[:-2]) and long[len(shown) - 2] == " "  # cut between two words
    assert bar.fontMetrics().horizontalAdvance(shown) <= room
    fields = [c for c in bar.findChildren(QtWidgets.QWidget) if c.parent() is bar and c.isVisible()]
    first_field = min(c.geometry().left() for c in fields)
    assert bar.fontMetrics().horizontalAdvance(shown) < first_field - 6  # (what is painted is not covered)
    assert bar.toolTip() == long and bar.message() == long
    w.status.network_label.setText("")  # (a field's text changes: the message is fitted again)
    w.status._set(w.status.network_label, "a much longer name of the network on screen.npz •")
    assert bar.fontMetrics().horizontalAdvance(bar.currentMessage()) <= bar.message_room()
    assert len(bar.currentMessage()) < len(shown)
    w.resize(1280, 700)  # a wider window: more of the message
    qtbot.waitUntil(lambda: len(bar.currentMessage()) > len(shown) or bar.currentMessage() == long)
    assert bar.toolTip() in ("", long)
    bar.clearMessage()
    assert bar.toolTip() == ""
    bar.showMessage("Plots saved", 5000)  # a short one is shown as it is, with no tooltip
    assert bar.currentMessage() == "Plots saved" and bar.toolTip() == ""
