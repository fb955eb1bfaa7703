"""The network diagram view: the painted diagram (:mod:`.canvas`) under a toolbar to flip
through the mini-batch, follow training, pick what the edges show (the weights, the last
mini-batch's −∂C/∂w, the last step's Δw), what the neurons show (their activation, or their
desired nudge −∂C/∂a), the input column's pixels, and zoom to fit; a click on a neuron opens the
neuron inspector (:mod:`.inspector`)."""

from __future__ import annotations

import numpy as np

from nnstudio.components.diagram import (
    EDGE_MODE_NAMES, EDGE_MODE_SHORT, EDGE_MODES, INPUT_MODE_NAMES, INPUT_MODES, NEURON_MODE_NAMES, NEURON_MODE_SHORT,
    NEURON_MODES,
)
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import qcolor
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.views.diagram.canvas import DiagramCanvas
from nnstudio.gui.views.diagram.inspector import InspectorDialog
from nnstudio.gui.views.diagram.style import TOOLBAR_STYLE
from nnstudio.session.model import InputExample, Snapshot

#: the input column's choices as a narrow toolbar names them
SHORT_MODE_NAMES = {"spread": "spread out", "brightest": "brightest", "strongest": "strongest"}
#: the toolbar's three choices: (attribute, label, modes, long names, short names, tooltip)
CHOICES = (
    ("edges", "edges:", EDGE_MODES, EDGE_MODE_NAMES, EDGE_MODE_SHORT,
     "What the edges show: the weights, the last mini-batch's gradient −∂C/∂w (which way each weight "
     "should move), or the last step's change Δw = −η ∂C/∂w"),
    ("neurons", "neurons:", NEURON_MODES, NEURON_MODE_NAMES, NEURON_MODE_SHORT,
     "What the neurons show: their activation, or (arrows) how the input shown wants each to move: "
     "its desired nudge −∂C/∂a, for the input's label"),
    ("input", "input column:", INPUT_MODES, INPUT_MODE_NAMES, SHORT_MODE_NAMES,
     "Which of the input layer's pixels the column shows (the rest are behind the ellipsis)"),
)


def _combo_width(combo, texts) -> int:
    """The width of a combo that shows the widest of ``texts`` whole (the style's frame and arrow
    included): a combo measures its items once, not again after setItemText."""
    fm = combo.fontMetrics()
    opt = QtWidgets.QStyleOptionComboBox()
    combo.initStyleOption(opt)
    inner = QtCore.QSize(max(fm.horizontalAdvance(t) for t in texts) + 4, fm.height())
    return combo.style().sizeFromContents(QtWidgets.QStyle.ContentsType.CT_ComboBox, opt, inner, combo).width()


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
    #: the inspector's hand edits: (layer, index, changes) for Session.edit_neuron, and Reset
    neuronEditRequested = Signal(int, int, object)
    neuronEditReset = Signal()
    #: the edges show −∂C/∂w or Δw (True) or the weights (False): snapshots must carry the last
    #: step's change while True (Session.show_step_changes)
    stepChangesWanted = Signal(bool)

    def __init__(self, parent=None, *, open_inspector: bool = True):
        super().__init__(parent)
        self.open_inspector_on_click = open_inspector
        self.snapshot = None
        self.example: InputExample | None = None
        self.dataset = None
        self._batch_pos = 0
        self._inspector_dialog = None
        self._edit_state = None  # the session's hand edit in progress, for the inspector

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
        # the three choices: a labelled combo each where there is room, one "Show" menu where not
        self.show_button = QtWidgets.QToolButton(text="Show")
        self.show_button.setObjectName("diagramShowButton")
        self.show_button.setToolTip("What the edges and the neurons show, and which input pixels")
        self.show_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(self.show_button)
        self.show_button.setMenu(menu)
        self.choice_combos, self.choice_labels, self.choice_actions = {}, {}, {}
        for key, label, modes, names, _short, tip in CHOICES:
            combo = QtWidgets.QComboBox()
            combo.setObjectName(f"diagram{key.title()}Choice")
            for i, mode in enumerate(modes):
                combo.addItem(names[mode], mode)
                combo.setItemData(i, f"{label[:-1].capitalize()}: {names[mode]}", Qt.ItemDataRole.ToolTipRole)
            combo.setToolTip(tip)
            # (the choice shows its whole name where there is room, and short names with a narrower
            # window, its width set to them by _fit_toolbar: its menu keeps the full names; its own
            # size hints measure no item, as they would measure the first ones only)
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(1)
            combo.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
            combo.currentIndexChanged.connect(lambda _i, k=key, c=combo: self._choose(k, c.currentData()))
            self.choice_combos[key] = combo
            self.choice_labels[key] = QtWidgets.QLabel(label)
            menu.addSection(label[:-1].capitalize())
            group = QtGui.QActionGroup(menu)
            self.choice_actions[key] = {}
            for mode in modes:
                act = menu.addAction(names[mode])
                act.setCheckable(True)
                act.setChecked(mode == modes[0])
                group.addAction(act)
                act.triggered.connect(lambda _on, k=key, m=mode: self._choose(k, m))
                self.choice_actions[key][mode] = act
        self.mode_combo, self.mode_label = self.choice_combos["input"], self.choice_labels["input"]
        self.fit_button = QtWidgets.QToolButton(text="Fit")
        self.fit_button.setToolTip("Zoom to fit (F, or double-click the background); wheel zooms, drag pans")
        bar.addWidget(self.prev_button)
        bar.addWidget(self.batch_label)
        bar.addWidget(self.next_button)
        bar.addWidget(self.follow_check)
        bar.addStretch(1)
        for key, *_rest in CHOICES:
            bar.addWidget(self.choice_labels[key])
            bar.addWidget(self.choice_combos[key])
        bar.addWidget(self.show_button)
        bar.addWidget(self.fit_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.canvas, 1)
        self.setStyleSheet(TOOLBAR_STYLE)
        self.setAutoFillBackground(True)
        pal = self.palette()
        pal.setColor(QtGui.QPalette.ColorRole.Window, qcolor(theme.BACKGROUND))
        self.setPalette(pal)

        self.prev_button.clicked.connect(self.previous_batch_example)
        self.next_button.clicked.connect(self.next_batch_example)
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

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._fit_toolbar()

    def _fit_toolbar(self) -> None:
        """The toolbar in the widest of its forms that fits: the three choices labelled with whole
        names, then labelled with short names ("edges: Δw"), then all three in one "Show" menu
        (and "follow" for "follow training").  The view may be as narrow as the last form (not the
        first).  (A choice never goes without its label: "w" alone says nothing.)"""
        bar = self.layout().itemAt(0).layout()

        def form(level: int) -> int:
            for key, label, modes, names, short, _tip in CHOICES:
                combo = self.choice_combos[key]
                use = names if level == 0 else short
                for i, mode in enumerate(modes):
                    if combo.itemText(i) != use[mode]:
                        combo.setItemText(i, use[mode])
                combo.setFixedWidth(_combo_width(combo, [use[m] for m in modes]))
                combo.setVisible(level < 2)
                self.choice_labels[key].setVisible(level < 2)
                self.choice_labels[key].setText(label if level == 0 else label.split()[0].rstrip(":") + ":")
            self.show_button.setVisible(level == 2)
            self.follow_check.setText("follow training" if level < 2 else "follow")
            bar.invalidate()
            return bar.sizeHint().width()

        self.setMinimumWidth(max(form(2), self.canvas.minimumWidth()))
        for level in (0, 1):
            if form(level) <= self.width():
                return
        form(2)

    # ------------------------------------------------------------------ what the diagram shows
    def _choose(self, key: str, mode: str) -> None:
        """A choice was made (a combo or the Show menu): the canvas shows it, every control says it."""
        c = self.canvas
        was = c.edge_mode != "weights"
        if key == "input":
            c.set_input_mode(mode)
        else:
            c.set_modes(**{key: mode})
        for k, combo in self.choice_combos.items():
            current = {"edges": c.edge_mode, "neurons": c.neuron_mode, "input": c.input_mode}[k]
            i = combo.findData(current)
            if combo.currentIndex() != i:
                combo.blockSignals(True)
                combo.setCurrentIndex(i)
                combo.blockSignals(False)
            self.choice_actions[k][current].setChecked(True)
        if (c.edge_mode != "weights") != was:
            self.stepChangesWanted.emit(c.edge_mode != "weights")

    def set_edge_mode(self, mode: str) -> None:
        """What the edges show: "weights", "gradient" (−∂C/∂w of the last mini-batch) or "change"
        (Δw of the last step)."""
        if mode not in EDGE_MODES:
            raise ValueError(f"unknown edge mode {mode!r}; choose one of {', '.join(EDGE_MODES)}")
        self._choose("edges", mode)

    def set_neuron_mode(self, mode: str) -> None:
        """What the neurons show: "activation" or "nudge" (−∂C/∂a for the input shown)."""
        if mode not in NEURON_MODES:
            raise ValueError(f"unknown neuron mode {mode!r}; choose one of {', '.join(NEURON_MODES)}")
        self._choose("neurons", mode)

    # ------------------------------------------------------------------ StudioView protocol
    def set_snapshot(self, snapshot) -> None:
        self.snapshot = snapshot
        self.canvas.set_network(None if snapshot is None else snapshot.network, snapshot)
        if self.follow_check.isChecked() and self.batch_size_available():
            self.show_batch_example(self._batch_pos)
        self._update_batch_bar()
        if self._inspector_dialog is not None and self._inspector_dialog.isVisible():
            self._inspector_dialog.inspector.set_snapshot(snapshot)

    def set_network_label(self, label: str) -> None:
        """The studio's name for its network (the footer says it, as the title does)."""
        self.canvas.network_label = label
        self.canvas.update()

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
        self.set_snapshot(Snapshot.of(network))

    def set_input_mode(self, mode: str) -> None:
        """Which pixels the input column shows: "spread", "brightest" or "strongest"."""
        self.mode_combo.setCurrentIndex(INPUT_MODES.index(mode))
        self._choose("input", mode)

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

    @property
    def selected(self):
        """The selected neuron (layer, index), or None."""
        return self.canvas.selected

    def clear_selection(self) -> None:
        self.canvas.clear_selection()

    def _on_selected(self, layer: int, index: int) -> None:
        inspect = getattr(self, "_inspect_next", self.open_inspector_on_click)
        self._inspect_next = self.open_inspector_on_click
        if inspect:
            self.show_inspector(layer, index)
        self.neuronSelected.emit(layer, index)

    def show_inspector(self, layer: int, index: int):
        if self._inspector_dialog is None:
            self._inspector_dialog = InspectorDialog(self.window())
            self._inspector_dialog.inspector.inputRequested.connect(self.inputRequested)
            self._inspector_dialog.inspector.inputRequested.connect(self.set_input)
            ins = self._inspector_dialog.inspector
            ins.neuronEditRequested.connect(self.neuronEditRequested)
            ins.neuronEditReset.connect(self.neuronEditReset)
            ins.neuronRequested.connect(lambda l, i: self.select_neuron(l, i, inspect=True))
        ins = self._inspector_dialog.inspector
        ins.set_dataset(self.dataset)
        ins.set_snapshot(self.snapshot)
        ins.set_input(self.example)
        ins.set_neuron_edit(self._edit_state)
        ins.set_neuron(layer, index)
        self._inspector_dialog.show()
        self._inspector_dialog.raise_()
        return self._inspector_dialog

    def set_neuron_edit(self, state) -> None:
        """The session's hand edit of a neuron in progress (EditState or None), for the inspector."""
        self._edit_state = state
        if self._inspector_dialog is not None:
            self._inspector_dialog.inspector.set_neuron_edit(state)

    def shutdown(self) -> None:
        if self._inspector_dialog is not None:
            self._inspector_dialog.inspector.shutdown()

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
            text = "mini-batch: —"
            self.batch_label.setToolTip("Flip through the mini-batch just stepped (once training has started)")
        elif self._showing_batch():
            text = f"mini-batch example {self._batch_pos % n + 1}/{n}"
        else:
            text = f"mini-batch of {n}"
        if text != self.batch_label.text():
            self.batch_label.setText(text)
            self._fit_toolbar()
