"""One bar per output neuron (or per class), the winner in the videos' yellow.

Two layouts of the same widget:

* ``"rows"`` (the drawing pad): one row per neuron, its label, a bar as long as its activation
  (0..1) and the value, lit grey by the activation like the output neurons in the videos;
* ``"columns"`` (the evaluation view's probes and noise statistics): vertical bars with the class
  names underneath, optionally the winner's value on top, scaled to ``top``.
"""

from __future__ import annotations

import numpy as np

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import mix, scaled_font


class OutputBars(QtWidgets.QWidget):
    """Bars of output activations.  ``painted`` is emitted after every repaint (latency measurements)."""

    painted = Signal()

    def __init__(self, parent=None, *, layout: str = "rows", show_values: bool = False):
        super().__init__(parent)
        if layout not in ("rows", "columns"):
            raise ValueError(f"layout must be 'rows' or 'columns', not {layout!r}")
        self.layout_kind = layout
        self._labels: tuple[str, ...] = tuple(str(d) for d in range(10))
        self._values: np.ndarray | None = None
        self._winner: int | None = None
        self._top = 1.0
        self._fmt = "{:.2f}"
        self._show_values = show_values
        if layout == "rows":
            self.setMinimumSize(150, 130)
            self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        else:
            self.setMinimumSize(160, 80)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(240, 230) if self.layout_kind == "rows" else QtCore.QSize(220, 110)

    # ------------------------------------------------------------------ values
    def set_labels(self, labels) -> None:
        self._labels = tuple(str(x) for x in labels)
        self.updateGeometry()
        self.update()

    def labels(self) -> tuple[str, ...]:
        return self._labels

    def values(self) -> np.ndarray | None:
        return None if self._values is None else self._values.copy()

    def set_values(self, values, labels=None, top: float | None = 1.0, fmt: str = "{:.2f}") -> None:
        """Show ``values`` (None or empty: no bars).  ``top`` is the value of a full bar (None: the
        largest value); ``fmt`` formats the numbers shown."""
        if labels is not None:
            self._labels = tuple(str(x) for x in labels)
        if values is None or len(values) == 0:
            self._values = None
            self._winner = None
        else:
            v = np.asarray(values, dtype=np.float64)
            self._values = np.clip(v, 0.0, 1.0) if top == 1.0 else v
            self._winner = int(np.argmax(self._values))
            if labels is None and len(self._labels) != len(v):
                self._labels = tuple(str(i) for i in range(len(v)))
        self._top = top if top is not None else float(self._values.max() if self._values is not None else 1.0) or 1.0
        self._fmt = fmt
        self.update()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, ev) -> None:
        p = QtGui.QPainter(self)
        if self.layout_kind == "rows":
            self._paint_rows(p)
        else:
            self._paint_columns(p)
        p.end()
        self.painted.emit()

    def _paint_rows(self, p: QtGui.QPainter) -> None:
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        n = max(1, len(self._labels))
        fm = p.fontMetrics()
        label_w = max(fm.horizontalAdvance(s) for s in self._labels) + 10 if self._labels else 10
        value_w = fm.horizontalAdvance("0.00") + 10
        row = self.height() / n
        bar_h = max(3.0, min(row * 0.62, 22.0))
        x0 = label_w
        track_w = max(10.0, self.width() - label_w - value_w - 2)
        for i, name in enumerate(self._labels):
            y = i * row
            cy = y + row / 2
            a = None if self._values is None or i >= len(self._values) else float(self._values[i])
            win = a is not None and i == self._winner
            p.setPen(QtGui.QColor(theme.ACCENT if win else theme.TEXT))
            f = p.font()
            f.setBold(win)
            p.setFont(f)
            p.drawText(QtCore.QRectF(0, y, label_w - 8, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       name)
            track = QtCore.QRectF(x0, cy - bar_h / 2, track_w, bar_h)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QtGui.QColor(255, 255, 255, 16))
            p.drawRoundedRect(track, 3, 3)
            if a is None:
                continue
            if a > 0.002:
                fill = QtCore.QRectF(x0, cy - bar_h / 2, max(2.0, track_w * a), bar_h)
                if win:
                    col = QtGui.QColor(theme.ACCENT)
                else:
                    v = int(90 + 165 * a)
                    col = QtGui.QColor(v, v, v)
                p.setBrush(col)
                p.drawRoundedRect(fill, 3, 3)
            p.setPen(QtGui.QColor(theme.ACCENT if win else theme.MUTED))
            p.drawText(QtCore.QRectF(x0 + track_w + 2, y, value_w, row),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._fmt.format(a))

    def _paint_columns(self, p: QtGui.QPainter) -> None:
        bg, panel = QtGui.QColor(theme.BACKGROUND), QtGui.QColor(theme.PANEL)
        accent, muted, text = QtGui.QColor(theme.ACCENT), QtGui.QColor(theme.MUTED), QtGui.QColor(theme.TEXT)
        p.fillRect(self.rect(), bg)
        values = self._values
        n = 0 if values is None else len(values)
        if not n:
            return
        f = scaled_font(self, 0.8)
        p.setFont(f)
        fm = QtGui.QFontMetrics(f)
        label_h = fm.height() + 2
        value_h = fm.height() if self._show_values else 0
        w = self.width() / n
        h = self.height() - label_h - value_h - 4
        for k, v in enumerate(values):
            x = int(k * w + w * 0.18)
            bw = max(2, int(w * 0.64))
            bh = int(h * min(1.0, max(0.0, v / (self._top or 1.0))))
            base = value_h + 2 + h
            win = k == self._winner
            p.fillRect(QtCore.QRect(x, value_h + 2, bw, h), panel)
            p.fillRect(QtCore.QRect(x, base - bh, bw, bh), accent if win else mix(bg, text, 0.75))
            p.setPen(accent if win else muted)
            name = self._labels[k] if k < len(self._labels) and len(self._labels[k]) <= 3 else str(k)
            p.drawText(QtCore.QRect(int(k * w), base + 2, int(w), label_h), Qt.AlignmentFlag.AlignHCenter, name)
            if self._show_values and win:
                p.drawText(QtCore.QRect(int(k * w) - 20, base - bh - value_h - 1, int(w) + 40, value_h),
                           Qt.AlignmentFlag.AlignHCenter, self._fmt.format(v))
