"""Before Qt is asked for a window: are its X11 libraries there?  (Without them Qt aborts the process.)"""

from __future__ import annotations

from nnstudio import _platform


def test_x11_is_used_only_where_qt_would_pick_it(monkeypatch):
    monkeypatch.setattr(_platform.sys, "platform", "linux")
    assert _platform.uses_x11({"DISPLAY": ":0"})
    assert not _platform.uses_x11({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"})
    assert not _platform.uses_x11({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"})
    assert _platform.uses_x11({"QT_QPA_PLATFORM": "xcb"})
    assert not _platform.uses_x11({})
    monkeypatch.setattr(_platform.sys, "platform", "win32")
    assert not _platform.uses_x11({"DISPLAY": ":0"})


def test_missing_libraries_are_named_with_the_packages_to_install(monkeypatch):
    monkeypatch.setattr(_platform.sys, "platform", "linux")

    def load(name):
        if name in ("libxcb-cursor.so.0", "libxcb-icccm.so.4"):
            raise OSError(f"{name}: cannot open shared object file")

    line = _platform.window_problem({"DISPLAY": ":0"}, load=load)
    assert line is not None and "\n" not in line
    assert "libxcb-cursor.so.0" in line and "sudo apt install libxcb-cursor0 libxcb-icccm4" in line
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in line
    assert _platform.window_problem({"DISPLAY": ":0"}, load=lambda name: None) is None
