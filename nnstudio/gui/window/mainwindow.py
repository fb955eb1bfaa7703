"""The studio main window: the diagram in the middle, docks around it, training beside it.

Training runs in a process of its own (``nnstudio/gui/training/process.py``: the trainer in a
child process, a reader thread here turning its messages into the worker's signals), or,
with ``NNSTUDIO_WORKER=thread``, in a thread of this process (``nnstudio/gui/training/thread.py``);
both workers have the same commands and signals.

Data flow::

    TrainingWorker (process/thread) --batchDone (EVERY mini-batch, direct)--> ReportInbox (a deque)
                            --snapshotReady (≤ frame rate, queued)--> latest snapshot
                            --stateChanged/restarted/diverged (queued; the inbox is drained first)
    display QTimer --> drain the inbox into the history (none dropped); when a frame is due:
                       plots.refresh(history), then (next tick) view.set_snapshot(latest) for
                       the views on screen, status bar

Frames come at display rate (60/s) when paused, stepping or training at ≤ 60 mini-batches/s;
at full speed a FramePacer spaces them so the GUI thread stays within a budget of the time:
FULL_SPEED_GUI_BUDGET when the trainer is a thread (it shares the GIL with the GUI),
PROCESS_GUI_BUDGET when it is a process of its own.  See benchmarks/bench_gui.py.

The window hosts the studio views (``DiagramView``, ``DrawPanel``, ``BackpropView``,
``PlaygroundView``, ``LandscapeView``, ``EvaluationView``), each imported lazily: a view
whose module is missing leaves a labelled placeholder in its slot.  Every view gets
``set_dataset`` when a dataset loads, ``set_snapshot`` on the display timer when a new
snapshot arrived, and ``set_input`` whenever any view emits ``inputRequested``.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import time
import traceback
from pathlib import Path

import numpy as np

from nnstudio.gui.style import theme
from nnstudio.gui.training.controls import (
    DEFAULT_SIZES_TEXT, FOLDER_ITEM, TrainingActions, TrainingControls, parse_sizes, sizes_text,
)
from nnstudio.gui.views.plots import PlotsPanel, TrainingHistory
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal, Slot
from nnstudio.session.model import InputExample
from nnstudio.gui.training.thread import ReportInbox, TrainingThread

log = logging.getLogger(__name__)

APP_NAME = "nnstudio"
STATE_VERSION = 1
DISPLAY_HZ = 60

#: (key, module, class, slot title) of the hosted views, imported lazily
VIEW_SPECS = (
    ("diagram", "nnstudio.gui.views.diagram.view", "DiagramView", "Network"),
    ("draw", "nnstudio.gui.views.pad.view", "DrawPanel", "Draw"),
    ("backprop", "nnstudio.gui.views.backprop.view", "BackpropView", "Backprop"),
    ("playground", "nnstudio.gui.views.descent.playground", "PlaygroundView", "Playground"),
    ("landscape", "nnstudio.gui.views.descent.landscape", "LandscapeView", "Cost landscape"),
    ("evaluation", "nnstudio.gui.views.evaluation.view", "EvaluationView", "Evaluation"),
)


def make_settings() -> QtCore.QSettings:
    """The app's settings: ``QSettings("nnstudio", "nnstudio")``, or an INI file in
    ``$NNSTUDIO_SETTINGS_DIR`` when that is set (tests, portable installs)."""
    folder = os.environ.get("NNSTUDIO_SETTINGS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QtCore.QSettings(str(Path(folder) / "nnstudio.ini"), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings(APP_NAME, APP_NAME)


def _setting(s: QtCore.QSettings, key: str, default, kind=None):
    """Read a setting robustly (INI files give strings back; bad values give the default)."""
    v = s.value(key, None)
    if v is None:
        return default
    kind = kind or type(default)
    try:
        if kind is bool:
            return v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes")
        if kind in (int, float):
            x = kind(float(v)) if kind is int else kind(v)
            return x if math.isfinite(x) else default
        return kind(v)
    except (TypeError, ValueError):
        return default


class Placeholder(QtWidgets.QFrame):
    """Stands in for a view whose module is not available."""

    def __init__(self, title: str, reason: str, parent=None):
        super().__init__(parent)
        self.setObjectName("placeholder")
        self.setMinimumSize(160, 100)
        lay = QtWidgets.QVBoxLayout(self)
        lab = QtWidgets.QLabel(f"<b>{title}</b><br><span style='color:{theme.MUTED}'>{reason}</span>")
        lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lab.setWordWrap(True)
        lay.addWidget(lab)


class DatasetLoader(QtCore.QThread):
    """Loads (and if needed downloads) a dataset off the GUI thread; cancellable."""

    progressed = Signal(object, object, str)  # done bytes, total bytes or None, file name
    loaded = Signal(object)  # Dataset
    failed = Signal(str, bool)  # one-line message, cancelled?

    def __init__(self, key: str, download: bool = True, parent=None):
        super().__init__(parent)
        self.key = key
        self.download = download
        self._cancel = False
        self._last_progress = 0.0

    def cancel(self) -> None:
        self._cancel = True

    def _progress(self, done, total, name) -> None:
        now = time.perf_counter()
        if now - self._last_progress >= 0.05 or (total and done >= total):
            self._last_progress = now
            self.progressed.emit(done, total, name)

    def run(self) -> None:
        from nnstudio.data import DataError, DownloadCancelled, load_dataset

        try:
            ds = load_dataset(self.key, download=self.download, progress=self._progress,
                              cancel=lambda: self._cancel)
        except DownloadCancelled:
            self.failed.emit("download cancelled", True)
        except DataError as e:
            # a cancel that landed while a stalled read was timing out ends as a mirror failure:
            # the user asked to cancel, so it is reported as the cancel (not a warning dialog)
            self.failed.emit("download cancelled" if self._cancel else str(e), self._cancel)
        except Exception as e:  # pragma: no cover - unexpected; reported, never raised into Qt
            log.error("loading %s failed:\n%s", self.key, traceback.format_exc())
            self.failed.emit(f"{self.key}: could not be loaded ({type(e).__name__}: {e})", False)
        else:
            self.loaded.emit(ds)


#: while training at full speed the GUI thread may be busy this fraction of the time at most
#: (it shares the GIL with the worker: every millisecond it paints is one the trainer waits)
FULL_SPEED_GUI_BUDGET = 0.06
#: the same with the trainer in its own process: the GUI competes with nothing but the
#: event loop's own responsiveness, so frames come at up to display rate
PROCESS_GUI_BUDGET = 0.5


def make_training(parent=None):
    """The training worker's owner: a process (default) or, with ``NNSTUDIO_WORKER=thread``
    or where a process cannot be started, a thread."""
    kind = os.environ.get("NNSTUDIO_WORKER", "process").strip().lower()
    if kind != "thread":
        try:
            from nnstudio.gui.training.process import TrainingProcess

            return TrainingProcess(parent)
        except Exception:  # pragma: no cover - no multiprocessing here: a thread works too
            log.warning("training process unavailable; training in a thread:\n%s", traceback.format_exc())
    return TrainingThread(parent)


class FramePacer:
    """Paces display frames so the GUI thread stays within a time budget.

    A frame's cost is the time of the display tick that made it (plots, views' set_snapshot,
    status bar) plus the painting it caused (the window's UpdateRequest handling, timed by
    :meth:`MainWindow.event`).  The next frame is due ``cost / budget`` after this one started
    (never sooner than 1/60 s, never later than 0.5 s): with a budget of 1 frames come at
    display rate; with 0.1 a frame that costs 8 ms comes every 80 ms.

    While the GUI works on a frame the worker steps aside (``worker.hold``): painting
    releases and re-takes the GIL at many Qt calls, and each time the GUI would wait up to
    a switch interval (5 ms) for a busy trainer to let go of it (a 7 ms frame took 60 ms).
    """

    def __init__(self, hz: float = DISPLAY_HZ, worker=None):
        self.worker = worker
        self.min_interval = 1.0 / hz
        self.max_interval = 0.5
        self.interval = self.min_interval
        self.cost = 0.0  # smoothed frame cost, seconds
        self._t0 = -1e9
        self._work = None  # GUI time of the frame in progress
        self.frames = 0  # frames begun so far

    def due(self, now: float, budget: float) -> bool:
        """Is the next frame due, with the GUI allowed ``budget`` of its time from now on?"""
        if now < self._t0 + self.min_interval:
            return False
        if self._work is not None:  # the last frame is complete: fold its cost in
            cost, self._work = self._work, None
            self.cost = cost if not self.cost else 0.7 * self.cost + 0.3 * cost
        self.interval = min(self.max_interval, max(self.min_interval, self.cost / budget))
        return now >= self._t0 + self.interval

    def begin(self, now: float) -> None:
        self.frames += 1
        self._t0 = now
        self._work = 0.0
        self.hold(True)

    def end(self, now: float) -> None:
        self._work += now - self._t0
        self.hold(False)

    def add(self, seconds: float) -> None:
        """GUI time spent painting (counted towards the current frame)."""
        if self._work is not None:
            self._work += seconds

    def hold(self, on: bool) -> None:
        if self.worker is not None:
            self.worker.hold = on


class MainWindow(QtWidgets.QMainWindow):
    """The studio window.  Create it, ``show()`` it, then call :meth:`start` (which loads
    the dataset in a thread, so the window appears at once)."""

    #: the worker paused (after a pause, a step, a finished run or a divergence)
    trainingPaused = Signal()
    #: a dataset finished loading and a new trainer was handed to the worker
    datasetReady = Signal(object)
    #: the current input changed (after distribution to the views)
    inputChanged = Signal(object)
    #: answers sync_worker(): the worker handled every earlier command and its signals arrived
    workerSynced = Signal(int)

    def __init__(self, settings: QtCore.QSettings | None = None, *, load_views: bool = True,
                 view_factories: dict | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else make_settings()
        self.setWindowTitle(f"{APP_NAME} — starting…")
        self.setDockNestingEnabled(True)
        self.setDocumentMode(False)

        self.dataset = None
        self.dataset_key = None
        self.history = TrainingHistory()
        self.latest_snapshot = None
        self.current_input: InputExample | None = None
        self.messages: list[tuple[str, str, str]] = []  # (level, title, text) of every message shown
        self._snapshot_dirty = False
        self._last_report = None
        self._status_version = -1
        self._consumed = 0
        self._running = False
        self._state = "idle"
        self._trained_elsewhere = False  # a loaded model counts as trained
        self._arch = None  # settings of the network the worker trains
        self._loader: DatasetLoader | None = None  # the load in progress
        self._loaders: set = set()  # loaders whose thread has not finished yet
        self._load_dialog = None
        self._pending_model = None
        self._pending_input = None
        self._closing = False
        self._ask_on_close = False  # set by File ▸ Quit: ask about unsaved training before closing
        self._saved_at = None  # (run generation, step) of the network last saved or opened
        self._rate = (0.0, 0, 0.0)  # (time, examples seen, examples/s)
        self._message_box = None

        # --- training thread
        self.training = make_training(self)
        self.worker = self.training.worker
        w = self.worker
        # every mini-batch's report, collected in the worker thread and drained at display rate
        self._inbox = ReportInbox(w)
        self._gen = 0
        self._markers_seen = 0
        self._spool_said = None  # the history's disk problem last reported
        w.snapshotReady.connect(self._on_snapshot)
        w.stateChanged.connect(self._on_state)
        w.restarted.connect(self._on_restarted)
        w.diverged.connect(self._on_diverged)
        w.batchShown.connect(self._on_batch_shown)
        w.error.connect(self._on_worker_error)
        w.pong.connect(self._on_pong)

        # --- actions, controls, views
        self.actions = TrainingActions(self)
        self.actions.set_enabled(False)
        self.controls = TrainingControls(self.actions)
        self.plots = PlotsPanel()
        self.views: dict[str, QtWidgets.QWidget] = {}
        self._build_views(load_views, view_factories or {})
        self._build_docks()
        self._build_menus()
        self._build_status_bar()
        self._connect_controls()
        if load_views:
            self._add_lessons()

        self._delivered: dict[int, object] = {}  # id(view) -> the snapshot it has
        self._phase = 0  # 1: the views' half of a frame is due at the next tick
        self.pacer = FramePacer(worker=self.worker)
        self._timer = QtCore.QTimer(self)
        self._timer.setObjectName("displayTimer")
        self._timer.setInterval(int(1000 / DISPLAY_HZ))
        self._timer.timeout.connect(self._tick)

        self._default_state = self.saveState(STATE_VERSION)
        self._restore_settings()
        self.training.start()
        self._timer.start()

    # ================================================================== construction
    def _build_views(self, load_views: bool, factories: dict) -> None:
        for key, module, cls, title in VIEW_SPECS:
            widget = None
            if key in factories:
                f = factories[key]
                widget = f() if f is not None else Placeholder(title, "not loaded")
            elif not load_views:
                widget = Placeholder(title, "not loaded")
            else:
                try:
                    klass = getattr(importlib.import_module(module), cls)
                except ImportError as e:
                    widget = Placeholder(title, f"this view is not part of this build yet ({e.name or e})")
                except Exception as e:  # a broken view must not keep the studio from opening
                    log.error("importing %s failed:\n%s", module, traceback.format_exc())
                    widget = Placeholder(title, f"could not be loaded: {type(e).__name__}: {e}")
                else:
                    try:
                        widget = klass()
                    except Exception as e:
                        log.error("creating %s failed:\n%s", cls, traceback.format_exc())
                        widget = Placeholder(title, f"could not be created: {type(e).__name__}: {e}")
            if not widget.objectName():
                widget.setObjectName(f"{key}View")
            self.views[key] = widget
            if hasattr(widget, "inputRequested"):
                widget.inputRequested.connect(self.set_current_input)
            if hasattr(widget, "statusMessage"):
                widget.statusMessage.connect(self._view_status)

    def _add_lessons(self) -> None:
        """Help ▸ Lessons (F1): the guided lessons' dock, when that module is part of the build."""
        try:
            from nnstudio.gui.views.lessons.view import add_lessons_dock
        except ImportError:
            return
        try:
            add_lessons_dock(self)
        except Exception:  # the studio opens without them rather than not at all
            log.error("adding the lessons failed:\n%s", traceback.format_exc())
            return
        dock = getattr(self, "lessons_dock", None)
        if dock is not None:
            self.docks.append(dock)
            dock.addActions(self.actions.all())

    def studio_views(self) -> list:
        """The hosted views that follow the StudioView protocol (placeholders excluded)."""
        return [v for v in self.views.values() if hasattr(v, "set_snapshot")]

    def _dock(self, name: str, title: str, widget, area) -> QtWidgets.QDockWidget:
        d = QtWidgets.QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                      | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
                      | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, d)
        return d

    @staticmethod
    def _host(widget, name: str) -> QtWidgets.QScrollArea:
        """Wrap a hosted view so its minimum size can never force the window off-screen
        (a dock smaller than the view scrolls instead)."""
        area = QtWidgets.QScrollArea()
        area.setObjectName(name)
        area.setWidgetResizable(True)
        area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        area.setWidget(widget)
        return area

    def _build_docks(self) -> None:
        L, R, B = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                   Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, L)
        self.setCorner(Qt.Corner.BottomLeftCorner, L)
        self.setCorner(Qt.Corner.TopRightCorner, R)
        self.setCorner(Qt.Corner.BottomRightCorner, B)
        central = self.views["diagram"]
        self.setCentralWidget(central)

        scroll = QtWidgets.QScrollArea()
        scroll.setObjectName("trainingScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.controls)
        scroll.setMinimumWidth(self.controls.minimumSizeHint().width() + 14)
        # Default layout: controls on the left, live plots on the right of the diagram, and the
        # views a learner works with one at a time tabbed along the bottom (Draw first).
        self.training_dock = self._dock("trainingDock", "Training", scroll, L)
        self.plots_dock = self._dock("plotsDock", "Plots", self.plots, R)
        self.draw_dock = self._dock("drawDock", "Draw", self._host(self.views["draw"], "drawScroll"), B)
        self.backprop_dock = self._dock("backpropDock", "Backprop", self._host(self.views["backprop"], "backpropScroll"), B)
        tabs = QtWidgets.QTabWidget()
        tabs.setObjectName("gradientTabs")
        tabs.setDocumentMode(True)
        tabs.addTab(self._host(self.views["playground"], "playgroundScroll"), "Playground")
        tabs.addTab(self._host(self.views["landscape"], "landscapeScroll"), "Cost landscape")
        self.gradient_tabs = tabs
        self.gradient_dock = self._dock("gradientDock", "Gradient descent", tabs, B)
        self.evaluation_dock = self._dock("evaluationDock", "Evaluation",
                                          self._host(self.views["evaluation"], "evaluationScroll"), B)
        self.tabifyDockWidget(self.draw_dock, self.backprop_dock)
        self.tabifyDockWidget(self.backprop_dock, self.gradient_dock)
        self.tabifyDockWidget(self.gradient_dock, self.evaluation_dock)
        self.draw_dock.raise_()
        self.docks = [self.training_dock, self.plots_dock, self.draw_dock, self.backprop_dock,
                      self.gradient_dock, self.evaluation_dock]
        self.resize(1600, 1000)
        self._default_sizes_pending = True

    def _apply_default_sizes(self) -> None:
        """Dock sizes of the default layout, relative to the window's size."""
        w, h = max(1000, self.width()), max(700, self.height())
        H, V = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        self.resizeDocks([self.training_dock], [self.training_dock.minimumSizeHint().width()], H)
        self.resizeDocks([self.plots_dock], [int(w * 0.26)], H)
        self.resizeDocks([self.draw_dock], [int(h * 0.40)], V)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._default_sizes_pending:
            self._default_sizes_pending = False
            QtCore.QTimer.singleShot(0, self._apply_default_sizes)

    def _build_menus(self) -> None:
        mb = self.menuBar()

        def action(menu, name, text, slot, key=None, tip=None):
            a = QtGui.QAction(text, self)
            a.setObjectName(name)
            if key:
                a.setShortcut(QtGui.QKeySequence(key))
            if tip:
                a.setStatusTip(tip)
                a.setToolTip(tip)
            a.triggered.connect(slot)
            menu.addAction(a)
            return a

        f = mb.addMenu("&File")
        self.open_action = action(f, "openModelAction", "&Open model…", self._open_model_dialog,
                                  QtGui.QKeySequence.StandardKey.Open, "Open a saved network (.npz)")
        self.open_pretrained_action = action(f, "openPretrainedAction", "Open &pretrained",
                                             self.open_pretrained, None, "Open the network shipped with nnstudio")
        self.reopen_action = action(f, "reopenModelAction", "&Reopen last model", self._reopen_last)
        self.save_action = action(f, "saveModelAction", "&Save model…", self._save_model_dialog,
                                  QtGui.QKeySequence.StandardKey.Save, "Save the network as it is now (.npz)")
        f.addSeparator()
        self.export_png_action = action(f, "exportPlotsAction", "Export plots as &PNG…", self._export_png_dialog)
        self.export_csv_action = action(f, "exportHistoryAction", "Export history as &CSV…", self._export_csv_dialog)
        f.addSeparator()
        action(f, "quitAction", "&Quit", self.request_quit, QtGui.QKeySequence.StandardKey.Quit)

        t = mb.addMenu("&Training")
        a = self.actions
        for act in (a.play, a.step_batch, a.step_epoch):
            t.addAction(act)
        t.addSeparator()
        t.addAction(a.rewind)
        t.addAction(a.reset)
        t.addSeparator()
        t.addAction(a.faster)
        t.addAction(a.slower)
        # shortcuts also work while a floating dock has the focus
        for d in self.docks:
            d.addActions(a.all())

        v = mb.addMenu("&View")
        for d in self.docks:
            toggle = d.toggleViewAction()
            toggle.setObjectName(f"{d.objectName()}Toggle")
            v.addAction(toggle)
        v.addSeparator()
        self.epochs_axis_action = action(v, "plotEpochsAxisAction", "Plot against &epochs",
                                         lambda on: self.plots.set_x_mode("epochs" if on else "examples"))
        self.epochs_axis_action.setCheckable(True)
        self.plots.x_toggle.toggled.connect(self.epochs_axis_action.setChecked)
        action(v, "resetPlotViewAction", "Reset plot &view", self.plots.reset_view, "Ctrl+0",
               "Fit the plots to their data again")
        v.addSeparator()
        self.light_action = action(v, "lightThemeAction", "&Light theme", self._theme_toggled)
        self.light_action.setCheckable(True)
        action(v, "resetLayoutAction", "Reset &layout", self.reset_layout)

        h = mb.addMenu("&Help")
        action(h, "aboutAction", "&About nnstudio", self._about)

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        sb.setObjectName("statusBar")
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.load_progress = QtWidgets.QProgressBar()
        self.load_progress.setObjectName("loadProgress")
        self.load_progress.setMaximumWidth(240)
        self.load_progress.setMaximumHeight(16)
        self.load_progress.setTextVisible(True)
        self.load_progress.hide()
        sb.addPermanentWidget(self.load_progress)
        self.state_label = QtWidgets.QLabel("starting")
        self.state_label.setObjectName("statusState")
        self.state_label.setProperty("statusField", True)
        self.state_label.setMinimumWidth(90)
        sb.addPermanentWidget(self.state_label)
        self.status_labels = {}
        for key, tip in (
            ("epoch", "epoch in progress (1-based)"),
            ("batch", "mini-batch within the epoch"),
            ("examples", "training examples seen since the start or the last rewind"),
            ("speed", "training speed, examples per second"),
            ("lr", "learning rate η of the next mini-batch"),
        ):
            lab = QtWidgets.QLabel()
            lab.setObjectName(f"status{key.capitalize() if key != 'lr' else 'LearningRate'}")
            lab.setFont(mono)
            lab.setToolTip(tip)
            lab.setProperty("statusField", True)
            sb.addPermanentWidget(lab)
            self.status_labels[key] = lab
        self._update_status(force=True)

    def _connect_controls(self) -> None:
        a, c = self.actions, self.controls
        a.play.triggered.connect(self.toggle_play)
        a.step_batch.triggered.connect(self.step_batch)
        a.step_epoch.triggered.connect(self.step_epoch)
        a.rewind.triggered.connect(self.rewind)
        a.reset.triggered.connect(self.reset_new_seed)
        c.learningRateChanged.connect(self._lr_changed)
        c.batchSizeChanged.connect(self._bs_changed)
        c.epochsChanged.connect(self._epochs_changed)
        c.speedChanged.connect(self._speed_changed)
        c.architectureEdited.connect(self._architecture_edited)
        c.datasetChosen.connect(self._dataset_chosen)

    # ================================================================== settings
    def _restore_settings(self) -> None:
        s = self.settings
        c = self.controls
        c.set_hyper(
            learning_rate=max(1e-4, _setting(s, "train/learning_rate", 1.5, float)),
            batch_size=max(1, _setting(s, "train/batch_size", 10, int)),
            epochs=max(0, _setting(s, "train/epochs", 30, int)),
        )
        sizes = _setting(s, "net/sizes", DEFAULT_SIZES_TEXT, str)
        try:
            parse_sizes(sizes)
        except ValueError:
            sizes = DEFAULT_SIZES_TEXT
        c.set_architecture(parse_sizes(sizes), _setting(s, "net/activation", "sigmoid", str),
                           _setting(s, "net/cost", "quadratic", str), _setting(s, "net/init", "scaled", str),
                           max(0, _setting(s, "net/seed", 0, int)))
        c.set_speed(_setting(s, "train/speed", 0.0, float))
        self.worker.set_speed(c.speed())
        self.plots.set_x_mode(_setting(s, "plots/x_mode", "examples", str))
        light = _setting(s, "window/light_theme", False, bool)
        self.light_action.setChecked(light)
        if light:
            self._apply_theme(dark=False)
        geo = s.value("window/geometry")
        if isinstance(geo, (QtCore.QByteArray, bytes)) and geo:
            self.restoreGeometry(QtCore.QByteArray(geo))
        state = s.value("window/state")
        if isinstance(state, (QtCore.QByteArray, bytes)) and state:
            if self.restoreState(QtCore.QByteArray(state), STATE_VERSION):
                self._default_sizes_pending = False
        last = _setting(s, "model/last_path", "", str)
        self.reopen_action.setEnabled(bool(last))
        if last:
            self.reopen_action.setText(f"&Reopen {Path(last).name}")

    def save_settings(self) -> None:
        s = self.settings
        c = self.controls
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(STATE_VERSION))
        s.setValue("window/light_theme", self.light_action.isChecked())
        s.setValue("train/learning_rate", float(c.lr_input.value()))
        s.setValue("train/batch_size", int(c.batch_input.value()))
        s.setValue("train/epochs", int(c.epochs_input.value()))
        s.setValue("train/speed", c.speed())
        try:
            arch = c.architecture()
            s.setValue("net/sizes", sizes_text(arch["sizes"]))
        except ValueError:
            arch = dict(self._arch or {})
        for k in ("activation", "cost", "init", "seed"):
            if k in arch:
                s.setValue(f"net/{k}", arch[k])
        if self.dataset_key:
            s.setValue("data/dataset", self.dataset_key)
        s.setValue("plots/x_mode", self.plots.x_mode)
        s.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state, STATE_VERSION)
        for d in self.docks:
            d.setFloating(False)
            d.show()
        self.draw_dock.raise_()
        self._apply_default_sizes()

    # ================================================================== theme
    def _theme_toggled(self, light: bool) -> None:
        self._apply_theme(dark=not light)

    def _apply_theme(self, dark: bool) -> None:
        from nnstudio.gui.style.palette import apply_theme

        app = QtWidgets.QApplication.instance()
        if app is not None:
            apply_theme(app, dark=dark)
        self.plots.apply_theme(dark)
        self.actions.apply_theme(dark)
        # The network views keep the videos' dark look in both themes (their colours are the
        # 3b1b palette): they get the dark palette whatever the chrome uses.
        from nnstudio.gui.style.palette import app_palette as _palette

        dark_palette = _palette(True)
        for d in (self.draw_dock, self.backprop_dock, self.gradient_dock, self.evaluation_dock):
            d.widget().setPalette(dark_palette)
        self.centralWidget().setPalette(dark_palette)
        self.plots.refresh(self.history)
        self._update_status(force=True)

    # ================================================================== startup and datasets
    def start(self, model: str | os.PathLike | None = None) -> None:
        """Load the last dataset (in a thread) and then ``model`` if given."""
        self._pending_model = model
        key = _setting(self.settings, "data/dataset", "mnist-sample", str) or "mnist-sample"
        from nnstudio.data import DATASETS, dataset_status

        fallback_reason = None
        if key in DATASETS and key != "mnist-sample" and dataset_status(key) != "cached":
            fallback_reason = f"{key} is not downloaded yet; pick it in the Dataset list to download it"
        elif key not in DATASETS and not Path(key).is_dir():
            fallback_reason = f"the folder {key} is gone"
        if fallback_reason:
            self.statusBar().showMessage(f"Using the embedded mnist-sample: {fallback_reason}", 10000)
            key = "mnist-sample"
        self.load_dataset(key, initial=True)

    def load_dataset(self, key: str, initial: bool = False) -> None:
        """Load ``key`` (a dataset name or folder) in a thread; on success it replaces the data."""
        if self._loader is not None:
            return
        from nnstudio.data import DATASETS, dataset_status

        downloading = key in DATASETS and key != "mnist-sample" and dataset_status(key) != "cached"
        loader = DatasetLoader(key, download=True, parent=self)
        loader.loaded.connect(self._dataset_loaded)
        loader.failed.connect(self._dataset_failed)
        loader.progressed.connect(self._load_progress)
        loader.finished.connect(self._loader_finished)
        self._loader = loader
        self._loaders.add(loader)
        self.controls.dataset_input.setEnabled(False)
        self.load_progress.setRange(0, 0)
        self.load_progress.setFormat(f"loading {Path(key).name if key not in DATASETS else key}…")
        self.load_progress.show()
        self.state_label.setText("Loading data")
        if downloading:
            dlg = QtWidgets.QProgressDialog(f"Downloading {key}…", "Cancel", 0, 100, self)
            dlg.setObjectName("downloadDialog")
            dlg.setWindowTitle("Downloading dataset")
            dlg.setWindowModality(Qt.WindowModality.WindowModal)
            dlg.setMinimumDuration(0)
            dlg.setAutoClose(False)
            dlg.setAutoReset(False)
            dlg.setValue(0)
            dlg.canceled.connect(loader.cancel)
            dlg.show()
            self._load_dialog = dlg
        loader.start()

    def cancel_download(self) -> None:
        if self._loader is not None:
            self._loader.cancel()

    @Slot(object, object, str)
    def _load_progress(self, done, total, name) -> None:
        if total:
            pct = int(100 * done / total)
            self.load_progress.setRange(0, 100)
            self.load_progress.setValue(min(100, pct))
            self.load_progress.setFormat(f"{name} %p%")
            if self._load_dialog is not None:
                self._load_dialog.setValue(min(100, pct))
                self._load_dialog.setLabelText(f"Downloading {name}… {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    def _close_load_ui(self) -> None:
        self._loader = None
        self.load_progress.hide()
        self.controls.dataset_input.setEnabled(True)
        if self._load_dialog is not None:
            self._load_dialog.canceled.disconnect()
            self._load_dialog.close()
            self._load_dialog.deleteLater()
            self._load_dialog = None

    @Slot()
    def _loader_finished(self) -> None:
        loader = self.sender()
        if isinstance(loader, DatasetLoader):
            self._loaders.discard(loader)
            loader.deleteLater()

    @Slot(object)
    def _dataset_loaded(self, ds) -> None:
        loader = self._loader
        key = loader.key if loader is not None else ds.name
        self._close_load_ui()
        if self._closing:
            return
        self.dataset = ds
        self.dataset_key = key
        info = f"{ds.n_train:,} training / {ds.n_test:,} test images"
        self.controls.show_dataset(key, info)
        self.history.n_train = ds.n_train
        # keep the architecture valid for this dataset (784 inputs, one output per class)
        arch = self._typed_architecture()
        sizes = list(arch["sizes"])
        if sizes[0] != 784 or sizes[-1] != ds.n_classes:
            sizes[0], sizes[-1] = 784, ds.n_classes
            self.controls.set_architecture(sizes, arch["activation"], arch["cost"], arch["init"], arch["seed"])
        self._new_trainer()
        for v in self.studio_views():
            try:
                v.set_dataset(ds)
            except Exception:
                log.error("%s.set_dataset failed:\n%s", type(v).__name__, traceback.format_exc())
        self.set_current_input(self.example("test", 0))
        self.statusBar().showMessage(f"Loaded {ds.name}: {info}", 5000)
        self.datasetReady.emit(ds)
        if self._pending_model is not None:
            model, self._pending_model = self._pending_model, None
            self.open_model(model, ask=False)

    @Slot(str, bool)
    def _dataset_failed(self, message: str, cancelled: bool) -> None:
        loader = self._loader
        self._close_load_ui()
        if self._closing:
            return
        if self.dataset_key is not None:
            self.controls.show_dataset(self.dataset_key)
        if cancelled:
            self.statusBar().showMessage(f"Download cancelled; still using {self.dataset_key}", 6000)
        else:
            still = (f"nnstudio keeps using {self.dataset_key}." if self.dataset_key
                     else "nnstudio uses the embedded mnist-sample instead.")
            self.show_message("warning", "Could not load the dataset", f"{message}\n\n{still}")
        self._update_status(force=True)
        if self.dataset is None and (loader is None or loader.key != "mnist-sample"):
            self.load_dataset("mnist-sample", initial=True)

    def _dataset_chosen(self, choice: str) -> None:
        if choice == FOLDER_ITEM:
            start = self.dataset_key if self.dataset_key and Path(self.dataset_key).is_dir() else str(Path.home())
            folder = self.ask_folder("Choose a folder with the four MNIST IDX files", start)
            if not folder:
                self.controls.show_dataset(self.dataset_key or "mnist-sample")
                return
            choice = str(folder)
        if choice == self.dataset_key:
            return
        if self.is_trained() and not self.confirm_discard(f"Switching to {Path(choice).name} starts a new network."):
            self.controls.show_dataset(self.dataset_key or "mnist-sample")
            return
        self.pause()
        self.load_dataset(choice)

    def example(self, split: str, index: int, source: str | None = None, **extra) -> InputExample | None:
        """Example ``index`` of the current dataset's split as an InputExample."""
        ds = self.dataset
        if ds is None:
            return None
        images = ds.test_x if split == "test" else ds.train_x
        labels = ds.test_labels if split == "test" else ds.train_labels
        if not 0 <= index < len(images):
            return None
        return InputExample(
            pixels=images[index] * (1.0 / 255.0), label=int(labels[index]),
            source=source or f"{split} #{index}", index=int(index), split=split, extra=extra,
        )

    # ================================================================== the trainer
    def _typed_architecture(self) -> dict:
        try:
            return self.controls.architecture()
        except ValueError:
            self.controls.revert_sizes()
            return self.controls.architecture()

    def _new_trainer(self, network=None) -> None:
        """Build a trainer for the current dataset and settings and hand it to the worker."""
        from nnstudio.core import Network, Trainer

        ds = self.dataset
        c = self.controls
        arch = self._typed_architecture()
        fresh = network is None
        if fresh:
            network = Network(arch["sizes"], activation=arch["activation"], cost=arch["cost"],
                              init=arch["init"], seed=arch["seed"])
        trainer = Trainer(
            network, ds.train_x, ds.train_labels, ds.test_x, ds.test_labels,
            learning_rate=float(c.lr_input.value()), batch_size=int(c.batch_input.value()),
            epochs=int(c.epochs_input.value()) or None, seed=arch["seed"],
        )
        trainer.fresh_start = fresh
        self._arch = {"sizes": tuple(network.sizes), "activation": network.activation.name,
                      "cost": network.cost.name, "init": network.init, "seed": arch["seed"]}
        self.controls.accept_sizes()
        self.worker.set_trainer(trainer)  # the GUI never touches it again
        self.actions.set_enabled(True)
        self._update_title()

    def is_trained(self) -> bool:
        """True if discarding the current network would lose training (or a loaded model)."""
        return self.history.n > 0 or self._trained_elsewhere

    def confirm_discard(self, what: str) -> bool:
        """Ask before throwing away a trained network (tests replace this method)."""
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("confirmDiscardDialog")
        box.setIcon(QtWidgets.QMessageBox.Icon.Question)
        box.setWindowTitle("Discard the trained network?")
        box.setText(f"{what}\n\nThe network trained so far will be discarded (save it first with File ▸ Save model).")
        box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Discard
                               | QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        return box.exec() == QtWidgets.QMessageBox.StandardButton.Discard

    def _architecture_edited(self) -> None:
        c = self.controls
        try:
            arch = c.architecture()
        except ValueError as e:
            self.statusBar().showMessage(str(e), 8000)
            c.revert_sizes()
            return
        if self.dataset is None or self._arch is None:
            return
        n_out = self.dataset.n_classes
        if arch["sizes"][0] != 784 or arch["sizes"][-1] != n_out:
            msg = (f"The first layer must have 784 neurons (28×28 pixels) and the last {n_out} "
                   f"(one per class), not {sizes_text(arch['sizes'])}")
            self.statusBar().showMessage(msg, 10000)
            c._set_sizes_error(msg)
            return
        if arch == self._arch:
            return
        if self.is_trained() and not self.confirm_discard("Changing the network starts it again from random weights."):
            c.set_architecture(**self._arch)
            return
        self._trained_elsewhere = False
        self._new_trainer()
        self.statusBar().showMessage(f"New network {sizes_text(arch['sizes'])} ({arch['activation']}, "
                                     f"{arch['cost']} cost), seed {arch['seed']}", 5000)

    # ================================================================== run commands
    def toggle_play(self) -> None:
        if self._running:
            self.pause()
        else:
            self.play()

    def _can_train(self) -> bool:
        """A dataset is loaded and the run has epochs left (else say how to go on)."""
        if self.dataset is None:
            return False
        if self._state == "finished":
            self._say_finished()
            return False
        return True

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.actions.set_running(running)

    def play(self) -> None:
        if self._can_train():
            self._set_running(True)
            self.worker.play()

    def pause(self) -> None:
        self._set_running(False)
        self.worker.pause()

    def step_batch(self) -> None:
        if self._can_train():
            self._set_running(False)
            self.worker.step_batch()

    def step_epoch(self) -> None:
        if self._can_train():
            self._set_running(False)
            self.worker.step_epoch()

    def rewind(self) -> None:
        if self.dataset is None:
            return
        self.worker.rewind()
        self.statusBar().showMessage("Rewound: same initial weights and shuffle order, so the run replays exactly", 4000)

    def reset_new_seed(self) -> None:
        if self.dataset is None:
            return
        seed = int(np.random.SeedSequence().entropy % (2**31 - 1))
        self.controls.set_seed(seed)
        if self._arch is not None:
            self._arch["seed"] = seed
        self._trained_elsewhere = False
        self.worker.reset(seed)
        self.statusBar().showMessage(f"Reset: new random weights from seed {seed}", 4000)

    def _say_finished(self) -> None:
        n = self.controls.epochs_input.value()
        self.statusBar().showMessage(
            f"Training finished its {n} epochs: raise Epochs to train on, or Rewind to watch it again", 8000)

    def _lr_changed(self, eta: float) -> None:
        self.worker.set_learning_rate(eta)
        self._update_status(force=True)

    def _speed_changed(self, bps: float) -> None:
        # (a direct call: the worker's thread is busy in its loop, it has no event loop to queue to)
        self.worker.set_speed(bps)

    def _bs_changed(self, n: int) -> None:
        self.worker.set_batch_size(n)

    def _epochs_changed(self, n: int) -> None:
        self.worker.set_epochs(n or None)
        if self._state == "finished":
            self._state = "paused"
            self._update_status(force=True)

    # ================================================================== worker signals
    def _drain(self) -> None:
        """Move every mini-batch report the worker produced into the history (none dropped)."""
        items = self._inbox.drain()
        if not items:
            return
        n_reports = len(items)
        if self._inbox.markers == self._markers_seen:  # the usual case: all of the current run
            reports = items
        else:
            reports = []
            for item in items:
                if type(item) is int:  # a new run starts here
                    n_reports -= 1
                    self._markers_seen += 1
                    self.history.extend(reports)
                    reports = []
                    self._start_run(item)
                else:
                    reports.append(item)
        if reports:
            self.history.extend(reports)
            self._last_report = reports[-1]
        self._consumed += n_reports
        problem = getattr(self.history, "spool_error", None)
        if problem and problem != self._spool_said:  # (disk full, or the history's disk cap reached)
            self._spool_said = problem
            log.warning("%s", problem)
            self.statusBar().showMessage(problem, 20000)
        self.worker.consumed = self._consumed  # lets the worker see the GUI keeps up

    def _start_run(self, gen: int) -> None:
        self._gen = gen
        self.history.clear()
        self._last_report = None
        self._rate = (time.perf_counter(), 0, 0.0)

    def sync_worker(self, token: int = 0) -> None:
        """Round trip to the worker; ``workerSynced(token)`` is emitted when it is back."""
        self.worker.ping(token)

    @Slot(int)
    def _on_pong(self, token: int) -> None:
        self._drain()
        self.workerSynced.emit(token)

    @Slot(object)
    def _on_snapshot(self, snap) -> None:
        self.latest_snapshot = snap
        self._snapshot_dirty = True

    @Slot(str)
    def _on_state(self, state: str) -> None:
        self._drain()
        self._state = state
        running = state == "running"
        if running != self._running:
            self._running = running
            self.actions.set_running(running)
        self._update_status(force=True)
        if state == "finished":
            self._say_finished()
        if state in ("paused", "finished"):
            self.trainingPaused.emit()

    @Slot(object, int)
    def _on_restarted(self, snap, gen: int) -> None:
        self._drain()  # the old run's last reports first (and the marker of this run)
        if gen > self._gen:
            self._start_run(gen)
        self.latest_snapshot = snap
        self._snapshot_dirty = True
        self._update_status(force=True)

    @Slot(object)
    def _on_batch_shown(self, r) -> None:
        self._drain()
        ds = self.dataset
        if ds is None or not len(r.indices) or int(r.indices[0]) >= ds.n_train:
            return
        ex = self.example("train", int(r.indices[0]), source=f"mini-batch {r.batch + 1} of epoch {r.epoch + 1}",
                          batch_indices=np.array(r.indices))
        self.set_current_input(ex)

    @Slot(object)
    def _on_diverged(self, r) -> None:
        self._drain()
        self._running = False
        self.actions.set_running(False)
        eta = r.learning_rate
        text = (f"The cost became infinite at epoch {r.epoch + 1}, mini-batch {r.batch + 1}: with a learning "
                f"rate of η = {eta:g} each step overshoots, so the weights blow up instead of going downhill.\n\n"
                f"Training is paused and the last good weights were restored. Lower the learning rate "
                f"(try η = {eta / 10:g}) and press Play again.")
        self.statusBar().showMessage(f"Diverged at η = {eta:g}: paused, last good weights kept; lower the learning rate",
                                     15000)
        self.show_message("warning", "Training diverged", text)

    @Slot(str)
    def _on_worker_error(self, message: str) -> None:
        self._running = False
        self.actions.set_running(False)
        self.show_message("error", "Training stopped", message)

    # ================================================================== display
    @Slot()
    def _tick(self) -> None:
        """Display timer: take in the reports; when a frame is due, redraw the plots, hand the
        latest snapshot to the (visible) views and update the status bar."""
        self._drain()
        now = time.perf_counter()
        if self._phase == 1:
            # second half of the frame, one timer tick after the first: the views and the
            # status bar (splitting the frame keeps each stretch of GUI work short)
            self._phase = 0
            self.pacer.hold(True)
            try:
                self._frame_views()
            finally:
                self.pacer.hold(False)
                self.pacer.add(time.perf_counter() - now)
            return
        speed = self.controls.speed()
        if self._state != "running" or 0 < speed <= DISPLAY_HZ:
            budget = 1.0  # the worker is idle or mostly sleeping: frames at display rate
        elif speed:
            budget = 0.5
        elif getattr(self.worker, "separate_process", False):
            budget = PROCESS_GUI_BUDGET
        else:
            budget = FULL_SPEED_GUI_BUDGET
        # at full speed frames are few: tick less often too (every tick takes the GIL)
        interval = int(1000 / DISPLAY_HZ) if budget == 1.0 else int(2000 / DISPLAY_HZ)
        if self._timer.interval() != interval:
            self._timer.setInterval(interval)
        if not self.pacer.due(now, budget):
            return
        # snapshots no more often than frames are drawn (each is a copy of the network)
        self.worker.set_snapshot_interval(self.pacer.interval)
        self.pacer.begin(now)
        try:
            self._frame_plots()
        finally:
            self.pacer.end(time.perf_counter())
        self._phase = 1

    def event(self, ev) -> bool:
        # the window's UpdateRequest paints every dirty widget: time it for the frame pacer
        if ev.type() == QtCore.QEvent.Type.UpdateRequest:
            pacer = self.__dict__.get("pacer")
            if pacer is not None:
                t0 = time.perf_counter()
                pacer.hold(True)
                try:
                    return super().event(ev)
                finally:
                    pacer.hold(False)
                    pacer.add(time.perf_counter() - t0)
        return super().event(ev)

    def _frame_plots(self) -> None:
        if self._shown(self.plots):
            self.plots.refresh(self.history)

    def _frame_views(self) -> None:
        snap = self.latest_snapshot
        if snap is not None:
            for v in self.studio_views():
                # a view hidden behind a tab gets the latest snapshot when it is shown
                if self._delivered.get(id(v)) is snap or not self._shown(v):
                    continue
                self._delivered[id(v)] = snap
                try:
                    v.set_snapshot(snap)
                except Exception:
                    log.error("%s.set_snapshot failed:\n%s", type(v).__name__, traceback.format_exc())
        self._update_status()

    @staticmethod
    def _shown(widget) -> bool:
        """On screen now (not hidden, not behind another tab of a dock)?"""
        return widget.isVisible() and not widget.visibleRegion().isEmpty()

    def _update_status(self, force: bool = False) -> None:
        h = self.history
        if not force and h.version == self._status_version:
            now = time.perf_counter()
            if self._rate[2] and now - self._rate[0] > 1.0 and self._state != "running":
                self._rate = (now, self._rate[1], 0.0)
                self._set_status("speed", "—")
            return
        self._status_version = h.version
        r = self._last_report
        lr = float(self.controls.lr_input.value())
        if r is None:
            self._set_status("epoch", "epoch —")
            self._set_status("batch", "batch —")
            self._set_status("examples", f"{0:>10,} seen")
        else:
            bpe = math.ceil(h.n_train / max(1, r.batch_size)) if h.n_train else 0
            self._set_status("epoch", f"epoch {r.epoch + 1:>3}")
            self._set_status("batch", f"batch {r.batch + 1:>5}/{bpe}")
            self._set_status("examples", f"{r.examples_seen:>10,} seen")
            now = time.perf_counter()
            t0, seen0, rate = self._rate
            if r.examples_seen < seen0:
                self._rate = (now, r.examples_seen, 0.0)
            elif now - t0 >= 0.5:
                rate = (r.examples_seen - seen0) / (now - t0)
                self._rate = (now, r.examples_seen, rate)
        rate = self._rate[2]
        self._set_status("speed", f"{rate:>8,.0f} ex/s" if rate else "   — ex/s")
        self._set_status("lr", f"η {lr:g}")
        state = {"running": "Training", "paused": "Paused", "finished": "Finished", "idle": "Loading"}.get(
            self._state, self._state)
        if self._loader is not None:
            state = "Loading data"
        self.state_label.setText(state)

    def _set_status(self, key: str, text: str) -> None:
        lab = self.status_labels[key]
        if lab.text() != text:
            lab.setText(text)

    def _update_title(self) -> None:
        arch = self._arch or {}
        ds = self.dataset
        parts = []
        if arch:
            parts.append(sizes_text(arch["sizes"]))
        if ds is not None:
            parts.append(ds.name if len(ds.name) < 40 else Path(ds.name).name)
        self.setWindowTitle(f"{APP_NAME} — {' on '.join(parts) if parts else 'watch a neural network learn'}")

    # ================================================================== the current input
    @Slot(object)
    def set_current_input(self, example) -> None:
        """Make ``example`` the current input of every view (coalesced to one call per event-loop turn)."""
        first = self._pending_input is None
        self._pending_input = (example,)
        if first:
            QtCore.QTimer.singleShot(0, self._distribute_input)

    def _distribute_input(self) -> None:
        if self._pending_input is None:
            return
        (example,), self._pending_input = self._pending_input, None
        self.current_input = example
        for v in self.studio_views():
            try:
                v.set_input(example)
            except Exception:
                log.error("%s.set_input failed:\n%s", type(v).__name__, traceback.format_exc())
        self.inputChanged.emit(example)

    @Slot(str)
    def _view_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)

    # ================================================================== messages and dialogs
    def show_message(self, level: str, title: str, text: str) -> None:
        """Tell the user something in a (non-blocking) dialog; recorded in :attr:`messages`."""
        self.messages.append((level, title, text))
        log.info("%s: %s: %s", level, title, text)
        if self._closing:
            return
        icon = {"error": QtWidgets.QMessageBox.Icon.Critical, "warning": QtWidgets.QMessageBox.Icon.Warning}.get(
            level, QtWidgets.QMessageBox.Icon.Information)
        box = self._message_box
        if box is None:
            box = self._message_box = QtWidgets.QMessageBox(self)
            box.setObjectName("messageDialog")
            box.setStandardButtons(QtWidgets.QMessageBox.StandardButton.Ok)
            box.setWindowModality(Qt.WindowModality.NonModal)
        box.setIcon(icon)
        box.setWindowTitle(title)
        box.setText(text)
        box.show()

    def ask_open_path(self, title: str, start: str, filters: str) -> str | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, title, start, filters)
        return path or None

    def ask_save_path(self, title: str, start: str, filters: str) -> str | None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, title, start, filters)
        return path or None

    def ask_folder(self, title: str, start: str) -> str | None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, title, start)
        return path or None

    def _start_dir(self) -> str:
        last = _setting(self.settings, "model/last_path", "", str)
        if last and Path(last).parent.is_dir():
            return str(Path(last).parent)
        return str(Path.home())

    # ================================================================== model files
    def _open_model_dialog(self) -> None:
        path = self.ask_open_path("Open a network", self._start_dir(), "nnstudio models (*.npz);;All files (*)")
        if path:
            self.open_model(path)

    def _reopen_last(self) -> None:
        last = _setting(self.settings, "model/last_path", "", str)
        if last:
            self.open_model(last)

    def open_pretrained(self) -> None:
        from nnstudio.cli import shipped_model_path

        path = shipped_model_path()
        if not path.is_file():
            self.show_message(
                "info", "No pretrained network yet",
                f"This copy of nnstudio has no pretrained network yet (it would be {path}).\n\n"
                "Train one here and save it with File ▸ Save model, or run "
                "'nnstudio train --data mnist --out model.npz' and open that file.")
            return
        self.open_model(path)

    def open_model(self, path, ask: bool = True) -> bool:
        """Load a saved network and continue training from it.  Errors go to a dialog."""
        from nnstudio.core import ModelFileError, load_model

        path = Path(path)
        if self.dataset is None:
            self._pending_model = path
            return False
        try:
            net, meta = load_model(path, with_metadata=True)
        except ModelFileError as e:
            self.show_message("error", "Could not open the model", str(e))
            return False
        n_out = self.dataset.n_classes
        if net.sizes[0] != 784 or net.sizes[-1] != n_out:
            self.show_message("error", "Could not open the model",
                              f"{path.name}: a {sizes_text(net.sizes)} network cannot read {self.dataset.name} "
                              f"(it needs 784 inputs and {n_out} outputs)")
            return False
        if ask and self.is_trained() and not self.confirm_discard(f"Opening {path.name} replaces the current network."):
            return False
        seed = meta.get("seed") if isinstance(meta.get("seed"), int) else None
        self.controls.set_architecture(net.sizes, net.activation.name, net.cost.name, net.init, seed)
        # train on with the hyper-parameters it was trained with, when the file says
        lr, bs = meta.get("learning_rate"), meta.get("batch_size")
        self.controls.set_hyper(
            learning_rate=float(lr) if isinstance(lr, (int, float)) and 1e-4 <= lr <= 100 else None,
            batch_size=int(bs) if isinstance(bs, int) and 1 <= bs <= 10000 else None,
        )
        self._new_trainer(network=net)
        self._update_status(force=True)
        self._trained_elsewhere = True
        self._saved_at = None  # (nothing trained on it yet: quitting does not ask)
        self.settings.setValue("model/last_path", str(path.resolve()))
        self.reopen_action.setEnabled(True)
        self.reopen_action.setText(f"&Reopen {path.name}")
        acc = meta.get("accuracy")
        extra = f" (test accuracy {100 * acc:.2f} % when saved)" if isinstance(acc, (int, float)) else ""
        self.statusBar().showMessage(f"Opened {path.name}: {net.describe()}{extra}", 8000)
        self.setWindowTitle(f"{APP_NAME} — {path.name}")
        return True

    def _save_model_dialog(self) -> bool:
        start = str(Path(self._start_dir()) / f"nnstudio-{sizes_text((self._arch or {}).get('sizes', (784, 16, 16, 10)))}.npz")
        path = self.ask_save_path("Save the network", start, "nnstudio models (*.npz)")
        if path:
            if not path.endswith(".npz"):
                path += ".npz"
            return self.save_model(path)
        return False

    def save_model(self, path) -> bool:
        """Save the network as last shown (the latest snapshot).  Errors go to a dialog."""
        from nnstudio import __version__
        from nnstudio.core import ModelFileError, save_model

        snap = self.latest_snapshot
        if snap is None:
            self.show_message("info", "Nothing to save", "There is no network yet (the dataset is still loading).")
            return False
        h = self.history
        acc = h.epochs[-1][3] if h.epochs else None
        arch = self._arch or {}
        try:
            out = save_model(
                snap.network, path,
                dataset=self.dataset.name if self.dataset is not None else None,
                sizes=list(snap.network.sizes), activation=snap.network.activation.name,
                cost=snap.network.cost.name, init=snap.network.init, seed=arch.get("seed"),
                learning_rate=float(self.controls.lr_input.value()), batch_size=int(self.controls.batch_input.value()),
                epochs=snap.epoch, steps=snap.step, examples_seen=snap.examples_seen, accuracy=acc,
                history=[{"epoch": e[0], "train_cost": e[2], "accuracy": e[3], "test_cost": e[4]} for e in h.epochs],
                nnstudio_version=__version__, saved_by="nnstudio studio",
            )
        except ModelFileError as e:
            self.show_message("error", "Could not save the model", str(e))
            return False
        self._saved_at = (self._gen, snap.step)
        self.settings.setValue("model/last_path", str(Path(out).resolve()))
        self.reopen_action.setEnabled(True)
        self.reopen_action.setText(f"&Reopen {Path(out).name}")
        self.statusBar().showMessage(f"Saved {Path(out).name} (after {snap.step:,} mini-batches)", 6000)
        return True

    def _export_png_dialog(self) -> None:
        path = self.ask_save_path("Export the plots", str(Path(self._start_dir()) / "nnstudio-plots.png"),
                                  "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            self.export_plots(path)

    def export_plots(self, path) -> bool:
        try:
            self.plots.refresh(self.history)
            self.plots.export_png(path)
        except OSError as e:
            self.show_message("error", "Could not export the plots", f"{Path(path).name}: {e.strerror or e}")
            return False
        self.statusBar().showMessage(f"Plots saved to {path}", 5000)
        return True

    def _export_csv_dialog(self) -> None:
        path = self.ask_save_path("Export the training history", str(Path(self._start_dir()) / "nnstudio-history.csv"),
                                  "CSV files (*.csv)")
        if path:
            if not path.lower().endswith(".csv"):
                path += ".csv"
            self.export_history(path)

    def export_history(self, path) -> bool:
        try:
            self.history.to_csv(path)
        except OSError as e:
            self.show_message("error", "Could not export the history", f"{Path(path).name}: {e.strerror or e}")
            return False
        export = getattr(self.history, "last_export", None)
        if export is not None and not export.complete:  # (the history's disk was full or capped)
            self.show_message("warning", "History exported in part", f"{Path(path).name}: {export.note}")
            return True
        self.statusBar().showMessage(f"History ({self.history.n:,} mini-batches) saved to {path}", 5000)
        return True

    def _about(self) -> None:
        from nnstudio import __version__

        QtWidgets.QMessageBox.about(
            self, "About nnstudio",
            f"<h3>nnstudio {__version__}</h3><p>Watch a neural network learn to read handwritten digits, "
            "after 3Blue1Brown's <i>Neural networks</i> videos.</p>"
            "<p>Cost of one example: C = Σ(a − y)² (no ½), averaged over the mini-batch; "
            "stochastic gradient descent on mini-batches; backpropagation.</p>"
            "<p>MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges (CC BY-SA 3.0).</p>")

    # ================================================================== closing
    def shutdown(self) -> None:
        """Stop and join every thread (idempotent)."""
        self._closing = True
        self._timer.stop()
        for loader in list(self._loaders):
            loader.cancel()
            loader.wait(60_000)
        self.training.stop()
        # hosted views with threads of their own (landscape, evaluation): child widgets get no
        # closeEvent when the window closes, so their workers are stopped and joined here
        for v in self.views.values():
            stop = getattr(v, "shutdown", None)
            if callable(stop):
                try:
                    stop()
                except Exception:  # pragma: no cover - never keep the window from closing
                    log.error("%s.shutdown failed:\n%s", type(v).__name__, traceback.format_exc())

    def has_unsaved_training(self) -> bool:
        """True if the network was trained since it was last saved or opened."""
        r = self._last_report
        return self.history.n > 0 and r is not None and (self._gen, r.step) != self._saved_at

    def ask_save_before_quit(self) -> str:
        """Ask what to do with unsaved training: ``"save"``, ``"discard"`` or ``"cancel"``
        (tests replace this method)."""
        B = QtWidgets.QMessageBox.StandardButton
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("saveBeforeQuitDialog")
        box.setIcon(QtWidgets.QMessageBox.Icon.Question)
        box.setWindowTitle("Save the trained network?")
        box.setText("The network was trained since it was last saved.\n\nSave it before quitting?")
        box.setStandardButtons(B.Save | B.Discard | B.Cancel)
        box.setDefaultButton(B.Save)
        box.exec()
        clicked = box.standardButton(box.clickedButton()) if box.clickedButton() is not None else B.Cancel
        return "save" if clicked == B.Save else "discard" if clicked == B.Discard else "cancel"

    def request_quit(self) -> None:
        """File ▸ Quit: like the window's close button, asks about unsaved training first."""
        self._ask_on_close = True
        try:
            self.close()
        finally:
            self._ask_on_close = False

    def _may_close(self, event: QtGui.QCloseEvent) -> bool:
        # A person closing the window (close button, File ▸ Quit) is asked about unsaved
        # training; a programmatic close() (Ctrl+C in the terminal, tests) is not.
        if self._closing or not (event.spontaneous() or self._ask_on_close) or not self.has_unsaved_training():
            return True
        self.pause()
        answer = self.ask_save_before_quit()
        if answer == "save":
            return self._save_model_dialog()  # (a failed or cancelled save keeps the window open)
        return answer == "discard"

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self._may_close(event):
            event.ignore()
            return
        try:
            self.save_settings()
        except Exception:  # pragma: no cover - never keep the window from closing
            log.error("saving settings failed:\n%s", traceback.format_exc())
        self.shutdown()
        if self._message_box is not None:
            self._message_box.close()
        super().closeEvent(event)

