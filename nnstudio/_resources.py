"""Locate files shipped in ``resources/``, installed or from a source checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def resource_path(*parts: str) -> Path:
    """Path of a shipped resource, e.g. ``resource_path("models", "mnist-16-16.npz")``.

    An installed wheel has them under ``nnstudio/resources``; a source checkout under
    ``<repo>/resources``.
    """
    for base in (_HERE / "resources", _HERE.parent / "resources"):
        if base.is_dir():
            return base.joinpath(*parts)
    return (_HERE / "resources").joinpath(*parts)


SHIPPED_MODEL_NAME = "mnist-784-16-16-10.npz"


def shipped_model_path() -> Path:
    """The pretrained 784-16-16-10 network shipped with nnstudio."""
    return resource_path("models", SHIPPED_MODEL_NAME)
