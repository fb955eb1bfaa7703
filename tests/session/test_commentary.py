"""The run explains itself through the session: a real run with η far too large makes the session send
an "overshoot" observation as an event (once), the videos' recipe sends none, a new run starts the feed
again, and nothing is said about the past on screen."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.session import Session
from nnstudio.session.commentary import Commentary
from nnstudio.training.workers import InlineWorker


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        self.t += 0.25  # (each look a quarter of a second after the last: the display rate of the feed)
        return self.t


@pytest.fixture
def session():
    s = Session(worker=InlineWorker(steps_per_drain=20))
    s.commentary = Commentary(s, clock=Clock())  # (the session's own, with a clock the test drives)
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    said = []
    s.events.observation.connect(said.append)
    s.said = said
    yield s
    s.shutdown()


def train(s, batches: int, eta_later=None) -> None:
    s.new_network(seed=0, ask=False)
    s.set_batch_size(10)
    s.set_epochs(0)
    s.set_speed(0)  # (full speed)
    s.play()
    while s.history.n < batches:
        if eta_later and s.history.n >= eta_later[0] and s.hyper["learning_rate"] != eta_later[1]:
            s.set_learning_rate(eta_later[1])
        s.poll()
    s.pause()
    for _ in range(3):
        s.poll()


def kinds(said) -> list:
    return [o.kind for o in said if o is not None]


def test_eta_too_large_is_said_through_the_session_once(session):
    s = session
    s.set_learning_rate(1.5)
    train(s, 1600, eta_later=(800, 12.0))
    said = kinds(s.said)
    assert "overshoot" in said and said.count("overshoot") == 1
    o = next(o for o in s.said if o is not None and o.kind == "overshoot")
    assert o.view == "playground" and "η" in o.advice and o.step > 800
    assert s.commentary.feed[-1].kind == said[-1]
    # a new run: the feed starts again (None), and the observer may say it again
    n = len(s.said)
    s.new_network(seed=1, ask=False)
    assert s.said[n] is None and s.commentary.feed == []


def test_the_videos_recipe_says_nothing_of_the_kind(session):
    s = session
    s.set_learning_rate(1.5)
    train(s, 1600)
    assert "overshoot" not in kinds(s.said) and "plateau" not in kinds(s.said)


def test_measuring_the_network_is_bounded_and_reuses_an_unchanged_network(session):
    s = session
    c = s.commentary
    f1 = c.network_facts(100.0)
    assert f1 is not None and f1.probe == 256 and f1.sizes == tuple(s.network.sizes)
    assert c.network_facts(100.1) is f1  # the same network on screen: not measured again
    # the probe is fixed per dataset and network shape: the same images every time
    X1 = c._probe[0]
    c._facts = None
    c.network_facts(200.0)
    assert c._probe[0] is X1 and np.array_equal(c._probe[0], X1)


def test_nothing_is_said_about_the_past(session, monkeypatch):
    s = session
    s.set_learning_rate(1.5)
    train(s, 200)
    monkeypatch.setattr(type(s.timeline), "past", property(lambda self: True))
    assert s.commentary.check(1e6) == []
