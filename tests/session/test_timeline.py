"""The timeline, headless: any step of the run on screen bit for bit, the past marked as such, back
to live, a run continued from a step, and run files saved and opened again."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.session import Session
from nnstudio.training import checkpoints
from nnstudio.training.workers import InlineWorker

SEED = 3


@pytest.fixture
def session(monkeypatch):
    # checkpoints every ~40 mini-batches instead of ~1,600: the sample's short runs then cross many
    monkeypatch.setattr(checkpoints, "REPLAY_SECONDS", 0.0005)
    s = Session(worker=InlineWorker(steps_per_drain=97))
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    s.new_network(seed=SEED, ask=False)
    s.poll()
    yield s
    s.shutdown()


def train(s, steps: int) -> None:
    """Play until at least ``steps`` mini-batches were taken in, then pause."""
    s.play()
    while s.history.n < steps:
        s.poll()
    s.pause()
    for _ in range(3):
        s.poll()


def fresh_run(steps: int, lrs=None, bss=None, engine="auto") -> np.ndarray:
    """A run from scratch stopped at ``steps``: its weights."""
    ds = load_dataset("mnist-sample")
    net = Network((784, 16, 16, 10), seed=SEED)
    tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=1.5, batch_size=10, seed=SEED, engine=engine)
    for k in range(steps):
        if lrs is not None:
            tr.learning_rate, tr.batch_size = float(lrs[k]), int(bss[k])
        tr.step()
    return net.buffer.copy()


def test_scrubbing_shows_the_network_bit_identical_to_a_fresh_run_stopped_there(session):
    s = session
    train(s, 700)
    last = s.last_report.step
    assert len(s.timeline.store) >= 5, "several checkpoints in 700 mini-batches"
    for step in (0, 1, 37, 250, 401, 699, last):
        assert s.timeline.show(step)
        assert s.snapshot.past == (step, last) and s.snapshot.step == step
        assert np.array_equal(s.network.buffer, fresh_run(step)), step
    assert s.timeline.last_replayed <= 200


def test_the_numpy_engine_replays_bit_identically_too(session, monkeypatch):
    monkeypatch.setenv("NNSTUDIO_ENGINE", "numpy")
    s = session
    s.new_network(seed=SEED, ask=False)  # (a new trainer: it reads the engine now)
    s.poll()
    train(s, 450)
    for step in (0, 133, 402):
        s.timeline.show(step)
        assert np.array_equal(s.network.buffer, fresh_run(step, engine="numpy")), step
    assert s.timeline.replayer.engine == "numpy"


def test_learning_rate_and_batch_size_changes_are_replayed_exactly(session):
    s = session
    train(s, 150)
    s.set_learning_rate(0.4)
    s.set_batch_size(7)
    train(s, 400)
    rows = s.history.rows()
    step = int(rows["step"][-1]) - 3
    s.timeline.show(step)
    want = fresh_run(step, rows["learning_rate"][:step], rows["batch_size"][:step])
    assert np.array_equal(s.network.buffer, want)


def test_the_past_is_marked_everywhere_and_one_command_returns_to_live(session):
    s = session
    past = []
    s.events.past.connect(lambda *a: past.append(a))
    train(s, 300)
    live = s.snapshot
    label = s.network_label()
    s.timeline.show(120)
    assert s.network_label() == f"{label} · past: step 120 of {s.last_report.step:,}"
    assert past[-1] == (120, s.last_report.step)
    assert s.timeline.progress() == {"epoch": 1, "batch": 120, "batches": 400, "examples": 1200}
    # a run playing goes on underneath: its snapshots wait, the screen keeps the past
    s.timeline.go_live()
    s.play()
    s.poll()
    s.timeline.show(120)
    n = s.history.n
    for _ in range(4):
        s.poll()
    assert s.snapshot.past == (120, s.timeline.shown.past[1]) and s.history.n > n
    assert s.timeline.live.step > 300
    s.pause()
    s.poll()
    assert s.timeline.go_live()
    assert s.snapshot.past is None and s.snapshot.step >= live.step and s.network_label() == label
    assert past[-1] == (None, None) and s.timeline.progress() is None
    # an explorer step on the past is refused (it would change a network that is gone)
    s.timeline.show(50)
    before = s.network.buffer.copy()
    assert not s.adopt(s.network.copy())
    assert np.array_equal(s.network.buffer, before)
    # Play goes back to live first
    s.play()
    s.poll()
    assert not s.timeline.past
    s.pause()
    s.poll()


def test_continue_from_here_replays_bit_identically_to_the_original_run(session):
    s = session
    train(s, 600)
    s.timeline.show(600)
    at_600 = s.network.buffer.copy()
    fork_at = 233
    assert s.timeline.show(fork_at)
    assert s.timeline.fork()
    assert not s.timeline.past and s.snapshot.step == fork_at and s.history.n == fork_at
    assert np.array_equal(s.network.buffer, fresh_run(fork_at))
    train(s, 600)  # the same settings: the continued run reaches step 600 as the original did
    s.timeline.show(600)
    assert np.array_equal(s.network.buffer, at_600)
    # and its timeline still reaches back before the fork
    s.timeline.show(100)
    assert np.array_equal(s.network.buffer, fresh_run(100))


def test_continue_with_new_settings_uses_them(session):
    s = session
    train(s, 300)
    s.timeline.show(120)
    assert s.timeline.fork(learning_rate=0.3, batch_size=4)
    train(s, 150)
    rows = s.history.rows()
    assert rows["learning_rate"][119] == 1.5 and set(rows["learning_rate"][120:]) == {0.3}
    assert set(rows["batch_size"][120:]) == {4}


def test_a_saved_run_reopens_identical(session, tmp_path):
    s = session
    train(s, 500)
    rows = s.history.rows()
    epochs = list(s.history.epochs)
    live = s.network.buffer.copy()
    path = tmp_path / "lesson.npz"
    assert s.timeline.save_run(path)
    s.new_network(seed=9, ask=False)
    s.poll()
    assert s.timeline.open_run(path)
    s.poll()
    assert s.origin.name == "lesson.npz" and not s.unsaved
    assert np.array_equal(s.network.buffer, live)
    assert np.array_equal(s.history.rows(), rows) and list(s.history.epochs) == epochs
    for step in (0, 77, 431):
        s.timeline.show(step)
        assert np.array_equal(s.network.buffer, fresh_run(step))
    s.timeline.go_live()
    # Play carries the opened run on exactly as the original would have
    train(s, 560)
    s.timeline.show(560)
    assert np.array_equal(s.network.buffer, fresh_run(560))


def test_rewind_and_new_networks_start_a_new_timeline(session):
    s = session
    train(s, 200)
    s.timeline.show(50)
    s.rewind()
    s.poll()
    assert not s.timeline.past and s.timeline.span() == (0, 0)
    train(s, 100)
    assert s.timeline.span()[1] >= 100


def test_the_timeline_reaches_across_an_edit_of_the_weights(session):
    """An explorer step (adopt) mid-run is a forced checkpoint: steps before it are the run from its
    seed, steps after it the run carried on from the edited weights, each rebuilt bit for bit."""
    s = session
    train(s, 250)
    edit_at = s.last_report.step
    edited = s.network.copy()
    edited.params[0][3, 100:200] += 0.5
    assert s.adopt(edited)
    s.poll()
    train(s, 600)
    live, last = s.network.buffer.copy(), s.last_report.step
    for step in (100, edit_at - 1):
        s.timeline.show(step)
        assert np.array_equal(s.network.buffer, fresh_run(step)), step
    s.timeline.show(edit_at)
    assert np.array_equal(s.network.buffer, edited.buffer)  # (the edited weights, not the run's own)
    s.timeline.show(last)
    assert np.array_equal(s.network.buffer, live)  # (replayed from the edit onwards)
    s.timeline.show(edit_at + 1)
    after = s.network.buffer.copy()
    s.timeline.show(last - 1)
    s.timeline.show(edit_at + 1)
    assert np.array_equal(s.network.buffer, after)
