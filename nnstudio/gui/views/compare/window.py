"""The Compare window: runs from the same initial weights and shuffle, side by side, one control for all.

A window of its own, titled as what it is, a separate experiment: the studio's network is not
changed by anything here (its one network stays the one network), and a run becomes the studio's
only through "Open in the studio" (an undoable adoption through the session).  It shows:

* the presets the videos invite, one click each, and "vary <setting>: <values>" for any other;
* one Play/Pause, Step, Epoch and Rewind for every run (Space and → while the window has the focus);
* a small diagram per run (the studio's own :class:`~nnstudio.gui.views.diagram.canvas.DiagramCanvas`),
  each reading the studio's current input, under its name and its last cost and accuracy;
* the runs' cost and accuracy curves overlaid (:class:`~nnstudio.gui.views.compare.plots.ComparePlots`).

It holds no maths and no state of the runs: it listens to the
:class:`~nnstudio.session.compare.Comparison` (Qt-free) and sends it commands, and it polls the
comparison's worker on its own display timer (≤ 30 Hz; the plots ≤ 8 Hz) while it is shown.
"""

from __future__ import annotations

import logging
import time
import traceback

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt
from nnstudio.gui.style import theme
from nnstudio.gui.tasks import PipeWatch
from nnstudio.gui.style.palette import app_palette
from nnstudio.gui.views.compare.plots import ComparePlots, run_color
from nnstudio.gui.views.diagram.canvas import DiagramCanvas
from nnstudio.gui.views.evaluation.widgets import CardFlow
from nnstudio.gui.widgets.steady import SteadyLine
from nnstudio.session.compare import PRESETS, VARIABLES, Comparison, parse_values
from nnstudio.session.session import SessionError
from nnstudio.training.loop import WATCH
from nnstudio.training.workers import make_worker

log = logging.getLogger(__name__)

#: what "vary" offers first for each setting
SUGGESTED = {"learning_rate": "0.1, 1.5, 10", "batch_size": "1, 10, 100", "cost": "quadratic, cross-entropy",
             "activation": "sigmoid, relu", "init": "scaled, normal"}
#: the speeds offered: (name, lockstep steps per second; WATCH speeds up, 0 is full speed)
SPEEDS = (("watch: speeds up", WATCH), ("2 steps/s", 2.0), ("10 steps/s", 10.0), ("100 steps/s", 100.0),
          ("full speed", 0.0))
TICK_MS = 33
PLOTS_EVERY_S = 0.12


class RunPanel(QtWidgets.QFrame):
    """One run: its name and setting, its diagram, its last cost and accuracy, "Open in the studio"."""

    def __init__(self, index: int, parent=None):
        super().__init__(parent)
        self.index = index
        self.setObjectName(f"comparePanel{index}")
        self.header = QtWidgets.QLabel()
        self.header.setObjectName("compareRunTitle")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.canvas = DiagramCanvas(self)
        self.canvas.setMinimumSize(220, 170)
        self.status = SteadyLine(object_name="compareRunStatus")
        self.open_button = QtWidgets.QPushButton("Open in the studio")
        self.open_button.setObjectName("compareOpenInStudio")
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.header)
        lay.addWidget(self.canvas, 1)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.status, 1)
        row.addWidget(self.open_button)
        lay.addLayout(row)

    def keep_dark_look(self) -> None:
        """The videos' dark look in both themes, as the studio's diagram has it: the panel's name and
        numbers too (under the app's stylesheet they do not take the palette from their parent)."""
        pal = app_palette(True)
        for w in (self, self.header, self.status, self.status.label):
            w.setPalette(pal)

    def set_run(self, run, color: str) -> None:
        self.header.setText(f"<span style='color:{color}; font-weight:900'>■</span>&nbsp;<b>{run.name}</b>"
                            f"&nbsp;·&nbsp;{run.label}")
        self.canvas.network_label = f"run {run.name}"
        self.open_button.setToolTip(
            f"Make run {run.name}'s network the studio's (with η = {run.learning_rate:g} and mini-batches of "
            f"{run.batch_size}); Training ▸ Undo in the studio puts the previous weights back")


class CompareWindow(QtWidgets.QWidget):
    """The window of one :class:`~nnstudio.session.compare.Comparison` (see the module docstring)."""

    def __init__(self, comparison: Comparison, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("compareWindow")
        self.setWindowTitle("Compare runs — a separate experiment (the studio's network is not changed)")
        self.comparison = c = comparison
        self.session = comparison.session
        self.panels: list[RunPanel] = []
        self._dark = True
        self._runs_dirty = self._plots_dirty = False
        self._plots_at = 0.0
        self._watch = PipeWatch(self._poll, self)  # (the comparison's worker's pipe)

        self.intro = QtWidgets.QLabel(
            "<b>Compare runs</b> — a separate experiment: the studio's network is not changed. The runs start from "
            "the same weights and see the same examples; one setting differs.")
        self.intro.setObjectName("compareIntro")
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.RichText)
        self.intro.setToolTip("Every run starts from the same weights and sees the same examples in the same order; "
                              "only the setting picked differs. One Play, Step and Rewind drive them all.")

        presets = QtWidgets.QHBoxLayout()
        presets.addWidget(QtWidgets.QLabel("Compare:"), 0, Qt.AlignmentFlag.AlignTop)
        # (one row where there is room, wrapping to two or three on a narrow screen)
        self.preset_box = QtWidgets.QWidget()
        self.preset_box.setObjectName("comparePresets")
        flow = CardFlow(self.preset_box, spacing=6)
        self.preset_buttons = {}
        for p in PRESETS:
            b = QtWidgets.QPushButton(p.title)
            b.setObjectName(f"comparePreset_{p.key}")
            b.setToolTip(p.note)
            b.clicked.connect(lambda _on, k=p.key: self._start_preset(k))
            flow.addWidget(b)
            self.preset_buttons[p.key] = b
        presets.addWidget(self.preset_box, 1)

        custom = QtWidgets.QHBoxLayout()
        custom.addWidget(QtWidgets.QLabel("or vary"))
        self.vary_combo = QtWidgets.QComboBox()
        self.vary_combo.setObjectName("compareVary")
        for key, (name, _kind) in VARIABLES.items():
            self.vary_combo.addItem(name, key)
        self.values_edit = QtWidgets.QLineEdit(SUGGESTED["learning_rate"])
        self.values_edit.setObjectName("compareValues")
        self.values_edit.setToolTip("Two to four values, separated by commas")
        self.values_edit.setMinimumWidth(150)
        self.start_combo = QtWidgets.QComboBox()
        self.start_combo.setObjectName("compareStartFrom")
        self.start_combo.addItem("new weights", "fresh")
        self.start_combo.addItem("the studio's network now", "studio")
        self.start_combo.setToolTip("New weights: from the studio recipe's seed (the same for every run). "
                                    "The studio's network: a copy of it as it is now (it is not changed).")
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setObjectName("compareStart")
        self.start_button.setToolTip("Set up these runs, paused at their common start")
        for w in (self.vary_combo, QtWidgets.QLabel("values"), self.values_edit, QtWidgets.QLabel("from"),
                  self.start_combo, self.start_button):
            custom.addWidget(w)
        custom.addStretch(1)

        transport = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QPushButton("Play")
        self.play_button.setObjectName("comparePlay")
        self.play_button.setToolTip("Train every run (Space)")
        self.step_button = QtWidgets.QPushButton("Step")
        self.step_button.setObjectName("compareStep")
        self.step_button.setToolTip("One step of every run, over the same examples (→)")
        self.epoch_button = QtWidgets.QPushButton("Epoch")
        self.epoch_button.setObjectName("compareEpoch")
        self.epoch_button.setToolTip("Every run to the end of the epoch")
        self.rewind_button = QtWidgets.QPushButton("Rewind")
        self.rewind_button.setObjectName("compareRewind")
        self.rewind_button.setToolTip("Every run back to the common start (they replay exactly)")
        self.speed_combo = QtWidgets.QComboBox()
        self.speed_combo.setObjectName("compareSpeed")
        for name, v in SPEEDS:
            self.speed_combo.addItem(name, v)
        self.progress = SteadyLine(object_name="compareProgress")
        for w in (self.play_button, self.step_button, self.epoch_button, self.rewind_button,
                  QtWidgets.QLabel("speed"), self.speed_combo):
            transport.addWidget(w)
        transport.addWidget(self.progress, 1)

        self.shared = QtWidgets.QLabel()
        self.shared.setObjectName("compareShared")
        self.shared.setTextFormat(Qt.TextFormat.RichText)
        self.shared.setMinimumWidth(200)

        self.runs_box = QtWidgets.QWidget()
        self.runs_box.setObjectName("compareRuns")
        self.runs_box.setAutoFillBackground(True)
        self.runs_box.setPalette(app_palette(True))
        for panel in self.panels:
            panel.keep_dark_look()  # (the diagrams keep the videos' dark look, as in the studio)
        self.runs_row = QtWidgets.QHBoxLayout(self.runs_box)
        self.runs_row.setContentsMargins(4, 4, 4, 4)
        self.runs_row.setSpacing(6)
        self.plots = ComparePlots()
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("compareSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.runs_box)
        self.splitter.addWidget(self.plots)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([600, 400])
        self.note = QtWidgets.QLabel()
        self.note.setObjectName("compareNote")
        self.note.setWordWrap(True)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addWidget(self.intro)
        lay.addLayout(presets)
        lay.addLayout(custom)
        lay.addLayout(transport)
        lay.addWidget(self.shared)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.note)

        self.vary_combo.currentIndexChanged.connect(
            lambda _i: self.values_edit.setText(SUGGESTED[self.vary_combo.currentData()]))
        self.start_button.clicked.connect(self._start_custom)
        self.values_edit.returnPressed.connect(self._start_custom)
        self.play_button.clicked.connect(c.toggle_play)
        self.step_button.clicked.connect(c.step)
        self.epoch_button.clicked.connect(c.step_epoch)
        self.rewind_button.clicked.connect(c.rewind)
        self.speed_combo.currentIndexChanged.connect(lambda _i: c.set_speed(self.speed_combo.currentData()))
        for key, fn in ((Qt.Key.Key_Space, c.toggle_play), (Qt.Key.Key_Right, c.step)):
            sc = QtGui.QShortcut(QtGui.QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(fn)

        ev = c.events
        ev.setup.connect(self._on_setup)
        ev.runs.connect(self._on_runs)
        ev.history.connect(self._on_history)
        ev.run_state.connect(self._on_run_state)
        ev.message.connect(self._on_message)
        self.session.events.input.connect(self._on_input)
        self.session.events.dataset.connect(self._on_dataset)

        self.timer = QtCore.QTimer(self)
        self.timer.setObjectName("compareTimer")
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        if c.setup is not None:
            self._on_setup(c.setup)
        self._on_run_state(c.run_state)
        self._update_progress()

    # ================================================================== commands
    def _start_preset(self, key: str) -> None:
        p = next(p for p in PRESETS if p.key == key)
        self._show_vary(p.vary, ", ".join(str(v) for v in p.values))
        self._guard(lambda: self.comparison.start_preset(key, self.start_combo.currentData()))

    def _start_custom(self) -> None:
        vary = self.vary_combo.currentData()
        self._guard(lambda: self.comparison.start(vary, parse_values(vary, self.values_edit.text()),
                                                  start=self.start_combo.currentData()))

    def _guard(self, fn) -> bool:
        try:
            fn()
        except SessionError as e:
            self._say(str(e), error=True)
            return False
        self.watch_worker()
        return True

    def _show_vary(self, vary: str, text: str) -> None:
        self.vary_combo.blockSignals(True)
        self.vary_combo.setCurrentIndex(self.vary_combo.findData(vary))
        self.vary_combo.blockSignals(False)
        self.values_edit.setText(text)

    def open_run(self, i: int) -> None:
        """ "Open in the studio" of run ``i``."""
        if self.comparison.open_in_studio(i):
            run = self.comparison.runs[i]
            self._say(f"Run {run.name} ({run.label}) is now the studio's network (Training ▸ Undo there puts the "
                      "previous weights back)")

    # ================================================================== the comparison's events
    def _on_setup(self, setup) -> None:
        for p in self.panels:
            p.setParent(None)
            p.deleteLater()
        self.panels = []
        ds = self.session.dataset
        for i, run in enumerate(setup.runs):
            panel = RunPanel(i)
            panel.keep_dark_look()
            panel.set_run(run, run_color(i, True))
            panel.open_button.clicked.connect(lambda _on, k=i: self.open_run(k))
            panel.canvas.set_class_names(None if ds is None else ds.class_names)
            panel.canvas.set_example(self.session.current_input)
            self.runs_row.addWidget(panel, 1)
            self.panels.append(panel)
        self.plots.set_runs([r.title for r in setup.runs])
        self.shared.setText(f"Same for every run: {setup.shared_text()}")
        self.shared.setToolTip(setup.shared_text())
        self._runs_dirty = self._plots_dirty = True
        self._apply_runs()
        self._apply_plots()
        self._say(f"What to look for: {setup.note}" if setup.note else "Press Play (Space) or Step (→)")

    def _on_runs(self) -> None:
        self._runs_dirty = True

    def _on_history(self) -> None:
        self._plots_dirty = True

    def _on_run_state(self, state: str) -> None:
        self.play_button.setText("Pause" if state == "running" else "Play")
        ready = self.comparison.setup is not None
        for b in (self.play_button, self.step_button, self.epoch_button, self.rewind_button):
            b.setEnabled(ready)
        if state in ("paused", "finished"):
            self._runs_dirty = self._plots_dirty = True
            self._apply_runs()
            self._apply_plots()

    def _on_message(self, level: str, title: str, text: str) -> None:
        if level == "status":
            self._say(text)
        else:
            QtWidgets.QMessageBox.warning(self, title, text)

    def _on_input(self, example) -> None:
        for p in self.panels:
            p.canvas.set_example(example)

    def _on_dataset(self, ds) -> None:
        for p in self.panels:
            p.canvas.set_class_names(ds.class_names)

    def _say(self, text: str, error: bool = False) -> None:
        self.note.setStyleSheet(f"color: {theme.BAD};" if error else "")
        self.note.setText(text)

    # ================================================================== frames
    def watch_worker(self) -> None:
        """Wake up when the comparison's worker has something to say."""
        w = self.comparison.worker
        self._watch.watch(None if w is None else w.fileno())

    def _poll(self, *_) -> None:
        try:
            self.comparison.poll()
        except Exception:  # never raise into Qt's event loop
            log.error("taking in the comparison's messages failed:\n%s", traceback.format_exc())
        self.watch_worker()

    def tick(self) -> None:
        self._poll()
        if self._runs_dirty:
            self._apply_runs()
        now = time.perf_counter()
        if self._plots_dirty and now - self._plots_at >= PLOTS_EVERY_S:
            self._apply_plots()

    def _apply_runs(self) -> None:
        self._runs_dirty = False
        c = self.comparison
        for i, p in enumerate(self.panels):
            snap = c.run_snapshot(i)
            p.canvas.set_network(None if snap is None else snap.network, snap)
            p.status.setText(c.run_status(i))
        self._update_progress()

    def _apply_plots(self) -> None:
        self._plots_dirty = False
        self._plots_at = time.perf_counter()
        self.plots.refresh(self.comparison.histories)

    def _update_progress(self) -> None:
        self.progress.setText(self.comparison.progress_text())

    # ================================================================== window
    def apply_theme(self, dark: bool) -> None:
        self._dark = dark
        self.plots.apply_theme(dark)
        # (the diagrams keep the videos' dark look in both themes, and so do their names and numbers:
        # the app's new palette reaches every widget, so the dark one is set again after it)
        self.runs_box.setPalette(app_palette(True))
        for panel in self.panels:
            panel.keep_dark_look()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.watch_worker()
        self.timer.start()
        if self.comparison.setup is None and self.session.dataset is not None:
            self._start_preset(PRESETS[0].key)  # (something to look at, paused at its start)

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.timer.stop()

    def closeEvent(self, event) -> None:
        self.comparison.pause()  # (the runs wait, as they are, for the window to open again)
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.timer.stop()
        self._watch.stop()
        self.comparison.shutdown()


def open_compare_window(main_window, window: CompareWindow | None = None) -> CompareWindow:
    """Show the studio's Compare window (made on first use, with a comparison of its own that trains
    in a worker of its own; kept, with its runs, when closed), over the studio window and as large."""
    if window is None:
        window = CompareWindow(Comparison(main_window.session, worker_factory=make_worker), main_window)
        window.apply_theme(not main_window.light_action.isChecked())
        size = main_window.size()
        window.resize(min(size.width(), 1600), min(size.height(), 1000))
        window.move(main_window.geometry().topLeft())
    if window.isVisible():  # (behind the studio window: bring it to the front)
        window.raise_()
    window.show()
    window.activateWindow()
    return window
