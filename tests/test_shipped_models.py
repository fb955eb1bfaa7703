"""The registry of networks shipped in resources/models (nnstudio._resources)."""

from __future__ import annotations

import pytest

from nnstudio import _resources
from nnstudio._resources import (
    DEFAULT_SHIPPED_MODEL,
    SHIPPED_MODEL_NAME,
    SHIPPED_MODELS,
    resource_path,
    shipped_model_path,
    shipped_models,
)
from nnstudio.core import load_model


def test_no_argument_call_is_unchanged():
    assert shipped_model_path() == resource_path("models", SHIPPED_MODEL_NAME)
    assert shipped_model_path().name == "mnist-784-16-16-10.npz"
    assert DEFAULT_SHIPPED_MODEL == "pretrained"
    assert shipped_model_path("pretrained") == shipped_model_path()


def test_every_registered_file_is_shipped_and_loads():
    for name, (file_name, title) in SHIPPED_MODELS.items():
        path = shipped_model_path(name)
        assert path.name == file_name and path.is_file(), name
        assert title and "\n" not in title
        load_model(path)


def test_shipped_models_lists_name_title_path_default_first():
    listed = shipped_models()
    assert listed[0] == ("pretrained", "nnstudio's pretrained 784-16-16-10", shipped_model_path())
    assert [name for name, _, _ in listed] == list(SHIPPED_MODELS)


def test_shipped_models_leaves_out_a_missing_file(monkeypatch):
    monkeypatch.setitem(_resources.SHIPPED_MODELS, "ghost", ("no-such-model.npz", "not shipped"))
    assert "ghost" not in [name for name, _, _ in shipped_models()]
    assert shipped_model_path("ghost").name == "no-such-model.npz"


@pytest.mark.parametrize("name", ["nope", "", None, "mnist-784-16-16-10.npz"])
def test_unknown_name_is_one_line_value_error(name):
    with pytest.raises(ValueError, match=r"no shipped model called .*\(shipped: pretrained") as e:
        shipped_model_path(name)
    assert "\n" not in str(e.value)
