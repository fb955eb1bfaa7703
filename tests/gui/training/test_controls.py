"""The Training panel on its own: it turns gestures into signals and shows values without echoing them."""

from __future__ import annotations

import pytest

from nnstudio.gui.qt import Qt, QtWidgets
from nnstudio.gui.training.controls import TrainingActions, TrainingControls, parse_sizes
from nnstudio.training.loop import FIXED_SPEEDS, WATCH, watch_rate


@pytest.fixture
def controls(qtbot):
    host = QtWidgets.QWidget()
    qtbot.addWidget(host)
    c = TrainingControls(TrainingActions(host))
    qtbot.addWidget(c)
    c.host = host  # (the actions' parent: keep it alive with the panel)
    return c


def test_parse_sizes_accepts_the_usual_spellings_and_refuses_the_rest():
    assert parse_sizes("784-16-16-10") == parse_sizes("784, 16 16x10") == (784, 16, 16, 10)
    for bad in ("784", "784-a-10", "784-0-10", "784-5000-10"):
        with pytest.raises(ValueError):
            parse_sizes(bad)


def test_showing_values_does_not_echo_them(qtbot, controls):
    c = controls
    got = []
    for sig in (c.learningRateChanged, c.batchSizeChanged, c.epochsChanged, c.architectureEdited):
        sig.connect(lambda *a: got.append(a))
    c.set_hyper(learning_rate=0.25, batch_size=32, epochs=7)
    c.set_architecture((784, 30, 10), "tanh", "cross-entropy", "normal", 5)
    assert got == []
    assert (c.lr_input.value(), c.batch_input.value(), c.epochs_input.value()) == (0.25, 32, 7)
    assert c.architecture() == {"sizes": (784, 30, 10), "activation": "tanh", "cost": "cross-entropy",
                                "init": "normal", "seed": 5}


def test_a_user_edit_is_a_signal(qtbot, controls):
    c = controls
    with qtbot.waitSignal(c.batchSizeChanged) as sig:
        c.batch_input.setValue(20)
    assert sig.args == [20]
    with qtbot.waitSignal(c.architectureEdited):
        c.sizes_input.setText("784-20-10")
        c.sizes_input.editingFinished.emit()


def test_speed_the_watch_pace_full_speed_and_slow_motion(qtbot, controls):
    c = controls
    assert c.speed() == WATCH and c.actions.watch.isChecked()  # the default: watch it learn
    assert c.speed_label.text() == "speeds up as it learns"
    with qtbot.waitSignal(c.speedChanged) as sig:
        c.actions.full_speed.trigger()  # F: full speed, one key away
    assert sig.args == [0.0] and c.speed_label.text() == "full speed" and not c.actions.watch.isChecked()
    with qtbot.waitSignal(c.speedChanged) as sig:
        c.actions.slower.trigger()
    assert sig.args == [float(FIXED_SPEEDS[-2])]
    c.set_speed(2)
    assert c.speed() == 2 and c.speed_label.text() == "2 mini-batches/s, each shown"  # (no cryptic "·")
    assert "every mini-batch" in c.speed_label.toolTip()
    with qtbot.waitSignal(c.speedChanged) as sig:
        c.actions.watch.trigger()
    assert sig.args == [WATCH]
    qtbot.keyClick(c.speed_slider, Qt.Key.Key_Home)  # moving the slider leaves the watch pace
    assert c.speed() == FIXED_SPEEDS[0] == 1 and not c.actions.watch.isChecked()


def test_the_watch_pace_speeds_up_as_steps_go_by():
    assert watch_rate(0) == 2.0 and watch_rate(3) == 4.0
    assert 0 < watch_rate(400) < watch_rate(4000) < 5000
    assert watch_rate(10**6) == 0.0  # (then full speed)
