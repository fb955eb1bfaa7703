"""Tab “One example · all neurons”: every neuron's desired nudge (−∂C/∂a), propagated backwards
layer by layer on a compact diagram of the network (hover for numbers, click to select a parameter)."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import ParamRef, fmt, layer_name, nudges
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import arrow, gray, point_font, signed_color, to_qimage
from nnstudio.gui.views.backprop._common import (
    _Canvas, _Panel, _seg_dist, _visible, _wrapped, as_pixels, text_metrics,
)


class NudgeDiagram(_Canvas):
    """A compact diagram of the network with each neuron's desired nudge, propagated backwards.

    Neurons are lit by their activation; the arrow beside each is its desired nudge −∂C/∂a
    (blue up, red down; scaled per layer).  The edge from neuron i to neuron j of the next
    layer is coloured by j's wish for i (w · σ′(z_j) · desired_j), whose sum over j is i's
    own desired nudge.  Click a neuron for its bias, an edge for its weight, a pixel of the
    input for the weight from that pixel into the selected first-hidden neuron.
    """

    parameterClicked = Signal(object)  # ParamRef
    click_signal = "parameterClicked"

    def __init__(self, view, parent=None, compact: bool = False, on_click=None):
        super().__init__(view, parent, on_click)
        self.nd = None
        self.pixels = None
        self.sizes = None
        self.names: list[str] = []
        self.reveal = 99  # how many neuron layers, counted from the output, show their nudges
        self.selected: ParamRef | None = None
        self.hover: tuple[int, int] | None = None
        self.compact = compact

    def set_data(self, nd, pixels, sizes, names, selected):
        relayout = (sizes, list(names)) != (self.sizes, self.names)
        self.nd, self.pixels, self.sizes, self.names, self.selected = nd, pixels, sizes, list(names), selected
        if relayout:
            self.updateGeometry()
        self.update()

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1 if self.sizes else 0

    def revealed(self, layer: int) -> bool:
        return layer > self.n_layers - self.reveal

    # geometry ------------------------------------------------------------------
    VALUE = "−8.88×10⁻⁵"  # the widest desired nudge a hidden neuron's label shows

    def _line(self) -> float:
        """The height of a line of the diagram's labels: the least room between two labelled neurons."""
        return text_metrics(9).height() + 1

    def _margins(self) -> tuple[float, float]:
        """(top, bottom): room for the column titles above and a “+N more” line below."""
        more = self.sizes is not None and any(n > len(_visible(n)) for n in self.sizes[1:])
        return text_metrics(9, bold=True).height() + 10, 8 + (self._line() + 2 if more else 0)

    def _caption(self) -> str:
        return f"input ({self.sizes[0]} pixels) cannot be nudged" if self.sizes else ""

    def _caption_box(self, side: float) -> QtCore.QSizeF:
        fm = text_metrics(9)
        w = max(side + 16, fm.horizontalAdvance("cannot be nudged") + 4)
        r = fm.boundingRect(QtCore.QRectF(0, 0, w, 1000), int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap),
                            self._caption())
        return QtCore.QSizeF(w, r.height())

    def _label_width(self) -> float:
        """The room right of a hidden neuron for its desired nudge (none on a compact diagram)."""
        return 0.0 if self.compact else text_metrics(9).horizontalAdvance(self.VALUE) + 17

    def _right(self, r: float = 12.0) -> float:
        """The room right of the output column for its labels."""
        fb = text_metrics(9, bold=True)
        names = self.names or [str(i) for i in range(10)]
        text = max((fb.horizontalAdvance(f"{n[:5]}  " + ("" if self.compact else self.VALUE)) for n in names))
        return r + 14 + text + 6

    def minimumSizeHint(self):
        if not self.sizes:
            return QtCore.QSize(240, 160)
        top, bottom = self._margins()
        L, line = self.n_layers, self._line()
        hidden = [len(_visible(n)) for n in self.sizes[1:-1]]
        rows = max([len(_visible(self.sizes[-1])) * line]
                   + [min(n, 16) * (line if not self.compact else 9.0) for n in hidden])
        side = 48.0
        cap = self._caption_box(side)
        h = max(top + bottom + rows, side + cap.height() + 16)
        gap = max(50.0, self._label_width() + 24)  # between two columns of neurons
        w = 10 + max(side, cap.width()) + (50 if not self.compact else 40) + (L - 1) * gap + self._right()
        return QtCore.QSize(math.ceil(w), math.ceil(h))

    def sizeHint(self):
        return self.minimumSizeHint().expandedTo(QtCore.QSize(480, 320))

    def _input_rect(self) -> QtCore.QRectF:
        side = min(110.0, self.height() * 0.36, self.width() * 0.17)
        cap = self._caption_box(side).height() if self.sizes else 0.0
        side = max(8.0, min(side, self.height() - cap - 12))
        return QtCore.QRectF(10, (self.height() - side - cap - 4) / 2, side, side)

    def _positions(self):
        """{layer: {neuron: QPointF}} for neuron layers 1..L, and the neuron radius."""
        L = self.n_layers
        x0 = self._input_rect().right() + (50 if not self.compact else 40)
        x1 = self.width() - self._right()
        top, bottom = self._margins()
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
            self._text(p, self.rect(), Qt.AlignmentFlag.AlignCenter, "no network yet")
            p.end()
            return
        L = self.n_layers
        pts, r = self._positions()
        sel = self.selected
        # input image
        ir = self._input_rect()
        if self.pixels is not None and int(round(math.sqrt(self.sizes[0]))) ** 2 == self.sizes[0]:
            p.drawImage(ir, to_qimage(self.pixels))
        p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(ir)
        p.setFont(point_font(9))
        cap = self._caption_box(ir.width())
        self._text(p, QtCore.QRectF(max(2.0, ir.center().x() - cap.width() / 2), ir.bottom() + 4, cap.width(),
                                    cap.height() + 2),
                   Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, self._caption())
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
                    col, w = signed_color(v, scale, 14), 0.5 + 2.5 * s
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
        line = self._line()
        top, bottom = self._margins()
        for layer in range(1, L + 1):
            labelled = not self.compact and layer < L and (self.height() - top - bottom) / len(pts[layer]) >= line
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
                p.setBrush(gray(acts[i]))
                p.drawEllipse(q, r, r)
                if on:
                    length = math.copysign(max(2.0, min(2.6 * r, 24.0) * abs(v) / scale), v)
                    arrow(p, q.x() + r + 6, q.y() + length / 2, length, signed_color(v, scale, 110), 2.2)
                    if labelled:
                        p.setFont(point_font(9))
                        txt = fmt(v, 3, plus=True)
                        box = QtCore.QRectF(q.x() + r + 13, q.y() - line / 2,
                                            p.fontMetrics().horizontalAdvance(txt) + 4, line)
                        p.fillRect(box, QtGui.QColor(14, 17, 22, 200))
                        p.setPen(signed_color(v, scale, 230))
                        self._text(p, box, Qt.AlignmentFlag.AlignCenter, txt)
            if self.sizes[layer] > len(pts[layer]):
                p.setPen(QtGui.QColor(theme.MUTED))
                p.setFont(point_font(9))
                last = list(pts[layer].values())[-1]
                self._text(p, QtCore.QRectF(last.x() - 50, self.height() - bottom + 2, 100, line),
                           Qt.AlignmentFlag.AlignHCenter, f"+{self.sizes[layer] - len(pts[layer])} more")
            # column title
            p.setFont(point_font(9, bold=True))
            p.setPen(QtGui.QColor(theme.TEXT if on else theme.MUTED))
            x = list(pts[layer].values())[0].x()
            self._text(p, QtCore.QRectF(x - 60, 4, 120, top - 8), Qt.AlignmentFlag.AlignHCenter,
                       layer_name(self.sizes, layer))
        # output labels
        des = nd.desired[-1]
        for i, q in pts[L].items():
            name = self.names[i] if i < len(self.names) else str(i)
            is_lab = i == nd.label
            p.setPen(QtGui.QColor(theme.ACCENT if is_lab else theme.TEXT))
            p.setFont(point_font(9, bold=is_lab))
            self._text(p, QtCore.QRectF(q.x() + r + 14, q.y() - line / 2, self.width() - q.x() - r - 14, line),
                       Qt.AlignmentFlag.AlignVCenter,
                       f"{name[:5]}" if self.compact else f"{name[:5]}  {fmt(des[i], 3, plus=True)}")
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


class AllNeuronsPanel(_Panel):
    """Tab 2: the nudge diagram, revealed from the output back one layer at a time."""

    def __init__(self, view, parent=None):
        super().__init__(view, parent)
        self.diagram = NudgeDiagram(view, on_click=view.select_parameter)
        self.caption = _wrapped()
        self.back_button = QtWidgets.QPushButton("◀ Propagate one layer back")
        self.back_button.setToolTip("Reveal the desired nudges of the previous layer")
        self.back_button.clicked.connect(self.propagate)
        self.output_button = QtWidgets.QPushButton("Output only")
        self.output_button.setToolTip("Start again from the output layer's desired nudges")
        self.output_button.clicked.connect(lambda: self.set_reveal(1))
        self.all_button = QtWidgets.QPushButton("All layers")
        self.all_button.clicked.connect(lambda: self.set_reveal(99))
        self.where = _wrapped()
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
