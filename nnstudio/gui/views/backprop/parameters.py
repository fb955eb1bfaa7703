"""Tab “Parameters vs −gradient”: all weights and biases beside the negative gradient, layer by layer,
with the largest nudges (the “most bang for the buck”) marked."""

from __future__ import annotations

import numpy as np

from nnstudio.components.explain import ParamRef, fmt, layer_grid, layer_name, parameter_nudges
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import point_font, signed_qimage
from nnstudio.gui.views.backprop._common import _Canvas, _num, _Panel, _wrapped


class ParamGrid(_Canvas):
    """Every weight and bias, per layer, beside the negative gradient; the largest nudges marked."""

    parameterClicked = Signal(object)
    click_signal = "parameterClicked"

    def __init__(self, view, parent=None, on_click=None):
        super().__init__(view, parent, on_click)
        self.pn = self.sizes = self.selected = None  # the ParameterNudges, layer sizes and selection shown
        self.setMinimumSize(360, 240)

    def set_data(self, pn, sizes, selected):
        self.pn, self.sizes, self.selected = pn, sizes, selected
        self._images = None
        self.update()

    def _layout(self):
        """[(layer, kind, QRectF)] where kind is 'theta' or 'grad'; one band per layer, θ above −∇C."""
        L = len(self.sizes) - 1
        W, H = self.width(), self.height()
        left = 118.0
        out = []
        # the first layer gets a wide band; the small layers share a row
        big = [l for l in range(L) if self.sizes[l] + 1 > 60]
        small = [l for l in range(L) if l not in big]
        title_h = 18.0
        rows = len(big) + (1 if small else 0)
        band = (H - 6) / max(1, rows)
        y = 4.0
        for l in big:
            h = (band - title_h * 2 - 6) / 2
            h = min(h, self.sizes[l + 1] * 9.0)
            out.append((l, "theta", QtCore.QRectF(left, y + title_h, W - left - 8, h)))
            out.append((l, "grad", QtCore.QRectF(left, y + title_h * 2 + h, W - left - 8, h)))
            y += band
        if small:
            x, avail = 10.0, W - 18
            per = avail / (2 * len(small))
            for l in small:
                n_out, n_in = self.sizes[l + 1], self.sizes[l] + 1
                cell = min((H - y - title_h - 8) / n_out, (per - 14) / n_in, 18.0)
                for kind in ("theta", "grad"):
                    out.append((l, kind, QtCore.QRectF(x, y + title_h, cell * n_in, cell * n_out)))
                    x += per
        return out

    def paintEvent(self, ev):
        p = self._begin()
        if self.pn is None:
            p.end()
            return
        pn, sizes = self.pn, self.sizes
        lay = self._layout()
        p.setFont(point_font(8.5))
        labelled_rows = set()
        for l, kind, rect in lay:
            vals = layer_grid(sizes, pn.params if kind == "theta" else pn.neg_grad, l)
            scale = float(np.abs(vals).max()) or 1.0
            p.drawImage(rect, signed_qimage(vals, scale))
            p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            n_out, n_in = vals.shape
            if rect.width() > 400:
                title = (f"{'parameters θ' if kind == 'theta' else '−∇C, the desired nudges'} · layer {l + 1}: "
                         f"{n_out} neurons × ({n_in - 1} weights + bias) · colour scale ±{fmt(scale, 3)}")
            else:
                title = f"{'θ' if kind == 'theta' else '−∇C'} · layer {l + 1} · ±{fmt(scale, 3)}"
            p.setPen(QtGui.QColor(theme.TEXT if kind == "grad" else theme.MUTED))
            p.drawText(QtCore.QRectF(rect.left(), rect.top() - 17, max(rect.width(), 200), 16),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)
            if rect.width() > 400 and (l, kind) not in labelled_rows:
                labelled_rows.add((l, kind))
                p.setPen(QtGui.QColor(theme.MUTED))
                p.drawText(QtCore.QRectF(4, rect.top(), 110, rect.height()),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap,
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
                    p.setFont(point_font(7.5, bold=True))
                    p.drawText(QtCore.QRectF(cx - 10, cy - s / 2 - 13, 20, 12), Qt.AlignmentFlag.AlignHCenter,
                               str(rank + 1))
                    p.setFont(point_font(8.5))
            sel = self.selected
            if sel is not None and sel.layer == l:
                c = n_in - 1 if sel.is_bias else sel.col
                cx, cy = rect.left() + (c + 0.5) * cw, rect.top() + (sel.row + 0.5) * chh
                s = max(9.0, min(cw, chh) + 6)
                p.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255), 2))
                p.drawEllipse(QtCore.QPointF(cx, cy), s / 2, s / 2)
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
    """Tab 4: the parameters beside −∇C, with the largest nudges listed."""

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.grid = ParamGrid(view, on_click=view.select_parameter)
        self.head = _wrapped()
        self.top = QtWidgets.QLabel()
        self.top.setTextFormat(Qt.TextFormat.RichText)
        self.top.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.top.setMinimumWidth(200)
        self.top.setWordWrap(True)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.head)
        row = QtWidgets.QHBoxLayout()
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
            rows.append(f"{k + 1}. <b>{ref.label()}</b> {_num(pn.neg_grad[i], 3, plus=True)}"
                        f" <span style='color:{theme.MUTED}'>(θ = {fmt(pn.params[i], 3)})</span>")
        self.top.setText(
            f"<b style='color:{theme.ACCENT}'>Most bang for the buck</b><br>"
            + "<br>".join(rows)
            + f"<br><br><span style='color:{theme.MUTED}'>these {len(pn.top)} of {len(pn.params):,} carry "
            f"{100 * pn.top_share:.1f} % of |∇C|²</span>")
