"""Drive the studio window like a person, and wait for its worker (shared by the window tests)."""

from __future__ import annotations

from nnstudio.gui.qt import Qt, QtWidgets


def button(w, name):
    return w.findChild(QtWidgets.QToolButton, name)


def click(qtbot, w, name):
    b = button(w, name)
    assert b is not None and b.isEnabled(), name
    qtbot.mouseClick(b, Qt.MouseButton.LeftButton)


def settle(qtbot, w):
    """Wait until the worker handled everything sent so far and its signals all arrived."""
    with qtbot.waitSignal(w.workerSynced, timeout=15000):
        w.sync_worker()


def until_paused(qtbot, w, action, timeout=15000):
    settle(qtbot, w)  # (so an old "paused" still on its way cannot end the wait)
    with qtbot.waitSignal(w.trainingPaused, timeout=timeout):
        action()


def key(qtbot, w, k, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(w, k, mod)


def type_into(qtbot, widget, text):
    """Select all, type ``text`` and press Enter, like a person."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def no_epoch_limit(qtbot, w, epochs=0):
    """Type the epoch budget (0: no limit; None: leave the saved one).  At ~35,000
    mini-batches a second the default 30 epochs of the sample end in under half a second:
    a test that plays, waits and pauses would find the run finished instead."""
    if epochs is None:
        return
    type_into(qtbot, w.findChild(QtWidgets.QSpinBox, "epochsInput"), str(epochs))
    settle(qtbot, w)
