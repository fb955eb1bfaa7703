"""The Training panel on its own: it turns gestures into signals and shows values without echoing them."""

from __future__ import annotations

import pytest

from nnstudio.gui.qt import Qt, QtWidgets
from nnstudio.gui.training.controls import TrainingActions, TrainingControls, parse_sizes
from nnstudio.training.loop import FOLLOW_SPEED, SPEEDS


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


def test_speed_steps_and_slow_motion_mark(qtbot, controls):
    c = controls
    c.set_speed(SPEEDS[0])
    assert c.speed() == 1 and "1 mini-batch/s" in c.speed_label.text()
    with qtbot.waitSignal(c.speedChanged) as sig:
        c.actions.faster.trigger()
    assert sig.args == [float(SPEEDS[1])]
    assert c.speed_label.toolTip() == ("every mini-batch is shown" if SPEEDS[1] <= FOLLOW_SPEED else "")
    c.set_speed(0)
    assert c.speed_label.text() == "full speed"
    qtbot.keyClick(c.speed_slider, Qt.Key.Key_Home)
    assert c.speed() == SPEEDS[0]
