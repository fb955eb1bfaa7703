"""`nnstudio --install-desktop` / `--uninstall-desktop`: a freedesktop entry and icon for the current user."""

from __future__ import annotations

import configparser
import os
import shlex
import sys
from pathlib import Path

import pytest

from nnstudio import cli, desktop


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    home = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def read_entry(path: Path) -> dict:
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str
    cp.read_string(path.read_text(encoding="utf-8"))
    return dict(cp["Desktop Entry"])


def test_install_writes_entry_and_icons_then_uninstall_removes_them(xdg, capsys):
    assert cli.main(["--install-desktop"]) == 0
    out = capsys.readouterr().out
    entry = xdg / "applications" / "nnstudio.desktop"
    png = xdg / "icons" / "hicolor" / "256x256" / "apps" / "nnstudio.png"
    svg = xdg / "icons" / "hicolor" / "scalable" / "apps" / "nnstudio.svg"
    for p in (entry, png, svg):
        assert p.is_file() and str(p) in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()
    e = read_entry(entry)
    assert e["Type"] == "Application" and e["Name"] == "nnstudio" and e["Icon"] == "nnstudio"
    assert e["Terminal"] == "false" and e["StartupWMClass"] == "nnstudio"
    assert "Education" in e["Categories"].split(";")
    argv = shlex.split(e["Exec"])
    assert Path(argv[0]).is_absolute() and os.access(argv[0], os.X_OK)
    assert argv == [argv[0]] if Path(argv[0]).name == "nnstudio" else argv[1:] == ["-m", "nnstudio"]
    # nothing half-written is left behind
    assert not [p for p in xdg.rglob(".*") if p.is_file()]
    # installing again just replaces the files
    assert desktop.install()[0] == entry

    assert cli.main(["--uninstall-desktop"]) == 0
    out = capsys.readouterr().out
    assert not entry.exists() and not png.exists() and not svg.exists()
    assert "removed" in out and str(entry) in out
    assert cli.main(["--uninstall-desktop"]) == 0
    assert "nothing was installed" in capsys.readouterr().out


def test_exec_prefers_the_nnstudio_script_and_quotes_paths(xdg, tmp_path, monkeypatch):
    bindir = tmp_path / "my env" / "bin"
    bindir.mkdir(parents=True)
    script = bindir / "nnstudio"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(bindir / "python3"))
    assert desktop.launch_command() == [str(script)]
    e = read_entry(desktop.install()[0])
    assert e["Exec"] == f'"{script}"' and shlex.split(e["Exec"]) == [str(script)]
    # no script anywhere: the interpreter runs the module
    script.unlink()
    monkeypatch.setattr(desktop.shutil, "which", lambda name: None)
    monkeypatch.setattr(sys, "argv", ["pytest"])
    assert desktop.launch_command() == [str(bindir / "python3"), "-m", "nnstudio"]


def test_relative_xdg_data_home_is_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop.data_home() == Path.home() / ".local" / "share"
    assert desktop.desktop_path() == tmp_path / ".local" / "share" / "applications" / "nnstudio.desktop"


def test_the_shipped_icons_exist():
    from nnstudio._resources import resource_path

    from nnstudio.gui.qt import QtGui

    png = resource_path("icons", "nnstudio.png")
    img = QtGui.QImage(str(png))
    assert (img.width(), img.height()) == (256, 256)
    assert resource_path("icons", "nnstudio.svg").read_text().lstrip().startswith("<svg")
