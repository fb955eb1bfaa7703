"""The Backprop explorer: backpropagation made visible with real numbers from the real network.

Five tabs follow the videos' two chapters on backpropagation:

- **One example · one neuron**: the output against the desired output, the cost term by
  term, and the three ways to raise the desired digit's output neuron;
- **One example · all neurons**: every neuron's desired nudge (−∂C/∂a), propagated
  backwards layer by layer on a compact diagram (hover for numbers);
- **All examples**: the mini-batch's images with their costs, and each example's desired
  change to the selected weight or bias beside their average (the actual gradient step);
- **Parameters vs −gradient**: all weights and biases beside the negative gradient, per
  layer, with the largest nudges ("most bang for the buck") marked;
- **Chain rule**: ∂C/∂w = a_prev · σ′(z) · ∂C/∂a with live values, the sum over paths for
  earlier layers, and the numerical derivative beside it.

A **Step** button applies one SGD step on the mini-batch, with the studio's learning rate η,
and shows the costs before and after: it emits :attr:`BackpropView.stepApplied` with the
stepped network, which the studio makes its network (every view then shows it; **Undo** emits
:attr:`BackpropView.undoRequested` to put the weights back).  The η box is the studio's η: the
studio sets it (:meth:`BackpropView.set_studio_learning_rate`) and an edit asks the studio to change it
(:attr:`BackpropView.learningRateEdited`).

Each tab is a module of this package; all maths lives in :mod:`nnstudio.components.explain`, and
the package only draws.
"""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.explain import (
    ParamRef, cost_formulas, default_batch_indices, example_cost, explained, fmt, sgd_step,
)
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import to_qimage
from nnstudio.gui.style.palette import apply_dark_palette
from nnstudio.gui.views.backprop._common import (
    COST_CHOICES, CONVENTION, DEFAULT_ETA, MIN_REFRESH_MS, TAB_NAMES, TABS, _num, as_pixels,
)
from nnstudio.gui.views.backprop.all_examples import AllExamplesPanel
from nnstudio.gui.views.backprop.all_neurons import AllNeuronsPanel
from nnstudio.gui.views.backprop.chain_rule import ChainRulePanel
from nnstudio.gui.views.backprop.one_neuron import OneNeuronPanel
from nnstudio.gui.views.backprop.parameters import ParametersPanel
from nnstudio.gui.views.base import StudioView
from nnstudio.session.model import InputExample


class BackpropView(StudioView):
    """Backpropagation made visible with real numbers from the real network.

    Window API (see :class:`StudioView`): :meth:`set_snapshot`, :meth:`set_dataset`,
    :meth:`set_input`.  The mini-batch is ``snapshot.batch_indices`` into
    ``dataset.train_x``, or 10 fixed-seed training examples when there is none.

    Signals:

    - ``stepApplied(object)``: the Step button applied one SGD step (exactly −η × the
      mini-batch's average gradient) to the explorer's own copy of the network; the
      argument is a copy of the stepped :class:`~nnstudio.core.Network`, which the window
      may adopt (e.g. set it into the trainer) or ignore;
    - ``parameterSelected(object)``: the selected weight or bias (:class:`ParamRef`) changed;
    - ``inputRequested(InputExample)``: a mini-batch image was clicked (make it current);
    - ``statusMessage(str)``.
    """

    title = "Backprop"
    stepApplied = Signal(object)  # Network: the stepped copy (the studio adopts it)
    undoRequested = Signal()  # put back the weights from before the last Step
    learningRateEdited = Signal(float)  # the learner typed another η (the studio's η)
    parameterSelected = Signal(object)  # ParamRef

    def __init__(self, parent=None):
        super().__init__(parent)
        self._snapshot = None
        self._net = None
        self._dataset = None
        self._input = None
        self._desired = None
        self._ref = None
        self._focus = None
        self._batch = None
        self._batch_idx = None
        self._costs_before = None
        self._steps_here = 0
        self._run_at = None  # (generation, step) of the snapshot shown
        self._cost_choice = "quadratic"  # explain with the videos' cost by default
        self._dirty = set(TABS)
        self._clock = QtCore.QElapsedTimer()
        self._pending = QtCore.QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.timeout.connect(self._refresh)
        self._apply_palette()
        self._build()
        self._refresh()

    # ------------------------------------------------------------------ building
    def _apply_palette(self):
        apply_dark_palette(self)
        # the tabs keep the videos' dark look, and the labels their light text, in the app's light theme
        # too (an application style sheet stops a palette from reaching the children)
        self.setObjectName("backpropView")
        self.setStyleSheet(
            f"#backpropView QLabel {{ color: {theme.TEXT}; }}"
            f"#backpropView QTabWidget::pane {{ background: {theme.PANEL}; border: 1px solid #30363d; }}"
            "#backpropView QScrollArea, #backpropView QScrollArea > QWidget > QWidget { background: transparent; }")

    def _build(self):
        self.thumb = QtWidgets.QLabel()
        self.thumb.setFixedSize(56, 56)
        self.thumb.setStyleSheet(f"background: {theme.BACKGROUND}; border: 1px solid {theme.MUTED};")
        self.example_label = QtWidgets.QLabel("no example yet")
        self.example_label.setTextFormat(Qt.TextFormat.RichText)
        self.example_label.setWordWrap(True)
        self.example_label.setMinimumWidth(160)
        self.desired_box = QtWidgets.QComboBox()
        self.desired_box.setToolTip("The desired digit y for this example (1 for it, 0 for the others). "
                                    "For a drawing, pick what you meant.")
        self.desired_box.activated.connect(self._desired_picked)
        self.eta_box = QtWidgets.QDoubleSpinBox()
        self.eta_box.setRange(0.001, 100.0)
        self.eta_box.setDecimals(3)
        self.eta_box.setSingleStep(0.1)
        self.eta_box.setValue(DEFAULT_ETA)
        self.eta_box.setToolTip("Learning rate η: the studio's (the Training panel shows the same), used by "
                                "the Step button and by training")
        self.eta_box.valueChanged.connect(self._eta_changed)
        self.step_button = QtWidgets.QPushButton("Step ▶")
        self.step_button.setToolTip("Apply one SGD step on this mini-batch to the studio's network (every view shows the result): "
                                    "θ ← θ − η × (average of the examples' gradients)")
        self.step_button.clicked.connect(self.step)
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.undo_button.setObjectName("backpropUndoButton")
        self.undo_button.setToolTip("Put back the weights from before the last Step (Training ▸ Undo)")
        self.undo_button.clicked.connect(self.undo)
        self.step_label = QtWidgets.QLabel()
        self.step_label.setTextFormat(Qt.TextFormat.RichText)
        self.step_label.setWordWrap(True)
        self.step_label.hide()  # (until a Step: an empty line would only push the tabs down)
        self.convention = conv = QtWidgets.QLabel(CONVENTION.format(sum="Σ (a − y)²"))
        conv.setStyleSheet(f"color: {theme.MUTED};")
        conv.setWordWrap(True)
        conv.setMinimumWidth(160)
        self.cost_box = QtWidgets.QComboBox()
        for name, text in COST_CHOICES:
            self.cost_box.addItem(text, name)
        self.cost_box.setToolTip("The cost the explorer explains (and steps with). The videos use Σ(a − y)²; "
                                 "the network may have been trained with another.")
        self.cost_box.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.cost_box.activated.connect(lambda i: self.set_cost(self.cost_box.itemData(i)))
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.thumb, 0, Qt.AlignmentFlag.AlignTop)
        info = QtWidgets.QVBoxLayout()
        info.addWidget(self.example_label)
        info.addWidget(conv)
        head.addLayout(info, 1)
        controls = QtWidgets.QGridLayout()
        controls.setHorizontalSpacing(6)
        controls.setVerticalSpacing(4)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        controls.addWidget(QtWidgets.QLabel("cost:"), 0, 0, right)
        controls.addWidget(self.cost_box, 0, 1, 1, 2)
        controls.addWidget(QtWidgets.QLabel("desired:"), 0, 3, right)
        controls.addWidget(self.desired_box, 0, 4)
        controls.addWidget(QtWidgets.QLabel("η"), 1, 0, right)
        controls.addWidget(self.eta_box, 1, 1)
        controls.addWidget(self.step_button, 1, 2)
        controls.addWidget(self.undo_button, 1, 3, 1, 2)
        # the controls stand right of the example when there is room, under it when not
        self.header = top = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
        top.addLayout(head, 1)
        top.addLayout(controls)
        top.setAlignment(controls, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        self.tabs = QtWidgets.QTabWidget()
        self.one_neuron = OneNeuronPanel(self)
        self.all_neurons = AllNeuronsPanel(self)
        self.all_examples = AllExamplesPanel(self)
        self.parameters = ParametersPanel(self)
        self.chain = ChainRulePanel(self)
        for panel, (full, short) in zip((self.one_neuron, self.all_neurons, self.all_examples, self.parameters,
                                         self.chain), TAB_NAMES):
            i = self.tabs.addTab(panel, full)
            self.tabs.setTabToolTip(i, full)
        self.tabs.currentChanged.connect(self._tab_changed)
        self.placeholder = QtWidgets.QLabel("Load or train a network to explore backpropagation.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet(f"color: {theme.MUTED}; font-size: 12pt;")

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.step_label)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.placeholder, 1)

    def sizeHint(self):
        return QtCore.QSize(1100, 720)

    # ------------------------------------------------------------------ arrangement
    def _header_width(self) -> int:
        """The width the header needs with the controls beside the example."""
        return 56 + 6 + 320 + 12 + self.header.itemAt(1).layout().sizeHint().width()

    def _arrange(self) -> None:
        D = QtWidgets.QBoxLayout.Direction
        d = D.LeftToRight if self.width() >= self._header_width() else D.TopToBottom
        if self.header.direction() != d:
            self.header.setDirection(d)
        # the tabs' full names when they fit, their short names (full name in the tooltip) when not
        bar = self.tabs.tabBar()
        fm = bar.fontMetrics()
        pad = bar.tabSizeHint(0).width() - fm.horizontalAdvance(bar.tabText(0))
        fits = sum(fm.horizontalAdvance(full) + pad for full, _ in TAB_NAMES) <= self.tabs.width() - 4
        for i, (full, short) in enumerate(TAB_NAMES):
            text = full if fits else short
            if bar.tabText(i) != text:
                bar.setTabText(i, text)

    def resizeEvent(self, ev):
        super().resizeEvent(ev)
        self._arrange()

    def _say_step(self, text: str) -> None:
        self.step_label.setText(text)
        self.step_label.setVisible(bool(text))

    def _tab_changed(self, _index: int) -> None:
        self.tabs.updateGeometry()  # (the explorer is as tall as the tab on screen needs)
        self._refresh_visible()

    # ------------------------------------------------------------------ window API
    def set_snapshot(self, snapshot) -> None:
        self._snapshot = snapshot
        self._net = None if snapshot is None else explained(snapshot.network, self._cost_choice)
        if snapshot is not None:
            own = snapshot.network.cost.name
            for i, (name, text) in enumerate(COST_CHOICES):
                self.cost_box.setItemText(i, text + ("  (trained with)" if name == own else ""))
        if snapshot is not None:
            if snapshot.batch_indices is not None and len(snapshot.batch_indices):
                new = np.asarray(snapshot.batch_indices)
                if self._batch_idx is None or not np.array_equal(new, self._batch_idx):
                    self._costs_before = None
        run_at = None if snapshot is None else (getattr(snapshot, "generation", 0), snapshot.step)
        if run_at != self._run_at:  # trained on, or another run: the explorer's steps are history
            self._run_at = run_at
            self._steps_here = 0
            self._say_step("")
        self._invalidate_batch()
        # coalesce a stream of snapshots (training): at most one refresh per MIN_REFRESH_MS
        if self._clock.isValid() and self._clock.elapsed() < MIN_REFRESH_MS:
            if not self._pending.isActive():
                self._pending.start(max(1, MIN_REFRESH_MS - int(self._clock.elapsed())))
            return
        self._clock.start()
        self._refresh()

    @property
    def refresh_pending(self) -> bool:
        """A snapshot arrived and will be shown within MIN_REFRESH_MS."""
        return self._pending.isActive()

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        self._costs_before = None
        self._invalidate_batch()
        self._refresh()

    def set_input(self, example) -> None:
        self._input = example
        self._desired = None
        if example is not None and example.label is not None:
            self._desired = int(example.label)
        self._refresh()

    # ------------------------------------------------------------------ state the panels read
    @property
    def network(self):
        return self._net

    @property
    def formulas(self) -> dict:
        """How the explained cost is written (term, sum, ∂C/∂a, desired nudge)."""
        return cost_formulas(self._net.cost if self._net is not None else self._cost_choice)

    @property
    def learning_rate(self) -> float:
        return float(self.eta_box.value())

    @property
    def selected_parameter(self) -> ParamRef | None:
        return self._ref

    @property
    def focus_neuron(self) -> int:
        return self._focus if self._focus is not None else self.current_example[1]

    @property
    def batch(self):
        """(X (N, n_in), labels (N,), description) of the mini-batch, or None."""
        if self._batch is None:
            self._batch = self._make_batch()
        return self._batch

    @property
    def batch_costs_before_step(self):
        return self._costs_before

    @property
    def current_example(self):
        """(x, desired digit) of the example being explained."""
        return self._current

    @property
    def current_batch_position(self) -> int | None:
        """Position of the current example in the mini-batch, if it is one of its examples."""
        ex = self._input
        if self._batch_idx is None or self.batch is None:
            return None
        if ex is None:
            return 0
        if ex.split == "train" and ex.index is not None:
            hits = np.flatnonzero(self._batch_idx == ex.index)
            return int(hits[0]) if hits.size else None
        return None

    @property
    def example_cost(self):
        return self._cost

    def class_names(self) -> list[str]:
        n = self._net.sizes[-1] if self._net is not None else 10
        names = list(getattr(self._dataset, "class_names", ()) or ())
        if len(names) != n:
            names = [str(i) for i in range(n)]
        return names

    # ------------------------------------------------------------------ batch
    def _invalidate_batch(self):
        self._batch = None
        self._batch_idx = None

    def _make_batch(self):
        ds, snap = self._dataset, self._snapshot
        if self._net is None:
            return None
        if ds is not None and getattr(ds, "n_train", 0) > 0 and ds.train_x.shape[1] == self._net.sizes[0]:
            idx = None
            if snap is not None and snap.batch_indices is not None and len(snap.batch_indices):
                idx = np.asarray(snap.batch_indices, dtype=np.intp)
                if idx.min() < 0 or idx.max() >= ds.n_train:
                    idx = None
            src = "the mini-batch just used"
            if idx is None:
                idx = default_batch_indices(ds.n_train, 10, seed=0)
                src = "10 fixed training examples: no mini-batch has been stepped yet"
            self._batch_idx = idx
            return ds.train_x[idx], np.asarray(ds.train_labels)[idx].astype(np.intp), src
        if self._input is not None and self._desired is not None:
            return as_pixels(self._input.pixels)[None], np.array([self._desired]), "the current example only"
        return None

    # ------------------------------------------------------------------ selection and actions
    def select_parameter(self, ref: ParamRef) -> None:
        """Select the weight or bias the panels explain (shared by all tabs)."""
        if self._net is None or ref is None:
            return
        try:
            ref.check(self._net.sizes)
        except ValueError as e:
            self.statusMessage.emit(str(e))
            return
        self._ref = ref
        self._dirty = set(TABS)
        self._refresh_visible()
        self.parameterSelected.emit(ref)

    def set_focus_neuron(self, neuron: int) -> None:
        """The output neuron whose three ways tab 1 explains (default: the desired digit's)."""
        self._focus = int(neuron)
        self._dirty.add("one neuron")
        self._refresh_visible()

    def set_cost(self, name: str) -> None:
        """Explain (and step) with cost ``name``: "quadratic" (the videos', default) or "cross-entropy"."""
        names = [n for n, _ in COST_CHOICES]
        if name not in names:
            self.statusMessage.emit(f"unknown cost {name!r}")
            return
        self._cost_choice = name
        self.cost_box.setCurrentIndex(names.index(name))
        self.convention.setText(CONVENTION.format(sum=cost_formulas(name)["sum"]))
        if self._net is not None:
            self._net = explained(self._net, name)
        self._refresh()

    def set_desired(self, digit: int) -> None:
        self._desired = int(digit)
        self._focus = None
        self._refresh()

    def show_tab(self, name: str) -> None:
        self.tabs.setCurrentIndex(TABS.index(name))

    def choose_batch_example(self, i: int) -> None:
        """Make mini-batch example ``i`` the current input (here, and everywhere via inputRequested)."""
        b = self.batch
        if b is None or self._batch_idx is None:
            return
        X, y, _ = b
        idx = int(self._batch_idx[i])
        ex = InputExample(as_pixels(X[i]), int(y[i]), source=f"mini-batch example {i + 1} (train #{idx})",
                          index=idx, split="train")
        self.set_input(ex)
        self.inputRequested.emit(ex)

    def step(self):
        """One SGD step on the mini-batch; the result goes to the studio (stepApplied).  Returns the StepResult (or None)."""
        if self._pending.isActive():
            self._refresh()
        if self._net is None or self.batch is None:
            self.statusMessage.emit("Nothing to step: no network or mini-batch yet.")
            return None
        X, y, _ = self.batch
        x, label = self._current
        try:
            res = sgd_step(self._net, X, y, self.learning_rate, example=(x, label))
        except ValueError as e:
            self.statusMessage.emit(str(e))
            return None
        self._costs_before = self._net.backprop_details(X, y).costs
        self._net = res.network
        self._steps_here += 1
        d_batch = res.batch_cost_after - res.batch_cost_before
        d_ex = res.example_cost_after - res.example_cost_before
        self._say_step(
            f"<b>Step {self._steps_here}</b> on this mini-batch (η = {fmt(res.learning_rate)}), every weight and bias "
            f"moved by exactly −η × the average gradient:  batch cost {fmt(res.batch_cost_before)} → "
            f"<b>{fmt(res.batch_cost_after)}</b> ({_num(d_batch, 3, plus=True)}),  this example "
            f"{fmt(res.example_cost_before)} → <b>{fmt(res.example_cost_after)}</b> ({_num(d_ex, 3, plus=True)}).  "
            f"<span style='color:{theme.MUTED}'>Applied to the studio's network (every view shows it); Undo puts the "
            f"weights back.</span>")
        self.last_step = res
        self._refresh()
        self.statusMessage.emit(f"Backprop explorer: one SGD step, batch cost {fmt(res.batch_cost_before)} → "
                                f"{fmt(res.batch_cost_after)}")
        adopted = res.network.copy()
        if self._snapshot is not None:
            adopted.cost = self._snapshot.network.cost  # the window's network keeps the cost it trains with
        self.stepApplied.emit(adopted)
        return res

    def reset(self) -> None:
        """Forget the explorer's own state (its step count, the costs before a step): back to the
        studio's network as it is."""
        if self._snapshot is not None:
            self._net = explained(self._snapshot.network, self._cost_choice)
        self._steps_here = 0
        self._costs_before = None
        self._say_step("")
        self._refresh()

    def undo(self) -> None:
        """Ask the studio to put back the weights from before the last Step."""
        if self._steps_here:
            self._steps_here -= 1
            self._say_step("")
        self.undoRequested.emit()

    def set_studio_learning_rate(self, eta: float) -> None:
        """Show the studio's η (without asking to change it)."""
        eta = float(eta)
        if abs(self.eta_box.value() - eta) > 1e-12:
            self.eta_box.blockSignals(True)
            self.eta_box.setValue(eta)
            self.eta_box.blockSignals(False)
            self._dirty.add("all examples")
            self._refresh_visible()

    def _desired_picked(self, i: int):
        self.set_desired(i)

    def _eta_changed(self, value):
        self.learningRateEdited.emit(float(value))
        self._dirty.add("all examples")
        self._refresh_visible()

    # ------------------------------------------------------------------ refresh
    def _resolve_current(self):
        net = self._net
        ex = self._input
        if ex is not None and np.asarray(ex.pixels).size == net.sizes[0]:
            x = as_pixels(np.asarray(ex.pixels).ravel())
            desc = ex.source or "current example"
        else:
            b = self.batch
            if b is None:
                return None
            x = as_pixels(b[0][0])
            desc = "mini-batch example 1"
            if self._desired is None:
                self._desired = int(b[1][0])
        if self._desired is None:
            self._desired = int(net.predict(x[None])[0])  # a drawing: default to the network's guess
        self._desired = min(max(0, self._desired), net.sizes[-1] - 1)
        return x, self._desired, desc

    def _refresh(self):
        self._pending.stop()
        has = self._net is not None
        self._current = None
        self._cost = None
        if has:
            cur = self._resolve_current()
            if cur is None:
                has = False
            else:
                x, label, desc = cur
                self._current = (x, label)
                self._cost = example_cost(self._net, x, label)
                if self._ref is None or not self._ref_ok(self._ref):
                    L = len(self._net.sizes) - 1
                    a_prev = self._net.forward(x[None]).activations[L - 1][0]
                    self._ref = ParamRef(L - 1, label, int(np.argmax(a_prev)))
                if self._focus is not None and self._focus >= self._net.sizes[-1]:
                    self._focus = None
                self._update_header(x, label, desc)
        self.tabs.setVisible(has)
        self.placeholder.setVisible(not has)
        self.step_button.setEnabled(has)
        self.undo_button.setEnabled(has)
        if has:
            self._dirty = set(TABS)
            self._refresh_visible()

    def _ref_ok(self, ref) -> bool:
        try:
            ref.check(self._net.sizes)
            return True
        except ValueError:
            return False

    def _update_header(self, x, label, desc):
        n = int(round(math.sqrt(x.size)))
        if n * n == x.size:
            self.thumb.setPixmap(QtGui.QPixmap.fromImage(to_qimage(x)).scaled(
                54, 54, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        names = self.class_names()
        c = self._cost
        true = self._input.label if self._input is not None else label
        if self._input is None:
            true = label
        told = "" if true is not None else (
            f" <span style='color:{theme.MUTED}'>(no label: pick the desired digit)</span>")
        guess_col = theme.GOOD if c.guess == label else theme.BAD
        self.example_label.setText(
            f"<b>{desc}</b> · desired <b style='color:{theme.ACCENT}'>{names[label]}</b>{told} · the network says "
            f"<b style='color:{guess_col}'>{names[c.guess]}</b> ({fmt(c.activations[c.guess], 3)}) · "
            f"cost of this example {fmt(c.cost)}")
        if self.desired_box.count() != len(names) or [self.desired_box.itemText(i) for i in range(len(names))] != names:
            self.desired_box.clear()
            self.desired_box.addItems(names)
        self.desired_box.setCurrentIndex(label)

    def _refresh_visible(self):
        if self._pending.isActive():  # a coalesced snapshot is waiting: show it now
            self._refresh()
            return
        if self._net is None or self._current is None:
            return
        name = TABS[self.tabs.currentIndex()]
        if name in self._dirty:
            self._dirty.discard(name)
            panel = {"one neuron": self.one_neuron, "all neurons": self.all_neurons,
                     "all examples": self.all_examples, "parameters": self.parameters, "chain rule": self.chain}[name]
            panel.refresh()
