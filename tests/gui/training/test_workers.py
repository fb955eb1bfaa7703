"""The training worker on its own: the core Trainer stepping in a QThread, or in a process of its
own behind the same interface, driven by commands.  Every test runs on both."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.gui.qt import QtCore, Signal, Slot
from nnstudio.session.model import Snapshot
from nnstudio.gui.training.process import TrainingProcess
from nnstudio.gui.training.thread import TrainingThread as _TrainingThread


@pytest.fixture(params=["thread", "process"])
def TrainingThread(request):
    """The worker class under test (the thread worker, or the training process)."""
    return _TrainingThread if request.param == "thread" else TrainingProcess


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def make_trainer(ds, seed=0, **kw):
    net = Network(seed=seed)
    kw.setdefault("learning_rate", 1.5)
    return Trainer(net, ds.train_x, ds.train_labels, ds.test_x[:200], ds.test_labels[:200], seed=seed, **kw)


class Recorder(QtCore.QObject):
    """Collects what the worker emits, in slots that run on this (GUI) thread like the
    window's, and re-emits the state signals here so tests can wait on them safely."""

    state = Signal(str)
    restarted = Signal(object)
    diverged = Signal(object)
    finished = Signal()

    def __init__(self, worker):
        super().__init__()
        self.reports, self.snaps, self.states, self.restarts, self.divergences, self.errors = [], [], [], [], [], []
        self.shown = []
        worker.batchDone.connect(self._batch)
        worker.snapshotReady.connect(self._snap)
        worker.stateChanged.connect(self._state)
        worker.restarted.connect(self._restarted)
        worker.diverged.connect(self._diverged)
        worker.batchShown.connect(self._shown)
        worker.error.connect(self._error)
        worker.finished.connect(self._finished)

    @Slot(object)
    def _batch(self, r):
        assert QtCore.QThread.currentThread() is self.thread()
        self.reports.append(r)

    @Slot(object)
    def _snap(self, s):
        self.snaps.append(s)

    @Slot(object)
    def _shown(self, r):
        self.shown.append(r)

    @Slot(str)
    def _error(self, e):
        self.errors.append(e)

    @Slot(str)
    def _state(self, s):
        self.states.append(s)
        self.state.emit(s)

    @Slot(object, int)
    def _restarted(self, s, gen):
        self.restarts.append((s, gen))
        self.restarted.emit(s)

    @Slot(object)
    def _diverged(self, r):
        self.divergences.append(r)
        self.diverged.emit(r)

    @Slot()
    def _finished(self):
        self.finished.emit()


@pytest.fixture
def threads():
    """Register TrainingThreads to be stopped (and joined) after the test, whatever happens."""
    made = []

    def add(t):
        made.append(t)
        return t

    yield add
    for t in made:
        assert t.stop()


@pytest.fixture
def running(qtbot, sample, threads, TrainingThread):
    t = threads(TrainingThread())
    rec = Recorder(t.worker)
    with qtbot.waitSignal(rec.state, timeout=5000):
        t.start()
    paused(qtbot, rec, lambda: t.worker.set_trainer(make_trainer(sample)))
    yield t, rec
    assert t.stop()
    assert not t.thread.isRunning()
    assert rec.errors == []


def paused(qtbot, rec, action, timeout=10000):
    with qtbot.waitSignal(rec.state, timeout=timeout, check_params_cb=lambda s: s in ("paused", "finished")):
        action()


def running_now(qtbot, rec, action):
    with qtbot.waitSignal(rec.state, check_params_cb=lambda s: s == "running"):
        action()


def params_of(snap: Snapshot):
    return [p.copy() for p in snap.network.params]


def test_step_batch_emits_exactly_one_report_and_a_snapshot(qtbot, running):
    t, rec = running
    w = t.worker
    n_snaps = len(rec.snaps)
    paused(qtbot, rec, w.step_batch)
    assert len(rec.reports) == 1
    r = rec.reports[0]
    assert (r.step, r.epoch, r.batch, r.batch_size, len(r.indices)) == (1, 0, 0, 10, 10)
    assert len(rec.snaps) == n_snaps + 1 and rec.snaps[-1].step == 1
    assert rec.shown == [r]  # a stepped batch is shown as the current input
    paused(qtbot, rec, w.step_batch)
    assert [x.step for x in rec.reports] == [1, 2]


def test_step_epoch_stops_at_the_epoch_end(qtbot, running, sample):
    t, rec = running
    w = t.worker
    paused(qtbot, rec, w.step_epoch)
    assert len(rec.reports) == sample.n_train // 10
    assert rec.reports[-1].epoch_end is not None and rec.reports[-1].epoch_end.epoch == 1
    assert all(r.epoch_end is None for r in rec.reports[:-1])
    assert rec.snaps[-1].epoch == 1


def test_pause_stops_training_and_nothing_arrives_afterwards(qtbot, running):
    t, rec = running
    w = t.worker
    running_now(qtbot, rec, w.play)
    qtbot.waitUntil(lambda: len(rec.reports) > 50, timeout=10000)
    paused(qtbot, rec, w.pause)
    n = len(rec.reports)
    qtbot.wait(100)
    assert len(rec.reports) == n
    assert [r.step for r in rec.reports] == list(range(1, n + 1))  # none dropped, in order
    assert rec.snaps[-1].step == n  # the pause snapshot is the state after the last batch


def test_rewind_replays_bit_for_bit(qtbot, running):
    t, rec = running
    w = t.worker
    for _ in range(3):
        paused(qtbot, rec, w.step_batch)
    paused(qtbot, rec, w.step_epoch)
    first = params_of(rec.snaps[-1])
    costs = [r.cost for r in rec.reports]
    paused(qtbot, rec, w.rewind)
    assert rec.restarts[-1][0].step == 0 and rec.restarts[-1][1] == rec.restarts[-2][1] + 1
    start = len(rec.reports)
    for _ in range(3):
        paused(qtbot, rec, w.step_batch)
    paused(qtbot, rec, w.step_epoch)
    again = params_of(rec.snaps[-1])
    assert [r.cost for r in rec.reports[start:]] == costs
    for a, b in zip(first, again):
        assert np.array_equal(a, b)


def test_learning_rate_and_batch_size_apply_at_the_next_batch(qtbot, running):
    t, rec = running
    w = t.worker
    paused(qtbot, rec, w.step_batch)
    w.set_learning_rate(0.25)
    w.set_batch_size(32)
    paused(qtbot, rec, w.step_batch)
    r = rec.reports[-1]
    assert (r.learning_rate, r.batch_size, len(r.indices)) == (0.25, 32, 32)
    # while running: the reports switch once, from the old value to the new
    running_now(qtbot, rec, w.play)
    qtbot.waitUntil(lambda: len(rec.reports) > 20, timeout=10000)
    w.set_learning_rate(0.125)
    qtbot.waitUntil(lambda: rec.reports[-1].learning_rate == 0.125, timeout=10000)
    paused(qtbot, rec, w.pause)
    lrs = [r.learning_rate for r in rec.reports[2:]]
    switch = lrs.index(0.125)
    assert set(lrs[:switch]) == {0.25} and set(lrs[switch:]) == {0.125}


def test_snapshots_are_throttled_while_running_and_private_copies(qtbot, sample, threads, TrainingThread):
    t = threads(TrainingThread(snapshot_hz=20))
    rec = Recorder(t.worker)
    t.start()
    tr = make_trainer(sample)
    paused(qtbot, rec, lambda: t.worker.set_trainer(tr))
    n0 = len(rec.snaps)
    running_now(qtbot, rec, t.worker.play)
    qtbot.wait(500)
    paused(qtbot, rec, t.worker.pause)
    t.stop()
    n_batches, n_snaps = len(rec.reports), len(rec.snaps) - n0
    assert n_batches > 100
    # 20 Hz for 0.5 s, plus one per epoch end and the pause snapshot
    epochs = sum(r.epoch_end is not None for r in rec.reports)
    assert n_snaps <= 0.5 * 20 + epochs + 4
    # a snapshot is a copy: the trainer's network moved on, the snapshot did not
    s = rec.snaps[n0 + 1]
    assert s.network is not tr.network
    assert not np.array_equal(s.network.params[0], tr.network.params[0])


def test_slow_motion_shows_every_batch(qtbot, running):
    t, rec = running
    w = t.worker
    w.set_speed(30)
    n_snaps = len(rec.snaps)
    running_now(qtbot, rec, w.play)
    qtbot.waitUntil(lambda: len(rec.reports) >= 6, timeout=5000)
    paused(qtbot, rec, w.pause)
    # every batch got its snapshot (+1 for the pause)
    steps = {s.step for s in rec.snaps[n_snaps:]}
    assert {r.step for r in rec.reports} <= steps
    assert len(rec.reports) < 40  # 30 per second, not full speed


def test_finished_after_the_epoch_budget(qtbot, running):
    t, rec = running
    w = t.worker
    w.set_epochs(1)
    with qtbot.waitSignal(rec.state, timeout=10000, check_params_cb=lambda s: s == "finished"):
        w.play()
    assert rec.reports[-1].epoch_end is not None
    n = len(rec.reports)
    paused(qtbot, rec, w.step_batch)  # nothing more to do
    assert len(rec.reports) == n
    w.set_epochs(2)
    paused(qtbot, rec, w.step_batch)
    assert len(rec.reports) == n + 1


def test_divergence_pauses_and_keeps_finite_weights(qtbot, sample, threads, TrainingThread):
    net = Network((784, 16, 10), activation="relu", seed=0)
    # huge weights: every first-layer sum overflows to +inf (in any order of addition, on either
    # engine), and the next layer's weights of both signs make inf - inf = NaN
    net.params[0][:-1] = 1e307
    tr = Trainer(net, sample.train_x, sample.train_labels, learning_rate=1.0, seed=0)
    t = threads(TrainingThread())
    rec = Recorder(t.worker)
    t.start()
    paused(qtbot, rec, lambda: t.worker.set_trainer(tr))
    with qtbot.waitSignal(rec.diverged, timeout=5000):
        t.worker.play()
    qtbot.waitUntil(lambda: rec.states[-1] == "paused")
    t.stop()
    assert rec.divergences[0].diverged
    assert all(np.isfinite(p).all() for p in rec.snaps[-1].network.params)
    assert rec.errors == []


def test_backpressure_bounds_the_backlog(qtbot, running):
    t, rec = running
    w = t.worker
    w._max_backlog = 30
    w.consumed = w.emitted  # the GUI "consumed" nothing from now on
    base = w.emitted
    running_now(qtbot, rec, w.play)
    qtbot.wait(150)
    assert w.emitted - base <= 32  # the worker waits for the GUI instead of flooding it
    w.consumed = w.emitted  # the GUI caught up: training goes on
    qtbot.waitUntil(lambda: w.emitted - base > 40, timeout=5000)
    paused(qtbot, rec, w.pause)


def test_stop_joins_a_running_thread(qtbot, sample, threads, TrainingThread):
    t = threads(TrainingThread())
    rec = Recorder(t.worker)
    t.start()
    paused(qtbot, rec, lambda: t.worker.set_trainer(make_trainer(sample)))
    running_now(qtbot, rec, t.worker.play)
    with qtbot.waitSignal(rec.finished, timeout=5000):
        assert t.stop()
    assert t.thread.isFinished() and not t.thread.isRunning()
    assert t.stop()  # idempotent


# ----------------------------------------------------------------------------- the process only
def test_process_stop_leaves_no_process_and_no_thread(qtbot, sample, threads):
    t = threads(TrainingProcess())
    rec = Recorder(t.worker)
    t.start()
    paused(qtbot, rec, lambda: t.worker.set_trainer(make_trainer(sample)))
    running_now(qtbot, rec, t.worker.play)
    qtbot.waitUntil(lambda: len(rec.reports) > 50, timeout=5000)
    proc = t.process
    pid = proc.pid
    assert proc.is_alive() and pid != os.getpid()
    assert t.stop()
    assert t.process is None and not t.thread.isRunning()
    with pytest.raises(ProcessLookupError):  # gone, and reaped (no zombie)
        os.kill(pid, 0)
    steps = [r.step for r in rec.reports]
    assert steps == list(range(1, len(steps) + 1))  # none lost on the way


def test_process_that_dies_is_reported_not_hung(qtbot, sample, threads):
    t = threads(TrainingProcess())
    rec = Recorder(t.worker)
    t.start()
    paused(qtbot, rec, lambda: t.worker.set_trainer(make_trainer(sample)))
    with qtbot.waitSignal(rec.finished, timeout=5000):
        os.kill(t.process.pid, signal.SIGKILL)
    assert rec.errors and "ended unexpectedly" in rec.errors[-1]
    t.worker.play()  # commands to a dead process are ignored, not raised
    assert t.stop() is not None


def test_reports_carry_the_examples_used(qtbot, running, sample):
    t, rec = running
    paused(qtbot, rec, t.worker.step_epoch)
    idx = np.concatenate([r.indices for r in rec.reports])
    assert sorted(idx.tolist()) == list(range(sample.n_train))  # every example once per epoch
    assert all(r.offset == i * 10 for i, r in enumerate(rec.reports))


def test_tiny_dataset_many_epochs_per_message(qtbot, sample, threads, TrainingThread):
    """Twelve examples, batch 10: two mini-batches per epoch, so one message of the training
    process spans many epoch orders; every report must still name its own examples."""
    t = threads(TrainingThread())
    rec = Recorder(t.worker)
    t.start()
    net = Network((784, 8, 10), seed=0)
    tr = Trainer(net, sample.train_x[:12], sample.train_labels[:12], learning_rate=1.0, seed=0)
    paused(qtbot, rec, lambda: t.worker.set_trainer(tr))
    running_now(qtbot, rec, t.worker.play)
    qtbot.waitUntil(lambda: len(rec.reports) > 400, timeout=10000)
    paused(qtbot, rec, t.worker.pause)
    assert rec.errors == []
    by_epoch: dict = {}
    for r in rec.reports:
        by_epoch.setdefault(r.epoch, []).append(r)
    full = [eps for eps in by_epoch.values() if len(eps) == 2]
    assert len(full) > 100
    for eps in full:
        assert sorted(np.concatenate([r.indices for r in eps]).tolist()) == list(range(12))


def test_the_training_process_module_never_imports_qt():
    """The training process runs nnstudio.training.loop: it must start without Qt (fast, small)."""
    import subprocess
    import sys

    code = ("import sys, nnstudio.training.loop; "
            "print(any(m.startswith(('PySide6', 'shiboken6', 'pyqtgraph')) for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
