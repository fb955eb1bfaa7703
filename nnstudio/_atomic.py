"""Atomic file writes: never a half-written file, never a damaged old one.

Used by the model files (core), the desktop entry, and the plot/history exports.
Plain Python: safe for the Qt-free core to import.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path, suffix: str = ".tmp"):
    """Yield a temporary path in ``path``'s folder; when the block ends without an error the
    temporary file replaces ``path`` in one rename, otherwise it is removed and ``path`` is
    left as it was.  Errors (e.g. a read-only folder, a full disk) propagate as OSError."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
