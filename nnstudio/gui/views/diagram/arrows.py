"""The desired nudges drawn on the diagram: an arrow on each neuron, up (blue) when the input shown
wants its activation higher, down (red) when lower, as long as −∂C/∂a against the largest of its
layer (the 3Blue1Brown videos draw them so), none where it is exactly 0; and the legend's sample
of them."""

from __future__ import annotations

import numpy as np

from nnstudio.gui.qt import QtCore, QtGui, Qt
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import qcolor


def _pen(color, width: float) -> QtGui.QPen:
    pen = QtGui.QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def arrow(p: QtGui.QPainter, x: float, y0: float, y1: float, width: float, color, outline: bool = True) -> None:
    """A vertical arrow from ``y0`` to its tip at ``y1``, with a dark outline (readable on any neuron)."""
    length = y1 - y0
    head = np.sign(length) * min(abs(length), max(3.0, width * 1.6))
    shaft_end = QtCore.QPointF(x, y1 - head * 0.6)
    if outline:
        p.setPen(_pen(QtGui.QColor(0, 0, 0), width + 2.0))
        p.drawLine(QtCore.QPointF(x, y0), shaft_end)
    p.setPen(_pen(qcolor(color), width))
    p.drawLine(QtCore.QPointF(x, y0), shaft_end)
    p.setPen(QtGui.QPen(QtGui.QColor(0, 0, 0), 1.0) if outline else Qt.PenStyle.NoPen)
    p.setBrush(qcolor(color))
    half = max(abs(head) * 0.75, width)
    p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(x, y1), QtCore.QPointF(x - half, y1 - head),
                                   QtCore.QPointF(x + half, y1 - head)]))


def draw_nudges(p: QtGui.QPainter, x: float, ys, values, scale: float, r: float) -> None:
    """Arrows on the neurons of one column (centres ``(x, ys)``, radius ``r``) for the nudges ``values``."""
    values = np.asarray(values, dtype=np.float64)
    s = np.clip(np.nan_to_num(np.abs(values) / (scale or 1.0)), 0.0, 1.0)
    width = max(2.0, r * 0.28)
    ys = np.asarray(ys, dtype=np.float64)
    gap = float(np.diff(ys).min()) if len(ys) > 1 else 4.0 * r
    longest = max(0.6 * r, gap - r - 1.0)  # (an arrow stops short of its neighbour's circle)
    for v, k, y in zip(values.tolist(), s.tolist(), ys.tolist()):
        if not v:
            continue  # (no nudge at all, e.g. a saturated neuron: no arrow)
        length = min(r * (0.4 + 1.8 * k), longest)  # (the strongest reaches past its neuron, as in the videos)
        arrow(p, x, y, y - length if v > 0 else y + length, width, theme.POSITIVE if v > 0 else theme.NEGATIVE)


def draw_sample(p: QtGui.QPainter, x0: float, x1: float, cy: float, px: float) -> None:
    """The legend's sample: an up (blue) and a down (red) arrow between ``x0`` and ``x1``."""
    h = px * 0.45
    arrow(p, x0 + px * 0.35, cy + h, cy - h, 2.0, theme.POSITIVE, outline=False)
    arrow(p, x1 - px * 0.35, cy - h, cy + h, 2.0, theme.NEGATIVE, outline=False)
