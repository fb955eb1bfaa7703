"""Recovery, headless: the training process dies and training starts again from the network on
screen; the architecture field refuses a network too big to build with the CLI's own words; a
model whose saved seed the window cannot show still opens."""

from __future__ import annotations

import os
import signal

import pytest
from helpers_session import poll_until, same

from nnstudio.core import Network, save_model
from nnstudio.limits import LimitError, check_network
from nnstudio.session import Session, SessionError
from nnstudio.training.workers import InlineWorker, ProcessWorker


@pytest.fixture
def process_session():
    s = Session(worker=ProcessWorker())
    messages = []
    s.events.message.connect(lambda level, title, text: messages.append((level, title, text)))
    s.start_worker()
    s.start("mnist-sample")
    s.messages = messages
    yield s
    s.shutdown(timeout=5)


def test_training_starts_again_after_the_training_process_died(process_session):
    s = process_session
    s.set_epochs(0)
    s.step_epoch()  # (Play starts new weights; a step too)
    poll_until(s, lambda: s.run_state == "paused" and s.snapshot.step > 0)
    s.adopt(s.network.copy(), "an explorer step")  # (an edit: the session counts it)
    poll_until(s, lambda: True, 0.2)
    before = s.network.copy()
    old = s.worker
    os.kill(old.process.pid, signal.SIGKILL)
    poll_until(s, lambda: any(m[1] == "Training stopped" for m in s.messages))
    assert "ended unexpectedly" in s.messages[-1][2] and not old.alive
    s.play()  # a new training process, from the network the window holds
    assert s.worker is not old and s.worker.alive
    first = []
    s.events.network.connect(lambda snap: first.append(snap) if snap.step else None)
    poll_until(s, lambda: len(first) > 0 and s.snapshot.step > 20)
    s.pause()
    poll_until(s, lambda: s.run_state == "paused")
    assert s.snapshot.step > 20 and not same(s.network, before)  # trained on from where it was
    # the new run started from `before`: rewinding brings it back exactly
    s.rewind()
    assert same(s.network, before)


@pytest.mark.parametrize("command", ["reset", "architecture"])
def test_reset_and_a_new_architecture_work_after_the_training_process_died(process_session, command):
    s = process_session
    s.set_epochs(0)
    old = s.worker
    os.kill(old.process.pid, signal.SIGKILL)
    poll_until(s, lambda: any(m[1] == "Training stopped" for m in s.messages))
    if command == "reset":
        assert s.reset(seed=5)
    else:
        assert s.set_architecture(sizes=(784, 30, 10))
    assert s.worker is not old and s.worker.alive
    s.step_epoch()
    poll_until(s, lambda: s.run_state == "paused" and s.snapshot.step == 400)
    assert s.network.sizes == ((784, 30, 10) if command == "architecture" else (784, 16, 16, 10))


def test_the_architecture_field_refuses_a_network_too_big_to_build_as_the_cli_does():
    s = Session(worker=InlineWorker())
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    sizes = (784,) + (4096,) * 11 + (10,)  # a legal 61-character field in the window
    with pytest.raises(SessionError) as err:
        s.set_architecture(sizes=sizes)
    with pytest.raises(LimitError) as cli:
        check_network(sizes, 10)
    assert str(err.value) == str(cli.value)
    assert "NNSTUDIO_MAX_NETWORK_MB" in str(err.value) and "\n" not in str(err.value)
    assert s.architecture["sizes"] == (784, 16, 16, 10)  # nothing changed (and nothing to remember)
    s.shutdown()


def test_a_mini_batch_too_big_for_the_network_on_screen_is_refused_and_the_field_goes_back(monkeypatch):
    monkeypatch.setenv("NNSTUDIO_MAX_NETWORK_MB", "150")
    s = Session(worker=InlineWorker())
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    told = []
    s.events.hyper.connect(lambda name, value: told.append((name, value)))
    s.set_batch_size(100)  # fine for 784-16-16-10
    with pytest.raises(LimitError):
        check_network(s.network.sizes, 10_000)  # (what the limit says of the next one)
    with pytest.raises(SessionError) as err:
        s.set_batch_size(10_000)
    assert "NNSTUDIO_MAX_NETWORK_MB" in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("Mini-batches of 10,000: ") and "smaller mini-batch" in str(err.value)
    assert s.hyper["batch_size"] == 100 and told[-1] == ("batch_size", 100)  # the field shows 100 again
    s.shutdown()


def test_a_remembered_recipe_too_big_to_build_falls_back_to_the_default(monkeypatch):
    monkeypatch.setenv("NNSTUDIO_MAX_NETWORK_MB", "300")
    s = Session(worker=InlineWorker())
    said = []
    s.events.message.connect(lambda level, title, text: said.append((level, title, text)))
    s.restore(architecture={"sizes": (784, 2000, 2000, 10)})  # (within the limit it was saved under)
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    assert s.architecture["sizes"] == (784, 16, 16, 10) and s.network is not None
    said = [m for m in said if m[0] != "status"]
    assert [m[1] for m in said] == ["Network too large"] and "NNSTUDIO_MAX_NETWORK_MB" in said[0][2]
    s.shutdown()


def test_a_model_whose_seed_the_window_cannot_show_opens(tmp_path):
    net = Network((784, 16, 16, 10), seed=1)
    path = save_model(net, tmp_path / "big-seed.npz", seed=3_000_000_000, learning_rate=2.0)
    s = Session(worker=InlineWorker())
    said = []
    s.events.message.connect(lambda level, title, text: said.append((level, title)))
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    assert s.open_model(path, ask=False)
    assert same(s.network, net) and s.origin.name == "big-seed.npz"
    assert 0 <= s.architecture["seed"] <= 2**31 - 1  # (the recipe keeps a seed the field can show)
    assert [m for m in said if m[0] == "error"] == []
    s.shutdown()
