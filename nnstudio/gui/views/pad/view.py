"""Draw a digit and watch the network read it, live.

:class:`DrawPanel` is the studio view around the :class:`~nnstudio.gui.views.pad.canvas.DrawingPad`: the
pad and its tools, the 28x28 image the network actually sees (the canvas through
:func:`nnstudio.data.to_mnist`, exactly what ``nnstudio predict`` does with an image file), the ten output
activations as bars, and the top guess, large, with its confidence.  It classifies while you draw
(coalesced to display rate), reads with the studio's network, the one every view shows (``set_snapshot``;
a panel used on its own reads with the shipped pretrained network), and makes the drawing the studio's
current input (``inputRequested``) so the network diagram lights up as you draw.
"""

from __future__ import annotations

import math
import time

import numpy as np

from nnstudio._resources import shipped_model_path
from nnstudio.core import ModelFileError, load_model
from nnstudio.data import DataError, load_dataset, to_mnist
from nnstudio.gui.style import theme
from nnstudio.gui.style.palette import apply_dark_palette
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.views.pad.canvas import MAX_BRUSH, MIN_BRUSH, DrawingPad
from nnstudio.gui.views.pad.readouts import GuessView, Prediction, PreviewImage
from nnstudio.gui.widgets.output_bars import OutputBars
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.session.model import InputExample

__all__ = ["DrawPanel", "SOURCE"]

FRAME_INTERVAL_MS = 1000.0 / 60.0  #: classification is coalesced to at most one per display frame (60 Hz)
SOURCE = "drawing pad"


class _WrappedNote(QtWidgets.QLabel):
    """A word-wrapped label without height-for-width: otherwise a hosting QScrollArea sizes the whole panel
    by height-for-width (taller than the dock, which then scrolls).  Two lines are reserved instead."""

    def hasHeightForWidth(self) -> bool:
        return False


class DrawPanel(StudioView):
    """Draw and classify: the pad, its tools, what the network sees, the ten outputs and the top guess.

    Studio protocol (see :class:`~nnstudio.gui.views.base.StudioView`): ``set_snapshot`` (the network to read
    with; the latest one is used, at any rate), ``set_dataset`` (for "load example" and class names);
    emits ``inputRequested(InputExample(pixels, source="drawing pad"))`` as the drawing changes (all-zero
    pixels with ``extra={"blank": True}`` when the pad is cleared) and ``statusMessage``.
    ``predictionChanged(Prediction)`` follows every update of the readouts.
    """

    title = "Draw"
    predictionChanged = Signal(object)  # Prediction

    def __init__(self, parent=None):
        super().__init__(parent)
        self._network = None  # the Network we read with
        self._network_note = ""
        self._label = ""  # the studio's name for its network
        self._dataset = None
        self._class_names: tuple[str, ...] = tuple(str(d) for d in range(10))
        self._pixels: np.ndarray | None = None  # cached to_mnist of the canvas (None = stale)
        self._prediction: Prediction | None = None
        self._rng = np.random.default_rng()
        self._last_update = -1.0
        self._input_dirty = False
        self._example: tuple[int, str] | None = None  # (label, "mnist test #i") while an example is on the pad
        self._pending_example: tuple[int, str] | None = None
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._refresh)

        apply_dark_palette(self)
        self.setObjectName("DrawPanel")
        self.setStyleSheet(
            "#DrawPanel QToolButton { background: #21262d; color: %(text)s; border: 1px solid #30363d;"
            " border-radius: 5px; padding: 3px 7px; }"
            "#DrawPanel QToolButton:hover { border-color: %(muted)s; }"
            "#DrawPanel QToolButton:pressed { background: #30363d; }"
            "#DrawPanel QToolButton:checked { background: #3a3220; border-color: %(accent)s; color: %(accent)s; }"
            "#DrawPanel QToolButton:disabled { color: #484f58; }"
            % {"text": theme.TEXT, "muted": theme.MUTED, "accent": theme.ACCENT}
        )

        self.pad = DrawingPad(self)
        self.pad.changed.connect(self._on_pad_changed)

        # ---- tools
        self.brush_button = self._tool("Brush", "Draw (B)", checkable=True)
        self.eraser_button = self._tool("Eraser", "Erase (X)", checkable=True)
        group = QtWidgets.QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.brush_button)
        group.addButton(self.eraser_button)
        self.brush_button.setChecked(True)
        self.brush_button.toggled.connect(lambda on: on and self.pad.set_eraser(False))
        self.eraser_button.toggled.connect(lambda on: on and self.pad.set_eraser(True))
        self.pad.eraserChanged.connect(lambda on: (self.eraser_button if on else self.brush_button).setChecked(True))
        self.width_slider = QtWidgets.QSlider(Qt.Orientation.Vertical)
        self.width_slider.setRange(MIN_BRUSH, MAX_BRUSH)
        self.width_slider.setValue(self.pad.brush_width)
        self.width_slider.setToolTip("Stroke width (- and +)")
        self.width_slider.setMinimumHeight(40)
        self.width_slider.valueChanged.connect(self.pad.set_brush_width)
        self.pad.brushWidthChanged.connect(self.width_slider.setValue)
        self.undo_button = self._tool("Undo", "Undo the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button = self._tool("Clear", "Clear the pad (Delete, Backspace or C)")
        self.clear_button.clicked.connect(self.pad.clear)
        self.example_button = self._tool("Example", "Put a random test digit of the current dataset on the pad")
        self.example_button.clicked.connect(lambda: self.load_example())
        self.pad.changed.connect(self._sync_tools)
        self._sync_tools()

        # a vertical tool strip beside the pad, as in drawing programs (keeps short docks usable)
        tools = QtWidgets.QVBoxLayout()
        tools.setSpacing(4)
        tools.setContentsMargins(0, 0, 0, 0)
        for b in (self.brush_button, self.eraser_button):
            tools.addWidget(b)
        width_label = QtWidgets.QLabel("Width")
        width_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        width_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        tools.addSpacing(4)
        tools.addWidget(width_label)
        tools.addWidget(self.width_slider, 1, Qt.AlignmentFlag.AlignHCenter)
        tools.addSpacing(4)
        for b in (self.undo_button, self.clear_button, self.example_button):
            tools.addWidget(b)
        for b in (self.brush_button, self.eraser_button, self.undo_button, self.clear_button, self.example_button):
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

        # ---- readouts
        self.preview = PreviewImage()
        sees = QtWidgets.QLabel("What the network sees\n28×28 = 784 inputs")
        sees.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sees.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self._sees_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self._sees_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.preview, 1)
        box.addWidget(sees)

        self.guess = GuessView()

        self.bars = OutputBars()
        outputs_caption = QtWidgets.QLabel("Output neurons (activation 0 – 1)")
        outputs_caption.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self.model_label = _WrappedNote("No network yet")
        self.model_label.setObjectName("padNetworkLabel")
        self.model_label.setWordWrap(True)
        self.model_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self.model_label.setMinimumHeight(2 * QtGui.QFontMetrics(self.model_label.font()).lineSpacing() + 4)
        self._bars_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self._bars_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(outputs_caption)
        box.addWidget(self.bars, 1)
        box.addWidget(self.model_label)

        self._readouts = QtWidgets.QGridLayout()
        self._readouts.setHorizontalSpacing(14)
        self._readouts.setVerticalSpacing(8)
        self._wide: bool | None = None
        self._arrange(wide=False)

        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(10)
        layout.addLayout(tools, 0)
        layout.addWidget(self.pad, 3)
        layout.addSpacing(6)
        layout.addLayout(self._readouts, 2)

        self.setFocusProxy(self.pad)
        self._show(None)

    def _sync_tools(self) -> None:
        self.undo_button.setEnabled(self.pad.can_undo())
        self.clear_button.setEnabled(not self.pad.is_empty())

    # ------------------------------------------------------------------ layout
    def _arrange(self, wide: bool) -> None:
        """Readouts in two rows (preview | guess over the bars) or, in a wide short dock, in two columns
        (preview over guess | the bars)."""
        if wide == self._wide:
            return
        self._wide = wide
        g = self._readouts
        for w in (self._sees_box, self.guess, self._bars_box):
            g.removeWidget(w)
        for i in range(3):
            g.setRowStretch(i, 0)
            g.setColumnStretch(i, 0)
        if wide:
            g.addWidget(self._sees_box, 0, 0)
            g.addWidget(self.guess, 1, 0)
            g.addWidget(self._bars_box, 0, 1, 2, 1)
            g.setRowStretch(0, 1)
            g.setRowStretch(1, 1)
            g.setColumnStretch(0, 2)
            g.setColumnStretch(1, 3)
        else:
            g.addWidget(self._sees_box, 0, 0)
            g.addWidget(self.guess, 0, 1)
            g.addWidget(self._bars_box, 1, 0, 1, 2)
            g.setRowStretch(0, 2)
            g.setRowStretch(1, 3)
            g.setColumnStretch(0, 1)
            g.setColumnStretch(1, 1)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        m = self.layout().contentsMargins()
        h = self.height() - m.top() - m.bottom()
        self.pad.setMaximumWidth(max(self.pad.minimumWidth(), h))  # the pad is square: no wasted width
        side = self.width() - m.left() - m.right() - self.example_button.sizeHint().width() - h - 26
        self._arrange(wide=side > 1.45 * h)

    def _tool(self, text: str, tip: str, checkable: bool = False) -> QtWidgets.QToolButton:
        b = QtWidgets.QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setCheckable(checkable)
        b.setAutoRaise(False)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys keep going to the pad
        return b

    # ------------------------------------------------------------------ studio protocol
    def set_snapshot(self, snapshot) -> None:
        """Read with the studio's network from now on (the latest snapshot wins; updates are coalesced)."""
        if snapshot is None:
            return
        net = snapshot.network
        changed_shape = self._network is None or tuple(self._network.sizes) != tuple(net.sizes)
        self._network = net
        self._show_note()
        if changed_shape:
            self._sync_labels()
        if not self.pad.is_empty():
            self._schedule()

    def set_network_label(self, label: str) -> None:
        """The name of the studio's network (the session's, as the title and status bar say it)."""
        self._label = label
        self._show_note()

    def _show_note(self) -> None:
        if self._network is None:
            note = "No network yet"
        elif self._label:
            note = f"Read by {self._label}"
        else:
            note = f"Read by a {'-'.join(map(str, self._network.sizes))} network"
        if note != self._network_note:
            self._network_note = note
            self.model_label.setText(note)

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        if dataset is not None:
            self._class_names = tuple(dataset.class_names)
            self._sync_labels()
            self.example_button.setToolTip(f"Put a random {dataset.name} test image on the pad")

    def set_input(self, example) -> None:
        """The pad shows the user's drawing, not the studio's current input: nothing to do."""

    # ------------------------------------------------------------------ public
    @property
    def network(self):
        """The network the panel reads with (None until a snapshot arrives or the user draws)."""
        return self._network

    @property
    def prediction(self) -> Prediction | None:
        """The latest readout (None until the first update)."""
        return self._prediction

    def network_input(self) -> np.ndarray:
        """The (28, 28) float image the network sees: ``to_mnist(pad.array())``, as ``nnstudio predict`` does."""
        if self._pixels is None:
            self._pixels = to_mnist(self.pad.array())
        return self._pixels

    def set_network(self, network, label: str = "") -> None:
        """Read with ``network`` (a panel on its own, outside the studio)."""
        self._network = network
        self._label = label
        self._show_note()
        self._sync_labels()
        self._schedule()

    def clear(self) -> None:
        self.pad.clear()

    def undo(self) -> bool:
        return self.pad.undo()

    def load_example(self, index: int | None = None) -> int | None:
        """Put test image ``index`` (random if None) of the current dataset on the pad; returns the index."""
        ds = self._dataset
        if ds is None:
            try:
                ds = self._dataset = load_dataset("mnist-sample")
                self._class_names = tuple(ds.class_names)
            except DataError as e:
                self.statusMessage.emit(f"No dataset to take an example from: {e}")
                return None
        if ds.n_test == 0:
            self.statusMessage.emit(f"{ds.name} has no test images")
            return None
        i = int(self._rng.integers(ds.n_test)) if index is None else int(index)
        if not 0 <= i < ds.n_test:
            raise IndexError(f"{ds.name} has {ds.n_test} test images, not #{i}")
        self._pending_example = (int(ds.test_labels[i]), f"{ds.name} test #{i}")
        self.pad.load_digit(ds.test_images[i])
        label = ds.class_names[int(ds.test_labels[i])]
        self.statusMessage.emit(f"On the pad: {ds.name} test image #{i} (a {label}); draw over it or clear it")
        return i

    # ------------------------------------------------------------------ updating
    def _on_pad_changed(self) -> None:
        self._pixels = None
        self._input_dirty = True
        # the true label is known only while the pad holds an untouched dataset example
        self._example, self._pending_example = self._pending_example, None
        self._schedule()

    def _schedule(self) -> None:
        """Coalesce updates: the first change is shown at once (next event-loop turn), then at most one
        update per display frame."""
        if self._timer.isActive():
            return
        wait = FRAME_INTERVAL_MS - (time.perf_counter() - self._last_update) * 1000.0
        self._timer.start(max(0, math.ceil(wait)))

    def _ensure_network(self) -> bool:
        """A panel on its own (no studio giving it a network) reads with the shipped pretrained one."""
        if self._network is not None:
            return True
        try:
            net, meta = load_model(shipped_model_path(), with_metadata=True)
        except ModelFileError as e:
            self.model_label.setText("No network to read with")
            self.statusMessage.emit(f"Cannot load the pretrained network: {e}")
            return False
        acc = meta.get("accuracy")
        self.set_network(net, f"the pretrained {'-'.join(map(str, net.sizes))}"
                         + (f" ({100 * acc:.1f} % on MNIST test)" if isinstance(acc, (int, float)) else ""))
        return True

    def _sync_labels(self) -> None:
        n = self._network.sizes[-1] if self._network is not None else len(self._class_names)
        names = self._class_names if len(self._class_names) == n else tuple(str(i) for i in range(n))
        self.bars.set_labels(names)

    def _refresh(self) -> None:
        self._last_update = time.perf_counter()
        blank = self.pad.is_empty()
        pixels = np.zeros((28, 28)) if blank else self.network_input()
        blank = blank or not pixels.any()
        emit_input = self._input_dirty
        self._input_dirty = False
        if blank:
            pred = Prediction(pixels, None, None)
        elif not self._ensure_network():
            pred = Prediction(pixels, None, None)
        elif self._network.sizes[0] != pixels.size:
            self._network_note = ""  # the next note restores it
            self.model_label.setText(
                f"This {'-'.join(map(str, self._network.sizes))} network does not take 28×28 images")
            pred = Prediction(pixels, None, None)
        else:
            act = self._network.feedforward(pixels.reshape(1, -1))[0]
            pred = Prediction(pixels, act, int(act.argmax()))
        self._show(pred)
        if emit_input:
            extra = {"blank": True} if blank else {}
            label = None
            if self._example is not None and not blank:
                label, extra["example"] = self._example
            self.inputRequested.emit(
                InputExample(pixels=pixels.reshape(-1).copy(), label=label, source=SOURCE, extra=extra))
        self.predictionChanged.emit(pred)

    def _show(self, pred: Prediction | None) -> None:
        self._prediction = pred
        if pred is None or pred.blank:
            self.preview.set_pixels(None if pred is None else pred.pixels)
            self.bars.set_values(None)
            self.guess.set_guess(None)
            return
        self.preview.set_pixels(pred.pixels)
        self.bars.set_values(pred.activations)
        labels = self.bars.labels()
        second = float(np.partition(pred.activations, -2)[-2]) if len(pred.activations) > 1 else 0.0
        self.guess.set_guess(labels[pred.guess] if pred.guess < len(labels) else str(pred.guess), pred.confidence, second)
