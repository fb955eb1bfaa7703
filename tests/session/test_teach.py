"""Teaching the network a drawing through the session (headless): one undoable step, its test accuracy
before and after, the drawing kept in "my digits" across sessions, and training mixing them in."""

from __future__ import annotations

import numpy as np
import pytest

from nnstudio.data.mydigits import FILE_NAME, load_my_digits, my_digits_path, repeats_for
from nnstudio.session import Session
from nnstudio.session.teach import REAL_IN_BATCH, teach_step
from nnstudio.training.workers import InlineWorker


def same(a, b) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


def new_session():
    s = Session(worker=InlineWorker(steps_per_drain=400))
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    return s


@pytest.fixture
def session():
    s = new_session()
    yield s
    s.shutdown()


def misread(s, k=0):
    """The k-th sample test digit the network on screen misreads: (pixels 0..1, true label, read as)."""
    ds = s.dataset
    x = ds.test_x * (1.0 / 255.0)
    reads = s.network.predict(x)
    i = np.flatnonzero(reads != ds.test_labels)[k]
    return x[i], int(ds.test_labels[i]), int(reads[i])


def test_a_step_on_a_misread_drawing_teaches_it_and_is_undone_bit_identically(session):
    s = session
    x, label, read = misread(s)
    before = s.network.copy()
    taught, messages = [], []
    s.events.taught.connect(taught.append)
    s.events.message.connect(lambda *a: messages.append(a))
    res = s.teacher.teach(x, label)
    assert res is not None and res.guess_before == read != label
    assert res.learned and int(np.argmax(s.network.feedforward(x[None])[0])) == label
    assert not same(s.network, before) and s.can_undo
    # the step is the mixed mini-batch's, with the studio's η (the pretrained network's own, once taken over)
    expect, real, _ = teach_step(before, x, label, s.dataset.train_x, s.dataset.train_labels,
                                 s.hyper["learning_rate"], real=res.real_indices)
    assert len(real) == REAL_IN_BATCH and same(s.network, expect)
    # its test accuracies follow in a second event (the SyncRunner measures at once)
    assert len(taught) == 2 and taught[0].accuracy_after is None and taught[1].measured
    m = taught[1]
    assert m.accuracy_before == pytest.approx(before.evaluate(s.dataset.test_x, s.dataset.test_labels)[0])
    assert m.accuracy_after == pytest.approx(s.network.evaluate(s.dataset.test_x, s.dataset.test_labels)[0])
    # alone, the same drawing drags every weight its way: test accuracy falls much further
    assert m.other_accuracy_after < m.accuracy_after - 0.1
    assert any("Taught: that's a" in a[2] for a in messages)
    assert s.undo() and same(s.network, before) and not s.can_undo


def test_the_drawing_is_kept_once_in_my_digits_and_survives_a_new_session(session):
    s = session
    x, label, _ = misread(s)
    s.teacher.teach(x, label)
    s.teacher.teach(x, label)  # (the same drawing again: still one digit)
    x2, label2, _ = misread(s, 3)
    s.teacher.teach(x2, label2)
    mine = s.teacher.my_digits
    assert len(mine) == 2 and list(mine.labels) == [label, label2]
    assert my_digits_path().is_file() and my_digits_path().parent == s.teacher.path.parent
    s.teacher.relabel(int(mine.ids[1]), (label2 + 1) % 10)
    s.shutdown()
    t = new_session()  # (a restart: the same data folder)
    try:
        kept = t.teacher.my_digits
        assert list(kept.ids) == list(mine.ids) and list(kept.labels) == [label, (label2 + 1) % 10]
        assert np.array_equal(kept.images[0], np.rint(x.reshape(28, 28) * 255).astype(np.uint8))
        assert t.teacher.delete(int(kept.ids[0]))
        assert list(load_my_digits().ids) == [int(mine.ids[1])]
    finally:
        t.shutdown()


@pytest.mark.parametrize("content", [b"PK\x03\x04 garbage", b"\x80\x04pickle", bytes(300)])
def test_a_damaged_my_digits_file_is_told_in_one_line_kept_and_nothing_else_lost(content):
    path = my_digits_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    s = Session(worker=InlineWorker(steps_per_drain=400))
    messages = []
    s.events.message.connect(lambda *a: messages.append(a))
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    try:
        warned = [m for m in messages if m[1] == "My digits"]
        assert len(warned) == 1 and "\n" not in warned[0][2] and warned[0][2].startswith(FILE_NAME), warned
        aside = [p for p in path.parent.iterdir() if p.name != FILE_NAME]
        assert len(aside) == 1 and aside[0].read_bytes() == content  # (set aside, byte for byte)
        assert aside[0].name in warned[0][2]
        # the studio is whole: the dataset, the network, and teaching (into a new file)
        assert s.dataset is not None and s.network is not None and len(s.teacher.my_digits) == 0
        x, label, _ = misread(s)
        assert s.teacher.teach(x, label).learned
        assert len(load_my_digits(path)) == 1 and aside[0].read_bytes() == content
    finally:
        s.shutdown()


def test_a_damaged_file_that_cannot_be_set_aside_is_never_written_over(monkeypatch):
    path = my_digits_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"damaged")

    def refuse(p):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("nnstudio.session.teach.set_aside", refuse)
    s = new_session()
    try:
        x, label, _ = misread(s)
        assert s.teacher.teach(x, label).learned and len(s.teacher.my_digits) == 1
        assert path.read_bytes() == b"damaged"
    finally:
        s.shutdown()


def test_training_mixes_my_digits_in_when_asked(session):
    s = session
    n = s.dataset.n_train
    for k in range(3):
        x, label, _ = misread(s, k)
        s.teacher.teach(x, label)
    assert s.teacher.mix_note().startswith("3 kept")
    assert s.teacher.set_mix_in(True)
    r = repeats_for(n, 3)
    assert s.teacher.in_run == (3, r) and s.history.n_train == n + 3 * r
    assert s.teacher.mix_note().startswith(f"In training, each {r} times: {3 * r:,} of {n + 3 * r:,}")
    s.step_batch()
    for _ in range(5):
        s.poll()
    assert s.progress()["batches"] == -(-(n + 3 * r) // int(s.hyper["batch_size"]))
    assert s.teacher.set_mix_in(False) and s.history.n_train == n and s.teacher.in_run == (0, 0)
