"""Render the guided lessons in the real studio window (docs/lessons-step01.png, -step08.png, -step12.png).

    python docs/lessons_screenshots.py            # offscreen
    QT_QPA_PLATFORM=xcb DISPLAY=:99 python docs/lessons_screenshots.py   # under Xvfb

The window is the studio's own (dark theme, 1600×1000, the embedded mnist-sample, fresh
settings) with the lessons dock the window hosts.
Step 12 is shown after three epochs of training from its fresh random weights.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["NNSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="nnstudio-shots-")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnstudio.gui.qt import QtCore, QtWidgets  # noqa: E402

OUT = Path(__file__).resolve().parent


def main() -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from nnstudio.gui.style.palette import apply_theme
    from nnstudio.gui.window.mainwindow import MainWindow, make_settings

    apply_theme(app, dark=True)
    w = MainWindow(make_settings())
    view = w.lessons_view
    w.resize(1600, 1000)
    w.show()
    loop = QtCore.QEventLoop()

    def wait(signal, timeout_ms=30000):
        timer = QtCore.QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        signal.connect(loop.quit)
        timer.start(timeout_ms)
        loop.exec()
        signal.disconnect(loop.quit)

    def settle(seconds=0.6):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def shot(name):
        settle()
        path = OUT / name
        w.grab().save(str(path))
        print("wrote", path)

    w.start()
    wait(w.trainingPaused)
    w.lessons_action.trigger()
    view.setup_button.click()  # (opening the lessons sets nothing up by itself)
    wait(view.stepReady)
    shot("lessons-step01.png")
    view.go_to(7)
    wait(view.stepReady)
    shot("lessons-step08.png")
    view.go_to(11)
    wait(view.stepReady)
    for _ in range(3):
        w.step_epoch()
        wait(w.trainingPaused)
    ev = w.views["evaluation"]
    if ev.busy or ev.report is None:
        wait(ev.evaluated)
    shot("lessons-step12.png")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
