"""The weights gallery: every first-hidden-layer neuron's 784 incoming weights as a 28×28 image.

"What each neuron looks for", as the videos show it: blue where a lit pixel pushes the
neuron's weighted sum up, red where it pulls it down.  Together the tiles hold all of the
input→hidden weights (12,544 of the 13,002 parameters of 784-16-16-10), and they follow the
network live.  Under each tile a strip lights up with the neuron's activation for the
current input.  Click a tile to select (and inspect) that neuron.
"""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.diagram import MIN_TEXT_PX, DiagramModel, image_side
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import pixel_font, qcolor, to_qimage
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.views.diagram.style import TOOLBAR_STYLE


def weight_tiles(w: np.ndarray, side: int, shared: bool) -> np.ndarray:
    """(n, side, side, 3) uint8 blue/red images of each row of ``w`` (n, side²)."""
    w = np.asarray(w, dtype=np.float64)
    if shared:
        s = np.full((w.shape[0], 1), float(np.abs(w).max()) or 1.0)
    else:
        s = np.abs(w).max(axis=1, keepdims=True)
        s[~np.isfinite(s) | (s == 0)] = 1.0
    t = np.clip(np.abs(w) / s, 0.0, 1.0)[..., None]
    col = np.where((w >= 0)[..., None], np.array(theme.POSITIVE, float), np.array(theme.NEGATIVE, float))
    return (col * t).astype(np.uint8).reshape(w.shape[0], side, side, 3)


class GalleryCanvas(QtWidgets.QWidget):
    tileClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = DiagramModel()
        self.shared_scale = False
        self.selected: int | None = None
        self._mosaic: QtGui.QImage | None = None
        self._dirty = True
        self._hover: int | None = None
        self.hover_text = ""
        self.setMouseTracking(True)
        self.setMinimumSize(160, 160)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    @property
    def side(self) -> int | None:
        return image_side(self.model.sizes[0]) if self.model.sizes else None

    @property
    def count(self) -> int:
        return self.model.sizes[1] if len(self.model.sizes) > 1 and self.side else 0

    def grid(self):
        """(cols, rows, tile, gap, strip, x0, y0) filling the widget."""
        n = self.count
        W, H = self.width(), self.height()
        gap, strip = 6.0, 18.0  # (the strip holds the activation square and a 12-px neuron number)
        best = (1, max(n, 1), 1.0)
        for cols in range(1, max(n, 1) + 1):
            rows = math.ceil(n / cols)
            tile = min((W - gap * (cols + 1)) / cols, (H - gap * (rows + 1)) / rows - strip)
            if tile > best[2]:
                best = (cols, rows, tile)
        cols, rows, tile = best
        tile = max(tile, 4.0)
        x0 = (W - (cols * tile + (cols - 1) * gap)) / 2
        y0 = (H - (rows * (tile + strip) + (rows - 1) * gap)) / 2
        return cols, rows, tile, gap, strip, x0, y0

    def tile_rect(self, i: int) -> QtCore.QRectF:
        cols, rows, tile, gap, strip, x0, y0 = self.grid()
        r, c = divmod(i, cols)
        return QtCore.QRectF(x0 + c * (tile + gap), y0 + r * (tile + strip + gap), tile, tile)

    def tile_at(self, pos) -> int | None:
        for i in range(self.count):
            r = self.tile_rect(i)
            if r.adjusted(0, 0, 0, self.grid()[4]).contains(pos):
                return i
        return None

    def _build(self) -> None:
        n, side = self.count, self.side
        if not n:
            self._mosaic = None
        else:
            tiles = weight_tiles(self.model.network.weights[0], side, self.shared_scale)
            self._mosaic = to_qimage(tiles.transpose(1, 0, 2, 3).reshape(side, n * side, 3))
        self._dirty = False

    def paintEvent(self, e) -> None:
        if self._dirty:
            self._build()
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), qcolor(theme.BACKGROUND))
        n, side = self.count, self.side
        if not n:
            p.setPen(qcolor(theme.MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       "No network yet" if self.model.network is None else "The input is not an image")
            p.end()
            return
        br = self.model.layer_brightness(1)
        p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
        _, _, tile, _, strip, _, _ = self.grid()
        p.setFont(pixel_font(int(np.clip(tile / 5, MIN_TEXT_PX, 13))))
        for i in range(n):
            r = self.tile_rect(i)
            p.drawImage(r, self._mosaic, QtCore.QRectF(i * side, 0, side, side))
            s = QtCore.QRectF(r.left(), r.bottom() + 2, r.width(), strip - 4)
            if br is not None:
                g = int(round(float(br[i]) * 255))
                p.fillRect(QtCore.QRectF(s.left(), s.top(), s.height(), s.height()), QtGui.QColor(g, g, g))
            p.setPen(qcolor(theme.MUTED))
            p.drawText(s.adjusted(s.height() + 3, -2, 0, 2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       str(i))
            if i == self.selected or i == self._hover:
                p.setPen(QtGui.QPen(qcolor(theme.ACCENT) if i == self.selected else QtGui.QColor(255, 255, 255), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(r.adjusted(-2, -2, 2, 2))
        p.end()

    def tile_text(self, i: int) -> str:
        net = self.model.network
        w, b = net.weights[0][i], float(net.biases[0][i])
        v = self.model.neuron(1, i)
        layer = "hidden layer 1" if len(net.sizes) > 2 else "the output layer"
        s = f"{layer}, neuron {i}\nbias b = {b:+.3f}\nweights: max {w.max():+.3f}, min {w.min():+.3f}"
        if v.a is not None:
            s += f"\nz = {v.z:+.3f}, a = {v.a:.3f}"
        return s

    def mouseMoveEvent(self, e) -> None:
        i = self.tile_at(e.position())
        if i != self._hover:
            self._hover = i
            self.update()
        self.hover_text = "" if i is None else self.tile_text(i)
        if i is None:
            QtWidgets.QToolTip.hideText()
        else:
            QtWidgets.QToolTip.showText(e.globalPosition().toPoint(), self.hover_text, self)

    def leaveEvent(self, e) -> None:
        if self._hover is not None:
            self._hover = None
            self.update()
        super().leaveEvent(e)

    def mousePressEvent(self, e) -> None:
        i = self.tile_at(e.position())
        if i is not None and e.button() == Qt.MouseButton.LeftButton:
            self.tileClicked.emit(i)


class WeightsGalleryView(StudioView):
    """All first-hidden-layer neurons' weight images, live.

    Signal ``neuronSelected(int layer, int index)`` (layer is always 1) when a tile is clicked;
    connect it to ``DiagramView.select_neuron`` to inspect that neuron.
    """

    title = "Weights"
    neuronSelected = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.canvas = GalleryCanvas(self)
        self.caption = QtWidgets.QLabel("")
        self.caption.setWordWrap(True)
        self.shared_check = QtWidgets.QCheckBox("one colour scale for all")
        self.shared_check.setToolTip("Off: each tile uses its own strongest weight as full colour")
        top = QtWidgets.QVBoxLayout()
        top.setContentsMargins(8, 6, 8, 0)
        top.setSpacing(2)
        top.addWidget(self.caption)
        top.addWidget(self.shared_check)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.canvas, 1)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, qcolor(theme.BACKGROUND))
        self.setPalette(pal)
        self.setStyleSheet(TOOLBAR_STYLE)
        self.shared_check.toggled.connect(self._set_shared)
        self.canvas.tileClicked.connect(self._clicked)
        self._update_caption()

    def set_snapshot(self, snapshot) -> None:
        self.canvas.model.set_network(None if snapshot is None else snapshot.network)
        self.canvas._dirty = True
        self._update_caption()
        self.canvas.update()

    def set_input(self, example) -> None:
        # kept even before a network arrives (the model ignores an input of the wrong size)
        self.canvas.model.set_input(None if example is None else example.pixels)
        self.canvas.update()

    def select_neuron(self, layer: int, index: int) -> None:
        """Highlight a tile (e.g. when the diagram selects a first-hidden-layer neuron)."""
        self.canvas.selected = index if layer == 1 and index < self.canvas.count else None
        self.canvas.update()

    def _clicked(self, i: int) -> None:
        self.select_neuron(1, i)
        self.neuronSelected.emit(1, i)

    def _set_shared(self, on: bool) -> None:
        self.canvas.shared_scale = bool(on)
        self.canvas._dirty = True
        self.canvas.update()

    def _update_caption(self) -> None:
        m = self.canvas.model
        n = self.canvas.count
        if not n:
            self.caption.setText("What each neuron looks for")
            return
        side = self.canvas.side
        layer = "hidden layer 1" if len(m.sizes) > 2 else "the output layer"
        self.caption.setText(
            f"What each of the {n} neurons of {layer} looks for: its {side * side} weights "
            f"as a {side}×{side} image (blue +, red −). The square under a tile lights with the "
            f"neuron's activation for the current input."
        )
