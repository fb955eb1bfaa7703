"""Labels whose text changes every frame without making the window lay itself out again.

A ``QLabel`` asks its parent's layout to recompute on every ``setText`` (``updateGeometry``),
unless its size is fixed; the request climbs through the dock to the main window, so a
readout updated 30 times a second re-lays out the whole window (and repaints the panels under
it) 30 times a second.  Two ways out, measured in benchmarks/bench_gui.py:

* :class:`SteadyLine`: a one-line label in a holder without a layout: the label's requests stop
  at the holder, which keeps its own height (one line) and takes the width its layout gives it;
* :class:`GrowingField`: a label of fixed size that only grows (to fit a longer text) and never
  shrinks, so the layout is asked again only when a number gets a digit longer.
"""

from __future__ import annotations

from nnstudio.gui.qt import QtCore, QtWidgets

_MAX = (1 << 24) - 1  # QWIDGETSIZE_MAX


class SteadyLine(QtWidgets.QWidget):
    """One line of (rich) text, as wide as the layout makes it; ``label`` is the ``QLabel``."""

    def __init__(self, parent=None, object_name: str = ""):
        super().__init__(parent)
        self.label = QtWidgets.QLabel(self)
        if object_name:
            self.label.setObjectName(object_name)
            self.setObjectName(object_name + "Line")
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)

    # -- the QLabel calls the rest of the code and the tests use
    def setText(self, text: str) -> None:
        self.label.setText(text)

    def text(self) -> str:
        return self.label.text()

    def setTextFormat(self, fmt) -> None:
        self.label.setTextFormat(fmt)

    def setToolTip(self, tip: str) -> None:
        self.label.setToolTip(tip)
        super().setToolTip(tip)

    def sizeHint(self) -> QtCore.QSize:
        fm = self.label.fontMetrics()
        m = self.label.contentsMargins()
        return QtCore.QSize(60, fm.height() + m.top() + m.bottom() + 2)

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.sizeHint()

    def resizeEvent(self, e) -> None:
        self.label.setGeometry(self.rect())

    def changeEvent(self, e) -> None:
        if e.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            self.updateGeometry()  # the line's height follows the font
        super().changeEvent(e)


class GrowingField(QtWidgets.QLabel):
    """A status-bar field: fixed size that grows to fit a longer text and never shrinks (until
    :meth:`refit`), so updating it does not re-lay out the window."""

    def setText(self, text: str) -> None:
        super().setText(text)
        if self.sizeHint().width() > self.maximumWidth():
            self.refit()

    def refit(self) -> None:
        """Fit the current text (and a new font or style) again."""
        self.setMinimumSize(0, 0)
        self.setMaximumSize(_MAX, _MAX)
        self.setFixedSize(self.sizeHint())

    def event(self, e) -> bool:
        done = super().event(e)
        if e.type() in (QtCore.QEvent.Type.Polish, QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.StyleChange):
            QtCore.QTimer.singleShot(0, self._refit_later)  # (a style sheet's padding counts once polished)
        return done

    def _refit_later(self) -> None:
        try:
            self.refit()
        except RuntimeError:  # deleted meanwhile
            pass
