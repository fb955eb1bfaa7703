"""Render the Backprop explorer's screenshots (docs/backprop-*.png) on the real network.

    python docs/backprop_screenshots.py            # offscreen
    QT_QPA_PLATFORM=xcb DISPLAY=:99 python docs/backprop_screenshots.py   # under Xvfb

Uses the shipped model resources/models/mnist-784-16-16-10.npz when it exists, else a
784-16-16-10 network trained three epochs on the embedded mnist-sample.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

from nnstudio._resources import resource_path  # noqa: E402
from nnstudio.core import Network, Trainer, load_model  # noqa: E402
from nnstudio.components.explain import ParamRef, nudges  # noqa: E402
from nnstudio.data import load_dataset  # noqa: E402
from nnstudio.gui.views.backprop import BackpropView  # noqa: E402
from nnstudio.gui.qt import QtWidgets  # noqa: E402
from nnstudio.session.model import Snapshot  # noqa: E402

OUT = Path(__file__).resolve().parent


def network(ds):
    path = resource_path("models", "mnist-784-16-16-10.npz")
    if path.is_file():
        return load_model(path)
    net = Network((784, 16, 16, 10), seed=0)
    tr = Trainer(net, ds.train_x, ds.train_labels, ds.test_x, ds.test_labels, learning_rate=1.5, epochs=3, seed=0)
    for _ in range(3):
        tr.run_epoch()
    return net


def main(size=(1180, 760)) -> int:
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    ds = load_dataset("mnist-sample")
    net = network(ds)
    rng = np.random.default_rng(7)
    batch = np.sort(rng.choice(ds.n_train, 10, replace=False))
    view = BackpropView()
    view.resize(*size)
    view.set_dataset(ds)
    view.set_snapshot(Snapshot(net, step=1234, epoch=3, learning_rate=1.5, batch_size=10, batch_indices=batch))
    # the current example: a mini-batch example the network gets wrong, if any, else the first
    pred = net.predict(ds.train_x[batch])
    wrong = np.flatnonzero(pred != ds.train_labels[batch])
    pick = int(wrong[0]) if wrong.size else 0
    view.choose_batch_example(pick)
    view.show()
    app.processEvents()

    def shot(tab, name):
        view.show_tab(tab)
        app.processEvents()
        view.grab().save(str(OUT / name))
        print("wrote", OUT / name)

    shot("one neuron", "backprop-one-neuron.png")
    shot("all neurons", "backprop-all-neurons.png")
    view.all_neurons.set_reveal(2)  # half-way: the output's wishes have reached hidden 2
    shot("all neurons", "backprop-propagate.png")
    view.all_neurons.set_reveal(99)
    brightest = int(np.argmax(net.forward(ds.train_x[batch][pick:pick + 1]).activations[1][0]))
    view.select_parameter(ParamRef(1, 3, brightest))
    shot("all examples", "backprop-all-examples.png")
    shot("parameters", "backprop-parameters.png")
    shot("chain rule", "backprop-chain-rule.png")
    # a first-layer weight that matters: the hidden-1 neuron with the largest |∂C/∂z|, from a bright pixel
    x, label = view.current_example
    nd = nudges(view.network, x, label)
    j = int(np.argmax(np.abs(nd.desired[0] * nd.fprimes[0])))
    k = int(np.argmax(x * (np.arange(784) % 28 > 12)))
    view.select_parameter(ParamRef(0, j, k))
    shot("chain rule", "backprop-chain-rule-first-layer.png")
    view.step()
    shot("all examples", "backprop-step.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
