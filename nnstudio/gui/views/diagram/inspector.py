"""The neuron inspector: one neuron's incoming weights, bias, and activation over the mini-batch.

Click a neuron in the diagram (or a tile of the weights gallery) to open it.  For a
first-hidden-layer neuron the 784 incoming weights are a 28×28 blue/red image (what the
neuron "looks for", as in the videos); for other neurons a bar chart, one bar per
incoming weight.  Its bias, weighted sum z and activation a for the current input are
shown, and a bar chart of its activation over each example of the mini-batch just stepped
(click a bar to make that example the current input).  It follows the network live.

Hands on (:mod:`.editing`): drag the neuron's bias, scale its incoming weights or switch it off
(requests the window sends to the session), with the test accuracy before and after; and *which
neurons matter*: the test accuracy with each neuron of its layer switched off (click a bar to
inspect that neuron).  Both are computed off the GUI thread.
"""

from __future__ import annotations

import numpy as np

from nnstudio.components.ablation import hidden_layer
from nnstudio.components.diagram import MIN_TEXT_PX, DiagramModel, brightness, describe_neuron, image_side
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import pixel_font, qcolor, signed_qimage
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.views.diagram.editing import AblationChart, EditPanel, NeuronNumbers
from nnstudio.gui.views.diagram.style import TOOLBAR_STYLE
from nnstudio.session.edits import NeuronEdit
from nnstudio.session.model import InputExample


def weight_colors(w: np.ndarray, scale: float | None = None) -> list[QtGui.QColor]:
    """Blue/red bar colours for weights, brighter for stronger ones."""
    rgba = theme.weight_rgba(w, scale)
    out = []
    for r, g, b, a in rgba.tolist():
        t = max(a / 255.0, 0.35)
        out.append(QtGui.QColor(int(r * t + 22 * (1 - t)), int(g * t + 27 * (1 - t)), int(b * t + 34 * (1 - t))))
    return out


class BarChart(QtWidgets.QWidget):
    """A small painted bar chart (no axes library: cheap to update at display rate)."""

    barClicked = Signal(int)

    def __init__(self, parent=None, *, symmetric: bool = True):
        super().__init__(parent)
        self.symmetric = symmetric
        self.values = np.zeros(0)
        self.colors: list = []
        self.labels: list | None = None
        self.tips: list | None = None
        self.highlight: int | None = None
        self.y_range: tuple | None = None
        self.message = ""
        self.setMouseTracking(True)
        self.setMinimumHeight(110)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)

    def set_data(self, values, colors=None, labels=None, tips=None, highlight=None, y_range=None) -> None:
        self.values = np.asarray(values, dtype=np.float64).ravel()
        self.colors = list(colors) if colors is not None else weight_colors(self.values)
        self.labels = None if labels is None else list(labels)
        self.tips = None if tips is None else list(tips)
        self.highlight = highlight
        self.y_range = y_range
        self.message = ""
        self.update()

    def set_message(self, text: str) -> None:
        self.values = np.zeros(0)
        self.message = text
        self.update()

    def _geometry(self):
        fm_h = 16  # a 12-px label line
        left, right, top = 46.0, 8.0, 8.0
        bottom = fm_h + 8.0 if self.labels else 8.0
        return QtCore.QRectF(left, top, max(1.0, self.width() - left - right), max(1.0, self.height() - top - bottom))

    def _range(self):
        v = self.values
        if self.y_range is not None:
            return self.y_range
        m = float(np.nanmax(np.abs(v))) if v.size else 1.0
        m = m if np.isfinite(m) and m > 0 else 1.0
        return (-m, m) if self.symmetric else (min(0.0, float(v.min())), max(m, 1e-9))

    def bar_rect(self, i: int) -> QtCore.QRectF:
        area = self._geometry()
        lo, hi = self._range()
        n = max(1, self.values.size)
        bw = area.width() / n

        def ymap(v):
            return area.bottom() - (v - lo) / (hi - lo) * area.height()

        v = float(np.clip(self.values[i], lo, hi))
        y0, y1 = ymap(0.0 if lo <= 0 <= hi else lo), ymap(v)
        gap = 0.15 * bw if bw > 4 else 0.0
        return QtCore.QRectF(area.left() + i * bw + gap / 2, min(y0, y1), max(bw - gap, 0.8), max(abs(y1 - y0), 0.8))

    def bar_at(self, pos) -> int | None:
        area = self._geometry()
        n = self.values.size
        if not n or not (area.left() <= pos.x() < area.right()):
            return None
        return int((pos.x() - area.left()) / area.width() * n)

    def paintEvent(self, e) -> None:
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), qcolor(theme.PANEL))
        p.setFont(pixel_font(MIN_TEXT_PX))
        if not self.values.size:
            p.setPen(qcolor(theme.MUTED))
            p.drawText(QtCore.QRectF(self.rect()).adjusted(8, 4, -8, -4),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            p.end()
            return
        area = self._geometry()
        lo, hi = self._range()

        def ymap(v):
            return area.bottom() - (v - lo) / (hi - lo) * area.height()

        p.setPen(QtGui.QPen(qcolor(theme.MUTED), 1))
        for v in sorted({lo, hi, 0.0} if lo <= 0 <= hi else {lo, hi}):
            y = ymap(v)
            p.drawText(QtCore.QRectF(0, y - 8, area.left() - 5, 16),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       f"{v:+.2f}" if self.symmetric else f"{v:.2f}")
        if lo <= 0 <= hi:
            p.drawLine(QtCore.QLineF(area.left(), ymap(0.0), area.right(), ymap(0.0)))
        p.setPen(Qt.PenStyle.NoPen)
        for i in range(self.values.size):
            p.setBrush(self.colors[i] if i < len(self.colors) else qcolor(theme.TEXT))
            p.drawRect(self.bar_rect(i))
        if self.highlight is not None and 0 <= self.highlight < self.values.size:
            p.setPen(QtGui.QPen(qcolor(theme.ACCENT), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.bar_rect(self.highlight).adjusted(-1, -1, 1, 1))
        if self.labels:
            n = self.values.size
            bw = area.width() / n
            fm = QtGui.QFontMetricsF(p.font())
            widest = max(fm.horizontalAdvance(str(t)) for t in self.labels)
            every = max(1, int(np.ceil((widest + 3) / bw)))
            for i in range(0, n, every):
                p.setPen(qcolor(theme.ACCENT if i == self.highlight else theme.TEXT))
                p.drawText(QtCore.QRectF(area.left() + i * bw - 20 + bw / 2, area.bottom() + 2, 40, 16),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, str(self.labels[i]))
        p.end()

    def mouseMoveEvent(self, e) -> None:
        i = self.bar_at(e.position())
        if i is not None and self.tips:
            QtWidgets.QToolTip.showText(e.globalPosition().toPoint(), self.tips[i], self)
        else:
            QtWidgets.QToolTip.hideText()

    def mousePressEvent(self, e) -> None:
        i = self.bar_at(e.position())
        if i is not None and e.button() == Qt.MouseButton.LeftButton:
            self.barClicked.emit(i)


class WeightImage(QtWidgets.QWidget):
    """A square weight map (e.g. 28×28) in blue (+) and red (−), with a colour bar."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.w = np.zeros((1, 1))
        self.scale = 1.0
        self._img: QtGui.QImage | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(160, 180)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)

    def set_weights(self, w2d, scale: float | None = None) -> None:
        self.w = np.asarray(w2d, dtype=np.float64)
        s = float(np.abs(self.w).max()) if scale is None and self.w.size else (scale or 1.0)
        self.scale = s if np.isfinite(s) and s > 0 else 1.0
        self._img = signed_qimage(self.w, self.scale)
        self.update()

    def image_rect(self) -> QtCore.QRectF:
        side = max(10.0, min(self.width() - 16.0, self.height() - 40.0))
        return QtCore.QRectF((self.width() - side) / 2, 4, side, side)

    def paintEvent(self, e) -> None:
        p = QtGui.QPainter(self)
        p.fillRect(self.rect(), qcolor(theme.PANEL))
        r = self.image_rect()
        if self._img is not None:
            p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
            p.drawImage(r, self._img)
        p.setPen(QtGui.QPen(qcolor(theme.MUTED), 1))
        p.drawRect(r.adjusted(-1, -1, 1, 1))
        # colour bar: −s (red) … 0 (black) … +s (blue)
        bar = QtCore.QRectF(r.left(), r.bottom() + 8, r.width(), 9)
        g = QtGui.QLinearGradient(bar.topLeft(), bar.topRight())
        g.setColorAt(0.0, qcolor(theme.NEGATIVE))
        g.setColorAt(0.5, QtGui.QColor(0, 0, 0))
        g.setColorAt(1.0, qcolor(theme.POSITIVE))
        p.fillRect(bar, g)
        p.setFont(pixel_font(MIN_TEXT_PX))
        p.setPen(qcolor(theme.TEXT))
        lab = QtCore.QRectF(bar.left(), bar.bottom() + 2, bar.width(), 16)
        p.drawText(lab, Qt.AlignmentFlag.AlignLeft, f"−{self.scale:.3f}")
        p.drawText(lab, Qt.AlignmentFlag.AlignHCenter, "0")
        p.drawText(lab, Qt.AlignmentFlag.AlignRight, f"+{self.scale:.3f}")
        p.end()

    def pixel_at(self, pos):
        r = self.image_rect()
        if not r.contains(pos) or self.w.ndim != 2:
            return None
        h, w = self.w.shape
        return int((pos.y() - r.top()) / r.height() * h), int((pos.x() - r.left()) / r.width() * w)

    def mouseMoveEvent(self, e) -> None:
        rc = self.pixel_at(e.position())
        if rc is None:
            QtWidgets.QToolTip.hideText()
            return
        r, c = rc
        QtWidgets.QToolTip.showText(e.globalPosition().toPoint(),
                                    f"pixel {r * self.w.shape[1] + c} (row {r}, col {c}): {self.w[r, c]:+.4f}", self)


class NeuronInspector(StudioView):
    """One neuron in detail (follows the StudioView protocol, so it can also live in a dock)."""

    title = "Neuron"
    neuronChanged = Signal(int, int)
    #: (layer, index, {"bias_shift" | "weight_scale" | "off": value}): edit this neuron (Session.edit_neuron)
    neuronEditRequested = Signal(int, int, object)
    #: put the neuron back as it was before the edit (Session.reset_neuron_edit)
    neuronEditReset = Signal()
    #: inspect another neuron (a bar of "which neurons matter" was clicked)
    neuronRequested = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.network = None
        self.snapshot = None
        self.example: InputExample | None = None
        self.dataset = None
        self.layer: int | None = None
        self.index: int | None = None
        self._model = DiagramModel()
        self._batch_idx = None
        self.edit_state = None  # the session's hand edit in progress (EditState), as the window last said
        self._accuracy = None  # (network, accuracy, accuracy before the edit) of the last answer
        self._ablation_layer = None  # the layer the ablation chart shows

        self.header = QtWidgets.QLabel("Click a neuron in the diagram")
        self.header.setFont(pixel_font(17, bold=True))
        self.values = QtWidgets.QLabel("")
        self.values.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        mono.setPixelSize(14)
        self.values.setFont(mono)
        self.weights_title = QtWidgets.QLabel("Incoming weights")
        self.weights_title.setFont(pixel_font(14, bold=True))
        self.times_input = QtWidgets.QCheckBox("× input  (each weight times its input activation: what adds up to z)")
        self.weight_image = WeightImage()
        self.weight_bars = BarChart()
        self.stack = QtWidgets.QStackedWidget()
        self.stack.addWidget(self.weight_image)
        self.stack.addWidget(self.weight_bars)
        self.weights_note = QtWidgets.QLabel("")
        self.weights_note.setWordWrap(True)
        self.batch_title = QtWidgets.QLabel("Activation over the current mini-batch")
        self.batch_title.setFont(pixel_font(14, bold=True))
        self.batch_chart = BarChart(symmetric=False)
        self.batch_note = QtWidgets.QLabel("")
        self.batch_note.setWordWrap(True)
        self.edit_panel = EditPanel()
        self.numbers = NeuronNumbers(self)
        self.ablation_chart = AblationChart()
        self.ablation_note = QtWidgets.QLabel("")
        self.ablation_note.setWordWrap(True)
        self.bottom_tabs = QtWidgets.QTabWidget()
        self.bottom_tabs.setObjectName("inspectorTabs")
        self.bottom_tabs.setDocumentMode(True)
        for title, widgets in (("Mini-batch", (self.batch_title, self.batch_chart, self.batch_note)),
                               ("Which neurons matter", (self.ablation_note, self.ablation_chart))):
            page = QtWidgets.QWidget()
            pl = QtWidgets.QVBoxLayout(page)
            pl.setContentsMargins(0, 4, 0, 0)
            for w in widgets:
                pl.addWidget(w, 1 if isinstance(w, (BarChart, AblationChart)) else 0)
            self.bottom_tabs.addTab(page, title)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.addWidget(self.header)
        lay.addWidget(self.values)
        lay.addSpacing(4)
        lay.addWidget(self.edit_panel)
        lay.addSpacing(6)
        lay.addWidget(self.weights_title)
        lay.addWidget(self.times_input)
        lay.addWidget(self.stack, 3)
        lay.addWidget(self.weights_note)
        lay.addSpacing(6)
        lay.addWidget(self.bottom_tabs, 2)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, qcolor(theme.BACKGROUND))
        pal.setColor(QtGui.QPalette.ColorRole.WindowText, qcolor(theme.TEXT))
        self.setPalette(pal)
        self.setStyleSheet(TOOLBAR_STYLE)
        self.times_input.toggled.connect(lambda _b: self.refresh())
        self.batch_chart.barClicked.connect(self._batch_bar_clicked)
        self.edit_panel.editRequested.connect(self._edit_requested)
        self.edit_panel.resetRequested.connect(self.neuronEditReset)
        self.ablation_chart.barClicked.connect(lambda i: self.neuronRequested.emit(self.layer, i))
        self.bottom_tabs.currentChanged.connect(lambda _i: self._refresh_numbers())
        self.numbers.accuracyReady.connect(self._accuracy_ready)
        self.numbers.ablationReady.connect(self._ablation_ready)
        self.refresh()

    # ------------------------------------------------------------------ protocol
    def set_snapshot(self, snapshot) -> None:
        self.snapshot = snapshot
        self.network = None if snapshot is None else snapshot.network
        self.refresh()

    def set_input(self, example) -> None:
        self.example = example
        self.refresh()

    def set_dataset(self, dataset) -> None:
        self.dataset = dataset
        self.numbers.forget()
        self._accuracy = None
        self.refresh()

    def set_neuron_edit(self, state) -> None:
        """The session's hand edit in progress (an EditState), or None."""
        self.edit_state = state
        self._refresh_edit()

    def shutdown(self) -> None:
        self.numbers.shutdown()

    def set_neuron(self, layer: int, index: int) -> None:
        self.layer, self.index = int(layer), int(index)
        self.refresh()
        self.neuronChanged.emit(self.layer, self.index)

    # ------------------------------------------------------------------ contents
    def neuron_name(self) -> str:
        if self.network is None or self.layer is None:
            return ""
        return describe_neuron(self.layer, self.index, len(self.network.sizes), self.network.sizes[0])

    def refresh(self) -> None:
        net = self.network
        if net is None or self.layer is None or self.layer >= len(net.sizes) or self.index >= net.sizes[self.layer]:
            self.header.setText("Click a neuron in the diagram")
            self.values.setText("")
            self.weight_bars.set_message("no neuron selected")
            self.stack.setCurrentWidget(self.weight_bars)
            self.batch_chart.set_message("")
            self.weights_note.setText("")
            self.batch_note.setText("")
            self._refresh_edit()
            self.ablation_chart.set_message("no neuron selected")
            return
        m = self._model
        m.set_network(net)
        m.set_input(None if self.example is None else self.example.pixels)
        if not m.has_input:
            m.set_input(None)
        L, l, j = len(net.sizes), self.layer, self.index
        name = self.neuron_name()
        if l == L - 1 and self.dataset is not None and len(self.dataset.class_names) == net.sizes[-1]:
            name += f" — “{self.dataset.class_names[j]}”"
        self.header.setText(name[:1].upper() + name[1:])
        v = m.neuron(l, j)
        if l == 0:
            self.values.setText("a = " + ("—" if v.a is None else f"{v.a:.4f}") + "   (the pixel's brightness)")
        else:
            fn = net.layer_activation(l - 1).name
            self.values.setText(
                "z = w·a + b = " + ("—" if v.z is None else f"{v.z:+.4f}")
                + f"\nb = {v.b:+.4f}"
                + f"\na = {fn}(z) = " + ("—" if v.a is None else f"{v.a:.4f}")
                + ("" if v.a is not None else "   (no input yet)")
            )
        self._refresh_weights(m, l, j)
        self._refresh_batch(l, j)
        self._refresh_edit()
        self._refresh_numbers()

    def _refresh_weights(self, m, l, j) -> None:
        net = self.network
        times = self.times_input.isChecked() and m.has_input
        if l == 0:  # an input neuron: its outgoing weights
            self.weights_title.setText(f"Outgoing weights (to the {net.sizes[1]} neurons of the next layer)")
            w = net.weights[0][:, j]
            if times:
                w = w * m.activations(0)[j]
            self.times_input.setEnabled(m.has_input)
            self._bars(w, [f"to neuron {k}: {'w·a' if times else 'w'} = {v:+.4f}" for k, v in enumerate(w)])
            self.weights_note.setText(f"largest |w| = {np.abs(w).max():.4f}")
            return
        w = net.weights[l - 1][j]
        a_prev = m.activations(l - 1)
        self.times_input.setEnabled(m.has_input)
        if times:
            w = w * a_prev
        what = "w·a" if times else "w"
        side = image_side(net.sizes[0]) if l == 1 else None
        n_in = net.sizes[l - 1]
        if side:
            self.weights_title.setText(f"Incoming weights ({n_in:,}, as the {side}×{side} image they weigh)")
            self.weight_image.set_weights(w.reshape(side, side))
            self.stack.setCurrentWidget(self.weight_image)
            pos, neg = float(w[w > 0].sum()), float(w[w < 0].sum())
            self.weights_note.setText(
                f"blue pixels push z up when lit, red ones push it down.  Σ{what}: positive {pos:+.3f}, "
                f"negative {neg:+.3f}; bias {net.biases[l - 1][j]:+.3f}"
            )
        else:
            self.weights_title.setText(f"Incoming weights ({n_in:,}, one bar per neuron of the previous layer)")
            self._bars(w, [f"from neuron {k}: {what} = {v:+.4f}" for k, v in enumerate(w)])
            k = int(np.argmax(np.abs(w)))
            self.weights_note.setText(f"strongest: from neuron {k} ({what} = {w[k]:+.4f}); "
                                      f"bias {net.biases[l - 1][j]:+.4f}")

    def _bars(self, w, tips) -> None:
        labels = [str(k) for k in range(len(w))] if len(w) <= 40 else None
        self.weight_bars.set_data(w, weight_colors(w), labels=labels, tips=tips)
        self.stack.setCurrentWidget(self.weight_bars)

    def batch_indices(self):
        s, ds = self.snapshot, self.dataset
        if s is None or s.batch_indices is None or ds is None or not len(s.batch_indices):
            return None
        idx = np.asarray(s.batch_indices)
        if idx.max() >= len(ds.train_labels) or ds.train_x.shape[1] != self.network.sizes[0]:
            return None
        return idx

    def _refresh_batch(self, l, j) -> None:
        idx = self.batch_indices()
        self._batch_idx = idx
        if idx is None:
            msg = ("no mini-batch yet: its activations appear once training has stepped"
                   if self.dataset is not None else "no dataset: the mini-batch's examples are unknown")
            self.batch_chart.set_message(msg)
            self.batch_note.setText("")
            return
        net, ds = self.network, self.dataset
        acts = net.forward(ds.train_x[idx]).activations[l][:, j]
        act_fn = None if l == 0 else net.layer_activation(l - 1)
        br = brightness(acts, act_fn)
        colors = [QtGui.QColor(int(40 + 215 * b), int(40 + 215 * b), int(40 + 215 * b)) for b in br.tolist()]
        labels = [ds.class_names[int(y)] if len(ds.class_names[int(y)]) <= 2 else str(int(y))
                  for y in ds.train_labels[idx]]
        tips = [f"train #{i} (label {ds.class_names[int(y)]}): a = {a:.4f} — click to make it the input"
                for i, y, a in zip(idx.tolist(), ds.train_labels[idx].tolist(), acts.tolist())]
        hl = None
        ex = self.example
        if ex is not None and ex.split == "train" and ex.index is not None:
            hits = np.flatnonzero(idx == ex.index)
            hl = int(hits[0]) if hits.size else None
        if act_fn is None or act_fn.name == "sigmoid":
            lo, hi = 0.0, 1.0
        else:
            lo, hi = min(0.0, float(acts.min())), max(1.0, float(acts.max()))
        self.batch_chart.set_data(acts, colors, labels=labels if len(idx) <= 64 else None, tips=tips,
                                  highlight=hl, y_range=(lo, hi))
        self.batch_note.setText(
            f"{len(idx)} examples of step {self.snapshot.step:,} (bars labelled with each example's digit): "
            f"mean a = {acts.mean():.3f}, min {acts.min():.3f}, max {acts.max():.3f}"
        )

    def _batch_bar_clicked(self, i: int) -> None:
        idx = self._batch_idx
        if idx is None or not (0 <= i < len(idx)):
            return
        k = int(idx[i])
        ds = self.dataset
        ex = InputExample(ds.train_x[k] / 255.0, int(ds.train_labels[k]),
                          f"mini-batch {i + 1}/{len(idx)} · train #{k}", k, "train",
                          extra={"batch_position": i, "batch_step": self.snapshot.step})
        self.inputRequested.emit(ex)

    # ------------------------------------------------------------------ hands on: edits and which neurons matter
    def current_edit(self):
        """The session's edit of this neuron in progress, or None."""
        st = self.edit_state
        if st is None or self.layer is None or (st.edit.layer, st.edit.index) != (self.layer, self.index):
            return None
        return st

    def showEvent(self, e) -> None:
        super().showEvent(e)
        self._refresh_numbers()

    def _edit_requested(self, changes: dict) -> None:
        if self.network is not None and self.layer is not None:
            self.neuronEditRequested.emit(self.layer, self.index, changes)

    def _refresh_edit(self) -> None:
        net, l = self.network, self.layer
        if net is None or l is None or l >= len(net.sizes) or self.index >= net.sizes[l]:
            self.edit_panel.set_edit(None, None)
            self.edit_panel.set_accuracy("")
            return
        st = self.current_edit()
        edit = st.edit if st is not None else NeuronEdit(l, self.index)
        self.edit_panel.set_edit(net, edit, float(net.biases[l - 1][self.index]) if l > 0 else None)
        self._show_accuracy()

    def _test_split(self):
        ds, net = self.dataset, self.network
        x = getattr(ds, "test_x", None)
        return None if x is None or net is None or x.shape[1] != net.sizes[0] else ds

    def _refresh_numbers(self) -> None:
        net, ds = self.network, self._test_split()
        if net is None or self.layer is None or ds is None or not self.isVisible():
            if ds is None:
                self.ablation_chart.set_message("no test images: the dataset has none, or is still loading")
            return
        st = self.current_edit()
        self.numbers.request_accuracy(net, None if st is None else st.base, ds)
        if not hidden_layer(net.sizes, self.layer):
            self._ablation_layer = None
            self.ablation_chart.set_message(
                "Only a hidden neuron can be switched off: pick one of a hidden layer to see which of its "
                "layer's neurons matter.")
            return
        if self._ablation_layer == self.layer and self.ablation_chart.highlight != self.index:
            self.ablation_chart.highlight = self.index
            self.ablation_chart.update()
        if self.bottom_tabs.currentIndex() == 1:
            self.numbers.request_ablation(net, self.layer, ds)

    def _show_accuracy(self) -> None:
        a, ds = self._accuracy, self._test_split()
        if ds is None:
            self.edit_panel.set_accuracy("")
            return
        n = f"{len(ds.test_labels):,} test images"
        if a is None:
            self.edit_panel.set_accuracy(f"Test accuracy: measuring on {n}…")
            return
        _net, acc, base_acc = a
        if self.current_edit() is not None and base_acc is not None:
            self.edit_panel.set_accuracy(
                f"Test accuracy {100 * base_acc:.1f} % → <b>{100 * acc:.1f} %</b> with this edit "
                f"({points(acc - base_acc)}, all {n})")
        else:
            self.edit_panel.set_accuracy(f"Test accuracy <b>{100 * acc:.1f} %</b> (all {n})")

    def _accuracy_ready(self, network, acc: float, base_acc) -> None:
        self._accuracy = (network, acc, base_acc)
        self._show_accuracy()

    def _ablation_ready(self, network, layer: int, values, full: float) -> None:
        if layer != self.layer:
            return
        self._ablation_layer = layer
        side = image_side(network.sizes[0]) if layer == 1 else None  # (first hidden layer: what each looks for)
        images = None if side is None else network.weights[0].reshape(-1, side, side)
        self.ablation_chart.set_data(values, full, self.index, images)
        drops = full - np.asarray(values)
        k, j = int(np.argmax(drops)), self.index
        self.ablation_note.setText(
            f"Test accuracy with each neuron of hidden layer {layer} switched off, one at a time (dashed line: all "
            f"on, {100 * full:.1f} %). The lower its bar, the more that neuron matters: neuron {k} the most "
            f"({-100 * drops[k]:+.1f} points), this one {points(-drops[j])}. Click a bar to inspect that neuron.")


def points(d: float) -> str:
    """An accuracy change as percentage points: "−2.9 points", "no change"."""
    p = round(100 * float(d), 1)
    return "no change" if p == 0 else f"{p:+.1f} points".replace("-", "−")


class InspectorDialog(QtWidgets.QDialog):
    """A non-modal window holding a :class:`NeuronInspector`."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setModal(False)
        self.inspector = NeuronInspector(self)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.inspector)
        self.setWindowTitle("Neuron inspector")
        self.resize(560, 760)
        pal = self.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, qcolor(theme.BACKGROUND))
        self.setPalette(pal)
        self.inspector.neuronChanged.connect(self._retitle)

    def _retitle(self, layer: int, index: int) -> None:
        self.setWindowTitle(f"Neuron inspector — {self.inspector.neuron_name()}")
