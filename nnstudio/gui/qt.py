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


_gc = None


def collect_garbage_in_gui_thread(interval: float = 0.5) -> None:
    """Python's cyclic garbage collector runs in whichever thread happens to allocate when its
    threshold is crossed.  If that is a worker thread and the garbage holds Qt objects, their C++
    destructors run there: they take Qt's locks and then wait for the interpreter lock, while the
    GUI thread holds that lock and waits for Qt's (a deadlock, seen with the training reader
    thread).  So the automatic collector is switched off and garbage is collected on a timer, in
    the GUI thread only (pyqtgraph's GarbageCollector).  Idempotent; needs a QApplication."""
    global _gc
    if _gc is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _gc = GarbageCollector(interval=interval)
