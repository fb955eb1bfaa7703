"""Regenerate the screenshots of the playground and the cost landscape (offscreen).

    python docs/gradient_descent_screenshots.py

Writes docs/playground-*.png and docs/landscape-*.png.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from nnstudio.gui.qt import QtCore, QtWidgets  # noqa: E402

DOCS = Path(__file__).resolve().parent


def loop(signal=None, seconds: float = 60.0) -> None:
    ev = QtCore.QEventLoop()
    if signal is not None:
        signal.connect(ev.quit)
    QtCore.QTimer.singleShot(int(seconds * 1000), ev.quit)
    ev.exec()


def playground_shots() -> None:
    from nnstudio.gui.views.descent.playground import PlaygroundView

    def shot(name, setup):
        v = PlaygroundView()
        v.resize(1280, 800)
        v.show()
        loop(seconds=0.2)
        setup(v)
        loop(seconds=0.2)
        v.grab().save(str(DOCS / name))
        v.close()

    def valley(v):
        v.set_preset("valley")
        v.set_learning_rate(0.42)
        v.set_show_gradient(True)
        for _ in range(25):
            v.step()

    def race(v):
        v.set_preset("minima")
        v.set_stochastic(True, 10)
        v.set_speed(60)
        v.run()
        loop(v.runFinished)

    def diverges(v):
        v.set_preset("valley")
        v.set_learning_rate(0.6)
        v.set_speed(60)
        v.run()
        loop(v.runFinished)

    def saddle(v):
        v.set_preset("saddle")
        v.set_show_gradient(True)
        v.set_learning_rate(0.06)
        v.set_speed(60)
        v.run()
        loop(v.runFinished)

    shot("playground-valley.png", valley)
    shot("playground-sgd-race.png", race)
    shot("playground-diverges.png", diverges)
    shot("playground-saddle.png", saddle)


def landscape_shots() -> None:
    from nnstudio.core import Network, Trainer
    from nnstudio.data import load_dataset
    from nnstudio.gui.views.descent.landscape import LandscapeView
    from nnstudio.session.model import Snapshot

    ds = load_dataset("mnist-sample")
    for mode, name, compare in (("pca", "landscape-path-and-gd-vs-sgd.png", True),
                                ("gradient", "landscape-downhill.png", False),
                                ("random", "landscape-random.png", False)):
        net = Network(seed=0)
        tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=1.5, batch_size=10)
        v = LandscapeView()
        v.resize(1200, 900)
        v.show()
        v.set_dataset(ds)
        for _ in range(120):  # 1,200 mini-batches, a snapshot every 10 (as the window sends them)
            for _ in range(10):
                tr.step()
            v.set_snapshot(Snapshot.of(net, step=tr.step_count))
        v.set_mode(mode)
        assert v.compute()
        loop(v.landscapeReady)
        if compare:
            assert v.run_comparison()
            loop(v.comparisonFinished, 120)
        loop(seconds=0.3)
        v.grab().save(str(DOCS / name))
        v.close()


def main() -> None:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    try:
        from nnstudio.gui.style.palette import apply_theme

        apply_theme(app)
    except ImportError:  # the window's theme is optional for these views
        pass
    playground_shots()
    landscape_shots()


if __name__ == "__main__":
    main()
