"""Model files that lie about their sizes, that are not files, or that are not models; and saving
that never destroys what it does not own (symlinks, devices, write-protected files, modes)."""

from __future__ import annotations

import os
import pickle
import signal
import stat
import subprocess
import sys

import numpy as np
import pytest
from helpers_limits import MAX_PEAK_MB, REPO, bomb_model, on_a_named_pipe, peak

from nnstudio.core import ModelFileError, Network, load_model, save_model


@pytest.fixture
def net():
    return Network((6, 4, 3), seed=1)


@pytest.mark.parametrize("key", ["W0", "format"])
def test_a_model_that_declares_gigabytes_is_refused_unread(tmp_path, key):
    path = bomb_model(tmp_path / f"bomb-{key}.npz", key)
    assert path.stat().st_size < 5_000_000  # a few MB that decompress to 803 MB
    code, err, mb = peak(["evaluate", path])
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"bomb-{key}.npz: {key} declares" in err and "refused unread" in err
    assert mb < MAX_PEAK_MB / 4, mb  # (today: the whole array first, then the shape check)


def test_layer_sizes_over_the_limit_are_refused_before_any_array(tmp_path, net):
    import io
    import zipfile

    with zipfile.ZipFile(tmp_path / "wide.npz", "w") as zf:
        for k, a in {"format": np.array("nnstudio-model"), "format_version": np.array(1),
                     "sizes": np.array([784, 100_000, 10])}.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, a)
            zf.writestr(k + ".npy", buf.getvalue())
    with pytest.raises(ModelFileError, match=r"wide.npz: a 784-100000-10 network needs about .*NNSTUDIO_MAX_NETWORK_MB"):
        load_model(tmp_path / "wide.npz")


def test_every_network_the_limit_lets_train_build_loads(tmp_path, monkeypatch):
    """One limit: a layer wider than the old loader's 100,000 (trainable under a raised limit) loads too."""
    monkeypatch.setenv("NNSTUDIO_MAX_NETWORK_MB", "40000")
    wide = Network((2, 150_000, 2), seed=0)
    back = load_model(save_model(wide, tmp_path / "wide.npz"))
    assert back.sizes == (2, 150_000, 2) and np.array_equal(back.buffer, wide.buffer)


@pytest.mark.parametrize("content,says", [
    (pickle.dumps({"weights": [1, 2, 3]}), "a Python pickle, which nnstudio never opens"),
    (b"\x89PNG\r\n\x1a\n" + bytes(50), "it is a PNG image"),
    (b"\x93NUMPY\x01\x00", "a single NumPy array"),
])
def test_a_pickle_or_an_image_is_named_for_what_it_is(tmp_path, content, says):
    (tmp_path / "m.npz").write_bytes(content)
    with pytest.raises(ModelFileError) as err:
        load_model(tmp_path / "m.npz")
    assert says in str(err.value) and "pickle.load" not in str(err.value) and "allow_pickle" not in str(err.value)


def test_a_named_pipe_is_refused_at_once(tmp_path):
    fifo = tmp_path / "f.npz"
    os.mkfifo(fifo)
    assert on_a_named_pipe(load_model, fifo) == "f.npz: is a named pipe, not a model file"


# ----------------------------------------------------------------------------------------- saving
def test_saving_writes_through_a_symlink(tmp_path, net):
    target = tmp_path / "real.npz"
    save_model(Network((6, 4, 3), seed=0), target)
    (tmp_path / "link.npz").symlink_to(target)
    save_model(net, tmp_path / "link.npz")
    assert (tmp_path / "link.npz").is_symlink()
    assert np.array_equal(load_model(target).buffer, net.buffer)


def test_saving_keeps_the_mode_and_follows_the_umask(tmp_path, net):
    p = tmp_path / "shared.npz"
    save_model(net, p)
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~mask  # (not 0600: a model can be shared)
    p.chmod(0o640)
    save_model(net, p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o640


def test_a_write_protected_file_is_not_overwritten(tmp_path, net):
    p = tmp_path / "keep.npz"
    save_model(Network((6, 4, 3), seed=0), p)
    before = p.read_bytes()
    p.chmod(0o444)
    with pytest.raises(ModelFileError, match="keep.npz: could not save \\(the file is write-protected\\)"):
        save_model(net, p)
    assert p.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["keep.npz"]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_only_a_regular_file_is_replaced(tmp_path, net, kind):
    p = tmp_path / "null"
    if kind == "fifo":
        os.mkfifo(p)
    else:
        try:
            os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
        except (PermissionError, OSError):
            pytest.skip("cannot make a device node here")
    with pytest.raises(ModelFileError, match="could not save \\(not a regular file"):
        save_model(net, p)
    assert not stat.S_ISREG(p.lstat().st_mode) and sorted(os.listdir(tmp_path)) == ["null"]


def test_metadata_too_long_keeps_the_latest_history(tmp_path, net, monkeypatch):
    from nnstudio import limits

    monkeypatch.setattr(limits, "MAX_METADATA_BYTES", 400_000)
    history = [{"epoch": i, "accuracy": 0.5} for i in range(20_000)]
    _, meta = load_model(save_model(net, tmp_path / "m.npz", history=history), with_metadata=True)
    assert meta["history"][-1]["epoch"] == 19_999 and meta["history_trimmed"] == 20_000 - len(meta["history"]) > 0


_SLOW_SAVE = r"""
import sys, time
import numpy as np
import nnstudio.core.modelfile as mf
real = np.savez_compressed
def slow(f, **arrays):
    real(f, **arrays)
    print("writing", flush=True)
    time.sleep(60)
mf.np = type(sys)("np_shim"); mf.np.__dict__.update(np.__dict__); mf.np.savez_compressed = slow
from nnstudio.cli import main
sys.exit(main(["train", "--epochs", "1", "--quiet", "--out", sys.argv[1]]))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_a_save_leaves_no_temporary_file(tmp_path, sig):
    out = tmp_path / "m.npz"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.Popen([sys.executable, "-c", _SLOW_SAVE, str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    assert p.stdout.readline().strip() == "writing"
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]  # (mid-save)
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 128 + sig and "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_a_killed_save_is_swept_by_the_next_one(tmp_path, net):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # (a process that has ended)
    left = tmp_path / f".m.npz.{pid}.abcd1234.tmp"
    left.write_bytes(b"half a model")
    mine = tmp_path / f".m.npz.{os.getpid()}.abcd1234.tmp"  # (a live process's: not touched)
    mine.write_bytes(b"in progress")
    save_model(net, tmp_path / "other.npz")
    assert not left.exists() and mine.exists()
    mine.unlink()
