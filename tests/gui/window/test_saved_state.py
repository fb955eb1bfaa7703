"""What the window remembers and opens, when it is out of range: garbage numbers in the settings
file, a model saved with a seed the window cannot show, a network too big to build typed in the
architecture field, and settings that cannot be saved at all."""

from __future__ import annotations

import pytest
from helpers_gui import type_into

from nnstudio.core import Network, save_model
from nnstudio.gui.qt import QtCore, QtWidgets
from nnstudio.gui.window.mainwindow import make_settings
from nnstudio.limits import check_network

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

GARBAGE = [
    "[net]\nseed=3000000000\n[train]\nbatch_size=99999999999\nepochs=1e12\n",
    "[train]\nbatch_size=1e400\nlearning_rate=1e400\nspeed=-inf\n",
]


@pytest.mark.parametrize("text", GARBAGE)
def test_out_of_range_numbers_fall_back_are_told_once_and_are_rewritten(qtbot, make_window, settings_dir, text):
    settings_dir.mkdir(parents=True, exist_ok=True)
    ini = settings_dir / "nnstudio.ini"
    ini.write_text(text)
    w = make_window(epochs=None)  # (a window opens: the launch got through)
    c = w.controls
    assert c.batch_input.value() == 10 and w.findChild(QtWidgets.QSpinBox, "epochsInput").value() == 30
    assert w.findChild(QtWidgets.QSpinBox, "seedInput").value() == 0
    assert w.session.hyper["batch_size"] == 10 and w.session.architecture["seed"] == 0
    told = [m for m in w.messages if m[1] == "Settings"]
    assert len(told) == 1 and told[0][2].startswith("Some saved settings were unusable") and "batch_size" in told[0][2]
    assert [m for m in w.messages if m[0] == "error"] == []
    w.close()
    st = QtCore.QSettings(str(ini), QtCore.QSettings.Format.IniFormat)
    assert int(st.value("train/batch_size")) == 10 and int(st.value("train/epochs")) == 30
    assert int(st.value("net/seed")) == 0 and float(st.value("train/learning_rate")) == 1.5


def test_a_model_saved_with_a_seed_the_window_cannot_show_opens(qtbot, window, tmp_path):
    w = window
    net = Network((784, 16, 16, 10), seed=4)
    path = save_model(net, tmp_path / "seed3e9.npz", seed=3_000_000_000, learning_rate=2.0)
    assert w.open_model(path, ask=False)
    assert "seed3e9.npz" in w.windowTitle() and [m for m in w.messages if m[0] == "error"] == []
    assert 0 <= w.findChild(QtWidgets.QSpinBox, "seedInput").value() < 2**31


def test_a_network_too_big_to_build_is_refused_in_one_line_and_not_remembered(qtbot, window, settings_dir):
    w = window
    big = "784-" + "-".join(["4096"] * 11) + "-10"  # 61 characters, each layer within the field's 4096
    sizes = w.findChild(QtWidgets.QLineEdit, "layerSizesInput")
    type_into(qtbot, sizes, big)
    qtbot.wait(20)
    note = w.statusBar().message()  # (in full: the bar shows what fits, the rest in its tooltip)
    with pytest.raises(ValueError) as cli:
        check_network([int(n) for n in big.split("-")], 10)
    assert note == str(cli.value) and "NNSTUDIO_MAX_NETWORK_MB" in note  # the CLI's very words
    assert sizes.property("invalid") is True
    assert w.latest_snapshot.network.sizes == (784, 16, 16, 10) and w.session.architecture["sizes"] == (784, 16, 16, 10)
    w.close()
    st = make_settings()
    assert st.value("net/sizes") == "784-16-16-10"


def test_settings_that_cannot_be_saved_are_said_at_launch(qtbot, make_window, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NNSTUDIO_SETTINGS_DIR", str(blocker / "settings"))  # (unwritable, even for root)
    w = make_window(full_speed=False)
    told = [m for m in w.messages if m[1] == "Settings"]
    assert len(told) == 1 and "Settings will not be saved" in told[0][2] and "NNSTUDIO_SETTINGS_DIR" in told[0][2]
