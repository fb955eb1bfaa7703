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
    ``$NNSTUDIO_SETTINGS_DIR`` when that is set (tests, portable installs)."""
    folder = os.environ.get("NNSTUDIO_SETTINGS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QtCore.QSettings(str(Path(folder) / "nnstudio.ini"), QtCore.QSettings.Format.IniFormat)
    return QtCore.QSettings(APP_NAME, APP_NAME)


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
