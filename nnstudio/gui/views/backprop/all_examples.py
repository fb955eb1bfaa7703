"""Tab “All examples”: the mini-batch's images with their costs, and each example's desired change to
the selected weight or bias beside their average (the direction of the actual gradient step)."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import batch_nudges, fmt
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import point_font, signed_color, to_qimage
from nnstudio.gui.views.backprop._common import (
    DEFAULT_ETA, _Canvas, _num, _Panel, _wrapped, as_pixels, text_metrics,
)


class BatchGrid(_Canvas):
    """The mini-batch's images with their costs and each one's desired change to the selected parameter.

    A tile is at least as wide as its longest line of text: the tiles wrap to more rows when the grid is
    narrow, and the grid asks for the height those rows need (``heightForWidth``)."""

    exampleClicked = Signal(int)
    click_signal = "exampleClicked"
    MIN_SIDE = 40.0  # (28 would be one screen pixel per pixel: too small to read a digit at a glance)
    SAMPLES = ("C = 0.8888", "was 0.8888", "Δθ −8.88×10⁻⁵")  # the widest lines under an image

    def __init__(self, view, parent=None, on_click=None):
        super().__init__(view, parent, on_click)
        self.X = None
        self.labels = None
        self.bn = None
        self.before = None  # per-example costs before the last step
        self.current = None
        self.names = []
        policy = QtWidgets.QSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def set_data(self, X, labels, bn, before, current, names):
        relayout = (self.labels is None or len(labels) != len(self.labels) or list(names) != self.names
                    or (before is None) != (self.before is None))
        self.X, self.labels, self.bn, self.before, self.current, self.names = X, labels, bn, before, current, list(names)
        if relayout:
            self.updateGeometry()
        self.update()

    # geometry -------------------------------------------------------------------
    def _line(self) -> float:
        return text_metrics(9, bold=True).height()

    def _text_height(self) -> float:
        """The height of the lines and the bar under an image."""
        lines = 4 if self.before is not None and self.labels is not None and len(self.before) == len(self.labels) \
            else 3
        return 6 + lines * self._line() + 11

    def _tile_width(self) -> float:
        fm, fb = text_metrics(9), text_metrics(9, bold=True)
        name = (lambda k: self.names[k] if k < len(self.names) else str(k))
        n_cls = max(10, len(self.names))
        widest = max(fb.horizontalAdvance(f"{name(k)[:7]} → {name(k)[:7]}") for k in range(n_cls))
        return max([widest] + [fm.horizontalAdvance(t) for t in self.SAMPLES]) + 10

    def _count(self) -> int:
        return len(self.labels) if self.labels is not None else 10

    def _cols(self, width: float) -> int:
        return max(1, min(self._count(), int((width - 8) // self._tile_width())))

    def heightForWidth(self, w: int) -> int:
        rows = math.ceil(self._count() / self._cols(w))
        return math.ceil(rows * (self.MIN_SIDE + 8 + self._text_height()) + 8)

    def hasHeightForWidth(self) -> bool:
        return True

    def minimumSizeHint(self):
        # (the height of one row: the layout asks heightForWidth for the rows a width needs)
        w = self._tile_width() * min(self._count(), 2) + 8
        return QtCore.QSize(math.ceil(w), self.heightForWidth(10 ** 6))

    def sizeHint(self):
        w = self._tile_width() * self._count() + 8
        return QtCore.QSize(math.ceil(w), self.heightForWidth(math.ceil(w)) + 40)

    def _tiles(self):
        n = len(self.labels)
        W, H = self.width(), self.height()
        cols = self._cols(W)
        rows = math.ceil(n / cols)
        tw = (W - 8) / cols
        text_h = self._text_height()
        side = max(self.MIN_SIDE, min(tw - 8, (H - 8) / rows - text_h - 8, 150.0))
        th = side + 8 + text_h
        y0 = max(4.0, (H - rows * th) / 2)  # centred vertically
        out = []
        for i in range(n):
            r, c = divmod(i, cols)
            out.append(QtCore.QRectF(4 + c * tw, y0 + r * th, tw, th))
        return out, side

    def paintEvent(self, ev):
        p = self._begin()
        if self.bn is None:
            p.end()
            return
        tiles, side = self._tiles()
        ch = self.bn.changes
        scale = float(np.abs(ch).max()) or 1.0
        line = self._line()
        centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter
        name = (lambda k: self.names[k] if k < len(self.names) else str(k))
        for i, rect in enumerate(tiles):
            img = QtCore.QRectF(rect.center().x() - side / 2, rect.top() + 4, side, side)
            p.drawImage(img, to_qimage(as_pixels(self.X[i])))
            if i == self.current:
                p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(img.adjusted(-2, -2, 2, 2))
            lab, guess = int(self.labels[i]), int(self.bn.guesses[i])
            y = img.bottom() + 4
            p.setFont(point_font(9, bold=True))
            p.setPen(QtGui.QColor(theme.GOOD if lab == guess else theme.BAD))
            self._text(p, QtCore.QRectF(rect.left(), y, rect.width(), line), centre,
                       f"{name(lab)[:7]} → {name(guess)[:7]}")
            y += line
            p.setFont(point_font(9))
            p.setPen(QtGui.QColor(theme.TEXT))
            self._text(p, QtCore.QRectF(rect.left(), y, rect.width(), line), centre,
                       f"C = {fmt(self.bn.costs[i], 3)}")
            y += line
            if self.before is not None and len(self.before) == len(self.labels):
                p.setPen(QtGui.QColor(theme.MUTED))
                self._text(p, QtCore.QRectF(rect.left(), y, rect.width(), line), centre,
                           f"was {fmt(self.before[i], 3)}")
                y += line
            # this example's desired change to the selected parameter
            by = y + 2
            bw = min(rect.width() - 10, side * 1.2)
            cx = rect.center().x()
            p.fillRect(QtCore.QRectF(cx - bw / 2, by, bw, 7), QtGui.QColor(40, 46, 54))
            length = bw / 2 * abs(ch[i]) / scale
            col = signed_color(ch[i], scale, 255)
            p.fillRect(QtCore.QRectF(cx, by, length, 7) if ch[i] >= 0 else QtCore.QRectF(cx - length, by, length, 7),
                       col)
            p.setPen(col)
            self._text(p, QtCore.QRectF(rect.left(), by + 9, rect.width(), line), centre,
                       f"Δθ {fmt(ch[i], 3, plus=True)}")
        p.end()

    def tile_at(self, pos) -> int | None:
        if self.bn is None:
            return None
        tiles, _ = self._tiles()
        for i, r in enumerate(tiles):
            if r.contains(pos):
                return i
        return None

    def tile_center(self, i: int) -> QtCore.QPointF:
        tiles, side = self._tiles()
        return QtCore.QPointF(tiles[i].center().x(), tiles[i].top() + 4 + side / 2)

    item_at = tile_at

    def describe(self, i):
        bn = self.bn
        return (f"mini-batch example {i + 1}: label {int(self.labels[i])}, the network says {int(bn.guesses[i])}\n"
                f"its cost C = {fmt(bn.costs[i])}\nits desired change to {bn.ref.label()}: −∂C/∂θ = "
                f"{fmt(bn.changes[i], plus=True)}\nclick: make it the current example")


class ChangesChart(_Canvas):
    """Bars: each example's desired change to the selected parameter; a yellow line at their average."""

    SAMPLE = "−8.88×10⁻⁵"  # the widest number on the axis

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.bn = None
        self.eta = DEFAULT_ETA

    def set_data(self, bn, eta):
        self.bn, self.eta = bn, eta
        self.update()

    def minimumSizeHint(self):
        fm = text_metrics(9)
        n = len(self.bn.changes) if self.bn is not None else 10
        w = self._left() + 12 + n * (fm.horizontalAdvance(str(n)) + 6)
        # the three numbers of the axis one line apart at least, and the labels of the bars below
        h = 14 + 3 * fm.height() / 0.92 + fm.height() + 6
        return QtCore.QSize(math.ceil(max(w, 240)), math.ceil(max(h, 120)))

    def _left(self) -> float:
        return text_metrics(9).horizontalAdvance(self.SAMPLE) + 12

    def _geom(self):
        n = len(self.bn.changes)
        line = text_metrics(9).height()
        left, right, top, bottom = self._left(), 12.0, 14.0, line + 6
        W, H = self.width() - left - right, self.height() - top - bottom
        return n, left, top, W, H

    def paintEvent(self, ev):
        p = self._begin()
        bn = self.bn
        if bn is None or not len(bn.changes):
            p.end()
            return
        n, left, top, W, H = self._geom()
        line = text_metrics(9).height()
        ch = bn.changes
        scale = float(max(np.abs(ch).max(), abs(bn.average))) or 1.0
        zero = top + H / 2
        to_y = lambda v: zero - v / scale * (H / 2) * 0.92  # noqa: E731
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
        p.drawLine(QtCore.QPointF(left, zero), QtCore.QPointF(left + W, zero))
        p.setFont(point_font(9))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for v in (scale, -scale):
            self._text(p, QtCore.QRectF(0, to_y(v) - line / 2, left - 6, line), right, fmt(v, 3))
        self._text(p, QtCore.QRectF(0, zero - line / 2, left - 6, line), right, "0")
        bw = W / n
        for i, v in enumerate(ch):
            x = left + i * bw + bw * 0.18
            y = to_y(v)
            r = QtCore.QRectF(x, min(y, zero), bw * 0.64, abs(y - zero))
            p.fillRect(r, signed_color(v, scale, 200))
            p.setPen(QtGui.QColor(theme.MUTED))
            self._text(p, QtCore.QRectF(left + i * bw, top + H + 2, bw, line), Qt.AlignmentFlag.AlignHCenter,
                       str(i + 1))
        ya = to_y(bn.average)
        pen = QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QtCore.QPointF(left, ya), QtCore.QPointF(left + W, ya))
        p.setFont(point_font(9, bold=True))
        p.setPen(QtGui.QColor(theme.ACCENT))
        txt = f"average {fmt(bn.average, 4, plus=True)}"
        y = ya - line - 2 if bn.average >= 0 else ya + 2
        self._text(p, QtCore.QRectF(left + 4, min(max(0.0, y), top + H - line), W - 8, line),
                   Qt.AlignmentFlag.AlignRight, txt)
        p.end()

    def bar_at(self, pos):
        if self.bn is None:
            return None
        n, left, top, W, H = self._geom()
        if left <= pos.x() < left + W:
            return min(n - 1, int((pos.x() - left) / (W / n)))
        return None

    item_at = bar_at

    def describe(self, i):
        return f"example {i + 1}: desired change −∂C/∂θ = {fmt(self.bn.changes[i], plus=True)}"


class AllExamplesPanel(_Panel):
    """Tab 3: the mini-batch's desired changes to the selected parameter and their average."""

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.grid = BatchGrid(view, on_click=view.choose_batch_example)
        self.chart = ChangesChart(view)
        self.head = _wrapped()
        self.summary = QtWidgets.QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.head)
        lay.addWidget(self.grid, 3)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.chart, 3)
        row.addWidget(self.summary, 2)
        lay.addLayout(row, 3)
        self.bn = None

    def refresh(self):
        v = self.view
        if v.network is None or v.batch is None:
            self.head.setText("No mini-batch yet: load a dataset.")
            return
        X, y, src = v.batch
        net, ref = v.network, v.selected_parameter
        bn = batch_nudges(net, X, y, ref)
        self.bn = bn
        before = v.batch_costs_before_step
        self.grid.set_data(X, y, bn, before, v.current_batch_position, v.class_names())
        self.chart.set_data(bn, v.learning_rate)
        self.head.setText(
            f"<b>The mini-batch</b> ({len(y)} examples, {src}): each image with its label → the network's guess and "
            "its "
            f"cost; under it, that example's desired change to <b style='color:{theme.ACCENT}'>{ref.label()}</b> "
            f"({ref.describe(net.sizes)}).  Click an image to make it the current example.")
        eta = v.learning_rate
        self.summary.setText(
            f"<b>{ref.label()}</b> = {fmt(bn.value)} now<br>"
            f"each example's desired change: −∂C<sub style='{theme.SCRIPT}'>i</sub>/∂θ (bars)<br>"
            f"their <b style='color:{theme.ACCENT}'>average</b> = {_num(bn.average, plus=True)}"
            f" = −∂C/∂θ of the batch's mean cost — the actual gradient step's direction<br>"
            f"one step (η = {fmt(eta)}) moves it by η × average = {_num(eta * bn.average, plus=True)}<br>"
            f"mean cost of the batch: {fmt(bn.mean_cost)}")
