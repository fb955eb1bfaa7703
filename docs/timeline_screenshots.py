"""Render the "time travel" screenshots (docs/timeline-*.png) from the real studio window.

    python docs/timeline_screenshots.py                                   # offscreen
    QT_QPA_PLATFORM=xcb DISPLAY=:71 python docs/timeline_screenshots.py   # under Xvfb

* timeline-past.png: the window after 30 epochs of the embedded sample (12,000 mini-batches,
  784-16-16-10, seed 0), the timeline dragged back to mini-batch 1,240: every view shows the network
  as it was then, marked "past: step 1,240 of 12,000" in violet (the bar, the diagram's caption, the
  status bar, a line on the cost curve);
* timeline-hover.png: the plots and the timeline, the mouse over the cost curve at mini-batch ~3,000
  (the exact mini-batch, epoch and cost);
* replay-frame.png: one frame of File ▸ Export replay as GIF (the diagram beside the cost curve with
  the step counter), at mini-batch 1,240.

Settings go to a temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnstudio.gui.qt import QtCore, QtWidgets  # noqa: E402

OUT = Path(__file__).resolve().parent
STEP = 1240


def spin(app, seconds: float, until=None) -> bool:
    """Run the event loop for ``seconds``, or until ``until()`` is true (then True)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if until is not None and until():
            return True
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    return until is None or bool(until())


def main() -> int:
    os.environ.setdefault("NNSTUDIO_SETTINGS_DIR", tempfile.mkdtemp(prefix="nnstudio-shots-"))
    os.environ.setdefault("NNSTUDIO_DATA_DIR", tempfile.mkdtemp(prefix="nnstudio-data-"))
    from nnstudio.gui.app import create_app
    from nnstudio.gui.replay import ReplayRenderer
    from nnstudio.gui.style.palette import apply_theme
    from nnstudio.gui.window.mainwindow import MainWindow, make_settings

    app = QtWidgets.QApplication.instance() or create_app([])
    apply_theme(app, dark=True)  # (the studio's default, as the launcher applies it)
    w = MainWindow(make_settings(), load_views=True)
    w.resize(1600, 1000)
    w.show()
    w.start()
    s = w.session
    assert spin(app, 60, lambda: s.snapshot is not None and s.dataset is not None), "the studio did not start"
    spin(app, 1.0)
    w.views["draw"].load_example(0)
    w.actions.full_speed.trigger()
    s.set_epochs(30)
    s.play()
    assert spin(app, 120, lambda: s.run_state == "finished"), f"the run did not finish ({s.run_state})"
    spin(app, 1.0)
    w.timeline_bar.refresh()
    w.timeline_bar.slider.setValue(STEP)
    assert spin(app, 30, lambda: s.snapshot.past is not None and s.snapshot.past[0] == STEP), "no past"
    spin(app, 1.0)
    print("state:", s.network_label(), s.history.n, s.run_state, f"{s.timeline.last_ms:.1f} ms")
    w.grab().save(str(OUT / "timeline-past.png"))
    print(OUT / "timeline-past.png")

    # the cost curve's hover (the mouse over mini-batch ~3,000)
    probe, plot = w.cost_probe, w.plots.cost_plot
    vb = plot.getPlotItem().vb
    row = s.history.rows(2999, 3000)[0]
    x = probe._seen_to_x(float(row["examples_seen"]))
    (_x0, _x1), (y0, y1) = vb.viewRange()
    scene = vb.mapViewToScene(QtCore.QPointF(x, y0 + 0.6 * (y1 - y0)))
    probe._moved(scene)  # (what the scene's mouse-move signal calls)
    spin(app, 0.5)
    print("hover:", probe.hover_text.replace("\n", " | "))
    dock = w.plots_dock.widget()
    dock.grab().save(str(OUT / "timeline-hover.png"))
    print(OUT / "timeline-hover.png")

    # one frame of the replay
    run = s.timeline.run()
    x_train, y_train = s.timeline.training_set
    r = ReplayRenderer(run, run.replayer(x_train, y_train), (800, 450), s.current_input, s.dataset.class_names)
    r.frame(STEP).save(OUT / "replay-frame.png")
    print(OUT / "replay-frame.png")
    s.timeline.go_live()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
