"""The observations feed: it shows what the session says (newest on top, a new run clears it), each card's
button brings its view on screen in the studio window, and a real run with η far too large fills it
(an "overshoot" card that links to the Playground)."""

from __future__ import annotations

import pytest
from geometry import problems
from helpers_gui import settle

from nnstudio.components.observations import Observation
from nnstudio.gui.qt import QtWidgets, Qt
from nnstudio.gui.views.observations import ObservationsFeed
from nnstudio.gui.views.observations.feed import MAX_CARDS
from nnstudio.session.events import Events

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


class FakeSession:
    def __init__(self, feed=()):
        self.events = Events(observation="")
        self.commentary = type("C", (), {"feed": list(feed)})()


def obs(kind="overshoot", view="playground", step=1234):
    return Observation(kind, f"The {kind} title", "What the numbers say, and why, in a sentence or two of plain "
                       "words that wrap over several lines in a narrow dock.", "Lower the learning rate.", view, step)


def test_the_feed_shows_what_the_session_says_newest_on_top(qtbot):
    s = FakeSession([obs("plateau", "plots")])
    feed = ObservationsFeed(s)
    qtbot.addWidget(feed)
    feed.resize(320, 500)
    feed.show()
    assert feed.kinds() == ["plateau"] and not feed.empty.isVisible()  # (what was said before it opened)
    s.events.observation.emit(obs("overshoot"))
    assert feed.kinds() == ["overshoot", "plateau"]
    card = feed.cards[0]
    assert card.title.text() == "The overshoot title" and "Lower the learning rate" in card.advice.text()
    assert card.step.text() == "mini-batch 1,234" and card.show_button.text() == "Show the Playground ▸"
    qtbot.wait(20)
    assert not problems(feed)  # nothing cut off or overlapping in a narrow dock
    with qtbot.waitSignal(feed.viewRequested) as got:
        qtbot.mouseClick(card.show_button, Qt.MouseButton.LeftButton)
    assert got.args == ["playground"]
    for i in range(MAX_CARDS + 5):
        s.events.observation.emit(obs("dead", "diagram", i + 1))
    assert len(feed.cards) == MAX_CARDS
    s.events.observation.emit(None)  # a new run: the feed starts again
    assert feed.kinds() == [] and feed.empty.isVisible() and feed.run_note.isVisible()


def test_a_card_button_brings_its_view_on_screen_in_the_studio(qtbot, studio):
    w = studio
    w.observations.add(obs("overshoot", "playground"))
    w.draw_dock.raise_()
    settle(qtbot, w)
    assert w.gradient_tabs.currentIndex() != 0 or w.gradient_dock.visibleRegion().isEmpty()
    qtbot.mouseClick(w.observations.cards[0].show_button, Qt.MouseButton.LeftButton)
    settle(qtbot, w)
    assert not w.gradient_dock.visibleRegion().isEmpty() and w.gradient_tabs.currentIndex() == 0
    w.observations.add(obs("overfitting", "plots"))
    qtbot.mouseClick(w.observations.cards[0].show_button, Qt.MouseButton.LeftButton)
    settle(qtbot, w)
    assert not w.plots_dock.visibleRegion().isEmpty()


def test_a_run_with_eta_far_too_large_fills_the_feed(qtbot, make_window):
    w = make_window()
    s = w.session
    s.commentary.every = 0.0  # (look at every batch of reports: the test runs faster than a person watches)
    s.commentary.observer.min_gap = 0.0
    s.new_network(seed=0, ask=False)
    s.set_batch_size(10)
    s.set_learning_rate(1.5)
    s.play()
    qtbot.waitUntil(lambda: s.history.n >= 800, timeout=60000)
    s.set_learning_rate(12.0)
    qtbot.waitUntil(lambda: "overshoot" in w.observations.kinds(), timeout=60000)
    s.pause()
    card = w.observations.cards[w.observations.kinds().index("overshoot")]
    assert "η" in card.text.text() and card.show_button.text() == "Show the Playground ▸"
    assert isinstance(w.findChild(QtWidgets.QDockWidget, "observationsDock"), QtWidgets.QDockWidget)
