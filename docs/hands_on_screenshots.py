"""Render the "hands on the network" screenshots (docs/hands-on-*.png) from the real studio window.

    python docs/hands_on_screenshots.py                                   # offscreen
    QT_QPA_PLATFORM=xcb DISPLAY=:57 python docs/hands_on_screenshots.py   # under Xvfb

* hands-on-inspector.png: the neuron inspector of hidden neuron 3 with its bias dragged by +2.5, the
  test accuracy before → after;
* hands-on-ablation.png: "which neurons matter" for the first hidden layer (the edit reset);
* hands-on-observations.png: the window during a run whose η was raised from 1.5 to 12 after 1,000
  mini-batches, the Observations feed under the plots.

The shipped pretrained 784-16-16-10 network and the embedded sample (its 1,000 test images).
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

from nnstudio.gui.qt import QtCore  # noqa: E402

OUT = Path(__file__).resolve().parent


def wait(app, cond, timeout=60.0) -> bool:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            return False
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    return True


def pause(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    wait(app, lambda: time.monotonic() > end, seconds + 1)


def main() -> int:
    os.environ.setdefault("NNSTUDIO_SETTINGS_DIR", tempfile.mkdtemp(prefix="nnstudio-shots-"))
    os.environ.setdefault("NNSTUDIO_DATA_DIR", tempfile.mkdtemp(prefix="nnstudio-data-"))
    from nnstudio.gui.app import build_window

    app, w = build_window(load_views=True)  # (as the studio opens: themed from the settings)
    w.resize(1600, 1000)
    w.show()
    w.start()
    s = w.session
    assert wait(app, lambda: s.snapshot is not None and s.dataset is not None), "the studio did not start"
    pause(app, 1.0)
    diagram, pad = w.views["diagram"], w.views["draw"]
    pad.load_example(0)

    # 1. the inspector, bias dragged
    diagram.select_neuron(1, 3, inspect=True)
    ins = diagram.inspector
    dlg = diagram.inspector_dialog
    dlg.resize(560, 900)
    dlg.move(w.geometry().right() - 580, w.geometry().top() + 40)
    ins.edit_panel.bias_slider.setValue(250)
    assert wait(app, lambda: "with this edit" in ins.edit_panel.accuracy_label.text(), 30), "no accuracy"
    pause(app, 0.5)

    dlg.grab().save(str(OUT / "hands-on-inspector.png"))
    print(OUT / "hands-on-inspector.png")

    # 2. which neurons matter (the edit reset)
    ins.edit_panel.reset_button.click()
    ins.bottom_tabs.setCurrentIndex(1)
    assert wait(app, lambda: ins.ablation_chart.values.size == 16, 60), "no ablation chart"
    pause(app, 0.5)
    dlg.grab().save(str(OUT / "hands-on-ablation.png"))
    print(OUT / "hands-on-ablation.png")
    dlg.close()

    # 3. the observations feed during a run whose η is too large
    s.new_network(seed=0, ask=False)
    s.set_learning_rate(1.5)
    s.set_batch_size(10)
    s.set_speed(1000)
    s.play()
    assert wait(app, lambda: s.history.n >= 1000, 120), "no run"
    s.set_learning_rate(12.0)
    assert wait(app, lambda: "overshoot" in w.observations.kinds(), 180), "no overshoot observation"
    pause(app, 2.0)
    s.pause()
    pause(app, 1.0)
    w.grab().save(str(OUT / "hands-on-observations.png"))
    print(OUT / "hands-on-observations.png", w.observations.kinds())
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
