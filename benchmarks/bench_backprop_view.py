"""Backprop explorer: cost of one snapshot update and one paint per tab, at 1600×1000 (offscreen).

    python benchmarks/bench_backprop_view.py

Prints, per tab, the median time to take a snapshot (the core maths + labels) and to render
the tab, and the refresh rate the view allows itself while training (MIN_REFRESH_MS).
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys as _sys  # noqa: E402
from pathlib import Path as _Path  # noqa: E402

_sys.path.insert(0, str(_Path(__file__).resolve().parents[1]))  # run from anywhere, like the other benchmarks

import numpy as np  # noqa: E402

from nnstudio._resources import resource_path  # noqa: E402
from nnstudio.core import Network, load_model  # noqa: E402
from nnstudio.data import load_dataset  # noqa: E402
from nnstudio.gui.views.backprop import MIN_REFRESH_MS, TABS, BackpropView  # noqa: E402
from nnstudio.gui.qt import QtGui, QtWidgets  # noqa: E402
from nnstudio.session.model import Snapshot  # noqa: E402


def main(repeats: int = 15) -> None:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    ds = load_dataset("mnist-sample")
    path = resource_path("models", "mnist-784-16-16-10.npz")
    net = load_model(path) if path.is_file() else Network((784, 16, 16, 10), seed=0)
    view = BackpropView()
    view.resize(1600, 1000)
    view.set_dataset(ds)
    view.show()
    app.processEvents()
    rng = np.random.default_rng(0)
    print(f"Backprop explorer, {net.describe()}, 1600x1000")
    for tab in TABS:
        view.show_tab(tab)
        app.processEvents()
        panel = view.tabs.currentWidget()
        img = QtGui.QImage(panel.size(), QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        upd, paint = [], []
        for _ in range(repeats):
            snap = Snapshot(net, batch_indices=rng.choice(ds.n_train, 10, replace=False), learning_rate=1.5)
            view._clock.invalidate()  # measure the update itself, not the coalescing
            t0 = time.perf_counter()
            view.set_snapshot(snap)
            t1 = time.perf_counter()
            panel.render(img)
            t2 = time.perf_counter()
            upd.append(t1 - t0)
            paint.append(t2 - t1)
        u, p = 1000 * np.median(upd), 1000 * np.median(paint)
        print(f"  {tab:13s} update {u:6.2f} ms   paint {p:6.2f} ms   total {u + p:6.2f} ms")
    print(f"while training, snapshots are coalesced to one refresh per {MIN_REFRESH_MS} ms "
          f"(<= {1000 // MIN_REFRESH_MS} Hz)")


if __name__ == "__main__":
    main()
