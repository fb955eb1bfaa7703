"""Strict reader (and a small writer) for the IDX format of MNIST and Fashion-MNIST.

Format (all integers big-endian)::

    byte 0, 1   zero
    byte 2      element type code; only 0x08 (unsigned byte) is accepted here
    byte 3      number of dimensions (1..4 accepted here)
    4 bytes     size of dimension 0, then of dimension 1, ...
    ...         the data, row-major, exactly prod(dims) bytes

A file is gzip-compressed if it starts with the gzip magic bytes ``1f 8b`` (whatever its name); otherwise it
is read raw. The header is read first (:func:`read_idx_header` reads nothing else), so a caller can check it
against the file's role and its partner's count before any data is read; the data is then read straight into
its array, and must fit :func:`nnstudio.limits.check_data`. Anything that is not exactly one well-formed IDX array (wrong magic, unsupported type, truncated
data, trailing bytes, broken gzip stream, unreadable file) raises :class:`~nnstudio.data.DataError` with a
one-line message naming the file.
"""

from __future__ import annotations

import gzip
import os
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnstudio import limits
from nnstudio._atomic import NotARegularFile, open_regular

from .errors import DataError

__all__ = ["IdxHeader", "read_idx", "read_idx_header", "write_idx"]

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08
_MAX_NDIM = 4
_CHUNK = 1 << 20

_TYPE_NAMES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}


def _describe(dims: tuple[int, ...]) -> str:
    """'60000 images of 28x28' style description used in truncation messages."""
    n = int(np.prod(dims, dtype=object))
    if len(dims) == 1:
        return f"{dims[0]} items"
    if len(dims) == 3:
        return f"{dims[0]} images of {dims[1]}x{dims[2]}"
    return f"an array of shape {'x'.join(map(str, dims))}" if n else "an empty array"


@dataclass(frozen=True)
class IdxHeader:
    """What an IDX file's header says, read before any of its data: the dimensions (the first is
    the count of items) and whether the file is gzip-compressed."""

    name: str
    dims: tuple[int, ...]
    compressed: bool

    @property
    def nbytes(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n

    def describe(self) -> str:
        return _describe(self.dims)


@contextmanager
def _opened(path: str | os.PathLike[str]):
    """``(stream, name, compressed, file size or None)`` for an IDX file, raw or gzip; every failure
    becomes a one-line :class:`DataError` naming the file.  Only regular files are opened (a named
    pipe would wait forever)."""
    p = Path(path)
    name = p.name or str(p)
    try:
        with open_regular(p) as raw:
            head = raw.read(2)
            raw.seek(0)
            if head == _GZIP_MAGIC:
                with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                    yield gz, name, True, None
            else:
                yield raw, name, False, os.fstat(raw.fileno()).st_size
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{p}: is a folder, not an IDX file") from None
    except NotARegularFile as exc:
        raise DataError(f"{p}: is {exc.kind}, not an IDX file") from None
    except PermissionError:
        raise DataError(f"{p}: permission denied (cannot read the file)") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{name}: corrupt gzip data ({_short(exc)})") from None
    except OSError as exc:
        # Any other OS-level failure (I/O error, gzip CRC/length mismatch reported as OSError, ...).
        raise DataError(f"{name}: cannot read ({_short(exc)})") from None
    except MemoryError:
        raise DataError(f"{name}: too large to load into memory") from None
    except ValueError as exc:  # e.g. a path with a NUL byte
        raise DataError(f"{name}: cannot open ({_short(exc)})") from None


def read_idx_header(path: str | os.PathLike[str]) -> IdxHeader:
    """Read only the header of an IDX file (for a gzip file, only its first few bytes are
    decompressed): its dimensions, checked as :func:`read_idx` checks them.  Raises DataError."""
    with _opened(path) as (stream, name, compressed, file_size):
        return IdxHeader(name, _parse_header(stream, name, file_size), compressed)


def read_idx(path: str | os.PathLike[str], *, dims: tuple[int, ...] | None = None) -> np.ndarray:
    """Read one IDX file (raw or gzip-compressed) and return a uint8 array shaped as its header says.

    ``dims``: what the header must say (the caller checked it against the file's partners); the data
    is read only if it does.  The data must fit :func:`nnstudio.limits.check_data`.  Raises
    :class:`DataError` (one line, naming the file) for any problem.  The returned array is read-only.
    """
    with _opened(path) as (stream, name, compressed, file_size):
        found = _parse_header(stream, name, file_size)
        if dims is not None and tuple(found) != tuple(dims):
            raise DataError(f"{name}: the header says {_describe(found)}, expected {_describe(tuple(dims))}")
        try:
            limits.check_data(IdxHeader(name, found, compressed).nbytes, f"{name} ({_describe(found)})")
        except limits.LimitError as exc:
            raise DataError(str(exc)) from None
        arr = _read_data(stream, name, found, compressed)
    arr.flags.writeable = False
    return arr


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def _read_exact(stream, n: int) -> bytes:
    """Read up to ``n`` bytes in bounded chunks (never pre-allocates ``n`` bytes from an untrusted header)."""
    parts: list[bytes] = []
    remaining = n
    while remaining > 0:
        chunk = stream.read(min(remaining, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _parse_header(stream, name: str, file_size: int | None) -> tuple[int, ...]:
    """The dimensions from the header at the start of ``stream``; for a raw file (``file_size``
    known) the size is checked against them before anything else is read."""
    magic = _read_exact(stream, 4)
    if len(magic) < 4:
        if not magic:
            raise DataError(f"{name}: empty file (not an IDX file)")
        raise DataError(f"{name}: truncated: only {len(magic)} bytes, shorter than an IDX header")
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(
            f"{name}: not an IDX file (magic bytes {magic.hex(' ')}; expected 00 00 08 <ndim>)"
        )
    code, ndim = magic[2], magic[3]
    if code != _UBYTE:
        if code in _TYPE_NAMES:
            raise DataError(
                f"{name}: unsupported element type 0x{code:02X} ({_TYPE_NAMES[code]}); "
                "only unsigned bytes (0x08) are supported"
            )
        raise DataError(f"{name}: not an IDX file (invalid element type code 0x{code:02X})")
    if not 1 <= ndim <= _MAX_NDIM:
        raise DataError(f"{name}: unsupported number of dimensions {ndim} (expected 1 to {_MAX_NDIM})")
    dim_bytes = _read_exact(stream, 4 * ndim)
    if len(dim_bytes) < 4 * ndim:
        raise DataError(f"{name}: truncated header: {ndim} dimensions announced but the header ends early")
    dims = tuple(int.from_bytes(dim_bytes[4 * i : 4 * i + 4], "big") for i in range(ndim))
    if file_size is not None:
        # Raw file: check the size before reading anything big.
        expected = IdxHeader(name, dims, False).nbytes
        what = _describe(dims)
        have = file_size - (4 + 4 * ndim)
        if have < expected:
            raise DataError(
                f"{name}: truncated: header says {what} ({expected} bytes) but only {have} bytes follow"
            )
        if have > expected:
            raise DataError(
                f"{name}: {have - expected} unexpected trailing bytes after {what} ({expected} bytes)"
            )
    return dims


def _read_data(stream, name: str, dims: tuple[int, ...], compressed: bool) -> np.ndarray:
    """The data after the header, read straight into its array (never twice its size in memory)."""
    expected = IdxHeader(name, dims, compressed).nbytes
    what = _describe(dims)
    out = np.empty(expected, dtype=np.uint8)
    view = memoryview(out)
    got = 0
    while got < expected:
        n = stream.readinto(view[got : got + _CHUNK])
        if not n:
            break
        got += n
    view.release()
    if got < expected:
        kind = "decompressed data" if compressed else "bytes"
        raise DataError(
            f"{name}: truncated: header says {what} ({expected} bytes) but only {got} {kind} follow"
        )
    extra = stream.read(1)  # for gzip this also reaches the end of the stream and checks CRC and length
    if extra:
        rest = 1 + len(_read_exact(stream, _CHUNK))
        count = f"at least {rest}" if rest > _CHUNK else str(rest)
        raise DataError(f"{name}: {count} unexpected trailing bytes after {what} ({expected} bytes)")
    return out.reshape(dims)


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write a uint8 array (1 to 4 dimensions) as IDX; gzip-compressed if the file name ends in ``.gz``.

    The gzip header carries no timestamp, so the output is reproducible. Returns the path.
    """
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        raise ValueError(f"write_idx needs a uint8 array, got {arr.dtype}")
    if not 1 <= arr.ndim <= _MAX_NDIM:
        raise ValueError(f"write_idx needs 1 to {_MAX_NDIM} dimensions, got {arr.ndim}")
    header = bytes([0, 0, _UBYTE, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    payload = header + np.ascontiguousarray(arr).tobytes()
    p = Path(path)
    if p.name.endswith(".gz"):
        with open(p, "wb") as f, gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
            gz.write(payload)
    else:
        p.write_bytes(payload)
    return p
