"""Render the screenshots of "Comparing runs" and of the diagram's edge and neuron modes
(docs/compare-*.png, docs/diagram-edges-*.png, docs/diagram-neurons-nudge.png).

    python docs/compare_screenshots.py            # offscreen
    QT_QPA_PLATFORM=xcb DISPLAY=:83 python docs/compare_screenshots.py   # under Xvfb

Trains on the embedded mnist-sample (4,000 digits), in this process (no training process), so that
every run of the script draws the same pictures.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnstudio.gui.qt import QtWidgets  # noqa: E402
from nnstudio.gui.style.palette import apply_theme  # noqa: E402
from nnstudio.gui.views.compare import CompareWindow  # noqa: E402
from nnstudio.gui.views.diagram.view import DiagramView  # noqa: E402
from nnstudio.session import Session  # noqa: E402
from nnstudio.session.compare import Comparison  # noqa: E402
from nnstudio.training.workers import InlineWorker  # noqa: E402

OUT = Path(__file__).resolve().parent


def settle(app, n: int = 30) -> None:
    for _ in range(n):
        app.processEvents()


def save(app, widget, name: str) -> None:
    settle(app)
    widget.grab().save(str(OUT / f"{name}.png"))
    print(OUT / f"{name}.png")


def train_comparison(app, win, key: str, epochs: int) -> None:
    c = win.comparison
    c.start_preset(key)
    for _ in range(epochs):
        c.step_epoch()
        for _ in range(10_000):
            c.poll()
            if c.run_state in ("paused", "finished") and c.step_count and c.examples % c.histories[0].n_train == 0:
                break
    win.tick()
    win._apply_runs()
    win._apply_plots()


def main() -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    apply_theme(app, dark=True)
    s = Session(worker=InlineWorker(steps_per_drain=2000))
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    s.set_input(s.example("test", 1))  # (an "8")

    # ---- a comparison: η too small / good / too large after 3 epochs; mini-batch 1 vs 10 vs 100 after 1
    win = CompareWindow(Comparison(s, worker_factory=lambda: InlineWorker(steps_per_drain=5000)))
    win.resize(1400, 900)
    win.show()
    train_comparison(app, win, "eta", 3)
    save(app, win, "compare-eta")
    train_comparison(app, win, "batch", 1)
    save(app, win, "compare-batch")
    win.shutdown()
    win.close()

    # ---- the diagram's edge and neuron modes: a new network after 50 mini-batches, then one more
    s.show_step_changes(True)
    s.step_batch()
    s.poll()
    for _ in range(49):
        s.step_batch()
    for _ in range(20):
        s.poll()
    view = DiagramView(open_inspector=False)
    view.resize(1250, 560)
    view.show()
    view.set_snapshot(s.snapshot)
    view.set_network_label(s.network_label())
    view.set_input(s.current_input)
    assert s.snapshot.has_step_change, "the last step's change did not arrive"
    for mode in ("weights", "gradient", "change"):
        view.set_edge_mode(mode)
        save(app, view, f"diagram-edges-{mode}")
    view.set_edge_mode("weights")
    view.set_neuron_mode("nudge")
    save(app, view, "diagram-neurons-nudge")
    s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
