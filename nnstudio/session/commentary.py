"""The run explains itself: the session's side of :mod:`nnstudio.components.observations`.

:class:`Commentary` listens to the session's own events.  When new mini-batches arrive
(``history``) it looks at the live numbers, at most every ``every`` seconds: the recent costs and
the epochs from the history (:class:`RunFacts`), and one forward and backward pass of the network
on screen over a fixed probe of training images (:func:`measure_network`: ~3 ms for 784-16-16-10,
~20 ms for 784-100-10; measured again only when the network on screen changed, and never more
than ``SHARE`` of the time).  The :class:`Observer` decides what is new; each new observation is
kept in :attr:`Commentary.feed` and sent as ``session.events.observation(obs)``.  A new run sends
``observation(None)``: the feed starts again.  While the past is on screen (the timeline) it says
nothing: the numbers would not be the run's.
"""

from __future__ import annotations

import time

from nnstudio.components.observations import Observer, RunFacts, measure_network, pick_probe

#: the most recent observations kept
FEED_SIZE = 50
#: the largest share of the GUI thread's time the network's measurement may take
SHARE = 0.02


class Commentary:
    """Plain-language observations of the session's run (see the module docstring)."""

    def __init__(self, session, every: float = 0.5, clock=time.monotonic, observer: Observer | None = None):
        self.session = session
        self.every = float(every)
        self.clock = clock
        self.observer = observer or Observer()
        self.feed: list = []
        self._last = -1e18
        self._next_measure = -1e18
        self._probe_key = None
        self._probe = None
        self._facts = None  # (snapshot, NetworkFacts) last measured
        session.events.history.connect(self._on_history)
        session.events.restarted.connect(self._on_restarted)

    # ------------------------------------------------------------------ events
    def _on_restarted(self, _generation=None) -> None:
        self.observer.reset()
        self._facts = None
        if self.feed:
            self.feed.clear()
        self.session.events.observation.emit(None)

    def _on_history(self) -> None:
        now = self.clock()
        if now - self._last < self.every:
            return
        self._last = now
        self.check(now)

    # ------------------------------------------------------------------ the numbers
    def _probe_of(self, ds, sizes):
        key = (id(ds), tuple(sizes))
        if key != self._probe_key:
            self._probe_key = key
            idx = pick_probe(ds.n_train, sizes)
            self._probe = (ds.train_x[idx], ds.train_labels[idx])
        return self._probe

    def network_facts(self, now: float):
        """The network on screen measured over the probe (the last measure while it has not changed)."""
        s = self.session
        snap, ds = s.snapshot, s.dataset
        if snap is None or ds is None or snap.network.sizes[0] != ds.train_x.shape[1] or not ds.n_train:
            return None
        if self._facts is not None and (self._facts[0] is snap or now < self._next_measure):
            return self._facts[1]
        X, y = self._probe_of(ds, snap.network.sizes)
        t0 = time.perf_counter()
        facts = measure_network(snap.network, X, y, snap.step)
        took = time.perf_counter() - t0
        self._next_measure = now + took / SHARE
        self._facts = (snap, facts)
        return facts

    def run_facts(self) -> RunFacts | None:
        s = self.session
        if s.snapshot is None or not s.history.n:
            return None
        net = s.snapshot.network
        return RunFacts.of_history(s.history, s.hyper["learning_rate"], net.cost.name, net.activation.name)

    def check(self, now: float | None = None) -> list:
        """Look at the numbers now; send and return what is new."""
        now = self.clock() if now is None else now
        if self.session.timeline.past:
            return []
        run = self.run_facts()
        if run is None:
            return []
        new = self.observer.check(run, self.network_facts(now), now)
        for o in new:
            self.feed.append(o)
            del self.feed[:-FEED_SIZE]
            self.session.events.observation.emit(o)
        return new

    @property
    def latest(self):
        return self.feed[-1] if self.feed else None

