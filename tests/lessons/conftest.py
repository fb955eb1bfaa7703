"""Fixtures shared by the lessons' tests: the sample dataset, the shipped network, the shipped lessons."""

from __future__ import annotations

import pytest

from nnstudio._resources import shipped_model_path
from nnstudio.core import load_model
from nnstudio.data import load_dataset
from nnstudio.lessons.parser import load_lessons


@pytest.fixture(scope="module")
def ds():
    return load_dataset("mnist-sample")


@pytest.fixture(scope="module")
def net():
    return load_model(shipped_model_path())


@pytest.fixture(scope="module")
def lessons():
    return load_lessons()
