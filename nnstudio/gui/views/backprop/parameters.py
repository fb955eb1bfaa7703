"""Tab “Parameters vs −gradient”: all weights and biases beside the negative gradient, layer by layer,
with the largest nudges (the “most bang for the buck”) marked."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import ParamRef, fmt, layer_grid, layer_name, parameter_nudges
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import point_font, signed_qimage
from nnstudio.gui.views.backprop._common import _Canvas, _num, _Panel, _wrapped, text_metrics


class ParamGrid(_Canvas):
    """Every weight and bias, per layer, beside the negative gradient; the largest nudges marked.

    Each title says as much as its grid's width holds (the long form, a short one, or elided); a rank
    number is drawn where it does not cover another text (the list beside the grid has them all)."""

    parameterClicked = Signal(object)
    click_signal = "parameterClicked"
    ROW_LABELS = 118.0  # room left of the wide grids for “θ into hidden 1”, when the grid is wide enough

    def __init__(self, view, parent=None, on_click=None):
        super().__init__(view, parent, on_click)
        self.pn = self.sizes = self.selected = None  # the ParameterNudges, layer sizes and selection shown

    def set_data(self, pn, sizes, selected):
        relayout = sizes != self.sizes
        self.pn, self.sizes, self.selected = pn, sizes, selected
        self._images = None
        if relayout:
            self.updateGeometry()
        self.update()

    # geometry -------------------------------------------------------------------
    def _split(self):
        """(the layers with a wide band each, the small layers sharing a row)."""
        L = len(self.sizes) - 1
        big = [l for l in range(L) if self.sizes[l] + 1 > 60]
        return big, [l for l in range(L) if l not in big]

    def _small_title(self, l: int, kind: str) -> str:
        return f"{'θ' if kind == 'theta' else '−∇C'} · layer {l + 1}\n±8.88×10⁻⁵"

    def minimumSizeHint(self):
        if not self.sizes:
            return QtCore.QSize(300, 200)
        fm = text_metrics(9)
        line = fm.height()
        big, small = self._split()
        h = 8 + sum(2 * (line + 4) + 2 * max(24.0, min(self.sizes[l + 1] * 2.0, 48.0)) + 6 for l in big)
        w = 300.0
        if small:
            slot = max(max(fm.horizontalAdvance(t) for t in self._small_title(l, "grad").split("\n")) + 10
                       for l in small)
            w = max(w, 18 + 2 * len(small) * slot)
            h += 2 * line + 8 + line + max(self.sizes[l + 1] * 4.0 for l in small) + 8
        return QtCore.QSize(math.ceil(w), math.ceil(h))

    def sizeHint(self):
        return self.minimumSizeHint().expandedTo(QtCore.QSize(600, 320))

    def _layout(self):
        """[(layer, kind, QRectF)] where kind is 'theta' or 'grad'; one band per layer, θ above −∇C."""
        W, H = self.width(), self.height()
        line = text_metrics(9).height()
        left = self.ROW_LABELS if W >= 560 else 10.0
        out = []
        # the first layer gets a wide band; the small layers share a row
        big, small = self._split()
        title_h = line + 4
        small_h = (2 * line + 8 + line + max(self.sizes[l + 1] * 4.0 for l in small) + 8) if small else 0.0
        spare = max(0.0, H - 8 - small_h)
        band = spare / max(1, len(big))
        y = 4.0
        for l in big:
            h = max(24.0, min((band - title_h * 2 - 6) / 2, self.sizes[l + 1] * 9.0))
            out.append((l, "theta", QtCore.QRectF(left, y + title_h, W - left - 8, h)))
            out.append((l, "grad", QtCore.QRectF(left, y + title_h * 2 + h, W - left - 8, h)))
            y += title_h * 2 + 2 * h + 6
        if small:
            x, avail = 10.0, W - 18
            per = avail / (2 * len(small))
            top = y + 2 * line + 8 + line  # (two lines of title, and a line for the rank numbers)
            for l in small:
                n_out, n_in = self.sizes[l + 1], self.sizes[l] + 1
                cell = max(1.0, min((H - top - 8) / n_out, (per - 14) / n_in, 18.0))
                for kind in ("theta", "grad"):
                    out.append((l, kind, QtCore.QRectF(x, top, cell * n_in, cell * n_out)))
                    x += per
        return out

    def _title(self, l: int, kind: str, n_out: int, n_in: int, scale: float, width: float, small: bool) -> str:
        """The longest title of grid (l, kind) that fits ``width``."""
        sym = "θ" if kind == "theta" else "−∇C"
        if small:
            return f"{sym} · layer {l + 1}\n±{fmt(scale, 3)}"
        fm = text_metrics(9)
        for t in (f"{'parameters θ' if kind == 'theta' else '−∇C, the desired nudges'} · layer {l + 1}: "
                  f"{n_out} neurons × ({n_in - 1} weights + bias) · colour scale ±{fmt(scale, 3)}",
                  f"{sym} · layer {l + 1}: {n_out} neurons × ({n_in - 1} weights + bias) · ±{fmt(scale, 3)}",
                  f"{sym} · layer {l + 1} · ±{fmt(scale, 3)}"):
            if fm.horizontalAdvance(t) <= width:
                return t
        return fm.elidedText(t, Qt.TextElideMode.ElideRight, width)

    # painting -------------------------------------------------------------------
    def paintEvent(self, ev):
        p = self._begin()
        if self.pn is None:
            p.end()
            return
        pn, sizes = self.pn, self.sizes
        lay = self._layout()
        _, small = self._split()
        line = text_metrics(9).height()
        p.setFont(point_font(9))
        A = Qt.AlignmentFlag
        marks = []
        for l, kind, rect in lay:
            vals = layer_grid(sizes, pn.params if kind == "theta" else pn.neg_grad, l)
            scale = float(np.abs(vals).max()) or 1.0
            p.drawImage(rect, signed_qimage(vals, scale))
            p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            n_out, n_in = vals.shape
            is_small = l in small
            room = (self.width() - 18) / (2 * len(small)) - 8 if is_small else rect.width()
            title = self._title(l, kind, n_out, n_in, scale, room, is_small)
            p.setPen(QtGui.QColor(theme.TEXT if kind == "grad" else theme.MUTED))
            lines = title.count("\n") + 1
            self._text(p, QtCore.QRectF(rect.left(), rect.top() - (line + 2) * lines - (line if is_small else 0),
                                        room, line * lines), A.AlignLeft | A.AlignBottom, title)
            if not is_small and rect.left() >= self.ROW_LABELS:
                p.setPen(QtGui.QColor(theme.MUTED))
                self._text(p, QtCore.QRectF(4, rect.top(), self.ROW_LABELS - 8, rect.height()),
                           A.AlignRight | A.AlignVCenter | Qt.TextFlag.TextWordWrap,
                           f"{'θ' if kind == 'theta' else '−∇C'}\ninto {layer_name(sizes, l + 1)}")
            # mark the largest nudges and the selection
            cw, chh = rect.width() / n_in, rect.height() / n_out
            lo, hi = pn.layer_slices[l]
            for rank, idx in enumerate(pn.top.tolist()):
                if not lo <= idx < hi:
                    continue
                ref = ParamRef.from_flat(sizes, idx)
                c = n_in - 1 if ref.is_bias else ref.col
                cx, cy = rect.left() + (c + 0.5) * cw, rect.top() + (ref.row + 0.5) * chh
                s = max(6.0, min(cw, chh) + 3)
                p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 1.6))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(QtCore.QRectF(cx - s / 2, cy - s / 2, s, s))
                if kind == "grad":
                    marks.append((rank, cx, cy, s))
            sel = self.selected
            if sel is not None and sel.layer == l:
                c = n_in - 1 if sel.is_bias else sel.col
                cx, cy = rect.left() + (c + 0.5) * cw, rect.top() + (sel.row + 0.5) * chh
                s = max(9.0, min(cw, chh) + 6)
                p.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 2))
                p.drawEllipse(QtCore.QPointF(cx, cy), s / 2, s / 2)
        # the ranks of the largest nudges, above their box (or below it) where no other text is
        p.setFont(point_font(9, bold=True))
        p.setPen(QtGui.QColor(theme.ACCENT))
        fm = p.fontMetrics()
        for rank, cx, cy, s in marks:
            w = fm.horizontalAdvance(str(rank + 1)) + 2
            for y in (cy - s / 2 - line, cy + s / 2):
                box = QtCore.QRectF(cx - w / 2, y, w, line)
                if self.rect().contains(box.toAlignedRect()) and not any(
                        box.intersects(other) for other, _, _ in self.drawn_text):
                    self._text(p, box, A.AlignHCenter | A.AlignVCenter, str(rank + 1))
                    break
        p.end()

    def _hit(self, pos):
        if self.pn is None:
            return None
        for l, kind, rect in self._layout():
            if rect.contains(pos):
                n_out, n_in = self.sizes[l + 1], self.sizes[l] + 1
                c = min(n_in - 1, int((pos.x() - rect.left()) / rect.width() * n_in))
                r = min(n_out - 1, int((pos.y() - rect.top()) / rect.height() * n_out))
                return ParamRef(l, r, None if c == n_in - 1 else c)
        return None

    def cell_center(self, ref: ParamRef, kind: str = "grad") -> QtCore.QPointF:
        for l, k, rect in self._layout():
            if l == ref.layer and k == kind:
                n_out, n_in = self.sizes[l + 1], self.sizes[l] + 1
                c = n_in - 1 if ref.is_bias else ref.col
                return QtCore.QPointF(rect.left() + (c + 0.5) * rect.width() / n_in,
                                      rect.top() + (ref.row + 0.5) * rect.height() / n_out)
        raise ValueError("no such layer")

    item_at = _hit

    def describe(self, ref):
        i = ref.flat_index(self.sizes)
        g = self.pn.neg_grad[i]
        rank = int((np.abs(self.pn.neg_grad) > abs(g)).sum()) + 1
        return (f"{ref.label()}: {ref.describe(self.sizes)}\nθ = {fmt(self.pn.params[i])}\n"
                f"−∂C/∂θ = {fmt(g, plus=True)}  (rank {rank:,} of {len(self.pn.neg_grad):,} by size)\nclick: select")


class ParametersPanel(_Panel):
    """Tab 4: the parameters beside −∇C, with the largest nudges listed (beside the grids, or under
    them when the tab is narrow)."""

    wide_at = 900

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.grid = ParamGrid(view, on_click=view.select_parameter)
        self.head = _wrapped()
        self.top = QtWidgets.QLabel()  # a table: its columns as wide as their numbers
        self.top.setTextFormat(Qt.TextFormat.RichText)
        self.top.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.head)
        self.flow = row = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
        row.addWidget(self.grid, 1)
        row.addWidget(self.top)
        lay.addLayout(row, 1)
        self.pn = None

    def refresh(self):
        v = self.view
        if v.network is None or v.batch is None:
            return
        X, y, _ = v.batch
        net = v.network
        pn = parameter_nudges(net, X, y, top=10)
        self.pn = pn
        self.grid.set_data(pn, net.sizes, v.selected_parameter)
        self.head.setText(
            f"All <b>{net.n_params:,}</b> weights and biases θ, each layer as a grid (one row per neuron, one column "
            "per "
            "incoming weight, the bias last), beside the <b>negative gradient</b> −∇C of this mini-batch's mean cost: "
            "the nudge each one wants.  Blue +, red −.  "
            f"<span style='color:{theme.ACCENT}'>Boxes</span>: the 10 largest nudges, the most bang for the buck. "
            "Hover for numbers, click to select.")
        rows = []
        for k, (ref, i) in enumerate(zip(pn.refs(net.sizes), pn.top)):
            rows.append(f"<tr><td align='right'>{k + 1}.</td><td><b>{ref.label()}</b></td>"
                        f"<td align='right'>{_num(pn.neg_grad[i], 3, plus=True)}</td>"
                        f"<td style='color:{theme.MUTED}'>θ = {fmt(pn.params[i], 3)}</td></tr>")
        self.top.setText(
            f"<b style='color:{theme.ACCENT}'>Most bang for the buck</b>"
            "<table cellspacing='0' cellpadding='3'>"
            f"<tr style='color:{theme.MUTED}'><td></td><td>parameter</td><td align='right'>−∂C/∂θ</td><td>now</td></tr>"
            + "".join(rows) + "</table>"
            + f"<span style='color:{theme.MUTED}'>these {len(pn.top)} of {len(pn.params):,} parameters<br>"
            f"carry {100 * pn.top_share:.1f} % of |∇C|²</span>")
