"""Can the studio window open here?  Found out before Qt is asked, because Qt aborts the whole process
(a core dump, no message a user can act on) when its X11 platform plugin cannot load its libraries.

PySide6 6.5 and later need a few X11 helper libraries that some Linux installs lack; :func:`missing_x11_libraries`
tries to load each (a few milliseconds, no child process) and :func:`window_problem` turns what is missing into
one line that names the packages to install (Debian/Ubuntu and Fedora names).  Qt-free.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: (library file, Debian/Ubuntu package, Fedora package) of what Qt's xcb plugin loads
X11_LIBRARIES = (
    ("libxcb-cursor.so.0", "libxcb-cursor0", "xcb-util-cursor"),
    ("libxcb-icccm.so.4", "libxcb-icccm4", "xcb-util-wm"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1", "xcb-util-keysyms"),
    ("libxcb-image.so.0", "libxcb-image0", "xcb-util-image"),
    ("libxcb-render-util.so.0", "libxcb-render-util0", "xcb-util-renderutil"),
    ("libxcb-xkb.so.1", "libxcb-xkb1", "libxcb"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0", "libxkbcommon-x11"),
    ("libxcb-shape.so.0", "libxcb-shape0", "libxcb"),
    ("libxcb-randr.so.0", "libxcb-randr0", "libxcb"),
    ("libxcb-xinerama.so.0", "libxcb-xinerama0", "libxcb"),
)


def uses_x11(environ=None) -> bool:
    """Qt would pick its X11 (xcb) plugin here: Linux/BSD, a DISPLAY, and no other platform asked for."""
    env = os.environ if environ is None else environ
    if not (sys.platform.startswith("linux") or "bsd" in sys.platform):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if chosen:
        return chosen == "xcb"
    return bool(env.get("DISPLAY")) and not env.get("WAYLAND_DISPLAY")


def missing_x11_libraries(load=ctypes.CDLL) -> list[tuple[str, str, str]]:
    """The entries of X11_LIBRARIES that cannot be loaded."""
    missing = []
    for entry in X11_LIBRARIES:
        try:
            load(entry[0])
        except OSError:
            missing.append(entry)
    return missing


def window_problem(environ=None, load=ctypes.CDLL) -> str | None:
    """One line saying why the window cannot open here and what to install, or None."""
    if not uses_x11(environ):
        return None
    missing = missing_x11_libraries(load)
    if not missing:
        return None
    debian = " ".join(dict.fromkeys(m[1] for m in missing))
    fedora = " ".join(dict.fromkeys(m[2] for m in missing))
    return (f"the window needs X11 libraries that are not installed ({', '.join(m[0] for m in missing)}): "
            f"install them with 'sudo apt install {debian}' (Debian, Ubuntu) or 'sudo dnf install {fedora}' (Fedora)")
