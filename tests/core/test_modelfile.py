"""Model files: round trip, atomic writes, and refusal of anything malformed."""

import os
import pickle
import zipfile

import numpy as np
import pytest

from nnstudio.core import FORMAT_VERSION, ModelFileError, Network, load_model, save_model


@pytest.fixture
def net():
    return Network((6, 4, 3), activation="tanh", cost="cross-entropy", seed=1)


def test_round_trip(tmp_path, net):
    path = save_model(net, tmp_path / "m.npz", seed=1, history=[{"epoch": 1, "acc": np.float64(0.5)}], accuracy=0.9)
    back, meta = load_model(path, with_metadata=True)
    assert back.sizes == net.sizes and back.activation.name == "tanh" and back.cost.name == "cross-entropy"
    for a, b in zip(back.params, net.params):
        np.testing.assert_array_equal(a, b)
    assert meta == {"seed": 1, "history": [{"epoch": 1, "acc": 0.5}], "accuracy": 0.9}
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def _write(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _valid_arrays(net):
    d = {"format": np.array("nnstudio-model"), "format_version": np.array(FORMAT_VERSION),
         "sizes": np.array(net.sizes), "activation": np.array("sigmoid"), "cost": np.array("quadratic"),
         "metadata": np.array("{}")}
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        d[f"W{l}"], d[f"b{l}"] = np.ascontiguousarray(w), b.copy()
    return d


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.update(format=np.array("other")), "not an nnstudio model"),
        (lambda d: d.pop("format"), "no format tag"),
        (lambda d: d.update(format_version=np.array(FORMAT_VERSION + 1)), "newer nnstudio"),
        (lambda d: d.update(W0=np.zeros((4, 5))), "shape"),
        (lambda d: d.update(sizes=np.array([6, 4, 3, 2])), "missing W2"),
        (lambda d: d.update(sizes=np.array([6, 4])), "weight layers"),
        (lambda d: d.update(b1=np.array([np.nan, 0, 0])), "inf or NaN"),
        (lambda d: d.update(W1=np.full((3, 4), np.inf)), "inf or NaN"),
        (lambda d: d.update(W0=np.zeros((4, 6), dtype=np.int64)), "dtype"),
        (lambda d: d.update(activation=np.array("swish")), "unknown activation"),
        (lambda d: d.update(metadata=np.array("{not json")), "JSON"),
    ],
)
def test_malformed_files_are_refused(tmp_path, net, change, message):
    d = _valid_arrays(net)
    change(d)
    _write(tmp_path / "bad.npz", **d)
    with pytest.raises(ModelFileError, match=message) as e:
        load_model(tmp_path / "bad.npz")
    assert "bad.npz" in str(e.value) and "\n" not in str(e.value)


class Boom:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_pickled_objects_are_refused_without_running(tmp_path, net, monkeypatch):
    monkeypatch.chdir(tmp_path)
    d = _valid_arrays(net)
    d["W0"] = np.array([Boom()], dtype=object)
    _write(tmp_path / "evil.npz", **d)
    with pytest.raises(ModelFileError, match="evil.npz"):
        load_model(tmp_path / "evil.npz")
    # a raw pickle with an .npz name
    (tmp_path / "raw.npz").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ModelFileError, match="raw.npz"):
        load_model(tmp_path / "raw.npz")
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("content", [b"", b"hello", b"PK\x03\x04garbage"])
def test_not_an_npz(tmp_path, content):
    (tmp_path / "x.npz").write_bytes(content)
    with pytest.raises(ModelFileError, match="x.npz"):
        load_model(tmp_path / "x.npz")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_model(tmp_path / "nope.npz")
    with pytest.raises(ModelFileError, match="folder"):
        load_model(tmp_path)


def test_truncated_zip(tmp_path, net):
    save_model(net, tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="t.npz"):
        load_model(tmp_path / "t.npz")


def test_failed_save_keeps_the_old_file(tmp_path, net, monkeypatch):
    target = tmp_path / "m.npz"
    save_model(net, target, version="old")
    old = target.read_bytes()

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", full_disk)
    with pytest.raises(ModelFileError, match="No space left"):
        save_model(net, target, version="new")
    assert target.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root ignores permissions")
def test_read_only_folder(tmp_path, net):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(ModelFileError, match="could not save"):
            save_model(net, ro / "m.npz")
    finally:
        ro.chmod(0o700)


def test_save_into_missing_folder_is_clear(tmp_path, net):
    with pytest.raises(ModelFileError, match="could not save"):
        save_model(net, tmp_path / "no" / "such" / "m.npz")


def test_refuses_to_save_nan(tmp_path, net):
    net.weights[0][0, 0] = np.nan
    with pytest.raises(ModelFileError, match="NaN"):
        save_model(net, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_bad_metadata(tmp_path, net):
    with pytest.raises(ModelFileError, match="metadata"):
        save_model(net, tmp_path / "m.npz", thing=object())
