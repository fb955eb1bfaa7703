"""Start the studio: the QApplication (name, icon, theme) and the main window.

``run()`` shows the window first and only then loads the dataset (in a thread), so the
window appears at once with a progress bar in its status bar.
"""

from __future__ import annotations

import os
import signal
import sys

from nnstudio.gui.style import theme
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets

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


def _palette(dark: bool) -> QtGui.QPalette:
    if dark:
        bg, panel, text, muted = theme.BACKGROUND, theme.PANEL, theme.TEXT, theme.MUTED
        button, base, alt = "#1f2630", "#0b0e13", "#141a21"
        highlight, htext = "#2f6feb", "#ffffff"
    else:
        bg, panel, text, muted = theme.LIGHT["BACKGROUND"], theme.LIGHT["PANEL"], theme.LIGHT["TEXT"], theme.LIGHT["MUTED"]
        button, base, alt = "#eef1f4", "#ffffff", "#f3f5f7"
        highlight, htext = "#0969da", "#ffffff"
    C = QtGui.QColor
    R = QtGui.QPalette.ColorRole
    G = QtGui.QPalette.ColorGroup
    p = QtGui.QPalette()
    for role, col in (
        (R.Window, bg), (R.WindowText, text), (R.Base, base), (R.AlternateBase, alt),
        (R.ToolTipBase, panel), (R.ToolTipText, text), (R.Text, text), (R.Button, button),
        (R.ButtonText, text), (R.BrightText, "#ffffff"), (R.Highlight, highlight),
        (R.HighlightedText, htext), (R.Link, "#58a6ff" if dark else "#0969da"), (R.PlaceholderText, muted),
        (R.Light, "#3b4552" if dark else "#ffffff"), (R.Midlight, "#2a323d" if dark else "#e4e8ec"),
        (R.Mid, "#242b35" if dark else "#c9d1d9"), (R.Dark, "#0a0d11" if dark else "#afb8c1"),
        (R.Shadow, "#000000" if dark else "#8c959f"),
    ):
        p.setColor(role, C(col))
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G.Disabled, role, C("#5a636e" if dark else "#a0a8b0"))
    return p


def stylesheet(dark: bool) -> str:
    """The window's own chrome only (controls, plots, docks, status bar): the hosted views
    style themselves and are not touched by these rules."""
    panel = theme.PANEL if dark else theme.LIGHT["PANEL"]
    muted = theme.MUTED if dark else theme.LIGHT["MUTED"]
    border = "#2a313b" if dark else "#d0d7de"
    title_bg = "#1a2029" if dark else "#eaeef2"
    accent = theme.ACCENT
    accent_text = "#1b1600"
    button = "#222a35" if dark else "#f0f3f6"
    hover = "#2c3644" if dark else "#e2e7ec"
    c = "#trainingControls"
    return f"""
QMainWindow::separator {{ background: {border}; width: 3px; height: 3px; }}
QDockWidget::title {{ background: {title_bg}; padding: 5px 8px; border-bottom: 1px solid {border};
                      text-align: left; }}
{c} QGroupBox {{ background: {panel}; border: 1px solid {border}; border-radius: 6px; margin-top: 14px;
             padding-top: 6px; font-weight: 600; }}
{c} QGroupBox::title {{ subcontrol-origin: margin; left: 10px; padding: 0 4px; color: {muted}; }}
{c} QLabel[muted="true"], #plotsPanel QLabel[muted="true"] {{ color: {muted}; }}
{c} QToolButton, #plotsPanel QToolButton {{ background: {button}; border: 1px solid {border};
             border-radius: 5px; padding: 4px 6px; }}
{c} QToolButton:hover, #plotsPanel QToolButton:hover {{ background: {hover}; }}
{c} QToolButton:pressed, {c} QToolButton:checked, #plotsPanel QToolButton:checked {{ background: {border}; }}
{c} QToolButton:disabled {{ color: {muted}; }}
{c} QToolButton[primary="true"] {{ background: {accent}; color: {accent_text}; border: 1px solid {accent};
                               font-weight: 700; font-size: 11pt; }}
{c} QToolButton[primary="true"]:hover {{ background: #ffd45e; }}
{c} QToolButton[primary="true"]:disabled {{ background: {button}; color: {muted}; border-color: {border}; }}
{c} QLineEdit[invalid="true"] {{ border: 1px solid {theme.BAD}; border-radius: 3px; }}
#statusBar {{ border-top: 1px solid {border}; }}
#statusBar QLabel[statusField="true"] {{ padding: 0 8px; border-left: 1px solid {border}; }}
#trainingScroll, #trainingScroll > QWidget > QWidget {{ background: transparent; }}
"""


def apply_theme(app: QtWidgets.QApplication, dark: bool = True) -> None:
    """Dark (3b1b-like, the default) or light palette plus a small stylesheet."""
    app.setStyle("Fusion")
    app.setPalette(_palette(dark))
    app.setStyleSheet(stylesheet(dark))
    app.setProperty("nnstudioDark", dark)


def create_app(argv=None) -> QtWidgets.QApplication:
    """The QApplication, named and iconed (reuses an existing one)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
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
    from nnstudio.gui.window.mainwindow import MainWindow, _setting, make_settings

    app = create_app()
    _steady_heap()
    # Background threads of the views (evaluation, landscape) share the GIL with the GUI
    # thread; hand it over every 1 ms instead of 5 so painting never waits long for it.
    if sys.getswitchinterval() > 0.001:
        sys.setswitchinterval(0.001)
    settings = settings if settings is not None else make_settings()
    apply_theme(app, dark=not _setting(settings, "window/light_theme", False, bool))
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
