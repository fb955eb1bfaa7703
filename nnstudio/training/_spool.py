"""The training history's files on disk: the spool of rows, the pyramid's levels, and what a CSV
export reports (see :mod:`nnstudio.training.history`, which holds everything in memory).

The spool and each level of the pyramid are anonymous temporary files (unbuffered): items are
appended with :func:`_write` and read back by index with :func:`_read`; their total size is
capped by :func:`default_max_spool_bytes`.  Qt-free.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnstudio.training._units import _EMPTY_UNITS, _UNIT_BYTES

#: the default cap on the history's temporary files, in MB (2**20 bytes), when
#: ``NNSTUDIO_HISTORY_MAX_MB`` is not set (or is not a number >= 0)
DEFAULT_MAX_MB = 4096.0
MAX_MB_ENV = "NNSTUDIO_HISTORY_MAX_MB"


def default_max_spool_bytes() -> float:
    """``NNSTUDIO_HISTORY_MAX_MB`` (a number of MB >= 0, ``inf`` for no cap) in bytes, else
    :data:`DEFAULT_MAX_MB` MB."""
    text = os.environ.get(MAX_MB_ENV, "").strip()
    try:
        mb = float(text) if text else DEFAULT_MAX_MB
    except ValueError:
        mb = DEFAULT_MAX_MB
    if not mb >= 0:  # negative or NaN
        mb = DEFAULT_MAX_MB
    return mb * 2**20


def _megabytes(nbytes: float) -> str:
    mb = nbytes / 2**20
    if math.isinf(mb):
        return "unlimited"
    return f"{mb:,.0f} MB" if mb >= 10 else f"{mb:.3g} MB"


def _temp_dir() -> str:
    try:
        return tempfile.gettempdir()
    except OSError:
        return "the temporary folder"


@dataclass(frozen=True)
class CsvExport:
    """What :meth:`TrainingHistory.to_csv` wrote (also kept as :attr:`TrainingHistory.last_export`).

    ``rows`` mini-batch rows are in the file out of the ``total`` recorded; when some are not
    (the spool stopped, see :attr:`TrainingHistory.spool_error`), ``missing_rows`` is the row
    range [r0, r1) left out, ``missing_steps`` the steps of its first and last row, and ``note``
    a one-line sentence for the user.  The file itself is plain CSV: the rows before the gap,
    then the rows after it (its ``step`` column jumps there)."""

    path: Path
    rows: int
    total: int
    missing_rows: tuple[int, int] | None = None
    missing_steps: tuple[int, int] | None = None
    note: str | None = None

    @property
    def complete(self) -> bool:
        return self.missing_rows is None


class _ReadFailed(Exception):
    """A read of the history's own files failed during an export (not the export's file)."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


def _close_files(files: list) -> None:
    while files:
        files.pop().close()


class _Level:
    """One level of the on-disk pyramid: records of ``F**k`` mini-batches each."""

    __slots__ = ("file", "count", "tail")

    def __init__(self, file):
        self.file = file
        self.count = 0  # complete records written
        self.tail = _EMPTY_UNITS  # units of the level below not yet making a whole record


def _new_file():
    """A new anonymous temporary file for the history (deleted when closed)."""
    return tempfile.TemporaryFile(prefix="nnstudio-history-", buffering=0)


def _write(f, arr: np.ndarray) -> None:
    f.seek(0, 2)
    view = memoryview(np.ascontiguousarray(arr).view(np.uint8).reshape(-1))
    while len(view):
        view = view[f.write(view):]


def _read(f, dtype, i0: int, i1: int) -> np.ndarray:
    """Items [i0, i1) of a spool of ``dtype`` items (None: summary units, 6 float64 each)."""
    unit = _UNIT_BYTES if dtype is None else dtype.itemsize
    k = max(0, i1 - i0)
    out = np.empty((k, 6)) if dtype is None else np.empty(k, dtype)
    if k:
        f.seek(i0 * unit)
        buf = memoryview(out.view(np.uint8).reshape(-1))
        got = 0
        while got < len(buf):
            r = f.readinto(buf[got:])
            if not r:
                raise OSError("the training history's temporary file is shorter than expected")
            got += r
    return out
