"""The neuron inspector's hands-on parts: edit the neuron, and which neurons of its layer matter.

* :class:`EditPanel`: drag the neuron's bias, scale its incoming weights, switch it off, reset.
  The controls say what they do; each change is a request (``editRequested``) that the window
  sends to the session (``Session.edit_neuron``), and they show the session's edit in progress
  (``set_edit``).  The sliders are *relative to the network as it was when the edit began*: the
  bias slider adds Δb to b (so z moves by exactly Δb), the scale multiplies the incoming weights.
* :class:`AblationChart`: the test accuracy with each neuron of the layer switched off, a dashed
  line at the accuracy with all of them on, and under each bar that neuron's weight image (first
  hidden layer: what it looks for in the pixels); click a bar or an image to inspect that neuron.
* :class:`NeuronNumbers`: the test accuracy of the network on screen (and of the one before the
  edit) and the ablation chart's numbers, computed off the GUI thread (``nnstudio.gui.tasks``),
  the newest request always winning, by ``nnstudio.components.ablation``.
"""

from __future__ import annotations

import math
import time

import numpy as np

from nnstudio.components.ablation import ablation, accuracy, hidden_layer
from nnstudio.components.diagram import MIN_TEXT_PX
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import pixel_font, qcolor, signed_qimage
from nnstudio.gui.tasks import JobRunner
from nnstudio.session.edits import BIAS_SHIFT_RANGE, WEIGHT_SCALE_RANGE, NeuronEdit

#: slider steps per unit (the bias moves in steps of 0.01, the scale in steps of 0.01)
STEPS = 100
#: seconds between two measurements while the network keeps changing (training, a drag)
EVERY = {"accuracy": 0.1, "ablation": 0.5}
OFF_HELP = ("Off sets its outgoing weights to 0: the next layer then hears nothing from it, exactly as if its "
            "activation were 0. Training on from here lets them grow back.")


class EditPanel(QtWidgets.QWidget):
    """Bias, weight scale, off and reset for one neuron (see the module docstring)."""

    editRequested = Signal(object)  # {"bias_shift": ..} | {"weight_scale": ..} | {"off": ..}
    resetRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("neuronEditPanel")
        self.title = QtWidgets.QLabel("Edit this neuron")
        self.title.setFont(pixel_font(14, bold=True))
        self.bias_slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.bias_slider.setObjectName("biasSlider")
        r = int(BIAS_SHIFT_RANGE * STEPS)
        self.bias_slider.setRange(-r, r)
        self.bias_slider.setPageStep(STEPS // 2)
        self.bias_slider.setToolTip("Drag to add Δb to the bias: z = w·a + b moves by exactly Δb for every input")
        self.bias_value = QtWidgets.QLabel("")
        self.scale_slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.scale_slider.setObjectName("weightScaleSlider")
        lo, hi = WEIGHT_SCALE_RANGE
        self.scale_slider.setRange(int(lo * STEPS), int(hi * STEPS))
        self.scale_slider.setPageStep(STEPS // 4)
        self.scale_slider.setToolTip("Drag to multiply the neuron's incoming weights (×1: as it was; ×0: it "
                                     "ignores its inputs and fires σ(b) for every image)")
        self.scale_value = QtWidgets.QLabel("")
        self.off_check = QtWidgets.QCheckBox("switch off")
        self.off_check.setObjectName("switchOffCheck")
        self.off_check.setToolTip(OFF_HELP)
        self.reset_button = QtWidgets.QToolButton(text="Reset neuron")
        self.reset_button.setObjectName("resetNeuronButton")
        self.reset_button.setToolTip("Put the neuron back as it was before this edit (Training ▸ Undo steps back "
                                     "one change at a time)")
        self.note = QtWidgets.QLabel("")
        self.note.setWordWrap(True)
        self.accuracy_label = QtWidgets.QLabel("")
        self.accuracy_label.setObjectName("editAccuracyLabel")
        self.accuracy_label.setWordWrap(True)
        for lab in (self.bias_value, self.scale_value):
            lab.setMinimumWidth(QtGui.QFontMetrics(lab.font()).horizontalAdvance("+10.00 → b = −10.000") + 4)
        grid = QtWidgets.QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.addWidget(QtWidgets.QLabel("bias Δb"), 0, 0)
        grid.addWidget(self.bias_slider, 0, 1)
        grid.addWidget(self.bias_value, 0, 2)
        grid.addWidget(QtWidgets.QLabel("weights ×"), 1, 0)
        grid.addWidget(self.scale_slider, 1, 1)
        grid.addWidget(self.scale_value, 1, 2)
        grid.setColumnStretch(1, 1)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.off_check)
        row.addStretch(1)
        row.addWidget(self.reset_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addWidget(self.title)
        lay.addLayout(grid)
        lay.addLayout(row)
        lay.addWidget(self.note)
        lay.addWidget(self.accuracy_label)
        self.bias_slider.valueChanged.connect(lambda v: self.editRequested.emit({"bias_shift": v / STEPS}))
        self.scale_slider.valueChanged.connect(lambda v: self.editRequested.emit({"weight_scale": v / STEPS}))
        self.off_check.toggled.connect(lambda on: self.editRequested.emit({"off": bool(on)}))
        self.reset_button.clicked.connect(self.resetRequested)
        self.set_edit(None, None)

    def set_edit(self, network, edit: NeuronEdit | None, bias_now: float | None = None) -> None:
        """Show ``edit`` (neutral: nothing in progress) of a neuron of ``network``; ``bias_now`` its bias."""
        usable = network is not None and edit is not None and 0 < edit.layer < len(network.sizes)
        for w in (self.bias_slider, self.scale_slider, self.off_check, self.reset_button):
            w.setEnabled(usable)
        e = edit if usable else NeuronEdit(1, 0)
        for slider, v in ((self.bias_slider, round(e.bias_shift * STEPS)), (self.scale_slider, round(e.weight_scale * STEPS))):
            if slider.value() != v and not slider.isSliderDown():  # (never fight the hand that drags it)
                slider.blockSignals(True)
                slider.setValue(v)
                slider.blockSignals(False)
        if self.off_check.isChecked() != e.off:
            self.off_check.blockSignals(True)
            self.off_check.setChecked(e.off)
            self.off_check.blockSignals(False)
        self.bias_value.setText(f"{e.bias_shift:+.2f}" + ("" if bias_now is None else f" → b = {bias_now:+.3f}"))
        self.scale_value.setText(f"×{e.weight_scale:.2f}")
        self.reset_button.setEnabled(usable and not e.neutral)
        if not usable:
            self.note.setText("Input pixels are the image: nothing to edit." if network is not None and edit is not None
                              else "")
            return
        hidden = hidden_layer(network.sizes, e.layer)
        self.off_check.setEnabled(hidden)
        self.off_check.setToolTip(OFF_HELP if hidden else "An output neuron has no outgoing weights: its activation "
                                  "is the network's answer. Drag its bias down to silence it.")
        self.note.setText(OFF_HELP if hidden else "An output neuron cannot be switched off (its activation is the "
                          "answer); drag its bias down to silence it.")

    def set_accuracy(self, text: str) -> None:
        if text != self.accuracy_label.text():
            self.accuracy_label.setText(text)


class AblationChart(QtWidgets.QWidget):
    """Test accuracy with each neuron of a layer switched off (bars), all on (dashed line)."""

    barClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ablationChart")
        self.values = np.zeros(0)
        self.full: float | None = None
        self.highlight: int | None = None
        self.images: list = []  # each neuron's weight image (QImage), or none
        self.message = "no neuron selected"
        self.setMouseTracking(True)
        self.setMinimumHeight(110)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Expanding)

    def set_data(self, values, full: float, highlight: int | None, weights=None) -> None:
        """``values``: accuracy (0..1) with each neuron off; ``full``: all on; ``weights``: each neuron's
        incoming weights as a 2-D image (n, side, side), drawn under its bar, or None."""
        self.values = 100.0 * np.asarray(values, dtype=np.float64)
        self.full = 100.0 * float(full)
        self.highlight = highlight
        self.images = [] if weights is None else [
            signed_qimage(w, float(np.abs(w).max()) or 1.0) for w in np.asarray(weights, dtype=np.float64)]
        self.message = ""
        self.update()

    def set_message(self, text: str) -> None:
        self.values = np.zeros(0)
        self.message = text
        self.update()

    def y_range(self) -> tuple[float, float]:
        v = self.values
        lo = max(0.0, math.floor(min(float(v.min()), self.full) - 2.0))
        hi = min(100.0, math.ceil(max(float(v.max()), self.full) + 0.5))
        return lo, max(hi, lo + 1.0)

    def thumb_side(self) -> float:
        """The side of the weight images under the bars (0: none shown)."""
        n = self.values.size
        if not self.images or len(self.images) != n or n > 40:
            return 0.0
        side = min(36.0, (self.width() - 58.0) / n - 2.0, 0.3 * self.height())
        return side if side >= 10.0 else 0.0

    def _area(self) -> QtCore.QRectF:
        bottom = (20.0 if self.values.size <= 40 else 6.0) + self.thumb_side() + (4.0 if self.thumb_side() else 0.0)
        return QtCore.QRectF(50.0, 8.0, max(1.0, self.width() - 58.0), max(1.0, self.height() - 8.0 - bottom))

    def bar_rect(self, i: int) -> QtCore.QRectF:
        area = self._area()
        lo, hi = self.y_range()
        bw = area.width() / max(1, self.values.size)
        y = area.bottom() - (float(self.values[i]) - lo) / (hi - lo) * area.height()
        gap = 0.15 * bw if bw > 4 else 0.0
        return QtCore.QRectF(area.left() + i * bw + gap / 2, y, max(bw - gap, 0.8), max(area.bottom() - y, 0.8))

    def bar_at(self, pos) -> int | None:
        area = self._area()
        n = self.values.size
        if not n or not (area.left() <= pos.x() < area.right()):
            return None
        return min(n - 1, int((pos.x() - area.left()) / area.width() * n))

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
        area = self._area()
        lo, hi = self.y_range()

        def ymap(v):
            return area.bottom() - (v - lo) / (hi - lo) * area.height()

        p.setPen(qcolor(theme.MUTED))
        for v in (lo, hi):
            p.drawText(QtCore.QRectF(0, ymap(v) - 8, area.left() - 5, 16),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{v:.0f} %")
        drops = np.clip(self.full - self.values, 0.0, None)
        worst = max(float(drops.max()), 1e-9)
        p.setPen(Qt.PenStyle.NoPen)
        for i in range(self.values.size):
            t = float(drops[i]) / worst  # the more it costs to switch it off, the brighter
            p.setBrush(QtGui.QColor(int(70 + 160 * t), int(80 + 120 * t), int(95 + 60 * t)))
            p.drawRect(self.bar_rect(i))
        pen = QtGui.QPen(qcolor(theme.TEXT), 1, Qt.PenStyle.DashLine)
        p.setPen(pen)
        y = ymap(self.full)
        p.drawLine(QtCore.QLineF(area.left(), y, area.right(), y))
        if self.highlight is not None and 0 <= self.highlight < self.values.size:
            p.setPen(QtGui.QPen(qcolor(theme.ACCENT), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.bar_rect(self.highlight).adjusted(-1, -1, 1, 1))
        n = self.values.size
        t = self.thumb_side()
        if t:  # each neuron's weight image under its bar
            bw = area.width() / n
            p.setRenderHint(QtGui.QPainter.RenderHint.SmoothPixmapTransform, False)
            for i, img in enumerate(self.images):
                r = QtCore.QRectF(area.left() + i * bw + (bw - t) / 2, area.bottom() + 4, t, t)
                p.drawImage(r, img)
                if i == self.highlight:
                    p.setPen(QtGui.QPen(qcolor(theme.ACCENT), 2))
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawRect(r.adjusted(-1, -1, 1, 1))
        if n <= 40:
            bw = area.width() / n
            every = max(1, int(np.ceil(22 / bw)))
            for i in range(0, n, every):
                p.setPen(qcolor(theme.ACCENT if i == self.highlight else theme.TEXT))
                p.drawText(QtCore.QRectF(area.left() + i * bw + bw / 2 - 20, area.bottom() + 2 + (t + 4 if t else 0),
                                         40, 16),
                           Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, str(i))
        p.end()

    def tip(self, i: int) -> str:
        v, d = self.values[i], self.values[i] - self.full
        return f"neuron {i} switched off: {v:.1f} % ({d:+.1f} points) — click to inspect it"

    def mouseMoveEvent(self, e) -> None:
        i = self.bar_at(e.position())
        if i is None:
            QtWidgets.QToolTip.hideText()
        else:
            QtWidgets.QToolTip.showText(e.globalPosition().toPoint(), self.tip(i), self)

    def mousePressEvent(self, e) -> None:
        i = self.bar_at(e.position())
        if i is not None and e.button() == Qt.MouseButton.LeftButton:
            self.barClicked.emit(i)


class NeuronNumbers(QtCore.QObject):
    """Test accuracies for the inspector, off the GUI thread (see the module docstring).

    ``accuracyReady(network, accuracy, base_accuracy or None)`` and ``ablationReady(network, layer,
    values, full accuracy)`` arrive on the GUI thread; ``network`` is the one they were computed for."""

    accuracyReady = Signal(object, float, object)
    ablationReady = Signal(object, int, object, float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.jobs = JobRunner(self)
        self.jobs.finished.connect(self._done)
        self._base_acc: tuple | None = None  # (base network, its accuracy)
        self._asked: dict[str, object] = {}  # job name -> what it was last asked for
        self._wanted: dict[str, tuple] = {}  # job name -> the arguments of the next request
        self._last = {name: -1e9 for name in EVERY}
        self._timers = {}
        for name in EVERY:
            t = self._timers[name] = QtCore.QTimer(self)
            t.setSingleShot(True)
            t.timeout.connect(lambda n=name: self._submit(n))

    def request_accuracy(self, network, base, dataset) -> None:
        """The test accuracy of ``network`` (and of ``base``, the network before an edit, or None)."""
        if network is None or dataset is None or self._asked.get("accuracy") is network:
            return
        self._throttle("accuracy", (network, base, dataset))

    def request_ablation(self, network, layer: int, dataset) -> None:
        """The chart for ``layer`` of ``network``."""
        if network is None or dataset is None or not hidden_layer(network.sizes, layer):
            return
        if self._asked.get("ablation") == (network, layer):
            return
        self._throttle("ablation", (network, layer, dataset))

    def _throttle(self, name: str, args) -> None:
        """Submit now, or when ``EVERY[name]`` has passed since the last one (the newest args win): a
        network that keeps changing (training, a drag) is measured a few times a second, not per frame."""
        self._wanted[name] = args
        wait = self._last[name] + EVERY[name] - time.monotonic()
        if wait <= 0:
            self._submit(name)
        elif not self._timers[name].isActive():
            self._timers[name].start(int(wait * 1000) + 1)

    def _submit(self, name: str) -> None:
        args = self._wanted.pop(name, None)
        if args is None:
            return
        self._last[name] = time.monotonic()
        if name == "accuracy":
            network, base, dataset = args
            self._asked[name] = network
            X, y = dataset.test_x, dataset.test_labels
            known = self._base_acc[1] if self._base_acc is not None and self._base_acc[0] is base else None

            def job(should_stop):
                base_acc = None if base is None else known if known is not None else accuracy(base, X, y)
                return network, accuracy(network, X, y), base, base_acc
        else:
            network, layer, dataset = args
            self._asked[name] = (network, layer)
            X, y = dataset.test_x, dataset.test_labels

            def job(should_stop):
                return network, layer, ablation(network, X, y, layer, should_stop), accuracy(network, X, y)

        self.jobs.submit(name, job)

    def _done(self, name: str, result) -> None:
        if name == "accuracy":
            network, acc, base, base_acc = result
            if base is not None:
                self._base_acc = (base, base_acc)
            self.accuracyReady.emit(network, acc, base_acc)
        else:
            network, layer, values, full = result
            self.ablationReady.emit(network, layer, values, full)

    def forget(self) -> None:
        """Ask again next time (a new dataset)."""
        self._asked.clear()
        self._base_acc = None

    def shutdown(self) -> None:
        for t in self._timers.values():
            t.stop()
        self._wanted.clear()
        self.jobs.shutdown()
