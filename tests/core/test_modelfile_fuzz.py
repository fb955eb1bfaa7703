"""Hypothesis fuzzing of the model loader: whatever the bytes, only ModelFileError escapes."""

import io

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnstudio.core import ModelFileError, Network, load_model, save_model

_net = Network((6, 4, 3), seed=0)
_buf = io.BytesIO()


def _valid_bytes(tmp_path_factory=None) -> bytes:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = save_model(_net, Path(d) / "m.npz", note="fuzz")
        return p.read_bytes()


VALID = _valid_bytes()


def _load(tmp_path, data: bytes):
    path = tmp_path / "fuzz.npz"
    path.write_bytes(data)
    try:
        net = load_model(path)
    except ModelFileError as e:
        assert "\n" not in str(e) and "fuzz.npz" in str(e)
        return None
    # anything that loads is a valid, finite network
    assert all(np.isfinite(p).all() for p in net.params)
    return net


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048))
def test_random_bytes(tmp_path, data):
    _load(tmp_path, data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(VALID)))
def test_mutated_valid_files(tmp_path, flips, cut):
    data = bytearray(VALID)
    for pos, value in flips:
        data[pos] = value
    _load(tmp_path, bytes(data[: max(cut, 1)]) if cut < len(VALID) // 2 else bytes(data))
