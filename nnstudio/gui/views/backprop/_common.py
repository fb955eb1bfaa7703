"""What every tab of the Backprop explorer shares: its colours and constants, the base classes of its
tabs and painted canvases, and a few small helpers (signed numbers in rich text, hit-testing, input
pixels as floats, word-wrapped labels).

Every painted canvas draws its text through :meth:`_Canvas._text`, which remembers where each piece
went (``drawn_text``): the canvases size themselves so that no two pieces overlap and none leaves the
canvas, and the tests check exactly that.  A tab whose two parts stand side by side when it is wide
stacks them when it is narrow (:meth:`_Panel._arrange`)."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import fmt
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import point_font

BLUE = "#%02x%02x%02x" % theme.POSITIVE
RED = "#%02x%02x%02x" % theme.NEGATIVE
MAX_DRAWN = 32  # neurons drawn per column at most (the rest are summarised)
DEFAULT_ETA = 1.5
#: snapshots arriving faster than this (training at full speed) are coalesced: the explorer's diagram
#: costs 25–45 ms to paint at 1600×1000 (benchmarks/bench_backprop_view.py), so it follows training at
#: ≤ 10 Hz and leaves the GUI thread to the other views; paused or stepping, every snapshot is shown
MIN_REFRESH_MS = 100
CONVENTION = (
    "Cost of one example C = {sum}  ·  a neuron's desired nudge = −∂C/∂a  ·  "
    f"<span style='color:{BLUE}'>blue = positive / up</span>, <span style='color:{RED}'>red = negative / down</span>"
)
COST_CHOICES = (("quadratic", "Σ(a − y)², the videos'"), ("cross-entropy", "cross-entropy"))

TABS = ("one neuron", "all neurons", "all examples", "parameters", "chain rule")
#: each tab's full name, and the short one it shows when the full names do not fit in a row
TAB_NAMES = (("One example · one neuron", "One neuron"), ("One example · all neurons", "All neurons"),
             ("All examples", "All examples"), ("Parameters vs −gradient", "Parameters"), ("Chain rule", "Chain rule"))


# ---------------------------------------------------------------------------- helpers
def _num(v: float, sig: int = 4, plus: bool = False) -> str:
    """A signed number in rich text, coloured blue (+) or red (−)."""
    col = BLUE if v > 0 else RED if v < 0 else theme.TEXT
    return f"<span style='color:{col}'>{fmt(v, sig, plus)}</span>"


def _visible(n: int) -> list[int]:
    """The neurons of a layer of ``n`` that a diagram column draws (at most MAX_DRAWN)."""
    return list(range(min(n, MAX_DRAWN)))


def _seg_dist(p: QtCore.QPointF, a: QtCore.QPointF, b: QtCore.QPointF) -> float:
    """The distance from point ``p`` to the segment from ``a`` to ``b`` (hit-testing edges)."""
    ax, ay, bx, by, px, py = a.x(), a.y(), b.x(), b.y(), p.x(), p.y()
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def as_pixels(x) -> np.ndarray:
    """An input vector as float pixels 0..1 (uint8 images are scaled down from 0..255)."""
    x = np.asarray(x)
    return x / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


# ---------------------------------------------------------------------------- labels, tabs and canvases
def _wrapped(text: str = "") -> QtWidgets.QLabel:
    """A word-wrapping label (the tabs' captions and explanations)."""
    label = QtWidgets.QLabel(text)
    label.setWordWrap(True)
    return label


def text_metrics(pt: float = 9, bold: bool = False) -> QtGui.QFontMetricsF:
    """The metrics of the canvases' font of ``pt`` points (never below 9 pt)."""
    return QtGui.QFontMetricsF(point_font(pt, bold))


class _Panel(QtWidgets.QWidget):
    """One tab of the explorer: shows the state of ``view`` (the BackpropView) when :meth:`refresh` is called.

    A panel with a ``flow`` (a QBoxLayout of its two main parts) lays them side by side from ``wide_at``
    pixels of width on and stacks them below.  A hidden tab asks for no room (the explorer is as tall as
    the tab on screen needs, not as the tallest tab)."""

    wide_at = 0

    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.flow: QtWidgets.QBoxLayout | None = None

    def refresh(self) -> None:
        raise NotImplementedError

    @property
    def wide(self) -> bool:
        return self.flow is None or self.flow.direction() == QtWidgets.QBoxLayout.Direction.LeftToRight

    def _arrange(self) -> None:
        if self.flow is None:
            return
        D = QtWidgets.QBoxLayout.Direction
        d = D.LeftToRight if self.width() >= self.wide_at else D.TopToBottom
        if self.flow.direction() != d:
            self.flow.setDirection(d)
            self._arranged()

    def _arranged(self) -> None:
        """The parts were just put side by side or stacked (for a subclass to follow)."""

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        self._arrange()

    def minimumSizeHint(self):
        return QtCore.QSize(0, 0) if self.isHidden() else super().minimumSizeHint()

    def heightForWidth(self, w: int) -> int:
        return 0 if self.isHidden() else super().heightForWidth(w)


class _Canvas(QtWidgets.QWidget):
    """A painted panel on the dark background, with hover tooltips from :meth:`tooltip_at`.

    A subclass may find the item (a row, a tile, a parameter…) under the mouse with :meth:`item_at`
    and word its tooltip with :meth:`describe`; if it also names a signal in ``click_signal``, a left
    click on an item emits that signal with it, and ``on_click`` is connected to that signal.
    """

    click_signal: str | None = None

    def __init__(self, view, parent=None, on_click=None):
        super().__init__(parent)
        self.view = view  # the BackpropView whose state it shows
        self.drawn_text: list[tuple[QtCore.QRectF, str, float]] = []  # (where, what, points) of the last paint
        self.setMouseTracking(True)
        self.setAutoFillBackground(False)
        if on_click is not None:
            getattr(self, self.click_signal).connect(on_click)

    def item_at(self, pos: QtCore.QPointF):
        return None

    def describe(self, item) -> str:
        return ""

    def tooltip_at(self, pos: QtCore.QPointF) -> str:
        item = self.item_at(pos)
        return "" if item is None else self.describe(item)

    def mousePressEvent(self, ev):
        item = self.item_at(ev.position())
        if item is not None and ev.button() == Qt.MouseButton.LeftButton and self.click_signal:
            getattr(self, self.click_signal).emit(item)
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev):
        text = self.tooltip_at(ev.position())
        if text:
            QtWidgets.QToolTip.showText(ev.globalPosition().toPoint(), text, self)
        else:
            QtWidgets.QToolTip.hideText()
        super().mouseMoveEvent(ev)

    def leaveEvent(self, ev):
        QtWidgets.QToolTip.hideText()
        super().leaveEvent(ev)

    def _begin(self) -> QtGui.QPainter:
        self.drawn_text = []
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QtGui.QColor(theme.BACKGROUND))
        return p

    def _text(self, p: QtGui.QPainter, rect, flags, text: str) -> QtCore.QRectF:
        """Draw ``text`` in ``rect`` and remember where it went: (its bounding rectangle, the text, the
        font's size in points) in ``drawn_text``."""
        rect = QtCore.QRectF(rect)
        box = p.boundingRect(rect, flags, text)
        p.drawText(rect, flags, text)
        self.drawn_text.append((box, text, p.font().pointSizeF()))
        return box
