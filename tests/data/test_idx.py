"""Strict IDX reading: good files, every kind of damage, and a fuzz where only DataError may escape."""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnstudio.data.idx as idx_module
from nnstudio.data import DataError, read_idx, write_idx


def header(dims, code=0x08):
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("shape", [(7,), (3, 28, 28), (2, 3, 4, 5), (0,)])
def test_roundtrip(tmp_path, gz, shape):
    arr = np.arange(int(np.prod(shape)), dtype=np.uint8).reshape(shape)
    p = write_idx(tmp_path / ("a.idx" + (".gz" if gz else "")), arr)
    out = read_idx(p)
    assert out.dtype == np.uint8 and out.shape == shape
    np.testing.assert_array_equal(out, arr)
    assert not out.flags.writeable


def test_gzip_detected_by_magic_not_name(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    gz_named_raw = tmp_path / "labels.gz"
    gz_named_raw.write_bytes(header((10,)) + arr.tobytes())
    raw_named_gz = tmp_path / "labels-idx1-ubyte"
    raw_named_gz.write_bytes(gzip.compress(header((10,)) + arr.tobytes()))
    np.testing.assert_array_equal(read_idx(gz_named_raw), arr)
    np.testing.assert_array_equal(read_idx(raw_named_gz), arr)


def test_write_idx_is_reproducible(tmp_path):
    arr = np.ones((2, 28, 28), np.uint8)
    a = write_idx(tmp_path / "a.gz", arr).read_bytes()
    b = write_idx(tmp_path / "b.gz", arr).read_bytes()
    assert a == b


def test_write_idx_rejects_non_uint8(tmp_path):
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", np.zeros(3, np.float32))
    with pytest.raises(ValueError):
        write_idx(tmp_path / "x", np.zeros((1,) * 5, np.uint8))


@pytest.mark.parametrize("gz", [False, True])
def test_truncated(tmp_path, gz):
    data = header((3, 28, 28)) + bytes(3 * 784 - 10)
    p = tmp_path / ("train-images-idx3-ubyte" + (".gz" if gz else ""))
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DataError) as err:
        read_idx(p)
    msg = str(err.value)
    assert msg.startswith(p.name + ": truncated")
    assert "3 images of 28x28 (2352 bytes)" in msg and "2342" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("gz", [False, True])
def test_trailing_bytes(tmp_path, gz):
    data = header((4,)) + bytes(4) + b"junk"
    p = tmp_path / "labels"
    p.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(DataError, match=r"^labels: 4 unexpected trailing bytes"):
        read_idx(p)


def test_truncated_header(tmp_path):
    p = tmp_path / "h"
    p.write_bytes(bytes([0, 0, 8, 3]) + b"\x00\x00")
    with pytest.raises(DataError, match="truncated header"):
        read_idx(p)
    p.write_bytes(b"\x00\x00")
    with pytest.raises(DataError, match="truncated"):
        read_idx(p)


def test_empty_file(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    with pytest.raises(DataError, match="^empty: empty file"):
        read_idx(p)


@pytest.mark.parametrize(
    "head, pattern",
    [
        (b"\x01\x00\x08\x01", "not an IDX file"),
        (b"PK\x03\x04", "not an IDX file"),
        (b"\x00\x00\x07\x01", "invalid element type code 0x07"),
        (b"\x00\x00\x08\x00", "number of dimensions 0"),
        (b"\x00\x00\x08\x05", "number of dimensions 5"),
    ],
)
def test_wrong_magic(tmp_path, head, pattern):
    p = tmp_path / "bad-idx"
    p.write_bytes(head + bytes(64))
    with pytest.raises(DataError, match=pattern):
        read_idx(p)


@pytest.mark.parametrize(
    "code, name",
    [(0x09, "signed byte"), (0x0B, "int16"), (0x0C, "int32"), (0x0D, "float32"), (0x0E, "float64")],
)
def test_wrong_dtype(tmp_path, code, name):
    p = tmp_path / "floats-idx1"
    p.write_bytes(header((2,), code=code) + bytes(16))
    with pytest.raises(DataError, match=rf"unsupported element type 0x{code:02X} \({name}\)"):
        read_idx(p)


def test_garbage_gzip(tmp_path):
    good = gzip.compress(header((100,)) + bytes(range(100)))
    cases = {
        "header-only.gz": b"\x1f\x8b",
        "garbage.gz": b"\x1f\x8b" + os.urandom(200),
        "cut.gz": good[: len(good) // 2],
        "badcrc.gz": good[:-8] + bytes(8),
        "trailing-junk.gz": good + b"this is not gzip",
    }
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(DataError) as err:
            read_idx(p)
        assert str(err.value).startswith(name + ":"), str(err.value)


def test_huge_header_does_not_allocate(tmp_path):
    p = tmp_path / "liar.gz"
    p.write_bytes(gzip.compress(header((0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)) + bytes(10)))
    with pytest.raises(DataError, match="over the limit of 1,024 MB"):  # (refused from the header alone)
        read_idx(p)
    q = tmp_path / "liar"
    q.write_bytes(header((0xFFFFFFFF, 0xFFFF)) + bytes(10))
    with pytest.raises(DataError, match="truncated"):
        read_idx(q)


def test_missing_and_directory(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope-idx1-ubyte.gz")
    with pytest.raises(DataError, match="is a folder"):
        read_idx(tmp_path)


def test_permission_denied_simulated(tmp_path, monkeypatch):
    p = write_idx(tmp_path / "x.gz", np.zeros(3, np.uint8))

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(idx_module, "open_regular", deny)
    with pytest.raises(DataError, match="permission denied"):
        read_idx(p)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file")
def test_permission_denied_real(tmp_path):
    p = write_idx(tmp_path / "x.gz", np.zeros(3, np.uint8))
    p.chmod(0)
    try:
        with pytest.raises(DataError, match="permission denied"):
            read_idx(p)
    finally:
        p.chmod(0o644)


def test_real_mnist_labels(shared_mnist_dir):
    labels = read_idx(shared_mnist_dir / "train-labels-idx1-ubyte.gz")
    assert labels.shape == (60000,)
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


# ------------------------------------------------------------------------------------------------ fuzz

@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "fuzz-idx"


def _check(path, data):
    path.write_bytes(data)
    try:
        arr = read_idx(path)
    except DataError as exc:
        assert "\n" not in str(exc)
        return
    assert arr.dtype == np.uint8 and 1 <= arr.ndim <= 4


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), gz=st.booleans())
def test_fuzz_random_bytes(fuzz_file, data, gz):
    _check(fuzz_file, gzip.compress(data, mtime=0) if gz else data)


@st.composite
def mutated_idx(draw):
    dims = draw(st.lists(st.integers(0, 6), min_size=1, max_size=4))
    payload = draw(st.binary(min_size=int(np.prod(dims)), max_size=int(np.prod(dims))))
    data = bytearray(header(dims) + payload)
    gz_before = draw(st.booleans())
    if gz_before:
        data = bytearray(gzip.compress(bytes(data), mtime=0))
    for pos, val in draw(st.lists(st.tuples(st.integers(0, max(len(data) - 1, 0)), st.integers(0, 255)), max_size=3)):
        if data:
            data[pos] = val
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    if cut is not None:
        data = data[:cut]
    data += draw(st.binary(max_size=8))
    if not gz_before and draw(st.booleans()):
        data = bytearray(gzip.compress(bytes(data), mtime=0))
    return bytes(data)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=mutated_idx())
def test_fuzz_mutated_headers(fuzz_file, data):
    _check(fuzz_file, data)
