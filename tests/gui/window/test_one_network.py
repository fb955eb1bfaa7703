"""One studio, one truth: a fresh window driven as a person does, and after every step the same
network everywhere.

After each of first launch, drawing a digit, Play then pause, Rewind, Reset, opening a model, an
explorer Step (adopted by the studio), switching to a dataset of the same input size, and
setting a lesson step up, a person who looks at each view sees one network:

* the diagram lights its outputs for the current input as the session's network does;
* the pad's bars are the session's network reading the drawing;
* the explorer explains the session's network (same weights, same outputs for its example);
* the evaluation shows numbers computed for the session's network (or none yet), never another's;
* the title and the status bar name it the same way, and the pad and the diagram say that name.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gui import click, key, settle, until_paused
from helpers_http import make_idx_folder

from nnstudio.core import Network, save_model
from nnstudio.gui.qt import QtCore, Qt, QtWidgets
from nnstudio.gui.window.frames import shown

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def outputs(net, pixels) -> np.ndarray:
    return net.feedforward(np.asarray(pixels, dtype=np.float64).reshape(1, -1))[0]


def same_params(a, b) -> bool:
    return tuple(a.sizes) == tuple(b.sizes) and all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


def look_at(qtbot, w, name):
    """Click the view's dock tab (as a person would) and wait until it is on screen and fed."""
    w.show_view(name)
    v = w.views[name]
    qtbot.waitUntil(lambda: shown(v), timeout=5000)
    qtbot.waitUntil(lambda: getattr(v, "_snapshot", getattr(v, "snapshot", None)) is w.session.snapshot
                    or name == "draw", timeout=5000)
    return v


def draw_a_one(qtbot, pad):
    points = [(140.0 + 2.0 * i / 24, 50.0 + 180.0 * i / 24) for i in range(25)]
    pts = [pad.from_canvas(x, y) for x, y in points]
    pts = [QtCore.QPoint(round(p.x()), round(p.y())) for p in pts]
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=pts[0])
    for p in pts[1:]:
        qtbot.mouseMove(pad, p)
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=pts[-1])


def check_one_network(qtbot, w, when: str) -> None:
    s = w.session
    settle(qtbot, w)
    net = s.network
    assert net is not None, when
    label = s.network_label()
    # --- named one way everywhere
    assert label in w.windowTitle(), (when, w.windowTitle(), label)
    assert w.status.network_label.text() == label, when
    # --- the diagram: its outputs for the current input are the network's
    dg = w.views["diagram"]
    qtbot.waitUntil(lambda: dg.snapshot is s.snapshot and dg.example is s.current_input, timeout=5000)
    assert same_params(dg.snapshot.network, net), when
    m = dg.canvas.model
    if s.current_input is not None and m.has_input:
        np.testing.assert_array_equal(m.activations(len(net.sizes) - 1).ravel(), outputs(net, s.current_input.pixels))
    assert label in dg.canvas.footer_text()[1], when
    # --- the pad: its bars are the network reading the drawing
    pad = look_at(qtbot, w, "draw")
    qtbot.waitUntil(lambda: pad.network is not None and same_params(pad.network, net), timeout=5000)
    assert pad.model_label.text() == f"Read by {label}", when
    if not pad.pad.is_empty() and pad.network_input().any():
        qtbot.waitUntil(lambda: pad.prediction is not None and pad.prediction.activations is not None
                        and np.array_equal(pad.prediction.activations, outputs(net, pad.network_input())),
                        timeout=5000)
        np.testing.assert_allclose(pad.bars.values(), np.clip(outputs(net, pad.network_input()), 0, 1))
    # --- the explorer: the same weights, the same outputs for the example it explains
    bp = look_at(qtbot, w, "backprop")
    qtbot.waitUntil(lambda: not bp.refresh_pending and bp.network is not None and same_params(bp.network, net),
                    timeout=5000)
    if bp.current_example is not None:
        x, _ = bp.current_example
        np.testing.assert_allclose(bp.example_cost.activations, outputs(net, x), rtol=0, atol=1e-12)
    assert bp.learning_rate == s.hyper["learning_rate"], when
    # --- the evaluation: numbers for this network, or none yet; never another network's
    ev = look_at(qtbot, w, "evaluation")
    qtbot.waitUntil(lambda: ev.analysis is not None and not ev.busy, timeout=20000)
    res = ev._result
    assert same_params(res.network, net), when
    acc, _ = net.evaluate(s.dataset.test_x, s.dataset.test_labels)
    assert ev.report["accuracy"] == pytest.approx(acc, abs=1e-12), when
    w.show_view("draw")


def test_one_network_on_screen_whatever_the_learner_does(qtbot, studio, tmp_path, monkeypatch):
    w = studio
    s = w.session
    no_limit = w.findChild(QtWidgets.QSpinBox, "epochsInput")
    # 1. first launch: the shipped network, everywhere, by the same name
    check_one_network(qtbot, w, "first launch")
    assert s.origin.kind == "shipped" and s.network_label() == "pretrained 784-16-16-10"

    # 2. drawing a digit on the pad
    look_at(qtbot, w, "draw")
    draw_a_one(qtbot, w.views["draw"].pad)
    qtbot.waitUntil(lambda: s.current_input is not None and s.current_input.source == "drawing pad", timeout=5000)
    check_one_network(qtbot, w, "drawing")
    assert w.views["draw"].prediction.guess == 1

    # 3. Play, then pause: a new network from random weights, trained a little
    no_limit.setValue(0)
    w.findChild(QtWidgets.QSlider, "speedSlider").setValue(6)  # 300 mini-batches a second
    key(qtbot, w, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: s.history.n > 30, timeout=10000)
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_Space))
    assert s.origin.kind == "fresh" and s.unsaved
    check_one_network(qtbot, w, "play then pause")

    # 4. Rewind
    until_paused(qtbot, w, lambda: click(qtbot, w, "rewindButton"))
    assert s.snapshot.step == 0 and s.history.n == 0
    check_one_network(qtbot, w, "rewind")
    assert "mini-batch" not in (s.current_input.source if s.current_input else "")

    # 5. Reset
    until_paused(qtbot, w, lambda: click(qtbot, w, "resetButton"))
    check_one_network(qtbot, w, "reset")

    # 6. opening a model (File ▸ Open, Ctrl+O)
    path = tmp_path / "mine.npz"
    save_model(Network((784, 30, 10), seed=11), path)
    monkeypatch.setattr(w, "ask_open_path", lambda *a: str(path))
    until_paused(qtbot, w, lambda: key(qtbot, w, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier))
    assert s.network_label() == "mine.npz" and s.network.sizes == (784, 30, 10)
    check_one_network(qtbot, w, "open a model")

    # 7. an explorer Step: the studio adopts it (and it can be undone)
    bp = look_at(qtbot, w, "backprop")
    before = s.network.copy()
    with qtbot.waitSignal(bp.stepApplied):
        click_button(qtbot, bp.step_button)
    assert not same_params(s.network, before) and s.network_label() == "mine.npz •"
    check_one_network(qtbot, w, "explorer step")
    assert w.undo_action.isEnabled()

    # 8. switching to a dataset of the same input size: the network stays
    folder = tmp_path / "more-digits"
    make_idx_folder(folder, n_train=60, n_test=20)
    monkeypatch.setattr(w, "ask_folder", lambda *a: str(folder))
    net = s.network.copy()
    combo = w.findChild(QtWidgets.QComboBox, "datasetSelector")
    combo.setFocus()
    with qtbot.waitSignal(w.datasetReady, timeout=20000):
        qtbot.keyClick(combo, Qt.Key.Key_End)  # "Folder…"
    assert s.dataset.n_train == 60 and same_params(s.network, net)
    check_one_network(qtbot, w, "dataset switch")

    # 9. a lesson step, set up because the learner asked
    w.lessons_action.trigger()
    view = w.lessons_view
    qtbot.waitUntil(view.setup_button.isVisible)
    monkeypatch.setattr(w, "confirm_discard", lambda what: True)
    with qtbot.waitSignal(view.stepReady, timeout=30000):
        click_button(qtbot, view.setup_button)
    assert s.network_label() == "pretrained 784-16-16-10"
    check_one_network(qtbot, w, "lesson step")


def click_button(qtbot, b):
    assert b.isEnabled(), b.objectName()
    qtbot.mouseClick(b, Qt.MouseButton.LeftButton)
