"""The painted network diagram: the whole network drawn the way 3Blue1Brown draws it, live.

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
that image.  See ``benchmarks/bench_diagram.py`` for the frame times.  Hit testing, tooltips,
selection and the zoom/pan gestures are in :mod:`.interaction`.
"""

from __future__ import annotations

import operator
import time

import numpy as np

from nnstudio.components.diagram import (
    CAPTION_SCALE,
    FOOTER_SCALE,
    INPUT_MODES,
    LINE,
    SUB_SCALE,
    TITLE_SCALE,
    DiagramModel,
    compute_layout,
    edge_buckets,
    image_side,
    layer_title,
    legend_items,
    robust_scale,
)
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import blend, pixel_font, qcolor, signed_qimage, to_qimage
from nnstudio.gui.views.diagram.arrows import draw_nudges, draw_sample
from nnstudio.gui.views.diagram.interaction import CanvasInteraction
from nnstudio.session.model import InputExample

#: the legend under the diagram of the weights and activations: (the sample drawn before the words,
#: the words); the last items are dropped first when the diagram is narrow, and the last one (the
#: gestures) is muted.  The other modes' legends: components.diagram.legend_items
LEGEND = legend_items()
N_BUCKETS = 8  # edge strength levels (× 2 signs = 16 pens, one drawLines call each)
AA_FROM = 6  # buckets from this one up are antialiased (the faint ones are cheap and aliased)
#: frames less than MOVING_S apart are an animation (training): on a canvas of more than
#: COARSE_FROM device pixels they draw the strongest edges without antialiasing (at 3840×2160 the
#: ~100 antialiased edges of 784-100-10 cost 5.7 ms of a 17 ms frame, aliased 0.5 ms), and the
#: frame is drawn again in full quality REFINE_MS after the last one
MOVING_S = 0.1
COARSE_FROM = 4_500_000
REFINE_MS = 150


def edge_pen(bucket: int, sign: int, width_scale: float = 1.0) -> QtGui.QPen:
    """The pen of an edge-strength bucket: an opaque colour pre-blended with the background
    (as translucent as the bucket, but ~5× cheaper to rasterise than a translucent pen)."""
    t = (bucket + 0.5) / N_BUCKETS
    alpha = 0.07 + 0.93 * t**1.6
    # width > 1: the raster engine's cosmetic (1 px) and sub-pixel pens are 2-6× slower
    pen = QtGui.QPen(blend(theme.POSITIVE if sign else theme.NEGATIVE, alpha),
                     max(1.05, (0.8 + 2.0 * t**2) * width_scale))
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


def _fitting(fm: QtGui.QFontMetricsF, width: float, options) -> str:
    """The first of ``options`` (longest first) that fits ``width``, else the last."""
    for text in options:
        if fm.horizontalAdvance(text) <= width:
            return text
    return options[-1]


class DiagramCanvas(CanvasInteraction, QtWidgets.QWidget):
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
        self.network_label = ""  # the studio's name for its network (shown in the footer)
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
        self._texts = None  # (layout, the fonts and words of its static texts)
        self._legend = None  # ((width, height, font size, pixel ratio), the legend drawn as an image)
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
        self._last_render = -1e9
        self.coarse = False  # the last frame drew its strongest edges aliased (see COARSE_FROM)
        self._refine_timer = QtCore.QTimer(self)
        self._refine_timer.setSingleShot(True)
        self._refine_timer.setInterval(REFINE_MS)
        self._refine_timer.timeout.connect(self._refine)

    # ------------------------------------------------------------------ state
    def set_network(self, network, snapshot=None) -> None:
        old_sizes = self.model.sizes
        self._net_version += 1
        self.snapshot = snapshot
        self.model.set_network(network, snapshot)
        if network is None or tuple(network.sizes) != old_sizes:
            self._hover = None
            if self._selected is not None and (network is None or self._selected[0] >= len(network.sizes)
                                               or self._selected[1] >= network.sizes[self._selected[0]]):
                self._selected = None
        self._invalidate()

    def set_example(self, example: InputExample | None) -> None:
        self.example = example
        self.model.set_input(None if example is None else example.pixels, None if example is None else example.label)
        self._invalidate()

    def set_modes(self, edges: str | None = None, neurons: str | None = None) -> None:
        """What the edges show ("weights", "gradient": −∂C/∂w of the last mini-batch, "change": Δw of the
        last step) and the neurons ("activation", "nudge": −∂C/∂a for the input shown)."""
        self.model.set_modes(edges, neurons)
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

    @property
    def edge_mode(self) -> str:
        return self.model.edge_mode

    @property
    def neuron_mode(self) -> str:
        return self.model.neuron_mode

    def _invalidate(self) -> None:
        self._dirty = True
        self.update()
        if self._hover is not None and QtWidgets.QToolTip.isVisible():
            # keep the tooltip's numbers live while the network trains under the pointer
            self._dirty_tip = True

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
        texts = self._static_texts(lay)
        title_font, sub_font = texts["title_font"], texts["sub_font"]
        title_h, sub_h = lay.text_px(TITLE_SCALE) * LINE, lay.text_px(SUB_SCALE) * LINE
        for l, col in enumerate(lay.columns):
            w = texts["widths"][l]
            p.setFont(title_font)
            p.setPen(qcolor(theme.TEXT))
            p.drawText(QtCore.QRectF(col.x - w / 2, lay.top, w, title_h), Qt.AlignmentFlag.AlignCenter,
                       texts["titles"][l])
            p.setFont(sub_font)
            p.setPen(qcolor(theme.MUTED))
            p.drawText(QtCore.QRectF(col.x - w / 2, lay.top + title_h, w, sub_h), Qt.AlignmentFlag.AlignCenter,
                       texts["subs"][l])
            if col.ellipsis_y is not None:  # the videos' vertical ellipsis: three dots
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(qcolor(theme.TEXT))
                d = max(1.5, lay.radius * 0.22)
                step = max(d * 2.6, lay.radius * 0.55)
                for k in (-1, 0, 1):
                    p.drawEllipse(QtCore.QPointF(col.x, col.ellipsis_y + k * step), d, d)
        if lay.image_rect is not None:
            x, y, side = lay.image_rect
            p.setPen(QtGui.QPen(qcolor(theme.MUTED), 1.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QtCore.QRectF(x - 1, y - 1, side + 2, side + 2))
            p.setFont(texts["caption_font"])
            box = texts["caption_box"]
            p.drawText(QtCore.QRectF(box.x(), y - 3 - box.height(), box.width(), box.height()),
                       Qt.AlignmentFlag.AlignCenter, texts["image_caption"])
        p.resetTransform()

    def _static_texts(self, lay) -> dict:
        """The fonts and the words of the layer titles, subtitles and image caption, the longest
        that fit their column (worked out once per layout: the frame only draws them)."""
        cached = self._texts
        if cached is not None and cached[0] is lay:
            return cached[1]
        L = len(lay.columns)
        title_font, sub_font = pixel_font(lay.text_px(TITLE_SCALE), bold=True), pixel_font(lay.text_px(SUB_SCALE))
        tfm, sfm = QtGui.QFontMetricsF(title_font), QtGui.QFontMetricsF(sub_font)
        gap = (lay.columns[1].x - lay.columns[0].x) if L > 1 else lay.width
        widths, titles, subs = [], [], []
        for l, col in enumerate(lay.columns):
            w = min(gap - 4, 2 * col.x, 2 * (lay.width - col.x)) if L > 1 else lay.width
            widths.append(w)
            title = layer_title(l, L)
            titles.append(_fitting(tfm, w, (title, title.replace(" layer", ""))))
            n, k = f"{col.size:,}", f" · {col.slots} shown" if col.truncated else ""
            s = image_side(col.size) if l == 0 and lay.image_rect is not None else None
            unit = "neurons" if col.size != 1 else "neuron"
            options = ((f"{n} = {s}×{s} pixels{k}", f"{n} pixels{k}") if s else (f"{n} {unit}{k}",)) + (
                f"{n}{k}", f"{n} {'pixels' if s else unit}", n)
            subs.append(_fitting(sfm, w, options))
        texts = {"title_font": title_font, "sub_font": sub_font, "widths": widths, "titles": titles, "subs": subs}
        cap_font = texts["caption_font"] = pixel_font(lay.text_px(CAPTION_SCALE))
        if lay.image_rect is not None:
            x, y, side = lay.image_rect
            # captions above and below the image are centred on it and may use the room up to the
            # input column (over the faint threads)
            c = x + side / 2
            half = max(side / 2, min(c - 2, lay.columns[0].x - lay.radius - 2 - c))
            box = texts["caption_box"] = QtCore.QRectF(c - half, 0, 2 * half, lay.text_px(CAPTION_SCALE) * LINE)
            s = image_side(lay.sizes[0])
            texts["image_caption"] = _fitting(QtGui.QFontMetricsF(cap_font), box.width(),
                                              (f"the {s}×{s} image", f"{s}×{s} image", f"{s}×{s}"))
        self._texts = (lay, texts)
        return texts

    def render_frame(self) -> QtGui.QImage | None:
        """Render the diagram for the current state into the frame image (one full frame)."""
        t0 = time.perf_counter()
        lay = self.diagram_layout()
        dpr = self.devicePixelRatioF()
        if lay is None:
            img = QtGui.QImage(max(1, int(self.width() * dpr)), max(1, int(self.height() * dpr)),
                               QtGui.QImage.Format.Format_RGB32)
            img.setDevicePixelRatio(dpr)
            img.fill(qcolor(theme.BACKGROUND))
            p = QtGui.QPainter(img)
            p.setPen(qcolor(theme.MUTED))
            p.setFont(pixel_font(16))
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
        img.fill(qcolor(theme.BACKGROUND))
        m = self.model
        self._vis = vis = m.visible(lay)
        moving = t0 - self._last_render < MOVING_S
        self._last_render = t0
        self.coarse = moving and w * h > COARSE_FROM
        if self.coarse:
            self._refine_timer.start()
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
            w = m.gap_values(g, vis[g], vis[g + 1])
            if w is None:  # (−∂C/∂w or Δw, and no last step: the legend says so)
                return
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
            want = key // 2 >= AA_FROM and not self.coarse
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
            p.drawImage(rect, to_qimage(self.model.x.reshape(s, s)))
        else:
            p.fillRect(rect, qcolor(theme.PANEL))
            p.setPen(qcolor(theme.MUTED))
            p.setFont(self._static_texts(lay)["caption_font"])
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, "no input")
        # threads from each shown pixel to its neuron in the column, and a marker on the pixel
        col = lay.columns[0]
        px = side / s
        idx = vis[0]
        cx = x + (idx % s + 0.5) * px
        cy = y + (idx // s + 0.5) * px
        thread = blend(theme.ACCENT, 0.28)  # opaque pre-blended colours: the cheap path
        p.setPen(QtGui.QPen(thread, 1.05))
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, False)
        x_end = col.x - lay.radius
        p.drawLines([QtCore.QLineF(a, b, x_end, c) for a, b, c in zip(cx.tolist(), cy.tolist(), col.ys.tolist())])
        p.setPen(QtGui.QPen(blend(theme.ACCENT, 0.6), 1.05))
        p.setBrush(Qt.BrushStyle.NoBrush)
        h = max(px * 0.5, 1.5)
        p.drawRects([QtCore.QRectF(a - h, b - h, 2 * h, 2 * h) for a, b in zip(cx.tolist(), cy.tolist())])
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        if self.example is not None:
            texts = self._static_texts(lay)
            font = texts["caption_font"]
            p.setFont(font)
            p.setPen(qcolor(theme.TEXT))
            lines = (self.example.source or "input").split(" · ")
            if self.example.label is not None and 0 <= int(self.example.label) < self.model.sizes[-1]:
                lines.append(f"label: {self.class_name(int(self.example.label))}")
            box = texts["caption_box"]
            line_h = lay.text_px(CAPTION_SCALE) * LINE
            top = y + side + lay.font_px * 0.3
            room = max(1, int((lay.footer_top - top) // line_h))
            shown = texts.get("source")
            if shown is None or shown[0] != lines:  # (elided once per caption, not every frame)
                fm = QtGui.QFontMetricsF(font)
                shown = texts["source"] = (lines, [fm.elidedText(t, Qt.TextElideMode.ElideRight, box.width())
                                                   for t in lines[:room]])
            for i, text in enumerate(shown[1]):
                p.drawText(QtCore.QRectF(box.x(), top + i * line_h, box.width(), line_h),
                           Qt.AlignmentFlag.AlignCenter, text)

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
                q.setBrush(qcolor(theme.BACKGROUND))
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
        if self.model.neuron_mode == "nudge" and layer and self.model.layer_nudges(layer) is not None:
            nudge = self.model.layer_nudges(layer)  # (arrows: how the input shown wants each to move)
            draw_nudges(p, col.x, col.ys, nudge[vis[layer]], robust_scale(nudge, 1.0), r)

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
        digit_font = pixel_font(lay.digit_px, bold=True)
        val_font = pixel_font(lay.value_px)
        x = col.x + r + max(3.0, r * 0.3) + f * 0.45
        fm = QtGui.QFontMetricsF(digit_font)
        for slot, (idx, yv) in enumerate(zip(vis[-1].tolist(), col.ys.tolist())):
            is_win = win is not None and idx == win
            p.setFont(digit_font)
            p.setPen(qcolor(theme.ACCENT if is_win else theme.TEXT))
            name = self.class_name(idx)
            tw = fm.horizontalAdvance(name)
            p.drawText(QtCore.QRectF(x, yv - f, tw + 4, 2 * f),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            if a is not None:
                p.setFont(val_font)
                p.setPen(qcolor(theme.ACCENT if is_win else theme.MUTED))
                p.drawText(QtCore.QRectF(x + tw + f * 0.5, yv - f, lay.value_px * 4, 2 * f),
                           Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, f"{a[idx]:.2f}")
            if is_win:
                p.setPen(QtGui.QPen(qcolor(theme.ACCENT), max(2.0, r * 0.22)))
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
        parts = [self.network_label] if self.network_label else []
        if s is not None and s.step:
            # the epoch as the status bar counts it: the one in progress, or the one just completed
            parts.append(f"epoch {s.epoch if getattr(s, 'at_epoch_end', False) else s.epoch + 1}")
            parts.append(f"mini-batch {s.step:,}")
            if s.batch_cost is not None:
                parts.append(f"cost {s.batch_cost:.3f}")
        else:
            parts.append(f"{m.network.n_params:,} weights and biases")
        return left, " · ".join(parts)

    def _paint_footer(self, p, lay) -> None:
        f = lay.font_px
        line = lay.footer_line
        top = lay.footer_top
        if self._zoom != 1.0 or not self._pan.isNull():  # zoomed/panned: keep the footer legible
            p.fillRect(QtCore.QRectF(0, top - f * 0.3, lay.width, lay.height - top + f * 0.3),
                       qcolor(theme.BACKGROUND, 225))
        font = pixel_font(lay.text_px(FOOTER_SCALE))
        p.setFont(font)
        left, right = self.footer_text()
        p.setPen(qcolor(theme.TEXT))
        left = p.fontMetrics().elidedText(left, Qt.TextElideMode.ElideRight, int(lay.width / 2 - 1.5 * f))  # (narrow)
        p.drawText(QtCore.QRectF(f, top, lay.width / 2, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   left)
        p.setPen(qcolor(theme.MUTED))
        box = QtCore.QRectF(lay.width / 2, top, lay.width / 2 - f, line)
        right = p.fontMetrics().elidedText(right, Qt.TextElideMode.ElideRight, int(box.width()))
        p.drawText(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, right)
        self._paint_legend(p, lay, font, top + line, line)

    def _paint_legend(self, p, lay, font, y: float, h: float) -> None:
        """What the colours mean, each with its sample (a lit neuron, a blue and a red edge), and the
        gestures when there is room: one centred line, the hints dropped first on a narrow diagram.
        Drawn once per size into an image; a frame only copies it."""
        dpr = self.devicePixelRatioF()
        m = self.model
        items = LEGEND
        if m.edge_mode != "weights" or m.neuron_mode != "activation":
            label = m.label if m.neuron_mode == "nudge" and m.nudges() is not None else None
            items = legend_items(m.edge_mode, m.neuron_mode, m.edges_available,
                                 None if label is None else self.class_name(label),
                                 past=bool(getattr(self.snapshot, "past", None)))
        key = (lay.width, h, font.pixelSize(), dpr, items)
        if self._legend is None or self._legend[0] != key:
            self._legend = (key, self._legend_image(lay, font, h, dpr, items))
        p.drawImage(QtCore.QPointF(0, y), self._legend[1])

    def _legend_image(self, lay, font, h: float, dpr: float, legend=LEGEND) -> QtGui.QImage:
        px = font.pixelSize()
        fm = QtGui.QFontMetricsF(font)
        gap = px * 1.4
        items = []
        for k, (kind, text) in enumerate(legend):
            sample = 0.0 if kind is None else px * (1.6 if kind in ("neuron", "nudge") else 1.3) + 4
            items.append((kind, text, sample, sample + fm.horizontalAdvance(text), k == len(legend) - 1))
        while len(items) > 1 and sum(it[3] for it in items) + gap * (len(items) - 1) > lay.width - 2 * lay.font_px:
            items.pop()
        img = QtGui.QImage(max(1, int(lay.width * dpr)), max(1, int(np.ceil(h * dpr))),
                           QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        img.fill(Qt.GlobalColor.transparent)
        p = QtGui.QPainter(img)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QtGui.QPainter.RenderHint.TextAntialiasing, True)
        p.setFont(font)
        x = (lay.width - sum(it[3] for it in items) - gap * (len(items) - 1)) / 2
        cy = h / 2
        for kind, text, sample, w, muted in items:
            if kind == "neuron":  # a dark and a lit neuron
                r = px * 0.3
                p.setPen(QtGui.QPen(QtGui.QColor(225, 230, 236), 1.0))
                for cx, g in ((x + r + 0.5, 50), (x + sample - 4 - r - 0.5, 250)):
                    p.setBrush(QtGui.QColor(g, g, g))
                    p.drawEllipse(QtCore.QPointF(cx, cy), r, r)
            elif kind == "nudge":  # an up (blue) and a down (red) arrow
                draw_sample(p, x, x + sample - 4, cy, px)
            elif kind is not None:  # a blue or a red edge
                p.setPen(QtGui.QPen(qcolor(theme.POSITIVE if kind == "positive" else theme.NEGATIVE), 2.5))
                p.drawLine(QtCore.QPointF(x, cy), QtCore.QPointF(x + sample - 4, cy))
            p.setPen(qcolor(theme.MUTED if muted else theme.TEXT))
            p.drawText(QtCore.QRectF(x + sample, 0, w - sample + 2, h),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            x += w + gap
        p.end()
        return img

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

    def resizeEvent(self, e) -> None:
        self._dirty = True
        super().resizeEvent(e)

    def _refine(self) -> None:
        """The animation stopped: draw the last frame again in full quality."""
        if self.coarse:
            self._last_render = -1e9
            self._dirty = True
            self.update()

    def _incident_lines(self, layer: int, slot: int):
        """(lines, weights, gap) of the visible edges into and out of a neuron slot."""
        lay, vis = self._layout, self._vis
        out = []
        for g in (layer - 1, layer):
            if g < 0 or g >= len(lay.columns) - 1:
                continue
            m_src = lay.columns[g].slots
            base = self._gap_offsets[g]
            mat = self.model.edge_matrix(g)  # (the weights, or what the edges show instead)
            if mat is None:
                continue
            if g == layer - 1:  # incoming: destination slot fixed
                ks = base + slot * m_src + np.arange(m_src)
                w = mat[vis[g + 1][slot], vis[g]]
            else:  # outgoing: source slot fixed
                n_dst = lay.columns[g + 1].slots
                ks = base + np.arange(n_dst) * m_src + slot
                w = mat[vis[g + 1], vis[g][slot]]
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
            p.fillRect(QtCore.QRectF(0, 0, self.width(), self.height()), qcolor(theme.BACKGROUND, 185))
            p.restore()
            for lines, w, g in self._incident_lines(layer, slot):
                b, s = edge_buckets(w, self.model.scale(g), N_BUCKETS)
                keys = b * 2 + s
                for key in np.unique(keys).tolist():  # weakest first; opaque pens (cheap), one call per bucket
                    t = (key // 2 + 0.5) / N_BUCKETS
                    pen = QtGui.QPen(blend(theme.POSITIVE if key % 2 else theme.NEGATIVE, 0.4 + 0.6 * t),
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
                p.setPen(QtGui.QPen(qcolor(theme.ACCENT), 2.5 * ws))
                p.drawLine(QtCore.QLineF(c0.x + r, c0.ys[a], c1.x - r, c1.ys[b]))
        if self._selected is not None:
            slot = self.slot_of(*self._selected)
            if slot is not None:
                self._ring(p, self._selected[0], slot, qcolor(theme.ACCENT), r + 4, 3.0)
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
        cap = lay.text_px(CAPTION_SCALE) * LINE
        top = y + side + f * 0.3 + 4 * cap + 2  # below the image's caption (up to 3 lines) and its own title
        if top + ps > lay.footer_top:  # no room below: over the image's top-left instead
            top = max(lay.top + 2 * cap, y - ps - 1.5 * cap)
        rect = QtCore.QRectF(x + (side - ps) / 2, top, ps, ps)
        p.fillRect(rect.adjusted(-2, -2, 2, 2), QtGui.QColor(0, 0, 0))
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        key = (self._net_version, index)
        if self._weight_img is None or self._weight_img[0] != key:
            self._weight_img = (key, signed_qimage(w.reshape(s, s))
                                .convertToFormat(QtGui.QImage.Format.Format_RGB32))
        p.drawImage(rect, self._weight_img[1])
        p.setPen(QtGui.QPen(qcolor(theme.ACCENT), 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect.adjusted(-2, -2, 2, 2))
        p.setFont(self._static_texts(lay)["caption_font"])
        p.setPen(qcolor(theme.TEXT))
        p.drawText(QtCore.QRectF(rect.x() - f * 2, rect.y() - cap - 2, rect.width() + f * 4, cap),
                   Qt.AlignmentFlag.AlignCenter, f"neuron {index}'s weights")
