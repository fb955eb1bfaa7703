"""Model files: a plain ``.npz`` that never needs pickle.

Keys: ``format`` ("nnstudio-model"), ``format_version``, ``sizes``, ``activation``,
``cost``, ``init``, ``W0..W{L-1}`` and ``b0..b{L-1}`` (float64), and ``metadata``: a
JSON string (hyper-parameters, seed, dataset, accuracy, history, ...).

Loading opens only a regular file (a named pipe would wait forever), never unpickles, and
decides from what is known before reading whether to read at all: each zip entry's declared
size and each ``.npy`` header (dtype and shape) are checked against what the layer sizes imply,
and the layer sizes against :func:`nnstudio.limits.check_network` (the limit ``nnstudio train``
uses), before a byte of the arrays is decompressed.  It then checks the tag, the version, every
shape and dtype, and that every value is finite.  Any problem raises :class:`ModelFileError` with
one line naming the file.  Saving goes through :func:`nnstudio._atomic.atomic_path`: a temporary
file in the same folder renamed over the target (so a failure never leaves a half-written model
and never damages the old one), written through symlinks, refusing anything that is not a regular
file or is write-protected, keeping an existing file's mode.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from nnstudio import limits
from nnstudio._atomic import open_file_of, write_file

from .activations import ACTIVATIONS
from .costs import COSTS
from .network import INITS, Network

FORMAT = "nnstudio-model"
FORMAT_VERSION = 1

#: longest .npy header accepted (NumPy writes ~128 bytes for our arrays)
_MAX_HEADER = 4096
#: largest short string entry (format tag, activation, cost, init) in bytes
_MAX_NAME_BYTES = 1024
#: zip entries a model may hold besides its weights and biases
_MAX_OTHER_ENTRIES = 16


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


def _metadata_json(metadata: dict, name: str) -> str:
    """The metadata as JSON within :data:`~nnstudio.limits.MAX_METADATA_BYTES` (what the loader
    accepts): a history too long to fit keeps its most recent epochs, and says so."""
    try:
        text = json.dumps(metadata, default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"{name}: metadata cannot be saved: {e}") from None
    budget = limits.MAX_METADATA_BYTES // 4 - 1024  # (stored as UTF-32: 4 bytes a character)
    history = metadata.get("history")
    if len(text) > budget and isinstance(history, list) and history:
        lo, hi = 0, len(history)  # keep the longest tail of the history that fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            trial = json.dumps(dict(metadata, history=history[-mid:], history_trimmed=len(history) - mid),
                               default=_json_default, allow_nan=False)
            lo, hi = (mid, hi) if len(trial) <= budget else (lo, mid - 1)
        text = json.dumps(dict(metadata, history=history[-lo:] if lo else [], history_trimmed=len(history) - lo),
                          default=_json_default, allow_nan=False)
    if len(text) > budget:
        raise ModelFileError(f"{name}: metadata cannot be saved: {len(text):,} characters, over the "
                             f"{budget:,} a model file holds")
    return text


def save_model(network: Network, path, **metadata) -> Path:
    """Write ``network`` to ``path`` (.npz) atomically, with free-form JSON metadata."""
    path = Path(path)
    name = path.name
    meta_json = _metadata_json(metadata, name)
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
    return write_file(path, lambda f: np.savez_compressed(f, **arrays), ModelFileError)


def load_model(path, *, with_metadata: bool = False):
    """Read a model file.  Returns the :class:`Network` (and its metadata dict if asked)."""
    path = Path(path)
    name = path.name or str(path)
    f = open_file_of(path, "model file", ModelFileError)
    with f:
        try:
            head = f.read(8)
            f.seek(0)
        except OSError as e:
            raise ModelFileError(f"{name}: cannot be read ({e.strerror or e})") from None
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise ModelFileError(f"{name}: not an nnstudio model (.npz) file ({_what_is(head)})")
        try:
            with zipfile.ZipFile(f) as z:
                return _read(z, name, with_metadata)
        except ModelFileError:
            raise
        except limits.LimitError as e:
            raise ModelFileError(f"{name}: {e}") from None
        except MemoryError:
            raise ModelFileError(f"{name}: too large to load into memory") from None
        except Exception as e:  # noqa: BLE001 - zip/zlib/npy errors of a damaged file (BadZipFile, zlib.error,
            # NotImplementedError for odd zip versions, ...): never let anything but ModelFileError out
            raise ModelFileError(f"{name}: damaged model file ({_short(e)})") from None


def _what_is(head: bytes) -> str:
    """What a file that is not a zip archive seems to be, from its first bytes."""
    if not head:
        return "an empty file"
    if head.startswith(b"\x93NUMPY"):
        return "a single NumPy array (.npy), not a model"
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "a Python pickle, which nnstudio never opens: unpickling can run any code"
    for magic, kind in ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
                        (b"BM", "a BMP image"), (b"\x1f\x8b", "gzip-compressed data"), (b"%PDF", "a PDF document"),
                        (b"\x00\x00\x08", "an IDX data file")):
        if head.startswith(magic):
            return f"it is {kind}"
    return "not a zip archive"


def _short(e: Exception) -> str:
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


class _Entries:
    """The arrays of an open model archive, each read only after its declared sizes are checked."""

    def __init__(self, z: zipfile.ZipFile, name: str):
        self.z, self.name = z, name
        self.infos = {}
        for info in z.infolist():
            key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            self.infos[key] = info
        self.files = set(self.infos)

    def _fail(self, text: str):
        raise ModelFileError(f"{self.name}: {text}")

    def read(self, key: str, kinds: str, max_bytes: int, shape=None) -> np.ndarray:
        """The array ``key``: its dtype's kind one of ``kinds``, its shape ``shape`` (if given), its
        data at most ``max_bytes``; all checked from the zip directory and the .npy header first."""
        info = self.infos[key]
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            self._fail(f"{key} uses an unusual compression (method {info.compress_type}); nnstudio models use deflate")
        if info.file_size > max_bytes + _MAX_HEADER:
            want = f"a {'x'.join(map(str, shape))} array" if shape is not None else "it"
            self._fail(f"{key} declares {info.file_size:,} bytes, far more than {want} needs; refused unread")
        with self.z.open(info) as e:
            version = np.lib.format.read_magic(e)
            if version == (1, 0):
                dims, fortran, dtype = np.lib.format.read_array_header_1_0(e, max_header_size=_MAX_HEADER)
            elif version == (2, 0):
                dims, fortran, dtype = np.lib.format.read_array_header_2_0(e, max_header_size=_MAX_HEADER)
            else:
                self._fail(f"{key} is stored in an unsupported .npy version {version}")
            if dtype.hasobject:
                self._fail(f"{key} holds Python objects (pickled data), which nnstudio never loads")
            odd = dtype.fields is not None or dtype.subdtype is not None or (dtype.kind != "U" and dtype.itemsize > 16)
            if dtype.kind not in kinds or odd:
                expected = {"f": "floats", "iu": "integers", "U": "text"}.get(kinds, kinds)
                self._fail(f"{key} has dtype {dtype}, expected {expected}")
            if shape is not None and tuple(dims) != tuple(shape):
                self._fail(f"{key} has shape {tuple(dims)}, expected {tuple(shape)}")
            count = 1
            for d in dims:
                count *= int(d)
            nbytes = count * dtype.itemsize
            if nbytes > max_bytes:
                self._fail(f"{key} declares {nbytes:,} bytes of data, more than the {max_bytes:,} it may hold")
            if info.file_size != e.tell() + nbytes:
                self._fail(f"{key}: {info.file_size - e.tell():,} bytes stored for {nbytes:,} bytes of data")
            data = e.read(nbytes)
            if len(data) != nbytes or e.read(1):  # (reading to the end checks the CRC)
                self._fail(f"{key} is truncated")
        a = np.frombuffer(data, dtype=dtype, count=count)
        return a.reshape(dims, order="F" if fortran else "C")

    def text(self, key: str, max_bytes: int = _MAX_NAME_BYTES) -> str:
        a = self.read(key, "U", max_bytes)
        if a.shape != ():
            self._fail(f"'{key}' is not a string")
        return str(a[()])


def _read(z, name, with_metadata):
    entries = _Entries(z, name)
    files = entries.files
    if len(files) > 2 * limits.MAX_LAYERS + _MAX_OTHER_ENTRIES:
        raise ModelFileError(f"{name}: holds {len(files):,} arrays; an nnstudio model has at most "
                             f"{2 * limits.MAX_LAYERS + _MAX_OTHER_ENTRIES}")
    if "format" not in files or "format_version" not in files:
        raise ModelFileError(f"{name}: not an nnstudio model (no format tag)")
    tag = entries.text("format")
    if tag != FORMAT:
        raise ModelFileError(f"{name}: not an nnstudio model (format tag {tag[:40]!r})")
    version = entries.read("format_version", "iu", 8)
    if version.shape != ():
        raise ModelFileError(f"{name}: bad format version")
    version = int(version)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{name}: made by a newer nnstudio (model format {version}, this version reads up to "
            f"{FORMAT_VERSION}); please upgrade nnstudio"
        )
    if version < 1:
        raise ModelFileError(f"{name}: bad format version {version}")
    if "sizes" not in files:
        raise ModelFileError(f"{name}: bad layer sizes (missing)")
    sizes = entries.read("sizes", "iu", 8 * (limits.MAX_LAYERS + 1))
    if sizes.ndim != 1 or len(sizes) < 2 or (sizes < 1).any():
        raise ModelFileError(f"{name}: bad layer sizes")
    sizes = tuple(int(s) for s in sizes)
    limits.check_network(sizes, batch_size=1)  # (the limit train uses: every model it wrote loads)
    activation = entries.text("activation")
    if activation not in ACTIVATIONS:
        raise ModelFileError(f"{name}: unknown activation {activation[:40]!r}")
    cost = entries.text("cost")
    if cost not in COSTS:
        raise ModelFileError(f"{name}: unknown cost {cost[:40]!r}")
    init = entries.text("init") if "init" in files else "scaled"
    if init not in INITS:
        init = "scaled"
    L = len(sizes) - 1
    extra = sorted(k for k in files if k[:1] in ("W", "b") and k[1:].isdigit() and int(k[1:]) >= L)
    if extra:
        raise ModelFileError(f"{name}: has {len(extra) // 2 + L} weight layers but sizes {sizes} need {L}")
    weights, biases = [], []
    for l in range(L):
        for key, shape in ((f"W{l}", (sizes[l + 1], sizes[l])), (f"b{l}", (sizes[l + 1],))):
            if key not in files:
                raise ModelFileError(f"{name}: missing {key} (sizes {sizes} need {L} weight layers)")
            a = entries.read(key, "f", 16 * int(np.prod(shape, dtype=object)), shape)
            if not np.isfinite(a).all():
                raise ModelFileError(f"{name}: {key} holds inf or NaN values")
            (weights if key[0] == "W" else biases).append(a.astype(np.float64))
    metadata = {}
    if "metadata" in files:
        try:
            metadata = json.loads(entries.text("metadata", limits.MAX_METADATA_BYTES))
        except json.JSONDecodeError:
            raise ModelFileError(f"{name}: metadata is not valid JSON") from None
        if not isinstance(metadata, dict):
            raise ModelFileError(f"{name}: metadata is not a JSON object")
    net = Network(sizes, activation=activation, cost=cost, init=init, seed=0)
    net.set_parameters(weights, biases)
    return (net, metadata) if with_metadata else net
