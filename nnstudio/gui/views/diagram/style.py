"""The style sheet the diagram family's toolbars share (the diagram, the inspector, the gallery)."""

from __future__ import annotations

from nnstudio.gui.style import theme

TOOLBAR_STYLE = f"""
QLabel, QCheckBox {{ color: {theme.TEXT}; }}
QCheckBox:disabled, QLabel:disabled {{ color: {theme.MUTED}; }}
QToolButton, QComboBox {{ color: {theme.TEXT}; background: {theme.PANEL}; border: 1px solid #30363d;
    border-radius: 4px; padding: 2px 8px; }}
QToolButton:hover, QComboBox:hover {{ border-color: {theme.MUTED}; }}
QToolButton:disabled {{ color: #484f58; }}
QComboBox QAbstractItemView {{ color: {theme.TEXT}; background: {theme.PANEL};
    selection-background-color: #30363d; }}
QCheckBox::indicator {{ width: 13px; height: 13px; border: 1px solid {theme.MUTED}; border-radius: 3px;
    background: {theme.PANEL}; }}
QCheckBox::indicator:checked {{ background: {theme.ACCENT}; border-color: {theme.ACCENT}; }}
"""
