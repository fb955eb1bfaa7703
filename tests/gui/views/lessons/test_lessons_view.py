"""Guided lessons in the real studio window, driven like a learner: Next, Back, the step list (pytest-qt)."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest

from nnstudio._resources import shipped_model_path
from nnstudio.core import load_model
from nnstudio.components.explain import fmt
from nnstudio.lessons.live import MISSING, live_values, resolve_example
from nnstudio.gui.views.backprop import TABS
from nnstudio.gui.views.lessons import LessonsView
from nnstudio.gui.window.frames import shown
from nnstudio.session import DEFAULT_ARCHITECTURE
from nnstudio.core import Network
from nnstudio.gui.window.mainwindow import MainWindow, make_settings
from nnstudio.gui.qt import QtGui, QtWidgets, Qt

# the offscreen platform (tests) cannot apply a top-level window's size hints; harmless
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


@pytest.fixture
def make_window(qtbot, settings_dir, caplog):
    made = []

    def make():
        w = MainWindow(make_settings())
        view = w.lessons_view
        made.append(w)
        w.resize(1600, 1000)
        w.show()
        with qtbot.waitSignal(w.trainingPaused, timeout=30000):
            w.start()
        return w, view

    caplog.set_level(logging.ERROR, logger="nnstudio")
    yield make
    for w in made:
        w.close()
        w.deleteLater()
    QtWidgets.QApplication.processEvents()
    # the views log (rather than raise) what goes wrong inside them: nothing may have
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.fixture
def pretrained():
    return load_model(shipped_model_path())


def click(qtbot, button):
    assert button.isEnabled() and button.isVisible(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_lessons(qtbot, w, view, key=False):
    """Help ▸ Lessons (or F1): the dock opens and changes nothing; then "Set up this step"."""
    snap = w.latest_snapshot
    if key:
        qtbot.keyClick(w, Qt.Key.Key_F1)
    else:
        w.lessons_action.trigger()
    assert w.lessons_dock.isVisible()
    qtbot.wait(50)
    assert w.latest_snapshot is snap and not view.ready  # opening the lessons set nothing up
    qtbot.waitUntil(view.setup_button.isVisible)
    go(qtbot, view, lambda: click(qtbot, view.setup_button))
    assert not view.setup_button.isVisible()


def go(qtbot, view, action):
    """Do ``action`` (a click) and wait until the step it leads to is set up."""
    with qtbot.waitSignal(view.stepReady, timeout=20000):
        action()


def click_step(qtbot, view, row):
    item = view.steps.item(row)
    view.steps.scrollToItem(item)
    rect = view.steps.visualItemRect(item)
    go(qtbot, view, lambda: qtbot.mouseClick(view.steps.viewport(), Qt.MouseButton.LeftButton, pos=rect.center()))


def expected_example(w, lesson, net):
    """(split, index) the step's example resolves to, worked out here independently of the host."""
    spec = lesson.setup.example
    if spec.keeps:
        return None
    return spec.split, resolve_example(spec, w.dataset, net)


def check_step(w, view, lesson, pretrained, previous_input):
    """The step's setup: its views visible, its network, its example, its selections, its live numbers."""
    s = lesson.setup
    host = view.host
    assert view.ready and host.phase == "ready" and host.problems == [], (lesson.id, host.problems)
    # --- the views: each is visible, or tabbed behind an earlier-named view of this step
    shown_docks = []
    for name in s.show:
        dock = w.dock_of(name)
        if shown(w.widget_of(name)):
            shown_docks.append(dock)
            continue
        assert dock is not None and any(d in w.tabifiedDockWidgets(dock) for d in shown_docks), (lesson.id, name)
    assert shown(w.widget_of(s.primary)), lesson.id
    # --- the network
    net = w.latest_snapshot.network
    if s.network == "pretrained":
        assert all(np.array_equal(a, b) for a, b in zip(net.params, pretrained.params)), lesson.id
    elif s.network == "fresh":  # the videos' network from the step's seed: the same every time
        assert w.latest_snapshot.step == 0
        arch = {k: v for k, v in DEFAULT_ARCHITECTURE.items() if k != "seed"}
        want = Network(arch["sizes"], activation=arch["activation"], cost=arch["cost"], init=arch["init"], seed=s.seed)
        assert all(np.array_equal(a, b) for a, b in zip(net.params, want.params)), lesson.id
        assert w.session.origin.name == f"new 784-16-16-10 (seed {s.seed})"
    # --- the example: the window's current input (what every view shows)
    ex = w.current_input
    want = expected_example(w, lesson, net)
    if want is None:
        assert ex is previous_input
    elif s.example.target == "pad":
        split, i = want
        assert ex.source == "drawing pad" and ex.extra["example"].endswith(f"test #{i}") and ex.label == w.dataset.test_labels[i]
        # the input is what the pad shows the network: the dataset image, MNIST-style preprocessed again
        assert np.array_equal(ex.pixels, w.views["draw"].network_input().ravel())
        assert np.abs(ex.pixels - w.dataset.test_x[i] / 255.0).max() < 0.05
    else:
        split, i = want
        assert (ex.split, ex.index) == (split, i), lesson.id
        labels = w.dataset.test_labels if split == "test" else w.dataset.train_labels
        assert ex.label == labels[i] and np.array_equal(ex.pixels, w.session.example(split, i).pixels)
    # --- the step's selections
    if s.backprop_tab:
        bp = w.views["backprop"]
        assert TABS[bp.tabs.currentIndex()] == s.backprop_tab
        assert all(np.array_equal(a, b) for a, b in zip(bp.network.params, net.params))
        assert bp.focus_neuron == (ex.label if s.focus is None else s.focus)
        if s.parameter is not None:
            assert bp.selected_parameter == s.parameter.resolve(net, ex.pixels, ex.label)
    if s.preset:
        pg = w.views["playground"]
        assert pg.preset.key == s.preset and pg.learning_rate == pytest.approx(s.learning_rate)
        assert pg.stochastic == bool(s.stochastic) and not pg.is_running
    if s.evaluation_page:
        ev = w.views["evaluation"]
        assert ev.current_page() is getattr(ev, s.evaluation_page)
    if s.neuron is not None:
        assert w.views["diagram"].canvas.selected == s.neuron.resolve(net, ex.pixels)
    if s.training_speed is not None:
        assert w.controls.speed() == s.training_speed
        assert w.controls.lr_input.value() == pytest.approx(s.training_learning_rate)
    # --- the text: every number filled in from the live network, none left as a placeholder
    text = view.text.toPlainText() + "\n" + view.try_label.text()
    assert "{{" not in text and "}}" not in text and "…" not in text, lesson.id
    assert set(view.values) == lesson.placeholders and MISSING not in view.values.values(), (lesson.id, view.values)
    for value in view.values.values():
        assert value in text
    # …and they are this network's numbers for this example, the same the views show
    assert view.values == live_values(host.live_context(lesson), lesson.placeholders)
    if "cost" in view.values and "backprop" in s.show:
        assert view.values["cost"] == fmt(w.views["backprop"].example_cost.cost)
    assert f"Numbers from {w.session.network_label()}" in view.status.text()
    assert [m for m in w.messages if m[0] == "error"] == []


# ----------------------------------------------------------------------------------- the walk
def test_walk_every_step_in_order_with_next(qtbot, make_window, pretrained):
    w, view = make_window()
    assert not w.lessons_dock.isVisible() and not view.ready  # nothing happens until the learner opens them
    assert w.lessons_action.shortcut().toString() == "F1"
    open_lessons(qtbot, w, view, key=True)
    assert view.current == 0 and view.counter.text() == "Step 1 of 12"
    assert not view.back_button.isEnabled()
    previous = None
    for k, lesson in enumerate(view.lessons):
        if k:
            go(qtbot, view, lambda: click(qtbot, view.next_button))
        assert view.current == k and view.lesson is lesson
        assert view.counter.text() == f"Step {k + 1} of 12" and view.heading.text() == lesson.title
        assert view.steps.currentRow() == k
        check_step(w, view, lesson, pretrained, previous)
        previous = w.current_input
    assert not view.next_button.isEnabled() and view.next_button.text() == "Done"
    assert view.progress.visited == {x.id for x in view.lessons}
    # step 8 explains a training example whose label is 2, which this network misreads
    s8 = view.lessons[7].setup.example
    i = resolve_example(s8, w.dataset, pretrained)
    assert w.dataset.train_labels[i] == 2 and pretrained.predict(w.dataset.train_x[i:i + 1])[0] != 2


def test_back_and_jumping_to_any_step_restore_its_setup(qtbot, make_window, pretrained):
    w, view = make_window()
    open_lessons(qtbot, w, view)
    click_step(qtbot, view, 7)  # step 8: backprop, one example, one neuron
    assert view.current == 7
    check_step(w, view, view.lessons[7], pretrained, None)
    bp = w.views["backprop"]
    # the learner plays: another output neuron, one SGD step in the explorer, another tab
    bp.set_focus_neuron(7)
    click(qtbot, bp.step_button)
    bp.show_tab("chain rule")
    w.gradient_dock.raise_()
    prev = w.current_input
    go(qtbot, view, lambda: click(qtbot, view.back_button))  # step 7: the SGD race in the playground
    assert view.current == 6
    check_step(w, view, view.lessons[6], pretrained, prev)
    go(qtbot, view, lambda: click(qtbot, view.next_button))  # back to 8: everything as the step wants it
    check_step(w, view, view.lessons[7], pretrained, None)
    assert bp.focus_neuron == 2 and TABS[bp.tabs.currentIndex()] == "one neuron"
    click_step(qtbot, view, 2)  # step 3, jumping backwards
    check_step(w, view, view.lessons[2], pretrained, None)
    click_step(qtbot, view, 11)  # step 12, jumping forwards
    check_step(w, view, view.lessons[11], pretrained, None)
    assert view.progress.visited == {view.lessons[i].id for i in (0, 2, 6, 7, 11)}
    assert [view.steps.item(i).text()[0] for i in range(12)] == list("✓ ✓   ✓✓   ▸")


def test_set_up_again_and_live_numbers_follow_the_network(qtbot, make_window, pretrained):
    w, view = make_window()
    open_lessons(qtbot, w, view)
    click_step(qtbot, view, 4)  # step 5: the playground
    pg = w.views["playground"]
    pg.set_learning_rate(0.9)  # the learner tries a huge learning rate
    pg.set_preset("bowl")
    go(qtbot, view, lambda: click(qtbot, view.again_button))
    check_step(w, view, view.lessons[4], pretrained, w.current_input)
    assert pg.preset.key == "valley" and pg.learning_rate == pytest.approx(0.1)
    # step 12: the text's accuracy is the live network's, before and after training
    click_step(qtbot, view, 11)
    before = view.values["accuracy"]
    with qtbot.waitSignal(w.trainingPaused, timeout=20000):
        click(qtbot, w.findChild(QtWidgets.QToolButton, "stepEpochButton"))
    qtbot.waitUntil(lambda: view.values["accuracy"] != before, timeout=5000)
    acc, _ = w.latest_snapshot.network.evaluate(w.dataset.test_x, w.dataset.test_labels)
    assert view.values["accuracy"] == f"{100 * acc:.1f} %" and acc > 0.5
    assert f"{100 * acc:.1f} %" in view.text.toPlainText()


def test_progress_is_remembered_after_closing(qtbot, make_window, pretrained, settings_dir):
    w, view = make_window()
    open_lessons(qtbot, w, view)
    go(qtbot, view, lambda: click(qtbot, view.next_button))
    go(qtbot, view, lambda: click(qtbot, view.next_button))
    assert view.current == 2
    w.close()
    # a new session: same settings, the dock open as it was left; the learner is back at step 3, shown
    # but not set up again behind their back (the launch network stays) until they ask
    w2, view2 = make_window()
    assert view2.current == 2 and view2.counter.text() == "Step 3 of 12"
    assert view2.progress.visited == {"neuron", "weights", "cost-one"}
    qtbot.waitUntil(w2.lessons_dock.isVisible)
    qtbot.wait(100)
    assert not view2.ready and view2.setup_button.isVisible()
    assert w2.session.origin.kind == "shipped" and w2.history.n == 0
    go(qtbot, view2, lambda: click(qtbot, view2.setup_button))
    assert view2.current == 2
    check_step(w2, view2, view2.lessons[2], pretrained, None)
    assert [view2.steps.item(i).text()[0] for i in range(4)] == ["✓", "✓", "▸", " "]


def test_a_network_the_learner_trained_is_not_replaced_without_asking(qtbot, make_window, pretrained, monkeypatch):
    w, view = make_window()
    with qtbot.waitSignal(w.trainingPaused, timeout=10000):
        click(qtbot, w.findChild(QtWidgets.QToolButton, "stepBatchButton"))
    assert w.session.trained
    asked = []
    monkeypatch.setattr(w, "confirm_discard", lambda what: asked.append(what) or False)
    mine = w.latest_snapshot.network
    w.lessons_action.trigger()
    go(qtbot, view, lambda: click(qtbot, view.setup_button))
    assert asked == ["The lesson opens the pretrained network."]
    assert w.latest_snapshot.network is mine  # kept
    assert "kept your own network" in view.status.text()
    assert MISSING not in view.values.values()  # the numbers are for the learner's network
    go(qtbot, view, lambda: click(qtbot, view.next_button))
    assert len(asked) == 1  # asked once
    # "set up again" asks again; yes: the pretrained network
    monkeypatch.setattr(w, "confirm_discard", lambda what: asked.append(what) or True)
    go(qtbot, view, lambda: click(qtbot, view.again_button))
    assert len(asked) == 2
    check_step(w, view, view.lessons[1], pretrained, w.current_input)


def test_lessons_panel_alone_and_bad_lessons(qtbot, tmp_path):
    from nnstudio.gui.qt import QtCore

    s = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    s.setValue("lessons/step", "sgd")
    v = LessonsView(settings=s)
    qtbot.addWidget(v)
    assert v.current == 6 and "…" in v.text.toPlainText()  # numbers wait for a network
    v.next_step()
    assert v.current == 7 and s.value("lessons/step") == "backprop-one"
    assert re.search(r"\bsgd\b", s.value("lessons/visited"))
    (tmp_path / "01-x.md").write_text("no front matter")
    from nnstudio.lessons.parser import LessonError, load_lessons

    with pytest.raises(LessonError) as e:
        load_lessons(tmp_path)
    bad = LessonsView(settings=s, lessons=[])
    qtbot.addWidget(bad)
    assert not bad.next_button.isEnabled() and bad.lesson is None
    assert str(e.value).startswith(str(tmp_path / "01-x.md"))


def test_reset_layout_only_moves_docks(qtbot, make_window, pretrained):
    """View ▸ Reset layout puts the docks back; it does not reopen the lessons, run a step's setup, or
    touch the network, η, the mini-batch size or the seed."""
    w, view = make_window()
    open_lessons(qtbot, w, view)
    click_step(qtbot, view, 11)  # step 12: a fresh network, η 1.5, batch 10
    s = w.session
    w.controls.lr_input.setValue(0.7)
    with qtbot.waitSignal(w.trainingPaused, timeout=10000):
        click(qtbot, w.findChild(QtWidgets.QToolButton, "stepBatchButton"))
    before = (s.snapshot, dict(s.hyper), dict(s.architecture), s.history.n)
    w.findChild(QtWidgets.QWidget, "mainWindow")
    w.lessons_dock.close()
    reset = next(a for a in w.findChildren(QtGui.QAction) if a.objectName() == "resetLayoutAction")
    reset.trigger()
    qtbot.wait(100)
    assert not w.lessons_dock.isVisible()  # closed before: stays closed
    assert (s.snapshot, dict(s.hyper), dict(s.architecture), s.history.n) == before
    w.lessons_action.trigger()
    reset.trigger()
    qtbot.wait(100)
    assert w.lessons_dock.isVisible() and (s.snapshot, dict(s.hyper), s.history.n) == (before[0], before[1], before[3])
