"""The window's side of the timeline: File ▸ Open run / Save run / Export replay, Training ▸ Back to
live (L) and Continue from here, and the past marked in the status bar.

The work is the session's (``session.timeline``: :mod:`nnstudio.session.timeline`) and the replay
renderer's (:mod:`nnstudio.gui.replay`); this module asks (dialogs) and shows progress.
"""

from __future__ import annotations

from pathlib import Path

from nnstudio.gui.qt import QtCore, QtWidgets, Qt
from nnstudio.gui.replay import MAX_FPS, MAX_FRAMES, MAX_SIDE, MIN_SIDE, render_replay
from nnstudio.gui.views.timeline import ContinueDialog, style_status

RUN_FILTER = "nnstudio runs (*.npz);;All files (*)"


class Runs(QtCore.QObject):
    def __init__(self, window):
        super().__init__(window)
        self.w = window
        window.session.events.past.connect(self._on_past)
        window.timeline_bar.continueRequested.connect(self.continue_dialog)
        #: what the last export wrote (a nnstudio.gui.replay.Replay), for tests
        self.last_export = None

    def _on_past(self, step, _last) -> None:
        style_status(self.w.status, step is not None)
        self.w.status.refresh(force=True)

    # ------------------------------------------------------------------ run files
    def save_dialog(self) -> bool:
        w = self.w
        path = w.ask_save_path("Save the run (every mini-batch, to replay or continue)",
                               str(Path(w.files.start_dir()) / "nnstudio-run.npz"), RUN_FILTER)
        if not path:
            return False
        if not path.endswith(".npz"):
            path += ".npz"
        w.files.remember(path)
        return w.session.timeline.save_run(path)

    def open_dialog(self) -> bool:
        w = self.w
        path = w.ask_open_path("Open a run", w.files.start_dir(), RUN_FILTER)
        if not path:
            return False
        w.files.remember(path)
        return w.session.timeline.open_run(path)

    # ------------------------------------------------------------------ continue from here
    def continue_dialog(self) -> bool:
        s = self.w.session
        tl = s.timeline
        if tl.shown is None:
            self.w.statusBar().showMessage("Drag the timeline back first: Continue starts from a step of the past", 6000)
            return False
        dlg = ContinueDialog(tl.shown.past[0], s.hyper["learning_rate"], int(s.hyper["batch_size"]), self.w)
        if not self.w.ask_dialog(dlg):
            return False
        return tl.fork(learning_rate=dlg.eta.value(), batch_size=dlg.batch.value())

    # ------------------------------------------------------------------ replay
    def export_dialog(self) -> bool:
        w = self.w
        s = w.session
        run = s.timeline.run()
        if run is None or run.last_step <= run.first_step:
            w.show_message("info", "Nothing to replay yet", "Train a little first: the replay shows the run so far.")
            return False
        dlg = ExportDialog(run.first_step, run.last_step, w)
        if not w.ask_dialog(dlg):
            return False
        path = w.ask_save_path("Export the replay as an animated GIF", str(Path(w.files.start_dir()) / "training.gif"),
                               "GIF images (*.gif)")
        if not path:
            return False
        if not path.endswith(".gif"):
            path += ".gif"
        w.files.remember(path)
        return self.export(path, **dlg.values())

    def export(self, path, **options) -> bool:
        """Render the run's replay to ``path`` with a progress dialog (``options``: render_replay's)."""
        w = self.w
        s = w.session
        run = s.timeline.run()
        x, y = s.timeline.training_set
        ex = s.current_input
        progress = QtWidgets.QProgressDialog("Rendering the replay…", "Cancel", 0, 100, w)
        progress.setObjectName("replayProgress")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(300)

        def step(done, total):
            progress.setValue(int(100 * done / total))
            QtCore.QCoreApplication.processEvents()

        try:
            self.last_export = render_replay(run, run.replayer(x, y), path, example=ex, class_names=s.dataset.class_names,
                                             progress=step, cancelled=progress.wasCanceled, **options)
        except (ValueError, OSError) as e:
            w.show_message("error", "Could not export the replay", f"{Path(path).name}: {e}")
            return False
        except Exception as e:  # (Cancelled)
            if progress.wasCanceled():
                w.statusBar().showMessage("Replay export cancelled: nothing written", 6000)
                return False
            raise e
        finally:
            progress.close()
        r = self.last_export
        w.statusBar().showMessage(f"Exported {Path(path).name}: {len(r.steps)} frames, steps {r.steps[0]:,} to "
                                  f"{r.steps[-1]:,}", 8000)
        return True


class ExportDialog(QtWidgets.QDialog):
    """Which steps, how many frames, how fast, how big."""

    def __init__(self, first: int, last: int, parent=None):
        super().__init__(parent)
        self.setObjectName("exportReplayDialog")
        self.setWindowTitle("Export replay")
        self.first = QtWidgets.QSpinBox()
        self.last = QtWidgets.QSpinBox()
        for box, v in ((self.first, first), (self.last, last)):
            box.setRange(first, last)
            box.setValue(v)
            box.setGroupSeparatorShown(True)
        self.frames = QtWidgets.QSpinBox()
        self.frames.setRange(1, MAX_FRAMES)
        self.frames.setValue(60)
        self.fps = QtWidgets.QDoubleSpinBox()
        self.fps.setRange(0.5, MAX_FPS)
        self.fps.setValue(10)
        self.width_box = QtWidgets.QSpinBox()
        self.width_box.setRange(MIN_SIDE, MAX_SIDE)
        self.width_box.setValue(800)
        self.height_box = QtWidgets.QSpinBox()
        self.height_box.setRange(MIN_SIDE // 2, MAX_SIDE)
        self.height_box.setValue(450)
        self.log = QtWidgets.QCheckBox("more frames early on (log spacing), when the network changes fastest")
        form = QtWidgets.QFormLayout(self)
        form.addRow("From mini-batch", self.first)
        form.addRow("To mini-batch", self.last)
        form.addRow("Frames", self.frames)
        form.addRow("Frames per second", self.fps)
        size = QtWidgets.QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QtWidgets.QLabel("×"))
        size.addWidget(self.height_box)
        form.addRow("Size (pixels)", size)
        form.addRow(self.log)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict:
        first, last = sorted((self.first.value(), self.last.value()))
        return {"first": first, "last": last, "frames": self.frames.value(), "fps": self.fps.value(),
                "size": (self.width_box.value(), self.height_box.value()),
                "spacing": "log" if self.log.isChecked() else "linear"}
