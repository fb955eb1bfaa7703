"""The studio window: the diagram in the middle, docks around it, all of it over one session.

The window owns a :class:`~nnstudio.session.Session` (the studio's whole state, Qt-free) and
wires everything to it:

* the session's events → the title, the status bar, the controls, the views (datasets and the
  current input at once; the network on screen at display rate, through the frame clock);
* the controls, the menus and the views' requests → the session's commands.

It keeps no state of its own about the network, the data or the run: ask the session.  The parts
live beside it: ``docks`` (the views and their docks), ``menus``, ``statusbar``, ``frames`` (the
display clock), ``files`` (dialogs), ``settings`` (what is remembered).
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from pathlib import Path

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal, collect_garbage_in_gui_thread
from nnstudio.gui.style.palette import app_palette, apply_theme
from nnstudio.gui.tasks import QtRunner
from nnstudio.gui.views.compare import open_compare_window
from nnstudio.gui.training.controls import FOLDER_ITEM, TrainingActions, TrainingControls, parse_sizes
from nnstudio.gui.views.lessons import LessonsView
from nnstudio.gui.views.observations import ObservationsFeed
from nnstudio.gui.views.plots import PlotsPanel
from nnstudio.gui.views.timeline import CostProbe, TimelineBar
from nnstudio.gui.window import docks
from nnstudio.gui.window.files import Files
from nnstudio.gui.window.frames import FrameClock
from nnstudio.gui.window.menus import build_menus
from nnstudio.gui.window.runs import Runs
from nnstudio.gui.window.settings import APP_NAME, STATE_VERSION, cannot_save, make_settings, read
from nnstudio.gui.window.statusbar import StatusBar
from nnstudio.session import Session, SessionError
from nnstudio.session.edits import EditError
from nnstudio.training.loop import SPEEDS, WATCH
from nnstudio.training.workers import make_worker

log = logging.getLogger(__name__)

__all__ = ["MainWindow", "Placeholder", "make_settings"]
Placeholder = docks.Placeholder


class MainWindow(QtWidgets.QMainWindow):
    """The studio window.  Create it, ``show()`` it, then call :meth:`start` (which loads the
    dataset in a thread, so the window appears at once)."""

    #: the run paused (after a pause, a step, a finished run or a divergence)
    trainingPaused = Signal()
    #: a dataset became the session's
    datasetReady = Signal(object)
    #: the current input changed (after it reached the views)
    inputChanged = Signal(object)
    #: answers sync_worker(): the worker handled every earlier command and its messages arrived
    workerSynced = Signal(int)

    def __init__(self, settings: QtCore.QSettings | None = None, *, load_views: bool = True,
                 view_factories: dict | None = None, session: Session | None = None, parent=None):
        super().__init__(parent)
        collect_garbage_in_gui_thread()  # (worker threads must never run Qt destructors)
        self.setObjectName("mainWindow")
        self.settings = settings if settings is not None else make_settings()
        self.setWindowTitle(f"{APP_NAME} — starting…")
        self.setDockNestingEnabled(True)
        self.session = s = session if session is not None else Session(worker=make_worker(), runner=QtRunner(self))
        s.confirm = lambda question: self.confirm_discard(question)  # (late: tests replace the method)
        self.messages: list[tuple[str, str, str]] = []  # (level, title, text) of every message shown
        self._message_box = None
        self._load_dialog = None
        self._pending_input = None
        self._geometry_restored = False
        self._sized_by_caller = False
        self.views_input = None  # the current input as the views last got it (the session's, a moment later)
        self._closing = False
        self._ask_on_close = False  # set by File ▸ Quit: ask about unsaved training before closing

        self.files = Files(self)
        self.actions = TrainingActions(self)
        self.actions.set_enabled(False)
        self.controls = TrainingControls(self.actions)
        self.plots = PlotsPanel()
        self.timeline_bar = TimelineBar(s)  # (under the plots: any mini-batch of the run, nnstudio.session.timeline)
        self.views = docks.build_views(load_views, view_factories or {})
        self.observations = ObservationsFeed(s)  # (what the run shows, in words: nnstudio.session.commentary)
        self.lessons_view = LessonsView(self) if load_views else None
        self.lessons_dock = None
        self.compare_window = None  # Training ▸ Compare runs… (made on first use)
        docks.build_docks(self)
        self.status = StatusBar(s, self)
        self.setStatusBar(self.status)
        self.runs = Runs(self)  # (run files, the replay, Continue from here)
        self.cost_probe = CostProbe(self.plots, s, self)  # (the cost curve answers a hover; a click scrubs there)
        build_menus(self)
        self.frames = FrameClock(s, self.studio_views, self.plots, self.status.refresh, self)
        self._wire()
        self.resize(*docks.DEFAULT_SIZE)
        self._default_sizes_pending = True
        self._default_state = self.saveState(STATE_VERSION)
        self._restore_settings()
        s.start_worker()
        self.frames.start()

    # ================================================================== compatibility / reading
    @property
    def worker(self):
        return self.session.worker

    @property
    def pacer(self):
        return self.frames.pacer

    @property
    def dataset(self):
        return self.session.dataset

    @property
    def dataset_key(self):
        return self.session.dataset_key

    @property
    def history(self):
        return self.session.history

    @property
    def latest_snapshot(self):
        return self.session.snapshot

    @property
    def current_input(self):
        return self.session.current_input

    def studio_views(self) -> list:
        """The hosted views that follow the StudioView protocol (placeholders excluded)."""
        views = [v for v in self.views.values() if hasattr(v, "set_snapshot")]
        if self.lessons_view is not None:
            views.append(self.lessons_view)
        return views

    # ================================================================== wiring
    def _wire(self) -> None:
        s, a, c = self.session, self.actions, self.controls
        a.play.triggered.connect(s.toggle_play)
        a.step_batch.triggered.connect(s.step_batch)
        a.step_epoch.triggered.connect(s.step_epoch)
        a.rewind.triggered.connect(s.rewind)
        a.reset.triggered.connect(lambda: s.reset())
        c.learningRateChanged.connect(lambda v: self._command(s.set_learning_rate, v))
        c.batchSizeChanged.connect(lambda v: self._command(s.set_batch_size, v))
        c.epochsChanged.connect(lambda v: self._command(s.set_epochs, v))
        c.speedChanged.connect(lambda v: self._command(s.set_speed, v))
        c.architectureEdited.connect(self._architecture_edited)
        c.datasetChosen.connect(self._dataset_chosen)
        c.mixInChanged.connect(lambda on: s.teacher.set_mix_in(on))
        ev = s.events
        ev.dataset.connect(self._on_dataset)
        ev.loading.connect(self._on_loading)
        ev.progress.connect(self._on_progress)
        ev.origin.connect(self._on_origin)
        ev.input.connect(self._on_input)
        ev.hyper.connect(self._on_hyper)
        ev.architecture.connect(lambda arch: c.set_architecture(**arch))
        ev.run_state.connect(self._on_run_state)
        ev.stopped.connect(self._on_stopped)
        ev.restarted.connect(lambda gen: self.status.restart())
        ev.network.connect(self._on_network)
        ev.message.connect(self._on_message)
        ev.synced.connect(self.workerSynced.emit)
        ev.taught.connect(self._on_taught)
        ev.my_digits.connect(self._on_my_digits)
        ev.restarted.connect(lambda gen: self._on_my_digits(s.teacher.my_digits))  # (a run takes them in)
        ev.observation.connect(self._on_observation)
        self.observations.viewRequested.connect(self.show_view)
        ev.edit.connect(self._on_edit)
        for v in self.views.values():
            if hasattr(v, "inputRequested"):
                v.inputRequested.connect(s.set_input)
            if hasattr(v, "statusMessage"):
                v.statusMessage.connect(self._view_status)
            if hasattr(v, "stepApplied"):  # the explorer's Step: a change to the network on screen
                v.stepApplied.connect(lambda net: s.adopt(net, "explorer step"))
            if hasattr(v, "undoRequested"):
                v.undoRequested.connect(s.undo)
            if hasattr(v, "stepChangesWanted"):  # the diagram's −∂C/∂w and Δw edges
                v.stepChangesWanted.connect(s.show_step_changes)
            if hasattr(v, "teachRequested"):  # the pad: one teaching step on the drawing (nnstudio.session.teach)
                v.teachRequested.connect(lambda pixels, label, alone: s.teacher.teach(pixels, label, alone))
            if hasattr(v, "nudgesRequested"):
                v.nudgesRequested.connect(self.show_nudges)
            if hasattr(v, "myDigitRelabelled"):  # the dataset browser's "my digits"
                v.myDigitRelabelled.connect(s.teacher.relabel)
                v.myDigitDeleted.connect(s.teacher.delete)
            if hasattr(v, "neuronEditRequested"):  # the inspector's hand edits of a neuron
                v.neuronEditRequested.connect(self._edit_neuron)
                v.neuronEditReset.connect(s.reset_neuron_edit)
            if hasattr(v, "learningRateEdited"):
                v.learningRateEdited.connect(lambda eta: self._command(s.set_learning_rate, eta))
            if hasattr(v, "set_studio_learning_rate"):
                v.set_studio_learning_rate(s.hyper["learning_rate"])

    def _command(self, command, *args) -> bool:
        """Run a session command; a value it refuses is told in the status bar."""
        try:
            command(*args)
        except SessionError as e:
            self.statusBar().showMessage(str(e), 10000)
            return False
        return True

    def _edit_neuron(self, layer: int, index: int, changes: dict) -> None:
        try:
            self.session.edit_neuron(layer, index, **changes)
        except EditError as e:
            self.statusBar().showMessage(str(e), 8000)

    def _on_edit(self, state) -> None:
        for v in self.studio_views():
            if hasattr(v, "set_neuron_edit"):
                v.set_neuron_edit(state)
        self.undo_action.setEnabled(self.session.can_undo)

    def _on_observation(self, obs) -> None:
        d = self.observations_dock
        if obs is not None and (d.isHidden() or d.visibleRegion().isEmpty()):  # (the feed is not on screen)
            self.statusBar().showMessage(f"{obs.title} (more in View ▸ Observations)", 10000)

    def _architecture_edited(self) -> None:
        c = self.controls
        try:
            arch = c.architecture()
        except ValueError as e:
            self.statusBar().showMessage(str(e), 8000)
            c.revert_sizes()
            return
        try:
            changed = self.session.set_architecture(**arch)
        except SessionError as e:
            self.statusBar().showMessage(str(e), 10000)
            c._set_sizes_error(str(e))
            return
        if changed:
            c.accept_sizes()
            self.statusBar().showMessage(f"New network {self.session.network_label()} ({arch['activation']}, "
                                         f"{arch['cost']} cost)", 5000)
        else:  # (kept: asked and declined, or nothing changed) the controls show the session's recipe again
            c.set_architecture(**self.session.architecture)

    def _dataset_chosen(self, choice: str) -> None:
        s = self.session
        if choice == FOLDER_ITEM:
            key = s.dataset_key
            start = key if key and Path(key).is_dir() else str(Path.home())
            folder = self.ask_folder("Choose a folder with the four MNIST IDX files", start)
            if not folder:
                self.controls.show_dataset(s.dataset_key or "mnist-sample")
                return
            choice = str(folder)
        if not s.switch_dataset(choice):
            self.controls.show_dataset(s.dataset_key or "mnist-sample")

    # ================================================================== session events
    def _on_dataset(self, ds) -> None:
        self.controls.show_dataset(self.session.dataset_key, f"{ds.n_train:,} training / {ds.n_test:,} test images")
        for v in self.studio_views():
            try:
                v.set_dataset(ds)
            except Exception:
                log.error("%s.set_dataset failed:\n%s", type(v).__name__, traceback.format_exc())
        self.actions.set_enabled(True)
        self._update_title()
        self.datasetReady.emit(ds)

    def _on_loading(self, key, downloading: bool) -> None:
        s = self.session
        self.controls.dataset_input.setEnabled(key is None)
        self.status.show_loading(key, Path(key).name if key else "")
        if key is not None and downloading:
            dlg = QtWidgets.QProgressDialog(f"Downloading {key}…", "Cancel", 0, 100, self)
            dlg.setObjectName("downloadDialog")
            dlg.setWindowTitle("Downloading dataset")
            dlg.setWindowModality(Qt.WindowModality.WindowModal)
            dlg.setMinimumDuration(0)
            dlg.setAutoClose(False)
            dlg.setAutoReset(False)
            dlg.setValue(0)
            dlg.canceled.connect(s.cancel_loading)
            dlg.show()
            self._load_dialog = dlg
        elif key is None:
            if self._load_dialog is not None:
                self._load_dialog.canceled.disconnect()
                self._load_dialog.close()
                self._load_dialog.deleteLater()
                self._load_dialog = None
            if s.dataset_key is not None:
                self.controls.show_dataset(s.dataset_key)

    def _on_progress(self, done, total, name) -> None:
        self.status.show_progress(done, total, name)
        if total and self._load_dialog is not None:
            self._load_dialog.setValue(min(100, int(100 * done / total)))
            self._load_dialog.setLabelText(f"Downloading {name}… {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    def _on_origin(self, _origin) -> None:
        self._update_title()
        self.status.refresh(force=True)
        label = self.session.network_label()
        self.controls.show_network_note(
            f"On screen: {label}. Play, Batch or Epoch start a new network with these settings."
            if self.session.play_starts_fresh else "")
        for v in self.studio_views():
            if hasattr(v, "set_network_label"):
                v.set_network_label(label)
        self.undo_action.setEnabled(self.session.can_undo)

    def open_compare(self):
        """Training ▸ Compare runs…: runs side by side, a separate experiment (nnstudio.gui.views.compare)."""
        self.compare_window = open_compare_window(self, self.compare_window)
        return self.compare_window

    def _on_network(self, _snap) -> None:
        self.undo_action.setEnabled(self.session.can_undo)

    def _on_taught(self, result) -> None:
        for v in self.studio_views():
            if hasattr(v, "set_taught"):
                v.set_taught(result)
        self.undo_action.setEnabled(self.session.can_undo)

    def _on_my_digits(self, digits) -> None:
        t = self.session.teacher
        self.controls.show_my_digits(len(digits), t.mix_in, t.mix_note())
        for v in self.studio_views():
            if hasattr(v, "set_my_digits"):
                v.set_my_digits(digits, str(t.path or ""))

    def show_nudges(self) -> None:
        """The explorer's desired nudges of the current example, every neuron (the pad's Nudges ▸), with
        the network's own cost: the nudges of the very step the pad's Step ▶ takes."""
        self.show_view("backprop")
        v = self.views.get("backprop")
        net = self.session.network
        if hasattr(v, "set_cost") and net is not None:
            v.set_cost(net.cost.name)
        if hasattr(v, "show_tab"):
            v.show_tab("all neurons")

    def _on_hyper(self, name: str, value) -> None:
        c = self.controls
        if name == "speed":
            c.set_speed(value)
        else:
            c.set_hyper(**{name: value})
            if name == "learning_rate":
                for v in self.views.values():
                    if hasattr(v, "set_studio_learning_rate"):
                        v.set_studio_learning_rate(value)
        self.status.refresh(force=True)

    def _on_run_state(self, state: str) -> None:
        self.actions.set_running(state == "running")
        self.status.refresh(force=True)

    def _on_stopped(self, state: str) -> None:
        """The run stopped: the views on screen get its last network now (not at the next frame), and
        those that care hear that it stopped."""
        self.frames.frame_views()
        for v in self.studio_views():
            if hasattr(v, "set_run_state"):
                try:
                    v.set_run_state(state)
                except Exception:
                    log.error("%s.set_run_state failed:\n%s", type(v).__name__, traceback.format_exc())
        self.trainingPaused.emit()

    def _on_input(self, example) -> None:
        """Give the new current input to every view (coalesced to one call per event-loop turn)."""
        first = self._pending_input is None
        self._pending_input = (example,)
        if first:
            QtCore.QTimer.singleShot(0, self, self._distribute_input)  # (dropped if the window goes first)

    def _distribute_input(self) -> None:
        if self._pending_input is None:
            return
        (example,), self._pending_input = self._pending_input, None
        if example is not self.session.current_input:  # (a newer one is on its way)
            example = self.session.current_input
        for v in self.studio_views():
            try:
                v.set_input(example)
            except Exception:
                log.error("%s.set_input failed:\n%s", type(v).__name__, traceback.format_exc())
        self.views_input = example
        self.inputChanged.emit(example)

    def _on_message(self, level: str, title: str, text: str) -> None:
        if level == "status":
            self.statusBar().showMessage(text, 8000)
            return
        self.show_message(level, title, text)

    def _view_status(self, message: str) -> None:
        self.statusBar().showMessage(message, 6000)

    def _update_title(self) -> None:
        s = self.session
        ds = s.dataset
        parts = [s.network_label()] if s.origin is not None else []
        if ds is not None:
            parts.append(ds.name if len(ds.name) < 40 else Path(ds.name).name)
        self.setWindowTitle(f"{APP_NAME} — {' — '.join(parts) if parts else 'watch a neural network learn'}")

    # ================================================================== run commands (for tests and menus)
    def play(self) -> None:
        self.session.play()

    def pause(self) -> None:
        self.session.pause()

    def step_batch(self) -> None:
        self.session.step_batch()

    def step_epoch(self) -> None:
        self.session.step_epoch()

    def rewind(self) -> None:
        self.session.rewind()

    def reset_new_seed(self) -> None:
        self.session.reset()

    def open_model(self, path, ask: bool = True) -> bool:
        return self.session.open_model(path, ask=ask)

    def open_pretrained(self) -> bool:
        return self.session.open_shipped()

    def save_model(self, path) -> bool:
        return self.session.save_model(path)

    def sync_worker(self, token: int = 0) -> None:
        """Round trip to the worker; ``workerSynced(token)`` is emitted when it is back."""
        self.session.ping(token)

    # ================================================================== dialogs (tests replace these)
    def ask_open_path(self, title, start, filters):
        return self.files.ask_open_path(title, start, filters)

    def ask_save_path(self, title, start, filters):
        return self.files.ask_save_path(title, start, filters)

    def ask_folder(self, title, start):
        return self.files.ask_folder(title, start)

    def ask_dialog(self, dialog) -> bool:
        """Run a settings dialog (Continue from here, Export replay); True if accepted."""
        return dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted

    def confirm_discard(self, what: str) -> bool:
        """Ask before throwing away a trained network."""
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("confirmDiscardDialog")
        box.setIcon(QtWidgets.QMessageBox.Icon.Question)
        box.setWindowTitle("Discard the trained network?")
        box.setText(f"{what}\n\nThe network trained so far will be discarded (save it first with File ▸ Save model).")
        B = QtWidgets.QMessageBox.StandardButton
        box.setStandardButtons(B.Discard | B.Cancel)
        box.setDefaultButton(B.Cancel)
        return box.exec() == B.Discard

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

    def about(self) -> None:
        from nnstudio import __version__

        QtWidgets.QMessageBox.about(
            self, "About nnstudio",
            f"<h3>nnstudio {__version__}</h3><p>Watch a neural network learn to read handwritten digits, "
            "after 3Blue1Brown's <i>Neural networks</i> videos.</p>"
            "<p>Cost of one example: C = Σ(a − y)² (no ½), averaged over the mini-batch; "
            "stochastic gradient descent on mini-batches; backpropagation.</p>"
            "<p>MNIST: Yann LeCun, Corinna Cortes, Christopher J.C. Burges (CC BY-SA 3.0).</p>")

    # ================================================================== layout and theme
    def showEvent(self, event) -> None:
        if self._default_sizes_pending:
            if not self._geometry_restored and not self._sized_by_caller:
                docks.fit_to_screen(self)  # (the first launch: within the screen's available area)
            elif self._sized_by_caller:  # arranged for the size asked for, then given it (the wide
                docks.arrange_for_width(self, self._asked_size[0])  # arrangement may not fit in it)
                self.setMinimumSize(0, 0)
                super().resize(*self._asked_size)
            docks.apply_default_layout(self, sizes=False)  # (before showing: it decides the minimum size)
        super().showEvent(event)
        if self._default_sizes_pending:
            self._default_sizes_pending = False
            QtCore.QTimer.singleShot(0, lambda: docks.apply_default_layout(self))

    def resize(self, *args) -> None:
        """(A size set before the window is shown wins over fitting it to the screen.)"""
        if getattr(self, "_default_sizes_pending", False):
            self._sized_by_caller = True
            size = args[0] if len(args) == 1 else QtCore.QSize(*args)
            self._asked_size = (size.width(), size.height())
        super().resize(*args)

    def reset_layout(self) -> None:
        docks.reset_layout(self, self._default_state, STATE_VERSION)

    def open_lessons(self) -> None:
        docks.open_lessons(self)

    def widget_of(self, name: str):
        """A hosted view by key ("diagram", "draw", ...), or "plots" / "training" (the panels)."""
        return self.plots if name == "plots" else self.controls if name == "training" else self.views.get(name)

    def show_view(self, name: str) -> None:
        """Bring a view on screen: show and raise its dock, select its tab."""
        w = self.widget_of(name)
        if w is not None:
            docks.show_widget(self, w)

    def dock_of(self, name: str):
        w = self.widget_of(name)
        return None if w is None else docks.dock_of(w)

    def set_light_theme(self, light: bool) -> None:
        dark = not light
        app = QtWidgets.QApplication.instance()
        if app is not None:
            apply_theme(app, dark=dark)
        self.plots.apply_theme(dark)
        self.actions.apply_theme(dark)
        if self.compare_window is not None:
            self.compare_window.apply_theme(dark)
        # The network views keep the videos' dark look in both themes (their colours are the 3b1b palette)
        dark_palette = app_palette(True)
        for d in (self.draw_dock, self.backprop_dock, self.gradient_dock, self.evaluation_dock):
            d.widget().setPalette(dark_palette)
        self.centralWidget().setPalette(dark_palette)
        # the light stylesheet's boxes and buttons are not as wide as the dark one's: the Training
        # dock takes the width of the panel as it is now drawn (it pushed past its edge otherwise)
        scroll = self.training_dock.widget()
        self.controls.ensurePolished()
        scroll.setMinimumWidth(self.controls.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        self.plots.refresh(self.session.history)
        self.status.refresh(force=True)

    def event(self, ev) -> bool:
        # the window's UpdateRequest paints every dirty widget: time it for the frame pacer
        if ev.type() == QtCore.QEvent.Type.UpdateRequest and "frames" in self.__dict__:
            frames = self.frames
            t0 = time.thread_time()
            frames.hold(True)
            try:
                return super().event(ev)
            finally:
                frames.hold(False)
                frames.add_paint(time.thread_time() - t0)
        return super().event(ev)

    # ================================================================== settings
    def _restore_settings(self) -> None:
        st, s = self.settings, self.session
        refused: list[str] = []
        hyper = {
            "learning_rate": read(st, "train/learning_rate", 1.5, float, 1e-4, 100.0, refused),
            "batch_size": read(st, "train/batch_size", 10, int, 1, 10_000, refused),
            "epochs": read(st, "train/epochs", 30, int, 0, 100_000, refused),
            "speed": read(st, "train/speed", WATCH, float, WATCH, 1e6, refused),
        }
        if hyper["speed"] not in SPEEDS:
            hyper["speed"] = WATCH
        try:
            sizes = parse_sizes(read(st, "net/sizes", "784-16-16-10", str))
        except ValueError:
            refused.append("net/sizes")
            sizes = (784, 16, 16, 10)
        arch = {"sizes": sizes,
                "activation": read(st, "net/activation", "sigmoid", str),
                "cost": read(st, "net/cost", "quadratic", str),
                "init": read(st, "net/init", "scaled", str),
                "seed": read(st, "net/seed", 0, int, 0, 2**31 - 1, refused)}
        s.restore(hyper=hyper, architecture=arch)
        s.teacher.mix_in = read(st, "data/mix_in_my_digits", False, bool)
        self.controls.set_hyper(**{k: v for k, v in s.hyper.items() if k != "speed"})
        self.controls.set_speed(s.hyper["speed"])
        self.controls.set_architecture(**s.architecture)
        self.plots.set_x_mode(read(st, "plots/x_mode", "examples", str))
        light = read(st, "window/light_theme", False, bool)
        self.light_action.setChecked(light)
        if light:
            self.set_light_theme(True)
        geo = st.value("window/geometry")
        if isinstance(geo, (QtCore.QByteArray, bytes)) and geo:
            self._geometry_restored = self.restoreGeometry(QtCore.QByteArray(geo))
        state = st.value("window/state")
        if isinstance(state, (QtCore.QByteArray, bytes)) and state:
            if self.restoreState(QtCore.QByteArray(state), STATE_VERSION):
                self._default_sizes_pending = False
        self.files.show_reopen(read(st, "model/last_path", "", str))
        self._refused_settings = refused

    def save_settings(self) -> None:
        st, s = self.settings, self.session
        st.setValue("window/geometry", self.saveGeometry())
        st.setValue("window/state", self.saveState(STATE_VERSION))
        st.setValue("window/light_theme", self.light_action.isChecked())
        for k, v in s.hyper.items():
            st.setValue(f"train/{k}", v)
        a = s.architecture
        st.setValue("net/sizes", "-".join(str(n) for n in a["sizes"]))
        for k in ("activation", "cost", "init", "seed"):
            st.setValue(f"net/{k}", a[k])
        if s.dataset_key:
            st.setValue("data/dataset", s.dataset_key)
        st.setValue("plots/x_mode", self.plots.x_mode)
        st.setValue("data/mix_in_my_digits", s.teacher.mix_in)
        st.sync()

    # ================================================================== starting
    def start(self, model: str | os.PathLike | None = None) -> None:
        """Load the last dataset (in a thread), then ``model`` if given (else the launch network)."""
        from nnstudio.data import DATASETS, dataset_status

        key = read(self.settings, "data/dataset", "mnist-sample", str) or "mnist-sample"
        reason = None
        if key in DATASETS and key != "mnist-sample" and dataset_status(key) != "cached":
            reason = f"{key} is not downloaded yet; pick it in the Dataset list to download it"
        elif key not in DATASETS and not Path(key).is_dir():
            reason = f"the folder {key} is gone"
        if reason:
            self.statusBar().showMessage(f"Using the embedded mnist-sample: {reason}", 10000)
            key = "mnist-sample"
        notes = []  # (told once, at launch, in a dialog: the launch's status-bar notes would hide it at once)
        if self._refused_settings:
            notes.append("Some saved settings were unusable and are back to their defaults: "
                         + ", ".join(self._refused_settings) + ".")
        if cannot_save(self.settings):
            notes.append(cannot_save(self.settings))
        if notes:
            self.show_message("warning", "Settings", "\n\n".join(notes))
        self.session.start(key, model=model)

    # ================================================================== closing
    def shutdown(self) -> None:
        """Stop and join every thread and the training worker (idempotent)."""
        self._closing = True
        self.frames.stop()
        runner = self.session.runner
        if hasattr(runner, "shutdown"):
            runner.shutdown()
        self.session.shutdown()
        if self.compare_window is not None:
            self.compare_window.shutdown()
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
        """True if the network was trained or changed since it was last saved or opened."""
        return self.session.unsaved

    def ask_save_before_quit(self) -> str:
        """Ask what to do with unsaved training: ``"save"``, ``"discard"`` or ``"cancel"``."""
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
        # A person closing the window (close button, File ▸ Quit) is asked about unsaved training;
        # a programmatic close() (Ctrl+C in the terminal, tests) is not.
        if self._closing or not (event.spontaneous() or self._ask_on_close) or not self.has_unsaved_training():
            return True
        self.session.pause()
        answer = self.ask_save_before_quit()
        if answer == "save":
            return self.files.save_dialog()  # (a failed or cancelled save keeps the window open)
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
