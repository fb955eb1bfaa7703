"""The training controls: run buttons (with actions and shortcuts), speed, hyper-parameters,
the network's architecture and the dataset selector.

The panel only turns gestures into signals; the main window decides what they do (and may
ask before discarding a trained network).  Every control has a stable ``objectName``.
"""

from __future__ import annotations

import re

from nnstudio.core.activations import ACTIVATIONS
from nnstudio.gui.style import theme
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.session.model import sizes_text
from nnstudio.training.loop import FIXED_SPEEDS, FOLLOW_SPEED, WATCH

DEFAULT_SIZES_TEXT = "784-16-16-10"
COST_NAMES = ("quadratic", "cross-entropy")
INIT_NAMES = ("scaled", "normal")
DATASET_CHOICES = (
    ("mnist-sample", "mnist-sample (embedded, 4k)"),
    ("mnist", "mnist (60k, download)"),
    ("fashion-mnist", "fashion-mnist (download)"),
)
FOLDER_ITEM = "Folder…"
PRIMARY_TEXT = "#1b1600"  # text and glyphs on the accent-coloured play button
DEFAULT_LR = {"quadratic": 1.5, "cross-entropy": 0.5}


def parse_sizes(text: str) -> tuple[int, ...]:
    """"784-16-16-10" (or commas/spaces) -> (784, 16, 16, 10); ValueError with a short reason."""
    parts = [p for p in re.split(r"[\s,\-x×]+", text.strip()) if p]
    if len(parts) < 2:
        raise ValueError("give at least two layer sizes, like 784-16-16-10")
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"layer sizes must be whole numbers, like 784-16-16-10 (not {text.strip()!r})") from None
    if any(s < 1 for s in sizes):
        raise ValueError("every layer needs at least one neuron")
    if any(s > 4096 for s in sizes[1:-1]):
        raise ValueError("hidden layers of more than 4096 neurons are not supported here")
    return sizes


def speed_text(bps: float) -> str:
    if bps < 0:
        return "speeds up as it learns"
    if not bps:
        return "full speed"
    text = f"{bps:g} mini-batch/s" if bps == 1 else f"{bps:g} mini-batches/s"
    return text + ", each shown" if bps <= FOLLOW_SPEED else text


def folder_label(path: str, limit: int = 34) -> str:
    """A folder's path shortened in the middle, its own name always whole:
    "/work/…/datasets/mnist", not "…rk/steering/shared/datasets/mr"."""
    if len(path) <= limit:
        return path
    name = path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
    tail = "/" + name
    if len(tail) + 2 > limit:
        return "…" + tail[-(limit - 1):]
    return path[: limit - len(tail) - 1] + "…" + tail


# ----------------------------------------------------------------------------------- icons
def glyph_icon(kind: str, color: str = theme.TEXT, size: int = 48) -> QtGui.QIcon:
    """Small vector glyphs for the run buttons (play, pause, step, epoch, rewind, reset)."""
    pm = QtGui.QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QtGui.QPainter(pm)
    p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    col = QtGui.QColor(color)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(col)
    s = size / 48.0

    def tri(x0, y0, x1, y1):
        path = QtGui.QPainterPath()
        path.moveTo(x0 * s, y0 * s)
        path.lineTo(x1 * s, (y0 + y1) / 2 * s)
        path.lineTo(x0 * s, y1 * s)
        path.closeSubpath()
        p.drawPath(path)

    def ltri(x0, y0, x1, y1):  # pointing left
        path = QtGui.QPainterPath()
        path.moveTo(x1 * s, y0 * s)
        path.lineTo(x0 * s, (y0 + y1) / 2 * s)
        path.lineTo(x1 * s, y1 * s)
        path.closeSubpath()
        p.drawPath(path)

    def bar(x, y0, w, y1):
        p.drawRoundedRect(QtCore.QRectF(x * s, y0 * s, w * s, (y1 - y0) * s), 1.5 * s, 1.5 * s)

    if kind == "play":
        tri(14, 9, 39, 39)
    elif kind == "pause":
        bar(12, 10, 8, 38)
        bar(28, 10, 8, 38)
    elif kind == "step":
        tri(12, 11, 32, 37)
        bar(33, 11, 5, 37)
    elif kind == "epoch":
        tri(5, 12, 21, 36)
        tri(21, 12, 37, 36)
        bar(38, 12, 5, 36)
    elif kind == "rewind":
        bar(5, 12, 5, 36)
        ltri(11, 12, 27, 36)
        ltri(27, 12, 43, 36)
    elif kind == "reset":
        pen = QtGui.QPen(col, 4.5 * s)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawArc(QtCore.QRectF(10 * s, 10 * s, 28 * s, 28 * s), 60 * 16, 290 * 16)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(col)
        path = QtGui.QPainterPath()
        path.moveTo(25 * s, 3 * s)
        path.lineTo(36 * s, 10 * s)
        path.lineTo(25 * s, 17 * s)
        path.closeSubpath()
        p.drawPath(path)
    p.end()
    return QtGui.QIcon(pm)


# ----------------------------------------------------------------------------------- actions
class TrainingActions(QtCore.QObject):
    """The run commands as QActions (menu entries, buttons and keyboard shortcuts at once)."""

    def __init__(self, parent):
        super().__init__(parent)

        def act(name, text, key, tip, icon=None):
            a = QtGui.QAction(text, parent)
            a.setObjectName(name)
            a.setShortcut(QtGui.QKeySequence(key))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            a.setToolTip(f"{tip} ({QtGui.QKeySequence(key).toString(QtGui.QKeySequence.SequenceFormat.NativeText)})")
            a.setStatusTip(tip)
            if icon:
                a.setIcon(glyph_icon(icon))
            return a

        self.play = act("playPauseAction", "Play", "Space", "Train: play / pause", "play")
        self.step_batch = act("stepBatchAction", "Batch", "N",
                              "Step one mini-batch: one gradient-descent step, then pause", "step")
        self.step_epoch = act("stepEpochAction", "Epoch", "E",
                              "Step one epoch: train until every training example was seen once more", "epoch")
        self.rewind = act("rewindAction", "Rewind", "R",
                          "Rewind: back to the same initial weights and shuffle order (replays bit for bit)", "rewind")
        self.reset = act("resetAction", "Reset", "Ctrl+Shift+R",
                         "Reset: new random weights from a new seed", "reset")
        self.faster = act("fasterAction", "Faster", "]", "Train faster")
        self.slower = act("slowerAction", "Slower", "[", "Train slower (slow motion down to 1 mini-batch/s)")
        self.watch = act("watchAction", "&Watch", "W",
                         "Watch pace: the first mini-batches one by one, then faster as the network learns, "
                         "up to full speed")
        self.watch.setCheckable(True)
        self.full_speed = act("fullSpeedAction", "&Full speed", "F", "Train at full speed")
        # the play button is the accent colour: its glyph is dark in both themes
        self._icons = {k: glyph_icon(k, PRIMARY_TEXT) for k in ("play", "pause")}
        self.play.setIcon(self._icons["play"])
        self._running = False

    def apply_theme(self, dark: bool) -> None:
        """Glyphs in the theme's text colour (white on dark buttons, near-black on light)."""
        color = theme.TEXT if dark else theme.LIGHT["TEXT"]
        for a, kind in ((self.step_batch, "step"), (self.step_epoch, "epoch"), (self.rewind, "rewind"),
                        (self.reset, "reset")):
            a.setIcon(glyph_icon(kind, color))

    def all(self) -> list:
        return [self.play, self.step_batch, self.step_epoch, self.rewind, self.reset, self.faster, self.slower,
                self.watch, self.full_speed]

    def set_running(self, running: bool) -> None:
        self._running = running
        self.play.setText("Pause" if running else "Play")
        self.play.setIcon(self._icons["pause" if running else "play"])
        self.play.setToolTip(("Pause training" if running else "Play: train continuously") + " (Space)")

    def set_enabled(self, enabled: bool) -> None:
        for a in (self.play, self.step_batch, self.step_epoch, self.rewind, self.reset):
            a.setEnabled(enabled)


# ----------------------------------------------------------------------------------- the panel
def _tool_button(action, name, style=Qt.ToolButtonStyle.ToolButtonTextUnderIcon):
    b = QtWidgets.QToolButton()
    b.setDefaultAction(action)
    b.setObjectName(name)
    b.setToolButtonStyle(style)
    b.setAutoRaise(False)
    b.setIconSize(QtCore.QSize(22, 22))
    b.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    b.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)
    return b


def _group(title: str) -> tuple[QtWidgets.QGroupBox, QtWidgets.QFormLayout]:
    g = QtWidgets.QGroupBox(title)
    form = QtWidgets.QFormLayout(g)
    form.setContentsMargins(10, 14, 10, 10)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(7)
    form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return g, form


class TrainingControls(QtWidgets.QWidget):
    """The Training dock's content."""

    learningRateChanged = Signal(float)
    batchSizeChanged = Signal(int)
    epochsChanged = Signal(int)  # 0 = no limit
    speedChanged = Signal(float)  # mini-batches per second, 0 = full speed
    architectureEdited = Signal()  # layer sizes, activation, cost, initialisation or seed
    datasetChosen = Signal(str)  # a dataset name, a folder path, or FOLDER_ITEM
    mixInChanged = Signal(bool)  # train on my digits too (the drawings taught on the pad)

    def __init__(self, actions: TrainingActions, parent=None):
        super().__init__(parent)
        self.setObjectName("trainingControls")
        self.actions = actions
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(10)

        # --- run
        run = QtWidgets.QGroupBox("Run")
        rl = QtWidgets.QVBoxLayout(run)
        rl.setContentsMargins(10, 14, 10, 10)
        rl.setSpacing(8)
        self.play_button = _tool_button(actions.play, "playPauseButton", Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.play_button.setProperty("primary", True)
        self.play_button.setIconSize(QtCore.QSize(20, 20))
        self.play_button.setMinimumHeight(38)
        rl.addWidget(self.play_button)
        row = QtWidgets.QHBoxLayout()
        row.setSpacing(6)
        self.step_batch_button = _tool_button(actions.step_batch, "stepBatchButton")
        self.step_epoch_button = _tool_button(actions.step_epoch, "stepEpochButton")
        self.rewind_button = _tool_button(actions.rewind, "rewindButton")
        self.reset_button = _tool_button(actions.reset, "resetButton")
        for b in (self.step_batch_button, self.step_epoch_button, self.rewind_button, self.reset_button):
            row.addWidget(b)
        rl.addLayout(row)
        sp = QtWidgets.QHBoxLayout()
        sp.setSpacing(8)
        slow = QtWidgets.QLabel("Sp&eed")
        slow.setProperty("muted", True)
        self.watch_button = _tool_button(actions.watch, "watchButton", Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.watch_button.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
        self.speed_slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(0, len(FIXED_SPEEDS) - 1)
        self.speed_slider.setPageStep(1)
        self.speed_slider.setTickPosition(QtWidgets.QSlider.TickPosition.TicksBelow)
        self.speed_slider.setValue(len(FIXED_SPEEDS) - 1)
        self.speed_slider.setToolTip(
            "Training speed: from slow motion (1 mini-batch per second, every step shown) to full speed "
            "([ slower, ] faster, F full speed, W the watch pace; Alt+E)"
        )
        slow.setBuddy(self.speed_slider)
        self.speed_label = QtWidgets.QLabel(speed_text(WATCH))
        self.speed_label.setObjectName("speedLabel")
        self.speed_label.setWordWrap(True)
        self.speed_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        sp.addWidget(slow)
        sp.addWidget(self.watch_button)
        sp.addWidget(self.speed_slider, 1)
        rl.addLayout(sp)
        rl.addWidget(self.speed_label)
        self._watching = True
        actions.watch.setChecked(True)
        self.speed_slider.valueChanged.connect(lambda _i: self._speed_chosen(watch=False))
        actions.watch.triggered.connect(lambda on: self._speed_chosen(watch=on))
        actions.full_speed.triggered.connect(self._full_speed)
        actions.faster.triggered.connect(lambda: self._nudge_speed(+1))
        actions.slower.triggered.connect(lambda: self._nudge_speed(-1))
        lay.addWidget(run)

        # --- hyper-parameters (live)
        hp, form = _group("Gradient descent")
        self.lr_input = QtWidgets.QDoubleSpinBox()
        self.lr_input.setObjectName("learningRateInput")
        self.lr_input.setDecimals(4)
        self.lr_input.setRange(0.0001, 100.0)
        self.lr_input.setStepType(QtWidgets.QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_input.setKeyboardTracking(False)
        self.lr_input.setValue(1.5)
        self.lr_input.setToolTip(
            "Learning rate η: each step moves every weight by −η × the gradient of the mini-batch's average cost. "
            "Changes apply at the next mini-batch (type a value and press Enter)."
        )
        self.lr_input.valueChanged.connect(lambda v: self.learningRateChanged.emit(float(v)))
        form.addRow("&Learning rate η", self.lr_input)
        self.batch_input = QtWidgets.QSpinBox()
        self.batch_input.setObjectName("batchSizeInput")
        self.batch_input.setRange(1, 10000)
        self.batch_input.setValue(10)
        self.batch_input.setKeyboardTracking(False)
        self.batch_input.setToolTip(
            "Mini-batch size: how many training examples are averaged for each gradient step. "
            "Changes apply at the next mini-batch."
        )
        self.batch_input.valueChanged.connect(lambda v: self.batchSizeChanged.emit(int(v)))
        form.addRow("&Mini-batch", self.batch_input)
        self.epochs_input = QtWidgets.QSpinBox()
        self.epochs_input.setObjectName("epochsInput")
        self.epochs_input.setRange(0, 100000)
        self.epochs_input.setSpecialValueText("no limit")
        self.epochs_input.setValue(30)
        self.epochs_input.setKeyboardTracking(False)
        self.epochs_input.setToolTip("Stop after this many epochs (passes over the training set); 0 = no limit")
        self.epochs_input.valueChanged.connect(lambda v: self.epochsChanged.emit(int(v)))
        form.addRow("E&pochs", self.epochs_input)
        lay.addWidget(hp)

        # --- network (changing it starts a new network)
        net, form = _group("Network")
        self.sizes_input = QtWidgets.QLineEdit(DEFAULT_SIZES_TEXT)
        self.sizes_input.setObjectName("layerSizesInput")
        self.sizes_input.setValidator(QtGui.QRegularExpressionValidator(
            QtCore.QRegularExpression(r"^[\d\s,\-x×]{0,64}$"), self.sizes_input))
        self.sizes_input.setToolTip(
            "Layer sizes from input to output, e.g. 784-16-16-10 (the videos' network) or 784-30-10. "
            "The first must be 784 (28×28 pixels) and the last the number of classes. Press Enter to apply."
        )
        self.sizes_input.editingFinished.connect(self._sizes_edited)
        form.addRow("La&yers", self.sizes_input)
        self.activation_input = QtWidgets.QComboBox()
        self.activation_input.setObjectName("activationSelector")
        self.activation_input.addItems(list(ACTIVATIONS))
        self.activation_input.setToolTip("Hidden-layer activation function (the output layer is always a sigmoid)")
        form.addRow("&Activation", self.activation_input)
        self.cost_input = QtWidgets.QComboBox()
        self.cost_input.setObjectName("costSelector")
        self.cost_input.addItems(list(COST_NAMES))
        self.cost_input.setToolTip(
            "Cost of one example: quadratic C = Σ(a − y)² as in the videos (no ½), or cross-entropy; "
            "averaged over the mini-batch"
        )
        form.addRow("&Cost", self.cost_input)
        self.init_input = QtWidgets.QComboBox()
        self.init_input.setObjectName("initSelector")
        self.init_input.addItems(list(INIT_NAMES))
        self.init_input.setToolTip("Initial weights: scaled N(0, 1/n_in) or the book's N(0, 1); biases N(0, 1)")
        form.addRow("&Initialisation", self.init_input)
        self.seed_input = QtWidgets.QSpinBox()
        self.seed_input.setObjectName("seedInput")
        self.seed_input.setRange(0, 2**31 - 1)
        self.seed_input.setKeyboardTracking(False)
        self.seed_input.setToolTip("Random seed: fixes the initial weights and the shuffle order")
        form.addRow("&Seed", self.seed_input)
        self.network_note = QtWidgets.QLabel()
        self.network_note.setObjectName("networkNote")
        self.network_note.setProperty("muted", True)
        self.network_note.setWordWrap(True)
        self.network_note.hide()
        form.addRow(self.network_note)
        for w in (self.activation_input, self.cost_input, self.init_input):
            w.activated.connect(lambda _i: self.architectureEdited.emit())
        self.cost_input.activated.connect(self._cost_changed)
        self.seed_input.valueChanged.connect(lambda _v: self.architectureEdited.emit())
        lay.addWidget(net)

        # --- data
        data, form = _group("Data")
        self.dataset_input = QtWidgets.QComboBox()
        self.dataset_input.setObjectName("datasetSelector")
        for name, text in DATASET_CHOICES:
            self.dataset_input.addItem(text, name)
        self.dataset_input.addItem(FOLDER_ITEM, FOLDER_ITEM)
        self.dataset_input.setToolTip(
            "Training data: the embedded MNIST sample (works offline), full MNIST or Fashion-MNIST "
            "(downloaded once), or a folder holding the four IDX files"
        )
        self.dataset_input.activated.connect(self._dataset_activated)
        form.addRow("&Dataset", self.dataset_input)
        self.dataset_info = QtWidgets.QLabel("loading…")
        self.dataset_info.setObjectName("datasetInfo")
        self.dataset_info.setProperty("muted", True)
        self.dataset_info.setWordWrap(True)
        form.addRow("", self.dataset_info)
        self.mix_in_check = QtWidgets.QCheckBox("Mix in my digits (0)")
        self.mix_in_check.setObjectName("mixInMyDigitsCheck")
        self.mix_in_check.setToolTip("Train on the digits you taught on the pad too (\"my digits\"), each repeated "
                                     "so that they make up about 1 % of the training set")
        self.mix_in_check.toggled.connect(self.mixInChanged)
        form.addRow("", self.mix_in_check)
        self.my_digits_info = QtWidgets.QLabel()
        self.my_digits_info.setObjectName("myDigitsInfo")
        self.my_digits_info.setProperty("muted", True)
        self.my_digits_info.setWordWrap(True)
        form.addRow("", self.my_digits_info)
        lay.addWidget(data)
        lay.addStretch(1)
        keys = QtWidgets.QLabel(
            "<table cellspacing='3'>"
            "<tr><td><b>Space</b></td><td>play / pause</td><td>&nbsp;&nbsp;<b>N</b></td><td>one mini-batch</td></tr>"
            "<tr><td><b>E</b></td><td>one epoch</td><td>&nbsp;&nbsp;<b>R</b></td><td>rewind</td></tr>"
            "<tr><td><b>[&nbsp;]</b></td><td>slower / faster</td><td>&nbsp;&nbsp;<b>F</b></td><td>full speed</td></tr>"
            "<tr><td><b>W</b></td><td>watch pace</td><td></td><td></td></tr></table>"
        )
        keys.setObjectName("keysHint")
        keys.setProperty("muted", True)
        keys.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(keys)
        self._applied_sizes = DEFAULT_SIZES_TEXT
        self._cost = "quadratic"
        self._add_key_hints()

    def _add_key_hints(self) -> None:
        """Every field's tooltip names its keyboard shortcut (Alt + the underlined letter)."""
        for w, key in ((self.lr_input, "L"), (self.batch_input, "M"), (self.epochs_input, "P"),
                       (self.sizes_input, "Y"), (self.activation_input, "A"), (self.cost_input, "C"),
                       (self.init_input, "I"), (self.seed_input, "S"), (self.dataset_input, "D")):
            tip = w.toolTip()
            if "(Alt+" not in tip:
                w.setToolTip(f"{tip} (Alt+{key})")

    # ------------------------------------------------------------------ reading / writing values
    def speed(self) -> float:
        """The speed setting: WATCH (the watch pace), or mini-batches per second (0: full speed)."""
        return WATCH if self._watching else float(FIXED_SPEEDS[self.speed_slider.value()])

    def set_speed(self, bps: float) -> None:
        """Show this speed setting without emitting anything."""
        self._watching = bps < 0
        self.actions.watch.setChecked(self._watching)
        if not self._watching:
            i = FIXED_SPEEDS.index(bps) if bps in FIXED_SPEEDS else len(FIXED_SPEEDS) - 1
            self.speed_slider.blockSignals(True)
            self.speed_slider.setValue(i)
            self.speed_slider.blockSignals(False)
        self._show_speed()

    def _show_speed(self) -> None:
        bps = self.speed()
        self.speed_label.setText(speed_text(bps))
        self.speed_label.setToolTip(
            "the watch pace: the first mini-batches one by one, then faster as the network learns, up to full "
            "speed" if bps < 0 else "every mini-batch is drawn and shown as the current input"
            if 0 < bps <= FOLLOW_SPEED else "")

    def _speed_chosen(self, watch: bool) -> None:
        self._watching = watch
        self.actions.watch.setChecked(watch)
        self._show_speed()
        self.speedChanged.emit(self.speed())

    def _nudge_speed(self, step: int) -> None:
        if self._watching:  # from the watch pace, ] starts at full speed's neighbour and [ at slow motion
            self._watching = False
            i = len(FIXED_SPEEDS) - 1 if step > 0 else 0
        else:
            i = max(0, min(len(FIXED_SPEEDS) - 1, self.speed_slider.value() + step))
        self.speed_slider.blockSignals(True)
        self.speed_slider.setValue(i)
        self.speed_slider.blockSignals(False)
        self._speed_chosen(watch=False)

    def _full_speed(self) -> None:
        self.speed_slider.blockSignals(True)
        self.speed_slider.setValue(len(FIXED_SPEEDS) - 1)
        self.speed_slider.blockSignals(False)
        self._speed_chosen(watch=False)

    def architecture(self) -> dict:
        """The network settings as typed (sizes may raise ValueError)."""
        return {
            "sizes": parse_sizes(self.sizes_input.text()),
            "activation": self.activation_input.currentText(),
            "cost": self.cost_input.currentText(),
            "init": self.init_input.currentText(),
            "seed": int(self.seed_input.value()),
        }

    def set_architecture(self, sizes, activation, cost, init, seed=None) -> None:
        """Show these settings without emitting anything (e.g. after opening a model)."""
        widgets = (self.sizes_input, self.activation_input, self.cost_input, self.init_input, self.seed_input)
        for w in widgets:
            w.blockSignals(True)
        try:
            self._applied_sizes = sizes_text(sizes)
            self.sizes_input.setText(self._applied_sizes)
            self._set_sizes_error(None)
            for combo, value in ((self.activation_input, activation), (self.cost_input, cost), (self.init_input, init)):
                i = combo.findText(str(value))
                if i >= 0:
                    combo.setCurrentIndex(i)
            self._cost = self.cost_input.currentText()
            if seed is not None:
                self.seed_input.setValue(int(seed))
        finally:
            for w in widgets:
                w.blockSignals(False)

    def set_seed(self, seed: int) -> None:
        self.seed_input.blockSignals(True)
        self.seed_input.setValue(int(seed))
        self.seed_input.blockSignals(False)

    def set_hyper(self, learning_rate=None, batch_size=None, epochs=None) -> None:
        """Show these values without emitting anything."""
        for w, v in ((self.lr_input, learning_rate), (self.batch_input, batch_size), (self.epochs_input, epochs)):
            if v is None:
                continue
            w.blockSignals(True)
            w.setValue(v)
            w.blockSignals(False)

    def _cost_changed(self, _i: int) -> None:
        # keep the learning rate sensible when switching cost (if it was the other's default)
        new = self.cost_input.currentText()
        old, self._cost = self._cost, new
        if old != new and abs(self.lr_input.value() - DEFAULT_LR.get(old, -1)) < 1e-12:
            self.lr_input.setValue(DEFAULT_LR[new])

    def _sizes_edited(self) -> None:
        text = self.sizes_input.text()
        try:
            sizes = parse_sizes(text)
        except ValueError as e:
            self._set_sizes_error(str(e))
            return
        self._set_sizes_error(None)
        if sizes_text(sizes) == self._applied_sizes:
            return
        self.architectureEdited.emit()

    def accept_sizes(self) -> None:
        """The window applied the typed sizes."""
        self._applied_sizes = sizes_text(parse_sizes(self.sizes_input.text()))
        self.sizes_input.setText(self._applied_sizes)
        self._set_sizes_error(None)

    def revert_sizes(self) -> None:
        self.sizes_input.setText(self._applied_sizes)

    def _set_sizes_error(self, message: str | None) -> None:
        self.sizes_input.setProperty("invalid", bool(message))
        self.sizes_input.setToolTip(
            (message + "\n\n" if message else "")
            + "Layer sizes from input to output, e.g. 784-16-16-10 (the videos' network) or 784-30-10. "
            "The first must be 784 (28×28 pixels) and the last the number of classes. Press Enter to apply. (Alt+Y)"
        )
        self.sizes_input.style().unpolish(self.sizes_input)
        self.sizes_input.style().polish(self.sizes_input)

    def show_network_note(self, text: str) -> None:
        """A line under the network settings (e.g. that they are for the next new network)."""
        self.network_note.setText(text)
        self.network_note.setVisible(bool(text))

    # ------------------------------------------------------------------ datasets
    def show_my_digits(self, count: int, mix_in: bool, note: str) -> None:
        """How many digits of their own the user kept, whether training mixes them in, and a line about it."""
        box = self.mix_in_check
        box.blockSignals(True)
        box.setText(f"Mix in my digits ({count:,})")
        box.setChecked(mix_in)
        box.blockSignals(False)
        self.my_digits_info.setText(note)

    def _dataset_activated(self, i: int) -> None:
        self.datasetChosen.emit(str(self.dataset_input.itemData(i)))

    def show_dataset(self, name: str, info: str = "") -> None:
        """Select ``name`` (a known name or a folder path) without emitting anything."""
        combo = self.dataset_input
        combo.blockSignals(True)
        i = combo.findData(name)
        if i < 0:
            i = combo.count() - 1  # before "Folder…"
            combo.insertItem(i, folder_label(name), name)
            combo.setItemData(i, name, Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(i)
        combo.blockSignals(False)
        if info:
            self.dataset_info.setText(info)
