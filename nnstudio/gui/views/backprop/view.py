"""The Backprop explorer: backpropagation made visible with real numbers from the real network.

Five tabs follow the videos' two chapters on backpropagation:

- **One example · one neuron**: the output against the desired output, the cost term by
  term, and the three ways to raise the desired digit's output neuron;
- **One example · all neurons**: every neuron's desired nudge (−∂C/∂a), propagated
  backwards layer by layer on a compact diagram (hover for numbers);
- **All examples**: the mini-batch's images with their costs, and each example's desired
  change to the selected weight or bias beside their average (the actual gradient step);
- **Parameters vs −gradient**: all weights and biases beside the negative gradient, per
  layer, with the largest nudges ("most bang for the buck") marked;
- **Chain rule**: ∂C/∂w = a_prev · σ′(z) · ∂C/∂a with live values, the sum over paths for
  earlier layers, and the numerical derivative beside it.

A **Step** button applies one SGD step on the mini-batch to the explorer's *own copy* of
the network (the snapshot's copy), shows the costs before and after, and emits
:attr:`BackpropView.stepApplied` with the stepped network so the window may adopt it.

All maths lives in :mod:`nnstudio.components.explain`; this module only draws.
"""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import (
    ParamRef, batch_nudges, chain_rule, cost_formulas, default_batch_indices, example_cost, explained, fmt,
    layer_grid, layer_name, nudges, parameter_nudges, sgd_step, three_ways,
)
from nnstudio.gui.style import theme
from nnstudio.gui.style.palette import apply_dark_palette
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.session.model import InputExample

BLUE = "#%02x%02x%02x" % theme.POSITIVE
RED = "#%02x%02x%02x" % theme.NEGATIVE
MAX_DRAWN = 32  # neurons drawn per column at most (the rest are summarised)
DEFAULT_ETA = 1.5
#: snapshots arriving faster than this (training at full speed) are coalesced: the explorer's diagram
#: costs 25–45 ms to paint at 1600×1000 (benchmarks/bench_backprop_view.py), so it follows training at
#: ≤ 10 Hz and leaves the GUI thread to the other views; paused or stepping, every snapshot is shown
MIN_REFRESH_MS = 100
CONVENTION = (
    "Cost of one example C = {sum}  ·  a neuron's desired nudge = −∂C/∂a  ·  "
    f"<span style='color:{BLUE}'>blue = positive / up</span>, <span style='color:{RED}'>red = negative / down</span>"
)
COST_CHOICES = (("quadratic", "Σ(a − y)², the videos'"), ("cross-entropy", "cross-entropy"))

TABS = ("one neuron", "all neurons", "all examples", "parameters", "chain rule")


# ---------------------------------------------------------------------------- drawing helpers
def _signed(v: float, scale: float, min_alpha: int = 30) -> QtGui.QColor:
    rgb = theme.POSITIVE if v >= 0 else theme.NEGATIVE
    s = 0.0 if not scale else min(1.0, abs(v) / scale)
    return QtGui.QColor(*rgb, int(min_alpha + (255 - min_alpha) * s))


def _num(v: float, sig: int = 4, plus: bool = False) -> str:
    """A signed number in rich text, coloured blue (+) or red (−)."""
    col = BLUE if v > 0 else RED if v < 0 else theme.TEXT
    return f"<span style='color:{col}'>{fmt(v, sig, plus)}</span>"


def _gray(a: float) -> QtGui.QColor:
    g = int(np.clip(a, 0.0, 1.0) * 255)
    return QtGui.QColor(g, g, g)


def _font(size: float, bold: bool = False) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPointSizeF(size)
    f.setBold(bold)
    return f


def _image_of(pixels: np.ndarray) -> QtGui.QImage:
    """A square grey QImage of an input vector (784 → 28×28)."""
    n = int(round(math.sqrt(pixels.size)))
    g = np.ascontiguousarray((np.clip(pixels[: n * n], 0, 1) * 255).astype(np.uint8).reshape(n, n))
    img = QtGui.QImage(g.data, n, n, n, QtGui.QImage.Format.Format_Grayscale8)
    return img.copy()


def _signed_image(values: np.ndarray, scale: float) -> QtGui.QImage:
    """A 2-D array as an RGB image on black: blue +, red −, brightness ∝ |v| / scale."""
    rgb = np.ascontiguousarray(theme.weight_image(values, scale))
    h, w = values.shape
    img = QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888)
    return img.copy()


def _arrow(p: QtGui.QPainter, x: float, y: float, length: float, color: QtGui.QColor, width: float = 2.0):
    """A vertical arrow from (x, y): up for positive length, down for negative."""
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


def _visible(n: int) -> list[int]:
    return list(range(min(n, MAX_DRAWN)))


def _seg_dist(p: QtCore.QPointF, a: QtCore.QPointF, b: QtCore.QPointF) -> float:
    ax, ay, bx, by, px, py = a.x(), a.y(), b.x(), b.y(), p.x(), p.y()
    dx, dy = bx - ax, by - ay
    L2 = dx * dx + dy * dy
    t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / L2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


class _Canvas(QtWidgets.QWidget):
    """A painted panel on the dark background, with hover tooltips from :meth:`tooltip_at`."""

    def __init__(self, view: "BackpropView", parent=None):
        super().__init__(parent)
        self.view = view
        self.setMouseTracking(True)
        self.setAutoFillBackground(False)

    def tooltip_at(self, pos: QtCore.QPointF) -> str:
        return ""

    def mouseMoveEvent(self, ev):
        text = self.tooltip_at(ev.position())
        if text:
            QtWidgets.QToolTip.showText(ev.globalPosition().toPoint(), text, self)
        else:
            QtWidgets.QToolTip.hideText()
        super().mouseMoveEvent(ev)

    def leaveEvent(self, ev):
        QtWidgets.QToolTip.hideText()
        super().leaveEvent(ev)

    def _begin(self) -> QtGui.QPainter:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QtGui.QColor(theme.BACKGROUND))
        return p


# ---------------------------------------------------------------------------- tab 1: one example, one neuron
class OutputCostWidget(_Canvas):
    """Output activations against the desired ones, the cost term by term and each output's desired nudge.

    Click a row to explain that output neuron in the three-ways panel.
    """

    neuronClicked = Signal(int)

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.cost = None
        self.names: list[str] = []
        self.focus = None
        self.setMinimumSize(300, 240)

    def set_data(self, cost, names, focus, formulas):
        self.cost, self.names, self.focus, self.formulas = cost, names, focus, formulas
        self.update()

    def _rows(self):
        n = len(self.cost.activations)
        top, bottom = 34, 40
        h = max(14.0, (self.height() - top - bottom) / n)
        return [(top + i * h, h) for i in range(n)]

    def paintEvent(self, ev):
        p = self._begin()
        if self.cost is None:
            p.end()
            return
        c = self.cost
        W = self.width()
        x_bar, bar_w = 50.0, max(60.0, W * 0.2)
        x_a = x_bar + bar_w + 10
        x_term = x_a + 72
        x_nudge = x_term + 84
        nudge_w = max(50.0, W - x_nudge - 86)
        p.setFont(_font(8.5))
        p.setPen(QtGui.QColor(theme.MUTED))
        hdr = 6
        p.drawText(QtCore.QRectF(x_bar, hdr - 8, bar_w + 8, 32),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                   "activation a\n│ = desired y")
        p.drawText(QtCore.QRectF(x_a, hdr, 60, 24), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, "a")
        p.drawText(QtCore.QRectF(x_term, hdr - 8, 90, 32),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap,
                   "term" if self.formulas["term"] != "(a − y)²" else "(a − y)²")
        p.drawText(QtCore.QRectF(x_nudge, hdr - 8, nudge_w + 70, 32),
                   Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                   f"desired nudge\n−∂C/∂a = {self.formulas['desired']}")
        for i, (y, h) in enumerate(self._rows()):
            a, t, d = c.activations[i], c.terms[i], c.desired[i]
            mid = y + h / 2
            is_label = i == c.label
            if i == self.focus:
                p.fillRect(QtCore.QRectF(2, y + 1, W - 4, h - 2), QtGui.QColor(255, 255, 255, 18))
            p.setPen(QtGui.QColor(theme.ACCENT if is_label else theme.TEXT))
            p.setFont(_font(10, bold=is_label))
            name = self.names[i] if i < len(self.names) else str(i)
            p.drawText(QtCore.QRectF(4, y, 42, h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       name[:6])
            bh = min(h * 0.6, 16)
            p.fillRect(QtCore.QRectF(x_bar, mid - bh / 2, bar_w, bh), QtGui.QColor(40, 46, 54))
            p.fillRect(QtCore.QRectF(x_bar, mid - bh / 2, bar_w * a, bh), _gray(0.35 + 0.65 * a))
            yx = x_bar + bar_w * c.targets[i]
            p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5))
            p.drawLine(QtCore.QPointF(yx, mid - bh / 2 - 3), QtCore.QPointF(yx, mid + bh / 2 + 3))
            p.setFont(_font(9))
            p.setPen(QtGui.QColor(theme.TEXT))
            p.drawText(QtCore.QRectF(x_a, y, 72, h), Qt.AlignmentFlag.AlignVCenter, fmt(a, 3))
            p.drawText(QtCore.QRectF(x_term, y, 84, h), Qt.AlignmentFlag.AlignVCenter, fmt(t, 3))
            cx = x_nudge + nudge_w / 2
            p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
            p.drawLine(QtCore.QPointF(cx, y + 2), QtCore.QPointF(cx, y + h - 2))
            length = nudge_w / 2 * min(1.0, abs(d) / 2.0)
            col = _signed(d, 1.0, 255)
            r = QtCore.QRectF(cx, mid - bh / 2, length, bh) if d >= 0 else QtCore.QRectF(cx - length, mid - bh / 2,
                                                                                         length, bh)
            p.fillRect(r, col)
            p.setPen(col)
            p.drawText(QtCore.QRectF(x_nudge + nudge_w + 6, y, 84, h), Qt.AlignmentFlag.AlignVCenter,
                       fmt(d, 3, plus=True))
        y_sum = self._rows()[-1][0] + self._rows()[-1][1] + 4
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
        p.drawLine(QtCore.QPointF(x_term - 4, y_sum), QtCore.QPointF(x_term + 80, y_sum))
        p.setFont(_font(10.5, bold=True))
        p.setPen(QtGui.QColor(theme.ACCENT))
        p.drawText(QtCore.QRectF(8, y_sum + 2, W - 16, 28), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   f"cost of this example  C = {self.formulas['sum']} = {fmt(c.cost)}")
        p.end()

    def row_at(self, pos) -> int | None:
        if self.cost is None:
            return None
        for i, (y, h) in enumerate(self._rows()):
            if y <= pos.y() < y + h:
                return i
        return None

    def tooltip_at(self, pos):
        i = self.row_at(pos)
        if i is None:
            return ""
        c = self.cost
        return (f"output {self.names[i] if i < len(self.names) else i}: a = {fmt(c.activations[i])}, "
                f"desired y = {fmt(c.targets[i])}\n(a − y)² = {fmt(c.terms[i])}\n"
                f"∂C/∂a = {self.formulas['dC_da']} = {fmt(c.dC_da[i])}; desired nudge −∂C/∂a = "
                f"{fmt(c.desired[i], plus=True)}\n"
                "click: explain this neuron's three ways")

    def mousePressEvent(self, ev):
        i = self.row_at(ev.position())
        if i is not None and ev.button() == Qt.MouseButton.LeftButton:
            self.neuronClicked.emit(i)
        super().mousePressEvent(ev)


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
                p.setPen(QtGui.QPen(_signed(v, scale, 25), width))
                p.drawLine(q, out)
        want_prev_scale = float(np.abs(tw.want_prev).max()) or 1.0
        for k, q in pts.items():
            p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
            p.setBrush(_gray(tw.prev_activations[k]))
            p.drawEllipse(q, r, r)
            if self.mode == "prev":
                v = tw.want_prev[k]
                _arrow(p, q.x() - r - 7, q.y(), math.copysign(max(2.5, r * 1.2 * abs(v) / want_prev_scale), v),
                       _signed(v, want_prev_scale, 120), 2.0)
        p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 2))
        p.setBrush(_gray(tw.a))
        p.drawEllipse(out, R, R)
        _arrow(p, out.x() + R + 9, out.y() + 12, 26.0 if tw.desired >= 0 else -26.0, _signed(tw.desired, 1, 255), 3)
        if self.mode == "bias":
            p.setFont(_font(9))
            p.setPen(QtGui.QColor(theme.TEXT))
            p.drawText(QtCore.QRectF(out.x() - 40, out.y() + R + 4, 80, 18), Qt.AlignmentFlag.AlignHCenter,
                       f"b = {fmt(tw.bias, 3)}")
            _arrow(p, out.x(), out.y() - R - 3, 30.0 * (1 if tw.want_bias >= 0 else -1), _signed(tw.want_bias, 1, 255),
                   3)
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


class OneNeuronPanel(QtWidgets.QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.outputs = OutputCostWidget(view)
        self.outputs.neuronClicked.connect(view.set_focus_neuron)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        self.ways = {}
        self.way_text = {}
        ways = QtWidgets.QHBoxLayout()
        ways.setSpacing(8)
        heads = {
            "bias": "① Change the bias b",
            "weights": "② Change the weights, in proportion to the previous activations",
            "prev": "③ Change the previous activations, in proportion to the weights",
        }
        for mode in ("bias", "weights", "prev"):
            col = QtWidgets.QVBoxLayout()
            head = QtWidgets.QLabel(f"<b>{heads[mode]}</b>")
            head.setWordWrap(True)
            d = WayDiagram(view, mode)
            t = QtWidgets.QLabel()
            t.setWordWrap(True)
            t.setTextFormat(Qt.TextFormat.RichText)
            t.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            t.setMinimumHeight(96)
            col.addWidget(head)
            col.addWidget(d, 1)
            col.addWidget(t)
            ways.addLayout(col, 1)
            self.ways[mode], self.way_text[mode] = d, t
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {theme.MUTED};")
        right = QtWidgets.QVBoxLayout()
        right.addWidget(self.title)
        right.addLayout(ways, 1)
        right.addWidget(self.note)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        left = QtWidgets.QVBoxLayout()
        cap = QtWidgets.QLabel("<b>Output against the desired output, and the cost term by term</b>")
        cap.setWordWrap(True)
        left.addWidget(cap)
        left.addWidget(self.outputs, 1)
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
            f" move?</b></span>  a = σ(w·a<sub>prev</sub> + b) = {fmt(tw.a)},  σ′(z) = a(1 − a) = {fmt(tw.fprime)}. "
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
            f"∂a/∂w<sub>k</sub> = σ′(z)·a<sub>k</sub>: the brightest connections matter most.<br>"
            f"biggest: w from neuron {k} (a = {fmt(tw.prev_activations[k], 3)}), desired Δw = "
            f"{_num(tw.want_weights[k], plus=True)}<br>"
            f"<span style='color:{theme.MUTED}'>magnitude ‖∂a/∂w‖ = σ′(z)·‖a<sub>prev</sub>‖ = "
            f"{fmt(tw.mag_weights)}</span>")
        self.way_text["prev"].setText(
            f"∂a/∂a<sub>k</sub> = σ′(z)·w<sub>k</sub>: "
            f"<span style='color:{BLUE}'>positive-weight neurons brighter</span>,"
            f" <span style='color:{RED}'>negative dimmer</span>.<br>"
            f"biggest: neuron {m} (w = {fmt(tw.weights[m], 3)}), desired Δa = {_num(tw.want_prev[m], plus=True)}<br>"
            f"<span style='color:{theme.MUTED}'>magnitude ‖∂a/∂a<sub>prev</sub>‖ = σ′(z)·‖w‖ = "
            f"{fmt(tw.mag_prev)}</span>")
        prev = layer_name(net.sizes, len(net.sizes) - 2)
        self.note.setText(
            f"Way ③ cannot be done directly: the {prev} activations are not parameters. They change only through "
            "<i>their</i> weights and biases, so this wish becomes one term of each previous neuron's desired nudge, "
            "added up over all output neurons (tab “One example · all neurons”). "
            "Magnitudes are how much a rises per unit step taken the best way along each.")


# ---------------------------------------------------------------------------- tab 2: one example, all neurons
class NudgeDiagram(_Canvas):
    """A compact diagram of the network with each neuron's desired nudge, propagated backwards.

    Neurons are lit by their activation; the arrow beside each is its desired nudge −∂C/∂a
    (blue up, red down; scaled per layer).  The edge from neuron i to neuron j of the next
    layer is coloured by j's wish for i (w · σ′(z_j) · desired_j), whose sum over j is i's
    own desired nudge.  Click a neuron for its bias, an edge for its weight, a pixel of the
    input for the weight from that pixel into the selected first-hidden neuron.
    """

    parameterClicked = Signal(object)  # ParamRef

    def __init__(self, view, parent=None, compact: bool = False):
        super().__init__(view, parent)
        self.nd = None
        self.pixels = None
        self.sizes = None
        self.names: list[str] = []
        self.reveal = 99  # how many neuron layers, counted from the output, show their nudges
        self.selected: ParamRef | None = None
        self.hover: tuple[int, int] | None = None
        self.compact = compact
        self.setMinimumSize(360, 240)

    def set_data(self, nd, pixels, sizes, names, selected):
        self.nd, self.pixels, self.sizes, self.names, self.selected = nd, pixels, sizes, names, selected
        self.update()

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1 if self.sizes else 0

    def revealed(self, layer: int) -> bool:
        return layer > self.n_layers - self.reveal

    # geometry ------------------------------------------------------------------
    def _input_rect(self) -> QtCore.QRectF:
        side = min(110.0, self.height() * 0.36, self.width() * 0.17)
        return QtCore.QRectF(10, (self.height() - side) / 2, side, side)

    def _positions(self):
        """{layer: {neuron: QPointF}} for neuron layers 1..L, and the neuron radius."""
        L = self.n_layers
        x0 = self._input_rect().right() + (50 if not self.compact else 40)
        x1 = self.width() - (118 if not self.compact else 60)
        top, bottom = 30.0, 12.0
        pos, radius = {}, 12.0
        for layer in range(1, L + 1):
            x = x1 if L == 1 else x0 + (x1 - x0) * (layer - 1) / (L - 1)
            idx = _visible(self.sizes[layer])
            sp = (self.height() - top - bottom) / len(idx)
            radius = min(radius, max(3.0, sp * 0.36))
            pos[layer] = {i: QtCore.QPointF(x, top + sp * (k + 0.5)) for k, i in enumerate(idx)}
        return pos, radius

    def neuron_center(self, layer: int, neuron: int) -> QtCore.QPointF:
        return self._positions()[0][layer][neuron]

    def edge_midpoint(self, ref: ParamRef) -> QtCore.QPointF:
        """Where to click to pick weight ``ref`` (for tests and tours)."""
        if ref.is_bias:
            return self.neuron_center(ref.layer + 1, ref.row)
        if ref.layer == 0:
            return self.pixel_center(ref.col)
        pts, r = self._positions()
        a, b = pts[ref.layer][ref.col], pts[ref.layer + 1][ref.row]
        others = [(p, q) for i, p in pts[ref.layer].items() for j, q in pts[ref.layer + 1].items()
                  if (i, j) != (ref.col, ref.row)]
        best, best_gap = None, -1.0
        for t in np.linspace(0.15, 0.85, 29):  # the point of the edge farthest from every other edge
            pt = QtCore.QPointF(a.x() + t * (b.x() - a.x()), a.y() + t * (b.y() - a.y()))
            gap = min((_seg_dist(pt, p, q) for p, q in others), default=99.0)
            if gap > best_gap:
                best, best_gap = pt, gap
        return best

    def pixel_center(self, index: int) -> QtCore.QPointF:
        n = int(round(math.sqrt(self.sizes[0])))
        r = self._input_rect()
        c, rr = index % n, index // n
        return QtCore.QPointF(r.left() + (c + 0.5) * r.width() / n, r.top() + (rr + 0.5) * r.height() / n)

    def _hit(self, pos):
        """('neuron', layer, i) | ('edge', layer, j, i) | ('pixel', index) | None"""
        if self.nd is None:
            return None
        pts, r = self._positions()
        for layer, d in pts.items():
            for i, q in d.items():
                if math.hypot(pos.x() - q.x(), pos.y() - q.y()) <= r + 3:
                    return ("neuron", layer, i)
        ir = self._input_rect()
        if ir.contains(pos) and int(round(math.sqrt(self.sizes[0]))) ** 2 == self.sizes[0]:
            n = int(round(math.sqrt(self.sizes[0])))
            c = min(n - 1, int((pos.x() - ir.left()) / ir.width() * n))
            rr = min(n - 1, int((pos.y() - ir.top()) / ir.height() * n))
            return ("pixel", rr * n + c)
        best, bd = None, 4.0
        for layer in range(1, self.n_layers):
            for i, a in pts[layer].items():
                for j, b in pts[layer + 1].items():
                    d = _seg_dist(pos, a, b)
                    if d < bd:
                        best, bd = ("edge", layer, j, i), d
        return best

    def _first_hidden_target(self) -> int:
        s = self.selected
        if s is not None and s.layer == 0:
            return s.row
        return 0

    # painting ------------------------------------------------------------------
    def paintEvent(self, ev):
        p = self._begin()
        nd = self.nd
        if nd is None:
            p.setPen(QtGui.QColor(theme.MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no network yet")
            p.end()
            return
        L = self.n_layers
        pts, r = self._positions()
        sel = self.selected
        # input image
        ir = self._input_rect()
        if self.pixels is not None and int(round(math.sqrt(self.sizes[0]))) ** 2 == self.sizes[0]:
            p.drawImage(ir, _image_of(self.pixels))
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(ir)
        p.setFont(_font(8.5))
        p.drawText(QtCore.QRectF(ir.left() - 8, ir.bottom() + 4, ir.width() + 16, 50),
                   Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap,
                   f"input ({self.sizes[0]} pixels) cannot be nudged")
        # faint fan from the input to the first hidden layer
        if True:
            p.setPen(QtGui.QPen(QtGui.QColor(255, 255, 255, 14), 1))
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
            for q in pts[1].values():
                p.drawLine(QtCore.QPointF(ir.right(), ir.center().y()), q)
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        hover_layer = self.hover[0] if self.hover else None
        # edges between hidden/output layers, coloured by the wish they carry
        # (faint edges are drawn aliased: antialiased translucent lines cost ~10x more to rasterise)
        strong = []
        AA = QtGui.QPainter.RenderHint.Antialiasing
        p.setRenderHint(AA, False)
        for layer in range(1, L):
            C = nd.contributions[layer - 1]  # (n_next, n)
            scale = float(np.abs(C).max()) or 1.0
            on = self.revealed(layer)
            for i, a in pts[layer].items():
                for j, b in pts[layer + 1].items():
                    v = C[j, i]
                    if not on:  # not reached yet: a plain smooth mesh
                        strong.append((0.0, QtGui.QColor(255, 255, 255, 9), 1.0, a, b))
                        continue
                    s = abs(v) / scale
                    col, w = _signed(v, scale, 14), 0.5 + 2.5 * s
                    if self.hover is not None and not (
                        (hover_layer == layer and self.hover[1] == i)
                        or (hover_layer == layer + 1 and self.hover[1] == j)
                    ):
                        col.setAlpha(min(col.alpha(), 22))
                    elif s >= 0.3:
                        strong.append((s, col, w, a, b))
                        continue
                    p.setPen(QtGui.QPen(col, 1.0))
                    p.drawLine(a, b)
        p.setRenderHint(AA, True)
        for _, col, w, a, b in sorted(strong, key=lambda e: e[0]):
            p.setPen(QtGui.QPen(col, w))
            p.drawLine(a, b)
        # the selected weight
        if sel is not None and not sel.is_bias:
            pen = QtGui.QPen(QtGui.QColor(theme.ACCENT), 3)
            if sel.layer == 0 and sel.row in pts[1]:
                p.setPen(pen)
                q = self.pixel_center(sel.col)
                p.drawLine(q, pts[1][sel.row])
                p.drawRect(QtCore.QRectF(q.x() - 3, q.y() - 3, 6, 6))
            elif sel.layer >= 1 and sel.col in pts[sel.layer] and sel.row in pts[sel.layer + 1]:
                p.setPen(pen)
                p.drawLine(pts[sel.layer][sel.col], pts[sel.layer + 1][sel.row])
        # neurons and their desired nudges
        for layer in range(1, L + 1):
            des = nd.desired[layer - 1]
            scale = float(np.abs(des).max()) or 1.0
            on = self.revealed(layer)
            acts = nd.activations[layer]
            for i, q in pts[layer].items():
                v = des[i]
                ring = QtGui.QColor(theme.MUTED)
                rw = 1.0
                if sel is not None and sel.is_bias and sel.layer == layer - 1 and sel.row == i:
                    ring, rw = QtGui.QColor(theme.ACCENT), 3.0
                elif layer == L and i == nd.label:
                    ring, rw = QtGui.QColor(theme.ACCENT), 1.6
                p.setPen(QtGui.QPen(ring, rw))
                p.setBrush(_gray(acts[i]))
                p.drawEllipse(q, r, r)
                if on:
                    length = math.copysign(max(2.0, min(2.6 * r, 24.0) * abs(v) / scale), v)
                    _arrow(p, q.x() + r + 6, q.y() + length / 2, length, _signed(v, scale, 110), 2.2)
                    if not self.compact and r >= 6 and layer < L:
                        p.setFont(_font(7.5))
                        txt = fmt(v, 3, plus=True)
                        box = QtCore.QRectF(q.x() + r + 13, q.y() - 7, p.fontMetrics().horizontalAdvance(txt) + 4, 14)
                        p.fillRect(box, QtGui.QColor(14, 17, 22, 200))
                        p.setPen(_signed(v, scale, 230))
                        p.drawText(box, Qt.AlignmentFlag.AlignCenter, txt)
            if self.sizes[layer] > len(pts[layer]):
                p.setPen(QtGui.QColor(theme.MUTED))
                p.setFont(_font(8))
                last = list(pts[layer].values())[-1]
                p.drawText(QtCore.QRectF(last.x() - 40, last.y() + r, 80, 14), Qt.AlignmentFlag.AlignHCenter,
                           f"+{self.sizes[layer] - len(pts[layer])} more")
            # column title
            p.setFont(_font(8.5, bold=True))
            p.setPen(QtGui.QColor(theme.TEXT if on else theme.MUTED))
            x = list(pts[layer].values())[0].x()
            p.drawText(QtCore.QRectF(x - 60, 4, 120, 18), Qt.AlignmentFlag.AlignHCenter,
                       layer_name(self.sizes, layer))
        # output labels
        p.setFont(_font(9))
        des = nd.desired[-1]
        for i, q in pts[L].items():
            name = self.names[i] if i < len(self.names) else str(i)
            is_lab = i == nd.label
            p.setPen(QtGui.QColor(theme.ACCENT if is_lab else theme.TEXT))
            p.setFont(_font(9, bold=is_lab))
            p.drawText(QtCore.QRectF(q.x() + r + 14, q.y() - 9, 104, 18), Qt.AlignmentFlag.AlignVCenter,
                       f"{name[:5]}  " if self.compact else f"{name[:5]}  {fmt(des[i], 3, plus=True)}")
        p.end()

    # interaction ----------------------------------------------------------------
    def tooltip_at(self, pos):
        hit = self._hit(pos)
        self._set_hover(hit)
        if hit is None:
            return ""
        nd, sizes = self.nd, self.sizes
        L = self.n_layers
        if hit[0] == "neuron":
            _, layer, i = hit
            v = nd.desired[layer - 1][i]
            s = (f"{layer_name(sizes, layer)} neuron {i}\nactivation a = {fmt(nd.activations[layer][i])}, "
                 f"σ′(z) = {fmt(nd.fprimes[layer - 1][i])}\ndesired nudge −∂C/∂a = {fmt(v, plus=True)}")
            if layer == L:
                y = 1.0 if i == nd.label else 0.0
                s += f"\n= {self.view.formulas['desired']} with a = {fmt(nd.activations[layer][i])}, y = {fmt(y)}"
            else:
                C = nd.contributions[layer - 1][:, i]
                order = np.argsort(-np.abs(C), kind="stable")[:5]
                s += f"\n= Σ over the {len(C)} neurons j of {layer_name(sizes, layer + 1)} of w·σ′(z_j)·(desired_j):"
                for j in order:
                    s += f"\n   from {j}: {fmt(C[j], plus=True)}"
                if len(C) > 5:
                    s += f"\n   … and {len(C) - 5} more"
            s += "\nclick: select its bias"
            return s
        if hit[0] == "edge":
            _, layer, j, i = hit
            w = self.view.network.weights[layer][j, i]
            C = nd.contributions[layer - 1][j, i]
            return (f"w({layer + 1})[{j},{i}] = {fmt(w)}: from {layer_name(sizes, layer)} neuron {i} to "
                    f"{layer_name(sizes, layer + 1)} neuron {j}\n"
                    f"neuron {j}'s wish for neuron {i}: w · σ′(z_j) · desired_j = {fmt(w)} · "
                    f"{fmt(nd.fprimes[layer][j])} · {fmt(nd.desired[layer][j])} = {fmt(C, plus=True)}\n"
                    "click: select this weight")
        _, k = hit
        j = self._first_hidden_target()
        return (f"pixel {k} (row {k // 28}, column {k % 28}): {fmt(self.pixels[k]) if self.pixels is not None else ''}"
                f"\nclick: select the weight from this pixel into {layer_name(sizes, 1)} neuron {j}")

    def _set_hover(self, hit):
        h = None
        if hit is not None and hit[0] == "neuron":
            h = (hit[1], hit[2])
        if h != self.hover:
            self.hover = h
            self.update()

    def leaveEvent(self, ev):
        self._set_hover(None)
        super().leaveEvent(ev)

    def mousePressEvent(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(ev)
        hit = self._hit(ev.position())
        ref = None
        if hit is None:
            return super().mousePressEvent(ev)
        if hit[0] == "neuron":
            ref = ParamRef(hit[1] - 1, hit[2], None)
        elif hit[0] == "edge":
            ref = ParamRef(hit[1], hit[2], hit[3])
        elif hit[0] == "pixel":
            ref = ParamRef(0, self._first_hidden_target(), hit[1])
        self.parameterClicked.emit(ref)


class AllNeuronsPanel(QtWidgets.QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.diagram = NudgeDiagram(view)
        self.diagram.parameterClicked.connect(view.select_parameter)
        self.caption = QtWidgets.QLabel()
        self.caption.setWordWrap(True)
        self.back_button = QtWidgets.QPushButton("◀ Propagate one layer back")
        self.back_button.setToolTip("Reveal the desired nudges of the previous layer")
        self.back_button.clicked.connect(self.propagate)
        self.output_button = QtWidgets.QPushButton("Output only")
        self.output_button.setToolTip("Start again from the output layer's desired nudges")
        self.output_button.clicked.connect(lambda: self.set_reveal(1))
        self.all_button = QtWidgets.QPushButton("All layers")
        self.all_button.clicked.connect(lambda: self.set_reveal(99))
        self.where = QtWidgets.QLabel()
        self.where.setStyleSheet(f"color: {theme.MUTED};")
        bar = QtWidgets.QHBoxLayout()
        for b in (self.output_button, self.back_button, self.all_button):
            bar.addWidget(b)
        bar.addWidget(self.where, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.caption)
        lay.addWidget(self.diagram, 1)
        lay.addLayout(bar)

    def set_reveal(self, n: int):
        self.diagram.reveal = n
        self.refresh()

    def propagate(self):
        L = self.diagram.n_layers or 1
        self.diagram.reveal = min(L, self.diagram.reveal + 1) if self.diagram.reveal < L else 1
        self.refresh()

    def refresh(self):
        v = self.view
        if v.network is None:
            return
        net, (x, label) = v.network, v.current_example
        nd = nudges(net, x, label)
        self.nd = nd
        self.diagram.set_data(nd, as_pixels(x), net.sizes, v.class_names(), v.selected_parameter)
        L = len(net.sizes) - 1
        rev = min(self.diagram.reveal, L)
        self.where.setText(f"showing the desired nudges of {rev} of {L} layers (from the output back)")
        self.back_button.setEnabled(rev < L)
        self.caption.setText(
            f"Each <b>output</b> neuron wants to move by −∂C/∂a = {v.formulas['desired']}: up for the desired digit "
            f"(<span style='color:{theme.ACCENT}'>{v.class_names()[label]}</span>), down for the others, in proportion "
            "to how far off it is.  Each neuron of the previous layer gets the <b>sum</b> of what every neuron after "
            "it wants from it: w · σ′(z) · (that neuron's desired nudge) — the coloured edges; the arrows are the sums "
            f"(scaled per layer).  Cost of this example: {fmt(nd.cost)}.  "
            f"<span style='color:{theme.MUTED}'>Hover for numbers; click a neuron (its bias) or an edge (its weight) "
            "to select it.</span>")


def as_pixels(x) -> np.ndarray:
    x = np.asarray(x)
    return x / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


# ---------------------------------------------------------------------------- tab 3: all examples
class BatchGrid(_Canvas):
    """The mini-batch's images with their costs and each one's desired change to the selected parameter."""

    exampleClicked = Signal(int)

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
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
            p.drawImage(img, _image_of(as_pixels(self.X[i])))
            if i == self.current:
                p.setPen(QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(img.adjusted(-2, -2, 2, 2))
            lab, guess = int(self.labels[i]), int(self.bn.guesses[i])
            y = img.bottom() + 2
            fs = 8.5 if side >= 48 else 7.5
            p.setFont(_font(fs, bold=True))
            p.setPen(QtGui.QColor(theme.GOOD if lab == guess else theme.BAD))
            name = (lambda k: self.names[k] if k < len(self.names) else str(k))
            p.drawText(QtCore.QRectF(rect.left(), y, rect.width(), 15), Qt.AlignmentFlag.AlignHCenter,
                       f"{name(lab)[:7]} → {name(guess)[:7]}")
            p.setFont(_font(fs))
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
            col = _signed(ch[i], scale, 255)
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

    def tooltip_at(self, pos):
        i = self.tile_at(pos)
        if i is None:
            return ""
        bn = self.bn
        return (f"mini-batch example {i + 1}: label {int(self.labels[i])}, the network says {int(bn.guesses[i])}\n"
                f"its cost C = {fmt(bn.costs[i])}\nits desired change to {bn.ref.label()}: −∂C/∂θ = "
                f"{fmt(bn.changes[i], plus=True)}\nclick: make it the current example")

    def mousePressEvent(self, ev):
        i = self.tile_at(ev.position())
        if i is not None and ev.button() == Qt.MouseButton.LeftButton:
            self.exampleClicked.emit(i)
        super().mousePressEvent(ev)


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
        p.setFont(_font(8))
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
            p.fillRect(r, _signed(v, scale, 200))
            p.setPen(QtGui.QColor(theme.MUTED))
            p.drawText(QtCore.QRectF(left + i * bw, top + H + 2, bw, 16), Qt.AlignmentFlag.AlignHCenter, str(i + 1))
        ya = to_y(bn.average)
        pen = QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QtCore.QPointF(left, ya), QtCore.QPointF(left + W, ya))
        p.setFont(_font(9, bold=True))
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

    def tooltip_at(self, pos):
        i = self.bar_at(pos)
        if i is None:
            return ""
        return f"example {i + 1}: desired change −∂C/∂θ = {fmt(self.bn.changes[i], plus=True)}"


class AllExamplesPanel(QtWidgets.QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.grid = BatchGrid(view)
        self.grid.exampleClicked.connect(view.choose_batch_example)
        self.chart = ChangesChart(view)
        self.head = QtWidgets.QLabel()
        self.head.setWordWrap(True)
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


# ---------------------------------------------------------------------------- tab 4: parameters vs −gradient
class ParamGrid(_Canvas):
    """Every weight and bias, per layer, beside the negative gradient; the largest nudges marked."""

    parameterClicked = Signal(object)

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.pn = None
        self.sizes = None
        self.selected = None
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
        p.setFont(_font(8.5))
        labelled_rows = set()
        for l, kind, rect in lay:
            vals = layer_grid(sizes, pn.params if kind == "theta" else pn.neg_grad, l)
            scale = float(np.abs(vals).max()) or 1.0
            p.drawImage(rect, _signed_image(vals, scale))
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
                    p.setFont(_font(7.5, bold=True))
                    p.drawText(QtCore.QRectF(cx - 10, cy - s / 2 - 13, 20, 12), Qt.AlignmentFlag.AlignHCenter,
                               str(rank + 1))
                    p.setFont(_font(8.5))
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

    def tooltip_at(self, pos):
        ref = self._hit(pos)
        if ref is None:
            return ""
        i = ref.flat_index(self.sizes)
        g = self.pn.neg_grad[i]
        rank = int((np.abs(self.pn.neg_grad) > abs(g)).sum()) + 1
        return (f"{ref.label()}: {ref.describe(self.sizes)}\nθ = {fmt(self.pn.params[i])}\n"
                f"−∂C/∂θ = {fmt(g, plus=True)}  (rank {rank:,} of {len(self.pn.neg_grad):,} by size)\nclick: select")

    def mousePressEvent(self, ev):
        ref = self._hit(ev.position())
        if ref is not None and ev.button() == Qt.MouseButton.LeftButton:
            self.parameterClicked.emit(ref)
        super().mousePressEvent(ev)


class ParametersPanel(QtWidgets.QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.grid = ParamGrid(view)
        self.grid.parameterClicked.connect(view.select_parameter)
        self.head = QtWidgets.QLabel()
        self.head.setWordWrap(True)
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


# ---------------------------------------------------------------------------- tab 5: chain rule
class ChainRulePanel(QtWidgets.QWidget):
    def __init__(self, view, parent=None):
        super().__init__(parent)
        self.view = view
        self.diagram = NudgeDiagram(view, compact=True)
        self.diagram.setMinimumSize(280, 240)
        self.diagram.parameterClicked.connect(view.select_parameter)
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.setToolTip("Weight layer: which layer the parameter feeds")
        self.row_box = QtWidgets.QSpinBox()
        self.row_box.setToolTip("The neuron it feeds")
        self.col_box = QtWidgets.QSpinBox()
        self.col_box.setMinimum(-1)
        self.col_box.setSpecialValueText("bias")
        self.col_box.setToolTip("The neuron it comes from (the lowest value is the bias)")
        for w in (self.layer_box,):
            w.currentIndexChanged.connect(self._picked)
        for w in (self.row_box, self.col_box):
            w.valueChanged.connect(self._picked)
        pick = QtWidgets.QHBoxLayout()
        pick.addWidget(QtWidgets.QLabel("Parameter: into"))
        pick.addWidget(self.layer_box)
        pick.addWidget(QtWidgets.QLabel("neuron"))
        pick.addWidget(self.row_box)
        pick.addWidget(QtWidgets.QLabel("from"))
        pick.addWidget(self.col_box)
        pick.addStretch(1)
        self.text = QtWidgets.QLabel()
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setWidget(self.text)
        left = QtWidgets.QVBoxLayout()
        hint = QtWidgets.QLabel("Click any weight (edge), bias (neuron) or input pixel:")
        hint.setStyleSheet(f"color: {theme.MUTED};")
        left.addWidget(hint)
        left.addWidget(self.diagram, 1)
        left.addLayout(pick)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(left, 4)
        lay.addWidget(scroll, 5)
        self.result = None
        self._sizes = None
        self._updating = False

    def _sync_picker(self, sizes, ref):
        self._updating = True
        try:
            if sizes != self._sizes:
                self.layer_box.clear()
                for l in range(len(sizes) - 1):
                    self.layer_box.addItem(f"{layer_name(sizes, l + 1)}")
                self._sizes = sizes
            self.layer_box.setCurrentIndex(ref.layer)
            self.row_box.setMaximum(sizes[ref.layer + 1] - 1)
            self.col_box.setMaximum(sizes[ref.layer] - 1)
            self.row_box.setValue(ref.row)
            self.col_box.setValue(-1 if ref.col is None else ref.col)
        finally:
            self._updating = False

    def _picked(self, *_):
        if self._updating or self._sizes is None:
            return
        sizes = self._sizes
        l = max(0, self.layer_box.currentIndex())
        row = min(self.row_box.value(), sizes[l + 1] - 1)
        col = self.col_box.value()
        col = None if col < 0 else min(col, sizes[l] - 1)
        self.view.select_parameter(ParamRef(l, row, col))

    def refresh(self):
        v = self.view
        if v.network is None:
            return
        net, (x, label) = v.network, v.current_example
        ref = v.selected_parameter
        self._sync_picker(net.sizes, ref)
        nd = nudges(net, x, label)
        self.diagram.set_data(nd, as_pixels(x), net.sizes, v.class_names(), ref)
        cr = chain_rule(net, x, label, ref)
        self.result = cr
        self.text.setText(chain_rule_html(cr, net, v))


def chain_rule_html(cr, net, view) -> str:
    ref, sizes = cr.ref, net.sizes
    L = len(sizes) - 1
    lj = ref.layer + 1  # neuron layer of the neuron it feeds
    f = "σ′" if net.layer_activation(ref.layer).name == "sigmoid" else f"{net.layer_activation(ref.layer).name}′"
    big = "font-size:15pt"
    mut = f"color:{theme.MUTED}; font-size:8.5pt"
    sym = "w" if not ref.is_bias else "b"
    src = ("1 (for a bias)" if ref.is_bias else
           f"a<sup>({ref.layer})</sup><sub>{ref.col}</sub>")
    src_note = ("a bias adds 1·b to z" if ref.is_bias else
                f"activation of {'pixel' if ref.layer == 0 else layer_name(sizes, ref.layer) + ' neuron'} {ref.col}")
    if cr.is_output:
        da_note = (f"2(a − y) = 2({fmt(cr.a)} − {fmt(cr.target)})" if net.cost.name == "quadratic" else
                   f"{view.formulas['dC_da']} with a = {fmt(cr.a)}, y = {fmt(cr.target)}")
    else:
        da_note = f"sum over the {len(cr.terms)} neurons of {layer_name(sizes, lj + 1)} (below)"
    fp_note = f"a(1 − a) with a = {fmt(cr.a)}" if f == "σ′" else f"at z = {fmt(cr.z)}"
    ok = cr.error <= 1e-6 * max(1.0, abs(cr.backprop))
    names = view.class_names()
    h = [
        f"<p style='font-size:11pt'><b style='color:{theme.ACCENT}'>{ref.label()}</b> — {ref.describe(sizes)}, "
        f"now {fmt(ref.value(net))}</p>",
        f"<p>For the current example (desired {names[cr.label]}; its cost C = {fmt(cr.cost)}), the chain rule "
        f"through z = w·a<sub>prev</sub> + b and a = {f[:-1]}(z):</p>",
        "<table cellspacing='0' cellpadding='5'>",
        f"<tr><td style='{big}'>∂C/∂{sym}</td><td style='{big}'>=</td>"
        f"<td align='center' style='{big}'>{src if not ref.is_bias else '1'}</td><td style='{big}'>·</td>"
        f"<td align='center' style='{big}'>{f}(z<sup>({lj})</sup><sub>{ref.row}</sub>)</td><td style='{big}'>·</td>"
        f"<td align='center' style='{big}'>∂C/∂a<sup>({lj})</sup><sub>{ref.row}</sub></td></tr>",
        f"<tr><td></td><td style='{big}'>=</td><td align='center' style='{big}'>{fmt(cr.a_prev)}</td>"
        f"<td style='{big}'>·</td><td align='center' style='{big}'>{fmt(cr.fprime)}</td><td style='{big}'>·</td>"
        f"<td align='center' style='{big}'>{_num(cr.dC_da)}</td></tr>",
        f"<tr><td></td><td></td><td align='center' style='{mut}'>{src_note}</td><td></td>"
        f"<td align='center' style='{mut}'>{fp_note}</td><td></td><td align='center' style='{mut}'>{da_note}</td></tr>",
        f"<tr><td></td><td style='{big}'>=</td><td colspan='5' style='{big}'><b>{_num(cr.product)}</b></td></tr>",
        "</table>",
        f"<p>Engine's backprop: <b>{_num(cr.backprop)}</b> &nbsp;·&nbsp; numerical derivative "
        f"(C(θ+ε) − C(θ−ε)) / 2ε, ε = 10<sup>−6</sup>: <b>{_num(cr.numerical)}</b> &nbsp;·&nbsp; "
        f"difference {fmt(cr.error, 2)} "
        + (f"<span style='color:{theme.GOOD}'>✓ they agree</span>" if ok else
           f"<span style='color:{theme.BAD}'>✗ they disagree</span>") + "</p>",
    ]
    if not cr.is_output:
        nxt = layer_name(sizes, lj + 1)
        fn = "σ′" if net.layer_activation(lj).name == "sigmoid" else f"{net.layer_activation(lj).name}′"
        h.append(f"<p style='font-size:11pt'><b>∂C/∂a<sup>({lj})</sup><sub>{ref.row}</sub> is a sum over paths</b>: "
                 f"this neuron reaches the cost through every neuron m of {nxt}:<br>"
                 f"∂C/∂a<sub>{ref.row}</sub> = Σ<sub>m</sub> w<sup>({lj + 1})</sup><sub>m,{ref.row}</sub> · "
                 f"{fn}(z<sub>m</sub>) · ∂C/∂a<sub>m</sub></p>")
        h.append("<table cellspacing='0' cellpadding='3'>"
                 f"<tr style='color:{theme.MUTED}'><td>m</td><td align='right'>w<sub>m,{ref.row}</sub></td>"
                 f"<td align='right'>{fn}(z<sub>m</sub>)</td><td align='right'>∂C/∂a<sub>m</sub></td>"
                 "<td align='right'>product</td></tr>")
        order = sorted(cr.terms, key=lambda t: -abs(t.product))
        shown = order[:12]
        for t in sorted(shown, key=lambda t: t.via):
            mname = names[t.via] if lj + 1 == L and t.via < len(names) else str(t.via)
            h.append(f"<tr><td>{mname}</td><td align='right'>{_num(t.weight)}</td><td align='right'>"
                     f"{fmt(t.fprime)}</td><td align='right'>{_num(t.dC_da)}</td><td align='right'>"
                     f"{_num(t.product)}</td></tr>")
        if len(order) > len(shown):
            rest = sum(t.product for t in order[len(shown):])
            h.append(f"<tr style='color:{theme.MUTED}'><td colspan='4'>… {len(order) - len(shown)} smaller terms</td>"
                     f"<td align='right'>{_num(rest)}</td></tr>")
        h.append(f"<tr><td colspan='4'><b>sum = ∂C/∂a<sub>{ref.row}</sub></b></td><td align='right'><b>"
                 f"{_num(sum(t.product for t in cr.terms))}</b></td></tr></table>")
        if lj + 1 < L:
            h.append(f"<p>Each ∂C/∂a<sub>m</sub> above is itself such a sum over the next layer. Unrolled, "
                     f"∂C/∂a<sub>{ref.row}</sub> is the sum over all <b>{cr.n_paths:,}</b> paths to the output "
                     f"(Π w·σ′ along the path × ∂C/∂a = {view.formulas['dC_da']} at its end)"
                     + (f" = {_num(cr.paths_sum)}. The largest:</p>" if cr.paths_sum is not None else ".</p>"))
            if cr.top_paths:
                h.append("<p>" + "<br>".join(
                    f"{ref.row} → " + " → ".join(
                        (names[n] if k == len(path) - 1 and n < len(names) else str(n)) for k, n in enumerate(path))
                    + f": {_num(val)}" for path, val in cr.top_paths) + "</p>")
    if view.batch is not None:
        X, y, _ = view.batch
        bn = batch_nudges(net, X, y, ref)
        h.append(f"<p style='color:{theme.MUTED}'>Over the {len(y)} examples of the mini-batch, ∂C/∂{sym} of the mean "
                 f"cost is the average of each example's: {fmt(-bn.average)} (tab “All examples”).</p>")
    return "\n".join(h)


# ---------------------------------------------------------------------------- the view
class BackpropView(StudioView):
    """Backpropagation made visible with real numbers from the real network.

    Window API (see :class:`StudioView`): :meth:`set_snapshot`, :meth:`set_dataset`,
    :meth:`set_input`.  The mini-batch is ``snapshot.batch_indices`` into
    ``dataset.train_x``, or 10 fixed-seed training examples when there is none.

    Signals:

    - ``stepApplied(object)``: the Step button applied one SGD step (exactly −η × the
      mini-batch's average gradient) to the explorer's own copy of the network; the
      argument is a copy of the stepped :class:`~nnstudio.core.Network`, which the window
      may adopt (e.g. set it into the trainer) or ignore;
    - ``parameterSelected(object)``: the selected weight or bias (:class:`ParamRef`) changed;
    - ``inputRequested(InputExample)``: a mini-batch image was clicked (make it current);
    - ``statusMessage(str)``.
    """

    title = "Backprop"
    stepApplied = Signal(object)  # Network: the stepped copy
    parameterSelected = Signal(object)  # ParamRef

    def __init__(self, parent=None):
        super().__init__(parent)
        self._snapshot = None
        self._net = None
        self._dataset = None
        self._input = None
        self._desired = None
        self._ref = None
        self._focus = None
        self._batch = None
        self._batch_idx = None
        self._costs_before = None
        self._eta_touched = False
        self._steps_here = 0
        self._cost_choice = "quadratic"  # explain with the videos' cost by default
        self._dirty = set(TABS)
        self._clock = QtCore.QElapsedTimer()
        self._pending = QtCore.QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.timeout.connect(self._refresh)
        self._apply_palette()
        self._build()
        self._refresh()

    # ------------------------------------------------------------------ building
    def _apply_palette(self):
        apply_dark_palette(self)

    def _build(self):
        self.thumb = QtWidgets.QLabel()
        self.thumb.setFixedSize(56, 56)
        self.thumb.setStyleSheet(f"background: {theme.BACKGROUND}; border: 1px solid {theme.MUTED};")
        self.example_label = QtWidgets.QLabel("no example yet")
        self.example_label.setTextFormat(Qt.TextFormat.RichText)
        self.example_label.setWordWrap(True)
        self.example_label.setMinimumWidth(160)
        self.desired_box = QtWidgets.QComboBox()
        self.desired_box.setToolTip("The desired digit y for this example (1 for it, 0 for the others). "
                                    "For a drawing, pick what you meant.")
        self.desired_box.activated.connect(self._desired_picked)
        self.eta_box = QtWidgets.QDoubleSpinBox()
        self.eta_box.setRange(0.001, 100.0)
        self.eta_box.setDecimals(3)
        self.eta_box.setSingleStep(0.1)
        self.eta_box.setValue(DEFAULT_ETA)
        self.eta_box.setToolTip("Learning rate η of the Step button")
        self.eta_box.valueChanged.connect(self._eta_changed)
        self.step_button = QtWidgets.QPushButton("Step ▶")
        self.step_button.setToolTip("Apply one SGD step on this mini-batch to the explorer's copy of the network: "
                                    "θ ← θ − η × (average of the examples' gradients)")
        self.step_button.clicked.connect(self.step)
        self.reset_button = QtWidgets.QPushButton("Reset")
        self.reset_button.setToolTip("Back to the network of the latest snapshot")
        self.reset_button.clicked.connect(self.reset)
        self.step_label = QtWidgets.QLabel()
        self.step_label.setTextFormat(Qt.TextFormat.RichText)
        self.step_label.setWordWrap(True)
        self.convention = conv = QtWidgets.QLabel(CONVENTION.format(sum="Σ (a − y)²"))
        conv.setStyleSheet(f"color: {theme.MUTED}; font-size: 8.5pt;")
        conv.setWordWrap(True)
        conv.setMinimumWidth(160)
        self.cost_box = QtWidgets.QComboBox()
        for name, text in COST_CHOICES:
            self.cost_box.addItem(text, name)
        self.cost_box.setToolTip("The cost the explorer explains (and steps with). The videos use Σ(a − y)²; "
                                 "the network may have been trained with another.")
        self.cost_box.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.cost_box.setMinimumContentsLength(14)
        self.cost_box.activated.connect(lambda i: self.set_cost(self.cost_box.itemData(i)))
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.thumb)
        info = QtWidgets.QVBoxLayout()
        info.addWidget(self.example_label)
        info.addWidget(conv)
        top.addLayout(info, 1)
        controls = QtWidgets.QGridLayout()
        controls.setHorizontalSpacing(6)
        controls.setVerticalSpacing(4)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        controls.addWidget(QtWidgets.QLabel("cost:"), 0, 0, right)
        controls.addWidget(self.cost_box, 0, 1, 1, 2)
        controls.addWidget(QtWidgets.QLabel("desired:"), 0, 3, right)
        controls.addWidget(self.desired_box, 0, 4)
        controls.addWidget(QtWidgets.QLabel("η"), 1, 0, right)
        controls.addWidget(self.eta_box, 1, 1)
        controls.addWidget(self.step_button, 1, 2)
        controls.addWidget(self.reset_button, 1, 3, 1, 2)
        top.addLayout(controls)

        self.tabs = QtWidgets.QTabWidget()
        self.one_neuron = OneNeuronPanel(self)
        self.all_neurons = AllNeuronsPanel(self)
        self.all_examples = AllExamplesPanel(self)
        self.parameters = ParametersPanel(self)
        self.chain = ChainRulePanel(self)
        self.tabs.addTab(self.one_neuron, "One example · one neuron")
        self.tabs.addTab(self.all_neurons, "One example · all neurons")
        self.tabs.addTab(self.all_examples, "All examples")
        self.tabs.addTab(self.parameters, "Parameters vs −gradient")
        self.tabs.addTab(self.chain, "Chain rule")
        self.tabs.currentChanged.connect(lambda _: self._refresh_visible())
        self.placeholder = QtWidgets.QLabel("Load or train a network to explore backpropagation.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(f"color: {theme.MUTED}; font-size: 12pt;")

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.step_label)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.placeholder, 1)

    def sizeHint(self):
        return QtCore.QSize(1100, 720)

    # ------------------------------------------------------------------ window API
    def set_snapshot(self, snapshot) -> None:
        self._snapshot = snapshot
        self._net = None if snapshot is None else explained(snapshot.network, self._cost_choice)
        if snapshot is not None:
            own = snapshot.network.cost.name
            for i, (name, text) in enumerate(COST_CHOICES):
                self.cost_box.setItemText(i, text + ("  (trained with)" if name == own else ""))
        if snapshot is not None:
            if snapshot.learning_rate and snapshot.learning_rate > 0 and not self._eta_touched:
                self.eta_box.blockSignals(True)
                self.eta_box.setValue(float(snapshot.learning_rate))
                self.eta_box.blockSignals(False)
            if snapshot.batch_indices is not None and len(snapshot.batch_indices):
                new = np.asarray(snapshot.batch_indices)
                if self._batch_idx is None or not np.array_equal(new, self._batch_idx):
                    self._costs_before = None
        self._steps_here = 0
        self._invalidate_batch()
        # coalesce a stream of snapshots (training): at most one refresh per MIN_REFRESH_MS
        if self._clock.isValid() and self._clock.elapsed() < MIN_REFRESH_MS:
            if not self._pending.isActive():
                self._pending.start(max(1, MIN_REFRESH_MS - int(self._clock.elapsed())))
            return
        self._clock.start()
        self._refresh()

    @property
    def refresh_pending(self) -> bool:
        """A snapshot arrived and will be shown within MIN_REFRESH_MS."""
        return self._pending.isActive()

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        self._costs_before = None
        self._invalidate_batch()
        self._refresh()

    def set_input(self, example) -> None:
        self._input = example
        self._desired = None
        if example is not None and example.label is not None:
            self._desired = int(example.label)
        self._refresh()

    # ------------------------------------------------------------------ state the panels read
    @property
    def network(self):
        return self._net

    @property
    def formulas(self) -> dict:
        """How the explained cost is written (term, sum, ∂C/∂a, desired nudge)."""
        return cost_formulas(self._net.cost if self._net is not None else self._cost_choice)

    @property
    def learning_rate(self) -> float:
        return float(self.eta_box.value())

    @property
    def selected_parameter(self) -> ParamRef | None:
        return self._ref

    @property
    def focus_neuron(self) -> int:
        return self._focus if self._focus is not None else self.current_example[1]

    @property
    def batch(self):
        """(X (N, n_in), labels (N,), description) of the mini-batch, or None."""
        if self._batch is None:
            self._batch = self._make_batch()
        return self._batch

    @property
    def batch_costs_before_step(self):
        return self._costs_before

    @property
    def current_example(self):
        """(x, desired digit) of the example being explained."""
        return self._current

    @property
    def current_batch_position(self) -> int | None:
        """Position of the current example in the mini-batch, if it is one of its examples."""
        ex = self._input
        if self._batch_idx is None or self.batch is None:
            return None
        if ex is None:
            return 0
        if ex.split == "train" and ex.index is not None:
            hits = np.flatnonzero(self._batch_idx == ex.index)
            return int(hits[0]) if hits.size else None
        return None

    @property
    def example_cost(self):
        return self._cost

    def class_names(self) -> list[str]:
        n = self._net.sizes[-1] if self._net is not None else 10
        names = list(getattr(self._dataset, "class_names", ()) or ())
        if len(names) != n:
            names = [str(i) for i in range(n)]
        return names

    # ------------------------------------------------------------------ batch
    def _invalidate_batch(self):
        self._batch = None
        self._batch_idx = None

    def _make_batch(self):
        ds, snap = self._dataset, self._snapshot
        if self._net is None:
            return None
        if ds is not None and getattr(ds, "n_train", 0) > 0 and ds.train_x.shape[1] == self._net.sizes[0]:
            idx = None
            if snap is not None and snap.batch_indices is not None and len(snap.batch_indices):
                idx = np.asarray(snap.batch_indices, dtype=np.intp)
                if idx.min() < 0 or idx.max() >= ds.n_train:
                    idx = None
            src = "the mini-batch just used"
            if idx is None:
                idx = default_batch_indices(ds.n_train, 10, seed=0)
                src = "10 fixed training examples: no mini-batch has been stepped yet"
            self._batch_idx = idx
            return ds.train_x[idx], np.asarray(ds.train_labels)[idx].astype(np.intp), src
        if self._input is not None and self._desired is not None:
            return as_pixels(self._input.pixels)[None], np.array([self._desired]), "the current example only"
        return None

    # ------------------------------------------------------------------ selection and actions
    def select_parameter(self, ref: ParamRef) -> None:
        """Select the weight or bias the panels explain (shared by all tabs)."""
        if self._net is None or ref is None:
            return
        try:
            ref.check(self._net.sizes)
        except ValueError as e:
            self.statusMessage.emit(str(e))
            return
        self._ref = ref
        self._dirty = set(TABS)
        self._refresh_visible()
        self.parameterSelected.emit(ref)

    def set_focus_neuron(self, neuron: int) -> None:
        """The output neuron whose three ways tab 1 explains (default: the desired digit's)."""
        self._focus = int(neuron)
        self._dirty.add("one neuron")
        self._refresh_visible()

    def set_cost(self, name: str) -> None:
        """Explain (and step) with cost ``name``: "quadratic" (the videos', default) or "cross-entropy"."""
        names = [n for n, _ in COST_CHOICES]
        if name not in names:
            self.statusMessage.emit(f"unknown cost {name!r}")
            return
        self._cost_choice = name
        self.cost_box.setCurrentIndex(names.index(name))
        self.convention.setText(CONVENTION.format(sum=cost_formulas(name)["sum"]))
        if self._net is not None:
            self._net = explained(self._net, name)
        self._refresh()

    def set_desired(self, digit: int) -> None:
        self._desired = int(digit)
        self._focus = None
        self._refresh()

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def choose_batch_example(self, i: int) -> None:
        """Make mini-batch example ``i`` the current input (here, and everywhere via inputRequested)."""
        b = self.batch
        if b is None or self._batch_idx is None:
            return
        X, y, _ = b
        idx = int(self._batch_idx[i])
        ex = InputExample(as_pixels(X[i]), int(y[i]), source=f"mini-batch example {i + 1} (train #{idx})",
                          index=idx, split="train")
        self.set_input(ex)
        self.inputRequested.emit(ex)

    def step(self):
        """One SGD step on the mini-batch, applied to the explorer's copy; returns the StepResult (or None)."""
        if self._pending.isActive():
            self._refresh()
        if self._net is None or self.batch is None:
            self.statusMessage.emit("Nothing to step: no network or mini-batch yet.")
            return None
        X, y, _ = self.batch
        x, label = self._current
        try:
            res = sgd_step(self._net, X, y, self.learning_rate, example=(x, label))
        except ValueError as e:
            self.statusMessage.emit(str(e))
            return None
        self._costs_before = self._net.backprop_details(X, y).costs
        self._net = res.network
        self._steps_here += 1
        d_batch = res.batch_cost_after - res.batch_cost_before
        d_ex = res.example_cost_after - res.example_cost_before
        self.step_label.setText(
            f"<b>Step {self._steps_here}</b> on this mini-batch (η = {fmt(res.learning_rate)}), every weight and bias "
            f"moved by exactly −η × the average gradient:  batch cost {fmt(res.batch_cost_before)} → "
            f"<b>{fmt(res.batch_cost_after)}</b> ({_num(d_batch, 3, plus=True)}),  this example "
            f"{fmt(res.example_cost_before)} → <b>{fmt(res.example_cost_after)}</b> ({_num(d_ex, 3, plus=True)}).  "
            f"<span style='color:{theme.MUTED}'>Applied to the explorer's copy; Reset returns to the snapshot.</span>")
        self.last_step = res
        self._refresh()
        self.statusMessage.emit(f"Backprop explorer: one SGD step, batch cost {fmt(res.batch_cost_before)} → "
                                f"{fmt(res.batch_cost_after)}")
        adopted = res.network.copy()
        if self._snapshot is not None:
            adopted.cost = self._snapshot.network.cost  # the window's network keeps the cost it trains with
        self.stepApplied.emit(adopted)
        return res

    def reset(self) -> None:
        if self._snapshot is not None:
            self._net = explained(self._snapshot.network, self._cost_choice)
        self._steps_here = 0
        self._costs_before = None
        self.step_label.setText("")
        self._refresh()

    def _desired_picked(self, i: int):
        self.set_desired(i)

    def _eta_changed(self, _):
        self._eta_touched = True
        self._dirty.add("all examples")
        self._refresh_visible()

    # ------------------------------------------------------------------ refresh
    def _resolve_current(self):
        net = self._net
        ex = self._input
        if ex is not None and np.asarray(ex.pixels).size == net.sizes[0]:
            x = as_pixels(np.asarray(ex.pixels).ravel())
            desc = ex.source or "current example"
        else:
            b = self.batch
            if b is None:
                return None
            x = as_pixels(b[0][0])
            desc = "mini-batch example 1"
            if self._desired is None:
                self._desired = int(b[1][0])
        if self._desired is None:
            self._desired = int(net.predict(x[None])[0])  # a drawing: default to the network's guess
        self._desired = min(max(0, self._desired), net.sizes[-1] - 1)
        return x, self._desired, desc

    def _refresh(self):
        self._pending.stop()
        has = self._net is not None
        self._current = None
        self._cost = None
        if has:
            cur = self._resolve_current()
            if cur is None:
                has = False
            else:
                x, label, desc = cur
                self._current = (x, label)
                self._cost = example_cost(self._net, x, label)
                if self._ref is None or not self._ref_ok(self._ref):
                    L = len(self._net.sizes) - 1
                    a_prev = self._net.forward(x[None]).activations[L - 1][0]
                    self._ref = ParamRef(L - 1, label, int(np.argmax(a_prev)))
                if self._focus is not None and self._focus >= self._net.sizes[-1]:
                    self._focus = None
                self._update_header(x, label, desc)
        self.tabs.setVisible(has)
        self.placeholder.setVisible(not has)
        self.step_button.setEnabled(has)
        self.reset_button.setEnabled(has)
        if has:
            self._dirty = set(TABS)
            self._refresh_visible()

    def _ref_ok(self, ref) -> bool:
        try:
            ref.check(self._net.sizes)
            return True
        except ValueError:
            return False

    def _update_header(self, x, label, desc):
        n = int(round(math.sqrt(x.size)))
        if n * n == x.size:
            self.thumb.setPixmap(QtGui.QPixmap.fromImage(_image_of(x)).scaled(
                54, 54, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        names = self.class_names()
        c = self._cost
        true = self._input.label if self._input is not None else label
        if self._input is None:
            true = label
        told = "" if true is not None else (
            f" <span style='color:{theme.MUTED}'>(no label: pick the desired digit)</span>")
        guess_col = theme.GOOD if c.guess == label else theme.BAD
        self.example_label.setText(
            f"<b>{desc}</b> · desired <b style='color:{theme.ACCENT}'>{names[label]}</b>{told} · the network says "
            f"<b style='color:{guess_col}'>{names[c.guess]}</b> ({fmt(c.activations[c.guess], 3)}) · "
            f"cost of this example {fmt(c.cost)}")
        if self.desired_box.count() != len(names) or [self.desired_box.itemText(i) for i in range(len(names))] != names:
            self.desired_box.clear()
            self.desired_box.addItems(names)
        self.desired_box.setCurrentIndex(label)

    def _refresh_visible(self):
        if self._pending.isActive():  # a coalesced snapshot is waiting: show it now
            self._refresh()
            return
        if self._net is None or self._current is None:
            return
        name = TABS[self.tabs.currentIndex()]
        if name in self._dirty:
            self._dirty.discard(name)
            panel = {"one neuron": self.one_neuron, "all neurons": self.all_neurons,
                     "all examples": self.all_examples, "parameters": self.parameters, "chain rule": self.chain}[name]
            panel.refresh()
