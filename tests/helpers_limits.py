"""Hostile files that declare far more than they hold, and a way to measure what a command takes.

* :func:`peak` runs a command in a fresh wrapper process and returns its exit code, its stderr and
  the peak resident memory (MB) of the command alone (``RUSAGE_CHILDREN`` of the wrapper), with an
  address-space cap so that code which trusts a declared size fails fast instead of eating the
  machine.
* :func:`bomb_model`, :func:`bomb_idx_folder`, :func:`wide_png`: small files (a few MB at most) that
  declare :data:`BOMB` bytes (803 MB, more than the 700 MB the checks allow) of zeros, really there
  once decompressed, so code that reads before checking really pays for it.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: what the bombs declare: 803 MB, a multiple of 128 (float64 rows of 16), 4 (UTF-32) and 784 (images)
BOMB = 6272 * 128_000
#: the most any hostile case may take
MAX_PEAK_MB = 700

_WRAPPER = r"""
import resource, subprocess, sys
cap = int(sys.argv[1]) << 20
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
r = subprocess.run(sys.argv[2:], preexec_fn=limit, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
sys.stderr.write(r.stderr)
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def peak(args, *, env=None, timeout=120, cap_mb=3000):
    """``(exit code, stderr, peak MB)`` of ``python -m nnstudio *args`` (or of ``args`` if it
    starts with an executable path)."""
    e = dict(os.environ)
    e.pop("PYTHONWARNINGS", None)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(env or {})
    cmd = list(args) if str(args[0]).startswith("/") else [sys.executable, "-m", "nnstudio", *map(str, args)]
    r = subprocess.run([sys.executable, "-c", _WRAPPER, str(cap_mb), *map(str, cmd)], capture_output=True, text=True,
                       env=e, timeout=timeout, cwd=REPO)
    code, mb = r.stdout.split()
    return int(code), r.stderr, float(mb)


def _npy_header(descr: str, shape: tuple) -> bytes:
    d = "{'descr': %r, 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    h = d.encode("latin1")
    h += b" " * (64 - (10 + len(h) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h


def _zeros(f, n: int) -> None:
    block = bytes(1 << 20)
    while n:
        k = min(n, len(block))
        f.write(block[:k])
        n -= k


def bomb_model(path: Path, key: str) -> Path:
    """A valid 784-16-10 model file, except that ``key`` ("W0" or "format") declares :data:`BOMB`
    bytes (a (16, 6,272,000) array of float64, or a string of 200 million characters)."""
    from nnstudio.core import Network

    net = Network((784, 16, 10), seed=0)
    arrays = {"format": np.array("nnstudio-model"), "format_version": np.array(1), "sizes": np.array(net.sizes),
              "activation": np.array("sigmoid"), "cost": np.array("quadratic"), "init": np.array("scaled"),
              "metadata": np.array("{}")}
    for l, (w, b) in enumerate(zip(net.weights, net.biases)):
        arrays[f"W{l}"], arrays[f"b{l}"] = np.ascontiguousarray(w), b.copy()
    declared = {"W0": ("<f8", (16, BOMB // 128)), "format": ("<U1", (BOMB // 4,))}[key]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for k, a in arrays.items():
            if k == key:
                info = zipfile.ZipInfo(k + ".npy", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with zf.open(info, "w", force_zip64=True) as f:
                    f.write(_npy_header(*declared))
                    _zeros(f, BOMB)
            else:
                buf = io.BytesIO()
                np.lib.format.write_array(buf, a)
                zf.writestr(k + ".npy", buf.getvalue())
    return path


def bomb_idx_folder(folder: Path) -> Path:
    """Four IDX files: a train-images .gz declaring (and holding) 1,024,000 blank images (803 MB)
    beside 100 labels."""
    from nnstudio.data import write_idx

    folder.mkdir(parents=True, exist_ok=True)
    n = BOMB // 784
    with open(folder / "train-images-idx3-ubyte.gz", "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
        gz.write(bytes([0, 0, 8, 3]) + struct.pack(">III", n, 28, 28))
        _zeros(gz, BOMB)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(100, np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((10, 28, 28), np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(10, np.uint8))
    return folder


def wide_png(path: Path, width: int, height: int = 3) -> Path:
    """A PNG of ``width`` × ``height`` (white, a black first row): tiny on disk, huge in pixels."""
    from PIL import Image

    im = Image.new("L", (width, height), 255)
    im.paste(0, (0, 0, width, 1))
    im.save(path, optimize=True)
    return path


def on_a_named_pipe(fn, fifo: Path, seconds: float = 5.0) -> str:
    """``fn(fifo)``'s exception message, run in a thread; if it waits on the pipe (for a writer that
    never comes) the test fails, after a writer is given so that nothing is left hanging."""
    import threading

    import pytest

    result = []

    def run():
        try:
            fn(fifo)
            result.append("")
        except Exception as e:  # noqa: BLE001 - the message is what the test looks at
            result.append(str(e))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # (the reader waits for this)
        os.close(fd)
        t.join(seconds)
        pytest.fail(f"opening the named pipe {fifo.name} waited for a writer")
    return result[0]
