"""Import Qt once, in the right order: PySide6 first, then pyqtgraph bound to it."""

from __future__ import annotations

import os

os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

from PySide6 import QtCore, QtGui, QtWidgets  # noqa: E402

import pyqtgraph as pg  # noqa: E402

pg.setConfigOptions(antialias=True, background="#101418", foreground="#d8dde3")

Qt = QtCore.Qt
Signal = QtCore.Signal
Slot = QtCore.Slot

__all__ = ["QtCore", "QtGui", "QtWidgets", "pg", "Qt", "Signal", "Slot"]
