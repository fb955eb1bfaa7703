"""'nnstudio train --save-run' then 'nnstudio replay RUN --out training.gif' with no display at all
(no DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM): a teacher prepares the run and the GIF on a
server.  Bad runs and bad options: one line, exit 1 or 2, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from nnstudio.training.runfile import load_run

REPO = Path(__file__).resolve().parents[1]


def headless(*args, timeout=240):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM",
                                                             "PYTHONWARNINGS")}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=REPO)


def test_train_save_run_then_replay_with_no_display(tmp_path):
    run = tmp_path / "lesson.npz"
    r = headless("train", "--data", "mnist-sample", "--epochs", "1", "--batch-size", "10", "--seed", "3",
                 "--save-run", str(run), "--quiet")
    assert r.returncode == 0, r.stderr
    loaded = load_run(run)
    assert loaded.last_step == 400 and loaded.history.n == 400 and len(loaded.store) >= 1
    gif = tmp_path / "training.gif"
    r = headless("replay", str(run), "--out", str(gif), "--frames", "5", "--fps", "5", "--size", "480x270",
                 "--from", "100")
    assert r.returncode == 0, r.stderr
    assert "5 frames of 480x270 at 5 fps, steps 100 to 400" in r.stdout
    with Image.open(gif) as im:
        assert im.format == "GIF" and im.size == (480, 270) and im.n_frames == 5
        assert im.info["duration"] == 200
        assert im.info["comment"].decode().endswith("steps 100,175,250,325,400")
        im.seek(4)
        last = np.asarray(im.convert("RGB"))
    assert last.std() > 10  # (a picture, not a blank frame)
    assert [p.name for p in tmp_path.iterdir()] and not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_replay_refuses_bad_runs_and_options_in_one_line(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 but not really a zip")
    out = tmp_path / "x.gif"
    r = headless("replay", str(bad), "--out", str(out))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "bad.npz" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    r = headless("replay", str(bad), "--out", str(out), "--size", "huge")
    assert r.returncode == 2 and "800x450" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
