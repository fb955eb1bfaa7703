"""Render screenshots of the network diagram, the neuron inspector and the weights gallery.

Real rendering (Qt's raster engine, offscreen), mid-training on mnist-sample:

    python scripts/shot_diagram.py            # writes docs/diagram*.png and docs/inspector*.png
    python scripts/shot_diagram.py --out /tmp/shots
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnstudio.core import Network, Trainer  # noqa: E402
from nnstudio.data import load_dataset  # noqa: E402
from nnstudio.gui.qt import QtCore, QtWidgets  # noqa: E402
from nnstudio.session.model import InputExample, Snapshot  # noqa: E402


def trained(ds, sizes, steps, seed=0):
    net = Network(sizes, seed=seed)
    tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=1.5, batch_size=10, seed=seed)
    r = None
    for _ in range(steps):
        r = tr.step()
    return net, Snapshot.of(net, r)


def test_example(ds, i):
    return InputExample(ds.test_x[i] / 255.0, int(ds.test_labels[i]), f"test #{i}", i, "test")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs"))
    ap.add_argument("--steps", type=int, default=800, help="mini-batches of training before the shots")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    from nnstudio.gui.views.diagram.view import DiagramView
    from nnstudio.gui.views.diagram.weights_gallery import WeightsGalleryView

    ds = load_dataset("mnist-sample")
    saved = []

    def shot(widget, name):
        app.processEvents()
        path = out / name
        widget.grab().save(str(path))
        saved.append(path)

    # 1. the classic network mid-training, a test digit as input, a neuron hovered
    net, snap = trained(ds, (784, 16, 16, 10), args.steps)
    view = DiagramView(open_inspector=False)
    view.resize(1600, 1000)
    view.set_dataset(ds)
    view.set_snapshot(snap)
    view.set_input(test_example(ds, 3))
    view.show()
    shot(view, "diagram_training.png")
    # hover a first-hidden-layer neuron: its connections light up, its weight image appears
    c = view.canvas.neuron_center(1, 5)
    from nnstudio.gui.qt import QtGui, Qt

    ev = QtGui.QMouseEvent(QtCore.QEvent.Type.MouseMove, c, view.canvas.mapToGlobal(c), Qt.MouseButton.NoButton,
                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(view.canvas, ev)
    shot(view, "diagram_hover.png")
    view.canvas._set_hover(None)

    # 2. the inspector of that neuron and of an output neuron, with the mini-batch
    for layer, index, name in ((1, 5, "inspector_hidden1.png"), (3, 7, "inspector_output.png")):
        dlg = view.show_inspector(layer, index)
        dlg.resize(560, 780)
        shot(dlg, name)
        dlg.hide()

    # 3. small window, and other layer sizes
    view.resize(1280, 720)
    shot(view, "diagram_1280x720.png")
    view.set_input_mode("brightest")
    shot(view, "diagram_brightest_pixels.png")
    view.set_input_mode("spread")
    view.hide()
    for sizes in ((784, 100, 10), (784, 16, 16, 16, 10)):
        _, s2 = trained(ds, sizes, args.steps * (3 if len(sizes) > 4 else 1))
        v2 = DiagramView(open_inspector=False)
        v2.resize(1600, 1000)
        v2.set_dataset(ds)
        v2.set_snapshot(s2)
        v2.set_input(test_example(ds, 7))
        v2.show()
        shot(v2, f"diagram_{'-'.join(map(str, sizes))}.png")
        v2.hide()

    # 4. the weights gallery
    g = WeightsGalleryView()
    g.resize(700, 560)
    g.set_snapshot(snap)
    g.set_input(test_example(ds, 3))
    g.select_neuron(1, 5)
    g.show()
    shot(g, "diagram_weights_gallery.png")
    for p in saved:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
