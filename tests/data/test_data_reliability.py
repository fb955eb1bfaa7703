"""Reliability of the data layer (issue 9): only what tests/test_data_*.py do not cover already
(truncated / wrong magic / garbage gz / empty folder / unreadable / count mismatch / mirror
faults are there).  Here: a disk that fills up mid-download, two downloads of the same dataset
at once, a cancel that lands while the connection is stalled (immediate, even with the 30 s
default timeout), and a folder whose "file" is a folder.  See docs/reliability.md.
"""

from __future__ import annotations

import errno
import os
import threading
import time

import pytest

import nnstudio.data.download as download_mod
from helpers_http import LoopbackMirror, make_idx_folder, remote_for
from nnstudio.data import DataError, DownloadCancelled, load_dataset
from nnstudio.data.download import REMOTE_DATASETS, download_dataset


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    src = tmp_path / "served"
    make_idx_folder(src, n_train=150, n_test=30)  # ~118 KB of train images: several 64 KiB chunks
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", remote_for(src))
    with LoopbackMirror(src) as mirror:
        yield mirror


def files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_disk_full_mid_download_is_one_line_and_leaves_nothing(synthetic, tmp_cache, monkeypatch):
    real_fdopen = os.fdopen

    class FillsUp:
        """A file that accepts 64 KiB, then fails like a full disk."""

        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, b):
            self.n += len(b)
            if self.n > 64 * 1024:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.f.write(b)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    monkeypatch.setattr(download_mod.os, "fdopen", lambda fd, mode="r", *a, **k: FillsUp(real_fdopen(fd, mode)))
    with pytest.raises(DataError) as err:
        download_dataset("mnist", mirrors=[synthetic.base("good")])
    msg = str(err.value)
    assert "no space left on device" in msg.lower() and "cannot write train-images-idx3-ubyte" in msg and "\n" not in msg
    assert files(tmp_cache) == []  # no .part, nothing under a final name


def test_two_downloads_of_the_same_dataset_at_once(synthetic, tmp_cache):
    """The studio and `nnstudio download` fetching the same dataset at the same time: both end
    with the complete, verified files and no temporary file is left."""
    results, errors = [], []

    def fetch():
        try:
            results.append(load_dataset("mnist", mirrors=[synthetic.base("good")]))
        except Exception as e:  # pragma: no cover - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and len(results) == 2
    assert all(r.n_train == 150 and r.n_test == 30 for r in results)
    assert files(tmp_cache / "mnist") == sorted(f.name for f in REMOTE_DATASETS["mnist"].files)


def test_cancel_during_a_stalled_connection_is_immediate_even_with_the_default_timeout(synthetic, tmp_cache):
    """Sockets wait in 0.25 s ticks and poll cancel() at each, so Cancel does not wait for the read
    timeout (30 s by default): it ends the download as DownloadCancelled at once, nothing kept."""
    stalled = threading.Event()  # the download has polled cancel() while waiting on the silent server
    pressed = threading.Event()
    polls = []

    def cancel():
        if synthetic.requests:
            polls.append(1)
            if len(polls) >= 2:
                stalled.set()
        return pressed.is_set()

    errors = []

    def run():
        try:
            download_dataset("mnist", mirrors=[synthetic.base("stall")], cancel=cancel)  # timeout: 30 s
        except DataError as e:
            errors.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert stalled.wait(10)
    finally:
        t0 = time.monotonic()
        pressed.set()
        worker.join(10)
    assert time.monotonic() - t0 < 2 and not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], DownloadCancelled)
    assert files(tmp_cache) == []


def test_a_folder_where_a_file_should_be(tmp_path):
    folder = tmp_path / "odd"
    make_idx_folder(folder, gz=False)
    target = folder / "train-labels-idx1-ubyte"
    target.unlink()
    target.mkdir()
    with pytest.raises(DataError) as err:
        load_dataset(folder)
    assert "train-labels" in str(err.value) and "\n" not in str(err.value)
