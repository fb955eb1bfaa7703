"""The command line end to end on the embedded sample: exit codes, one-line errors, JSON."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nnstudio import __version__
from nnstudio.cli import main
from nnstudio.core import Network, load_model, save_model

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args, env=None, timeout=120):
    e = dict(os.environ)
    e.pop("PYTHONWARNINGS", None)
    if env:
        e.update(env)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "nnstudio", *args], capture_output=True, text=True, env=e, timeout=timeout, cwd=REPO)


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "m.npz"
    assert main(["train", "--epochs", "4", "--json", "--out", str(out), "--seed", "3"]) == 0
    return out


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"nnstudio {__version__}"


def test_train_json_and_saved_model(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert main(["train", "--epochs", "3", "--json", "--out", str(out), "--batch-size", "20", "--eta", "2"]) == 0
    lines = json_lines(capsys.readouterr().out)
    assert [r["epoch"] for r in lines[:-1]] == [1, 2, 3]
    final = lines[-1]
    assert final["final"] and 0.5 < final["accuracy"] <= 1 and final["model"] == str(out)
    net, meta = load_model(out, with_metadata=True)
    assert net.sizes == (784, 16, 16, 10)
    assert meta["learning_rate"] == 2.0 and meta["batch_size"] == 20 and meta["seed"] == 0
    assert meta["accuracy"] == final["accuracy"] and len(meta["history"]) == 3


def test_train_is_reproducible(capsys):
    main(["train", "--epochs", "2", "--json", "--seed", "7"])
    a = json_lines(capsys.readouterr().out)
    main(["train", "--epochs", "2", "--json", "--seed", "7"])
    b = json_lines(capsys.readouterr().out)
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("seconds", "examples_per_second")} for r in rs]  # noqa: E731
    assert strip(a) == strip(b)


def test_train_other_architectures(capsys):
    assert main(["train", "--epochs", "1", "--json", "--sizes", "784-30-10", "--activation", "relu", "--cost", "cross-entropy"]) == 0
    assert json_lines(capsys.readouterr().out)[-1]["sizes"] == [784, 30, 10]


def test_evaluate_json_matches_direct_computation(trained, capsys):
    from nnstudio.data import load_dataset

    assert main(["evaluate", str(trained), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    ds = load_dataset("mnist-sample")
    net = load_model(trained)
    pred = net.predict(ds.test_x)
    assert rep["accuracy"] == pytest.approx(np.mean(pred == ds.test_labels))
    conf = np.zeros((10, 10), int)
    for t, p in zip(ds.test_labels, pred):
        conf[t, p] += 1
    assert rep["confusion"] == conf.tolist()
    assert rep["per_digit"][3] == pytest.approx(conf[3, 3] / conf[3].sum())


def test_evaluate_text(trained, capsys):
    assert main(["evaluate", str(trained)]) == 0
    out = capsys.readouterr().out
    assert "accuracy" in out and "confusion matrix" in out


def _digit_png(path, digit_image, size=200, dark_on_light=False, offset=(10, 30)):
    from PIL import Image

    big = np.kron(digit_image, np.ones((5, 5), dtype=np.uint8))  # 140x140
    canvas = np.zeros((size, size), dtype=np.uint8)
    canvas[offset[0] : offset[0] + 140, offset[1] : offset[1] + 140] = big
    if dark_on_light:
        canvas = 255 - canvas
    Image.fromarray(canvas).save(path)
    return path


def test_predict_reads_images_of_either_polarity(trained, tmp_path, capsys):
    from nnstudio.data import load_dataset, to_mnist

    ds = load_dataset("mnist-sample")
    net = load_model(trained)
    paths, expected = [], []
    for i in range(6):
        img = ds.test_images[i]
        p = _digit_png(tmp_path / f"d{i}.png", img, dark_on_light=bool(i % 2))
        paths.append(str(p))
        expected.append(int(net.predict(to_mnist(img).reshape(1, -1))[0]))
    assert main(["predict", str(trained), *paths, "--json"]) == 0
    recs = json_lines(capsys.readouterr().out)
    assert [r["path"] for r in recs] == paths
    for r in recs:
        assert len(r["activations"]) == 10 and r["digit"] == int(np.argmax(r["activations"]))
    # the same image in both polarities reads the same
    assert all(0 <= r["digit"] <= 9 for r in recs)
    assert sum(r["digit"] == e for r, e in zip(recs, expected)) >= 5


def test_predict_blank_and_bad_image(trained, tmp_path, capsys):
    from PIL import Image

    Image.fromarray(np.full((50, 50), 255, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    rc = main(["predict", str(trained), str(tmp_path / "blank.png"), str(tmp_path / "bad.png"), "--json"])
    cap = capsys.readouterr()
    assert rc == 1  # the good image is answered, the bad one reported, and the exit code says one failed
    assert json_lines(cap.out)[0]["blank"] is True
    assert "bad.png" in cap.err and "Traceback" not in cap.err
    assert main(["predict", str(trained), str(tmp_path / "bad.png")]) == 1
    assert main(["predict", str(trained), str(tmp_path / "blank.png")]) == 0


@pytest.mark.parametrize(
    "args,needle",
    [
        (["evaluate", "/nonexistent/model.npz"], "model.npz: no such file"),
        (["train", "--data", "/nonexistent-folder"], "nonexistent-folder"),
        (["train", "--data", "no-such-dataset"], "no-such-dataset"),
        (["train", "--sizes", "784,16,9"], "the last 10"),
    ],
)
def test_runtime_errors_are_one_line_exit_1(args, needle):
    r = run_cli(*args)
    assert r.returncode == 1, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("nnstudio: error")]) == 1


def test_bad_model_file_is_refused(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"garbage")
    r = run_cli("evaluate", str(tmp_path / "x.npz"))
    assert r.returncode == 1 and "x.npz" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [["train", "--epochs", "0"], ["train", "--sizes", "abc"], ["train", "--eta", "-1"], ["frobnicate"], ["predict"]])
def test_usage_errors_exit_2(args):
    r = run_cli(*args)
    assert r.returncode == 2 and "usage" in r.stderr and "Traceback" not in r.stderr


def test_divergence_is_reported_not_a_traceback():
    r = run_cli("train", "--epochs", "2", "--activation", "relu", "--eta", "1e300")
    assert r.returncode == 1 and "smaller --learning-rate" in r.stderr and "Traceback" not in r.stderr


def test_headless_commands_do_not_import_qt(trained, tmp_path):
    code = (
        "import sys; from nnstudio.cli import main; "
        f"main(['evaluate', {str(trained)!r}, '--json']); main(['train', '--epochs', '1', '--quiet']); "
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken'))]; "
        "print('QT', bad, file=sys.stderr)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert "QT []" in r.stderr, r.stderr


def test_no_display_still_does_its_main_job():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(REPO)
    r = subprocess.run([sys.executable, "-m", "nnstudio"], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "no display" in r.stderr and "done: test accuracy" in r.stdout


def test_missing_x11_libraries_are_named_and_it_trains_headless(monkeypatch, capsys):
    """Qt's xcb plugin aborts the process (core dump) without libxcb-cursor0 and friends: the
    launcher finds out first, names the packages, and does its main job headless instead."""
    import nnstudio._platform as platform
    import nnstudio.gui.app

    monkeypatch.setattr(platform, "missing_x11_libraries", lambda load=None: list(platform.X11_LIBRARIES[:2]))
    monkeypatch.setenv("DISPLAY", ":7")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)

    def no_window(**kw):
        raise AssertionError("the window was asked for")

    monkeypatch.setattr(nnstudio.gui.app, "run", no_window)
    assert main(["train", "--epochs", "1", "--quiet"]) == 0  # (warm: the sample is cached)
    capsys.readouterr()
    assert main([]) == 0
    out = capsys.readouterr()
    line = [ln for ln in out.err.splitlines() if "X11" in ln]
    assert len(line) == 1 and "sudo apt install libxcb-cursor0 libxcb-icccm4" in line[0]
    assert "sudo dnf install xcb-util-cursor xcb-util-wm" in line[0] and "headless" in line[0]
    assert "done: test accuracy" in out.out


def test_evaluate_downloads_only_the_files_it_reads(trained, tmp_path, tmp_cache, monkeypatch, capsys):
    """`evaluate --data mnist` needs the two test files (1.6 MB), not the training set (9.9 MB)."""
    from helpers_http import LoopbackMirror, make_idx_folder, remote_for

    from nnstudio.data.download import REMOTE_DATASETS

    src = tmp_path / "mirror"
    make_idx_folder(src, n_train=60, n_test=30)
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", remote_for(src))
    with LoopbackMirror(src) as mirror:
        monkeypatch.setenv("NNSTUDIO_MIRRORS", mirror.base("good"))
        assert main(["evaluate", str(trained), "--data", "mnist", "--quiet"]) == 0
        out = capsys.readouterr().out
        assert "test set: accuracy" in out and "of 30)" in out
        fetched = sorted({r.rsplit("/", 1)[-1] for r in mirror.requests})
        assert fetched == ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        assert sorted(p.name for p in (tmp_cache / "mnist").iterdir()) == fetched
        # the training split, when asked for, fetches its files (and no test file again)
        n = len(mirror.requests)
        assert main(["evaluate", str(trained), "--data", "mnist", "--split", "train", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["total"] == 60
        assert sorted({r.rsplit("/", 1)[-1] for r in mirror.requests[n:]}) == [
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_download_through_a_loopback_mirror(shared_mnist_dir, tmp_cache, capsys, monkeypatch):
    from helpers_http import LoopbackMirror

    with LoopbackMirror(shared_mnist_dir) as mirror:
        monkeypatch.setenv("NNSTUDIO_MIRRORS", mirror.base("missing") + "," + mirror.base("good"))
        assert main(["download", "mnist", "--quiet"]) == 0
    assert "mnist: cached" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_cache / "mnist").iterdir()) == sorted(
        ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    )


def test_download_offline_says_what_to_do(tmp_cache, monkeypatch, capsys):
    monkeypatch.setenv("NNSTUDIO_MIRRORS", "http://127.0.0.1:9/")
    assert main(["download", "mnist", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "mnist-sample" in err and "\n" == err[-1] and err.count("\n") == 1


def test_evaluate_shipped_model_name_resolves(monkeypatch, tmp_path):
    import nnstudio.cli as cli

    net = Network(seed=0)
    save_model(net, tmp_path / "ship.npz")
    monkeypatch.setattr(cli, "shipped_model_path", lambda: tmp_path / "ship.npz")
    assert main(["evaluate", "pretrained", "--quiet"]) == 0


# ----------------------------------------------------------------------------------- hostile input
@pytest.mark.parametrize(
    "args,code,needle",
    [
        (["train", "--seed", "-1"], 2, "--seed: expected a number from 0 to 2,147,483,647, got -1"),
        (["train", "--seed", "3000000000"], 2, "--seed: expected a number from 0 to 2,147,483,647"),
        (["train", "--augment", "-1"], 2, "--augment: expected a number >= 0, got -1"),
        (["train", "--sizes", "784,-16,10"], 2, "layer sizes must be positive whole numbers"),
        (["train", "--sizes", "784,99999999999999999999999,10"], 1, "over the limit of 2,048 MB"),
        (["train", "--sizes", "784,10000000,10"], 1, "NNSTUDIO_MAX_NETWORK_MB"),
        (["train", "--augment", "100000"], 1, "NNSTUDIO_MAX_DATA_MB"),
        (["train", "--data", "~nosuchuser-nnstudio/x"], 1, "cannot expand '~'"),
        (["train", "--weight-decay", "1e308"], 1, "--weight-decay 1e+308 is too strong"),
        (["train", "--out", "/nonexistent-nnstudio/m.npz"], 1, "the folder /nonexistent-nnstudio does not exist"),
        (["download", "mnist"], 1, "could not download"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_hostile_input_is_one_short_line(args, code, needle, tmp_path):
    env = {"NNSTUDIO_CACHE_DIR": str(tmp_path), "NNSTUDIO_MIRRORS": "http://127.0.0.1:9/"}
    r = run_cli(*args, env=env)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code and len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert needle in lines[0] and lines[0].startswith("nnstudio")


def test_a_network_too_big_to_train_is_refused_before_it_is_built():
    from helpers_limits import MAX_PEAK_MB, peak

    code, err, mb = peak(["train", "--sizes", "784,100000,10"])
    assert code == 1 and "784-100000-10 network needs about 26.0 GB" in err and mb < MAX_PEAK_MB / 4


def test_the_weight_decay_is_blamed_for_what_it_does():
    r = run_cli("train", "--epochs", "1", "--weight-decay", "100000")  # ηλ/n = 37.5: every step flips the weights
    assert r.returncode == 1 and "--weight-decay" in r.stderr and "learning-rate" not in r.stderr


def test_an_unwritable_out_is_found_before_training(tmp_path):
    (tmp_path / "m.npz").mkdir()
    t0 = time.monotonic()
    r = run_cli("train", "--epochs", "1000", "--out", str(tmp_path / "m.npz"))
    assert r.returncode == 1 and "is a folder" in r.stderr and time.monotonic() - t0 < 20


def test_a_model_trained_at_the_limit_is_read_by_evaluate(tmp_path):
    """One limit for both: what train accepts (with its mini-batch), evaluate loads."""
    out = tmp_path / "m.npz"
    env = {"NNSTUDIO_MAX_NETWORK_MB": "200"}
    assert run_cli("train", "--sizes", "784,1500,10", "--batch-size", "1", "--epochs", "1", "--quiet",
                   "--out", str(out), env=env).returncode == 1  # (over the lowered limit)
    r = run_cli("train", "--sizes", "784,300,10", "--epochs", "1", "--quiet", "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("evaluate", str(out), "--quiet", env=env)
    assert r.returncode == 0, r.stderr


def _descendants(pid):
    out, todo = [], [pid]
    while todo:
        q = todo.pop()
        try:
            kids = [int(k) for k in Path(f"/proc/{q}/task/{q}/children").read_text().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_the_window_closes_on_sigterm_even_with_a_hung_training_process(tmp_path):
    """SIGTERM closes the window as Ctrl+C does; a training process that hangs (SIGSTOP) is killed;
    the app exits 143 and leaves no process behind."""
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen",
               NNSTUDIO_SETTINGS_DIR=str(tmp_path / "settings"))
    p = subprocess.Popen([sys.executable, "-m", "nnstudio", "gui"], env=env, cwd=REPO,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        training = None
        end = time.monotonic() + 60
        while training is None and time.monotonic() < end:
            time.sleep(0.1)
            direct = {int(k) for k in Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()}
            grandchildren = [d for d in _descendants(p.pid) if d not in direct]
            training = grandchildren[0] if grandchildren else None  # (forkserver → training process)
        assert training is not None, "no training process"
        time.sleep(1.0)
        family = _descendants(p.pid)
        os.kill(training, signal.SIGSTOP)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 143 and time.monotonic() - t0 < 30, err
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    time.sleep(0.5)
    alive = [d for d in family if _alive(d)]
    for d in alive:  # (so that a failure leaves nothing behind either)
        os.kill(d, signal.SIGKILL)
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
