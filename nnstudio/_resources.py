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

#: The networks shipped in ``resources/models``, by the short name the CLI and File ▸ Open use:
#: ``name -> (file name, title shown to people)``. ``"pretrained"`` is the default everywhere.
SHIPPED_MODELS: dict[str, tuple[str, str]] = {
    "pretrained": (SHIPPED_MODEL_NAME, "nnstudio's pretrained 784-16-16-10"),
}

DEFAULT_SHIPPED_MODEL = "pretrained"


def shipped_model_path(name: str = DEFAULT_SHIPPED_MODEL) -> Path:
    """Path of the shipped network called ``name``; by default the pretrained 784-16-16-10.

    Raises :class:`ValueError` (one line naming the known names) for a name not in
    :data:`SHIPPED_MODELS`. The path is returned whether or not the file is present.
    """
    try:
        file_name, _title = SHIPPED_MODELS[name]
    except (KeyError, TypeError):
        known = ", ".join(SHIPPED_MODELS)
        raise ValueError(f"no shipped model called {name!r} (shipped: {known})") from None
    return resource_path("models", file_name)


def shipped_models() -> list[tuple[str, str, Path]]:
    """``(name, title, path)`` of every shipped network whose file is present, default first."""
    return [
        (name, title, path)
        for name, (file_name, title) in SHIPPED_MODELS.items()
        if (path := resource_path("models", file_name)).is_file()
    ]
