"""Small painting helpers every view shares: colours, fonts and NumPy images as QImages."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.gui.qt import QtCore, QtGui, Qt
from nnstudio.gui.style import theme

#: the smallest font the views draw with, in points (text below this is hard to read)
MIN_POINT_SIZE = 9.0


def qcolor(c, alpha: int | None = None) -> QtGui.QColor:
    """A QColor from a name ("#58c4dd") or an (r, g, b) sequence, optionally with an alpha."""
    col = QtGui.QColor(c) if isinstance(c, str) else QtGui.QColor(*[int(v) for v in c])
    if alpha is not None:
        col.setAlpha(int(alpha))
    return col


def blend(color, alpha: float, background=theme.BACKGROUND) -> QtGui.QColor:
    """``color`` at opacity ``alpha`` over ``background``, as an opaque colour (cheap to paint)."""
    c = np.array(qcolor(color).getRgb()[:3], dtype=np.float64)
    bg = np.array(qcolor(background).getRgb()[:3], dtype=np.float64)
    return qcolor(bg * (1 - alpha) + c * alpha)


def mix(a: QtGui.QColor, b: QtGui.QColor, t: float) -> QtGui.QColor:
    """The colour a fraction ``t`` of the way from ``a`` to ``b``."""
    t = float(min(1.0, max(0.0, t)))
    return QtGui.QColor(round(a.red() + (b.red() - a.red()) * t), round(a.green() + (b.green() - a.green()) * t),
                        round(a.blue() + (b.blue() - a.blue()) * t))


def gray(a: float) -> QtGui.QColor:
    """An activation 0..1 as a grey (0 black, 1 white), the way the videos light neurons."""
    g = int(np.clip(a, 0.0, 1.0) * 255)
    return QtGui.QColor(g, g, g)


def signed_color(v: float, scale: float, min_alpha: int = 30) -> QtGui.QColor:
    """Blue for positive, red for negative, more opaque for larger |v| / scale."""
    rgb = theme.POSITIVE if v >= 0 else theme.NEGATIVE
    s = 0.0 if not scale else min(1.0, abs(v) / scale)
    return QtGui.QColor(*rgb, int(min_alpha + (255 - min_alpha) * s))


def pixel_font(px: float, bold: bool = False) -> QtGui.QFont:
    """A font of ``px`` pixels (painted canvases that scale their text with their size)."""
    f = QtGui.QFont()
    f.setPixelSize(max(6, int(round(px))))
    f.setBold(bold)
    return f


def point_font(pt: float, bold: bool = False, base: QtGui.QFont | None = None) -> QtGui.QFont:
    """A font of ``pt`` points (never below MIN_POINT_SIZE), based on ``base`` if given."""
    f = QtGui.QFont(base) if base is not None else QtGui.QFont()
    f.setPointSizeF(max(MIN_POINT_SIZE, float(pt)))
    f.setBold(bold)
    return f


def scaled_font(widget, scale: float = 1.0, bold: bool = False) -> QtGui.QFont:
    """``widget``'s font scaled by ``scale`` (never below MIN_POINT_SIZE points)."""
    f = QtGui.QFont(widget.font())
    if scale != 1.0 and f.pointSizeF() > 0:
        f.setPointSizeF(max(MIN_POINT_SIZE, f.pointSizeF() * scale))
    f.setBold(bold)
    return f


def to_qimage(a: np.ndarray) -> QtGui.QImage:
    """A grey image ((H, W) uint8, or float 0..1; a flat square vector is reshaped) or an (H, W, 3)
    uint8 RGB image as a QImage (copied, so the array may change afterwards)."""
    a = np.asarray(a)
    if a.ndim == 1:
        side = int(round(math.sqrt(a.size)))
        a = a[: side * side].reshape(side, side)
    if a.ndim == 2:
        g = np.ascontiguousarray(a if a.dtype == np.uint8 else theme.activation_gray(a))
        h, w = g.shape
        return QtGui.QImage(g.data, w, h, w, QtGui.QImage.Format.Format_Grayscale8).copy()
    rgb = np.ascontiguousarray(a[..., :3].astype(np.uint8, copy=False))
    h, w, _ = rgb.shape
    return QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()


def signed_qimage(values: np.ndarray, scale: float | None = None) -> QtGui.QImage:
    """A 2-D array as an RGB image on black: blue +, red −, brightness ∝ |v| / scale."""
    return to_qimage(theme.weight_image(values, scale))


def draw_pixels(p: QtGui.QPainter, rect, img: QtGui.QImage) -> None:
    """Draw a small image scaled up with hard pixel edges (as the network sees it)."""
    p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
    p.drawImage(rect, img)


def arrow(p: QtGui.QPainter, x: float, y: float, length: float, color: QtGui.QColor, width: float = 2.0) -> None:
    """A vertical arrow from (x, y): up for a positive length, down for a negative one."""
    if abs(length) < 1.0:
        return
    p.setPen(QtGui.QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    tip = y - length
    p.drawLine(QtCore.QPointF(x, y), QtCore.QPointF(x, tip))
    h = min(5.0, abs(length) * 0.6)
    s = 1 if length > 0 else -1
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(x, tip - s * 1), QtCore.QPointF(x - h * 0.8, tip + s * h),
                                   QtCore.QPointF(x + h * 0.8, tip + s * h)]))
