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
from nnstudio.gui.views.pad.readouts import GuessView, Prediction, PreviewImage, WrappedNote
from nnstudio.gui.views.pad.teach import TeachBars, TeachPanel
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.session.model import InputExample

__all__ = ["DrawPanel", "SOURCE"]

#: below this height (inside the margins) the panel takes its short arrangement; above the tall
#: arrangement's minimum (so a dock of any height settles on one of them)
TALL_MIN_HEIGHT = 330
FRAME_INTERVAL_MS = 1000.0 / 60.0  #: classification is coalesced to at most one per display frame (60 Hz)
SOURCE = "drawing pad"
#: the teaching panel beside the bars needs this width; narrower, the tools step aside while teaching
TEACH_MIN_WIDTH = 230
CAPTION = "Output neurons (activation 0 – 1)"
CAPTION_TEACH = "Misread? Click the right digit (or press its key)"
CAPTION_TAUGHT = "Green: the digit you said · dashed: before the step"
CAPTION_SHORTER = {CAPTION: ("Output neurons (0 – 1)",),
                   CAPTION_TEACH: ("Misread? Click the right digit", "Click the right digit"),
                   CAPTION_TAUGHT: ("Green: yours · dashed: before", "dashed: before the step")}


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
    #: teach the drawing: (pixels (784,), the digit the user said, alone (not mixed with real digits))
    teachRequested = Signal(object, int, bool)
    undoRequested = Signal()  # put back the weights from before the last teaching step
    nudgesRequested = Signal()  # show the explorer's desired nudges of the drawing being taught

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
        self._teaching: int | None = None  # the digit the user said the drawing is (None: not teaching)
        self._taught = None  # the session's last TeachResult for this drawing
        self._order = None  # (generation, edits) of the network read with
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
        self.pad.digitPressed.connect(self.teach)

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
        self.width_slider.setToolTip(f"Stroke width in pixels of the {self.pad.canvas_size}-pixel canvas (- and +)")
        self.width_slider.valueChanged.connect(self.pad.set_brush_width)
        self.pad.brushWidthChanged.connect(self.width_slider.setValue)
        self.width_label = QtWidgets.QLabel()
        self.width_label.setObjectName("padWidthLabel")
        self.width_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.width_label.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self.width_label.setToolTip(self.width_slider.toolTip())
        # (as wide as its widest value, so the tools do not shift while the slider moves)
        self.width_label.setMinimumWidth(self.width_label.fontMetrics().horizontalAdvance(f"Width {MAX_BRUSH} px") + 4)
        self.width_slider.valueChanged.connect(self._show_width)
        self._show_width(self.width_slider.value())
        self.undo_button = self._tool("Undo", "Undo the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.pad.undo)
        self.clear_button = self._tool("Clear", "Clear the pad (Delete, Backspace or C)")
        self.clear_button.clicked.connect(self.pad.clear)
        self.example_button = self._tool("Example", "Put a random test digit of the current dataset on the pad")
        self.example_button.clicked.connect(lambda: self.load_example())
        self.pad.changed.connect(self._sync_tools)
        self._sync_tools()
        for b in (self.brush_button, self.eraser_button, self.undo_button, self.clear_button, self.example_button):
            b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

        # the tools beside the pad, as in drawing programs: a strip in a tall dock, two columns in a short one
        self._tools_box = QtWidgets.QWidget()
        self._tools_box.setObjectName("padTools")
        self._tools = QtWidgets.QGridLayout(self._tools_box)
        self._tools.setSpacing(4)
        self._tools.setContentsMargins(0, 0, 0, 0)
        self._compact: bool | None = None
        self._arrange_tools(compact=True)

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

        self.bars = TeachBars()
        self.bars.digitClicked.connect(self.teach)
        self.outputs_caption = outputs_caption = WrappedNote(CAPTION, lines=1, shorter=("Output neurons (0 – 1)",))
        self.teach_panel = TeachPanel()
        self.teach_panel.hide()
        self.teach_panel.stepRequested.connect(self.step_teaching)
        self.teach_panel.undoRequested.connect(self.undoRequested)
        self.teach_panel.nudgesRequested.connect(self.nudgesRequested)
        self.teach_panel.closeRequested.connect(self.stop_teaching)
        self.model_label = WrappedNote("No network yet")
        self.model_label.setObjectName("padNetworkLabel")
        self._bars_box = QtWidgets.QWidget()
        box = QtWidgets.QVBoxLayout(self._bars_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        box.addWidget(outputs_caption)
        box.addWidget(self.bars, 1)
        box.addWidget(self.model_label)

        self._readouts = QtWidgets.QGridLayout()
        self._readouts.setHorizontalSpacing(10)
        self._readouts.setVerticalSpacing(8)
        self._wide: tuple[bool, bool] | None = None  # (wide, teaching) as arranged
        self._arrange(wide=False)

        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(6, 10, 6, 10)
        layout.setSpacing(8)  # (beside the lessons at 1024×700 the panel has ~600 px: it fits them, no sideways scrolling)
        layout.addWidget(self._tools_box, 0)
        layout.addWidget(self.pad, 3)
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
        teaching = self._teaching is not None
        if (wide, teaching) == self._wide:
            return
        self._wide = (wide, teaching)
        g = self._readouts
        for w in (self._sees_box, self.guess, self._bars_box, self.teach_panel):
            g.removeWidget(w)
        for i in range(3):
            g.setRowStretch(i, 0)
            g.setColumnStretch(i, 0)
        if teaching:  # (while teaching: the teaching panel in place of the preview and the guess)
            g.addWidget(self.teach_panel, 0, 0)
            g.addWidget(self._bars_box, 0, 1)
            g.setRowStretch(0, 1)
            g.setColumnStretch(0, 1)
            g.setColumnStretch(1, 1)
        elif wide:
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
        # (shown only once in the layout: a parentless widget shown first would open as a window of its own)
        self.teach_panel.setVisible(teaching)
        for w in (self._sees_box, self.guess):
            w.setVisible(not teaching)

    def _arrange_tools(self, compact: bool) -> None:
        """The tools in one column (a tall dock: the width slider upright between them) or, in a
        short dock, in two columns with the slider lying under them."""
        if compact == self._compact:
            return
        self._compact = compact
        g = self._tools
        widgets = (self.brush_button, self.eraser_button, self.undo_button, self.clear_button, self.example_button,
                   self.width_label, self.width_slider)
        for w in widgets:
            g.removeWidget(w)
        for i in range(8):
            g.setRowStretch(i, 0)
        H = Qt.AlignmentFlag.AlignHCenter
        if compact:
            self.width_slider.setOrientation(Qt.Orientation.Horizontal)
            self.width_slider.setMinimumSize(60, 0)
            for w, row, col, span in ((self.brush_button, 0, 0, 1), (self.eraser_button, 0, 1, 1),
                                      (self.undo_button, 1, 0, 1), (self.clear_button, 1, 1, 1),
                                      (self.example_button, 2, 0, 2), (self.width_label, 3, 0, 2),
                                      (self.width_slider, 4, 0, 2)):
                g.addWidget(w, row, col, 1, span)
            g.setRowStretch(5, 1)
        else:
            self.width_slider.setOrientation(Qt.Orientation.Vertical)
            self.width_slider.setMinimumSize(0, 40)
            for row, w in enumerate((self.brush_button, self.eraser_button, self.width_label, self.width_slider,
                                     self.undo_button, self.clear_button, self.example_button)):
                g.addWidget(w, row, 0, H if w is self.width_slider else Qt.AlignmentFlag(0))
            g.setRowStretch(3, 1)

    def _show_width(self, value: int) -> None:
        self.width_label.setText(f"Width {value} px")

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._fit()

    def _fit(self) -> None:
        m = self.layout().contentsMargins()
        h = self.height() - m.top() - m.bottom()
        # a short dock (a small window's): tools in two columns, readouts side by side, so everything
        # shows without scrolling; the threshold is above the tall arrangement's own minimum height
        short = h < TALL_MIN_HEIGHT
        self._arrange_tools(compact=short)
        self.pad.setMaximumWidth(max(self.pad.minimumWidth(), h))  # the pad is square: no wasted width
        side = self.width() - m.left() - m.right() - self._tools_box.sizeHint().width() - h - 26
        self._arrange(wide=short or side > 1.45 * h)
        # while teaching in a narrow dock the tools step aside (drawing on the pad ends teaching and brings them back)
        self._tools_box.setVisible(self._teaching is None or side >= 2 * TEACH_MIN_WIDTH)

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
        order = (getattr(snapshot, "generation", 0), getattr(snapshot, "edits", 0))
        if order != self._order:
            self._order = order
            self._show_taught()
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

    # ------------------------------------------------------------------ teaching
    @property
    def teaching(self) -> int | None:
        """The digit the user said the drawing is, while teaching it (None otherwise)."""
        return self._teaching

    @property
    def taught(self):
        """The last teaching step of this drawing (the session's TeachResult), or None."""
        return self._taught

    def teach(self, digit: int) -> bool:
        """The user says the drawing is ``digit`` (a bar clicked, its key pressed): the teaching panel
        opens in place of the preview and the guess, and the drawing with that label becomes the studio's
        example (so the explorer shows its desired nudges).  Step ▶ then asks to teach it (``teachRequested``)."""
        digit = int(digit)
        if self._timer.isActive():
            self._refresh()
        pred = self._prediction
        if pred is None or pred.blank or self._network is None:
            self.statusMessage.emit("Draw a digit first; then click the digit it is (or press its key) to teach it")
            return False
        if not 0 <= digit < len(pred.activations):
            return False
        self._teaching, self._taught = digit, None
        names = self.bars.labels()
        self.teach_panel.start(names[digit], names[pred.guess] if pred.guess != digit else None,
                               self._network.cost.name)
        self.bars.set_teaching(digit)
        self._set_caption(CAPTION_TAUGHT)
        self._fit()
        self.inputRequested.emit(InputExample(pixels=pred.pixels.reshape(-1).copy(), label=digit, source=SOURCE,
                                              extra={"taught": digit}))
        told = "it reads it right already" if pred.guess == digit else f"it reads {names[pred.guess]}"
        self.statusMessage.emit(f"You say it is a {names[digit]} ({told}): Step ▶ teaches the network; "
                                "Nudges ▸ shows what it wants to change")
        return True

    def step_teaching(self, alone: bool | None = None) -> bool:
        """Ask the studio for one teaching step on the drawing (mixed with real digits unless ``alone``;
        None: as the panel's choice says)."""
        if self._teaching is None:
            return False
        if alone is not None:
            self.teach_panel.set_alone(alone)
        self.teachRequested.emit(self.network_input().reshape(-1).copy(), self._teaching, self.teach_panel.alone)
        return True

    def stop_teaching(self) -> None:
        if self._teaching is None:
            return
        self._teaching, self._taught = None, None
        self.bars.set_teaching(None)
        self._set_caption(CAPTION_TEACH if self._prediction is not None and not self._prediction.blank else CAPTION)
        self._fit()

    def set_taught(self, result) -> None:
        """A teaching step was applied (the session's TeachResult; again when its accuracies are measured)."""
        if self._teaching is None or result is None or result.label != self._teaching:
            return
        if not np.array_equal(result.pixels, self.network_input().reshape(-1)):
            return  # (another drawing's)
        self._taught = result
        self._show_taught()

    def _show_taught(self) -> None:
        res = self._taught
        if res is None or self._teaching is None:
            return
        current = self._order is None or self._order <= res.order  # (its snapshot may still be on its way)
        self.bars.set_teaching(self._teaching, res.before if current else None)
        self.teach_panel.show_result(res, self.bars.labels(), current)

    # ------------------------------------------------------------------ updating
    def _on_pad_changed(self) -> None:
        if self._teaching is not None:
            self.stop_teaching()  # (another drawing: teach it anew)
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

    def _set_caption(self, caption: str) -> None:
        if self.outputs_caption.text() != caption:
            self.outputs_caption.shorter = CAPTION_SHORTER.get(caption, ())
            self.outputs_caption.setText(caption)

    def _show(self, pred: Prediction | None) -> None:
        self._prediction = pred
        if self._teaching is None:
            self._set_caption(CAPTION if pred is None or pred.blank else CAPTION_TEACH)
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
