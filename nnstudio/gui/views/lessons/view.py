"""Guided lessons: a panel that walks a newcomer through 3Blue1Brown's four chapters, one step at a time.

Each step is a lesson file (``nnstudio/lessons/NN-name.md``, parsed by
:mod:`nnstudio.lessons.parser`): a short text whose numbers come from the live network, one
thing to try, and a setup that :class:`LessonHost` applies to the studio window: which
views to show, which network, which example, the explorer's tab, the playground's function…

:class:`LessonsView` is the panel (Back / Next, a list of all steps, progress remembered in
the settings).  :class:`LessonHost` touches the window only through its public attributes
and methods (``views``, docks, ``open_model``, ``reset_new_seed``, ``example``,
``set_current_input``, ``controls``, ``latest_snapshot``, ``current_input`` and the
``inputChanged`` / ``trainingPaused`` / ``datasetReady`` signals).
"""

from __future__ import annotations

import logging
import re
import time
import traceback

import numpy as np

from nnstudio.lessons.parser import (
    LessonError, LessonProgress, LiveContext, live_values, load_lessons, render_html, resolve_example,
)
from nnstudio.gui.style import theme
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal

log = logging.getLogger(__name__)

#: the pad's InputExample source (nnstudio.gui.views.pad.view.SOURCE)
PAD_SOURCE = "drawing pad"
#: give up waiting for a step's setup after this many seconds (and say what is missing)
SETUP_TIMEOUT = 20.0
#: the share of the window's height the bottom docks get when a step is about one of them (or not)
BOTTOM_SHARE, BOTTOM_SHARE_SECONDARY = 0.52, 0.36
#: the lessons column's width when it opens
LESSONS_WIDTH = 420
#: the live numbers are recomputed at most this often (seconds) when the window changes
MIN_RENDER_INTERVAL = 0.25
DIGITS = tuple(str(d) for d in range(10))


def _same_params(a, b) -> bool:
    if a is None or b is None or tuple(a.sizes) != tuple(b.sizes):
        return False
    return all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


# =============================================================================== the host
class LessonHost(QtCore.QObject):
    """Applies a lesson's setup to a :class:`~nnstudio.gui.window.mainwindow.MainWindow`, in phases.

    ``begin(lesson)`` starts; ``poll()`` advances as far as the window allows and returns
    "waiting", "ready" or "failed" (call it again when the window signals).  The phases:

    1. *dataset*: the lessons are about digits, so a dataset of other classes is swapped for
       MNIST (or the embedded sample);
    2. *network*: open the pretrained network (File ▸ Open pretrained) or start fresh random
       weights, then wait for the worker's new snapshot;
    3. *views*: show and raise the step's docks and tabs, make the step's example the current
       input, wait until it is distributed (and the explorer holds the new network);
    4. *details*: the explorer's tab, neuron and parameter, the playground's function and
       learning rate, the evaluation page, the trainer's speed — then "ready".
    """

    changed = Signal()  # the setup advanced or finished (poll again / re-render)

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.lesson = None
        self.phase = "idle"
        self.problems: list[str] = []
        self._pretrained = None  # (Network | None, error message)
        self._touched = False  # the lessons have put a network in place this session
        self._declined = False  # the learner chose to keep their own network
        self._before = None  # the snapshot before a network change
        self._wanted = None  # "pretrained" | "fresh" | None
        self._dataset_requested = False
        self._expected = None  # (kind, split, index)
        self._t0 = 0.0
        self.example_index = None

    # ------------------------------------------------------------------ window access
    def widget(self, name: str):
        w = self.window
        if name == "plots":
            return getattr(w, "plots", None)
        if name == "training":
            return getattr(w, "controls", None)
        return getattr(w, "views", {}).get(name)

    def view(self, name: str, method: str | None = None):
        """The hosted view ``name`` if it is real (not a placeholder) and has ``method``."""
        v = self.widget(name)
        if v is None or (method is not None and not hasattr(v, method)):
            return None
        return v

    def show_view(self, name: str) -> None:
        """Make ``name`` visible: show and raise its dock, select the tabs that hold it."""
        w = self.widget(name)
        if w is None:
            return
        child, parent = w, w.parentWidget()
        docks = []
        while parent is not None and parent is not self.window:
            if isinstance(parent, QtWidgets.QDockWidget):
                docks.append(parent)
            if isinstance(parent, QtWidgets.QStackedWidget) and isinstance(parent.parentWidget(), QtWidgets.QTabWidget):
                parent.parentWidget().setCurrentWidget(child)
            child, parent = parent, parent.parentWidget()
        for d in docks:
            if not d.isVisible():
                d.show()
            d.raise_()

    def is_shown(self, name: str) -> bool:
        w = self.widget(name)
        return w is not None and w.isVisible() and not w.visibleRegion().isEmpty()

    def pretrained(self):
        """The shipped pretrained network (loaded once), or None."""
        if self._pretrained is None:
            from nnstudio.cli import shipped_model_path
            from nnstudio.core import ModelFileError, load_model

            path = shipped_model_path()
            try:
                self._pretrained = (load_model(path), "")
            except ModelFileError as e:
                self._pretrained = (None, str(e))
        return self._pretrained[0]

    def network(self):
        snap = self.window.latest_snapshot
        return None if snap is None else snap.network

    # ------------------------------------------------------------------ setting up
    def begin(self, lesson, again: bool = False) -> None:
        self.lesson = lesson
        self.problems = []
        self.phase = "dataset"
        self._wanted = None
        self._expected = None
        self.example_index = None
        self._dataset_requested = False
        self._t0 = time.monotonic()
        if again:
            self._declined = False

    def poll(self) -> str:
        if self.lesson is None:
            return "idle"
        try:
            return self._advance()
        except Exception as e:  # a broken step must never break the window
            log.error("lesson setup failed:\n%s", traceback.format_exc())
            self.problems.append(f"{type(e).__name__}: {e}")
            self.phase = "failed"
            return "failed"

    @property
    def waiting(self) -> bool:
        return self.phase not in ("idle", "ready", "failed")

    def _timed_out(self, what: str) -> bool:
        if time.monotonic() - self._t0 > SETUP_TIMEOUT:
            self.problems.append(f"gave up waiting for {what}")
            self.phase = "failed"
            return True
        return False

    def _advance(self) -> str:
        w = self.window
        s = self.lesson.setup
        if self.phase == "dataset":
            ds = w.dataset
            if ds is None:
                return "failed" if self._timed_out("the dataset") else "waiting"
            if tuple(ds.class_names) != DIGITS:
                if not self._dataset_requested:
                    self._dataset_requested = True
                    from nnstudio.data import dataset_status

                    key = "mnist" if dataset_status("mnist") == "cached" else "mnist-sample"
                    w.statusBar().showMessage(f"The lessons read handwritten digits: loading {key}", 6000)
                    w.load_dataset(key)
                return "failed" if self._timed_out("the MNIST dataset") else "waiting"
            self.phase = "network"
            self._start_network(s.network)
        if self.phase == "network":
            if not self._network_ready():
                return "failed" if self._timed_out("the network") else "waiting"
            self.phase = "views"
            self._start_views(s)
        if self.phase == "views":
            if not self._views_ready(s):
                return "failed" if self._timed_out("the example and the views") else "waiting"
            self.phase = "details"
        if self.phase == "details":
            self._apply_details(s)
            self.phase = "ready"
            self.changed.emit()
        return "ready" if self.phase == "ready" else self.phase

    # ------------------------------------------------------------------ network
    def _may_replace(self, what: str) -> bool:
        """Ask before the lessons first replace a network the learner trained themselves."""
        w = self.window
        if self._declined:
            return False
        if self._touched or not w.is_trained():
            return True
        if w.confirm_discard(f"The lesson {what}."):
            return True
        self._declined = True
        return False

    def _start_network(self, kind: str) -> None:
        w = self.window
        self._wanted = None
        if kind == "pretrained":
            net = self.pretrained()
            if net is None:
                self.problems.append(f"the pretrained network cannot be loaded ({self._pretrained[1]})")
                return
            if _same_params(self.network(), net):
                self._touched = True
                return
            if not self._may_replace("opens the pretrained network"):
                self.problems.append("kept your own network (the numbers are for it)")
                return
            from nnstudio.cli import shipped_model_path

            self._before = w.latest_snapshot
            if w.open_model(shipped_model_path(), ask=False):
                self._wanted = "pretrained"
                self._touched = True
            else:
                self.problems.append("the pretrained network could not be opened")
        elif kind == "fresh":
            if not self._may_replace("starts again from random weights"):
                self.problems.append("kept your own network (the numbers are for it)")
                return
            self._before = w.latest_snapshot
            w.pause()
            w.reset_new_seed()
            self._wanted = "fresh"
            self._touched = True

    def _network_ready(self) -> bool:
        if self._wanted is None:
            return self.window.latest_snapshot is not None
        snap = self.window.latest_snapshot
        if snap is None or snap is self._before:
            return False
        if self._wanted == "pretrained":
            return _same_params(snap.network, self.pretrained())
        return snap.step == 0

    # ------------------------------------------------------------------ views and example
    def _start_views(self, s) -> None:
        w = self.window
        for name in reversed(s.show):  # the first named ends on top of its tab group
            self.show_view(name)
        self._size_docks(s)
        bp = self.view("backprop", "reset")
        if bp is not None and "backprop" in s.show:
            bp.reset()  # drop the explorer's own stepped copy: back to the window's network
        spec = s.example
        self._expected = None
        if spec.keeps:
            return
        draw = self.view("draw", "load_example")
        if spec.target == "pad" and spec.clear:
            if draw is not None:
                draw.clear()
            return
        try:
            index = resolve_example(spec, w.dataset, self.network())
        except ValueError as e:
            self.problems.append(str(e))
            return
        self.example_index = index
        if spec.target == "pad" and draw is not None:
            draw.load_example(index)
            self._expected = ("pad", "test", index)
        else:
            ex = w.example(spec.split, index)
            if ex is None:
                self.problems.append(f"no {spec.split} example #{index}")
                return
            w.set_current_input(ex)
            self._expected = ("window", spec.split, index)

    def dock_of(self, name: str):
        w = self.widget(name)
        while w is not None and not isinstance(w, QtWidgets.QDockWidget):
            w = w.parentWidget()
        return w

    def _size_docks(self, s) -> None:
        """Give the bottom docks room when the step is about one of them (the diagram keeps the rest)."""
        w = self.window
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for name in s.show:
            d = self.dock_of(name)
            if d is not None and not d.isFloating() and w.dockWidgetArea(d) == bottom:
                share = BOTTOM_SHARE if name == s.primary else BOTTOM_SHARE_SECONDARY
                w.resizeDocks([d], [int(w.height() * share)], Qt.Orientation.Vertical)
                return

    def input_matches(self) -> bool:
        """The window's current input is the step's example (True if the step keeps the input)."""
        if self._expected is None:
            return True
        kind, split, index = self._expected
        ex = self.window.current_input
        if ex is None:
            return False
        if kind == "pad":
            return ex.source == PAD_SOURCE and str(ex.extra.get("example", "")).endswith(f"test #{index}")
        return ex.split == split and ex.index == index

    def _views_ready(self, s) -> bool:
        if not self.input_matches():
            return False
        snap = self.window.latest_snapshot
        if snap is None:
            return False
        bp = self.view("backprop", "show_tab")
        if "backprop" in s.show and bp is not None and not _same_params(bp.network, snap.network):
            return False  # the explorer gets the snapshot at the next display frame
        dg = self.view("diagram", "select_neuron")
        if s.neuron is not None and dg is not None and getattr(dg, "snapshot", None) is not snap:
            return False
        return True

    # ------------------------------------------------------------------ details
    def _apply_details(self, s) -> None:
        w = self.window
        net = self.network()
        ex = w.current_input
        pixels = None if ex is None else ex.pixels
        label = None if ex is None else ex.label
        dg = self.view("diagram", "select_neuron")
        if dg is not None and "diagram" in s.show:
            canvas = getattr(dg, "canvas", None)
            if s.neuron is not None and net is not None:
                try:
                    layer, index = s.neuron.resolve(net, pixels)
                    dg.select_neuron(layer, index, inspect=False)
                except ValueError as e:
                    self.problems.append(f"neuron: {e}")
            elif canvas is not None and hasattr(canvas, "clear_selection"):
                canvas.clear_selection()
        bp = self.view("backprop", "show_tab")
        if bp is not None and "backprop" in s.show:
            if s.backprop_tab:
                bp.show_tab(s.backprop_tab)
            if bp.network is not None and bp.current_example is not None:
                desired = bp.current_example[1]
                bp.set_focus_neuron(desired if s.focus is None else s.focus)
                if s.parameter is not None and net is not None:
                    try:
                        bp.select_parameter(s.parameter.resolve(net, pixels, desired if label is None else label))
                    except ValueError as e:
                        self.problems.append(f"parameter: {e}")
        pg = self.view("playground", "set_preset")
        if pg is not None and "playground" in s.show:
            pg.pause()
            if s.preset:
                pg.set_preset(s.preset)
            if s.learning_rate:
                pg.set_learning_rate(s.learning_rate)
            start = s.start if s.start is not None else tuple(pg.preset.start)
            pg.set_stochastic(bool(s.stochastic), s.batch_size)
            pg.set_start(*start)
        ev = self.view("evaluation", "show_page")
        if ev is not None and "evaluation" in s.show:
            if s.evaluation_page:
                page = getattr(ev, s.evaluation_page, None)
                if page is not None:
                    ev.show_page(page)
            if s.evaluate:
                ev.evaluate_now()
        c = getattr(w, "controls", None)
        if c is not None:
            if s.training_speed is not None:
                c.set_speed(s.training_speed)
            if s.training_learning_rate is not None:
                c.lr_input.setValue(s.training_learning_rate)
            if s.training_batch_size is not None:
                c.batch_input.setValue(s.training_batch_size)

    # ------------------------------------------------------------------ live numbers
    def live_context(self, lesson) -> LiveContext:
        """What the live numbers of ``lesson`` are computed from, read from the window now."""
        w = self.window
        s = lesson.setup
        snap = w.latest_snapshot
        ex = w.current_input
        ctx = LiveContext(
            network=None if snap is None else snap.network,
            pixels=None if ex is None else ex.pixels, label=None if ex is None else ex.label,
            source="" if ex is None else ex.source, dataset=w.dataset,
            batch_indices=None if snap is None else snap.batch_indices,
            neuron=s.neuron, parameter=s.parameter, focus=s.focus, preset=s.preset,
            learning_rate=s.learning_rate, start=s.start,
            training_learning_rate=s.training_learning_rate, training_batch_size=s.training_batch_size,
        )
        if ex is not None and ex.source == PAD_SOURCE and ex.extra.get("example"):
            ctx.source = f"{ex.extra['example']} on the pad"
        c = getattr(w, "controls", None)
        if c is not None:
            ctx.training_learning_rate = float(c.lr_input.value())
            ctx.training_batch_size = int(c.batch_input.value())
        bp = self.view("backprop", "show_tab")
        if bp is not None:
            ctx.explorer_eta = float(bp.learning_rate)
        # the text explains the step's own output neuron and parameter (the explorer shows whatever the
        # learner picks next); a neuron clicked in the diagram's layer is followed, the text says "ringed"
        dg = self.view("diagram", "select_neuron")
        canvas = getattr(dg, "canvas", None) if dg is not None else None
        sel = getattr(canvas, "selected", None) if canvas is not None else None
        if s.neuron is not None and sel is not None and sel[0] == s.neuron.layer:
            ctx.neuron = type(s.neuron)(sel[0], sel[1])
        pg = self.view("playground", "set_preset")
        if pg is not None and "playground" in s.show:
            ctx.preset = pg.preset.key
            ctx.learning_rate = float(pg.learning_rate)
        return ctx


# =============================================================================== the panel
class _Wrap(QtWidgets.QLabel):
    def __init__(self, text="", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)


class LessonsView(StudioView):
    """The lessons panel: one step's text with live numbers, one thing to try, Back / Next and all steps.

    Create it with the studio window (or :meth:`attach` one later).  The first time it is
    shown it sets up the remembered step; Back, Next, the step list and "Set up again" set
    up the step they lead to.  Progress (the current step, the steps seen) is saved in the
    window's settings (``lessons/step``, ``lessons/visited``).

    Signals: ``stepChanged(int)`` when the learner moves to another step (0-based);
    ``stepReady(int)`` when that step's setup is complete and its text shows the live numbers.
    """

    title = "Lessons"
    stepChanged = Signal(int)
    stepReady = Signal(int)

    def __init__(self, window=None, settings: QtCore.QSettings | None = None, lessons=None, parent=None):
        super().__init__(parent)
        self.setObjectName("LessonsView")
        self.host: LessonHost | None = None
        self.settings = settings
        self.error = ""
        if lessons is None:
            try:
                lang = QtCore.QLocale().name().split("_")[0]
                lessons = load_lessons(lang=lang if lang != "en" else None)
            except LessonError as e:
                self.error = str(e)
                lessons = []
        self.lessons = list(lessons)
        self._cache: dict = {}
        self._started = False
        self._ready = False
        self._rendered_key = None
        self._last_render = -1e9
        self.values: dict = {}
        self._build()
        self._setup_timer = QtCore.QTimer(self)
        self._setup_timer.setInterval(30)
        self._setup_timer.timeout.connect(self._poll)
        self._render_timer = QtCore.QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render)
        self._watch = QtCore.QTimer(self)
        self._watch.setInterval(1000)  # live numbers follow training at most once a second
        self._watch.timeout.connect(self._maybe_render)
        if window is not None:
            self.attach(window)
        self.progress = self._restore_progress()
        self._show_step()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.setStyleSheet(
            "#LessonsView QTextBrowser { border: none; background: transparent; }"
            "#LessonsView #lessonTry { border: none; border-left: 3px solid %(accent)s; border-radius: 0;"
            " background: palette(alternate-base); }"
            "#LessonsView #lessonSteps { border: 1px solid palette(mid); border-radius: 4px; }"
            "#LessonsView #lessonSteps::item { padding: 2px 4px; }"
            "#LessonsView QProgressBar { border: none; background: palette(mid); max-height: 4px; border-radius: 2px; }"
            "#LessonsView QProgressBar::chunk { background: %(accent)s; border-radius: 2px; }"
            % {"accent": theme.ACCENT}
        )
        self.counter = QtWidgets.QLabel()
        self.counter.setObjectName("lessonCounter")
        self.counter.setProperty("muted", True)
        self.bar = QtWidgets.QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(4)
        self.heading = _Wrap()
        self.heading.setObjectName("lessonTitle")
        f = self.heading.font()
        if f.pointSizeF() > 0:
            f.setPointSizeF(f.pointSizeF() * 1.35)
        f.setBold(True)
        self.heading.setFont(f)

        self.text = QtWidgets.QTextBrowser()
        self.text.setObjectName("lessonText")
        self.text.setOpenLinks(False)
        self.text.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.text.setMinimumHeight(90)

        self.try_frame = QtWidgets.QFrame()
        self.try_frame.setObjectName("lessonTry")
        tl = QtWidgets.QVBoxLayout(self.try_frame)
        tl.setContentsMargins(10, 6, 8, 8)
        tl.setSpacing(2)
        self.try_heading = QtWidgets.QLabel("Try this")
        self.try_heading.setStyleSheet(f"color: {theme.ACCENT}; font-weight: 600;")
        self.try_label = _Wrap()
        self.try_label.setObjectName("lessonTryText")
        tl.addWidget(self.try_heading)
        tl.addWidget(self.try_label)

        self.status = _Wrap()
        self.status.setObjectName("lessonStatus")
        self.status.setProperty("muted", True)
        fs = self.status.font()
        if fs.pointSizeF() > 0:
            fs.setPointSizeF(fs.pointSizeF() * 0.9)
        self.status.setFont(fs)

        self.back_button = QtWidgets.QPushButton("◀  Back")
        self.back_button.setObjectName("lessonBackButton")
        self.back_button.setToolTip("The previous step (its setup is restored)")
        self.back_button.clicked.connect(self.back)
        self.again_button = QtWidgets.QToolButton()
        self.again_button.setObjectName("lessonAgainButton")
        self.again_button.setText("↺")
        self.again_button.setToolTip("Set this step up again: its network, example and views")
        self.again_button.clicked.connect(self.set_up_again)
        self.next_button = QtWidgets.QPushButton("Next  ▶")
        self.next_button.setObjectName("lessonNextButton")
        self.next_button.setToolTip("The next step")
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self.next_step)
        nav = QtWidgets.QHBoxLayout()
        nav.setSpacing(6)
        nav.addWidget(self.back_button)
        nav.addWidget(self.again_button)
        nav.addStretch(1)
        nav.addWidget(self.next_button)

        self.steps = QtWidgets.QListWidget()
        self.steps.setObjectName("lessonSteps")
        self.steps.setToolTip("Jump to any step")
        self.steps.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.steps.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps.setTextElideMode(Qt.TextElideMode.ElideRight)
        for lesson in self.lessons:
            item = QtWidgets.QListWidgetItem(f"{lesson.number:>2}  {lesson.title}")
            item.setToolTip(lesson.title)
            self.steps.addItem(item)
        row = self.steps.fontMetrics().height() + 5
        self.steps.setMinimumHeight(4 * row + 8)
        self.steps.setMaximumHeight(max(4, len(self.lessons)) * row + 8)
        self.steps.itemClicked.connect(lambda item: self.go_to(self.steps.row(item)))
        self.steps.itemActivated.connect(lambda item: self.go_to(self.steps.row(item)))
        steps_label = QtWidgets.QLabel("All steps")
        steps_label.setProperty("muted", True)

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(6)
        lay.addWidget(self.counter)
        lay.addWidget(self.bar)
        lay.addWidget(self.heading)
        lay.addWidget(self.text, 4)
        lay.addWidget(self.try_frame)
        lay.addWidget(self.status)
        lay.addLayout(nav)
        lay.addSpacing(4)
        lay.addWidget(steps_label)
        lay.addWidget(self.steps, 1)
        if self.error or not self.lessons:
            self.text.setPlainText(self.error or "No lessons found.")
            for wdg in (self.back_button, self.next_button, self.again_button, self.try_frame):
                wdg.setEnabled(False)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(400, 760)

    # ------------------------------------------------------------------ window
    def attach(self, window) -> None:
        """Host the lessons in ``window`` (a MainWindow); uses its settings unless others were given."""
        self.host = LessonHost(window, self)
        if self.settings is None:
            self.settings = getattr(window, "settings", None)
        for sig in ("inputChanged", "trainingPaused", "datasetReady"):
            s = getattr(window, sig, None)
            if s is not None:
                s.connect(self._window_changed)
        bp = self.host.view("backprop", "show_tab")
        if bp is not None and hasattr(bp, "parameterSelected"):
            bp.parameterSelected.connect(lambda *_: self._schedule_render())
        dg = self.host.view("diagram", "select_neuron")
        if dg is not None and hasattr(dg, "neuronSelected"):
            dg.neuronSelected.connect(lambda *_: self._schedule_render())

    def _settings(self) -> QtCore.QSettings:
        if self.settings is None:
            self.settings = QtCore.QSettings("nnstudio", "nnstudio")
        return self.settings

    def _restore_progress(self) -> LessonProgress | None:
        if not self.lessons:
            return None
        s = self._settings()
        return LessonProgress.restore([x.id for x in self.lessons], s.value("lessons/step"), s.value("lessons/visited"))

    def _save_progress(self) -> None:
        if self.progress is None:
            return
        s = self._settings()
        for k, v in self.progress.save().items():
            s.setValue(f"lessons/{k}", v)
        s.sync()

    # ------------------------------------------------------------------ StudioView protocol
    def set_snapshot(self, snapshot) -> None:
        # (only when hosted among the window's views; the numbers follow through _window_changed's throttle)
        self._window_changed()

    def set_input(self, example) -> None:
        self._window_changed()

    def set_dataset(self, dataset) -> None:
        self._cache.clear()
        self._window_changed()

    # ------------------------------------------------------------------ navigation
    @property
    def current(self) -> int:
        return self.progress.current if self.progress is not None else 0

    @property
    def lesson(self):
        return self.lessons[self.current] if self.lessons else None

    @property
    def ready(self) -> bool:
        """The current step is set up and its text shows the live numbers."""
        return self._ready

    def start(self) -> None:
        """Set up the remembered step (done the first time the panel is shown)."""
        self._started = True
        self.go_to(self.current)

    def _start_if_needed(self) -> None:
        if not self._started and self.host is not None:
            self.start()

    def go_to(self, index: int) -> None:
        if self.progress is None:
            return
        self.progress.go(index)
        self._save_progress()
        self._started = True
        self._show_step()
        self._begin_setup()
        self.stepChanged.emit(self.current)

    def next_step(self) -> None:
        if self.progress is not None and not self.progress.at_end:
            self.go_to(self.current + 1)

    def back(self) -> None:
        if self.progress is not None and not self.progress.at_start:
            self.go_to(self.current - 1)

    def set_up_again(self) -> None:
        if self.progress is not None:
            self._begin_setup(again=True)

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if not self._started and self.host is not None:
            QtCore.QTimer.singleShot(0, self, self._start_if_needed)
        if self._ready:
            self._watch.start()

    def changeEvent(self, ev) -> None:
        super().changeEvent(ev)
        if ev.type() == QtCore.QEvent.Type.PaletteChange and self.lessons:
            self._render("update" if self._ready else "placeholders")  # the highlight colour follows the theme

    def hideEvent(self, ev) -> None:
        super().hideEvent(ev)
        self._watch.stop()

    # ------------------------------------------------------------------ showing a step
    def _show_step(self) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        n = len(self.lessons)
        self.counter.setText(f"Step {lesson.number} of {n}")
        self.bar.setRange(0, n)
        self.bar.setValue(lesson.number)
        self.heading.setText(_html_escape(lesson.title))
        self.back_button.setEnabled(not self.progress.at_start)
        self.next_button.setEnabled(not self.progress.at_end)
        self.next_button.setText("Next  ▶" if not self.progress.at_end else "Done")
        for i in range(self.steps.count()):
            item = self.steps.item(i)
            mark = "▸" if i == self.current else ("✓" if self.progress.is_visited(i) else " ")
            item.setText(f"{mark} {self.lessons[i].number:>2}  {self.lessons[i].title}")
            f = item.font()
            f.setBold(i == self.current)
            item.setFont(f)
        self.steps.blockSignals(True)
        self.steps.setCurrentRow(self.current)
        self.steps.blockSignals(False)
        self.steps.scrollToItem(self.steps.item(self.current))
        self._ready = False
        self._render(mode="placeholders")

    def _begin_setup(self, again: bool = False) -> None:
        self._ready = False
        self._watch.stop()
        if self.host is None:
            self._render(mode="final")
            return
        self.host.begin(self.lesson, again=again)
        self.status.setText("Setting up this step…")
        self._poll()
        if self.host.waiting:
            self._setup_timer.start()

    def _poll(self) -> None:
        if self.host is None or self.lesson is None:
            self._setup_timer.stop()
            return
        state = self.host.poll()
        if state in ("ready", "failed"):
            self._setup_timer.stop()
            self._render(mode="final")

    def _window_changed(self, *_) -> None:
        if self.host is not None and self.host.waiting:
            self._poll()
        elif self._ready:
            self._schedule_render()

    def _schedule_render(self) -> None:
        """Re-render soon, at most every MIN_RENDER_INTERVAL seconds (the window may call set_snapshot at
        display rate while training: the numbers follow, without costing a frame each)."""
        if self._ready and not self._render_timer.isActive():
            wait = self._last_render + MIN_RENDER_INTERVAL - time.monotonic()
            self._render_timer.start(max(0, int(1000 * wait)))

    def _context_key(self):
        w = self.host.window if self.host is not None else None
        if w is None:
            return None
        ctx = self.host.live_context(self.lesson)
        return (id(w.latest_snapshot), id(w.current_input), ctx.focus, ctx.parameter, ctx.neuron, ctx.explorer_eta,
                ctx.preset, ctx.learning_rate, ctx.training_learning_rate, ctx.training_batch_size)

    def _maybe_render(self) -> None:
        if self._ready and self.isVisible() and self._context_key() != self._rendered_key:
            self._render("update")

    def _render(self, mode: str = "update") -> None:
        """Show the step's text: with "…" for the numbers ("placeholders"), with the live numbers once
        the setup has finished ("final": the step is ready), or again with fresh numbers ("update")."""
        lesson = self.lesson
        if lesson is None:
            return
        if mode == "update" and not self._ready:
            return
        dark = self.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128
        accent = theme.ACCENT if dark else "#9a6700"
        names = lesson.placeholders
        values = {n: "…" for n in names}
        if mode != "placeholders" and self.host is not None:
            try:
                values = live_values(self.host.live_context(lesson), names, self._cache)
            except Exception:  # never let a live number break the panel
                log.error("live values of %s failed:\n%s", lesson.id, traceback.format_exc())
        self.values = values
        self._last_render = time.monotonic()
        self.try_heading.setStyleSheet(f"color: {accent}; font-weight: 600;")
        style = f"color:{accent}; font-weight:600"
        css = ("p { margin: 0 0 8px 0; } ul { margin: 0 0 8px 0; } li { margin-bottom: 3px; }"
               " code { font-family: monospace; }")
        self.text.document().setDefaultStyleSheet(css)
        self.text.setHtml(render_html(lesson.text, values, style))
        paragraphs = re.findall(r"<p>(.*?)</p>", render_html(lesson.try_text, values, style), re.S)
        self.try_label.setText("<br><br>".join(paragraphs) if paragraphs else render_html(lesson.try_text, values, style))
        if mode == "placeholders":
            self.status.setText("")
            return
        self._rendered_key = self._context_key()
        if mode == "final":
            self._ready = True
            self.status.setText(self._status_text())
            if self.isVisible():
                self._watch.start()
            self.stepReady.emit(self.current)

    def _status_text(self) -> str:
        if self.host is None:
            return ""
        parts = []
        net = self.host.network()
        if net is not None:
            parts.append(f"Numbers from the live {'-'.join(map(str, net.sizes))} network")
        if self.host.window.current_input is not None:
            src = self.host.live_context(self.lesson).source
            if src:
                parts.append(f"input: {src}")
        text = " · ".join(parts)
        if self.host.problems:
            text = "Not everything could be set up: " + "; ".join(self.host.problems) + (f". {text}" if text else "")
        return _html_escape(text)


def _html_escape(text: str) -> str:
    import html

    return html.escape(text, quote=False)


# =============================================================================== hosting
def add_lessons_dock(window) -> LessonsView:
    """Host the lessons in ``window``: a "Lessons" dock at the top of the left column (the training
    controls below it) and a Help ▸ Lessons action (F1) that opens it.

    (What ``MainWindow`` itself should do; see docs/lessons.md.)  Returns the view; the dock is
    ``window.lessons_dock`` and the action ``window.lessons_action``.  A window that already hosts
    the lessons (``window.lessons_view``) is left as it is.
    """
    existing = getattr(window, "lessons_view", None)
    if isinstance(existing, LessonsView):
        return existing
    view = LessonsView(window)
    dock = QtWidgets.QDockWidget("Lessons", window)
    dock.setObjectName("lessonsDock")
    dock.setWidget(view)
    dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable
                     | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable)
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    training = getattr(window, "training_dock", None)
    if training is not None:
        window.splitDockWidget(dock, training, Qt.Orientation.Vertical)  # the lesson on top, the controls below
    dock.hide()  # until Help ▸ Lessons
    window.lessons_dock = dock
    window.lessons_view = view
    act = QtGui.QAction("&Lessons", window)
    act.setObjectName("lessonsAction")
    act.setShortcut(QtGui.QKeySequence("F1"))
    act.setStatusTip("Learn how the network works, step by step")
    act.triggered.connect(lambda: open_lessons(window, dock, view))
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions() if a.menu() is not None}
    if "Help" in menus:
        first = menus["Help"].actions()[0] if menus["Help"].actions() else None
        menus["Help"].insertAction(first, act)
    else:
        window.addAction(act)
    if "View" in menus:
        toggle = dock.toggleViewAction()
        toggle.setObjectName("lessonsDockToggle")
        menus["View"].addAction(toggle)
    window.lessons_action = act
    return view


def open_lessons(window, dock, view) -> None:
    """Show the lessons dock with room to read (the left column widened, the controls below kept short)."""
    first = not dock.isVisible()
    dock.show()
    dock.raise_()
    training = getattr(window, "training_dock", None)
    if first and not dock.isFloating():
        window.resizeDocks([dock], [max(LESSONS_WIDTH, dock.width())], Qt.Orientation.Horizontal)
        if training is not None and training.isVisible() and not training.isFloating():
            h = window.height()
            window.resizeDocks([dock, training], [int(h * 0.66), int(h * 0.34)], Qt.Orientation.Vertical)
    if not view._started:
        view.start()
