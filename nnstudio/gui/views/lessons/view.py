"""Guided lessons: a panel that walks a newcomer through 3Blue1Brown's four chapters, one step at a time.

Each step is a lesson file (``nnstudio/lessons/content/NN-name.md``, parsed by :mod:`nnstudio.lessons`):
a short text whose numbers come from the live network, one thing to try, and a setup that
:class:`~nnstudio.gui.views.lessons.host.LessonHost` applies through the studio's session.

:class:`LessonsView` is the panel (Back / Next, a list of all steps, progress remembered in the
settings).  A step is set up only when the learner asks for it (Next, Back, a step in the list, or
"Set up this step"): showing the panel, resetting the layout or launching the app with the panel
open never changes the network, the data or the hyper-parameters.
"""

from __future__ import annotations

import html
import logging
import re
import time
import traceback

from nnstudio.lessons.live import live_values
from nnstudio.lessons.parser import LessonError, LessonProgress, load_lessons
from nnstudio.lessons.render import render_html
from nnstudio.gui.style import theme
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.views.lessons.host import LessonHost
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal

log = logging.getLogger(__name__)

#: the live numbers are recomputed at most this often (seconds) when the session changes
MIN_RENDER_INTERVAL = 0.25


# =============================================================================== the panel
class _Wrap(QtWidgets.QLabel):
    def __init__(self, text="", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)


class LessonsView(StudioView):
    """The lessons panel: one step's text with live numbers, one thing to try, Back / Next and all steps.

    Create it with the studio window (or :meth:`attach` one later).  Back, Next, the step list
    and the "Set up this step" button set up the step they lead to; nothing else does (showing
    the panel only shows the remembered step's text).  Progress (the current step, the steps
    seen) is saved in the window's settings (``lessons/step``, ``lessons/visited``).

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
            fs.setPointSizeF(max(9.0, fs.pointSizeF() * 0.9))
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
        self.setup_button = QtWidgets.QPushButton("Set up this step")
        self.setup_button.setObjectName("lessonSetUpButton")
        self.setup_button.setToolTip("Put the studio in this step's state: its network, example and views "
                                     "(asks first if that would discard a network you trained)")
        self.setup_button.clicked.connect(self.set_up_again)
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
        lay.addWidget(self.setup_button)
        lay.addLayout(nav)
        lay.addSpacing(4)
        lay.addWidget(steps_label)
        lay.addWidget(self.steps, 1)
        if self.error or not self.lessons:
            self.text.setPlainText(self.error or "No lessons found.")
            for wdg in (self.back_button, self.next_button, self.again_button, self.setup_button, self.try_frame):
                wdg.setEnabled(False)

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(400, 760)

    # ------------------------------------------------------------------ window
    def attach(self, window) -> None:
        """Host the lessons in ``window`` (a MainWindow); uses its settings unless others were given."""
        self.host = LessonHost(window, self)
        if self.settings is None:
            self.settings = getattr(window, "settings", None)
        ev = window.session.events
        for event in (ev.input, ev.run_state, ev.dataset, ev.network, ev.loading):
            event.connect(self._window_changed)
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
        """Set up the remembered step (what the "Set up this step" button does)."""
        self.go_to(self.current)

    def go_to(self, index: int) -> None:
        if self.progress is None:
            return
        self.progress.go(index)
        self._save_progress()
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
        self._sync_setup_button()
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
        self._sync_setup_button()

    def _sync_setup_button(self) -> None:
        """"Set up this step" shows while the step on screen is not set up (and is not being set up)."""
        busy = self.host is not None and self.host.waiting
        self.setup_button.setVisible(bool(self.lessons) and self.host is not None and not self._ready and not busy)

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
        s = w.session
        return (id(s.snapshot), id(s.current_input), ctx.focus, ctx.parameter, ctx.neuron, ctx.explorer_eta,
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
            self._sync_setup_button()
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
        s = self.host.session
        if s.network is not None:
            parts.append(f"Numbers from {s.network_label()}")
        if s.current_input is not None:
            src = self.host.live_context(self.lesson).source
            if src:
                parts.append(f"input: {src}")
        text = " · ".join(parts)
        if self.host.problems:
            text = "Not everything could be set up: " + "; ".join(self.host.problems) + (f". {text}" if text else "")
        return _html_escape(text)


def _html_escape(text: str) -> str:
    return html.escape(text, quote=False)
