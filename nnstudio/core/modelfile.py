"""Model files: a plain ``.npz`` that never needs pickle.

Keys: ``format`` ("nnstudio-model"), ``format_version``, ``sizes``, ``activation``,
``cost``, ``init``, ``W0..W{L-1}`` and ``b0..b{L-1}`` (float64), and ``metadata``: a
JSON string (hyper-parameters, seed, dataset, accuracy, history, ...).

Loading uses ``allow_pickle=False`` and checks the tag, the version, the layer count,
every shape and dtype, and that every value is finite.  Any problem raises
:class:`ModelFileError` with one line naming the file.  Saving writes a temporary file
in the same folder and renames it over the target, so a failure never leaves a
half-written model and never damages the old one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from nnstudio._atomic import atomic_path

from .activations import ACTIVATIONS
from .costs import COSTS
from .network import INITS, Network

FORMAT = "nnstudio-model"
FORMAT_VERSION = 1


class ModelFileError(Exception):
    """A model file could not be read or written; the message is one line naming the file."""


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot store {type(o).__name__} in model metadata")


def save_model(network: Network, path, **metadata) -> Path:
    """Write ``network`` to ``path`` (.npz) atomically, with free-form JSON metadata."""
    path = Path(path)
    name = path.name
    try:
        meta_json = json.dumps(metadata, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"{name}: metadata cannot be saved: {e}") from None
    if not all(np.isfinite(p).all() for p in network.params):
        raise ModelFileError(f"{name}: refusing to save a network with inf/NaN weights")
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(FORMAT_VERSION),
        "sizes": np.array(network.sizes, dtype=np.int64),
        "activation": np.array(network.activation.name),
        "cost": np.array(network.cost.name),
        "init": np.array(network.init),
        "metadata": np.array(meta_json),
    }
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        arrays[f"W{l}"] = np.ascontiguousarray(w)
        arrays[f"b{l}"] = np.ascontiguousarray(b)
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise ModelFileError(f"{name}: could not save ({e.strerror or e}); any old file was kept") from None
    return path


def _scalar_str(z, key, name) -> str:
    a = z[key]
    if a.shape != () or a.dtype.kind != "U":
        raise ModelFileError(f"{name}: '{key}' is not a string")
    return str(a[()])


def load_model(path, *, with_metadata: bool = False):
    """Read a model file.  Returns the :class:`Network` (and its metadata dict if asked)."""
    path = Path(path)
    name = path.name
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise ModelFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{name}: is a folder, not a model file") from None
    except PermissionError:
        raise ModelFileError(f"{name}: permission denied") from None
    except OSError as e:
        raise ModelFileError(f"{name}: cannot be opened ({e.strerror or e})") from None
    with f:
        try:
            z = np.load(f, allow_pickle=False)
        except Exception as e:  # noqa: BLE001 - whatever the bytes, one documented error type
            raise ModelFileError(f"{name}: not an nnstudio model (.npz) file ({_short(e)})") from None
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{name}: not an nnstudio model (.npz) file (a bare array)")
        try:
            with z:
                return _read(z, name, with_metadata)
        except ModelFileError:
            raise
        except ValueError as e:
            # allow_pickle=False refuses object arrays (pickles) without running them
            raise ModelFileError(f"{name}: refused: {_short(e)}") from None
        except Exception as e:  # noqa: BLE001 - zip/zlib/npy errors of a damaged file (BadZipFile, zlib.error,
            # NotImplementedError for odd zip versions, ...): never let anything but ModelFileError out
            raise ModelFileError(f"{name}: damaged model file ({_short(e)})") from None


def _short(e: Exception) -> str:
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def _read(z, name, with_metadata):
    files = set(z.files)
    if "format" not in files or "format_version" not in files:
        raise ModelFileError(f"{name}: not an nnstudio model (no format tag)")
    if _scalar_str(z, "format", name) != FORMAT:
        raise ModelFileError(f"{name}: not an nnstudio model (format tag {z['format'][()]!r})")
    version = z["format_version"]
    if version.shape != () or version.dtype.kind not in "iu":
        raise ModelFileError(f"{name}: bad format version")
    version = int(version)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name}: made by a newer nnstudio (model format {version}, this version reads up to "
            f"{FORMAT_VERSION}); please upgrade nnstudio"
        )
    if version < 1:
        raise ModelFileError(f"{name}: bad format version {version}")
    sizes = z["sizes"]
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) < 2 or (sizes < 1).any() or (sizes > 100_000).any():
        raise ModelFileError(f"{name}: bad layer sizes")
    sizes = tuple(int(s) for s in sizes)
    activation = _scalar_str(z, "activation", name)
    if activation not in ACTIVATIONS:
        raise ModelFileError(f"{name}: unknown activation {activation!r}")
    cost = _scalar_str(z, "cost", name)
    if cost not in COSTS:
        raise ModelFileError(f"{name}: unknown cost {cost!r}")
    init = _scalar_str(z, "init", name) if "init" in files else "scaled"
    if init not in INITS:
        init = "scaled"
    L = len(sizes) - 1
    extra = sorted(k for k in files if k[0] in "Wb" and k[1:].isdigit() and int(k[1:]) >= L)
    if extra:
        raise ModelFileError(f"{name}: has {len(extra) // 2 + L} weight layers but sizes {sizes} need {L}")
    weights, biases = [], []
    for l in range(L):
        for key, shape in ((f"W{l}", (sizes[l + 1], sizes[l])), (f"b{l}", (sizes[l + 1],))):
            if key not in files:
                raise ModelFileError(f"{name}: missing {key} (sizes {sizes} need {L} weight layers)")
            a = z[key]
            if a.dtype.kind != "f":
                raise ModelFileError(f"{name}: {key} has dtype {a.dtype}, expected floats")
            if a.shape != shape:
                raise ModelFileError(f"{name}: {key} has shape {a.shape}, expected {shape}")
            if not np.isfinite(a).all():
                raise ModelFileError(f"{name}: {key} holds inf or NaN values")
            (weights if key[0] == "W" else biases).append(a.astype(np.float64))
    metadata = {}
    if "metadata" in files:
        try:
            metadata = json.loads(_scalar_str(z, "metadata", name))
        except json.JSONDecodeError:
            raise ModelFileError(f"{name}: metadata is not valid JSON") from None
        if not isinstance(metadata, dict):
            raise ModelFileError(f"{name}: metadata is not a JSON object")
    net = Network(sizes, activation=activation, cost=cost, init=init, seed=0)
    net.set_parameters(weights, biases)
    return (net, metadata) if with_metadata else net
