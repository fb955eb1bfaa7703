"""The drawing panel's readouts: what the network sees, and its top guess.

:class:`Prediction` is one reading of the drawing (the network's input and output);
:class:`PreviewImage` shows the 28x28 input pixel by pixel, :class:`GuessView` the top guess, large,
with its confidence; :class:`WrappedNote` a muted note of a few lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import to_qimage
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt

__all__ = ["GuessView", "Prediction", "PreviewImage", "WrappedNote"]

CAPTION = "The network's guess"  #: the guess's caption


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
        self.setMinimumSize(64, 64)  # (a short dock: 2 screen pixels a pixel still shows every one)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)
        self.setToolTip("What the network sees: the drawing cropped, fitted into 20×20 and centred by mass in 28×28, as MNIST was made")

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(168, 168)

    def set_pixels(self, pixels: np.ndarray | None) -> None:
        if pixels is None:
            self._img = None
        else:
            self._img = to_qimage(theme.activation_gray(np.asarray(pixels).reshape(28, 28)))
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
        f = QtGui.QFont(self.font())
        f.setPointSizeF(9)  # (the caption's font: see paintEvent)
        self.setMinimumSize(max(120, QtGui.QFontMetrics(f).horizontalAdvance(CAPTION) + 8), 84)
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
        p.drawText(QtCore.QRectF(r.left(), r.top(), r.width(), cap_h), Qt.AlignmentFlag.AlignCenter, CAPTION)
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


class WrappedNote(QtWidgets.QLabel):
    """A muted note of at most ``lines`` word-wrapped lines: when the text is longer, the first of
    ``shorter`` wordings that fits, else the text with its last line elided (…).  Its text() and
    tooltip keep the whole text, and it is as narrow as its panel needs.  No height-for-width:
    otherwise a hosting QScrollArea sizes the whole panel by height-for-width (taller than the dock,
    which then scrolls)."""

    def __init__(self, text: str = "", lines: int = 2, shorter: tuple[str, ...] = ()):
        super().__init__(text)
        self.max_lines = lines
        self.shorter = shorter
        self.color = theme.MUTED  # (the colour it paints its text in)
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self.setMinimumSize(60, lines * QtGui.QFontMetrics(self.font()).lineSpacing() + 4)

    def minimumSizeHint(self) -> QtCore.QSize:
        return self.minimumSize()

    def hasHeightForWidth(self) -> bool:
        return False

    def lines(self) -> list[str]:
        """The lines it shows at its width."""
        fm, width = self.fontMetrics(), max(1, self.width())
        for text in (self.text(),) + self.shorter:
            lines = self._wrap(text, fm, width)
            if not lines or not lines[-1].endswith("…"):
                return lines
        return self._wrap(self.text(), fm, width)

    def _wrap(self, text: str, fm, width: int) -> list[str]:
        lines, words = [], [w for w in text.split(" ") if w]
        while words and len(lines) < self.max_lines:
            k = 1
            while k < len(words) and fm.horizontalAdvance(" ".join(words[:k + 1])) <= width:
                k += 1
            if len(lines) == self.max_lines - 1:
                k = len(words)
            lines.append(fm.elidedText(" ".join(words[:k]), Qt.TextElideMode.ElideRight, width))
            words = words[k:]
        return lines

    def paintEvent(self, ev) -> None:
        lines = self.lines()
        self.setToolTip(self.text() if " ".join(lines) != self.text() else "")
        p = QtGui.QPainter(self)
        p.setPen(QtGui.QColor(self.color))
        p.drawText(self.rect(), int(self.alignment()), "\n".join(lines))
        p.end()
