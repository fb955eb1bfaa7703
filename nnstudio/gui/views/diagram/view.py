"""The network diagram: the whole network drawn the way 3Blue1Brown draws it, live.

Layers go left to right.  Each neuron is a circle lit by its activation for the current
input (0 = dark, 1 = white); each edge is blue for a positive weight and red for a negative
one, more opaque and wider the stronger it is.  The 784 inputs are a column with a visible
subset around an ellipsis, next to the 28×28 image they come from (faint threads show which
pixel each visible input neuron is); the other 12,544 input weights stay live in each
hidden neuron's 28×28 weight image (hover or click a first-hidden-layer neuron, or see the
weights gallery).

Drawing is cheap enough for 60 frames a second in software rendering: a snapshot only
marks the frame stale; the next paint renders it once into an image (static text cached
in a pixmap, edges only from visible neurons, batched by colour/opacity bucket into a few
``drawLines`` calls, weak edges aliased); hover and selection are overlays painted over
that image.  See ``benchmarks/bench_diagram.py`` for the frame times.

Run ``python -m nnstudio.gui.views.diagram.view`` for a standalone demo that trains on mnist-sample.
"""

from __future__ import annotations

import operator
import time

import numpy as np

from nnstudio.components.diagram import (
    INPUT_MODE_NAMES,
    INPUT_MODES,
    DiagramModel,
    compute_layout,
    describe_neuron,
    edge_buckets,
    gap_at,
    image_side,
    layer_title,
    nearest_neuron,
    segment_distances,
)
from nnstudio.gui.style import theme
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.session.model import InputExample

N_BUCKETS = 8  # edge strength levels (× 2 signs = 16 pens, one drawLines call each)
AA_FROM = 6  # buckets from this one up are antialiased (the faint ones are cheap and aliased)

_BG = np.array(QtGui.QColor(theme.BACKGROUND).getRgb()[:3], dtype=np.float64)


def _qcolor(c, alpha: int | None = None) -> QtGui.QColor:
    col = QtGui.QColor(c) if isinstance(c, str) else QtGui.QColor(*[int(v) for v in c])
    if alpha is not None:
        col.setAlpha(int(alpha))
    return col


def _blend(color, alpha: float) -> QtGui.QColor:
    """``color`` at opacity ``alpha`` over the background, as an opaque colour."""
    c = np.array(_qcolor(color).getRgb()[:3], dtype=np.float64)
    return _qcolor(_BG * (1 - alpha) + c * alpha)


def _font(px: float, bold: bool = False) -> QtGui.QFont:
    f = QtGui.QFont()
    f.setPixelSize(max(6, int(round(px))))
    f.setBold(bold)
    return f


def _gray_qimage(x: np.ndarray, side: int) -> QtGui.QImage:
    buf = np.ascontiguousarray(theme.activation_gray(x.reshape(side, side)))
    return QtGui.QImage(buf.data, side, side, side, QtGui.QImage.Format.Format_Grayscale8).copy()


def _rgb_qimage(rgb: np.ndarray) -> QtGui.QImage:
    h, w = rgb.shape[:2]
    buf = np.ascontiguousarray(rgb, dtype=np.uint8)
    return QtGui.QImage(buf.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()


def edge_pen(bucket: int, sign: int, width_scale: float = 1.0) -> QtGui.QPen:
    """The pen of an edge-strength bucket: an opaque colour pre-blended with the background
    (as translucent as the bucket, but ~5× cheaper to rasterise than a translucent pen)."""
    t = (bucket + 0.5) / N_BUCKETS
    alpha = 0.07 + 0.93 * t**1.6
    col = np.array(theme.POSITIVE if sign else theme.NEGATIVE, dtype=np.float64)
    rgb = _BG * (1 - alpha) + col * alpha
    # width > 1: the raster engine's cosmetic (1 px) and sub-pixel pens are 2-6× slower
    pen = QtGui.QPen(_qcolor(rgb), max(1.05, (0.8 + 2.0 * t**2) * width_scale))
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


class DiagramCanvas(QtWidgets.QWidget):
    """The painted diagram (the part of :class:`DiagramView` below its toolbar)."""

    TOOLTIP_REFRESH_S = 0.15  # while training under the pointer, the tooltip's numbers update this often

    neuronSelected = Signal(int, int)
    neuronHovered = Signal(int, int)  # (-1, -1) when the pointer leaves neurons
    statusMessage = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = DiagramModel()
        self.example: InputExample | None = None
        self.snapshot = None
        self.class_names: tuple | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(320, 200)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._layout = None
        self._layout_key = None
        self._label_chars = None  # (sizes, longest output label)
        self._lines = None  # flat list of QLineF of every visible edge (all gaps), cached per layout
        self._gap_offsets = None
        self._segments = None
        self._frame: QtGui.QImage | None = None
        self._dirty = True
        self._vis = None  # per layer, neuron index in each slot (of the last frame)
        self._pens = {}
        self._sprites = {}
        self._net_version = 0
        self._weight_img = None  # (key, QImage) of the hovered/selected neuron's weights
        self._zoom = 1.0
        self._pan = QtCore.QPointF(0.0, 0.0)
        self._dirty_tip = False
        self._tip_time = 0.0
        self._tip_timer = QtCore.QTimer(self)
        self._tip_timer.setSingleShot(True)
        self._tip_timer.timeout.connect(self._refresh_tooltip)
        self._hover = None  # ("neuron", layer, index, slot) | ("edge", gap, src, dst, w) | ("pixel", index)
        self._selected = None  # (layer, index)
        self._press = None
        self._dragging = False
        self.hover_text = ""  # the tooltip last shown (also handy for tests)
        self.frame_ms = 0.0  # time of the last full frame render

    # ------------------------------------------------------------------ state
    def set_network(self, network, snapshot=None) -> None:
        old_sizes = self.model.sizes
        self._net_version += 1
        self.snapshot = snapshot
        self.model.set_network(network)
        if network is None or tuple(network.sizes) != old_sizes:
            self._hover = None
            if self._selected is not None and (network is None or self._selected[0] >= len(network.sizes)
                                               or self._selected[1] >= network.sizes[self._selected[0]]):
                self._selected = None
        self._invalidate()

    def set_example(self, example: InputExample | None) -> None:
        self.example = example
        self.model.set_input(None if example is None else example.pixels)
        self._invalidate()

    def set_class_names(self, names) -> None:
        self.class_names = tuple(names) if names else None
        self._label_chars = None
        self._invalidate()

    def set_input_mode(self, mode: str) -> None:
        if mode not in INPUT_MODES:
            raise ValueError(f"unknown input column mode {mode!r}; choose one of {', '.join(INPUT_MODES)}")
        self.model.input_mode = mode
        self._invalidate()

    @property
    def input_mode(self) -> str:
        return self.model.input_mode

    def _invalidate(self) -> None:
        self._dirty = True
        self.update()
        if self._hover is not None and QtWidgets.QToolTip.isVisible():
            # keep the tooltip's numbers live while the network trains under the pointer
            self._dirty_tip = True

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

    # ------------------------------------------------------------------ geometry
    def diagram_layout(self):
        """The Qt-free layout for the current size (recomputed only when the size or net changes)."""
        sizes = self.model.sizes
        if not sizes:
            return None
        if self._label_chars is None or self._label_chars[0] != sizes:
            n = sizes[-1]
            chars = max((len(self.class_name(i)) for i in range(n)), default=1) if n <= 100 else len(str(n - 1))
            self._label_chars = (sizes, chars)
        chars = self._label_chars[1]
        key = (sizes, self.width(), self.height(), chars)
        if key != self._layout_key:
            self._layout = compute_layout(sizes, self.width(), self.height(), label_chars=chars)
            self._layout_key = key
            lines, offs, segs = [], [0], []
            for g in range(len(sizes) - 1):
                seg = self._layout.segments(g)
                segs.append(seg)
                lines.extend(QtCore.QLineF(*row) for row in seg.tolist())
                offs.append(len(lines))
            self._lines, self._gap_offsets, self._segments = lines, offs, segs
            self._dirty = True
        return self._layout

    def _transform(self) -> QtGui.QTransform:
        t = QtGui.QTransform()
        t.translate(self._pan.x(), self._pan.y())
        t.scale(self._zoom, self._zoom)
        return t

    def _apply_transform(self, p: QtGui.QPainter) -> None:
        """Zoom/pan the painter, but only when needed: any world transform, even the identity,
        sends some drawing (translucent lines) down a path ~10× slower."""
        if self._zoom != 1.0 or not self._pan.isNull():
            p.setTransform(self._transform())

    def to_scene(self, pos) -> tuple[float, float]:
        return ((pos.x() - self._pan.x()) / self._zoom, (pos.y() - self._pan.y()) / self._zoom)

    def _visible(self):
        lay = self.diagram_layout()
        if lay is None:
            return None
        if self._vis is None or self._dirty:
            self._vis = self.model.visible(lay)
        return self._vis

    def slot_of(self, layer: int, index: int) -> int | None:
        vis = self._visible()
        if vis is None or layer >= len(vis):
            return None
        hits = np.flatnonzero(vis[layer] == index)
        return int(hits[0]) if hits.size else None

    def neuron_center(self, layer: int, index: int) -> QtCore.QPointF | None:
        """Where a neuron is drawn (widget coordinates), or None if it is not among the visible ones."""
        slot = self.slot_of(layer, index)
        if slot is None:
            return None
        col = self._layout.columns[layer]
        return self._transform().map(QtCore.QPointF(col.x, float(col.ys[slot])))

    def edge_midpoint(self, layer: int, src: int, dst: int) -> QtCore.QPointF | None:
        """Midpoint of the edge from neuron ``src`` of ``layer`` to neuron ``dst`` of ``layer + 1``."""
        a, b = self.neuron_center(layer, src), self.neuron_center(layer + 1, dst)
        if a is None or b is None:
            return None
        return (a + b) / 2.0

    @property
    def radius(self) -> float:
        lay = self.diagram_layout()
        return 0.0 if lay is None else lay.radius * self._zoom

    def zoom_to_fit(self) -> None:
        self._zoom = 1.0
        self._pan = QtCore.QPointF(0.0, 0.0)
        self._invalidate()

    def zoom_by(self, factor: float, anchor: QtCore.QPointF | None = None) -> None:
        if anchor is None:
            anchor = QtCore.QPointF(self.width() / 2, self.height() / 2)
        new = float(np.clip(self._zoom * factor, 0.5, 12.0))
        f = new / self._zoom
        self._pan = anchor - (anchor - self._pan) * f
        self._zoom = new
        self._invalidate()

    @property
    def zoom(self) -> float:
        return self._zoom

    # ------------------------------------------------------------------ texts
    def class_name(self, i: int) -> str:
        names = self.class_names
        if names and len(names) == (self.model.sizes[-1] if self.model.sizes else 0):
            return names[i]
        return str(i)

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
        return "\n".join(lines)

    def edge_text(self, gap: int, src: int, dst: int) -> str:
        m = self.model
        L = len(m.sizes)
        w = float(m.network.weights[gap][dst, src])
        s = [f"w = {w:+.4f}",
             f"from {describe_neuron(gap, src, L, m.sizes[0])}",
             f"to {describe_neuron(gap + 1, dst, L, m.sizes[0])}"]
        a = m.activations(gap)
        if a is not None:
            s.append(f"a·w = {a[src]:.3f} × {w:+.3f} = {a[src] * w:+.4f}")
        return "\n".join(s)

    # ------------------------------------------------------------------ rendering
    def _pen(self, key: int, width_scale: float) -> QtGui.QPen:
        k = (key, round(width_scale, 3))
        pen = self._pens.get(k)
        if pen is None:
            if len(self._pens) > 256:
                self._pens.clear()
            pen = self._pens[k] = edge_pen(key // 2, key % 2, width_scale)
        return pen

    def _width_scale(self) -> float:
        """Edge width factor: grows with the window, and less than the zoom (zoomed-in edges stay fine)."""
        lay = self._layout
        return float(np.clip(lay.height / 1000.0, 0.7, 2.2)) / self._zoom**0.6 if lay else 1.0

    def _paint_static(self, p: QtGui.QPainter, lay) -> None:
        """Layer titles, ellipses, image frame, legend (drawing them, ~0.3 ms, is cheaper than
        copying a cached full-size image at 4K)."""
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        self._apply_transform(p)
        f = lay.font_px
        L = len(lay.columns)
        title_font, sub_font = _font(f * 1.05, bold=True), _font(f * 0.85)
        for l, col in enumerate(lay.columns):
            w = max(lay.width / L, f * 9)
            r1 = QtCore.QRectF(col.x - w / 2, lay.top, w, f * 1.5)
            p.setFont(title_font)
            p.setPen(_qcolor(theme.TEXT))
            p.drawText(r1, Qt.AlignmentFlag.AlignCenter, layer_title(l, L))
            sub = f"{col.size:,} neurons" if col.size != 1 else "1 neuron"
            if l == 0 and lay.image_rect is not None:
                s = image_side(col.size)
                sub = f"{col.size:,} = {s}×{s} pixels"
            if col.truncated:
                sub += f" · {col.slots} shown"
            p.setFont(sub_font)
            p.setPen(_qcolor(theme.MUTED))
            p.drawText(QtCore.QRectF(col.x - w / 2, lay.top + f * 1.5, w, f * 1.3), Qt.AlignmentFlag.AlignCenter, sub)
            if col.ellipsis_y is not None:  # the videos' vertical ellipsis: three dots
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(_qcolor(theme.TEXT))
                d = max(1.5, lay.radius * 0.22)
                step = max(d * 2.6, lay.radius * 0.55)
                for k in (-1, 0, 1):
                    p.drawEllipse(QtCore.QPointF(col.x, col.ellipsis_y + k * step), d, d)
        if lay.image_rect is not None:
            x, y, side = lay.image_rect
            p.setPen(QtGui.QPen(_qcolor(theme.MUTED), 1.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QtCore.QRectF(x - 1, y - 1, side + 2, side + 2))
            p.setFont(_font(f * 0.8))
            s = image_side(lay.sizes[0])
            p.drawText(QtCore.QRectF(x - f, y - f * 1.6, side + 2 * f, f * 1.4),
                       Qt.AlignmentFlag.AlignCenter, f"the {s}×{s} image")
        p.resetTransform()

    def render_frame(self) -> QtGui.QImage | None:
        """Render the diagram for the current state into the frame image (one full frame)."""
        t0 = time.perf_counter()
        lay = self.diagram_layout()
        dpr = self.devicePixelRatioF()
        if lay is None:
            img = QtGui.QImage(max(1, int(self.width() * dpr)), max(1, int(self.height() * dpr)),
                               QtGui.QImage.Format.Format_RGB32)
            img.setDevicePixelRatio(dpr)
            img.fill(_qcolor(theme.BACKGROUND))
            p = QtGui.QPainter(img)
            p.setPen(_qcolor(theme.MUTED))
            p.setFont(_font(16))
            p.drawText(QtCore.QRectF(0, 0, self.width(), self.height()), Qt.AlignmentFlag.AlignCenter,
                       "No network yet")
            p.end()
            self._frame, self._dirty = img, False
            return img
        w, h = int(self.width() * dpr), int(self.height() * dpr)
        img = self._frame
        if img is None or img.width() != w or img.height() != h or img.devicePixelRatio() != dpr:
            img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
            img.setDevicePixelRatio(dpr)
        img.fill(_qcolor(theme.BACKGROUND))
        m = self.model
        self._vis = vis = m.visible(lay)
        p = QtGui.QPainter(img)
        self._paint_static(p, lay)
        self._apply_transform(p)
        self._paint_edges(p, lay, vis)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        self._paint_image(p, lay, vis)
        self._paint_neurons(p, lay, vis)
        self._paint_outputs(p, lay, vis)
        p.resetTransform()
        self._paint_footer(p, lay)
        p.end()
        self._frame, self._dirty = img, False
        self.frame_ms = (time.perf_counter() - t0) * 1000.0
        return img

    def _paint_edges(self, p: QtGui.QPainter, lay, vis) -> None:
        m = self.model
        keys = []
        for g in range(len(lay.columns) - 1):
            w = m.gap_weights(g, vis[g], vis[g + 1])
            b, s = edge_buckets(w, m.scale(g), N_BUCKETS)
            keys.append(b * 2 + s)
        if not keys:
            return
        keys = np.concatenate(keys)
        order = np.argsort(keys, kind="stable")
        counts = np.bincount(keys, minlength=2 * N_BUCKETS)
        lines = self._lines
        if len(order) == 1:
            ordered = [lines[int(order[0])]]
        else:
            ordered = list(operator.itemgetter(*order.tolist())(lines))
        ws = self._width_scale()
        pos = 0
        aa = None
        for key in range(2 * N_BUCKETS):
            c = int(counts[key])
            if not c:
                continue
            want = key // 2 >= AA_FROM
            if want != aa:
                p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, want)
                aa = want
            p.setPen(self._pen(key, ws))
            p.drawLines(ordered[pos:pos + c])
            pos += c

    def _paint_image(self, p, lay, vis) -> None:
        if lay.image_rect is None:
            return
        x, y, side = lay.image_rect
        s = image_side(lay.sizes[0])
        rect = QtCore.QRectF(x, y, side, side)
        if self.model.has_input:
            p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(rect, _gray_qimage(self.model.x, s))
        else:
            p.fillRect(rect, _qcolor(theme.PANEL))
            p.setPen(_qcolor(theme.MUTED))
            p.setFont(_font(lay.font_px * 0.8))
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, "no input")
        # threads from each shown pixel to its neuron in the column, and a marker on the pixel
        col = lay.columns[0]
        px = side / s
        idx = vis[0]
        cx = x + (idx % s + 0.5) * px
        cy = y + (idx // s + 0.5) * px
        thread = _blend(theme.ACCENT, 0.28)  # opaque pre-blended colours: the cheap path
        p.setPen(QtGui.QPen(thread, 1.05))
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        x_end = col.x - lay.radius
        p.drawLines([QtCore.QLineF(a, b, x_end, c) for a, b, c in zip(cx.tolist(), cy.tolist(), col.ys.tolist())])
        p.setPen(QtGui.QPen(_blend(theme.ACCENT, 0.6), 1.05))
        p.setBrush(Qt.BrushStyle.NoBrush)
        h = max(px * 0.5, 1.5)
        p.drawRects([QtCore.QRectF(a - h, b - h, 2 * h, 2 * h) for a, b in zip(cx.tolist(), cy.tolist())])
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        if self.example is not None:
            p.setFont(_font(lay.font_px * 0.8))
            p.setPen(_qcolor(theme.TEXT))
            cap = self.example.source or "input"
            if self.example.label is not None and 0 <= int(self.example.label) < self.model.sizes[-1]:
                cap += f"\nlabel: {self.class_name(int(self.example.label))}"
            f = lay.font_px
            p.drawText(QtCore.QRectF(x - f, y + side + f * 0.4, side + 2 * f, f * 3),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap, cap)

    def _sprite(self, level: int, r: float) -> QtGui.QImage:
        """A neuron circle of one of 64 grey levels, pre-rendered at device resolution (drawing
        a cached image is ~10× cheaper than an antialiased ellipse)."""
        scale = self._zoom * self.devicePixelRatioF()
        key = (level, round(r * scale, 2))
        img = self._sprites.get(key)
        if img is None:
            if len(self._sprites) > 512:
                self._sprites.clear()
            R = r * scale
            pen_w = max(1.0, r * 0.11) * scale
            n = int(np.ceil(2 * R + pen_w + 2))
            img = QtGui.QImage(n, n, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
            img.fill(Qt.GlobalColor.transparent)
            q = QtGui.QPainter(img)
            q.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            q.setPen(QtGui.QPen(QtGui.QColor(225, 230, 236), pen_w))
            if level < 0:
                q.setBrush(_qcolor(theme.BACKGROUND))
            else:
                g = int(round(level * 255 / 63))
                q.setBrush(QtGui.QColor(g, g, g))
            q.drawEllipse(QtCore.QPointF(n / 2, n / 2), R, R)
            q.end()
            img.setDevicePixelRatio(scale)
            self._sprites[key] = img
        return img

    def _draw_neurons(self, p, lay, layer: int, vis) -> None:
        col = lay.columns[layer]
        br = self.model.layer_brightness(layer)
        levels = (np.full(col.slots, -1) if br is None
                  else np.rint(br[vis[layer]] * 63).astype(int)).tolist()
        r = lay.radius
        for lv, yv in zip(levels, col.ys.tolist()):
            img = self._sprite(lv, r)
            half = img.width() / img.devicePixelRatio() / 2  # scene units (the sprite's DPR includes the zoom)
            p.drawImage(QtCore.QPointF(col.x - half, yv - half), img)  # an unscaled blit: the fast path

    def _paint_neurons(self, p, lay, vis) -> None:
        for l in range(len(lay.columns)):
            self._draw_neurons(p, lay, l, vis)

    def _paint_outputs(self, p, lay, vis) -> None:
        m = self.model
        col = lay.columns[-1]
        a = m.activations(len(lay.columns) - 1)
        win = m.winner()
        f = lay.font_px
        r = lay.radius
        digit_font = _font(min(f * 1.15, r * 1.9 + 4), bold=True)
        val_font = _font(min(f * 0.8, r * 1.5 + 3))
        x = col.x + r + max(3.0, r * 0.3) + f * 0.45
        for slot, (idx, yv) in enumerate(zip(vis[-1].tolist(), col.ys.tolist())):
            is_win = win is not None and idx == win
            p.setFont(digit_font)
            p.setPen(_qcolor(theme.ACCENT if is_win else theme.TEXT))
            name = self.class_name(idx)
            fm = QtGui.QFontMetricsF(digit_font)
            tw = fm.horizontalAdvance(name)
            p.drawText(QtCore.QRectF(x, yv - f, tw + 4, 2 * f),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            if a is not None:
                p.setFont(val_font)
                p.setPen(_qcolor(theme.ACCENT if is_win else theme.MUTED))
                p.drawText(QtCore.QRectF(x + tw + f * 0.5, yv - f, f * 4, 2 * f),
                           Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, f"{a[idx]:.2f}")
            if is_win:
                p.setPen(QtGui.QPen(_qcolor(theme.ACCENT), max(2.0, r * 0.22)))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(QtCore.QPointF(col.x, yv), r + max(3.0, r * 0.3), r + max(3.0, r * 0.3))

    def footer_text(self) -> tuple[str, str]:
        """The two footer lines: what the network reads the input as, and the training state."""
        m = self.model
        left = ""
        if self.example is not None and m.has_input:
            win = m.winner()
            left = f"the network reads this as “{self.class_name(win)}”"
            if self.example.label is not None and int(self.example.label) < m.sizes[-1]:
                ok = int(self.example.label) == win
                left += "  ✓" if ok else f"  ✗ (label “{self.class_name(int(self.example.label))}”)"
        elif not m.has_input:
            left = "no input: pick an example or draw a digit"
        s = self.snapshot
        right = f"{m.network.n_params:,} weights and biases"
        if s is not None:
            right = f"step {s.step:,} · epoch {s.epoch} · " + right
            if s.batch_cost is not None:
                right = f"mini-batch cost {s.batch_cost:.3f} · " + right
        return left, right

    def _paint_footer(self, p, lay) -> None:
        f = lay.font_px
        if self._zoom != 1.0 or not self._pan.isNull():  # zoomed/panned: keep the footer legible
            p.fillRect(QtCore.QRectF(0, lay.height - f * 3.4, lay.width, f * 3.4), _qcolor(theme.BACKGROUND, 225))
        p.setFont(_font(f * 0.78))
        p.setPen(_qcolor(theme.MUTED))
        legend = ("brightness = activation  ·  edges: blue = positive weight, red = negative, "
                  "stronger = more opaque  ·  hover for values, click a neuron to inspect, wheel to zoom")
        p.drawText(QtCore.QRectF(0, lay.height - f * 1.5, lay.width, f * 1.3), Qt.AlignmentFlag.AlignCenter, legend)
        p.setFont(_font(f * 0.82))
        left, right = self.footer_text()
        p.setPen(_qcolor(theme.TEXT))
        p.drawText(QtCore.QRectF(f, lay.height - f * 3.1, lay.width / 2, f * 1.4),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, left)
        p.setPen(_qcolor(theme.MUTED))
        p.drawText(QtCore.QRectF(lay.width / 2, lay.height - f * 3.1, lay.width / 2 - f, f * 1.4),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, right)

    # ------------------------------------------------------------------ paint + overlays
    def paintEvent(self, event) -> None:
        dpr = self.devicePixelRatioF()
        if (self._dirty or self._frame is None or self._frame.width() != int(self.width() * dpr)
                or self._frame.height() != int(self.height() * dpr)):
            self.render_frame()
        p = QtGui.QPainter(self)
        p.drawImage(0, 0, self._frame)
        if self._layout is not None and self.model.network is not None:
            p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            self._apply_transform(p)
            self._paint_overlay(p)
        p.end()
        if self._dirty_tip and not self._tip_timer.isActive():
            # numbers changing 60 times a second are unreadable (and re-laying a tooltip costs):
            # refresh it at most ~7 times a second
            wait = self.TOOLTIP_REFRESH_S - (time.perf_counter() - self._tip_time)
            self._tip_timer.start(max(0, int(wait * 1000)))

    def _incident_lines(self, layer: int, slot: int):
        """(lines, weights, gap) of the visible edges into and out of a neuron slot."""
        lay, vis = self._layout, self._vis
        out = []
        for g in (layer - 1, layer):
            if g < 0 or g >= len(lay.columns) - 1:
                continue
            m_src = lay.columns[g].slots
            base = self._gap_offsets[g]
            if g == layer - 1:  # incoming: destination slot fixed
                ks = base + slot * m_src + np.arange(m_src)
                w = self.model.network.weights[g][vis[g + 1][slot], vis[g]]
            else:  # outgoing: source slot fixed
                n_dst = lay.columns[g + 1].slots
                ks = base + np.arange(n_dst) * m_src + slot
                w = self.model.network.weights[g][vis[g + 1], vis[g][slot]]
            out.append(([self._lines[k] for k in ks.tolist()], np.asarray(w), g))
        return out

    def _paint_overlay(self, p: QtGui.QPainter) -> None:
        lay = self._layout
        r = lay.radius
        h = self._hover
        ws = self._width_scale()
        first_hidden = None
        slot = None if h is None or h[0] != "neuron" else self.slot_of(h[1], h[2])
        if slot is not None:
            _, layer, index, _ = h
            # dim everything, then draw this neuron's visible connections and neighbours on top
            p.save()
            p.resetTransform()
            p.fillRect(QtCore.QRectF(0, 0, self.width(), self.height()), _qcolor(theme.BACKGROUND, 185))
            p.restore()
            for lines, w, g in self._incident_lines(layer, slot):
                b, s = edge_buckets(w, self.model.scale(g), N_BUCKETS)
                keys = b * 2 + s
                for key in np.unique(keys).tolist():  # weakest first; opaque pens (cheap), one call per bucket
                    t = (key // 2 + 0.5) / N_BUCKETS
                    pen = QtGui.QPen(_blend(theme.POSITIVE if key % 2 else theme.NEGATIVE, 0.4 + 0.6 * t),
                                     max(1.05, (1.0 + 2.4 * t**1.5) * ws))
                    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
                    p.setPen(pen)
                    p.drawLines([lines[k] for k in np.flatnonzero(keys == key).tolist()])
                for ll in (g, g + 1):
                    self._redraw_column(p, ll)
            self._ring(p, layer, slot, QtGui.QColor(255, 255, 255), r + 3, 2.0)
            if layer == 1:
                first_hidden = index
        elif h is not None and h[0] == "edge":
            _, g, src, dst, _w = h
            a, b = self.slot_of(g, src), self.slot_of(g + 1, dst)
            if a is not None and b is not None:
                c0, c1 = lay.columns[g], lay.columns[g + 1]
                p.setPen(QtGui.QPen(_qcolor(theme.ACCENT), 2.5 * ws))
                p.drawLine(QtCore.QLineF(c0.x + r, c0.ys[a], c1.x - r, c1.ys[b]))
        if self._selected is not None:
            slot = self.slot_of(*self._selected)
            if slot is not None:
                self._ring(p, self._selected[0], slot, _qcolor(theme.ACCENT), r + 4, 3.0)
            if first_hidden is None and self._selected[0] == 1:
                first_hidden = self._selected[1]
        if first_hidden is not None and lay.image_rect is not None:
            self._paint_weight_panel(p, lay, first_hidden)

    def _redraw_column(self, p, layer: int) -> None:
        """Repaint one column's neurons (over the dimmed frame)."""
        self._draw_neurons(p, self._layout, layer, self._vis)

    def _ring(self, p, layer, slot, color, radius, width) -> None:
        col = self._layout.columns[layer]
        p.setPen(QtGui.QPen(color, width))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QtCore.QPointF(col.x, float(col.ys[slot])), radius, radius)

    def _paint_weight_panel(self, p, lay, index: int) -> None:
        """The hovered/selected first-hidden neuron's 28×28 weight image, under the input image."""
        x, y, side = lay.image_rect
        s = image_side(lay.sizes[0])
        f = lay.font_px
        w = self.model.network.weights[0][index]
        ps = side * 0.8
        top = y + side + f * 5.0
        if top + ps > lay.height - f * 3.4:  # no room below: over the image's top-left instead
            top = max(lay.top + f * 3.2, y - ps - f * 1.8)
        rect = QtCore.QRectF(x + (side - ps) / 2, top, ps, ps)
        p.fillRect(rect.adjusted(-2, -2, 2, 2), QtGui.QColor(0, 0, 0))
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        key = (self._net_version, index)
        if self._weight_img is None or self._weight_img[0] != key:
            self._weight_img = (key, _rgb_qimage(theme.weight_image(w.reshape(s, s)))
                                .convertToFormat(QtGui.QImage.Format.Format_RGB32))
        p.drawImage(rect, self._weight_img[1])
        p.setPen(QtGui.QPen(_qcolor(theme.ACCENT), 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect.adjusted(-2, -2, 2, 2))
        p.setFont(_font(f * 0.75))
        p.setPen(_qcolor(theme.TEXT))
        p.drawText(QtCore.QRectF(rect.x() - f * 2, rect.y() - f * 1.4, rect.width() + f * 4, f * 1.3),
                   Qt.AlignmentFlag.AlignCenter, f"neuron {index}'s weights")

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

    def resizeEvent(self, e) -> None:
        self._dirty = True
        super().resizeEvent(e)


TOOLBAR_STYLE = f"""
QLabel, QCheckBox {{ color: {theme.TEXT}; }}
QCheckBox:disabled, QLabel:disabled {{ color: {theme.MUTED}; }}
QToolButton, QComboBox {{ color: {theme.TEXT}; background: {theme.PANEL}; border: 1px solid #30363d;
    border-radius: 4px; padding: 2px 8px; }}
QToolButton:hover, QComboBox:hover {{ border-color: {theme.MUTED}; }}
QToolButton:disabled {{ color: #484f58; }}
QComboBox QAbstractItemView {{ color: {theme.TEXT}; background: {theme.PANEL};
    selection-background-color: #30363d; }}
QCheckBox::indicator {{ width: 13px; height: 13px; border: 1px solid {theme.MUTED}; border-radius: 3px;
    background: {theme.PANEL}; }}
QCheckBox::indicator:checked {{ background: {theme.ACCENT}; border-color: {theme.ACCENT}; }}
"""


class DiagramView(StudioView):
    """The network diagram view (the studio's central widget).

    Signals: ``neuronSelected(int layer, int index)`` when a neuron is clicked (layer 0 is the
    input, the last layer the output), ``neuronHovered(int, int)`` ((-1, -1) when none),
    and the StudioView ones: ``inputRequested(InputExample)`` when the user flips through
    the mini-batch, ``statusMessage(str)``.
    """

    title = "Network"
    neuronSelected = Signal(int, int)
    neuronHovered = Signal(int, int)

    def __init__(self, parent=None, *, open_inspector: bool = True):
        super().__init__(parent)
        self.open_inspector_on_click = open_inspector
        self.snapshot = None
        self.example: InputExample | None = None
        self.dataset = None
        self._batch_pos = 0
        self._inspector_dialog = None

        self.canvas = DiagramCanvas(self)
        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 2)
        bar.setSpacing(6)
        self.prev_button = QtWidgets.QToolButton(text="◀")
        self.prev_button.setToolTip("Previous example of the mini-batch (Page Up)")
        self.next_button = QtWidgets.QToolButton(text="▶")
        self.next_button.setToolTip("Next example of the mini-batch (Page Down)")
        self.batch_label = QtWidgets.QLabel("mini-batch: —")
        self.follow_check = QtWidgets.QCheckBox("follow training")
        self.follow_check.setToolTip("Show an example of each new mini-batch as it is stepped")
        self.mode_combo = QtWidgets.QComboBox()
        for mode in INPUT_MODES:
            self.mode_combo.addItem(INPUT_MODE_NAMES[mode], mode)
        self.mode_combo.setToolTip(
            "Which of the input layer's pixels the column shows (the rest are behind the ellipsis)")
        self.fit_button = QtWidgets.QToolButton(text="Fit")
        self.fit_button.setToolTip("Zoom to fit (F, or double-click the background); wheel zooms, drag pans")
        bar.addWidget(self.prev_button)
        bar.addWidget(self.batch_label)
        bar.addWidget(self.next_button)
        bar.addWidget(self.follow_check)
        bar.addStretch(1)
        bar.addWidget(QtWidgets.QLabel("input column:"))
        bar.addWidget(self.mode_combo)
        bar.addWidget(self.fit_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.canvas, 1)
        self.setStyleSheet(TOOLBAR_STYLE)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, _qcolor(theme.BACKGROUND))
        self.setPalette(pal)

        self.prev_button.clicked.connect(self.previous_batch_example)
        self.next_button.clicked.connect(self.next_batch_example)
        self.mode_combo.currentIndexChanged.connect(
            lambda _i: self.canvas.set_input_mode(self.mode_combo.currentData()))
        self.fit_button.clicked.connect(self.canvas.zoom_to_fit)
        self.canvas.neuronSelected.connect(self._on_selected)
        self.canvas.neuronHovered.connect(self.neuronHovered)
        self.canvas.statusMessage.connect(self.statusMessage)
        for key, fn in ((QtGui.QKeySequence.StandardKey.MoveToPreviousPage, self.previous_batch_example),
                        (QtGui.QKeySequence.StandardKey.MoveToNextPage, self.next_batch_example)):
            sc = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)
        self._update_batch_bar()

    # ------------------------------------------------------------------ StudioView protocol
    def set_snapshot(self, snapshot) -> None:
        self.snapshot = snapshot
        self.canvas.set_network(None if snapshot is None else snapshot.network, snapshot)
        if self.follow_check.isChecked() and self.batch_size_available():
            self.show_batch_example(self._batch_pos)
        self._update_batch_bar()
        if self._inspector_dialog is not None and self._inspector_dialog.isVisible():
            self._inspector_dialog.inspector.set_snapshot(snapshot)

    def set_input(self, example) -> None:
        self.example = example
        self.canvas.set_example(example)
        if example is not None and example.extra.get("batch_step") is not None and self.snapshot is not None:
            self._batch_pos = int(example.extra.get("batch_position", self._batch_pos))
        self._update_batch_bar()
        if self._inspector_dialog is not None and self._inspector_dialog.isVisible():
            self._inspector_dialog.inspector.set_input(example)

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.canvas.set_class_names(None if dataset is None else dataset.class_names)
        self._update_batch_bar()
        if self._inspector_dialog is not None:
            self._inspector_dialog.inspector.set_dataset(dataset)

    # ------------------------------------------------------------------ conveniences
    def set_network(self, network) -> None:
        """Show a network directly (wraps it in a Snapshot; the view keeps a copy)."""
        from nnstudio.session.model import Snapshot

        self.set_snapshot(Snapshot.of(network))

    def set_input_mode(self, mode: str) -> None:
        """Which pixels the input column shows: "spread", "brightest" or "strongest"."""
        self.mode_combo.setCurrentIndex(INPUT_MODES.index(mode))

    def zoom_to_fit(self) -> None:
        self.canvas.zoom_to_fit()

    def neuron_center(self, layer: int, index: int):
        """Centre of a drawn neuron in *view* coordinates (None if not visible)."""
        c = self.canvas.neuron_center(layer, index)
        return None if c is None else QtCore.QPointF(self.canvas.mapTo(self, c.toPoint()))

    # ------------------------------------------------------------------ selection + inspector
    def select_neuron(self, layer: int, index: int, inspect: bool | None = None) -> None:
        """Select a neuron (as a click does): emits neuronSelected, opens the inspector."""
        self._inspect_next = self.open_inspector_on_click if inspect is None else inspect
        self.canvas.select_neuron(layer, index)

    def _on_selected(self, layer: int, index: int) -> None:
        inspect = getattr(self, "_inspect_next", self.open_inspector_on_click)
        self._inspect_next = self.open_inspector_on_click
        if inspect:
            self.show_inspector(layer, index)
        self.neuronSelected.emit(layer, index)

    def show_inspector(self, layer: int, index: int):
        from nnstudio.gui.views.diagram.inspector import InspectorDialog

        if self._inspector_dialog is None:
            self._inspector_dialog = InspectorDialog(self.window())
            self._inspector_dialog.inspector.inputRequested.connect(self.inputRequested)
            self._inspector_dialog.inspector.inputRequested.connect(self.set_input)
        ins = self._inspector_dialog.inspector
        ins.set_dataset(self.dataset)
        ins.set_snapshot(self.snapshot)
        ins.set_input(self.example)
        ins.set_neuron(layer, index)
        self._inspector_dialog.show()
        self._inspector_dialog.raise_()
        return self._inspector_dialog

    @property
    def inspector(self):
        """The neuron inspector (a NeuronInspector), or None before the first click."""
        return None if self._inspector_dialog is None else self._inspector_dialog.inspector

    @property
    def inspector_dialog(self):
        return self._inspector_dialog

    # ------------------------------------------------------------------ the mini-batch
    def batch_size_available(self) -> int:
        s, ds = self.snapshot, self.dataset
        if s is None or ds is None or s.batch_indices is None or len(s.batch_indices) == 0:
            return 0
        if int(np.max(s.batch_indices)) >= len(ds.train_labels):
            return 0
        if ds.train_x.shape[1] != s.network.sizes[0]:
            return 0
        return len(s.batch_indices)

    def batch_example(self, i: int) -> InputExample | None:
        """Example ``i`` of the mini-batch just stepped, as an InputExample."""
        n = self.batch_size_available()
        if not n:
            return None
        i %= n
        idx = int(self.snapshot.batch_indices[i])
        ds = self.dataset
        return InputExample(
            pixels=ds.train_x[idx] / 255.0, label=int(ds.train_labels[idx]),
            source=f"mini-batch {i + 1}/{n} · train #{idx}", index=idx, split="train",
            extra={"batch_position": i, "batch_step": self.snapshot.step},
        )

    def show_batch_example(self, i: int) -> None:
        ex = self.batch_example(i)
        if ex is None:
            return
        self._batch_pos = ex.extra["batch_position"]
        self.set_input(ex)
        self.inputRequested.emit(ex)

    def next_batch_example(self) -> None:
        self.show_batch_example(self._batch_pos + 1 if self._showing_batch() else 0)

    def previous_batch_example(self) -> None:
        self.show_batch_example(self._batch_pos - 1 if self._showing_batch() else 0)

    def _showing_batch(self) -> bool:
        ex = self.example
        return ex is not None and ex.extra.get("batch_step") is not None

    @property
    def batch_position(self) -> int:
        return self._batch_pos

    def _update_batch_bar(self) -> None:
        n = self.batch_size_available()
        for w in (self.prev_button, self.next_button, self.follow_check):
            w.setEnabled(bool(n))
        if not n:
            self.batch_label.setText("mini-batch: —")
            self.batch_label.setToolTip("Flip through the mini-batch just stepped (once training has started)")
        elif self._showing_batch():
            self.batch_label.setText(f"mini-batch example {self._batch_pos % n + 1}/{n}")
        else:
            self.batch_label.setText(f"mini-batch of {n}")


def _demo(argv=None) -> int:  # pragma: no cover - manual demo
    import argparse
    import sys

    from nnstudio.core import Network, Trainer
    from nnstudio.data import load_dataset
    from nnstudio.session.model import Snapshot
    from nnstudio.gui.views.diagram.weights_gallery import WeightsGalleryView

    ap = argparse.ArgumentParser(description="Watch the network diagram while it trains on mnist-sample.")
    ap.add_argument("--sizes", default="784-16-16-10")
    ap.add_argument("--steps-per-frame", type=int, default=2)
    ap.add_argument("--follow", action="store_true", help="show the examples of each mini-batch")
    args = ap.parse_args(argv)
    try:
        sizes = tuple(int(s) for s in args.sizes.split("-"))
    except ValueError:
        print(f"bad --sizes {args.sizes!r}; use e.g. 784-16-16-10", file=sys.stderr)
        return 2
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    ds = load_dataset("mnist-sample")
    net = Network(sizes, seed=0)
    tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=1.5, batch_size=10)
    win = QtWidgets.QMainWindow()
    win.setWindowTitle("nnstudio — network diagram demo")
    view = DiagramView()
    gallery = WeightsGalleryView()
    win.setCentralWidget(view)
    dock = QtWidgets.QDockWidget(gallery.title, win)
    dock.setWidget(gallery)
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    gallery.neuronSelected.connect(lambda l, i: view.select_neuron(l, i))
    view.neuronSelected.connect(gallery.select_neuron)
    for v in (view, gallery):
        v.set_dataset(ds)
        v.statusMessage.connect(win.statusBar().showMessage)
    view.inputRequested.connect(gallery.set_input)
    ex = InputExample(ds.test_x[0] / 255.0, int(ds.test_labels[0]), "test #0", 0, "test")
    view.set_input(ex)
    gallery.set_input(ex)
    view.follow_check.setChecked(args.follow)

    def tick():
        r = None
        for _ in range(args.steps_per_frame):
            r = tr.step()
        s = Snapshot.of(net, r)
        view.set_snapshot(s)
        gallery.set_snapshot(s)

    timer = QtCore.QTimer(win)
    timer.timeout.connect(tick)
    timer.start(16)
    tick()
    win.resize(1600, 1000)
    win.show()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(_demo())
