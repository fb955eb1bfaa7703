"""ReportBlock: many mini-batch reports as one array, equal to the reports themselves."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.training.history import TrainingHistory
from nnstudio.training.reportblock import ReportBlock
from nnstudio.training.workers import ProcessWorker


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def _reports(sample, n=130, **kw):
    tr = Trainer(Network([784, 16, 10], seed=1), sample.train_x[:400], sample.train_labels[:400],
                 sample.test_x[:50], sample.test_labels[:50], batch_size=7, seed=3, **kw)
    return [tr.step() for _ in range(n)]  # 57 batches an epoch: two epoch ends


def _same(a, b) -> None:
    for f in ("epoch", "batch", "cost", "seconds", "examples_seen", "step", "learning_rate", "batch_size",
              "diverged", "offset"):
        assert getattr(a, f) == getattr(b, f), f
    assert np.array_equal(a.indices, b.indices)
    assert (a.epoch_end is None) == (b.epoch_end is None)
    if a.epoch_end is not None:
        assert a.epoch_end == b.epoch_end


def test_a_block_gives_back_each_report(sample):
    reports = _reports(sample)
    block = pickle.loads(pickle.dumps(ReportBlock.of(reports)))
    assert len(block) == len(reports)
    for a, b in zip(reports, block):
        _same(a, b)
    _same(block.last(), reports[-1])
    assert [i for i, _ in block.epoch_ends()] == [i for i, r in enumerate(reports) if r.epoch_end is not None] != []


def test_history_records_a_block_as_it_records_the_reports(sample):
    reports = _reports(sample)
    reports[40].diverged = True
    a, b = TrainingHistory(), TrainingHistory()
    try:
        for i in range(0, len(reports), 25):
            a.extend(reports[i : i + 25])
            b.extend(ReportBlock.of(reports[i : i + 25]))
        assert a.n == b.n == len(reports)
        ra, rb = a._rows(0, a.n), b._rows(0, b.n)
        assert ra.tobytes() == rb.tobytes()  # (NaN for the diverged batch in both)
        assert np.isnan(rb["cost"][40])
        ta, tb = a.epoch_trace(), b.epoch_trace()
        for x, y in zip(ta, tb):
            assert np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
        assert a.last_accuracy == b.last_accuracy and a.cost_min == b.cost_min and a.cost_max == b.cost_max
    finally:
        a.close()
        b.close()


def test_a_training_process_sends_blocks_equal_to_the_trainers_reports(sample):
    """The process's reports, rebuilt from the blocks, equal a trainer's own in the same process."""
    reference = _reports(sample, n=200)
    tr = Trainer(Network([784, 16, 10], seed=1), sample.train_x[:400], sample.train_labels[:400],
                 sample.test_x[:50], sample.test_labels[:50], batch_size=7, seed=3)
    w = ProcessWorker()
    w.start()
    try:
        w.set_trainer(tr)
        w.set_epochs(None)
        w.set_speed(0)
        got, blocks = [], 0
        end = time.monotonic() + 30
        w.play()
        while len(got) < 200 and time.monotonic() < end:
            for it in w.drain():
                if type(it) is ReportBlock:
                    blocks += 1
                    got.extend(it)
            w.acknowledge(len(got))
            time.sleep(0.005)
        w.pause()
    finally:
        w.stop()
    assert len(got) >= 200 and blocks < len(got)
    for a, b in zip(reference, got[:200]):
        b.seconds = a.seconds  # (wall times differ, of course)
        if a.epoch_end is not None and b.epoch_end is not None:
            assert b.epoch_end.test_accuracy == a.epoch_end.test_accuracy
            b.epoch_end = a.epoch_end
        _same(a, b)


def test_the_builder_gives_the_rows_of_each_report(sample):
    """Runs of ordinary mini-batches are stored compactly and expanded: the rows equal the
    reports' own, also across epoch ends, a new η, a new batch size and a diverged batch."""
    from nnstudio.training.reportblock import WIRE, BlockBuilder, wire_row

    tr = Trainer(Network([784, 16, 10], seed=1), sample.train_x[:400], sample.train_labels[:400],
                 sample.test_x[:50], sample.test_labels[:50], batch_size=7, seed=3)
    reports = []
    for i in range(150):
        if i == 30:
            tr.learning_rate = 0.5
        if i == 80:
            tr.batch_size = 11
        reports.append(tr.step())
    reports[100].diverged = True
    b = BlockBuilder()
    expected, got, extras_seen = [], [], {}
    for i, r in enumerate(reports):
        pid = -1 if i in (5, 6) else 1
        b.add(r, pid)
        expected.append(wire_row(r, pid))
        if i % 40 == 39 or i == len(reports) - 1:
            rows, extras = b.take()
            base = len(got)
            got.extend(rows.tolist())
            extras_seen.update({base + k: v for k, v in extras.items()})
    assert np.array(got, dtype=WIRE).tobytes() == np.array(expected, dtype=WIRE).tobytes()
    specials = {i for i, r in enumerate(reports) if r.epoch_end is not None or r.diverged or i in (5, 6)}
    assert set(extras_seen) == specials
    assert all(np.array_equal(extras_seen[i][1], reports[i].indices) for i in (5, 6))
    assert len(b) == 0 and len(b.take()[0]) == 0
