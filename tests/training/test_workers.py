"""The training workers on their own, headless: the loop in a process of its own, in a thread, or
inline, driven by commands, and what they send back (in order, none dropped).  Most tests run
on every worker."""

from __future__ import annotations

import os
import select
import signal
import time

import numpy as np
import pytest

from nnstudio.core import BatchReport, Network, Trainer
from nnstudio.training.reportblock import ReportBlock
from nnstudio.data import load_dataset
from nnstudio.training.workers import InlineWorker, ProcessWorker, ThreadWorker, make_worker

KINDS = {"process": ProcessWorker, "thread": ThreadWorker, "inline": InlineWorker}


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def make_trainer(ds, seed=0, **kw):
    kw.setdefault("learning_rate", 1.5)
    return Trainer(Network(seed=seed), ds.train_x, ds.train_labels, ds.test_x[:200], ds.test_labels[:200],
                   seed=seed, **kw)


class Recorder:
    """Drains a worker like the session does, and sorts what came."""

    def __init__(self, worker):
        self.w = worker
        self.reports, self.snaps, self.states, self.restarts = [], [], [], []
        self.divergences, self.shown, self.errors, self.pongs = [], [], [], []
        self.finished = False
        self.consumed = 0

    def drain(self, wait: float = 0.05) -> int:
        fd = self.w.fileno()
        if fd is not None and wait:
            select.select([fd], [], [], wait)
        items = self.w.drain()
        for it in items:
            if type(it) is BatchReport:
                self.reports.append(it)
                self.consumed += 1
                continue
            if type(it) is ReportBlock:
                self.reports.extend(it)
                self.consumed += len(it)
                continue
            kind = it[0]
            if kind == "snapshot":
                self.snaps.append(it[1])
            elif kind == "state":
                self.states.append(it[1])
            elif kind == "restarted":
                self.restarts.append((it[1], it[2]))
            elif kind == "diverged":
                self.divergences.append(it[1])
            elif kind == "shown":
                self.shown.append(it[1])
            elif kind == "error":
                self.errors.append(it[1])
            elif kind == "pong":
                self.pongs.append(it[1])
            elif kind == "finished":
                self.finished = True
        self.w.acknowledge(self.consumed)
        return len(items)

    def until(self, cond, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise AssertionError("timed out waiting for the worker")
            self.drain()

    def sync(self, timeout: float = 10.0) -> None:
        token = len(self.pongs) + 1000
        self.w.ping(token)
        self.until(lambda: token in self.pongs, timeout)

    def paused(self, action, timeout: float = 10.0) -> None:
        """Run ``action`` and wait until the worker says it paused (or finished)."""
        self.sync()
        n = len(self.states)
        action()
        self.until(lambda: any(s in ("paused", "finished") for s in self.states[n:]), timeout)

    def running(self, action) -> None:
        self.sync()
        n = len(self.states)
        action()
        self.until(lambda: "running" in self.states[n:])


@pytest.fixture
def workers():
    """Workers to be stopped after the test, whatever happens."""
    made = []

    def add(kind, **kw):
        w = KINDS[kind](**kw)
        w.start()
        made.append(w)
        return w

    yield add
    for w in made:
        w.stop()


@pytest.fixture(params=list(KINDS))
def kind(request):
    return request.param


@pytest.fixture
def running(kind, sample, workers):
    w = workers(kind)
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    yield w, rec
    assert rec.errors == []


def params_of(snap):
    return [p.copy() for p in snap.network.params]


def test_step_batch_sends_exactly_one_report_and_a_snapshot(running):
    w, rec = running
    n_snaps = len(rec.snaps)
    rec.paused(w.step_batch)
    assert len(rec.reports) == 1
    r = rec.reports[0]
    assert (r.step, r.epoch, r.batch, r.batch_size, len(r.indices)) == (1, 0, 0, 10, 10)
    assert len(rec.snaps) == n_snaps + 1 and rec.snaps[-1].step == 1
    assert [x.step for x in rec.shown] == [1]  # a stepped batch is shown as the current input
    rec.paused(w.step_batch)
    assert [x.step for x in rec.reports] == [1, 2]


def test_step_epoch_stops_at_the_epoch_end(running, sample):
    w, rec = running
    rec.paused(w.step_epoch)
    assert len(rec.reports) == sample.n_train // 10
    assert rec.reports[-1].epoch_end is not None and rec.reports[-1].epoch_end.epoch == 1
    assert all(r.epoch_end is None for r in rec.reports[:-1])
    assert rec.snaps[-1].epoch == 1


def test_pause_stops_training_and_nothing_arrives_afterwards(running):
    w, rec = running
    rec.running(w.play)
    rec.until(lambda: len(rec.reports) > 50)
    rec.paused(w.pause)
    n = len(rec.reports)
    for _ in range(3):
        rec.drain(0.03)
    assert len(rec.reports) == n
    assert [r.step for r in rec.reports] == list(range(1, n + 1))  # none dropped, in order
    assert rec.snaps[-1].step == n  # the pause snapshot is the state after the last batch


def test_rewind_replays_bit_for_bit(running):
    w, rec = running
    for _ in range(3):
        rec.paused(w.step_batch)
    rec.paused(w.step_epoch)
    first = params_of(rec.snaps[-1])
    costs = [r.cost for r in rec.reports]
    rec.paused(w.rewind)
    assert rec.restarts[-1][0].step == 0 and rec.restarts[-1][1] == rec.restarts[-2][1] + 1
    assert rec.restarts[-1][0].generation == rec.restarts[-1][1]
    start = len(rec.reports)
    for _ in range(3):
        rec.paused(w.step_batch)
    rec.paused(w.step_epoch)
    again = params_of(rec.snaps[-1])
    assert [r.cost for r in rec.reports[start:]] == costs
    for a, b in zip(first, again):
        assert np.array_equal(a, b)


def test_adopt_carries_the_run_on_from_other_weights(running, sample):
    w, rec = running
    for _ in range(2):
        rec.paused(w.step_batch)
    other = Network(seed=7)
    w.adopt(other.params)
    rec.sync()
    snap = rec.snaps[-1]
    assert snap.edits == 1 and snap.step == 2
    for a, b in zip(snap.network.params, other.params):
        assert np.array_equal(a, b)
    rec.paused(w.step_batch)
    assert rec.reports[-1].step == 3  # the run goes on: same epoch, next mini-batch
    # the step started from the adopted weights: the same as stepping them directly
    tr = make_trainer(sample)
    tr.step(), tr.step()
    tr.adopt(other.params)
    tr.step()
    for a, b in zip(rec.snaps[-1].network.params, tr.network.params):
        assert np.allclose(a, b, rtol=1e-12, atol=0)


def test_learning_rate_and_batch_size_apply_at_the_next_batch(running):
    w, rec = running
    rec.paused(w.step_batch)
    w.set_learning_rate(0.25)
    w.set_batch_size(32)
    rec.paused(w.step_batch)
    r = rec.reports[-1]
    assert (r.learning_rate, r.batch_size, len(r.indices)) == (0.25, 32, 32)
    rec.running(w.play)
    rec.until(lambda: len(rec.reports) > 20)
    w.set_learning_rate(0.125)
    rec.until(lambda: rec.reports[-1].learning_rate == 0.125)
    rec.paused(w.pause)
    lrs = [r.learning_rate for r in rec.reports[2:]]
    switch = lrs.index(0.125)
    assert set(lrs[:switch]) == {0.25} and set(lrs[switch:]) == {0.125}


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_snapshots_are_throttled_while_running_and_private_copies(kind, sample, workers):
    w = workers(kind, snapshot_hz=20)
    rec = Recorder(w)
    tr = make_trainer(sample)
    rec.paused(lambda: w.set_trainer(tr))
    n0 = len(rec.snaps)
    rec.running(w.play)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        rec.drain(0.02)
    rec.paused(w.pause)
    n_batches, n_snaps = len(rec.reports), len(rec.snaps) - n0
    assert n_batches > 100
    epochs = sum(r.epoch_end is not None for r in rec.reports)
    assert n_snaps <= 0.6 * 20 + epochs + 4  # 20 Hz, plus one per epoch end and the pause snapshot
    s = rec.snaps[n0 + 1]
    assert s.network is not tr.network  # (in the thread the trainer is this one; a copy all the same)
    assert not np.array_equal(s.network.params[0], rec.snaps[-1].network.params[0])


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_slow_motion_shows_every_batch(kind, sample, workers):
    w = workers(kind)
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    w.set_speed(30)
    n_snaps = len(rec.snaps)
    rec.running(w.play)
    rec.until(lambda: len(rec.reports) >= 6, timeout=5)
    rec.paused(w.pause)
    steps = {s.step for s in rec.snaps[n_snaps:]}
    assert {r.step for r in rec.reports} <= steps  # every batch got its snapshot
    assert len(rec.reports) < 40  # 30 per second, not full speed


def test_finished_after_the_epoch_budget(running):
    w, rec = running
    w.set_epochs(1)
    rec.sync()
    n0 = len(rec.states)
    w.play()
    rec.until(lambda: "finished" in rec.states[n0:])
    assert rec.reports[-1].epoch_end is not None
    n = len(rec.reports)
    rec.paused(w.step_batch)  # nothing more to do
    assert len(rec.reports) == n
    w.set_epochs(2)
    rec.sync()
    assert rec.states[-1] == "paused"  # more epochs allowed: no longer finished
    rec.paused(w.step_batch)
    assert len(rec.reports) == n + 1


def test_divergence_pauses_and_keeps_finite_weights(kind, sample, workers):
    net = Network((784, 16, 10), activation="relu", seed=0)
    # huge weights: every first-layer sum overflows to +inf (in any order of addition, on either
    # engine), and the next layer's weights of both signs make inf - inf = NaN
    net.params[0][:-1] = 1e307
    tr = Trainer(net, sample.train_x, sample.train_labels, learning_rate=1.0, seed=0)
    w = workers(kind)
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(tr))
    w.play()
    rec.until(lambda: rec.divergences and rec.states[-1] == "paused")
    assert rec.divergences[0].diverged
    assert all(np.isfinite(p).all() for p in rec.snaps[-1].network.params)
    assert rec.errors == []


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_backpressure_bounds_the_backlog(kind, sample, workers):
    w = workers(kind, max_backlog=30)
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    # take what comes but say nothing was consumed: the loop stops within the backlog
    rec.w.acknowledge = lambda n: None
    rec.running(w.play)
    end = time.monotonic() + 0.3
    while time.monotonic() < end:
        rec.drain(0.02)
    assert len(rec.reports) <= 32
    del rec.w.acknowledge  # (back to the worker's own method)
    rec.until(lambda: len(rec.reports) > 60)
    rec.paused(w.pause)


def test_stop_ends_the_loop_and_is_idempotent(kind, sample, workers):
    w = workers(kind)
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    rec.running(w.play)
    assert w.stop()
    assert w.stop()  # idempotent
    if kind != "inline":
        assert not w.alive


# ----------------------------------------------------------------------------- the process only
def test_process_stop_leaves_no_process(sample, workers):
    w = workers("process")
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    rec.running(w.play)
    rec.until(lambda: len(rec.reports) > 50)
    pid = w.process.pid
    assert w.process.is_alive() and pid != os.getpid()
    assert w.stop()
    assert w.process is None
    with pytest.raises(ProcessLookupError):  # gone, and reaped (no zombie)
        os.kill(pid, 0)


def test_a_hung_process_is_killed_and_stop_returns(sample, workers):
    w = workers("process")
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    pid = w.process.pid
    os.kill(pid, signal.SIGSTOP)  # hung: ignores the abort and SIGTERM alike
    t0 = time.monotonic()
    assert w.stop(timeout=0.5) is False
    assert time.monotonic() - t0 < 10
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_process_that_dies_is_reported_not_hung(sample, workers):
    w = workers("process")
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    os.kill(w.process.pid, signal.SIGKILL)
    rec.until(lambda: rec.errors)
    assert "ended unexpectedly" in rec.errors[-1]
    deadline = time.monotonic() + 10  # (the reader thread reports the end, then ends itself)
    while w.alive and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not w.alive
    w.play()  # commands to a dead process are ignored, not raised
    assert w.drain() == []


def test_reports_carry_the_examples_used(running, sample):
    w, rec = running
    rec.paused(w.step_epoch)
    idx = np.concatenate([r.indices for r in rec.reports])
    assert sorted(idx.tolist()) == list(range(sample.n_train))  # every example once per epoch
    assert all(r.offset == i * 10 for i, r in enumerate(rec.reports))


@pytest.mark.parametrize("kind", ["process", "thread"])
def test_tiny_dataset_many_epochs_per_message(kind, sample, workers):
    """Twelve examples, batch 10: two mini-batches per epoch, so one message of the training
    process spans many epoch orders; every report must still name its own examples."""
    w = workers(kind)
    rec = Recorder(w)
    tr = Trainer(Network((784, 8, 10), seed=0), sample.train_x[:12], sample.train_labels[:12], learning_rate=1.0, seed=0)
    rec.paused(lambda: w.set_trainer(tr))
    rec.running(w.play)
    rec.until(lambda: len(rec.reports) > 400)
    rec.paused(w.pause)
    assert rec.errors == []
    by_epoch: dict = {}
    for r in rec.reports:
        by_epoch.setdefault(r.epoch, []).append(r)
    full = [eps for eps in by_epoch.values() if len(eps) == 2]
    assert len(full) > 100
    for eps in full:
        assert sorted(np.concatenate([r.indices for r in eps]).tolist()) == list(range(12))


def test_make_worker_follows_the_environment(monkeypatch):
    monkeypatch.setenv("NNSTUDIO_WORKER", "thread")
    assert isinstance(make_worker(), ThreadWorker)
    monkeypatch.setenv("NNSTUDIO_WORKER", "inline")
    assert isinstance(make_worker(), InlineWorker)
    monkeypatch.delenv("NNSTUDIO_WORKER")
    assert isinstance(make_worker(), ProcessWorker)


def test_the_training_modules_never_import_qt():
    """The training process runs nnstudio.training.workers: it must start without Qt (fast, small)."""
    import subprocess
    import sys

    code = ("import sys, nnstudio.training.workers, nnstudio.session; "
            "print(any(m.startswith(('PySide6', 'shiboken6', 'pyqtgraph')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_each_epoch_press_counts(running, sample):
    """E while an epoch runs adds one more: two presses, two epoch ends (it used to be one)."""
    w, rec = running
    rec.sync()
    n0 = len(rec.states)
    w.step_epoch()
    w.step_epoch()
    rec.until(lambda: "paused" in rec.states[n0:])
    ends = [r for r in rec.reports if r.epoch_end is not None]
    assert len(ends) == 2 and len(rec.reports) == 2 * (sample.n_train // 10)


def test_the_watch_pace_starts_slowly_and_shows_each_batch(sample, workers):
    from nnstudio.training.loop import WATCH

    w = workers("thread")
    rec = Recorder(w)
    rec.paused(lambda: w.set_trainer(make_trainer(sample)))
    w.set_speed(WATCH)
    rec.running(w.play)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        rec.drain(0.05)
    rec.paused(w.pause)
    # about 2.3 mini-batches in the first second (2/s, speeding up by one every 1.5 steps)
    assert 1 <= len(rec.reports) <= 5
    assert [r.step for r in rec.shown] == [r.step for r in rec.reports]  # each one shown


def test_warm_up_starts_the_training_processes_server_once(monkeypatch):
    """build_window starts the forkserver before it builds the window: it imports NumPy and the
    engine meanwhile, and a second call (or the first worker) finds it running."""
    from multiprocessing import forkserver

    from nnstudio.training import workers

    monkeypatch.delenv("NNSTUDIO_WORKER", raising=False)
    workers.warm_up()
    pid = forkserver._forkserver._forkserver_pid
    assert pid is not None
    workers.warm_up()
    assert forkserver._forkserver._forkserver_pid == pid
    w = workers.make_worker()
    w.start()
    try:
        assert w.alive and forkserver._forkserver._forkserver_pid == pid
    finally:
        w.stop()
