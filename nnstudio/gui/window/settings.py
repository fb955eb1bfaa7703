"""What the studio remembers between launches (QSettings), read back safely.

Every value is checked against the range its control accepts; a value that is missing, of the
wrong kind or out of range falls back to its default (and :func:`read` records which key was
refused, so the window can say so once).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from nnstudio.gui.qt import QtCore

APP_NAME = "nnstudio"
STATE_VERSION = 1


def make_settings() -> QtCore.QSettings:
    """The app's settings: ``QSettings("nnstudio", "nnstudio")``, or an INI file in
    ``$NNSTUDIO_SETTINGS_DIR`` when that is set (tests, portable installs).  A folder that cannot
    be made is not an error here: :func:`cannot_save` says so."""
    folder = os.environ.get("NNSTUDIO_SETTINGS_DIR")
    if folder:
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        return QtCore.QSettings(str(Path(folder) / "nnstudio.ini"), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings(APP_NAME, APP_NAME)


def cannot_save(s: QtCore.QSettings) -> str | None:
    """None if the settings can be saved where they live; else one line saying why not and what to
    do (a read-only home folder, a settings file that is write-protected, ...)."""
    path = Path(s.fileName())
    if not path.is_absolute():  # (not a file: the registry, on Windows)
        return None
    if s.status() == QtCore.QSettings.Status.AccessError:
        why = "it cannot be written"
    elif path.exists():
        writable = path.is_file() and os.access(path, os.W_OK) and path.stat().st_mode & 0o222
        why = None if writable else "the file is write-protected"
    else:
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        why = None if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK) else f"{folder} is not a writable folder"
    if why is None:
        return None
    return (f"Settings will not be saved to {path}: {why}. Set NNSTUDIO_SETTINGS_DIR to a writable folder "
            "to keep them.")


def read(s: QtCore.QSettings, key: str, default, kind=None, lo=None, hi=None, refused: list | None = None):
    """The setting ``key`` as ``kind`` (the default's type), within [lo, hi]; else ``default``
    (and ``key`` is appended to ``refused`` when a value was there but unusable)."""
    v = s.value(key, None)
    if v is None:
        return default
    kind = kind or type(default)
    try:
        if kind is bool:
            x = v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes")
        elif kind is int:
            f = float(v)
            if not math.isfinite(f) or f != int(f):
                raise ValueError(v)
            x = int(f)
        elif kind is float:
            x = float(v)
            if not math.isfinite(x):
                raise ValueError(v)
        else:
            x = kind(v)
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise ValueError(v)
        return x
    except (TypeError, ValueError, OverflowError):
        if refused is not None:
            refused.append(key)
        return default
