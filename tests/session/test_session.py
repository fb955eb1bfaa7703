"""The studio's session on its own, headless (no Qt): one network, named one way, changed only by
commands, and the worker's late messages never bring back an older network."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_http import make_idx_folder
from helpers_session import pump, same

from nnstudio._resources import shipped_model_path
from nnstudio.core import Network, load_model, save_model
from nnstudio.session import Events, InputExample, Session, SessionError


class Log:
    """Every event the session announced, in order."""

    def __init__(self, session):
        self.events = []
        for ev in session.events:
            ev.connect(lambda *args, name=ev.name: self.events.append((name, args)))

    def names(self):
        return [n for n, _ in self.events]

    def of(self, name):
        return [a for n, a in self.events if n == name]


def test_events_call_their_listeners_in_order_and_survive_a_failing_one(caplog):
    ev = Events(thing="a thing happened")
    got = []
    ev.thing.connect(lambda x: got.append(("a", x)))
    ev.thing.connect(lambda x: 1 / 0)
    ev.thing.connect(lambda x: got.append(("c", x)))
    ev.thing.emit(5)
    assert got == [("a", 5), ("c", 5)]
    assert "a listener of thing failed" in caplog.text

    class View:
        def __init__(self):
            self.seen = []

        def on(self, x):
            self.seen.append(x)

    v = View()
    ev.thing.connect(v.on)
    ev.thing.emit(1)
    assert v.seen == [1]
    del v  # a bound method is held weakly: a deleted view stops listening
    ev.thing.emit(2)
    assert len(ev.thing) == 3


def test_launch_shows_the_shipped_network_and_play_starts_new_weights(session):
    s = session
    shipped = load_model(shipped_model_path())
    assert s.origin.kind == "shipped" and same(s.network, shipped)
    assert s.network_label() == "pretrained 784-16-16-10" and not s.unsaved
    assert s.current_input.source == "test #0"
    log = Log(s)
    s.play()
    pump(s)
    assert s.origin.kind == "fresh" and s.network_label() == "new 784-16-16-10 (seed 0) •"
    assert any("random weights from seed 0" in a[2] for a in log.of("message"))
    assert s.history.n > 0 and s.snapshot.step > 0
    # the first network of the run is the recipe's, from its seed
    assert same(s._run_start, Network((784, 16, 16, 10), cost="quadratic", seed=0))
    # opening the shipped network again is one command
    s.pause()
    pump(s)
    assert s.open_shipped(ask=False) and same(s.network, shipped) and s.network_label() == "pretrained 784-16-16-10"


def test_the_name_follows_training_and_saving(session, tmp_path):
    s = session
    s.step_epoch()
    pump(s)
    assert s.network_label() == "new 784-16-16-10 (seed 0) •"  # (no longer the shipped file's name)
    assert s.save_model(tmp_path / "mynet.npz")
    assert s.network_label() == "mynet.npz" and not s.unsaved
    s.step_batch()
    pump(s)
    assert s.network_label() == "mynet.npz •"
    assert same(load_model(tmp_path / "mynet.npz"), s._run_start) is False


def test_a_command_that_replaces_the_network_shows_it_at_once_and_drops_older_messages(session):
    s = session
    s.step_epoch()
    pump(s)
    old = s.network.copy()
    s.step_batch()  # (not taken in yet)
    s.rewind()
    # the rewound network is on screen before the worker answers
    assert same(s.network, s._run_start) and s.history.n == 0 and s.progress()["epoch"] is None
    pump(s)  # the step's messages (older run) arrive: dropped
    assert s.history.n == 0 and same(s.network, s._run_start) and not same(s.network, old)


def test_rewind_drops_an_input_taken_from_the_old_run(session):
    s = session
    s.step_batch()
    pump(s)
    assert s.current_input.from_batch and s.current_input.source.startswith("mini-batch")
    s.rewind()
    assert s.current_input.source == "test #0"
    drawing = InputExample(pixels=np.zeros(784), source="drawing pad")
    s.set_input(drawing)
    s.rewind()
    assert s.current_input is drawing  # a drawing is the user's: it stays


def test_adopt_and_undo_are_bit_identical_and_carry_the_run_on(session):
    s = session
    s.step_batch()
    pump(s)
    before = s.network.copy()
    other = before.copy()
    other.params[0][0, 0] += 1.0
    assert s.adopt(other, "a test edit")
    assert same(s.network, other) and s.can_undo and s.unsaved
    s.step_batch()
    pump(s)
    assert s.last_report.step == 2  # the run went on from the adopted weights
    assert s.undo()
    assert not s.can_undo
    # undo puts back the weights from before the edit, bit for bit (the step after it is gone too)
    assert same(s.network, before)
    pump(s)
    assert same(s.network, before)  # and no late message brings the edited ones back


def test_switching_to_a_dataset_the_network_fits_keeps_the_network(session, tmp_path):
    s = session
    s.step_epoch()
    pump(s)
    net = s.network.copy()
    folder = tmp_path / "digits"
    make_idx_folder(folder, n_train=60, n_test=20)
    asked = []
    s.confirm = lambda q: asked.append(q) or True
    assert s.switch_dataset(str(folder))
    assert s.dataset.n_train == 60 and s.dataset_key == str(folder)
    assert asked == [] and same(s.network, net) and s.network_label() == "new 784-16-16-10 (seed 0) •"
    assert s.history.n == 0  # a new run of the same network on the new data
    s.step_epoch()
    pump(s)
    assert s.history.n == 6


def test_switching_to_data_the_network_cannot_read_asks_first(session, tmp_path, monkeypatch):
    import nnstudio.data as data
    from nnstudio.data import Dataset

    s = session
    s.step_batch()
    pump(s)
    real = data.load_dataset
    three = Dataset("three classes", *[np.zeros((30, 28, 28), np.uint8), (np.arange(30) % 3).astype(np.uint8),
                                       np.zeros((9, 28, 28), np.uint8), (np.arange(9) % 3).astype(np.uint8)], ("a", "b", "c"))

    monkeypatch.setattr(data, "load_dataset", lambda key, **kw: three if key == "three" else real(key, **kw))
    asked = []
    s.confirm = lambda q: asked.append(q) or False
    net = s.network.copy()
    s.switch_dataset("three")
    assert len(asked) == 1 and s.dataset.name == "mnist-sample" and same(s.network, net)
    s.confirm = lambda q: True
    s.switch_dataset("three")
    assert s.dataset.name == "three classes" and s.network.sizes == (784, 16, 16, 3)
    assert s.origin.kind == "fresh" and s.architecture["sizes"] == (784, 16, 16, 3)


def test_open_model_names_it_and_takes_its_recipe(session, tmp_path):
    s = session
    path = tmp_path / "wide.npz"
    net = Network((784, 30, 10), cost="cross-entropy", seed=4)
    save_model(net, path, seed=4, learning_rate=0.5, batch_size=20, accuracy=0.9)
    assert s.open_model(path)
    assert same(s.network, net) and s.network_label() == "wide.npz" and s.origin.kind == "file"
    assert s.architecture["sizes"] == (784, 30, 10) and s.architecture["cost"] == "cross-entropy"
    assert s.hyper["learning_rate"] == 0.5 and s.hyper["batch_size"] == 20
    # a file it cannot read, or a network that cannot read the data: a message, nothing changed
    log = Log(s)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    assert not s.open_model(bad)
    save_model(Network((784, 5, 3), seed=0), tmp_path / "three.npz")
    assert not s.open_model(tmp_path / "three.npz")
    assert [a[0] for a in log.of("message")] == ["error", "error"] and same(s.network, net)


def test_trained_networks_are_not_replaced_without_asking(session):
    s = session
    asked = []
    s.confirm = lambda q: asked.append(q) or False
    assert s.new_network(seed=3)  # nothing to lose yet: no question
    assert asked == []
    s.step_batch()
    pump(s)
    net = s.network.copy()
    assert not s.new_network(seed=4) and not s.open_shipped()
    assert len(asked) == 2 and same(s.network, net)
    assert s.reset() and not same(s.network, net)  # Reset is a request for new weights: no question


def test_architecture_commands_are_checked(session):
    s = session
    with pytest.raises(SessionError, match="784"):
        s.set_architecture(sizes=(784, 16, 9))
    with pytest.raises(SessionError):
        s.set_learning_rate(0.0)
    assert s.set_architecture(sizes=(784, 32, 10))
    assert s.network.sizes == (784, 32, 10) and s.origin.name == "new 784-32-10 (seed 0)"


def test_restore_ignores_values_out_of_range(session):
    s = Session()
    s.restore(hyper={"learning_rate": 1e9, "batch_size": 20}, architecture={"sizes": (784, 0, 10)})
    assert s.hyper["learning_rate"] == 1.5 and s.hyper["batch_size"] == 20
    assert s.architecture["sizes"] == (784, 16, 16, 10)
    s.restore(architecture={"sizes": (784, 20, 10), "activation": "relu", "seed": 7})
    assert s.architecture == {"sizes": (784, 20, 10), "activation": "relu", "cost": "quadratic", "init": "scaled",
                              "seed": 7}


def test_a_remembered_other_architecture_launches_with_a_network_of_it():
    s = Session()
    s.restore(architecture={"sizes": (784, 20, 10)})
    s.start_worker()
    s.start("mnist-sample")
    assert s.origin.kind == "fresh" and s.network.sizes == (784, 20, 10) and not s.play_starts_fresh
    s.shutdown()


def test_a_stale_paused_state_does_not_undo_a_play(session):
    s = session
    s.step_batch()  # the worker will say "paused" after it
    s.play()  # …but the learner pressed Play meanwhile
    assert s.run_state == "running"
    s.poll()
    assert s.run_state == "running"  # the step's "paused" came before the play: ignored
    s.pause()
    pump(s)
    assert s.run_state == "paused"


def test_progress_counts_the_epoch_in_progress(session):
    s = session
    assert s.progress()["epoch"] is None
    s.step_batch()
    pump(s)
    assert s.progress() == {"epoch": 1, "batch": 1, "batches": 400, "examples": 10}
    s.step_epoch()
    pump(s)
    p = s.progress()
    assert p["epoch"] == 1 and p["batch"] == p["batches"] == 400 and s.snapshot.epoch == 1 and s.snapshot.at_epoch_end
    s.step_batch()
    pump(s)
    assert s.progress()["epoch"] == 2 and s.progress()["batch"] == 1


def test_the_batch_counter_stays_right_when_the_mini_batch_size_changes(session):
    """It read "batch 207/60" and "92/80" after the size changed mid-epoch."""
    s = session
    for _ in range(5):
        s.step_batch()
    pump(s)
    assert s.progress()["batch"] == 5 and s.progress()["batches"] == 400
    s.set_batch_size(50)
    assert s.progress()["batches"] == 5 + (4000 - 50) // 50  # the rest of the epoch at the new size
    s.step_batch()
    pump(s)
    p = s.progress()
    assert p["batch"] == 6 and p["batches"] == 6 + (4000 - 100) // 50 and p["examples"] == 100
    s.step_epoch()
    pump(s)
    p = s.progress()
    assert p["batch"] == p["batches"] == 84 and p["epoch"] == 1
