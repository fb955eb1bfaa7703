"""Render the "What did it learn?" view's screenshots (docs/evaluation-*.png).

    python docs/evaluation_screenshots.py            # offscreen
    QT_QPA_PLATFORM=xcb DISPLAY=:99 python docs/evaluation_screenshots.py   # under Xvfb

Uses the shipped model resources/models/mnist-784-16-16-10.npz when it exists (else a
784-16-16-10 network trained three epochs on the embedded sample), and the full MNIST test
set from ../shared/datasets/mnist when it is there (else the embedded mnist-sample).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from nnstudio._resources import resource_path  # noqa: E402
from nnstudio.core import Network, Trainer, load_model  # noqa: E402
from nnstudio.data import DataError, Dataset, load_dataset  # noqa: E402
from nnstudio.gui.views.evaluation.view import EvaluationView  # noqa: E402
from nnstudio.gui.qt import QtCore, QtWidgets, Qt  # noqa: E402
from nnstudio.session.model import Snapshot  # noqa: E402

OUT = Path(__file__).resolve().parent
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def main() -> int:
    from PySide6.QtTest import QTest

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    try:
        full = load_dataset(str(SHARED_MNIST))
        ds = Dataset("mnist", full.train_images, full.train_labels, full.test_images, full.test_labels)
    except DataError:
        ds = load_dataset("mnist-sample")
    model = resource_path("models", "mnist-784-16-16-10.npz")
    if Path(model).is_file():
        net, meta = load_model(model, with_metadata=True)
        epochs = int(meta.get("epochs", 0))
    else:
        sample = load_dataset("mnist-sample")
        net, epochs = Network(seed=0), 3
        Trainer(net, sample.train_x, sample.train_labels, epochs=epochs).run()
    view = EvaluationView()
    view.resize(1180, 800)
    view.show()
    view.set_dataset(ds)
    loop = QtCore.QEventLoop()
    view.evaluated.connect(lambda _: loop.quit())
    view.set_snapshot(Snapshot(net, epoch=epochs, step=epochs * (ds.n_train // 10)))
    QtCore.QTimer.singleShot(30_000, loop.quit)
    loop.exec()

    def save(name):
        for _ in range(30):
            app.processEvents()
        view.grab().save(str(OUT / f"{name}.png"))
        print(OUT / f"{name}.png")

    cm = view.summary.confusion
    m = np.array(view.report["confusion"])
    np.fill_diagonal(m, 0)
    t, p = np.unravel_index(m.argmax(), m.shape)
    QTest.mouseClick(cm, Qt.MouseButton.LeftButton, pos=cm.cell_rect(int(t), int(p)).center())
    save("evaluation-summary")
    view.show_page(view.mistakes)
    save("evaluation-mistakes")
    view.show_page(view.neurons)
    view.neurons.set_layer(1)
    save("evaluation-neurons-weights")
    view.neurons.set_layer(2)
    save("evaluation-neurons-maximising")
    view.show_page(view.noise)
    save("evaluation-noise")
    view.show_page(view.browser)
    while not view.browser.averages.items():
        app.processEvents()
    save("evaluation-dataset")
    view.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
