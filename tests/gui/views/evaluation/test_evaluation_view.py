"""The "What did it learn?" view, driven like a person would (pytest-qt, offscreen)."""

import json
import threading

import numpy as np
import pytest

from nnstudio.gui.qt import QtCore, QtGui, Qt  # noqa: E402  (Qt before anything that uses it)

from nnstudio import cli
from nnstudio.core import Network, Trainer, save_model
from nnstudio.components import evaluation as core_eval
from nnstudio.data import load_dataset
from nnstudio.gui.views.evaluation import view as gui_eval
from nnstudio.gui.style import theme
from nnstudio.gui.views.evaluation.view import EvaluationView
from nnstudio.session.model import InputExample, Snapshot

# the offscreen platform plugin says this whenever a top-level window's size hints change: harmless
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture(scope="module")
def data():
    return load_dataset("mnist-sample")


@pytest.fixture(scope="module")
def net(data):
    net = Network(seed=1)
    Trainer(net, data.train_x, data.train_labels, epochs=2, seed=1).run()
    return net


@pytest.fixture
def view(qtbot, data):
    v = EvaluationView(maximise_steps=30, min_interval=0)
    qtbot.addWidget(v)
    v.resize(1100, 760)
    v.show()
    qtbot.waitExposed(v)
    v.set_dataset(data)
    return v


def evaluated(qtbot, view, snapshot):
    with qtbot.waitSignal(view.evaluated, timeout=10_000) as blocker:
        view.set_snapshot(snapshot)
    return blocker.args[0]


def same_pixels(pixels, raw_uint8):
    """The example's pixels are the dataset image, scaled to 0..1 as the network scales it."""
    return np.array_equal(np.rint(pixels * 255).astype(np.uint8), raw_uint8) and np.allclose(
        pixels, raw_uint8 / 255.0, rtol=0, atol=1e-15)


def click(qtbot, widget, pos):
    qtbot.mouseMove(widget, pos)
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def test_confusion_matrix_counts_equal_a_direct_computation_and_are_drawn(qtbot, view, net, data):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2, step=800))
    pred = np.argmax(net.feedforward(data.test_x), axis=1)
    direct = np.zeros((10, 10), dtype=int)
    for t, p in zip(data.test_labels, pred):
        direct[t, p] += 1
    cm = view.summary.confusion
    assert (cm.matrix() == direct).all()
    assert [[cm.cell_text(t, p) for p in range(10)] for t in range(10)] == [[f"{v:,}" for v in r] for r in direct]
    # what a user sees: diagonal cells are blue, an empty off-diagonal cell is the dark panel
    img = cm.grab().toImage()
    dpr = img.devicePixelRatio()
    diag = QtGui.QColor(img.pixel((cm.cell_rect(3, 3).topLeft() + QtCore.QPoint(3, 3)) * dpr))
    assert diag.blue() > diag.red() + 40
    t0, p0 = map(int, np.argwhere(direct == 0)[0])
    empty = QtGui.QColor(img.pixel((cm.cell_rect(t0, p0).topLeft() + QtCore.QPoint(3, 3)) * dpr))
    assert empty.name() == QtGui.QColor(theme.PANEL).name()
    acc = (pred == data.test_labels).mean()
    assert view.summary.accuracy_label.text() == f"{100 * acc:.2f}%"


def test_the_mistakes_gallery_holds_exactly_the_misclassified_test_examples(qtbot, view, net, data):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    out = net.feedforward(data.test_x)
    wrong = np.flatnonzero(out.argmax(axis=1) != data.test_labels)
    items = view.mistakes.gallery.items()
    assert sorted(it.key for it in items) == wrong.tolist()
    conf = [out[it.key].max() for it in items]
    assert conf == sorted(conf, reverse=True)  # most confident first
    first = items[0]
    assert first.caption == f"{data.test_labels[first.key]} → {out[first.key].argmax()}"
    assert view.mistakes.header.text().startswith(f"{len(wrong)} of 1,000 test images")
    view.mistakes.sort_combo.setCurrentIndex(1)  # least confident first
    assert [it.key for it in view.mistakes.gallery.items()][0] == items[-1].key
    view.mistakes.filter_combo.setCurrentIndex(1 + 8)  # only the 8s
    keys = [it.key for it in view.mistakes.gallery.items()]
    assert keys and sorted(keys) == [i for i in wrong if data.test_labels[i] == 8]


def test_clicking_a_mistake_thumbnail_loads_that_image(qtbot, view, net, data):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    view.show_page(view.mistakes)
    gallery = view.mistakes.gallery
    n = len(gallery.items())
    i = min(n - 1, 23)
    gallery.ensure_visible(i)
    with qtbot.waitSignal(view.inputRequested, timeout=2000) as blocker:
        click(qtbot, gallery.viewport(), gallery.item_rect(i).center())
    ex = blocker.args[0]
    idx = gallery.items()[i].key
    assert isinstance(ex, InputExample)
    assert ex.pixels.shape == (784,) and ex.pixels.dtype == np.float64
    assert same_pixels(ex.pixels, data.test_x[idx])
    assert ex.label == data.test_labels[idx] and ex.index == idx and ex.split == "test" and ex.source == f"test #{idx}"


def test_clicking_a_confusion_cell_shows_its_examples(qtbot, view, net, data):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    cm = view.summary.confusion
    m = cm.matrix().copy()
    np.fill_diagonal(m, 0)
    t, p = map(int, np.unravel_index(m.argmax(), m.shape))
    click(qtbot, cm, cm.cell_rect(t, p).center())
    pred = net.predict(data.test_x)
    expected = np.flatnonzero((data.test_labels == t) & (pred == p))
    items = view.summary.cell_gallery.items()
    assert sorted(it.key for it in items) == expected.tolist()
    assert f"True {t}, read as {p}: {len(expected)} image" in view.summary.cell_label.text()
    g = view.summary.cell_gallery
    with qtbot.waitSignal(view.inputRequested) as blocker:
        click(qtbot, g.viewport(), g.item_rect(0).center())
    assert blocker.args[0].index == items[0].key and blocker.args[0].label == t


def test_cli_evaluate_json_and_the_view_show_the_same_numbers(qtbot, view, net, data, tmp_path, capsys):
    model = save_model(net, tmp_path / "model.npz")
    assert cli.main(["evaluate", str(model), "--data", "mnist-sample", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    loaded = core_eval.evaluation_report(net, data.test_images, data.test_labels)
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    shown = view.report
    for key in ("accuracy", "correct", "total", "mean_cost", "per_digit", "confusion"):
        assert shown[key] == rep[key] == loaded[key], key
    assert view.summary.accuracy_label.text() == f"{100 * rep['accuracy']:.2f}%"
    assert view.summary.cost_label.text().startswith(f"mean cost {rep['mean_cost']:.4f}")
    assert f"{rep['correct']:,} of {rep['total']:,}" in view.summary.correct_label.text()
    assert [view.summary.bars.value_text(k) for k in range(10)] == [f"{100 * a:.1f}%" for a in rep["per_digit"]]
    assert [[int(view.summary.confusion.cell_text(t, p).replace(",", "")) for p in range(10)]
            for t in range(10)] == rep["confusion"]


def test_recomputes_only_when_the_epoch_changes_or_the_user_asks(qtbot, view, net, monkeypatch):
    calls = []
    real = gui_eval.analyse

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(gui_eval, "analyse", counting)
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=0, step=0))
    assert len(calls) == 1
    for step in range(1, 40):  # a burst of snapshots within epoch 0: no evaluation
        view.set_snapshot(Snapshot(net.copy(), epoch=0, step=step))
    qtbot.wait(30)
    assert len(calls) == 1 and not view.busy
    assert "training has moved on" in view.summary.when_label.text()
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=1, step=400))  # an epoch ended
    assert len(calls) == 2
    assert "training has moved on" not in view.summary.when_label.text()
    with qtbot.waitSignal(view.evaluated):
        qtbot.mouseClick(view.summary.evaluate_button, Qt.MouseButton.LeftButton)  # the user asks
    assert len(calls) == 3
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=1, step=10))  # rewind / new model: step went back
    assert len(calls) == 4
    other = Network(seed=9)
    evaluated(qtbot, view, Snapshot(other, epoch=1, step=10))  # a different model with the same counters
    assert len(calls) == 5 and view.report["total"] == 1000


def test_a_burst_of_epoch_ends_is_coalesced_and_the_newest_epoch_wins(qtbot, view, net, monkeypatch):
    calls = []
    real = gui_eval.analyse
    monkeypatch.setattr(gui_eval, "analyse", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    view.min_interval = 0.2
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=1, step=400))
    for epoch in range(2, 30):  # a tiny dataset at full speed: many epoch ends per second
        view.set_snapshot(Snapshot(net.copy(), epoch=epoch, step=400 * epoch))
    qtbot.waitUntil(lambda: "after 29 epochs" in view.summary.when_label.text(), timeout=5000)
    assert len(calls) <= 3
    qtbot.waitUntil(lambda: not view.busy)
    assert len(calls) <= 3


def test_the_gui_thread_keeps_processing_events_while_evaluating(qtbot, view, net, monkeypatch):
    release = threading.Event()
    started = threading.Event()
    real = gui_eval.analyse

    def slow(*a, **kw):
        started.set()
        # only the GUI thread's timer can release us: if the evaluation blocked it, this would time out
        assert release.wait(5), "the GUI thread did not run while the evaluation was in progress"
        return real(*a, **kw)

    monkeypatch.setattr(gui_eval, "analyse", slow)
    ticks = []
    timer = QtCore.QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(1) if len(ticks) < 3 else release.set())
    timer.start()
    with qtbot.waitSignal(view.evaluated, timeout=10_000):
        view.set_snapshot(Snapshot(net.copy(), epoch=3))
        assert view.busy
    timer.stop()
    assert started.is_set() and release.is_set() and len(ticks) == 3
    qtbot.waitUntil(lambda: not view.busy)
    assert view.summary.busy_label.text() == ""


def test_closing_mid_evaluation_leaves_nothing_running(qtbot, view, net, monkeypatch):
    started = threading.Event()
    stopped = threading.Event()

    def endless(*a, should_stop=None, **kw):
        started.set()
        while not should_stop():
            threading.Event().wait(0.002)
        stopped.set()
        raise core_eval.Cancelled()

    monkeypatch.setattr(gui_eval, "analyse", endless)
    view.set_snapshot(Snapshot(net.copy(), epoch=1))
    qtbot.waitUntil(started.is_set, timeout=5000)
    assert view.runner.active_threads() == 1
    with qtbot.assertNotEmitted(view.evaluated, wait=50):
        view.close()
        assert stopped.is_set()
        assert view.runner.active_threads() == 0 and not view.busy


def test_closing_the_window_that_hosts_the_view_stops_it_too(qtbot, data, net, monkeypatch):
    from nnstudio.gui.qt import QtWidgets

    started = threading.Event()

    def endless(*a, should_stop=None, **kw):
        started.set()
        while not should_stop():
            threading.Event().wait(0.002)
        raise core_eval.Cancelled()

    monkeypatch.setattr(gui_eval, "analyse", endless)
    win = QtWidgets.QMainWindow()
    qtbot.addWidget(win)
    dock = QtWidgets.QDockWidget("eval", win)
    view = EvaluationView()
    dock.setWidget(view)
    win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    win.show()
    qtbot.waitExposed(win)
    view.set_dataset(data)
    view.set_snapshot(Snapshot(net.copy(), epoch=1))
    qtbot.waitUntil(started.is_set, timeout=5000)
    win.close()
    assert view.runner.active_threads() == 0 and not view.busy


def test_hidden_neuron_gallery_weights_top_images_and_clicks(qtbot, view, net, data):
    analysis = evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    view.show_page(view.neurons)
    page = view.neurons
    assert page.layer == 1
    cards = page.grid.cards()
    assert len(cards) == 16
    j = 5
    assert np.array_equal(cards[j].main, theme.weight_image(net.weights[0][j].reshape(28, 28)))
    z = net.forward(data.test_x).zs[0][:, j]
    top = np.argsort(-z, kind="stable")[:6]
    assert analysis.top[1].indices[j].tolist() == top.tolist()
    assert all(np.array_equal(img, data.test_images[i]) for (img, _), i in zip(cards[j].thumbs, top))
    page.grid.ensure_visible(j)
    with qtbot.waitSignal(view.inputRequested) as blocker:
        click(qtbot, page.grid.viewport(), page.grid.thumb_rect(j, 2).center())
    assert blocker.args[0].index == top[2] and blocker.args[0].source == f"test #{top[2]}"


def test_the_maximising_input_raises_the_neuron_above_a_blank_input(qtbot, view, net):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    view.show_page(view.neurons)
    page = view.neurons
    page.set_layer(2)
    assert "rarely look like strokes" in page.note.text()
    j = 7
    page.grid.ensure_visible(j)
    with qtbot.waitSignal(view.inputRequested) as blocker:
        click(qtbot, page.grid.viewport(), page.grid.thumb_rect(j, -1).center())
    ex = blocker.args[0]
    assert ex.label is None and "layer 2 neuron 7" in ex.source
    acts = net.forward(np.stack([ex.pixels, np.zeros(784)])).activations[2][:, j]
    assert acts[0] > acts[1]
    assert 0 <= ex.pixels.min() and ex.pixels.max() <= 1
    page.set_layer(3)
    assert page.grid.cards()[4].title == "output neuron “4”"


def test_noise_test_shows_the_network_answer_for_non_digits(qtbot, view, net):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    view.show_page(view.noise)
    page = view.noise
    probes = core_eval.probe_images(0)
    out = net.feedforward(np.stack([probes[k] for k in core_eval.PROBES]))
    for name, o in zip(core_eval.PROBES, out):
        assert f"reads <b style='color:{theme.ACCENT}'>{o.argmax()}</b>" in page.cards[name].answer.text()
        assert f"{o.max():.2f}" in page.cards[name].answer.text()
    with qtbot.waitSignal(view.inputRequested) as blocker:
        click(qtbot, page.cards["solid square"], page.cards["solid square"].rect().center())
    assert np.array_equal(blocker.args[0].pixels, probes["solid square"])
    before = page.probes()[0].pixels.copy()
    qtbot.mouseClick(page.new_button, Qt.MouseButton.LeftButton)
    assert not np.array_equal(page.probes()[0].pixels, before)
    assert "1,000 images of random noise" in page.stats_label.text()


def test_dataset_browser_pages_digits_and_averages(qtbot, view, net, data):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    view.show_page(view.browser)
    page = view.browser
    qtbot.waitUntil(lambda: len(page.averages.items()) == 10, timeout=5000)
    avg = core_eval.average_images(data.test_images, data.test_labels, 10)
    assert np.allclose(page.averages.items()[3].image, avg[3])
    assert [it.key for it in page.gallery.items()] == list(range(96))
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    assert [it.key for it in page.gallery.items()] == list(range(96, 192))
    page.class_combo.setCurrentIndex(1 + 3)
    keys = [it.key for it in page.gallery.items()]
    assert keys == np.flatnonzero(data.test_labels == 3)[:96].tolist()
    page.split_combo.setCurrentIndex(1)  # training set
    qtbot.waitUntil(lambda: len(page.averages.items()) == 10, timeout=5000)
    keys = [it.key for it in page.gallery.items()]
    assert all(data.train_labels[k] == 3 for k in keys)
    with qtbot.waitSignal(view.inputRequested) as blocker:
        click(qtbot, page.gallery.viewport(), page.gallery.item_rect(4).center())
    ex = blocker.args[0]
    assert ex.split == "train" and ex.index == keys[4] and ex.source == f"train #{keys[4]}"
    assert same_pixels(ex.pixels, data.train_x[keys[4]])
    with qtbot.waitSignal(view.inputRequested) as blocker:
        click(qtbot, page.averages.viewport(), page.averages.item_rect(7).center())
    assert blocker.args[0].label == 7 and "average 7" in blocker.args[0].source


def test_a_network_that_cannot_read_the_data_gets_a_one_line_message(qtbot, view):
    view.set_snapshot(Snapshot(Network((784, 5), seed=0)))
    assert "cannot read mnist-sample" in view.summary.correct_label.text()
    assert view.runner.running != "analysis"
    qtbot.waitUntil(lambda: not view.busy)  # the dataset averages may still be computing
    assert view.report is None


def test_a_hidden_view_waits_until_it_is_shown(qtbot, data, net, monkeypatch):
    calls = []
    real = gui_eval.analyse
    monkeypatch.setattr(gui_eval, "analyse", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    v = EvaluationView(maximise_steps=10, min_interval=0)
    qtbot.addWidget(v)
    v.set_dataset(data)
    v.set_snapshot(Snapshot(net.copy(), epoch=1))
    assert not calls and v.report is None
    with qtbot.waitSignal(v.evaluated, timeout=10_000):
        v.show()
    assert calls == [1] and v.report is not None


def test_the_training_split_can_be_evaluated_like_cli_split_train(qtbot, view, net, data):
    evaluated(qtbot, view, Snapshot(net.copy(), epoch=2))
    with qtbot.waitSignal(view.evaluated, timeout=10_000):
        view.summary.split_combo.setCurrentIndex(1)
    assert view.split == "train"
    assert view.report == core_eval.evaluation_report(net, data.train_images, data.train_labels)
    assert "of 4,000 training images" in view.summary.correct_label.text()
