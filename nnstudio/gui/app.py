"""Start the studio: the QApplication (name, icon, theme) and the main window.

``run()`` shows the window first and only then loads the dataset (in a thread), so the
window appears at once with a progress bar in its status bar.
"""

from __future__ import annotations

import os
import signal
import sys

from nnstudio.gui.style.palette import apply_theme
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets
from nnstudio.training.workers import warm_up

APP_NAME = "nnstudio"
DESKTOP_FILE_NAME = "nnstudio"  # matches the installed nnstudio.desktop


def icon_path(ext: str = "png"):
    from nnstudio._resources import resource_path

    return resource_path("icons", f"nnstudio.{ext}")


def app_icon() -> QtGui.QIcon:
    icon = QtGui.QIcon()
    for ext in ("svg", "png"):
        p = icon_path(ext)
        if p.is_file():
            icon.addFile(str(p))
    return icon


def create_app(argv=None) -> QtWidgets.QApplication:
    """The QApplication, named and iconed (reuses an existing one)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        _quiet_painting()
        # argv[0] "nnstudio" makes the X11 WM_CLASS "nnstudio" (taskbar grouping with the .desktop file)
        app = QtWidgets.QApplication([APP_NAME] + list(argv or []))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    # No setApplicationDisplayName: Qt appends the display name to every window title
    # ("nnstudio — 784-16-16-10 on mnist-sample — nnstudio"); the main window's title already
    # starts with the name, and without a display name Qt shows it once.
    app.setDesktopFileName(DESKTOP_FILE_NAME)
    from nnstudio import __version__

    app.setApplicationVersion(__version__)
    app.setWindowIcon(app_icon())
    return app


def _quiet_painting() -> None:
    """On a machine of four cores or fewer, Qt paints in the GUI thread alone: its raster engine
    otherwise splits big fills and image draws over a thread pool, whose threads take the
    trainer's core and, on a busy machine, keep the GUI thread waiting for them (seen as 13 % of
    the GUI thread's time waiting in QLatch while training at full speed beside another busy
    program).  Set before the QApplication exists; a user's own setting wins."""
    if (os.cpu_count() or 1) <= 4:
        os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def _steady_heap() -> None:
    """Keep a long session's memory flat (glibc): blocks of 64 KB and more (network snapshots,
    view buffers, arriving at display rate) come from mmap and go back to the system when
    freed.  glibc's default raises that threshold as big blocks are freed, after which they
    are carved from the heap, which can fragment.  (Measured on 60 s soaks: 14 MB/min of growth
    in the second half without it, 5 and 11 MB/min in two runs with it; most of that growth
    turned out to be caches that stop filling after ~2 minutes, and the 30-minute soak, run
    with this setting, stayed flat after its warm-up.)"""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD (fixes it: no more raising)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        pass


def build_window(settings=None, **kw):
    """Create the app (if needed), theme it from the settings and build the main window."""
    from nnstudio.gui.window.mainwindow import MainWindow
    from nnstudio.gui.window.settings import make_settings, read

    warm_up()  # (the training process's server imports NumPy and the engine while the window is built)
    app = create_app()
    _steady_heap()
    # Background threads of the views (evaluation, landscape) share the GIL with the GUI
    # thread; hand it over every 1 ms instead of 5 so painting never waits long for it.
    if sys.getswitchinterval() > 0.001:
        sys.setswitchinterval(0.001)
    settings = settings if settings is not None else make_settings()
    apply_theme(app, dark=not read(settings, "window/light_theme", False, bool))
    window = MainWindow(settings, **kw)
    window.setWindowIcon(app.windowIcon())
    return app, window


def run(model=None) -> int:
    """Open the studio window (optionally with a model file) and run the event loop."""
    app, window = build_window()
    window.show()
    # heavy work (dataset, model) only once the window is on screen
    QtCore.QTimer.singleShot(0, lambda: window.start(model=os.fspath(model) if model is not None else None))
    # Ctrl+C in the terminal closes the window cleanly (Python gets a chance to run)
    signal.signal(signal.SIGINT, lambda *_: window.close())
    tick = QtCore.QTimer()
    tick.timeout.connect(lambda: None)
    tick.start(250)
    code = app.exec()
    window.shutdown()
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1] if len(sys.argv) > 1 else None))
