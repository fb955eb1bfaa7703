"""Draw a digit and watch the network read it, live.

:class:`DrawingPad` is the canvas: a 280x280 grayscale image (bright ink on black, like MNIST) shown
scaled to the widget, drawn with a smooth (quadratic-midpoint) round brush whose width follows tablet
pressure when there is a pen, with an eraser, undo, clear and "load example".

:class:`DrawPanel` is the studio view around it: the pad and its tools, the 28x28 image the network
actually sees (the canvas through :func:`nnstudio.data.to_mnist`, exactly what ``nnstudio predict`` does
with an image file), the ten output activations as bars, and the top guess, large, with its confidence.
It classifies while you draw (coalesced to display rate), reads whichever network the studio gives it
(``set_snapshot``), falling back to the shipped pretrained network, and makes the drawing the studio's
current input (``inputRequested``) so the network diagram lights up as you draw.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from nnstudio.data import DataError, to_mnist
from nnstudio.data.preprocess import resample_matrix
from nnstudio.gui.style import theme
from nnstudio.gui.style.palette import apply_dark_palette
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.widgets.output_bars import OutputBars
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.session.model import InputExample

__all__ = ["CANVAS_SIZE", "DrawPanel", "DrawingPad", "GuessView", "OutputBars", "Prediction", "PreviewImage"]

CANVAS_SIZE = 280  #: side of the drawing canvas in canvas pixels (10x MNIST's 28)
DEFAULT_BRUSH = 22  #: default pen width in canvas pixels (MNIST strokes are ~11 % of the digit height)
MIN_BRUSH, MAX_BRUSH = 4, 60
UNDO_LIMIT = 40
FRAME_INTERVAL_MS = 1000.0 / 60.0  #: classification is coalesced to at most one per display frame (60 Hz)
SOURCE = "drawing pad"


# =============================================================================================== the pad
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
        self.setMinimumSize(160, 160)
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
        w = int(min(MAX_BRUSH, max(MIN_BRUSH, w)))
        if w != self._brush:
            self._brush = w
            self.brushWidthChanged.emit(w)
            self.update()

    def set_brush_width(self, w: int) -> None:
        self.brush_width = w

    @property
    def eraser(self) -> bool:
        return self._eraser

    @eraser.setter
    def eraser(self, on: bool) -> None:
        on = bool(on)
        if on != self._eraser:
            self._eraser = on
            self.eraserChanged.emit(on)
            self.update()

    def set_eraser(self, on: bool) -> None:
        self.eraser = on

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


PAD_KEYS_HELP = "Delete / Backspace / C: clear   Ctrl+Z: undo   X: eraser   B: brush   - / +: stroke width"


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


# =============================================================================================== readouts
@dataclass(frozen=True)
class Prediction:
    """What the panel shows: the network's input and output for the current drawing."""

    pixels: np.ndarray  # (28, 28) float 0..1, what the network sees
    activations: np.ndarray | None  # (n_out,) output activations, None if the pad is blank
    guess: int | None  # index of the most active output, None if blank

    @property
    def confidence(self) -> float | None:
        return None if self.guess is None else float(self.activations[self.guess])

    @property
    def blank(self) -> bool:
        return self.guess is None


class PreviewImage(QtWidgets.QWidget):
    """The 28x28 input shown big, pixel by pixel, with a faint pixel grid."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._img: QtGui.QImage | None = None
        self._grid_cache: tuple[int, QtGui.QPixmap] | None = None
        self.setMinimumSize(84, 84)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)
        self.setToolTip("What the network sees: the drawing cropped, fitted into 20×20 and centred by mass in 28×28, as MNIST was made")

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(168, 168)

    def set_pixels(self, pixels: np.ndarray | None) -> None:
        if pixels is None:
            self._img = None
        else:
            g = theme.activation_gray(np.asarray(pixels).reshape(28, 28))
            self._img = QtGui.QImage(g.tobytes(), 28, 28, 28, QtGui.QImage.Format.Format_Grayscale8).copy()
        self.update()

    def _grid(self, side: int) -> QtGui.QPixmap:
        """The faint 28x28 pixel grid for a preview of ``side`` pixels, drawn once per size."""
        if self._grid_cache is None or self._grid_cache[0] != side:
            pm = QtGui.QPixmap(side, side)
            pm.fill(Qt.GlobalColor.transparent)
            if side >= 28 * 4:
                g = QtGui.QPainter(pm)
                g.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255, 18), 1))
                step = side / 28
                lines = []
                for i in range(1, 28):
                    v = i * step
                    lines.append(QtCore.QLineF(v, 0, v, side))
                    lines.append(QtCore.QLineF(0, v, side, v))
                g.drawLines(lines)
                g.end()
            self._grid_cache = (side, pm)
        return self._grid_cache[1]

    def paintEvent(self, ev) -> None:
        p = QtGui.QPainter(self)
        side = min(self.width(), self.height()) - 2
        side -= side % 28 if side >= 28 * 3 else 0  # whole screen pixels per input pixel when there is room
        side = max(1, side)
        r = QtCore.QRectF((self.width() - side) // 2, (self.height() - side) // 2, side, side)
        p.fillRect(r, QtGui.QColor(0, 0, 0))
        if self._img is not None:
            p.drawImage(r, self._img)  # nearest neighbour: each input pixel a square
        p.drawPixmap(r.topLeft(), self._grid(side))
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
        p.drawRect(r.adjusted(-0.5, -0.5, 0.5, 0.5))
        p.end()


class GuessView(QtWidgets.QWidget):
    """The top guess, large, with its confidence; or the empty state ("Draw a digit").

    Painted directly (no QLabel), so updating it at 60 Hz never re-runs the panel's layout.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._name: str | None = None
        self._confidence = 0.0
        self._runner_up = 0.0
        self.setMinimumSize(120, 110)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        self.setToolTip("The most active output neuron; confidence is its activation (0 to 1)")

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(170, 168)

    def set_guess(self, name: str | None, confidence: float = 0.0, runner_up: float = 0.0) -> None:
        """Show ``name`` with its activation ``confidence``; ``runner_up`` is the second-highest activation."""
        was_sure = self.sure
        old = (self._name, self._confidence)
        self._name, self._confidence, self._runner_up = name, float(confidence), float(runner_up)
        if name != old[0] or abs(confidence - old[1]) >= 0.005 or self.sure != was_sure:
            self.update()

    @property
    def guess(self) -> str | None:
        return self._name

    def text(self) -> str:
        """What it shows, as plain text (e.g. "1  97 % confident" or "Draw a digit")."""
        if self._name is None:
            return "Draw a digit"
        return f"{self._name}  {100 * self._confidence:.0f} % confident" + ("" if self.sure else " (not sure)")

    @property
    def sure(self) -> bool:
        """Sure = its neuron is clearly on (>= 0.5) and clearly ahead of the next one (by >= 0.2)."""
        return self._confidence >= 0.5 and self._confidence - self._runner_up >= 0.2

    def paintEvent(self, ev) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        r = QtCore.QRectF(self.rect())
        f = QtGui.QFont(self.font())
        f.setPointSizeF(9)
        p.setFont(f)
        p.setPen(QtGui.QColor(theme.MUTED))
        cap_h = p.fontMetrics().height() + 2
        p.drawText(QtCore.QRectF(r.left(), r.top(), r.width(), cap_h), Qt.AlignmentFlag.AlignCenter, "The network's guess")
        foot_h = 2.4 * cap_h
        body = QtCore.QRectF(r.left(), r.top() + cap_h, r.width(), max(10.0, r.height() - cap_h - foot_h))
        foot = QtCore.QRectF(r.left(), body.bottom(), r.width(), foot_h)
        if self._name is None:
            f.setPointSizeF(max(11.0, min(17.0, r.width() / 11)))
            p.setFont(f)
            p.drawText(body, Qt.AlignmentFlag.AlignCenter, "Draw a digit")
            f.setPointSizeF(9.5)
            p.setFont(f)
            p.drawText(foot, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, "the pad is empty")
        else:
            name = self._name
            px = body.height() * 0.9 if len(name) <= 2 else min(body.height() * 0.4, 1.6 * body.width() / max(1, len(name)))
            f.setPixelSize(max(10, int(px)))
            f.setWeight(QtGui.QFont.Weight.DemiBold)
            p.setFont(f)
            p.setPen(QtGui.QColor(theme.ACCENT if self.sure else theme.TEXT))
            p.drawText(body, Qt.AlignmentFlag.AlignCenter, name)
            f = QtGui.QFont(self.font())
            f.setPointSizeF(11)
            p.setFont(f)
            p.setPen(QtGui.QColor(theme.TEXT))
            line = p.fontMetrics().height()
            p.drawText(QtCore.QRectF(foot.left(), foot.top(), foot.width(), line), Qt.AlignmentFlag.AlignCenter,
                       f"{100 * self._confidence:.0f} % confident")
            if not self.sure:
                f.setPointSizeF(9)
                p.setFont(f)
                p.setPen(QtGui.QColor(theme.MUTED))
                p.drawText(QtCore.QRectF(foot.left(), foot.top() + line, foot.width(), foot.height() - line),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, "(not sure)")
        p.end()


# =============================================================================================== the panel
class _WrappedNote(QtWidgets.QLabel):
    """A word-wrapped label without height-for-width: otherwise a hosting QScrollArea sizes the whole panel
    by height-for-width (taller than the dock, which then scrolls).  Two lines are reserved instead."""

    def hasHeightForWidth(self) -> bool:
        return False


class DrawPanel(StudioView):
    """Draw and classify: the pad, its tools, what the network sees, the ten outputs and the top guess.

    Studio protocol (see :class:`~nnstudio.gui.views.base.StudioView`): ``set_snapshot`` (the network to read
    with; the latest one is used, at any rate), ``set_dataset`` (for "load example" and class names);
    emits ``inputRequested(InputExample(pixels, source="drawing pad"))`` as the drawing changes (all-zero
    pixels with ``extra={"blank": True}`` when the pad is cleared) and ``statusMessage``.
    ``predictionChanged(Prediction)`` follows every update of the readouts.
    """

    title = "Draw"
    predictionChanged = Signal(object)  # Prediction

    def __init__(self, parent=None):
        super().__init__(parent)
        self._network = None  # the Network we read with
        self._network_note = ""
        self._shipped_cache = None  # (Network | None, metadata) of the shipped model, once loaded
        self._dataset = None
        self._class_names: tuple[str, ...] = tuple(str(d) for d in range(10))
        self._pixels: np.ndarray | None = None  # cached to_mnist of the canvas (None = stale)
        self._prediction: Prediction | None = None
        self._rng = np.random.default_rng()
        self._last_update = -1.0
        self._input_dirty = False
        self._example: tuple[int, str] | None = None  # (label, "mnist test #i") while an example is on the pad
        self._pending_example: tuple[int, str] | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._refresh)

        apply_dark_palette(self)
        self.setObjectName("DrawPanel")
        self.setStyleSheet(
            "#DrawPanel QToolButton { background: #21262d; color: %(text)s; border: 1px solid #30363d;"
            " border-radius: 5px; padding: 3px 7px; }"
            "#DrawPanel QToolButton:hover { border-color: %(muted)s; }"
            "#DrawPanel QToolButton:pressed { background: #30363d; }"
            "#DrawPanel QToolButton:checked { background: #3a3220; border-color: %(accent)s; color: %(accent)s; }"
            "#DrawPanel QToolButton:disabled { color: #484f58; }"
            % {"text": theme.TEXT, "muted": theme.MUTED, "accent": theme.ACCENT}
        )

        self.pad = DrawingPad(self)
        self.pad.changed.connect(self._on_pad_changed)

        # ---- tools
        self.brush_button = self._tool("Brush", "Draw (B)", checkable=True)
        self.eraser_button = self._tool("Eraser", "Erase (X)", checkable=True)
        group = QtWidgets.QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.brush_button)
        group.addButton(self.eraser_button)
        self.brush_button.setChecked(True)
        self.brush_button.toggled.connect(lambda on: on and self.pad.set_eraser(False))
        self.eraser_button.toggled.connect(lambda on: on and self.pad.set_eraser(True))
        self.pad.eraserChanged.connect(lambda on: (self.eraser_button if on else self.brush_button).setChecked(True))
        self.width_slider = QtWidgets.QSlider(Qt.Orientation.Vertical)
        self.width_slider.setRange(MIN_BRUSH, MAX_BRUSH)
        self.width_slider.setValue(self.pad.brush_width)
        self.width_slider.setToolTip("Stroke width (- and +)")
        self.width_slider.setMinimumHeight(40)
        self.width_slider.valueChanged.connect(self.pad.set_brush_width)
        self.pad.brushWidthChanged.connect(self.width_slider.setValue)
        self.undo_button = self._tool("Undo", "Undo the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button = self._tool("Clear", "Clear the pad (Delete, Backspace or C)")
        self.clear_button.clicked.connect(self.pad.clear)
        self.example_button = self._tool("Example", "Put a random test digit of the current dataset on the pad")
        self.example_button.clicked.connect(lambda: self.load_example())
        self.pad.changed.connect(self._sync_tools)
        self._sync_tools()

        # a vertical tool strip beside the pad, as in drawing programs (keeps short docks usable)
        tools = QtWidgets.QVBoxLayout()
        tools.setSpacing(4)
        tools.setContentsMargins(0, 0, 0, 0)
        for b in (self.brush_button, self.eraser_button):
            tools.addWidget(b)
        width_label = QtWidgets.QLabel("Width")
        width_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        width_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        tools.addSpacing(4)
        tools.addWidget(width_label)
        tools.addWidget(self.width_slider, 1, Qt.AlignmentFlag.AlignHCenter)
        tools.addSpacing(4)
        for b in (self.undo_button, self.clear_button, self.example_button):
            tools.addWidget(b)
        for b in (self.brush_button, self.eraser_button, self.undo_button, self.clear_button, self.example_button):
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

        # ---- readouts
        self.preview = PreviewImage()
        sees = QtWidgets.QLabel("What the network sees\n28×28 = 784 inputs")
        sees.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sees.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self._sees_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self._sees_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.preview, 1)
        box.addWidget(sees)

        self.guess = GuessView()

        self.bars = OutputBars()
        outputs_caption = QtWidgets.QLabel("Output neurons (activation 0 – 1)")
        outputs_caption.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self.model_label = _WrappedNote(
            "Read by the studio's network, or by the pretrained one until there is one")
        self.model_label.setWordWrap(True)
        self.model_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        self.model_label.setMinimumHeight(2 * QtGui.QFontMetrics(self.model_label.font()).lineSpacing() + 4)
        self._bars_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self._bars_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(outputs_caption)
        box.addWidget(self.bars, 1)
        box.addWidget(self.model_label)

        self._readouts = QtWidgets.QGridLayout()
        self._readouts.setHorizontalSpacing(14)
        self._readouts.setVerticalSpacing(8)
        self._wide: bool | None = None
        self._arrange(wide=False)

        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(10)
        layout.addLayout(tools, 0)
        layout.addWidget(self.pad, 3)
        layout.addSpacing(6)
        layout.addLayout(self._readouts, 2)

        self.setFocusProxy(self.pad)
        self._show(None)

    def _sync_tools(self) -> None:
        self.undo_button.setEnabled(self.pad.can_undo())
        self.clear_button.setEnabled(not self.pad.is_empty())

    # ------------------------------------------------------------------ layout
    def _arrange(self, wide: bool) -> None:
        """Readouts in two rows (preview | guess over the bars) or, in a wide short dock, in two columns
        (preview over guess | the bars)."""
        if wide == self._wide:
            return
        self._wide = wide
        g = self._readouts
        for w in (self._sees_box, self.guess, self._bars_box):
            g.removeWidget(w)
        for i in range(3):
            g.setRowStretch(i, 0)
            g.setColumnStretch(i, 0)
        if wide:
            g.addWidget(self._sees_box, 0, 0)
            g.addWidget(self.guess, 1, 0)
            g.addWidget(self._bars_box, 0, 1, 2, 1)
            g.setRowStretch(0, 1)
            g.setRowStretch(1, 1)
            g.setColumnStretch(0, 2)
            g.setColumnStretch(1, 3)
        else:
            g.addWidget(self._sees_box, 0, 0)
            g.addWidget(self.guess, 0, 1)
            g.addWidget(self._bars_box, 1, 0, 1, 2)
            g.setRowStretch(0, 2)
            g.setRowStretch(1, 3)
            g.setColumnStretch(0, 1)
            g.setColumnStretch(1, 1)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        m = self.layout().contentsMargins()
        h = self.height() - m.top() - m.bottom()
        self.pad.setMaximumWidth(max(self.pad.minimumWidth(), h))  # the pad is square: no wasted width
        side = self.width() - m.left() - m.right() - self.example_button.sizeHint().width() - h - 26
        self._arrange(wide=side > 1.45 * h)

    def _tool(self, text: str, tip: str, checkable: bool = False) -> QtWidgets.QToolButton:
        b = QtWidgets.QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setCheckable(checkable)
        b.setAutoRaise(False)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys keep going to the pad
        return b

    # ------------------------------------------------------------------ studio protocol
    def set_snapshot(self, snapshot) -> None:
        """Read with this network from now on (the latest snapshot wins; updates are coalesced)."""
        if snapshot is None:
            return
        net = snapshot.network
        digits = self._dataset is None or tuple(self._dataset.class_names[:2]) == ("0", "1")
        fresh = getattr(snapshot, "fresh", False) and digits
        shipped = self._shipped() if fresh else None
        if shipped is not None and tuple(shipped[0].sizes[:1] + shipped[0].sizes[-1:]) == (net.sizes[0], net.sizes[-1]):
            # Nothing learned yet: random weights read nothing, so read with the pretrained
            # network until the studio's own has trained (the label says so).
            net = shipped[0]
        else:
            fresh = False
        changed_shape = self._network is None or tuple(self._network.sizes) != tuple(net.sizes)
        self._network = net
        shape = "-".join(map(str, net.sizes))
        if fresh:
            note = (f"Nothing trained yet: reading with the pretrained {shape} network"
                    + self._shipped_accuracy_note() + ". Press Play to train the studio's own.")
        elif snapshot.step:
            done = snapshot.epoch
            note = (f"Reading with the studio's {shape} network as trained so far "
                    f"({done} epoch{'' if done == 1 else 's'} done)")
        elif self._is_shipped(net):
            note = f"Reading with the pretrained {shape} network" + self._shipped_accuracy_note()
        else:
            note = f"Reading with the studio's {shape} network"
        if note != self._network_note:
            self._network_note = note
            self.model_label.setText(note)
        if changed_shape:
            self._sync_labels()
        if not self.pad.is_empty():
            self._schedule()

    def _shipped(self):
        """(network, metadata) of the shipped pretrained model, loaded once; None if it cannot be read."""
        if self._shipped_cache is None:
            from nnstudio.cli import shipped_model_path
            from nnstudio.core import ModelFileError, load_model

            try:
                self._shipped_cache = load_model(shipped_model_path(), with_metadata=True)
            except ModelFileError as e:
                self._shipped_cache = (None, {"error": str(e)})
        return self._shipped_cache if self._shipped_cache[0] is not None else None

    def _is_shipped(self, net) -> bool:
        shipped = self._shipped()
        return (
            shipped is not None and tuple(shipped[0].sizes) == tuple(net.sizes)
            and all(np.array_equal(a, b) for a, b in zip(shipped[0].params, net.params))
        )

    def _shipped_accuracy_note(self) -> str:
        shipped = self._shipped()
        acc = shipped[1].get("accuracy") if shipped else None
        return f" ({100 * acc:.1f} % on MNIST test)" if acc else ""

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        if dataset is not None:
            self._class_names = tuple(dataset.class_names)
            self._sync_labels()
            self.example_button.setToolTip(f"Put a random {dataset.name} test image on the pad")

    def set_input(self, example) -> None:
        """The pad shows the user's drawing, not the studio's current input: nothing to do."""

    # ------------------------------------------------------------------ public
    @property
    def network(self):
        """The network the panel reads with (None until a snapshot arrives or the user draws)."""
        return self._network

    @property
    def prediction(self) -> Prediction | None:
        """The latest readout (None until the first update)."""
        return self._prediction

    def network_input(self) -> np.ndarray:
        """The (28, 28) float image the network sees: ``to_mnist(pad.array())``, as ``nnstudio predict`` does."""
        if self._pixels is None:
            self._pixels = to_mnist(self.pad.array())
        return self._pixels

    def set_network(self, network, note: str = "") -> None:
        """Read with ``network`` (e.g. a model the user opened) until the next snapshot."""
        self._network = network
        self._network_note = note or f"Reading with a {'-'.join(map(str, network.sizes))} network"
        self.model_label.setText(self._network_note)
        self._sync_labels()
        self._schedule()

    def clear(self) -> None:
        self.pad.clear()

    def undo(self) -> bool:
        return self.pad.undo()

    def load_example(self, index: int | None = None) -> int | None:
        """Put test image ``index`` (random if None) of the current dataset on the pad; returns the index."""
        ds = self._dataset
        if ds is None:
            try:
                from nnstudio.data import load_dataset

                ds = self._dataset = load_dataset("mnist-sample")
                self._class_names = tuple(ds.class_names)
            except DataError as e:
                self.statusMessage.emit(f"No dataset to take an example from: {e}")
                return None
        if ds.n_test == 0:
            self.statusMessage.emit(f"{ds.name} has no test images")
            return None
        i = int(self._rng.integers(ds.n_test)) if index is None else int(index)
        if not 0 <= i < ds.n_test:
            raise IndexError(f"{ds.name} has {ds.n_test} test images, not #{i}")
        self._pending_example = (int(ds.test_labels[i]), f"{ds.name} test #{i}")
        self.pad.load_digit(ds.test_images[i])
        label = ds.class_names[int(ds.test_labels[i])]
        self.statusMessage.emit(f"On the pad: {ds.name} test image #{i} (a {label}); draw over it or clear it")
        return i

    def refresh_now(self) -> None:
        """Update the readouts immediately (normally they follow the drawing at display rate)."""
        self._timer.stop()
        self._refresh()

    # ------------------------------------------------------------------ updating
    def _on_pad_changed(self) -> None:
        self._pixels = None
        self._input_dirty = True
        # the true label is known only while the pad holds an untouched dataset example
        self._example, self._pending_example = self._pending_example, None
        self._schedule()

    def _schedule(self) -> None:
        """Coalesce updates: the first change is shown at once (next event-loop turn), then at most one
        update per display frame."""
        if self._timer.isActive():
            return
        wait = FRAME_INTERVAL_MS - (time.perf_counter() - self._last_update) * 1000.0
        self._timer.start(max(0, math.ceil(wait)))

    def _ensure_network(self) -> bool:
        if self._network is not None:
            return True
        shipped = self._shipped()
        if shipped is None:
            self.model_label.setText("No network to read with (the pretrained model could not be loaded)")
            self.statusMessage.emit(f"Cannot load the pretrained network: {self._shipped_cache[1]['error']}")
            return False
        net = shipped[0].copy()
        note = f"Using the pretrained {'-'.join(map(str, net.sizes))} network" + self._shipped_accuracy_note()
        self._network = net
        self._network_note = note
        self.model_label.setText(note)
        self.statusMessage.emit(note + " until the studio has a network of its own")
        self._sync_labels()
        return True

    def _sync_labels(self) -> None:
        n = self._network.sizes[-1] if self._network is not None else len(self._class_names)
        names = self._class_names if len(self._class_names) == n else tuple(str(i) for i in range(n))
        self.bars.set_labels(names)

    def _refresh(self) -> None:
        self._last_update = time.perf_counter()
        blank = self.pad.is_empty()
        pixels = np.zeros((28, 28)) if blank else self.network_input()
        blank = blank or not pixels.any()
        emit_input = self._input_dirty
        self._input_dirty = False
        if blank:
            pred = Prediction(pixels, None, None)
        elif not self._ensure_network():
            pred = Prediction(pixels, None, None)
        elif self._network.sizes[0] != pixels.size:
            self._network_note = ""  # the next snapshot restores the note
            self.model_label.setText(
                f"This {'-'.join(map(str, self._network.sizes))} network does not take 28×28 images")
            pred = Prediction(pixels, None, None)
        else:
            act = self._network.feedforward(pixels.reshape(1, -1))[0]
            pred = Prediction(pixels, act, int(act.argmax()))
        self._show(pred)
        if emit_input:
            extra = {"blank": True} if blank else {}
            label = None
            if self._example is not None and not blank:
                label, extra["example"] = self._example
            self.inputRequested.emit(
                InputExample(pixels=pixels.reshape(-1).copy(), label=label, source=SOURCE, extra=extra))
        self.predictionChanged.emit(pred)

    def _show(self, pred: Prediction | None) -> None:
        self._prediction = pred
        if pred is None or pred.blank:
            self.preview.set_pixels(None if pred is None else pred.pixels)
            self.bars.set_values(None)
            self.guess.set_guess(None)
            return
        self.preview.set_pixels(pred.pixels)
        self.bars.set_values(pred.activations)
        labels = self.bars.labels()
        second = float(np.partition(pred.activations, -2)[-2]) if len(pred.activations) > 1 else 0.0
        self.guess.set_guess(labels[pred.guess] if pred.guess < len(labels) else str(pred.guess), pred.confidence, second)
