"""The Backprop explorer, driven like a person: clicks on the diagram, the grids, the images and the Step button."""

import numpy as np
import pytest

from nnstudio.core import Network
from nnstudio.components.explain import ParamRef, default_batch_indices, fmt, three_ways
from nnstudio.data import load_dataset
from nnstudio.gui.views.backprop import BackpropView
from nnstudio.gui.qt import QtCore, Qt
from nnstudio.session.model import InputExample, Snapshot

# the offscreen platform says this on every show(); it is not about our widgets
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

BATCH = np.array([3, 141, 592, 653, 589, 793, 2384, 626, 433, 832])


@pytest.fixture(scope="module")
def ds():
    return load_dataset("mnist-sample")


@pytest.fixture(scope="module")
def net():
    return Network((784, 16, 16, 10), seed=5)


@pytest.fixture
def view(qtbot, ds, net):
    v = BackpropView()
    qtbot.addWidget(v)
    v.resize(1100, 720)
    v.set_dataset(ds)
    v.set_snapshot(Snapshot(net, step=7, learning_rate=2.0, batch_size=10, batch_indices=BATCH))
    v.show()
    qtbot.waitExposed(v)
    return v


def batch_xy(ds):
    return ds.train_x[BATCH], ds.train_labels[BATCH].astype(int)


def click(qtbot, widget, point):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=QtCore.QPoint(round(point.x()), round(point.y())))


def test_placeholder_without_a_network(qtbot):
    v = BackpropView()
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    assert v.placeholder.isVisible() and not v.tabs.isVisible()
    assert not v.step_button.isEnabled()
    assert v.step() is None  # nothing to step, no traceback
    v.set_input(None)
    v.set_dataset(load_dataset("mnist-sample"))
    assert not v.tabs.isVisible()


def test_default_example_is_the_first_of_the_mini_batch(view, ds, net):
    X, y = batch_xy(ds)
    x, label = view.current_example
    np.testing.assert_allclose(x, X[0] / 255.0)
    assert label == y[0]
    assert view.learning_rate == 1.5  # the studio's η, until the studio says another
    view.set_studio_learning_rate(2.0)
    assert view.learning_rate == 2.0
    assert view.example_cost.cost == pytest.approx(net.cost_of(X[:1], y[:1]), abs=1e-12)
    assert fmt(view.example_cost.cost) in view.example_label.text()


def test_clicking_a_weight_shows_the_chain_rule_product_equal_to_backprop(view, qtbot, ds, net):
    view.show_tab("chain rule")
    diagram = view.chain.diagram
    x, label = view.current_example
    for ref in (ParamRef(1, 3, 5), ParamRef(2, 7, 12), ParamRef(0, 0, 406), ParamRef(1, 9, None)):
        if ref.layer == 0:  # a pixel click picks the weight into the selected first-hidden neuron
            view.select_parameter(ParamRef(0, 0, None))
        with qtbot.waitSignal(view.parameterSelected) as sig:
            click(qtbot, diagram, diagram.edge_midpoint(ref))
        assert sig.args[0] == ref and view.selected_parameter == ref
        cr = view.chain.result
        gw, gb = net.backprop(x[None], [label])
        expected = ref.of(gw, gb)
        assert cr.ref == ref
        assert cr.product == pytest.approx(expected, abs=1e-12)
        assert cr.a_prev * cr.fprime * cr.dC_da == pytest.approx(expected, abs=1e-12)
        assert cr.numerical == pytest.approx(expected, abs=1e-6)
        text = view.chain.text.text()
        for v in (cr.product, cr.a_prev, cr.fprime, cr.dC_da, cr.numerical):
            assert fmt(v) in text
        assert "they agree" in text
        # the picker follows the click
        assert view.chain.layer_box.currentIndex() == ref.layer and view.chain.row_box.value() == ref.row
        assert view.chain.col_box.value() == (-1 if ref.col is None else ref.col)
    assert "sum over paths" in text  # a hidden-layer parameter shows the sum over the next layer


def test_the_picker_selects_a_parameter_by_keyboard(view, qtbot):
    view.show_tab("chain rule")
    view.select_parameter(ParamRef(2, 0, 0))
    box = view.chain.row_box
    box.setFocus()
    with qtbot.waitSignal(view.parameterSelected) as sig:
        qtbot.keyClick(box, Qt.Key.Key_Up)
    assert sig.args[0] == ParamRef(2, 1, 0)
    view.chain.col_box.setValue(-1)
    assert view.selected_parameter == ParamRef(2, 1, None)
    assert "b(3)[1]" in view.chain.text.text()


def test_step_button_changes_weights_by_minus_eta_times_the_average(view, qtbot, ds, net):
    X, y = batch_xy(ds)
    before = net.flat_parameters()
    gw, gb = net.backprop(X, y)
    avg = -net.flat_gradient(gw, gb)  # the average desired change
    eta = 0.5
    with qtbot.waitSignal(view.learningRateEdited) as edited:  # (an edit asks the studio for this η)
        view.eta_box.setValue(eta)
    assert edited.args == [eta]
    with qtbot.waitSignal(view.stepApplied) as sig:
        qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    stepped = sig.args[0]
    np.testing.assert_allclose(stepped.flat_parameters() - before, eta * avg, atol=1e-12)
    np.testing.assert_allclose(view.network.flat_parameters(), stepped.flat_parameters())
    np.testing.assert_array_equal(net.flat_parameters(), before)  # the snapshot's network is untouched
    res = view.last_step
    assert res.batch_cost_before == pytest.approx(net.cost_of(X, y))
    assert res.batch_cost_after == pytest.approx(stepped.cost_of(X, y))
    x, label = view.current_example
    assert res.example_cost_after == pytest.approx(stepped.cost_of(x[None], [label]))
    text = view.step_label.text()
    assert fmt(res.batch_cost_before) in text and fmt(res.batch_cost_after) in text
    # the All examples tab now shows each example's cost before the step
    view.show_tab("all examples")
    np.testing.assert_allclose(view.all_examples.grid.before, net.backprop_details(X, y).costs)
    # a second click steps again from the stepped network; Undo asks the studio for the weights before
    with qtbot.waitSignal(view.stepApplied) as sig2:
        qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    g2 = stepped.flat_gradient(*stepped.backprop(X, y))
    np.testing.assert_allclose(sig2.args[0].flat_parameters(), stepped.flat_parameters() - eta * g2, atol=1e-12)
    with qtbot.waitSignal(view.undoRequested):
        qtbot.mouseClick(view.undo_button, Qt.MouseButton.LeftButton)


def test_all_examples_average_is_the_mini_batch_gradient(view, qtbot, ds, net):
    X, y = batch_xy(ds)
    view.show_tab("all examples")
    ref = ParamRef(1, 4, 2)
    view.select_parameter(ref)
    bn = view.all_examples.bn
    gw, gb = net.backprop(X, y)
    pw, pb = net.per_example_gradients(X, y)
    np.testing.assert_allclose(bn.changes, -pw[1][:, 4, 2], atol=1e-12)
    assert bn.average == pytest.approx(-gw[1][4, 2], abs=1e-12)
    np.testing.assert_allclose(bn.costs, net.backprop_details(X, y).costs)
    assert fmt(bn.average, plus=True) in view.all_examples.summary.text()
    assert view.all_examples.chart.bn is bn


def test_clicking_a_mini_batch_image_makes_it_the_current_example(view, qtbot, ds):
    view.show_tab("all examples")
    grid = view.all_examples.grid
    with qtbot.waitSignal(view.inputRequested) as sig:
        click(qtbot, grid, grid.tile_center(4))
    ex = sig.args[0]
    assert ex.index == BATCH[4] and ex.split == "train" and ex.label == ds.train_labels[BATCH[4]]
    x, label = view.current_example
    np.testing.assert_allclose(x, ds.train_x[BATCH[4]] / 255.0)
    assert view.current_batch_position == 4 and grid.current == 4
    assert "train #" in view.example_label.text()


def test_no_batch_indices_means_ten_fixed_seed_examples(qtbot, ds, net):
    v = BackpropView()
    qtbot.addWidget(v)
    v.set_snapshot(Snapshot(net))
    v.set_dataset(ds)
    X, y, src = v.batch
    idx = default_batch_indices(ds.n_train, 10, seed=0)
    np.testing.assert_array_equal(X, ds.train_x[idx])
    np.testing.assert_array_equal(y, ds.train_labels[idx])
    assert "fixed" in src


def test_a_drawing_without_label_defaults_to_the_guess_and_the_user_can_pick(view, qtbot, net):
    rng = np.random.default_rng(0)
    pixels = np.zeros((28, 28))
    pixels[6:22, 12:16] = 1.0
    pixels = np.clip(pixels + 0.05 * rng.random((28, 28)), 0, 1).ravel()
    view.set_input(InputExample(pixels, None, source="drawing pad"))
    guess = int(net.predict(pixels[None])[0])
    assert view.current_example[1] == guess and view.desired_box.currentIndex() == guess
    assert "pick the desired digit" in view.example_label.text()
    other = (guess + 3) % 10
    view.desired_box.setFocus()
    view.desired_box.setCurrentIndex(other)
    view.desired_box.activated.emit(other)  # what a user's choice in the popup emits
    assert view.current_example[1] == other
    view.show_tab("one neuron")
    tw = view.one_neuron.tw
    ref = three_ways(net, pixels, other)
    assert tw.neuron == other and tw.desired == pytest.approx(ref.desired) and tw.desired > 0
    assert view.example_cost.targets[other] == 1.0


def test_one_neuron_panel_shows_the_three_ways_and_rows_are_clickable(view, qtbot, net):
    view.show_tab("one neuron")
    x, label = view.current_example
    tw = view.one_neuron.tw
    ref = three_ways(net, x, label)
    assert tw.neuron == label
    assert tw.mag_bias == pytest.approx(ref.mag_bias) and tw.mag_weights == pytest.approx(ref.mag_weights)
    assert fmt(tw.da_db) in view.one_neuron.way_text["bias"].text()
    assert fmt(tw.mag_weights) in view.one_neuron.way_text["weights"].text()
    assert fmt(tw.mag_prev) in view.one_neuron.way_text["prev"].text()
    out = view.one_neuron.outputs
    other = (label + 1) % 10
    y, h = out._rows()[other]
    click(qtbot, out, QtCore.QPointF(20, y + h / 2))
    assert view.one_neuron.tw.neuron == other
    assert "a = " in out.tooltip_at(QtCore.QPointF(20, y + h / 2))


def test_all_neurons_diagram_hover_numbers_and_propagation(view, qtbot, net):
    view.show_tab("all neurons")
    panel = view.all_neurons
    d = panel.diagram
    nd = panel.nd
    tip = d.tooltip_at(d.neuron_center(2, 3))
    assert fmt(nd.desired[1][3], plus=True) in tip and "Σ over the 10 neurons" in tip
    # the hidden desires are the weighted sums of the layer after
    np.testing.assert_allclose(nd.contributions[1].sum(axis=0), nd.desired[1], atol=1e-12)
    qtbot.mouseClick(panel.output_button, Qt.MouseButton.LeftButton)
    assert d.reveal == 1 and d.revealed(3) and not d.revealed(2)
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert d.revealed(2) and not d.revealed(1)
    qtbot.mouseClick(panel.back_button, Qt.MouseButton.LeftButton)
    assert d.revealed(1) and not panel.back_button.isEnabled()
    # clicking a neuron selects its bias
    with qtbot.waitSignal(view.parameterSelected) as sig:
        click(qtbot, d, d.neuron_center(1, 6))
    assert sig.args[0] == ParamRef(0, 6, None)
    # rendered: blue and red nudges are on screen
    img = d.grab().toImage()
    blue = red = 0
    for px in range(0, img.width(), 2):
        for py in range(0, img.height(), 2):
            c = img.pixelColor(px, py)
            blue += c.blue() > c.red() + 60
            red += c.red() > c.blue() + 60
    assert blue > 50 and red > 50


def test_parameter_grid_marks_the_largest_nudges_and_selects_on_click(view, qtbot, ds, net):
    X, y = batch_xy(ds)
    view.show_tab("parameters")
    pn = view.parameters.pn
    g = -net.flat_gradient(*net.backprop(X, y))
    np.testing.assert_allclose(pn.neg_grad, g, atol=1e-15)
    assert np.abs(g)[pn.top[0]] == np.abs(g).max()
    top = pn.refs(net.sizes)[0]
    assert top.label() in view.parameters.top.text()
    grid = view.parameters.grid
    target = ParamRef(2, 4, 9)
    with qtbot.waitSignal(view.parameterSelected) as sig:
        click(qtbot, grid, grid.cell_center(target, "grad"))
    assert sig.args[0] == target
    assert "−∂C/∂θ" in grid.tooltip_at(grid.cell_center(target, "theta"))


def test_explains_the_videos_cost_by_default_even_for_a_cross_entropy_network(qtbot, ds):
    ce = Network((784, 16, 16, 10), cost="cross-entropy", seed=2)
    v = BackpropView()
    qtbot.addWidget(v)
    v.set_dataset(ds)
    v.set_snapshot(Snapshot(ce, learning_rate=0.5, batch_indices=BATCH))
    X, y = batch_xy(ds)
    x, label = v.current_example
    a = ce.feedforward(x[None])[0]
    assert v.example_cost.cost == pytest.approx(float(((a - np.eye(10)[label]) ** 2).sum()), abs=1e-12)
    assert "trained with" in v.cost_box.itemText(1)
    with qtbot.waitSignal(v.stepApplied) as sig:
        qtbot.mouseClick(v.step_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].cost.name == "cross-entropy"  # the window's network keeps its own cost
    v.reset()
    v.set_cost("cross-entropy")
    assert v.example_cost.cost == pytest.approx(ce.cost_of(x[None], [label]), abs=1e-12)
    v.show_tab("chain rule")
    cr = v.chain.result
    assert cr.product == pytest.approx(cr.ref.of(*ce.backprop(x[None], [label])), abs=1e-12)
    assert "Σ" in v.convention.text()


def test_a_stream_of_snapshots_is_coalesced_and_the_latest_shown(view, qtbot, ds, net):
    other = net.copy()
    other.biases[2][:] += 0.5
    batch2 = BATCH[::-1].copy()
    view.set_snapshot(Snapshot(net.copy(), batch_indices=BATCH))
    view.set_snapshot(Snapshot(other, batch_indices=batch2))  # within MIN_REFRESH_MS of the first
    qtbot.waitUntil(lambda: not view.refresh_pending, timeout=2000)
    np.testing.assert_array_equal(view.network.flat_parameters(), other.flat_parameters())
    x, label = view.current_example
    assert view.example_cost.cost == pytest.approx(other.cost_of(x[None], [label]), abs=1e-12)
    np.testing.assert_array_equal(view.batch[0], ds.train_x[batch2])
