"""The drawing pad: a square grayscale canvas you draw a digit on, and its keys.

:class:`DrawingPad` is a 280x280 grayscale image (bright ink on black, like MNIST) shown scaled to the
widget, drawn with a smooth (quadratic-midpoint) round brush whose width follows tablet pressure when
there is a pen, with an eraser, undo, clear and "load example".  :func:`handle_pad_key` runs the pad's
keyboard commands (:data:`PAD_KEYS_HELP`).
"""

from __future__ import annotations

import numpy as np

from nnstudio.data.preprocess import resample_matrix
from nnstudio.gui.style import theme
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal

__all__ = ["CANVAS_SIZE", "DrawingPad", "PAD_KEYS_HELP", "handle_pad_key"]

CANVAS_SIZE = 280  #: side of the drawing canvas in canvas pixels (10x MNIST's 28)
DEFAULT_BRUSH = 22  #: default pen width in canvas pixels (MNIST strokes are ~11 % of the digit height)
MIN_BRUSH, MAX_BRUSH = 4, 60
UNDO_LIMIT = 40


class DrawingPad(QtWidgets.QWidget):
    """A square drawing canvas (CANVAS_SIZE² grayscale, white ink on black) scaled to the widget.

    Mouse: left button draws (or erases in eraser mode). Tablet pens: the stroke width follows pressure
    (the pen's eraser end erases). Keys (when the pad has focus): Delete / Backspace / C clear, Ctrl+Z
    undo, X eraser, B brush, - and + narrower / wider brush.

    ``changed`` is emitted for every stroke segment and after clear / undo / load; ``strokeFinished``
    when the pen is lifted.
    """

    changed = Signal()
    strokeFinished = Signal()
    brushWidthChanged = Signal(int)
    eraserChanged = Signal(bool)
    digitPressed = Signal(int)  # a digit key: "this drawing is that digit" (the panel teaches it)

    def __init__(self, parent=None, size: int = CANVAS_SIZE):
        super().__init__(parent)
        self._size = int(size)
        self._canvas = QtGui.QImage(self._size, self._size, QtGui.QImage.Format.Format_Grayscale8)
        self._canvas.fill(0)
        self._undo: list[QtGui.QImage] = []
        self._brush = DEFAULT_BRUSH
        self._eraser = False
        self._points: list[tuple[float, float, float]] = []  # (x, y, width) of the stroke being drawn
        self._drawing = False
        self._hover: QtCore.QPointF | None = None
        self._empty = True
        self._tablet_eraser = False  # erasing because the pen was turned round (its eraser end)
        self.setMinimumSize(140, 140)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking, True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the mouse or a pen.\n" + PAD_KEYS_HELP)

    # ------------------------------------------------------------------ state
    @property
    def canvas_size(self) -> int:
        return self._size

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(320, 320)

    def array(self) -> np.ndarray:
        """The canvas as a new (size, size) uint8 array (0 = background, 255 = full ink)."""
        img = self._canvas
        buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.sizeInBytes())
        return buf.reshape(img.height(), img.bytesPerLine())[:, : img.width()].copy()

    def set_array(self, a: np.ndarray, *, undoable: bool = True) -> None:
        """Replace the canvas with a (size, size) uint8 (or 0..1 float) array, bright ink on black."""
        a = np.asarray(a)
        if a.shape != (self._size, self._size):
            raise ValueError(f"pad image must be {self._size}x{self._size}, got {a.shape}")
        if a.dtype != np.uint8:
            a = np.clip(np.floor(np.asarray(a, np.float64) * (255.0 if a.max() <= 1.0 else 1.0) + 0.5), 0, 255)
            a = a.astype(np.uint8)
        if undoable:
            self._push_undo()
        img = QtGui.QImage(self._size, self._size, QtGui.QImage.Format.Format_Grayscale8)
        buf = np.frombuffer(img.bits(), dtype=np.uint8, count=img.sizeInBytes()).reshape(self._size, img.bytesPerLine())
        buf[:, : self._size] = a
        self._canvas = img
        self._after_change()

    def image(self) -> QtGui.QImage:
        """A copy of the canvas as a QImage (Format_Grayscale8)."""
        return self._canvas.copy()

    def save(self, path) -> bool:
        """Save the canvas as an image file (PNG by extension); returns False on failure."""
        return self._canvas.save(str(path))

    def is_empty(self) -> bool:
        return self._empty

    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def brush_width(self) -> int:
        return self._brush

    @brush_width.setter
    def brush_width(self, w: int) -> None:
        self._change("_brush", int(min(MAX_BRUSH, max(MIN_BRUSH, w))), self.brushWidthChanged)

    def set_brush_width(self, w: int) -> None:
        self.brush_width = w

    @property
    def eraser(self) -> bool:
        return self._eraser

    @eraser.setter
    def eraser(self, on: bool) -> None:
        self._change("_eraser", bool(on), self.eraserChanged)

    def set_eraser(self, on: bool) -> None:
        self.eraser = on

    def _change(self, attr: str, value, signal) -> None:
        """Set the tool setting ``attr`` to ``value``; if that changes it, emit ``signal(value)`` and repaint."""
        if value != getattr(self, attr):
            setattr(self, attr, value)
            signal.emit(value)
            self.update()

    # ------------------------------------------------------------------ commands
    def clear(self) -> None:
        """Erase everything (undoable)."""
        if self._empty:
            return
        self._push_undo()
        self._canvas.fill(0)
        self._after_change()

    def undo(self) -> bool:
        """Go back one stroke / clear / load; returns False if there is nothing to undo."""
        if not self._undo:
            return False
        self._end_stroke(emit=False)
        self._canvas = self._undo.pop()
        self._after_change()
        return True

    def load_digit(self, image28: np.ndarray) -> None:
        """Put a 28x28 dataset image (uint8, bright on dark) on the pad, upscaled (undoable).

        Each dataset pixel becomes a square block, so the network sees exactly the dataset's image
        (to_mnist of the pad gives back the original 28x28); other sizes are interpolated linearly.
        """
        a = np.asarray(image28, dtype=np.float64)
        if a.ndim != 2 or a.size == 0:
            raise ValueError(f"expected a 2-D image, got shape {a.shape}")
        if a.max() > 1.0:
            a = a / 255.0
        h, w = a.shape
        if h == w and self._size % h == 0:
            k = self._size // h
            big = np.repeat(np.repeat(a, k, axis=0), k, axis=1)
        else:
            big = resample_matrix(h, self._size) @ a @ resample_matrix(w, self._size).T
        self.set_array(np.clip(big, 0.0, 1.0))

    # ------------------------------------------------------------------ geometry
    def canvas_rect(self) -> QtCore.QRectF:
        """Where the canvas is drawn in widget coordinates (a centred square)."""
        side = max(1, min(self.width(), self.height()) - 2)
        return QtCore.QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_canvas(self, pos: QtCore.QPointF) -> tuple[float, float]:
        r = self.canvas_rect()
        s = self._size / r.width()
        return (pos.x() - r.left()) * s, (pos.y() - r.top()) * s

    def from_canvas(self, x: float, y: float) -> QtCore.QPointF:
        r = self.canvas_rect()
        s = r.width() / self._size
        return QtCore.QPointF(r.left() + x * s, r.top() + y * s)

    # ------------------------------------------------------------------ drawing
    def _push_undo(self) -> None:
        self._undo.append(self._canvas.copy())
        if len(self._undo) > UNDO_LIMIT:
            del self._undo[0]

    def _after_change(self) -> None:
        self._empty = not self.array().any()
        self.update()
        self.changed.emit()

    def _painter(self) -> QtGui.QPainter:
        p = QtGui.QPainter(self._canvas)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        return p

    def _ink(self) -> QtGui.QColor:
        return QtGui.QColor(0, 0, 0) if self._eraser else QtGui.QColor(255, 255, 255)

    def _width_for(self, pressure: float | None) -> float:
        if pressure is None:  # mouse
            return float(self._brush)
        p = min(1.0, max(0.0, float(pressure)))
        return self._brush * (0.35 + 0.9 * p)  # light touch ~1/3, firm press a little wider than the mouse

    def _begin_stroke(self, pos: QtCore.QPointF, pressure: float | None) -> None:
        self._push_undo()
        x, y = self.to_canvas(pos)
        w = self._width_for(pressure)
        self._points = [(x, y, w)]
        self._drawing = True
        p = self._painter()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._ink())
        p.drawEllipse(QtCore.QPointF(x, y), w / 2, w / 2)  # a click leaves a dot
        p.end()
        self._after_segment(x, y, w)

    def _extend_stroke(self, pos: QtCore.QPointF, pressure: float | None) -> None:
        if not self._drawing:
            return
        x, y = self.to_canvas(pos)
        w = self._width_for(pressure)
        lx, ly, lw = self._points[-1]
        if (x - lx) ** 2 + (y - ly) ** 2 < 0.25:  # under half a canvas pixel: nothing to draw
            return
        self._points.append((x, y, w))
        pts = self._points
        path = QtGui.QPainterPath()
        if len(pts) == 2:  # first segment: straight to the midpoint
            (x0, y0, _), (x1, y1, w1) = pts
            path.moveTo(x0, y0)
            path.lineTo((x0 + x1) / 2, (y0 + y1) / 2)
            width = (pts[0][2] + w1) / 2
        else:  # quadratic through the previous point, midpoint to midpoint (smooth, no corners)
            (x0, y0, _), (x1, y1, w1), (x2, y2, _) = pts[-3:]
            path.moveTo((x0 + x1) / 2, (y0 + y1) / 2)
            path.quadTo(x1, y1, (x1 + x2) / 2, (y1 + y2) / 2)
            width = w1
            del pts[:-3]
        self._stroke_path(path, width)
        self._after_segment(x, y, width)

    def _end_stroke(self, emit: bool = True) -> None:
        if not self._drawing:
            return
        pts = self._points
        if len(pts) >= 2:  # last half segment: midpoint to the pen-up point
            (x0, y0, _), (x1, y1, w1) = pts[-2:]
            path = QtGui.QPainterPath()
            path.moveTo((x0 + x1) / 2, (y0 + y1) / 2)
            path.lineTo(x1, y1)
            self._stroke_path(path, w1)
        self._drawing = False
        self._points = []
        self._empty = not self.array().any()
        self.update()
        if emit:
            self.changed.emit()
            self.strokeFinished.emit()

    def _stroke_path(self, path: QtGui.QPainterPath, width: float) -> None:
        p = self._painter()
        pen = QtGui.QPen(self._ink(), max(1.0, width), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
        p.end()

    def _after_segment(self, x: float, y: float, w: float) -> None:
        was_empty = self._empty
        if self._eraser:
            self._empty = not self.array().any()
        else:
            self._empty = False
        if was_empty != self._empty:
            self.update()  # the "Draw a digit here" hint comes or goes
        else:
            self._update_around(x, y, w)
        self.changed.emit()

    def _update_around(self, x: float, y: float, w: float) -> None:
        """Repaint only the widget area the last segment (and the brush outline) can have touched."""
        pts = [(x, y)] + [(px, py) for px, py, _ in self._points[-3:]]
        pad = max(w, self._brush) * 0.75 + 2
        xs = [px for px, _ in pts]
        ys = [py for _, py in pts]
        a = self.from_canvas(min(xs) - pad, min(ys) - pad)
        b = self.from_canvas(max(xs) + pad, max(ys) + pad)
        self.update(QtCore.QRectF(a, b).toAlignedRect().adjusted(-2, -2, 2, 2))
        if self._hover is not None:
            self._update_hover(self._hover)

    def _update_hover(self, pos: QtCore.QPointF) -> None:
        rad = self._brush * self.canvas_rect().width() / self._size / 2 + 3
        self.update(QtCore.QRectF(pos.x() - rad, pos.y() - rad, 2 * rad, 2 * rad).toAlignedRect())

    # ------------------------------------------------------------------ events
    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._begin_stroke(ev.position(), None)
            ev.accept()
        else:
            super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev: QtGui.QMouseEvent) -> None:
        self._move_hover(ev.position())
        if self._drawing:
            self._extend_stroke(ev.position(), None)
        ev.accept()

    def _move_hover(self, pos: QtCore.QPointF) -> None:
        if self._hover is not None:
            self._update_hover(self._hover)
        self._hover = QtCore.QPointF(pos)
        self._update_hover(self._hover)

    def mouseReleaseEvent(self, ev: QtGui.QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self._drawing:
            self._extend_stroke(ev.position(), None)
            self._end_stroke()
            ev.accept()
        else:
            super().mouseReleaseEvent(ev)

    def tabletEvent(self, ev: QtGui.QTabletEvent) -> None:
        t = ev.type()
        pressure = ev.pressure()
        eraser_end = ev.pointerType() == QtGui.QPointingDevice.PointerType.Eraser
        if t == QtCore.QEvent.Type.TabletPress:
            self._tablet_eraser = eraser_end and not self._eraser
            if self._tablet_eraser:
                self._eraser = True
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._begin_stroke(ev.position(), pressure)
        elif t == QtCore.QEvent.Type.TabletMove:
            self._move_hover(ev.position())
            if self._drawing:
                self._extend_stroke(ev.position(), pressure)
        elif t == QtCore.QEvent.Type.TabletRelease:
            self._extend_stroke(ev.position(), pressure)
            self._end_stroke()
            if self._tablet_eraser:
                self._eraser = False
                self._tablet_eraser = False
        ev.accept()  # no synthesised mouse events

    def leaveEvent(self, ev) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(ev)

    def event(self, ev: QtCore.QEvent) -> bool:
        # while the pad has the focus its keys are pad commands, even if the window has shortcuts for them
        if ev.type() == QtCore.QEvent.Type.ShortcutOverride and _pad_command(self, ev) is not None:
            ev.accept()
            return True
        return super().event(ev)

    def keyPressEvent(self, ev: QtGui.QKeyEvent) -> None:
        if handle_pad_key(self, ev):
            ev.accept()
        else:
            super().keyPressEvent(ev)

    def paintEvent(self, ev) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        r = self.canvas_rect()
        p.drawImage(r, self._canvas)
        # a faint guide: the 20x20-of-28 box MNIST fits digits into
        g = r.adjusted(r.width() * 4 / 28, r.height() * 4 / 28, -r.width() * 4 / 28, -r.height() * 4 / 28)
        pen = QtGui.QPen(QtGui.QColor(255, 255, 255, 26), 1, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(g, 6, 6)
        border = QtGui.QColor(theme.ACCENT) if self.hasFocus() else QtGui.QColor(theme.MUTED)
        border.setAlpha(180 if self.hasFocus() else 120)
        p.setPen(QtGui.QPen(border, 1.5))
        p.drawRect(r.adjusted(0.5, 0.5, -0.5, -0.5))
        if self._empty and not self._drawing:
            p.setPen(QtGui.QColor(theme.MUTED))
            f = p.font()
            f.setPointSizeF(max(9.0, r.width() / 22))
            p.setFont(f)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
        if self._hover is not None and r.contains(self._hover):  # brush outline
            rad = self._brush * r.width() / self._size / 2
            col = QtGui.QColor(theme.BAD) if self._eraser else QtGui.QColor(theme.ACCENT)
            col.setAlpha(150)
            p.setPen(QtGui.QPen(col, 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawEllipse(self._hover, rad, rad)
        p.end()


PAD_KEYS_HELP = ("Delete / Backspace / C: clear   Ctrl+Z: undo   X: eraser   B: brush   - / +: stroke width   "
                 "0-9: teach it that digit")


def _pad_command(pad: DrawingPad, ev: QtGui.QKeyEvent):
    """The pad command a key press stands for (a callable), or None.

    Only keys the studio window does not use: E, N, R, [, ] and Space belong to its training controls.
    """
    key = ev.key()
    mods = ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if ev.matches(QtGui.QKeySequence.StandardKey.Undo) or (
        key == Qt.Key.Key_Z and mods == Qt.KeyboardModifier.ControlModifier
    ):
        return pad.undo
    if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
        return None
    digit = int(key) - Qt.Key.Key_0.value
    if 0 <= digit <= 9 and mods == Qt.KeyboardModifier.NoModifier:
        return lambda: pad.digitPressed.emit(digit)
    return {
        Qt.Key.Key_Delete: pad.clear,
        Qt.Key.Key_Backspace: pad.clear,
        Qt.Key.Key_C: pad.clear,
        Qt.Key.Key_X: lambda: pad.set_eraser(True),
        Qt.Key.Key_B: lambda: pad.set_eraser(False),
        Qt.Key.Key_Minus: lambda: pad.set_brush_width(pad.brush_width - 2),
        Qt.Key.Key_Plus: lambda: pad.set_brush_width(pad.brush_width + 2),
        Qt.Key.Key_Equal: lambda: pad.set_brush_width(pad.brush_width + 2),
    }.get(key)


def handle_pad_key(pad: DrawingPad, ev: QtGui.QKeyEvent) -> bool:
    """Run the pad command for this key press; returns True if it was one."""
    command = _pad_command(pad, ev)
    if command is None:
        return False
    command()
    return True
