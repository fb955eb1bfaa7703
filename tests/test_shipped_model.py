"""The pretrained networks shipped in resources/models."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from nnstudio._resources import shipped_model_path
from nnstudio.components.evaluation import evaluation_report
from nnstudio.core import load_model
from nnstudio.data import load_dataset

BIG = shipped_model_path().parent / "mnist-784-100-10.npz"
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "make_shipped_models.sh"


def test_shipped_model_is_the_videos_network():
    path = shipped_model_path()
    assert path.name == "mnist-784-16-16-10.npz" and path.is_file()
    net, meta = load_model(path, with_metadata=True)
    assert tuple(net.sizes) == (784, 16, 16, 10)
    assert net.activation.name == "sigmoid" and net.output_activation.name == "sigmoid"
    assert net.n_params == 13_002
    # the recipe is recorded in the file
    assert meta["seed"] is not None and meta["epochs"] >= 1 and "train" in meta["command"]
    assert meta["accuracy"] >= 0.96


def test_shipped_model_reads_the_embedded_sample():
    """Always runs (no real MNIST needed): the embedded 5k sample is MNIST training digits."""
    net = load_model(shipped_model_path())
    ds = load_dataset("mnist-sample")
    acc, _ = net.evaluate(ds.test_x, ds.test_labels)
    assert acc >= 0.95


def test_shipped_model_reaches_96_percent_on_mnist_test(shared_mnist_dir):
    net = load_model(shipped_model_path())
    ds = load_dataset(shared_mnist_dir)
    rep = evaluation_report(net, ds.test_images, ds.test_labels)
    assert rep["total"] == 10_000
    assert rep["accuracy"] >= 0.96, rep["accuracy"]


@pytest.mark.skipif(not BIG.is_file(), reason="the larger 784-100-10 model is not shipped")
def test_larger_model(shared_mnist_dir):
    net, meta = load_model(BIG, with_metadata=True)
    assert tuple(net.sizes) == (784, 100, 10) and net.activation.name == "sigmoid"
    ds = load_dataset(shared_mnist_dir)
    acc = float((net.predict(ds.test_x) == ds.test_labels).mean())
    assert acc >= 0.985, acc
    assert np.isclose(acc, meta["accuracy"], atol=1e-4)


def _script_commands() -> list[list[str]]:
    """The `nnstudio train` commands of scripts/make_shipped_models.sh, as the files record them."""
    text = SCRIPT.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if re.match(r"\$PY -m nnstudio train ", line.strip())]
    return [shlex.split(line.replace("$PY -m nnstudio", "nnstudio").replace("$OUT", "resources/models")) for line in lines]


@pytest.mark.parametrize("path", [shipped_model_path(), BIG], ids=lambda p: p.name)
def test_shipped_models_were_made_by_the_documented_commands(path):
    """Each file records the command that made it: one of scripts/make_shipped_models.sh (and of the README)."""
    if not path.is_file():
        pytest.skip(f"{path.name} is not shipped")
    _, meta = load_model(path, with_metadata=True)
    assert shlex.split(meta["command"]) in _script_commands()
    assert meta["dataset"] == "mnist" and meta["augment"] == 1 and meta["epochs"] == 30
