"""What the diagram's edges and neurons show, on rendered pixels: the weights, the last mini-batch's
−∂C/∂w or the last step's Δw on the edges (blue up, red down), the desired nudges −∂C/∂a as arrows
on the neurons, a legend that says which, the hover text, the toolbar's choices and its Show menu
in step, and the request for the last step's change sent only while the edges need it."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.components.diagram import legend_items
from nnstudio.gui.qt import QtWidgets
from nnstudio.gui.views.diagram.view import DiagramView
from nnstudio.session.model import InputExample, Snapshot

from test_diagram import TINY_INPUT, rgb_near, tiny_net  # noqa: E402  (the same hand-made 4-3-2 network)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")

ETA = 0.5


def stepped_snapshot(net) -> Snapshot:
    """The tiny network after a step whose change lowered w(0→0) (a positive weight) by 1 and raised
    w(3→2) (a negative weight) by 1, and changed nothing else."""
    change = [np.zeros_like(p) for p in net.params]
    change[0][0, 0] = -1.0  # params[g][src, dst]: the weight from src into dst
    change[0][3, 2] = +1.0
    flat = np.concatenate([c.ravel() for c in change])
    return Snapshot(net, step=7, learning_rate=ETA, batch_size=10, step_change=flat)


@pytest.fixture
def view(qtbot):
    v = DiagramView(open_inspector=False)
    qtbot.addWidget(v)
    v.resize(1400, 600)
    v.set_snapshot(stepped_snapshot(tiny_net()))
    v.set_input(InputExample(TINY_INPUT, label=1, source="hand-made"))
    v.show()
    qtbot.waitExposed(v)
    yield v
    QtWidgets.QToolTip.hideText()


def colour(view, gap, src, dst) -> str:
    r, g, b = rgb_near(view.canvas.grab().toImage(), view.canvas.edge_midpoint(gap, src, dst))
    if b > 150 and b > r + 60:
        return "blue"
    if r > 150 and r > b + 60:
        return "red"
    return "faint" if max(r, g, b) < 60 else f"{r},{g},{b}"


@pytest.mark.parametrize("mode", ["gradient", "change"])
def test_the_edges_show_the_last_steps_gradient_or_change_instead_of_the_weights(view, mode):
    assert (colour(view, 0, 0, 0), colour(view, 0, 3, 2)) == ("blue", "red")  # the weights: +5, −5
    wanted = []
    view.stepChangesWanted.connect(wanted.append)
    view.set_edge_mode(mode)
    assert wanted == [True]  # (the session is asked for the last step's change)
    # the step lowered the positive weight and raised the negative one: the colours flip
    assert (colour(view, 0, 0, 0), colour(view, 0, 3, 2)) == ("red", "blue")
    assert colour(view, 0, 1, 1) == "faint"  # a weight the step did not change
    c = view.canvas
    assert c.model.edge_value(0, 0, 0) == (-1.0 / ETA if mode == "gradient" else -1.0)
    view.set_edge_mode("weights")
    assert wanted == [True, False]
    assert (colour(view, 0, 0, 0), colour(view, 0, 3, 2)) == ("blue", "red")


def test_the_toolbar_and_the_show_menu_say_the_same_choice(view, qtbot):
    combo = view.choice_combos["edges"]
    combo.setCurrentIndex(combo.findData("change"))
    assert view.canvas.edge_mode == "change" and view.choice_actions["edges"]["change"].isChecked()
    view.choice_actions["neurons"]["nudge"].trigger()  # (the Show menu of a narrow view)
    assert view.canvas.neuron_mode == "nudge"
    assert view.choice_combos["neurons"].currentData() == "nudge"
    view.resize(600, 400)
    QtWidgets.QApplication.processEvents()
    assert view.show_button.isVisible() and not combo.isVisible()
    with pytest.raises(ValueError):
        view.set_edge_mode("momentum")


def test_without_a_last_step_the_edges_say_so(view):
    view.set_snapshot(Snapshot.of(tiny_net()))  # (no step's change: a network just opened)
    view.set_edge_mode("gradient")
    assert not view.canvas.model.edges_available
    assert colour(view, 0, 0, 0) == "faint"  # no edge is drawn rather than a wrong one
    items = legend_items("gradient", "activation", False)
    assert any("no last step" in text for _kind, text in items)
    items = legend_items("change", "activation", False, past=True)  # (a step of the past, from the timeline)
    assert any("Δw: not kept for a step of the past" in text for _kind, text in items)


def test_the_legend_names_what_is_shown():
    texts = lambda *a: " ".join(t for _k, t in legend_items(*a))  # noqa: E731
    assert "positive weight" in texts("weights", "activation")
    assert "−∂C/∂w > 0" in texts("gradient", "activation")
    assert "Δw > 0" in texts("change", "activation") and "Δw = −η ∂C/∂w" in texts("change", "activation")
    assert "desired nudge −∂C/∂a (to read “7”)" in texts("weights", "nudge", True, "7")
    assert "need a labelled example" in texts("weights", "nudge", True, None)


def test_nudge_arrows_on_the_neurons(view):
    c = view.canvas
    before = c.grab().toImage()
    view.set_neuron_mode("nudge")
    nudges = c.model.nudges()
    assert nudges is not None and len(nudges) == 2  # hidden and output layers
    after = c.grab().toImage()
    # the lit hidden neuron is wanted a little higher (a blue arrow up), the output the label does not
    # want (0) lower (a red arrow down); neurons whose nudge is exactly 0 get no arrow
    up, down = c.neuron_center(1, 0), c.neuron_center(2, 0)
    r, g, b = rgb_near(after, up.__class__(up.x(), up.y() - c._layout.radius * 0.9))
    assert b > r + 60, (r, g, b)
    r, g, b = rgb_near(after, down.__class__(down.x(), down.y() + c._layout.radius * 0.9))
    assert r > b + 60, (r, g, b)
    dark = c.neuron_center(1, 1)  # (a ≈ 0 saturated: −∂C/∂a is exactly 0)
    assert nudges[0][1] == 0 and rgb_near(after, dark) == rgb_near(before, dark)
    changed = sum(before.pixel(x, y) != after.pixel(x, y)
                  for x in range(0, before.width(), 3) for y in range(0, before.height(), 3))
    assert changed > 50
    assert nudges[-1][1] > 0 > nudges[-1][0]  # label 1: output 1 up, output 0 down
    # without a label there are no nudges, and the legend says why
    view.set_input(InputExample(TINY_INPUT, label=None, source="drawing"))
    assert c.model.nudges() is None


def test_hovering_an_edge_shows_w_and_the_last_steps_gradient_and_change(qtbot, view):
    c = view.canvas
    qtbot.mouseMove(c, c.edge_midpoint(0, 0, 0).toPoint())
    text = c.hover_text
    assert text.startswith("w = +5.0000"), text
    assert "−∂C/∂w = -2" in text and "Δw = -1" in text and "mini-batch 7" in text
