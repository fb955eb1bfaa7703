"""Add nnstudio to (or remove it from) the current user's desktop application menu.

Writes a freedesktop ``.desktop`` entry to ``$XDG_DATA_HOME/applications/nnstudio.desktop``
and the icon to ``$XDG_DATA_HOME/icons/hicolor/256x256/apps/nnstudio.png`` (plus the SVG
under ``scalable/apps``); ``$XDG_DATA_HOME`` defaults to ``~/.local/share``.  No Qt needed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from nnstudio._atomic import atomic_path

APP_ID = "nnstudio"


def data_home() -> Path:
    env = os.environ.get("XDG_DATA_HOME", "").strip()
    if env and Path(env).is_absolute():
        return Path(env)
    return Path.home() / ".local" / "share"


def desktop_path() -> Path:
    return data_home() / "applications" / f"{APP_ID}.desktop"


def icon_paths() -> dict[str, Path]:
    base = data_home() / "icons" / "hicolor"
    return {"png": base / "256x256" / "apps" / f"{APP_ID}.png", "svg": base / "scalable" / "apps" / f"{APP_ID}.svg"}


def _quote_arg(arg: str) -> str:
    """Quote one Exec argument as the Desktop Entry spec asks."""
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`%='):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`").replace("$", "\\$")
    return f'"{escaped}"'.replace("%", "%%")


def launch_command() -> list[str]:
    """The absolute command that starts nnstudio: the installed ``nnstudio`` script next to
    this Python (or on PATH), else ``python -m nnstudio``."""
    exe = Path(sys.executable).resolve() if sys.executable else None
    candidates = []
    if sys.argv and Path(sys.argv[0]).name == APP_ID:
        candidates.append(Path(sys.argv[0]))
    if exe is not None:
        candidates.append(Path(sys.executable).parent / APP_ID)
    found = shutil.which(APP_ID)
    if found:
        candidates.append(Path(found))
    for c in candidates:
        try:
            if c.is_file() and os.access(c, os.X_OK):
                return [str(c.absolute())]
        except OSError:
            continue
    return [str(Path(sys.executable).absolute()), "-m", APP_ID]


def desktop_entry(command: list[str] | None = None) -> str:
    cmd = " ".join(_quote_arg(a) for a in (command or launch_command()))
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.5\n"
        "Name=nnstudio\n"
        "GenericName=Neural network studio\n"
        "Comment=Watch a neural network learn to read handwritten digits\n"
        f"Exec={cmd}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "Categories=Education;Science;ArtificialIntelligence;\n"
        "Keywords=neural;network;mnist;machine learning;3blue1brown;backpropagation;\n"
        f"StartupWMClass={APP_ID}\n"
        "StartupNotify=true\n"
    )


def _write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
        os.chmod(tmp, mode)


def install() -> list[Path]:
    """Write the .desktop entry and the icons for the current user; returns the paths written."""
    from nnstudio._resources import resource_path

    written = []
    icons = icon_paths()
    for ext, target in icons.items():
        src = resource_path("icons", f"{APP_ID}.{ext}")
        if src.is_file():
            _write_atomic(target, src.read_bytes())
            written.append(target)
    entry = desktop_path()
    _write_atomic(entry, desktop_entry().encode("utf-8"), 0o755)
    written.insert(0, entry)
    return written


def uninstall() -> list[Path]:
    """Remove what :func:`install` wrote; returns the paths removed (empty if none were there)."""
    removed = []
    for p in [desktop_path(), *icon_paths().values()]:
        try:
            p.unlink()
        except FileNotFoundError:
            continue
        removed.append(p)
    return removed
