"""Run files: a saved run reopens identical (every mini-batch rebuilt bit for bit from it), and a
damaged, hostile or oversized file is refused with one line naming it, before anything big is read."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.training import runfile
from nnstudio.training.runfile import RunFileError, RunRecorder, load_run, save_run

SEED = 5


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


def record(ds, steps=450, lr=1.2):
    net = Network((784, 16, 10), seed=SEED)
    tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=lr, batch_size=10, seed=SEED)
    rec = RunRecorder(tr, "mnist-sample", ds.name, ds.class_names)
    rec._gap = 40 * 10  # (a checkpoint every 40 mini-batches: a short run crosses several)
    rec._next = tr.examples_seen + rec._gap
    for _ in range(steps):
        rec.record(tr.step())
    return rec


def fresh(ds, step, lr=1.2):
    net = Network((784, 16, 10), seed=SEED)
    tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=lr, batch_size=10, seed=SEED)
    for _ in range(step):
        tr.step()
    return net.buffer


@pytest.fixture(scope="module")
def saved(sample, tmp_path_factory):
    rec = record(sample)
    path = tmp_path_factory.mktemp("runs") / "lesson.npz"
    rec.save(path, learning_rate=1.2, batch_size=10, epochs=1)
    return rec, path


def test_a_saved_run_reopens_identical(sample, saved):
    rec, path = saved
    run = load_run(path)
    assert run.sizes == (784, 16, 10) and run.last_step == 450 and run.first_step == 0
    assert np.array_equal(run.start, rec.start)
    assert np.array_equal(run.history.rows(), rec.history.rows())
    assert list(run.history.epochs) == list(rec.history.epochs)
    (pos_a, w_a), (pos_b, w_b) = run.store.arrays(), rec.store.arrays()
    assert pos_a == pos_b and np.array_equal(w_a, w_b) and len(pos_a) >= 10
    assert run.meta["dataset"]["key"] == "mnist-sample" and run.meta["hyper"]["learning_rate"] == 1.2
    rep = run.replayer(sample.train_x, sample.train_labels)
    for step in (450, 0, 1, 123, 399, 449):
        i = run.store.nearest(step)
        got = rep.at(step, run.settings(run.store.steps[i], step))
        assert got.exact and np.array_equal(got.network.buffer, fresh(sample, step)), step
    # saved again, the file holds the same
    again = path.with_name("again.npz")
    save_run(again, run)
    twice = load_run(again)
    assert np.array_equal(twice.store.arrays()[1], w_a) and np.array_equal(twice.history.rows(), run.history.rows())


def assert_one_line(e: pytest.ExceptionInfo, name: str) -> str:
    msg = str(e.value)
    assert msg.startswith(name + ":") and "\n" not in msg and len(msg) < 300, msg
    assert e.value.__suppress_context__ or e.value.__cause__ is None  # (no traceback chained on)
    return msg


def refused(path) -> str:
    with pytest.raises(RunFileError) as e:
        load_run(path)
    return assert_one_line(e, path.name)


def rewrite(src, dst, change):
    """A copy of the run file ``src`` with its arrays (a dict of the npz's entries) changed."""
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with open(dst, "wb") as f:
        np.savez(f, **arrays)
    return dst


def test_corrupted_files_are_refused_in_one_line(saved, tmp_path):
    _rec, path = saved
    data = path.read_bytes()
    cases = {}
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    cases["cut.npz"] = "damaged"
    flipped = bytearray(data)
    for k in range(len(data) // 3, len(data) // 3 + 64):
        flipped[k] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(flipped))
    cases["flipped.npz"] = "damaged"
    (tmp_path / "text.npz").write_text("hello, not a run")
    cases["text.npz"] = "not an nnstudio run file"
    (tmp_path / "pickle.npz").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    cases["pickle.npz"] = "pickle"
    (tmp_path / "empty.npz").write_bytes(b"")
    cases["empty.npz"] = "not an nnstudio run file"
    (tmp_path / "folder.npz").mkdir()
    cases["folder.npz"] = "folder"
    cases["missing.npz"] = "no such file"
    # a model file, not a run
    buf = io.BytesIO()
    np.savez(buf, W0=np.zeros((3, 3)))
    (tmp_path / "model.npz").write_bytes(buf.getvalue())
    cases["model.npz"] = "not an nnstudio run file"
    rewrite(path, tmp_path / "badjson.npz", lambda a: a.update(meta=np.array("{not json")))
    cases["badjson.npz"] = "not JSON"

    def nan(a):
        a["params"] = a["params"].copy()
        a["params"][1, 3] = np.nan
    rewrite(path, tmp_path / "nan.npz", nan)
    cases["nan.npz"] = "inf or NaN"

    def fewer(a):
        a["params"] = a["params"][:-1]  # (one checkpoint's weights missing)
    rewrite(path, tmp_path / "fewer.npz", fewer)
    cases["fewer.npz"] = "expected ("

    def gap(a):
        a["h_step"] = a["h_step"].copy()
        a["h_step"][100:] += 1
    rewrite(path, tmp_path / "gap.npz", gap)
    cases["gap.npz"] = "not consecutive"

    def meta(change):
        def f(a):
            m = json.loads(str(a["meta"]))
            change(m)
            a["meta"] = np.array(json.dumps(m))
        return f
    rewrite(path, tmp_path / "sizes.npz", meta(lambda m: m.update(sizes=[784, -16, 10])))
    cases["sizes.npz"] = "bad layer sizes"
    rewrite(path, tmp_path / "rng.npz", meta(lambda m: m["checkpoints"][0].update(rng={"bit_generator": "Nope"})))
    cases["rng.npz"] = "shuffle state"
    rewrite(path, tmp_path / "order.npz", meta(lambda m: m["checkpoints"].reverse()))
    cases["order.npz"] = "out of order"
    rewrite(path, tmp_path / "newer.npz", lambda a: a.update(format_version=np.array(99)))
    cases["newer.npz"] = "newer nnstudio"
    for name, words in cases.items():
        msg = refused(tmp_path / name)
        assert words in msg, (name, msg)


def test_oversized_files_are_refused_unread(saved, tmp_path, monkeypatch):
    _rec, path = saved
    # a file over the limit: refused from its size alone (a sparse 1.1 GB file: nothing is read)
    big = tmp_path / "huge.npz"
    with open(big, "wb") as f:
        f.write(path.read_bytes()[:4096])
        f.truncate(runfile.MAX_RUN_BYTES + 2**20)
    assert "refused unread" in refused(big)
    # a small file declaring huge arrays: refused from the declared sizes before decompressing
    n = Network((784, 16, 10), seed=0).n_params
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "params.npy":
                arr = np.zeros((5000, n))  # 5,000 checkpoints where the metadata says ~12: ~520 MB
                with dst.open("params.npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, arr)
            else:
                dst.writestr(info, src.read(info.filename))
    assert bomb.stat().st_size < 5 * 2**20
    msg = refused(bomb)
    assert "params" in msg or "size" in msg or "damaged" in msg
    # a history longer than a run file may hold
    rewrite(path, tmp_path / "rows.npz", lambda a: a.update(
        meta=np.array(json.dumps(dict(json.loads(str(a["meta"])), rows=runfile.MAX_ROWS + 1)))))
    assert "rows" in refused(tmp_path / "rows.npz")
    # a history that fits the row limit, but with the weights more than a run file may hold: refused
    # from the metadata before any array is read
    rewrite(path, tmp_path / "many.npz", lambda a: a.update(
        meta=np.array(json.dumps(dict(json.loads(str(a["meta"])), rows=runfile.MAX_ROWS)))))
    assert "refused unread" in refused(tmp_path / "many.npz")
    # and the size limit is the same when saving: nothing is written
    run = load_run(path)
    monkeypatch.setattr(runfile, "MAX_RUN_BYTES", 10_000)
    out = tmp_path / "too-big.npz"
    with pytest.raises(RunFileError) as e:
        save_run(out, run)
    assert "over the" in assert_one_line(e, "too-big.npz") and not out.exists()
    assert not [p for p in os.listdir(tmp_path) if "too-big" in p]


def test_a_named_pipe_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    msg = refused(fifo)
    assert "pipe" in msg or "not a run file" in msg
