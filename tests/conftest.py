"""Shared pytest setup. Keep this small; helpers live in their own modules (e.g. helpers_http.py)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI replays the same fuzz cases every run (a new random failure should not block an unrelated
# submission); locally each run explores new ones.  Both run the full number of examples.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


@pytest.fixture(autouse=True)
def _own_data_folder(tmp_path_factory, monkeypatch):
    """Every test keeps "my digits" in a folder of its own (NNSTUDIO_DATA_DIR), never the user's."""
    monkeypatch.setenv("NNSTUDIO_DATA_DIR", str(tmp_path_factory.mktemp("data")))


@pytest.fixture
def shared_mnist_dir() -> Path:
    """The real MNIST IDX files next to the repo (../shared/datasets/mnist), or skip."""
    if not all((SHARED_MNIST / f"{n}.gz").is_file() for n in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
    )):
        pytest.skip("../shared/datasets/mnist not present (real MNIST needed)")
    return SHARED_MNIST


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch) -> Path:
    """A fresh, empty dataset cache: NNSTUDIO_CACHE_DIR points to it (and NNSTUDIO_MIRRORS is unset)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("NNSTUDIO_CACHE_DIR", str(cache))
    monkeypatch.delenv("NNSTUDIO_MIRRORS", raising=False)
    return cache
