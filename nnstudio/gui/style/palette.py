"""The application's palettes and stylesheet (dark, the videos' look, and light), and the dark
palette the network views keep in both themes."""

from __future__ import annotations

from nnstudio._resources import resource_path
from nnstudio.gui.qt import QtGui, QtWidgets
from nnstudio.gui.style import theme


def app_palette(dark: bool) -> QtGui.QPalette:
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
    # Fusion draws a check box's frame a shade darker than the window: on the dark theme's panels
    # an empty box was a black square on near-black (the diagram's toolbar styles its own alike)
    box_border = "#6b7684" if dark else "#8c959f"
    box_base = "#0b0e13" if dark else "#ffffff"
    check = resource_path("icons", "check.svg").as_posix()
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
QCheckBox::indicator {{ width: 13px; height: 13px; border: 1px solid {box_border}; border-radius: 3px;
                        background: {box_base}; }}
QCheckBox::indicator:hover {{ border-color: {accent}; }}
QCheckBox::indicator:checked {{ background: {accent}; border-color: {accent}; image: url({check}); }}
QCheckBox::indicator:disabled {{ border-color: {border}; background: transparent; }}
QCheckBox::indicator:checked:disabled {{ background: {border}; image: none; }}
#statusBar {{ border-top: 1px solid {border}; }}
#statusBar QLabel[statusField="true"] {{ padding: 0 8px; border-left: 1px solid {border}; }}
#trainingScroll, #trainingScroll > QWidget > QWidget {{ background: transparent; }}
"""


def apply_theme(app: QtWidgets.QApplication, dark: bool = True) -> None:
    """Dark (3b1b-like, the default) or light palette plus a small stylesheet."""
    app.setStyle("Fusion")
    app.setPalette(app_palette(dark))
    app.setStyleSheet(stylesheet(dark))
    app.setProperty("nnstudioDark", dark)


def apply_dark_palette(widget, window: str = theme.PANEL, base: str = theme.BACKGROUND) -> None:
    """Give a view the videos' dark palette (it keeps it in the app's light theme too)."""
    role = QtGui.QPalette.ColorRole
    widget.setAutoFillBackground(True)
    pal = widget.palette()
    for r, col in (
        (role.Window, window), (role.WindowText, theme.TEXT), (role.Button, "#21262d"), (role.ButtonText, theme.TEXT),
        (role.Text, theme.TEXT), (role.Base, base), (role.Highlight, "#2f6f8f"), (role.ToolTipBase, theme.PANEL),
        (role.ToolTipText, theme.TEXT), (role.PlaceholderText, theme.MUTED),
    ):
        pal.setColor(r, QtGui.QColor(col))
    widget.setPalette(pal)
