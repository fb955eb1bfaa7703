"""What the evaluation view costs: per snapshot (must be ~nothing) and per evaluation (off the GUI thread).

    python benchmarks/bench_evaluation.py

Prints, measured in this run:
- the GUI-thread cost of ``EvaluationView.set_snapshot`` for snapshots within an epoch (the
  path taken up to 60 times a second while training: no evaluation, only a few comparisons);
- the worker-thread cost of one full analysis (accuracy, confusion, misclassified, top images
  per neuron, maximising inputs, noise test) on mnist-sample and, when present, on the full
  MNIST test set, next to the time of one training epoch on the same machine.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnstudio.core import Network, Trainer  # noqa: E402
from nnstudio.components.evaluation import analyse  # noqa: E402
from nnstudio.data import DataError, load_dataset  # noqa: E402

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def best_of(fn, n=5):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> int:
    from nnstudio.gui.views.evaluation.view import EvaluationView
    from nnstudio.gui.qt import QtCore, QtWidgets
    from nnstudio.session.model import Snapshot

    sample = load_dataset("mnist-sample")
    net = Network(seed=0)
    trainer = Trainer(net, sample.train_x, sample.train_labels, epochs=2)
    trainer.run()

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    view = EvaluationView()
    view.resize(1100, 760)
    view.show()
    view.set_dataset(sample)
    loop = QtCore.QEventLoop()
    view.evaluated.connect(lambda _: loop.quit())
    view.set_snapshot(Snapshot(net.copy(), epoch=2, step=800))
    loop.exec()
    snaps = [Snapshot(net.copy(), epoch=2, step=801 + i) for i in range(2000)]
    t = time.perf_counter()
    for s in snaps:
        view.set_snapshot(s)
    per_snapshot = (time.perf_counter() - t) / len(snaps)
    app.processEvents()
    assert not view.busy, "a snapshot within an epoch must not start an evaluation"
    print(f"set_snapshot within an epoch (GUI thread): {1e6 * per_snapshot:.1f} µs per snapshot "
          f"= {100 * per_snapshot * 60:.3f}% of a second at 60 Hz")
    view.close()

    sets = [("mnist-sample", sample)]
    try:
        sets.append(("mnist (full)", load_dataset(str(SHARED_MNIST))))
    except DataError:
        print("full MNIST not found next to the repo: skipped")
    for name, ds in sets:
        t_an = best_of(lambda: analyse(net, ds.test_images, ds.test_labels, 10), 3)
        tr = Trainer(net.copy(), ds.train_x, ds.train_labels, epochs=1)
        t_ep = best_of(tr.run_epoch, 1)
        print(f"{name}: one analysis of {ds.n_test:,} test images {1000 * t_an:.0f} ms (worker thread); "
              f"one training epoch of {ds.n_train:,} images {1000 * t_ep:.0f} ms; ratio {t_an / t_ep:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
