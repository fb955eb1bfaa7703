"""Fixtures of the GUI tests: a studio window on a fresh profile, started and closed cleanly."""

from __future__ import annotations

import gc

import pytest
from helpers_gui import no_epoch_limit, settle

from nnstudio.gui.qt import QtWidgets
from nnstudio.gui.window.mainwindow import MainWindow, make_settings


@pytest.fixture(autouse=True)
def _collect_garbage_here():
    """Collect each GUI test's garbage at its end, in the main thread: Qt objects in reference cycles
    must never be destroyed by a collection that a worker thread happens to trigger (see
    nnstudio.gui.qt.collect_garbage_in_gui_thread, which the studio window switches on)."""
    yield
    gc.collect()


@pytest.fixture
def settings_dir(tmp_path, monkeypatch):
    """A fresh, empty settings folder (NNSTUDIO_SETTINGS_DIR points to it)."""
    d = tmp_path / "settings"
    monkeypatch.setenv("NNSTUDIO_SETTINGS_DIR", str(d))
    return d


@pytest.fixture
def make_window(qtbot, settings_dir):
    """``make(start=True, epochs=0, size=(1600, 1000), full_speed=True, **kw)``: a shown MainWindow (placeholders
    instead of the views unless ``load_views=True``), started and idle, training at full speed with no
    epoch limit unless ``epochs`` says otherwise (None: the saved one).  Every window is closed after the test and must
    leave no worker behind."""
    made = []

    def make(start=True, epochs=0, size=(1600, 1000), full_speed=True, **kw):
        kw.setdefault("load_views", False)
        w = MainWindow(make_settings(), **kw)
        made.append(w)
        if size is not None:
            w.resize(*size)
        w.show()
        w.activateWindow()
        if start:
            with qtbot.waitSignal(w.trainingPaused, timeout=30000):
                w.start()
            settle(qtbot, w)
            no_epoch_limit(qtbot, w, epochs)
            if full_speed:  # Training ▸ Full speed (tests that watch the watch pace say full_speed=False)
                w.actions.full_speed.trigger()
                settle(qtbot, w)
        return w

    yield make
    for w in made:
        w.close()  # (a programmatic close: never asks)
        assert not w.session.worker.alive
        w.deleteLater()
    QtWidgets.QApplication.processEvents()


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def studio(make_window):
    """A window with every real view, at 1600×1000."""
    return make_window(load_views=True, size=(1600, 1000))
