"""The landscape view: a slice computed in the background, cancellable, and GD vs SGD."""

import re

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.gui.views.descent.landscape import LandscapeView
from nnstudio.gui.qt import Qt
from nnstudio.session.model import Snapshot

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(scope="module")
def dataset():
    return load_dataset("mnist-sample")


@pytest.fixture
def view(qtbot, dataset):
    v = LandscapeView()
    qtbot.addWidget(v)
    v.resize(1000, 800)
    v.show()
    qtbot.waitExposed(v)
    v.set_dataset(dataset)
    return v


def trained(dataset, steps=60, snapshots=None, seed=0):
    net = Network(seed=seed)
    tr = Trainer(net, dataset.train_x, dataset.train_labels, learning_rate=1.5, batch_size=10)
    for _ in range(steps):
        r = tr.step()
        if snapshots is not None and r.step % 10 == 0:
            snapshots(Snapshot.of(net, r))
    return net, tr


def test_slice_centre_is_the_engines_cost_and_the_current_point_is_the_origin(qtbot, view, dataset):
    net, tr = trained(dataset, snapshots=view.set_snapshot)
    assert len(view.trajectory) == 6
    view.set_resolution(21)
    with qtbot.waitSignal(view.landscapeReady, timeout=20000) as blocker:
        qtbot.mouseClick(view.compute_button, Qt.LeftButton)
        assert view.computing and view.compute_button.text() == "Cancel"
    land = blocker.args[0]
    X, Y = view.subset()
    assert len(X) == 1000
    c = 10
    assert land.costs[c, c] == pytest.approx(net.cost_of(X, Y), rel=1e-12)
    assert land.centre_cost == pytest.approx(net.cost_of(X, Y), rel=1e-12)
    x, y = view.current.getData()
    assert (x[0], y[0]) == (0.0, 0.0)
    assert not view.computing and view.compute_button.text() == "Compute slice"
    assert "Σ (a − y)²" in view.convention.text() and "1,000 training examples" in view.convention.text()
    assert f"{land.centre_cost:.4f}" in view.caption.text()
    img = view.plot.grab().toImage()
    assert img.pixelColor(img.width() // 2, img.height() // 2) != img.pixelColor(5, 5)  # not blank
    px, py = view.path.getData()
    assert len(px) == 6 + 1  # the ring's snapshots and the current point


def test_closing_mid_computation_leaves_no_thread_running(qtbot, dataset):
    v = LandscapeView()
    qtbot.addWidget(v)
    v.set_dataset(dataset)
    v.set_network(Network(seed=1))
    v.set_resolution(101)
    v.set_examples(4000)
    ready = []
    v.landscapeReady.connect(ready.append)
    v.comparisonFinished.connect(ready.append)
    v.cmp_epochs.setValue(200)
    assert v.compute() and v.run_comparison()
    assert v.running_threads() == 2
    v.close()
    assert v.running_threads() == 0
    qtbot.wait(50)  # any queued signal of the dead workers is dropped
    assert ready == []


def test_cancel_button_stops_the_worker(qtbot, view):
    view.set_network(Network(seed=2))
    view.set_resolution(101)
    messages = []
    view.statusMessage.connect(messages.append)
    qtbot.mouseClick(view.compute_button, Qt.LeftButton)
    assert view.computing
    qtbot.mouseClick(view.compute_button, Qt.LeftButton)
    assert not view.computing and view.running_threads() == 0
    assert view.landscape is None and messages[-1] == "Slice cancelled."


def test_path_directions_and_auto_update_while_training(qtbot, view, dataset):
    view.set_mode("pca")
    view.set_resolution(11)
    view.set_auto_update(True, period=0)
    with qtbot.waitSignal(view.landscapeReady, timeout=20000) as blocker:
        net, tr = trained(dataset, steps=40, snapshots=view.set_snapshot)
    land = blocker.args[0]
    assert land.directions.mode == "pca"
    assert "path PC1" in view.plot.getPlotItem().getAxis("bottom").labelText


def test_refuses_without_network_or_dataset(qtbot):
    v = LandscapeView()
    qtbot.addWidget(v)
    with qtbot.waitSignal(v.statusMessage) as blocker:
        assert not v.compute()
    assert "dataset" in blocker.args[0]
    assert not v.run_comparison()


def test_full_batch_vs_sgd_curves(qtbot, view):
    view.cmp_n.setValue(400)
    view.cmp_epochs.setValue(4)
    with qtbot.waitSignal(view.comparisonFinished, timeout=30000) as blocker:
        qtbot.mouseClick(view.compare_button, Qt.LeftButton)
        assert view.comparing and view.compare_button.text() == "Stop"
    res = blocker.args[0]
    assert res.full[-1].examples == res.sgd[-1].examples == 1600
    for which in ("full", "sgd"):
        for key in ("examples", "time"):
            x, y = view.curve_items[(which, key)].getData()
            assert len(x) == len(getattr(res, which)) and np.all(np.isfinite(y))
    text = view.compare_summary.text()
    assert "full batch" in text and "SGD" in text and re.search(r"\d (ms|s)\b", text)
    qtbot.waitUntil(lambda: view.running_threads() == 0, timeout=5000)  # the worker returns right after


def test_a_new_dataset_or_architecture_clears_the_old_slice(qtbot, view, dataset):
    view.set_network(Network((784, 10, 10), seed=0))
    view.set_resolution(11)
    with qtbot.waitSignal(view.landscapeReady, timeout=20000):
        view.compute()
    assert view.landscape is not None
    view.set_snapshot(Snapshot(Network(seed=0), step=5))  # 784-16-16-10 now
    assert view.landscape is None and "Compute slice" in view.message.textItem.toPlainText()
    x, y = view.current.getData()
    assert len(x) == 0


def test_gil_switch_interval_is_lowered_only_while_workers_run(qtbot, view):
    import sys

    before = sys.getswitchinterval()
    view.set_network(Network(seed=3))
    view.set_resolution(11)
    with qtbot.waitSignal(view.landscapeReady, timeout=20000):
        view.compute()
        assert sys.getswitchinterval() <= 0.001
    qtbot.waitUntil(lambda: view.running_threads() == 0 and not view._tasks, timeout=5000)
    assert sys.getswitchinterval() == before


def test_path_follows_the_ring_through_thinning(qtbot, dataset):
    v = LandscapeView(ring_capacity=8)
    qtbot.addWidget(v)
    v.set_dataset(dataset)
    v.set_network(Network(seed=0), step=1)
    v.set_resolution(11)
    with qtbot.waitSignal(v.landscapeReady, timeout=20000):
        v.compute()
    for s in range(2, 40):
        v.set_snapshot(Snapshot(Network(seed=s), step=s))
    np.testing.assert_array_equal(v._path_steps, v.trajectory.steps())
    np.testing.assert_allclose(v._path_xy, v.trajectory.project(v.landscape.directions, v.landscape.centre),
                               atol=1e-9)
    v.set_snapshot(Snapshot(Network(seed=1), step=1))  # a rewind: the path starts over
    assert len(v.trajectory) == 1 and list(v._path_steps) == [1]
