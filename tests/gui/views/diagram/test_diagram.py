"""The network diagram, the neuron inspector and the weights gallery, checked on rendered pixels
and driven with real mouse events; plus the Qt-free maths behind them."""

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.components.diagram import (
    DiagramModel,
    brightest_pixels,
    compute_layout,
    edge_buckets,
    head_tail,
    nearest_neuron,
    robust_scale,
    segment_distances,
    spread_pixels,
    strongest_inputs,
)
from nnstudio.gui.style import theme
from nnstudio.gui.views.diagram.view import DiagramView
from nnstudio.gui.views.diagram.inspector import NeuronInspector
from nnstudio.gui.qt import QtCore, QtWidgets, Qt
from nnstudio.session.model import InputExample, Snapshot
from nnstudio.gui.views.diagram.weights_gallery import WeightsGalleryView

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")


# ---------------------------------------------------------------- fixtures
def tiny_net() -> Network:
    """4-3-2 with hand-set weights: hidden 0 lit (a ≈ 1), hidden 1 and 2 dark (a ≈ 0), output 1 wins."""
    net = Network((4, 3, 2), seed=0)
    w0 = np.zeros((3, 4))
    w0[0, 0] = 5.0  # input 0 → hidden 0: strongly positive (blue)
    w0[2, 3] = -5.0  # input 3 → hidden 2: strongly negative (red)
    w1 = np.zeros((2, 3))
    w1[1, 0] = 3.0
    net.set_parameters([w0, w1], [np.array([20.0, -20.0, -20.0]), np.array([-5.0, 5.0])])
    return net


TINY_INPUT = np.array([1.0, 0.0, 0.5, 0.0])


class FakeDataset:
    """Just what the views use of a Dataset."""

    def __init__(self, n=40, n_in=784, seed=0):
        rng = np.random.default_rng(seed)
        self.train_images = (rng.random((n, 28, 28)) * 255).astype(np.uint8) if n_in == 784 else None
        self._x = (rng.random((n, n_in)) * 255).astype(np.uint8)
        if n_in == 784:
            self._x = self.train_images.reshape(n, -1)
        self.train_labels = (np.arange(n) % 10).astype(np.uint8)
        self.class_names = tuple(str(i) for i in range(10))
        self.name = "fake"

    @property
    def train_x(self):
        return self._x


def rgb(img, point):
    c = img.pixelColor(int(round(point.x())), int(round(point.y())))
    return c.red(), c.green(), c.blue()


def rgb_near(img, point):
    """The brightest pixel within one pixel of ``point`` (a thin antialiased line may miss the exact pixel)."""
    x0, y0 = int(round(point.x())), int(round(point.y()))
    best = (0, 0, 0)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            c = img.pixelColor(x0 + dx, y0 + dy)
            if c.red() + c.green() + c.blue() > sum(best):
                best = (c.red(), c.green(), c.blue())
    return best


@pytest.fixture
def tiny_view(qtbot):
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.set_network(tiny_net())
    view.set_input(InputExample(TINY_INPUT, label=1, source="hand-made"))
    view.show()
    qtbot.waitExposed(view)
    yield view
    QtWidgets.QToolTip.hideText()
    if view.inspector_dialog is not None:
        view.inspector_dialog.close()


def canvas_image(view):
    return view.canvas.grab().toImage()


# ---------------------------------------------------------------- rendered pixels
def test_neurons_are_lit_by_their_activation(tiny_view):
    c = tiny_view.canvas
    img = canvas_image(tiny_view)
    lit = rgb(img, c.neuron_center(1, 0))  # a ≈ 1
    dark = rgb(img, c.neuron_center(1, 1))  # a ≈ 0
    assert min(lit) > 235, lit
    assert max(dark) < 40, dark
    # the input layer shows the pixels: 1 → white, 0.5 → mid grey, 0 → dark
    assert min(rgb(img, c.neuron_center(0, 0))) > 235
    assert 100 < rgb(img, c.neuron_center(0, 2))[0] < 160
    assert max(rgb(img, c.neuron_center(0, 1))) < 40


def test_edges_are_blue_for_positive_and_red_for_negative_weights(tiny_view):
    c = tiny_view.canvas
    img = canvas_image(tiny_view)
    r, g, b = rgb_near(img, c.edge_midpoint(0, 0, 0))  # w = +5
    assert b > 150 and b > r + 60, (r, g, b)
    r, g, b = rgb_near(img, c.edge_midpoint(0, 3, 2))  # w = −5
    assert r > 150 and r > b + 60, (r, g, b)
    # a zero weight is barely visible against the background
    zero = rgb_near(img, c.edge_midpoint(0, 1, 1))
    assert max(zero) < 60, zero


def test_winning_output_is_highlighted_with_its_digit(tiny_view):
    c = tiny_view.canvas
    assert c.model.winner() == 1
    img = canvas_image(tiny_view)
    centre = c.neuron_center(2, 1)
    ring = centre + QtCore.QPointF(0, -(c.radius + max(3.0, c.radius * 0.3)))
    r, g, b = rgb(img, ring)
    assert r > 180 and g > 140 and b < 120, (r, g, b)  # the accent yellow
    loser = c.neuron_center(2, 0) + QtCore.QPointF(0, -(c.radius + max(3.0, c.radius * 0.3)))
    assert rgb(img, loser)[2] >= rgb(img, loser)[0] - 10 or max(rgb(img, loser)) < 90  # no yellow ring
    assert "reads this as “1”" in c.footer_text()[0]


def test_live_update_follows_the_weights(tiny_view):
    c = tiny_view.canvas
    mid = c.edge_midpoint(0, 0, 0)
    assert rgb_near(canvas_image(tiny_view), mid)[2] > 150  # blue
    net = tiny_net()
    net.weights[0][0, 0] = -5.0  # the edge turns negative, hidden 0 goes dark (z = −5·1 + 20 ... still lit)
    net.biases[0][0] = -20.0
    tiny_view.set_snapshot(Snapshot.of(net, step=1))
    img = canvas_image(tiny_view)
    r, g, b = rgb_near(img, mid)
    assert r > 150 and r > b + 60, (r, g, b)
    assert max(rgb(img, c.neuron_center(1, 0))) < 40


def test_live_update_after_a_training_step(qtbot):
    rng = np.random.default_rng(1)
    x = (rng.random((60, 784)) * 255).astype(np.uint8)
    y = np.arange(60) % 10
    net = Network((784, 16, 16, 10), seed=0)
    tr = Trainer(net, x, y, learning_rate=3.0, batch_size=10, seed=0)
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(1000, 650)
    view.show()
    view.set_snapshot(Snapshot.of(net))
    view.set_input(InputExample(x[0] / 255.0, 0, "train #0"))
    before = canvas_image(view)
    for _ in range(6):
        r = tr.step()
    view.set_snapshot(Snapshot.of(net, r))
    after = canvas_image(view)
    a = np.frombuffer(before.constBits(), np.uint8).reshape(before.height(), -1)
    b = np.frombuffer(after.constBits(), np.uint8).reshape(after.height(), -1)
    changed = np.count_nonzero(a != b)
    assert changed > 2000, changed
    assert "mini-batch 6" in view.canvas.footer_text()[1]


def test_a_big_canvas_in_motion_refines_its_last_frame(qtbot):
    """On a 4K-sized canvas, frames coming fast (training) draw the strongest edges aliased; the
    last one is drawn again in full quality once they stop."""
    from nnstudio.gui.views.diagram import canvas as canvas_module

    net = Network((784, 100, 10), seed=0)
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(3000, 1700)
    view.show()
    qtbot.waitExposed(view)
    c = view.canvas
    assert c.width() * c.height() > canvas_module.COARSE_FROM
    view.set_snapshot(Snapshot.of(net))
    c.grab()
    assert c.frame_ms > 0 and not c.coarse  # a still frame: full quality
    for _ in range(3):
        net.params[0][:] *= 1.01
        view.set_snapshot(Snapshot.of(net))
        c.grab()
    assert c.coarse  # in motion
    qtbot.waitUntil(lambda: not c.coarse, timeout=2000)  # refined once they stopped
    view.resize(1000, 650)  # a small canvas is never coarse
    for _ in range(3):
        view.set_snapshot(Snapshot.of(net))
        c.grab()
    assert not c.coarse


# ---------------------------------------------------------------- hover and click
def test_hovering_a_neuron_shows_z_b_and_a(qtbot, tiny_view):
    c = tiny_view.canvas
    hovered = []
    tiny_view.neuronHovered.connect(lambda l, i: hovered.append((l, i)))
    qtbot.mouseMove(c, c.neuron_center(1, 0).toPoint())
    text = c.hover_text
    assert "hidden layer" in text and "neuron 0" in text
    assert "z = w·a + b = +25.000" in text  # 5·1 + 20
    assert "b = +20.000" in text
    assert "a = sigmoid(z) = 1.000" in text
    assert QtWidgets.QToolTip.text() == text
    assert hovered[-1] == (1, 0)
    qtbot.mouseMove(c, c.neuron_center(2, 1).toPoint())
    assert "output neuron 1" in c.hover_text and "b = +5.000" in c.hover_text
    assert "z = w·a + b = +8.000" in c.hover_text  # 3·1 + 5


def test_the_tooltip_follows_the_network_while_hovering(qtbot, tiny_view):
    c = tiny_view.canvas
    qtbot.mouseMove(c, c.neuron_center(1, 0).toPoint())
    assert "b = +20.000" in c.hover_text
    net = tiny_net()
    net.biases[0][0] = 7.0
    tiny_view.set_snapshot(Snapshot.of(net, step=2))
    c.repaint()
    qtbot.waitUntil(lambda: "b = +7.000" in c.hover_text)  # refreshed at most ~7 times a second
    assert "z = w·a + b = +12.000" in c.hover_text
    assert QtWidgets.QToolTip.text() == c.hover_text


def test_hovering_an_edge_shows_its_weight(qtbot, tiny_view):
    c = tiny_view.canvas
    qtbot.mouseMove(c, c.edge_midpoint(0, 3, 2).toPoint())
    assert c.hover_text.startswith("w = -5.0000"), c.hover_text
    assert "input pixel 3" in c.hover_text and "hidden layer 1, neuron 2" in c.hover_text.replace("to ", "")


def test_hovering_an_input_neuron_and_the_image(qtbot, tiny_view):
    c = tiny_view.canvas
    qtbot.mouseMove(c, c.neuron_center(0, 2).toPoint())
    assert "input pixel 2 (row 1, col 0)" in c.hover_text and "a = 0.500" in c.hover_text
    x, y, side = c.diagram_layout().image_rect
    qtbot.mouseMove(c, QtCore.QPoint(int(x + side * 0.75), int(y + side * 0.25)))  # row 0, col 1
    assert c.hover_text.startswith("pixel 1 (row 0, col 1)")


def test_clicking_a_neuron_selects_it_and_opens_the_inspector(qtbot, tiny_view):
    c = tiny_view.canvas
    with qtbot.waitSignal(tiny_view.neuronSelected) as sig:
        qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=c.neuron_center(1, 2).toPoint())
    assert sig.args == [1, 2]
    ins = tiny_view.inspector
    assert ins is not None and tiny_view.inspector_dialog.isVisible()
    assert (ins.layer, ins.index) == (1, 2)
    assert "Hidden layer 1, neuron 2" in ins.header.text()
    assert "b = -20.0000" in ins.values.text()
    assert "neuron 2" in tiny_view.inspector_dialog.windowTitle()
    # the inspector shows this neuron's incoming weights (4 inputs = a 2×2 image)
    np.testing.assert_allclose(ins.weight_image.w.ravel(), [0, 0, 0, -5])
    # click an output neuron: the same inspector follows
    with qtbot.waitSignal(tiny_view.neuronSelected):
        qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=c.neuron_center(2, 1).toPoint())
    assert (ins.layer, ins.index) == (2, 1)
    assert ins.stack.currentWidget() is ins.weight_bars
    np.testing.assert_allclose(ins.weight_bars.values, [3, 0, 0])
    assert c.selected == (2, 1)
    # the selected neuron is ringed in the accent colour
    img = canvas_image(tiny_view)
    top = c.neuron_center(2, 1) + QtCore.QPointF(0, -(c.radius + 4))
    r, g, b = rgb(img, top)
    assert r > 180 and g > 140 and b < 120


def test_drag_pans_wheel_zooms_and_fit_restores(qtbot, tiny_view):
    c = tiny_view.canvas
    p0 = c.neuron_center(1, 0)
    start = QtCore.QPoint(20, c.height() - 60)  # empty background
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(c, start + QtCore.QPoint(30, -20))
    qtbot.mouseMove(c, start + QtCore.QPoint(60, -40))
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=start + QtCore.QPoint(60, -40))
    moved = c.neuron_center(1, 0)
    assert (moved.x() - p0.x(), moved.y() - p0.y()) == pytest.approx((60, -40), abs=1)
    c.zoom_by(2.0, moved)
    assert c.zoom == pytest.approx(2.0)
    assert c.radius == pytest.approx(2 * c.diagram_layout().radius)
    qtbot.keyClick(c, Qt.Key.Key_F)
    assert c.zoom == 1.0 and c.neuron_center(1, 0) == p0
    qtbot.mouseClick(tiny_view.fit_button, Qt.MouseButton.LeftButton)
    assert min(rgb(canvas_image(tiny_view), p0)) > 235


# ---------------------------------------------------------------- mini-batch, layer sizes
def test_flipping_through_the_mini_batch(qtbot):
    ds = FakeDataset()
    net = Network((784, 16, 16, 10), seed=0)
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(1000, 650)
    view.show()
    view.set_dataset(ds)
    assert not view.next_button.isEnabled()
    view.set_snapshot(Snapshot.of(net, step=3, batch_indices=np.array([7, 3, 12, 30])))
    assert view.next_button.isEnabled() and view.batch_label.text() == "mini-batch of 4"
    with qtbot.waitSignal(view.inputRequested) as sig:
        qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    ex = sig.args[0]
    assert (ex.index, ex.label, ex.split) == (7, 7, "train")
    np.testing.assert_allclose(ex.pixels, ds.train_x[7] / 255.0)
    assert view.batch_label.text() == "mini-batch example 1/4"
    with qtbot.waitSignal(view.inputRequested) as sig:
        qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].index == 3 and view.batch_label.text() == "mini-batch example 2/4"
    qtbot.mouseClick(view.prev_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.inputRequested) as sig:
        qtbot.mouseClick(view.prev_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].index == 30  # wraps around
    # "follow training": each new snapshot shows the same position of the new mini-batch
    view.follow_check.setChecked(True)
    with qtbot.waitSignal(view.inputRequested) as sig:
        view.set_snapshot(Snapshot.of(net, step=4, batch_indices=np.array([1, 2, 5, 9])))
    assert sig.args[0].index == 9
    # the canvas shows that example
    np.testing.assert_allclose(view.canvas.model.x, ds.train_x[9] / 255.0)


@pytest.mark.parametrize("sizes", [(784, 30, 10), (784, 100, 10), (784, 16, 16, 16, 10), (784, 10),
                                   (784, 1, 10), (5, 3, 2), (784, 300, 60)])
def test_other_layer_sizes_render(qtbot, sizes):
    net = Network(sizes, activation="relu" if len(sizes) == 5 else "sigmoid", seed=0)
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    view.set_network(net)
    x = np.random.default_rng(0).random(sizes[0])
    view.set_input(InputExample(x, None, "random"))
    img = canvas_image(view)
    c = view.canvas
    lay = c.diagram_layout()
    for l, n in enumerate(sizes):
        col = lay.columns[l]
        assert col.truncated == (col.slots < n)
        assert (col.ellipsis_y is not None) == col.truncated
        # every shown neuron fits in the canvas
        assert col.ys.min() - lay.radius >= 0 and col.ys.max() + lay.radius <= c.height()
    assert lay.columns[0].truncated == (sizes[0] > 32)
    if 100 in sizes:
        assert lay.columns[1].truncated
    # the first and last neuron of the last layer are drawn and the output is labelled
    assert c.neuron_center(len(sizes) - 1, 0) is not None
    assert c.neuron_center(len(sizes) - 1, sizes[-1] - 1) is not None
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), -1, 4)
    assert (arr[..., :3].astype(int).sum(axis=2) > 300).mean() > 0.002  # not blank


def test_input_column_modes_pick_pixels(qtbot):
    net = Network((784, 16, 10), seed=0)
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(1000, 650)
    view.show()
    view.set_network(net)
    x = np.zeros(784)
    x[[100, 200, 300, 400, 500]] = 1.0
    view.set_input(InputExample(x, None, "dots"))
    view.set_input_mode("brightest")
    view.canvas.grab()
    shown = set(view.canvas._vis[0].tolist())
    assert {100, 200, 300, 400, 500} <= shown
    img = canvas_image(view)
    assert min(rgb(img, view.canvas.neuron_center(0, 300))) > 235
    view.set_input_mode("strongest")
    view.canvas.grab()
    assert set(view.canvas._vis[0].tolist()) == set(strongest_inputs(net.weights[0], len(view.canvas._vis[0])))
    with pytest.raises(ValueError):
        view.canvas.set_input_mode("nonsense")


def test_works_at_small_and_4k_sizes(qtbot):
    view = DiagramView()
    qtbot.addWidget(view)
    view.set_network(Network((784, 16, 16, 10), seed=0))
    view.set_input(InputExample(np.full(784, 0.3), 2, "grey"))
    view.show()
    radii = []
    for w, h in ((1280, 720), (3840, 2160), (640, 400)):
        view.resize(w, h)
        img = canvas_image(view)
        c = view.canvas
        assert img.width() == c.width()
        p = c.neuron_center(3, 9)
        assert 0 < p.x() < c.width() and 0 < p.y() < c.height()
        radii.append(c.radius)
    assert radii[1] > radii[0] > radii[2]


def test_no_network_and_no_input_are_states(qtbot):
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.set_input(None)
    view.canvas.grab()  # "No network yet", no error
    view.set_network(tiny_net())
    img = canvas_image(view)
    assert max(rgb(img, view.canvas.neuron_center(1, 0))) < 40  # no input: neurons dark
    qtbot.mouseMove(view.canvas, view.canvas.neuron_center(1, 0).toPoint())
    assert "no input" in view.canvas.hover_text and "b = +20.000" in view.canvas.hover_text


# ---------------------------------------------------------------- inspector
def test_inspector_shows_weights_image_and_batch_activations(qtbot):
    ds = FakeDataset()
    net = Network((784, 16, 16, 10), seed=0)
    snap = Snapshot.of(net, step=5, batch_indices=np.array([0, 5, 9, 11, 20]))
    ins = NeuronInspector()
    qtbot.addWidget(ins)
    ins.resize(560, 760)
    ins.show()
    ins.set_dataset(ds)
    ins.set_snapshot(snap)
    ins.set_input(InputExample(ds.train_x[9] / 255.0, 9, "train #9", 9, "train"))
    ins.set_neuron(1, 4)
    assert ins.stack.currentWidget() is ins.weight_image
    np.testing.assert_allclose(ins.weight_image.w, net.weights[0][4].reshape(28, 28))
    acts = net.forward(ds.train_x[[0, 5, 9, 11, 20]]).activations[1][:, 4]
    np.testing.assert_allclose(ins.batch_chart.values, acts)
    assert ins.batch_chart.labels == ["0", "5", "9", "1", "0"]
    assert ins.batch_chart.highlight == 2  # the current input is example 3 of the batch
    # the 28×28 image is rendered blue where the weight is most positive
    img = ins.weight_image.grab().toImage()
    r = ins.weight_image.image_rect()
    k = int(np.argmax(net.weights[0][4]))
    pt = QtCore.QPointF(r.left() + (k % 28 + 0.5) * r.width() / 28, r.top() + (k // 28 + 0.5) * r.height() / 28)
    cr, cg, cb = rgb(img, pt)
    assert cb > 150 and cb > cr + 60
    # × input shows each weight times its pixel
    ins.times_input.setChecked(True)
    np.testing.assert_allclose(ins.weight_image.w.ravel(), net.weights[0][4] * ds.train_x[9] / 255.0)
    # clicking a bar of the mini-batch asks for that example as the input
    with qtbot.waitSignal(ins.inputRequested) as sig:
        qtbot.mouseClick(ins.batch_chart, Qt.MouseButton.LeftButton, pos=ins.batch_chart.bar_rect(3).center().toPoint())
    assert sig.args[0].index == 11
    # a hidden-2 neuron: bars, one per incoming weight
    ins.times_input.setChecked(False)
    ins.set_neuron(2, 7)
    np.testing.assert_allclose(ins.weight_bars.values, net.weights[1][7])
    # an input pixel: its outgoing weights
    ins.set_neuron(0, 406)
    np.testing.assert_allclose(ins.weight_bars.values, net.weights[0][:, 406])
    assert "row 14, col 14" in ins.header.text()
    # no mini-batch: a message instead of bars
    ins.set_snapshot(Snapshot.of(net))
    assert ins.batch_chart.values.size == 0 and "no mini-batch" in ins.batch_chart.message


# ---------------------------------------------------------------- weights gallery
def test_gallery_shows_every_first_hidden_neuron_live(qtbot):
    net = Network((784, 16, 16, 10), seed=0)
    w = np.zeros((16, 784))
    w[3, 406] = 1.0  # neuron 3: one positive pixel in the middle
    w[3, 0] = -0.5
    net.weights[0][...] = w
    g = WeightsGalleryView()
    qtbot.addWidget(g)
    g.resize(700, 560)
    g.show()
    x = np.zeros(784)
    x[406] = 1.0
    g.set_input(InputExample(x, None, "one pixel"))  # an input may arrive before the network
    g.set_snapshot(Snapshot.of(net))
    QtWidgets.QApplication.processEvents()  # the caption may re-wrap and resize the canvas
    c = g.canvas
    assert c.count == 16
    r = c.tile_rect(3)
    centre = QtCore.QPointF(r.left() + 14.5 * r.width() / 28, r.top() + 14.5 * r.height() / 28)
    img = c.grab().toImage()
    cr, cg, cb = rgb(img, centre)
    assert cb > 150 and cb > cr + 60  # blue: positive
    corner = QtCore.QPointF(r.left() + 0.5 * r.width() / 28, r.top() + 0.5 * r.height() / 28)
    cr, cg, cb = rgb(img, corner)
    assert cr > 80 and cr > cb + 40  # red: negative
    # the square under tile 3 lights with its activation σ(1·1 + b)
    a3 = 1 / (1 + np.exp(-(1.0 + net.biases[0][3])))
    sq = QtCore.QPointF(r.left() + 4, r.bottom() + 2 + 4)
    assert abs(rgb(img, sq)[0] - a3 * 255) < 4
    # live: flip the sign, the tile follows
    net2 = net.copy()
    net2.weights[0][3, 406] = -1.0
    g.set_snapshot(Snapshot.of(net2))
    cr, cg, cb = rgb(c.grab().toImage(), centre)
    assert cr > 150 and cr > cb + 60
    # hover and click
    qtbot.mouseMove(c, r.center().toPoint())
    assert c.hover_text.startswith("hidden layer 1, neuron 3")
    with qtbot.waitSignal(g.neuronSelected) as sig:
        qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=r.center().toPoint())
    assert sig.args == [1, 3] and c.selected == 3
    QtWidgets.QToolTip.hideText()


def test_gallery_click_can_open_the_diagrams_inspector(qtbot):
    net = Network((784, 100, 10), seed=0)
    view, g = DiagramView(), WeightsGalleryView()
    qtbot.addWidget(view)
    qtbot.addWidget(g)
    g.neuronSelected.connect(lambda l, i: view.select_neuron(l, i))
    for v in (view, g):
        v.resize(800, 600)
        v.show()
        v.set_network(net) if v is view else v.set_snapshot(Snapshot.of(net))
    QtWidgets.QApplication.processEvents()
    assert g.canvas.count == 100
    with qtbot.waitSignal(view.neuronSelected):
        qtbot.mouseClick(g.canvas, Qt.MouseButton.LeftButton, pos=g.canvas.tile_rect(57).center().toPoint())
    assert (view.inspector.layer, view.inspector.index) == (1, 57)
    view.inspector_dialog.close()


# ---------------------------------------------------------------- the Qt-free maths
def test_visible_subsets():
    np.testing.assert_array_equal(head_tail(100, 6), [0, 1, 2, 97, 98, 99])
    np.testing.assert_array_equal(head_tail(5, 8), np.arange(5))
    p = spread_pixels(784, 24)
    assert len(p) == 24 and np.all(np.diff(p) > 0)
    rows, cols = p // 28, p % 28
    assert rows.min() >= 4 and rows.max() < 24 and cols.min() >= 4 and cols.max() < 24
    assert len(set(rows.tolist())) > 8 and len(set(cols.tolist())) > 8  # spread, not a line
    x = np.zeros(784)
    x[[5, 50, 500]] = [0.2, 1.0, 0.6]
    np.testing.assert_array_equal(brightest_pixels(x, 2), [50, 500])
    w = np.zeros((3, 10))
    w[:, 7] = [1, -1, 1]
    w[0, 2] = -2.5
    np.testing.assert_array_equal(strongest_inputs(w, 2), [2, 7])


def test_edge_order_matches_segments_and_weights():
    net = Network((6, 4, 3), seed=1)
    lay = compute_layout(net.sizes, 800, 500)
    m = DiagramModel()
    m.set_network(net)
    vis = m.visible(lay)
    seg = lay.segments(0)
    w = m.gap_weights(0, vis[0], vis[1])
    for k in (0, 5, 13, 23):
        i, j = k % 6, k // 6  # source slot, destination slot
        assert seg[k, 1] == lay.columns[0].ys[i] and seg[k, 3] == lay.columns[1].ys[j]
        assert w[k] == net.weights[0][vis[1][j], vis[0][i]]


def test_scales_buckets_and_hit_tests():
    w = np.concatenate([np.linspace(-1, 1, 199), [50.0]])
    assert robust_scale(w) == pytest.approx(1.0, abs=0.02)  # the outlier does not set the scale
    b, s = edge_buckets(np.array([0.0, 0.3, -0.99, 7.0, np.nan]), 1.0, 8)
    np.testing.assert_array_equal(b, [0, 2, 7, 7, 0])
    np.testing.assert_array_equal(s[:4], [1, 1, 0, 1])
    lay = compute_layout((784, 16, 10), 1200, 800)
    col = lay.columns[1]
    assert nearest_neuron(lay, col.x + 1, col.ys[3] - 1) == (1, 3)
    assert nearest_neuron(lay, col.x + 3 * lay.radius, col.ys[3]) is None
    seg = np.array([[0.0, 0.0, 10.0, 0.0], [0.0, 5.0, 10.0, 5.0]])
    np.testing.assert_allclose(segment_distances(seg, 5.0, 1.0), [1.0, 4.0])
    np.testing.assert_allclose(segment_distances(seg, -3.0, 4.0), [5.0, 3.0 * np.sqrt(1 + 1 / 9)])


def test_colours_follow_the_theme():
    from nnstudio.gui.views.diagram.canvas import edge_pen

    strong_pos, strong_neg = edge_pen(7, 1).color(), edge_pen(7, 0).color()
    assert strong_pos.blue() > strong_pos.red() and strong_neg.red() > strong_neg.blue()
    assert edge_pen(0, 1).color().blue() < strong_pos.blue()  # weaker = closer to the background
    assert edge_pen(7, 1).widthF() > edge_pen(0, 1).widthF()
    assert theme.POSITIVE[2] > theme.POSITIVE[0]
