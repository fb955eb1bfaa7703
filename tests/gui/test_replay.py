"""The replay as an animated GIF, read back: the expected frame count, size, frame rate and step
counter on every frame, each frame the run rebuilt at its step."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nnstudio.core import Network, Trainer
from nnstudio.data import load_dataset
from nnstudio.gui.qt import QtGui
from nnstudio.gui.replay import ReplayRenderer, counter_rect, counter_text, draw_counter, frame_steps, render_replay
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import qcolor
from nnstudio.session.model import InputExample
from nnstudio.training.runfile import RunRecorder, load_run

SEED = 7


@pytest.fixture(scope="module")
def sample():
    return load_dataset("mnist-sample")


@pytest.fixture(scope="module")
def run_file(sample, tmp_path_factory):
    net = Network((784, 16, 16, 10), seed=SEED)
    tr = Trainer(net, sample.train_x, sample.train_labels, learning_rate=1.5, batch_size=10, seed=SEED)
    rec = RunRecorder(tr, "mnist-sample", sample.name, sample.class_names)
    for _ in range(390):  # (inside epoch 1 of the sample's 400 mini-batches)
        rec.record(tr.step())
    path = tmp_path_factory.mktemp("runs") / "class.npz"
    rec.save(path, learning_rate=1.5, batch_size=10, epochs=1)
    return path


def example(ds, i=0):
    return InputExample(pixels=ds.test_x[i] * (1.0 / 255.0), label=int(ds.test_labels[i]), source=f"test #{i}",
                        index=i, split="test")


def counter_image(text: str, size) -> np.ndarray:
    """The counter's rectangle as the renderer draws it, for ``text``."""
    w, h = size
    img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
    img.fill(qcolor(theme.PANEL))
    p = QtGui.QPainter(img)
    draw_counter(p, counter_rect(w, h), text, max(9.0, h * 0.032) * 1.15)
    p.end()
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * h).reshape(h, -1)
    return crop(buf[:, : w * 3].reshape(h, w, 3), size)


def crop(rgb: np.ndarray, size) -> np.ndarray:
    r = counter_rect(*size)
    return rgb[int(r.top()):int(r.bottom()), int(r.left()):int(r.right())].astype(float)


def gif_frames(path) -> tuple[list[np.ndarray], tuple[int, int], dict]:
    """The GIF's frames (RGB arrays), its size and its first frame's info (duration, loop, comment)."""
    with Image.open(path) as im:
        assert im.format == "GIF"
        info, size = dict(im.info), im.size
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("RGB")))
    return frames, size, info


def test_frame_steps_cover_the_range_without_repeats():
    assert frame_steps(0, 100, 5) == [0, 25, 50, 75, 100]
    assert frame_steps(10, 12, 60) == [10, 11, 12]  # (no more frames than steps)
    log = frame_steps(0, 10_000, 20, "log")
    assert log[0] == 0 and log[-1] == 10_000 and len(log) == len(set(log)) and np.diff(log)[0] < np.diff(log)[-1]
    with pytest.raises(ValueError):
        frame_steps(5, 4, 3)


def test_the_exported_gif_has_the_frames_size_rate_and_step_counter(qapp, sample, run_file, tmp_path):
    run = load_run(run_file)
    out = tmp_path / "training.gif"
    size = (640, 360)
    done = []
    replay = render_replay(run, run.replayer(sample.train_x, sample.train_labels), out, first=30, last=390, frames=7,
                           fps=4, size=size, example=example(sample), class_names=sample.class_names,
                           progress=lambda k, n: done.append((k, n)))
    steps = [30, 90, 150, 210, 270, 330, 390]
    assert list(replay.steps) == steps and done[-1] == (7, 7)
    frames, got_size, info = gif_frames(out)
    assert len(frames) == 7 and got_size == size and all(f.shape == (360, 640, 3) for f in frames)
    assert info["duration"] == 250 and info.get("loop") == 0
    assert info["comment"].decode().endswith("steps " + ",".join(map(str, steps)))
    # the step counter of each frame reads its own step: its pixels are nearest the counter drawn
    # for that step among all the frames' counters
    refs = [counter_image(counter_text(s, 390, 1), size) for s in steps]
    for k, frame in enumerate(frames):
        got = crop(frame, size)
        dist = [np.abs(got - ref).mean() for ref in refs]
        assert int(np.argmin(dist)) == k, (k, dist)
        assert dist[k] < 6.0, dist[k]  # (the GIF's palette shifts colours a little)
    # the frames show a network that learns: the diagram differs from frame to frame
    left = [f[:, : int(640 * 0.6)].astype(float) for f in frames]
    assert all(np.abs(a - b).mean() > 0.05 for a, b in zip(left, left[1:]))


def test_a_frame_is_the_run_rebuilt_at_its_step(qapp, sample, run_file):
    """Each frame draws the network rebuilt bit for bit at its step, whichever order they come in."""
    run = load_run(run_file)
    rep = run.replayer(sample.train_x, sample.train_labels)
    r = ReplayRenderer(run, rep, (480, 270), example(sample), sample.class_names)
    a = np.asarray(r.frame(300))
    tr = rep._trainer  # (the network the frame drew: the replayer's, rebuilt at 300)
    assert tr.step_count == 300 and np.array_equal(tr.network.buffer, _fresh(sample, 300))
    r.frame(17)
    again = np.asarray(r.frame(300))
    assert np.array_equal(a, again)


def _fresh(ds, step):
    net = Network((784, 16, 16, 10), seed=SEED)
    tr = Trainer(net, ds.train_x, ds.train_labels, learning_rate=1.5, batch_size=10, seed=SEED)
    for _ in range(step):
        tr.step()
    return net.buffer


def test_bad_replay_options_are_one_line_and_write_nothing(qapp, sample, run_file, tmp_path):
    run = load_run(run_file)
    rep = run.replayer(sample.train_x, sample.train_labels)
    out = tmp_path / "x.gif"
    for kw, words in (({"last": 10_000}, "reaches steps"), ({"frames": 0}, "frames"), ({"fps": 0}, "fps"),
                      ({"size": (20, 20)}, "pixels wide")):
        with pytest.raises(ValueError) as e:
            render_replay(run, rep, out, **kw)
        assert words in str(e.value) and "\n" not in str(e.value)
    assert not list(tmp_path.iterdir())
