"""File ▸ dialogs: open and save networks, export the plots and the history.

Dialogs start in the folder last used, else the user's documents folder, never inside the
installed package.  The work itself is the session's (open, save) or the plots' and history's
(export); problems are told in a dialog and change nothing.
"""

from __future__ import annotations

from pathlib import Path

from nnstudio.gui.qt import QtCore, QtWidgets
from nnstudio.gui.window.settings import read
from nnstudio.session.model import sizes_text


class Files(QtCore.QObject):
    def __init__(self, window):
        super().__init__(window)
        self.w = window

    # ------------------------------------------------------------------ asking (tests replace these)
    def ask_open_path(self, title: str, start: str, filters: str) -> str | None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.w, title, start, filters)
        return path or None

    def ask_save_path(self, title: str, start: str, filters: str) -> str | None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.w, title, start, filters)
        return path or None

    def ask_folder(self, title: str, start: str) -> str | None:
        return QtWidgets.QFileDialog.getExistingDirectory(self.w, title, start) or None

    def start_dir(self) -> str:
        """The folder a dialog opens in: the last one used, else the documents folder."""
        last = read(self.w.settings, "files/last_dir", "", str)
        if last and Path(last).is_dir():
            return last
        docs = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.DocumentsLocation)
        return docs if docs and Path(docs).is_dir() else str(Path.home())

    def remember(self, path) -> None:
        self.w.settings.setValue("files/last_dir", str(Path(path).resolve().parent))

    # ------------------------------------------------------------------ networks
    def open_dialog(self) -> None:
        path = self.w.ask_open_path("Open a network", self.start_dir(), "nnstudio models (*.npz);;All files (*)")
        if path:
            self.remember(path)
            self.open(path)

    def open(self, path) -> bool:
        ok = self.w.session.open_model(path)
        if ok:
            self._remember_model(path)
        return ok

    def reopen_last(self) -> None:
        last = read(self.w.settings, "model/last_path", "", str)
        if last:
            self.open(last)

    def save_dialog(self) -> bool:
        net = self.w.session.network
        name = f"nnstudio-{sizes_text(net.sizes)}.npz" if net is not None else "nnstudio.npz"
        path = self.w.ask_save_path("Save the network", str(Path(self.start_dir()) / name), "nnstudio models (*.npz)")
        if not path:
            return False
        if not path.endswith(".npz"):
            path += ".npz"
        self.remember(path)
        ok = self.w.session.save_model(path)
        if ok:
            self._remember_model(path)
        return ok

    def _remember_model(self, path) -> None:
        self.w.settings.setValue("model/last_path", str(Path(path).resolve()))
        self.show_reopen(str(path))

    def show_reopen(self, last: str) -> None:
        a = self.w.reopen_action
        a.setEnabled(bool(last))
        a.setText(f"&Reopen {Path(last).name}" if last else "&Reopen last model")

    # ------------------------------------------------------------------ exports
    def export_png_dialog(self) -> None:
        path = self.w.ask_save_path("Export the plots", str(Path(self.start_dir()) / "nnstudio-plots.png"),
                                    "PNG images (*.png)")
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            self.remember(path)
            self.export_plots(path)

    def export_plots(self, path) -> bool:
        w = self.w
        try:
            w.plots.refresh(w.session.history)
            w.plots.export_png(path)
        except OSError as e:
            w.show_message("error", "Could not export the plots", f"{Path(path).name}: {e.strerror or e}")
            return False
        w.statusBar().showMessage(f"Plots saved to {path}", 5000)
        return True

    def export_csv_dialog(self) -> None:
        path = self.w.ask_save_path("Export the training history", str(Path(self.start_dir()) / "nnstudio-history.csv"),
                                    "CSV files (*.csv)")
        if path:
            if not path.lower().endswith(".csv"):
                path += ".csv"
            self.remember(path)
            self.export_history(path)

    def export_history(self, path) -> bool:
        w = self.w
        h = w.session.history
        try:
            h.to_csv(path)
        except OSError as e:
            w.show_message("error", "Could not export the history", f"{Path(path).name}: {e.strerror or e}")
            return False
        export = getattr(h, "last_export", None)
        if export is not None and not export.complete:  # (the history's disk was full or capped)
            w.show_message("warning", "History exported in part", f"{Path(path).name}: {export.note}")
            return True
        w.statusBar().showMessage(f"History ({h.n:,} mini-batches) saved to {path}", 5000)
        return True
