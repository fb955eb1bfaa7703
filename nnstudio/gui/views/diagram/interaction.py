"""The network diagram's pointer and keyboard side: hit testing, live tooltips, selection, zoom/pan.

:class:`CanvasInteraction` is a mixin of :class:`~nnstudio.gui.views.diagram.canvas.DiagramCanvas`
(kept apart so that the canvas module holds the rendering): it works on the canvas's model,
layout, zoom/pan and hover/selection state, and emits the canvas's ``neuronSelected``,
``neuronHovered`` and ``statusMessage`` signals.
"""

from __future__ import annotations

import time

import numpy as np

from nnstudio.components.diagram import describe_neuron, gap_at, image_side, nearest_neuron, segment_distances
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt


class CanvasInteraction:
    """Hit testing, tooltips, selection and mouse/keyboard handling of the diagram canvas."""

    # ------------------------------------------------------------------ tooltips
    def _refresh_tooltip(self) -> None:
        self._dirty_tip = False
        self._tip_time = time.perf_counter()
        h = self._hover
        if h is None or h[0] == "edge" and self.model.network is not None and (
                h[1] >= len(self.model.network.weights)):
            return
        if h[0] == "edge":
            g, src, dst = h[1], h[2], h[3]
            w = self.model.network.weights[g]
            if dst >= w.shape[0] or src >= w.shape[1]:
                return
        text = self._hover_text(h)
        if text and text != self.hover_text:
            self.hover_text = text
            QtWidgets.QToolTip.showText(QtGui.QCursor.pos(), text, self)

    def neuron_text(self, layer: int, index: int) -> str:
        """The tooltip of a neuron: its name, weighted sum z, bias b and activation a."""
        m = self.model
        L = len(m.sizes)
        v = m.neuron(layer, index)
        name = describe_neuron(layer, index, L, m.sizes[0])
        if layer == L - 1:
            name += f" (“{self.class_name(index)}”)"
        lines = [name]
        fn = m.network.layer_activation(layer - 1).name if layer > 0 else ""
        if layer == 0:
            lines.append("a = " + ("—" if v.a is None else f"{v.a:.3f}") + "  (pixel brightness)")
        else:
            lines.append("z = w·a + b = " + ("—" if v.z is None else f"{v.z:+.3f}"))
            lines.append(f"b = {v.b:+.3f}")
            lines.append(f"a = {fn}(z) = " + ("—" if v.a is None else f"{v.a:.3f}"))
        if v.a is None:
            lines.append("(no input: pick an example or draw a digit)")
        nudge = m.layer_nudges(layer)
        if nudge is not None:
            lines.append(f"desired nudge −∂C/∂a = {nudge[index]:+.4f}  (for “{self.class_name(m.label)}”)")
        return "\n".join(lines)

    def edge_text(self, gap: int, src: int, dst: int) -> str:
        m = self.model
        L = len(m.sizes)
        w = float(m.network.weights[gap][dst, src])
        s = [f"w = {w:+.4f}"]
        snap = m.snapshot
        if snap is not None and getattr(snap, "step_change", None) is not None and snap.network is m.network:
            d, g = snap.change_params()[gap][src, dst], snap.descent_params()[gap][src, dst]
            s.append(f"−∂C/∂w = {g:+.4g}  (mini-batch {snap.step:,})")
            s.append(f"Δw = {d:+.4g}  (= η × −∂C/∂w, η = {snap.learning_rate:g})")
        s += [f"from {describe_neuron(gap, src, L, m.sizes[0])}",
             f"to {describe_neuron(gap + 1, dst, L, m.sizes[0])}"]
        a = m.activations(gap)
        if a is not None:
            s.append(f"a·w = {a[src]:.3f} × {w:+.3f} = {a[src] * w:+.4f}")
        return "\n".join(s)

    # ------------------------------------------------------------------ hit testing
    def hit_test(self, pos):
        """What is under a widget position: ("neuron", layer, index, slot), ("edge", gap, src, dst, w),
        ("pixel", index) or None."""
        lay = self.diagram_layout()
        if lay is None or self.model.network is None:
            return None
        vis = self._visible()
        x, y = self.to_scene(pos)
        hit = nearest_neuron(lay, x, y)
        if hit is not None:
            l, slot = hit
            return ("neuron", l, int(vis[l][slot]), slot)
        if lay.image_rect is not None:
            ix, iy, side = lay.image_rect
            if ix <= x < ix + side and iy <= y < iy + side:
                s = image_side(lay.sizes[0])
                r, c = int((y - iy) / side * s), int((x - ix) / side * s)
                return ("pixel", r * s + c)
        g = gap_at(lay, x)
        if g is None:
            return None
        d = segment_distances(self._segments[g], x, y)
        tol = max(3.5 / self._zoom, 2.0)
        k = int(np.argmin(d))
        if d[k] > tol:
            return None
        m_src = lay.columns[g].slots
        src, dst = int(vis[g][k % m_src]), int(vis[g + 1][k // m_src])
        return ("edge", g, src, dst, float(self.model.network.weights[g][dst, src]))

    def _hover_text(self, hit) -> str:
        if hit is None:
            return ""
        if hit[0] == "neuron":
            return self.neuron_text(hit[1], hit[2])
        if hit[0] == "edge":
            return self.edge_text(hit[1], hit[2], hit[3])
        if hit[0] == "pixel":
            i = hit[1]
            s = image_side(self.model.sizes[0])
            a = self.model.activations(0)
            val = "—" if a is None else f"{a[i]:.3f}"
            shown = self.slot_of(0, i) is not None
            return (f"pixel {i} (row {i // s}, col {i % s})\na = {val}"
                    + ("\n(shown in the input column)" if shown else ""))
        return ""

    def _set_hover(self, hit, global_pos=None) -> None:
        old = self._hover
        self._hover = hit
        text = self._hover_text(hit)
        self.hover_text = text
        if text and global_pos is not None:
            QtWidgets.QToolTip.showText(global_pos, text, self)
        elif not text:
            QtWidgets.QToolTip.hideText()
        n_old = (old[1], old[2]) if old and old[0] == "neuron" else (-1, -1)
        n_new = (hit[1], hit[2]) if hit and hit[0] == "neuron" else (-1, -1)
        if n_old != n_new:
            self.neuronHovered.emit(*n_new)
        if old != hit:
            self.update()

    # ------------------------------------------------------------------ selection
    def select_neuron(self, layer: int, index: int) -> None:
        sizes = self.model.sizes
        if not sizes or not (0 <= layer < len(sizes)) or not (0 <= index < sizes[layer]):
            raise ValueError(f"no neuron {index} in layer {layer}")
        self._selected = (layer, index)
        self.update()
        self.neuronSelected.emit(layer, index)

    def clear_selection(self) -> None:
        self._selected = None
        self.update()

    @property
    def selected(self):
        return self._selected

    # ------------------------------------------------------------------ events
    def mouseMoveEvent(self, e) -> None:
        pos = e.position()
        if self._press is not None and e.buttons() & Qt.MouseButton.LeftButton:
            delta = pos - self._press[0]
            if self._dragging or (self._press[1] is None or self._press[1][0] != "neuron") and \
                    delta.manhattanLength() > 5:
                self._dragging = True
                self._pan = self._press[2] + delta
                self._invalidate()
                return
        self._set_hover(self.hit_test(pos), e.globalPosition().toPoint())

    def mousePressEvent(self, e) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._press = (e.position(), self.hit_test(e.position()), QtCore.QPointF(self._pan))
            self._dragging = False
        super().mousePressEvent(e)

    def mouseReleaseEvent(self, e) -> None:
        press, self._press = self._press, None
        if e.button() != Qt.MouseButton.LeftButton or press is None:
            return
        if self._dragging:
            self._dragging = False
            return
        hit = self.hit_test(e.position())
        if hit is None:
            return
        if hit[0] == "neuron":
            self.select_neuron(hit[1], hit[2])
        elif hit[0] == "edge":
            self.statusMessage.emit(self.edge_text(hit[1], hit[2], hit[3]).replace("\n", " · "))

    def mouseDoubleClickEvent(self, e) -> None:
        if self.hit_test(e.position()) is None:
            self.zoom_to_fit()

    def wheelEvent(self, e) -> None:
        steps = e.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15**steps, e.position())
            self._set_hover(None)

    def keyPressEvent(self, e) -> None:
        k = e.key()
        if k in (Qt.Key.Key_F, Qt.Key.Key_0):
            self.zoom_to_fit()
        elif k in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(1.25)
        elif k == Qt.Key.Key_Minus:
            self.zoom_by(0.8)
        else:
            super().keyPressEvent(e)

    def leaveEvent(self, e) -> None:
        self._set_hover(None)
        super().leaveEvent(e)
