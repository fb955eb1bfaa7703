"""Tab “One example · one neuron”: the output against the desired output, the cost term by term, and
the three ways to raise the desired digit's output neuron (its bias, its weights in proportion to the
previous activations, the previous activations in proportion to the weights)."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import cost_formulas, fmt, layer_name, three_ways
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import arrow, gray, point_font, signed_color
from nnstudio.gui.views.backprop._common import (
    BLUE, MAX_DRAWN, RED, _Canvas, _num, _Panel, _wrapped, text_metrics,
)


class OutputCostWidget(_Canvas):
    """Output activations against the desired ones, the cost term by term and each output's desired nudge.

    Its columns are as wide as the text they hold and its rows as tall as a line: smaller than that it
    asks its scroll area to scroll rather than letting the numbers run into each other.  Click a row to
    explain that output neuron in the three-ways panel.
    """

    neuronClicked = Signal(int)
    click_signal = "neuronClicked"
    SAMPLE = "−8.88×10⁻¹⁰"  # the widest number a column shows (three significant digits)
    GAP = 10  # between two columns of numbers

    def __init__(self, view, parent=None, on_click=None):
        super().__init__(view, parent, on_click)
        self.cost = None
        self.names: list[str] = []
        self.focus = None
        self.formulas = cost_formulas("quadratic")

    def set_data(self, cost, names, focus, formulas):
        relayout = (list(names), formulas) != (self.names, self.formulas)
        self.cost, self.names, self.focus, self.formulas = cost, list(names), focus, formulas
        if relayout:
            self.updateGeometry()
        self.update()

    # geometry -------------------------------------------------------------------
    def _heads(self) -> tuple[str, str, str, str]:
        f = self.formulas
        return ("activation a\n│ = desired y", "a", "term" if f["term"] != "(a − y)²" else "(a − y)²",
                f"desired nudge\n−∂C/∂a = {f['desired']}")

    def _footer(self, cost: str) -> str:
        return f"cost of this example  C = {self.formulas['sum']} = {cost}"

    def _fixed(self):
        """The widths that do not stretch, and the least the two bars need: (name, a, term, value,
        bar_min, nudge_min, footer), in pixels."""
        fm, fb = text_metrics(9), text_metrics(10, bold=True)
        wide = lambda t: max(fm.horizontalAdvance(line) for line in t.split("\n"))  # noqa: E731
        heads = self._heads()
        name_w = max([fb.horizontalAdvance(n[:6]) for n in self.names] + [fb.horizontalAdvance("0")]) + 4
        a_w = max(fm.horizontalAdvance(self.SAMPLE), wide(heads[1])) + self.GAP
        t_w = max(fm.horizontalAdvance(self.SAMPLE), wide(heads[2])) + self.GAP
        v_w = fm.horizontalAdvance("+" + self.SAMPLE) + 4
        bar_min = max(60.0, wide(heads[0]) + 4)
        nudge_min = max(50.0, wide(heads[3]) + 4 - v_w - 6)
        footer = text_metrics(10.5, bold=True).horizontalAdvance(self._footer("8.888×10⁻¹⁰")) + 16
        return name_w, a_w, t_w, v_w, bar_min, nudge_min, footer

    def _columns(self):
        """x of the name, bar, a, term, nudge bar and value columns, and the two bars' widths."""
        name_w, a_w, t_w, v_w, bar_min, nudge_min, _ = self._fixed()
        x_bar = 4 + name_w + 6
        spare = max(0.0, self.width() - (x_bar + bar_min + 10 + a_w + t_w + nudge_min + 6 + v_w + 4))
        bar_w, nudge_w = bar_min + 0.35 * spare, nudge_min + 0.65 * spare
        x_a = x_bar + bar_w + 10
        x_term = x_a + a_w
        x_nudge = x_term + t_w
        return x_bar, bar_w, x_a, x_term, x_nudge, nudge_w, x_nudge + nudge_w + 6, name_w, v_w

    def _bands(self):
        """(height of the headings, of a row at least, of the footer)."""
        line = text_metrics(9).height()
        return 2 * line + 6, line + 4, text_metrics(10.5, bold=True).height() + 12

    def minimumSizeHint(self):
        name_w, a_w, t_w, v_w, bar_min, nudge_min, footer = self._fixed()
        head, row, foot = self._bands()
        w = max(4 + name_w + 6 + bar_min + 10 + a_w + t_w + nudge_min + 6 + v_w + 4, footer)
        n = len(self.cost.activations) if self.cost is not None else max(10, len(self.names))
        return QtCore.QSize(math.ceil(w), math.ceil(head + n * row + foot))

    def sizeHint(self):
        return self.minimumSizeHint() + QtCore.QSize(60, 40)

    def _rows(self):
        n = len(self.cost.activations)
        head, row, foot = self._bands()
        h = max(row, (self.height() - head - foot) / n)
        return [(head + i * h, h) for i in range(n)]

    # painting -------------------------------------------------------------------
    def paintEvent(self, ev):
        p = self._begin()
        if self.cost is None:
            p.end()
            return
        c = self.cost
        W = self.width()
        x_bar, bar_w, x_a, x_term, x_nudge, nudge_w, x_val, name_w, v_w = self._columns()
        head_h = self._bands()[0]
        A = Qt.AlignmentFlag
        heads = self._heads()
        p.setFont(point_font(9))
        p.setPen(QtGui.QColor(theme.MUTED))
        self._text(p, QtCore.QRectF(x_bar, 0, bar_w + 10, head_h - 2), A.AlignLeft | A.AlignBottom, heads[0])
        self._text(p, QtCore.QRectF(x_a, 0, x_term - x_a, head_h - 2), A.AlignLeft | A.AlignBottom, heads[1])
        self._text(p, QtCore.QRectF(x_term, 0, x_nudge - x_term, head_h - 2), A.AlignLeft | A.AlignBottom, heads[2])
        self._text(p, QtCore.QRectF(x_nudge, 0, x_val + v_w - x_nudge, head_h - 2), A.AlignHCenter | A.AlignBottom,
                   heads[3])
        rows = self._rows()
        for i, (y, h) in enumerate(rows):
            a, t, d = c.activations[i], c.terms[i], c.desired[i]
            mid = y + h / 2
            is_label = i == c.label
            if i == self.focus:
                p.fillRect(QtCore.QRectF(2, y + 1, W - 4, h - 2), QtGui.QColor(255, 255, 255, 18))
            p.setPen(QtGui.QColor(theme.ACCENT if is_label else theme.TEXT))
            p.setFont(point_font(10, bold=is_label))
            name = self.names[i] if i < len(self.names) else str(i)
            self._text(p, QtCore.QRectF(4, y, name_w, h), A.AlignRight | A.AlignVCenter, name[:6])
            bh = min(h * 0.6, 16)
            p.fillRect(QtCore.QRectF(x_bar, mid - bh / 2, bar_w, bh), QtGui.QColor(40, 46, 54))
            p.fillRect(QtCore.QRectF(x_bar, mid - bh / 2, bar_w * a, bh), gray(0.35 + 0.65 * a))
            yx = x_bar + bar_w * c.targets[i]
            p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5))
            p.drawLine(QtCore.QPointF(yx, mid - bh / 2 - 3), QtCore.QPointF(yx, mid + bh / 2 + 3))
            p.setFont(point_font(9))
            p.setPen(QtGui.QColor(theme.TEXT))
            self._text(p, QtCore.QRectF(x_a, y, x_term - x_a, h), A.AlignLeft | A.AlignVCenter, fmt(a, 3))
            self._text(p, QtCore.QRectF(x_term, y, x_nudge - x_term, h), A.AlignLeft | A.AlignVCenter, fmt(t, 3))
            cx = x_nudge + nudge_w / 2
            p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
            p.drawLine(QtCore.QPointF(cx, y + 2), QtCore.QPointF(cx, y + h - 2))
            length = nudge_w / 2 * min(1.0, abs(d) / 2.0)
            col = signed_color(d, 1.0, 255)
            r = QtCore.QRectF(cx, mid - bh / 2, length, bh) if d >= 0 else QtCore.QRectF(cx - length, mid - bh / 2,
                                                                                         length, bh)
            p.fillRect(r, col)
            p.setPen(col)
            self._text(p, QtCore.QRectF(x_val, y, v_w, h), A.AlignLeft | A.AlignVCenter, fmt(d, 3, plus=True))
        y_sum = rows[-1][0] + rows[-1][1] + 4
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
        p.drawLine(QtCore.QPointF(x_term - 4, y_sum), QtCore.QPointF(x_nudge - self.GAP, y_sum))
        p.setFont(point_font(10.5, bold=True))
        p.setPen(QtGui.QColor(theme.ACCENT))
        self._text(p, QtCore.QRectF(8, y_sum + 2, W - 16, self.height() - y_sum - 4), A.AlignLeft | A.AlignVCenter,
                   self._footer(fmt(c.cost)))
        p.end()

    def row_at(self, pos) -> int | None:
        if self.cost is None:
            return None
        for i, (y, h) in enumerate(self._rows()):
            if y <= pos.y() < y + h:
                return i
        return None

    item_at = row_at

    def describe(self, i):
        c = self.cost
        return (f"output {self.names[i] if i < len(self.names) else i}: a = {fmt(c.activations[i])}, "
                f"desired y = {fmt(c.targets[i])}\n(a − y)² = {fmt(c.terms[i])}\n"
                f"∂C/∂a = {self.formulas['dC_da']} = {fmt(c.dC_da[i])}; desired nudge −∂C/∂a = "
                f"{fmt(c.desired[i], plus=True)}\n"
                "click: explain this neuron's three ways")


class WayDiagram(_Canvas):
    """One of the three ways, drawn: the previous layer on the left, the neuron on the right."""

    def __init__(self, view, mode: str, parent=None):
        super().__init__(view, parent)
        self.mode = mode  # "bias" | "weights" | "prev"
        self.tw = None
        self.setMinimumSize(120, 160)

    def set_data(self, tw):
        self.tw = tw
        self.update()

    def _shown(self):
        tw = self.tw
        n = len(tw.weights)
        if n <= MAX_DRAWN // 2 + 4:
            return list(range(n))
        key = np.abs(tw.want_weights if self.mode == "weights" else tw.want_prev)
        return sorted(np.argsort(-key, kind="stable")[:16].tolist())

    def _geometry(self):
        shown = self._shown()
        h = self.height()
        sp = min(26.0, (h - 30) / max(1, len(shown)))
        r = max(3.0, min(9.0, sp * 0.36))
        y0 = (h - sp * len(shown)) / 2 + sp / 2
        xl, xr = 34.0, self.width() - 40.0
        pts = {k: QtCore.QPointF(xl, y0 + i * sp) for i, k in enumerate(shown)}
        return pts, r, QtCore.QPointF(xr, h / 2)

    def paintEvent(self, ev):
        p = self._begin()
        tw = self.tw
        if tw is None:
            p.end()
            return
        pts, r, out = self._geometry()
        R = 14.0
        if self.mode == "bias":
            for q in pts.values():
                p.setPen(QtGui.QPen(QtGui.QColor(70, 76, 84), 1))
                p.drawLine(q, out)
        else:
            vals = tw.want_weights if self.mode == "weights" else tw.weights
            scale = float(np.abs(vals).max()) or 1.0
            for k, q in pts.items():
                v = vals[k]
                width = 0.6 + 4.0 * abs(v) / scale
                p.setPen(QtGui.QPen(signed_color(v, scale, 25), width))
                p.drawLine(q, out)
        want_prev_scale = float(np.abs(tw.want_prev).max()) or 1.0
        for k, q in pts.items():
            p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
            p.setBrush(gray(tw.prev_activations[k]))
            p.drawEllipse(q, r, r)
            if self.mode == "prev":
                v = tw.want_prev[k]
                arrow(p, q.x() - r - 7, q.y(), math.copysign(max(2.5, r * 1.2 * abs(v) / want_prev_scale), v),
                      signed_color(v, want_prev_scale, 120), 2.0)
        p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 2))
        p.setBrush(gray(tw.a))
        p.drawEllipse(out, R, R)
        arrow(p, out.x() + R + 9, out.y() + 12, 26.0 if tw.desired >= 0 else -26.0, signed_color(tw.desired, 1, 255), 3)
        if self.mode == "bias":
            p.setFont(point_font(9))
            p.setPen(QtGui.QColor(theme.TEXT))
            self._text(p, QtCore.QRectF(out.x() - 40, out.y() + R + 4, 80, 18), Qt.AlignmentFlag.AlignHCenter,
                       f"b = {fmt(tw.bias, 3)}")
            arrow(p, out.x(), out.y() - R - 3, 30.0 * (1 if tw.want_bias >= 0 else -1),
                  signed_color(tw.want_bias, 1, 255), 3)
        p.end()

    def tooltip_at(self, pos):
        if self.tw is None:
            return ""
        tw = self.tw
        pts, r, out = self._geometry()
        for k, q in pts.items():
            if math.hypot(pos.x() - q.x(), pos.y() - q.y()) <= r + 4:
                return (f"previous neuron {k}: a = {fmt(tw.prev_activations[k])}, weight w = {fmt(tw.weights[k])}\n"
                        f"∂a/∂w = σ′(z)·a_prev = {fmt(tw.da_dw[k])}  → desired Δw = "
                        f"{fmt(tw.want_weights[k], plus=True)}\n"
                        f"∂a/∂a_prev = σ′(z)·w = {fmt(tw.da_dprev[k])}  → desired Δa_prev = "
                        f"{fmt(tw.want_prev[k], plus=True)}")
        if math.hypot(pos.x() - out.x(), pos.y() - out.y()) <= 16:
            return (f"this neuron: a = {fmt(tw.a)}, z = {fmt(tw.z)}, σ′(z) = {fmt(tw.fprime)}\n"
                    f"desired nudge −∂C/∂a = {fmt(tw.desired, plus=True)}")
        return ""


class OneNeuronPanel(_Panel):
    """Tab 1: the outputs and the cost beside the three ways to move one output neuron (above them when
    the tab is narrow)."""

    wide_at = 900

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.outputs = OutputCostWidget(view, on_click=view.set_focus_neuron)
        self.title = _wrapped()
        self.ways = {}
        self.way_text = {}
        ways = QtWidgets.QGridLayout()  # (a row of headings, a row of diagrams, a row of texts: aligned)
        ways.setHorizontalSpacing(8)
        heads = {
            "bias": "① Change the bias b",
            "weights": "② Change the weights, in proportion to the previous activations",
            "prev": "③ Change the previous activations, in proportion to the weights",
        }
        for k, mode in enumerate(("bias", "weights", "prev")):
            head = _wrapped(f"<b>{heads[mode]}</b>")
            head.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            d = WayDiagram(view, mode)
            t = _wrapped()
            t.setTextFormat(Qt.TextFormat.RichText)
            t.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            ways.addWidget(head, 0, k)
            ways.addWidget(d, 1, k)
            ways.addWidget(t, 2, k)
            ways.setColumnStretch(k, 1)
            self.ways[mode], self.way_text[mode] = d, t
        ways.setRowStretch(1, 1)
        self.note = _wrapped()
        self.note.setStyleSheet(f"color: {theme.MUTED};")
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.title)
        right.addLayout(ways, 1)
        right.addWidget(self.note)
        left = QtWidgets.QVBoxLayout()
        cap = _wrapped("<b>Output against the desired output, and the cost term by term</b>")
        left.addWidget(cap)
        left.addWidget(self.outputs, 1)
        self.flow = lay = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight, self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(left, 5)
        lay.addLayout(right, 7)
        self.tw = None

    def refresh(self):
        v = self.view
        c = v.example_cost
        if c is None:
            return
        self.outputs.set_data(c, v.class_names(), v.focus_neuron, cost_formulas(v.network.cost))
        net, (x, label) = v.network, v.current_example
        j = v.focus_neuron
        tw = three_ways(net, x, label, neuron=j)
        self.tw = tw
        name = v.class_names()[j]
        want = "raise" if tw.desired >= 0 else "lower"
        self.title.setText(
            f"<span style='font-size:11pt'><b>How can output neuron <span style='color:{theme.ACCENT}'>{name}</span>"
            f" move?</b></span>  a = σ(w·a<sub style='{theme.SCRIPT}'>prev</sub> + b) = {fmt(tw.a)},  σ′(z) = a(1 − a) = {fmt(tw.fprime)}. "
            f"This example wants to <b>{want}</b> it: desired nudge −∂C/∂a = {_num(tw.desired, plus=True)}."
            + ("" if j == label else f" <span style='color:{theme.MUTED}'>(click the desired digit's row to see the "
                                     "neuron this example most wants to raise)</span>"))
        for d in self.ways.values():
            d.set_data(tw)
        k = int(np.argmax(np.abs(tw.da_dw)))
        m = int(np.argmax(np.abs(tw.da_dprev)))
        self.way_text["bias"].setText(
            f"∂a/∂b = σ′(z) = <b>{fmt(tw.da_db)}</b><br>"
            f"desired Δb = (−∂C/∂a)·∂a/∂b = {_num(tw.want_bias, plus=True)}<br>"
            f"<span style='color:{theme.MUTED}'>magnitude |∂a/∂b| = {fmt(tw.mag_bias)}</span>")
        self.way_text["weights"].setText(
            f"∂a/∂w<sub style='{theme.SCRIPT}'>k</sub> = σ′(z)·a<sub style='{theme.SCRIPT}'>k</sub>: the brightest connections matter most.<br>"
            f"biggest: w from neuron {k} (a = {fmt(tw.prev_activations[k], 3)}), desired Δw = "
            f"{_num(tw.want_weights[k], plus=True)}<br>"
            f"<span style='color:{theme.MUTED}'>magnitude ‖∂a/∂w‖ = σ′(z)·‖a<sub style='{theme.SCRIPT}'>prev</sub>‖ = "
            f"{fmt(tw.mag_weights)}</span>")
        self.way_text["prev"].setText(
            f"∂a/∂a<sub style='{theme.SCRIPT}'>k</sub> = σ′(z)·w<sub style='{theme.SCRIPT}'>k</sub>: "
            f"<span style='color:{BLUE}'>positive-weight neurons brighter</span>,"
            f" <span style='color:{RED}'>negative dimmer</span>.<br>"
            f"biggest: neuron {m} (w = {fmt(tw.weights[m], 3)}), desired Δa = {_num(tw.want_prev[m], plus=True)}<br>"
            f"<span style='color:{theme.MUTED}'>magnitude ‖∂a/∂a<sub style='{theme.SCRIPT}'>prev</sub>‖ = σ′(z)·‖w‖ = "
            f"{fmt(tw.mag_prev)}</span>")
        prev = layer_name(net.sizes, len(net.sizes) - 2)
        self.note.setText(
            f"Way ③ cannot be done directly: the {prev} activations are not parameters. They change only through "
            "<i>their</i> weights and biases, so this wish becomes one term of each previous neuron's desired nudge, "
            "added up over all output neurons (tab “One example · all neurons”). "
            "Magnitudes are how much a rises per unit step taken the best way along each.")
