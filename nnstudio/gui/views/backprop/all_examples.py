"""Tab “All examples”: the mini-batch's images with their costs, and each example's desired change to
the selected weight or bias beside their average (the direction of the actual gradient step)."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import batch_nudges, fmt
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import point_font, signed_color, to_qimage
from nnstudio.gui.views.backprop._common import DEFAULT_ETA, _Canvas, _num, _Panel, _wrapped, as_pixels


class BatchGrid(_Canvas):
    """The mini-batch's images with their costs and each one's desired change to the selected parameter."""

    exampleClicked = Signal(int)
    click_signal = "exampleClicked"

    def __init__(self, view, parent=None, on_click=None):
        super().__init__(view, parent, on_click)
        self.X = None
        self.labels = None
        self.bn = None
        self.before = None  # per-example costs before the last step
        self.current = None
        self.names = []
        self.setMinimumSize(300, 150)

    def set_data(self, X, labels, bn, before, current, names):
        self.X, self.labels, self.bn, self.before, self.current, self.names = X, labels, bn, before, current, names
        self.update()

    def _tiles(self):
        n = len(self.labels)
        W, H = self.width(), self.height()
        best = None
        for cols in range(1, n + 1):
            rows = math.ceil(n / cols)
            tw = (W - 8) / cols
            th = (H - 8) / rows
            side = min(tw - 8, th - 78)
            if best is None or side > best[0]:
                best = (side, cols, tw, th)
        side, cols, tw, th = best
        side = max(16.0, min(side, 150.0))
        rows = math.ceil(n / cols)
        th = min(th, side + 84)
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
        for i, rect in enumerate(tiles):
            img = QtCore.QRectF(rect.center().x() - side / 2, rect.top() + 4, side, side)
            p.drawImage(img, to_qimage(as_pixels(self.X[i])))
            if i == self.current:
                p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(img.adjusted(-2, -2, 2, 2))
            lab, guess = int(self.labels[i]), int(self.bn.guesses[i])
            y = img.bottom() + 2
            fs = 8.5 if side >= 48 else 7.5
            p.setFont(point_font(fs, bold=True))
            p.setPen(QtGui.QColor(theme.GOOD if lab == guess else theme.BAD))
            name = (lambda k: self.names[k] if k < len(self.names) else str(k))
            p.drawText(QtCore.QRectF(rect.left(), y, rect.width(), 15), Qt.AlignmentFlag.AlignHCenter,
                       f"{name(lab)[:7]} → {name(guess)[:7]}")
            p.setFont(point_font(fs))
            p.setPen(QtGui.QColor(theme.TEXT))
            p.drawText(QtCore.QRectF(rect.left(), y + 14, rect.width(), 15), Qt.AlignmentFlag.AlignHCenter,
                       f"C = {fmt(self.bn.costs[i], 3)}")
            by = y + 32
            if self.before is not None and len(self.before) == len(self.labels):
                p.setPen(QtGui.QColor(theme.MUTED))
                p.drawText(QtCore.QRectF(rect.left(), y + 28, rect.width(), 15), Qt.AlignmentFlag.AlignHCenter,
                           f"was {fmt(self.before[i], 3)}")
                by += 15
            # this example's desired change to the selected parameter
            bw = min(rect.width() - 10, side * 1.2)
            cx = rect.center().x()
            p.fillRect(QtCore.QRectF(cx - bw / 2, by, bw, 7), QtGui.QColor(40, 46, 54))
            length = bw / 2 * abs(ch[i]) / scale
            col = signed_color(ch[i], scale, 255)
            p.fillRect(QtCore.QRectF(cx, by, length, 7) if ch[i] >= 0 else QtCore.QRectF(cx - length, by, length, 7),
                       col)
            p.setPen(col)
            p.drawText(QtCore.QRectF(rect.left(), by + 8, rect.width(), 15), Qt.AlignmentFlag.AlignHCenter,
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

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.bn = None
        self.eta = DEFAULT_ETA
        self.setMinimumSize(240, 120)

    def set_data(self, bn, eta):
        self.bn, self.eta = bn, eta
        self.update()

    def _geom(self):
        n = len(self.bn.changes)
        left, right, top, bottom = 64.0, 12.0, 14.0, 22.0
        W, H = self.width() - left - right, self.height() - top - bottom
        return n, left, top, W, H

    def paintEvent(self, ev):
        p = self._begin()
        bn = self.bn
        if bn is None or not len(bn.changes):
            p.end()
            return
        n, left, top, W, H = self._geom()
        ch = bn.changes
        scale = float(max(np.abs(ch).max(), abs(bn.average))) or 1.0
        zero = top + H / 2
        to_y = lambda v: zero - v / scale * (H / 2) * 0.92  # noqa: E731
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
        p.drawLine(QtCore.QPointF(left, zero), QtCore.QPointF(left + W, zero))
        p.setFont(point_font(8))
        for v in (scale, -scale):
            p.drawText(QtCore.QRectF(0, to_y(v) - 8, left - 6, 16),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, fmt(v, 3))
        p.drawText(QtCore.QRectF(0, zero - 8, left - 6, 16),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   "0")
        bw = W / n
        for i, v in enumerate(ch):
            x = left + i * bw + bw * 0.18
            y = to_y(v)
            r = QtCore.QRectF(x, min(y, zero), bw * 0.64, abs(y - zero))
            p.fillRect(r, signed_color(v, scale, 200))
            p.setPen(QtGui.QColor(theme.MUTED))
            p.drawText(QtCore.QRectF(left + i * bw, top + H + 2, bw, 16), Qt.AlignmentFlag.AlignHCenter, str(i + 1))
        ya = to_y(bn.average)
        pen = QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QtCore.QPointF(left, ya), QtCore.QPointF(left + W, ya))
        p.setFont(point_font(9, bold=True))
        p.setPen(QtGui.QColor(theme.ACCENT))
        txt = f"average {fmt(bn.average, 4, plus=True)}"
        p.drawText(QtCore.QRectF(left + 4, ya - 18 if bn.average >= 0 else ya + 2, W - 8, 16),
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
            f"each example's desired change: −∂C<sub>i</sub>/∂θ (bars)<br>"
            f"their <b style='color:{theme.ACCENT}'>average</b> = {_num(bn.average, plus=True)}"
            f" = −∂C/∂θ of the batch's mean cost — the actual gradient step's direction<br>"
            f"one step (η = {fmt(eta)}) moves it by η × average = {_num(eta * bn.average, plus=True)}<br>"
            f"mean cost of the batch: {fmt(bn.mean_cost)}")
