"""Downloads through a loopback HTTP mirror: success, fallback, corruption, truncation, stalls, cancel
(also cancel at once while connecting, waiting for headers, or on a stalled or trickling body).

There is no network here except loopback. Tests with the real MNIST files serve ../shared/datasets/mnist;
the fault tests use small synthetic IDX files (their MD5s monkeypatched into the registry), so they run
everywhere and fast.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
import time
import warnings

import numpy as np
import pytest
from helpers_http import LoopbackMirror, hanging_port, make_idx_folder, remote_for

from nnstudio.data import (
    DataError,
    DataUnavailable,
    DownloadCancelled,
    dataset_status,
    download_dataset,
    load_dataset,
)
from nnstudio.data.download import REMOTE_DATASETS

MNIST_FILES = [f.name for f in REMOTE_DATASETS["mnist"].files]


def leftovers(folder):
    """Everything in the cache folder, recursively (there must be no partial file anywhere)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def synthetic(tmp_path, monkeypatch):
    """Small synthetic 'mnist' files served by a loopback mirror; the registry knows their MD5s."""
    src = tmp_path / "served"
    make_idx_folder(src, n_train=150, n_test=30)  # train images ~ 118 KB: several 64 KiB chunks
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", remote_for(src))
    with LoopbackMirror(src) as mirror:
        yield mirror


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


# ---------------------------------------------------------------------------------------- real MNIST


def test_real_download_and_load(shared_mnist_dir, tmp_cache):
    calls = []
    with LoopbackMirror(shared_mnist_dir) as mirror:
        folder = download_dataset(
            "mnist", mirrors=[mirror.base("good")], progress=lambda d, t, n: calls.append((d, t, n))
        )
        assert folder == tmp_cache / "mnist"
        assert leftovers(folder) == sorted(MNIST_FILES)
        for name in MNIST_FILES:
            assert (folder / name).read_bytes() == (shared_mnist_dir / name).read_bytes()
        finals = {n: (d, t) for d, t, n in calls}
        assert finals["train-images-idx3-ubyte.gz"] == (9_912_422, 9_912_422)
        assert dataset_status("mnist") == "cached"
        n_requests = len(mirror.requests)
        download_dataset("mnist", mirrors=[mirror.base("good")])  # present with right MD5: nothing fetched
        assert len(mirror.requests) == n_requests
    ds = load_dataset("mnist", download=False)
    assert (ds.n_train, ds.n_test) == (60000, 10000)
    assert ds.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert ds.class_names == tuple("0123456789")


def test_real_first_mirror_404_second_good(shared_mnist_dir, tmp_cache):
    with LoopbackMirror(shared_mnist_dir) as mirror:
        ds = load_dataset("mnist", mirrors=[mirror.base("missing"), mirror.base("good")])
        assert [r.split("/")[1] for r in mirror.requests] == ["missing", "good"] * 4
    assert ds.n_train == 60000 and ds.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)


# ------------------------------------------------------------------------------------ synthetic faults


def test_synthetic_download_via_load_dataset(synthetic, tmp_cache):
    ds = load_dataset("mnist", mirrors=synthetic.base("good"))
    assert (ds.n_train, ds.n_test) == (150, 30)
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)


def test_mirrors_from_environment(synthetic, tmp_cache, monkeypatch):
    monkeypatch.setenv("NNSTUDIO_MIRRORS", f"{closed_port_url()} , {synthetic.base('good')}")
    download_dataset("mnist")
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)


def test_no_content_length(synthetic, tmp_cache):
    seen = []
    download_dataset("mnist", mirrors=[synthetic.base("nolength")], progress=lambda d, t, n: seen.append(t))
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)
    assert all(t > 0 for t in seen)  # the known size stands in for the missing header


def test_corrupted_mirror_rejected(synthetic, tmp_cache):
    with pytest.raises(DataUnavailable) as err:
        download_dataset("mnist", mirrors=[synthetic.base("corrupt")])
    msg = str(err.value)
    assert "\n" not in msg and "checksum mismatch" in msg and "train-images-idx3-ubyte.gz" in msg
    assert "mnist-sample" in msg and "folder" in msg and "nnstudio download mnist" in msg
    assert leftovers(tmp_cache) == []


def test_corrupted_then_good(synthetic, tmp_cache):
    download_dataset("mnist", mirrors=[synthetic.base("corrupt"), synthetic.base("good")])
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)
    assert load_dataset("mnist", download=False).n_train == 150


def test_connection_closed_mid_file(synthetic, tmp_cache):
    with pytest.raises(DataUnavailable, match="connection closed after"):
        download_dataset("mnist", mirrors=[synthetic.base("truncate")])
    assert leftovers(tmp_cache) == []
    download_dataset("mnist", mirrors=[synthetic.base("truncate"), synthetic.base("good")])
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)


def test_stalling_server(synthetic, tmp_cache):
    t0 = time.monotonic()
    with pytest.raises(DataUnavailable, match=r"no data for 0.5 s \(timed out\)"):
        download_dataset("mnist", mirrors=[synthetic.base("stall")], timeout=0.5)
    assert time.monotonic() - t0 < 5
    assert leftovers(tmp_cache) == []
    download_dataset("mnist", mirrors=[synthetic.base("stall"), synthetic.base("good")], timeout=0.5)
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)


def test_connection_refused(synthetic, tmp_cache):
    bad = closed_port_url()
    with pytest.raises(DataUnavailable) as err:
        download_dataset("mnist", mirrors=[bad, synthetic.base("missing")])
    msg = str(err.value)
    assert "connection refused" in msg.lower() and "HTTP 404" in msg and bad in msg
    assert leftovers(tmp_cache) == []


def test_cancel_mid_download(synthetic, tmp_cache):
    state = {"chunks": 0}

    def progress(done, total, name):
        if done > 0:
            state["chunks"] += 1

    with pytest.raises(DownloadCancelled) as err:
        download_dataset(
            "mnist", mirrors=[synthetic.base("good")], progress=progress, cancel=lambda: state["chunks"] >= 1
        )
    assert "cancelled" in str(err.value)
    assert isinstance(err.value, DataError)
    assert state["chunks"] == 1
    assert leftovers(tmp_cache) == []


def test_cancel_keeps_completed_files(synthetic, tmp_cache):
    """Files already verified stay (nothing partial does), so the next run resumes."""
    def cancel_on_test_images(done, total, name):
        state["stop"] = name.startswith("t10k-images") and done > 0

    state = {"stop": False}
    with pytest.raises(DownloadCancelled):
        download_dataset(
            "mnist", mirrors=[synthetic.base("good")], progress=cancel_on_test_images, cancel=lambda: state["stop"]
        )
    assert leftovers(tmp_cache / "mnist") == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    n = len(synthetic.requests)
    download_dataset("mnist", mirrors=[synthetic.base("good")])
    assert len(synthetic.requests) == n + 2


def test_damaged_cached_file_is_replaced(synthetic, tmp_cache):
    download_dataset("mnist", mirrors=[synthetic.base("good")])
    p = tmp_cache / "mnist" / "train-labels-idx1-ubyte.gz"
    good = p.read_bytes()
    p.write_bytes(b"damaged")
    ds = load_dataset("mnist", mirrors=[synthetic.base("good")])
    assert p.read_bytes() == good and ds.n_train == 150


def test_stale_part_files_are_cleaned(synthetic, tmp_cache):
    folder = tmp_cache / "mnist"
    folder.mkdir()
    stale = folder / ".train-images-idx3-ubyte.gz.abc.part"
    fresh = folder / ".train-images-idx3-ubyte.gz.def.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    download_dataset("mnist", mirrors=[synthetic.base("good")])
    assert not stale.exists() and fresh.exists()  # a fresh one may belong to a concurrent download


def test_unknown_dataset_and_bad_timeout(tmp_cache):
    with pytest.raises(DataError, match="not a downloadable dataset"):
        download_dataset("mnist-sample")
    with pytest.raises(ValueError):
        download_dataset("mnist", timeout=0)


def test_unwritable_cache_is_a_data_error(tmp_path, synthetic):
    blocker = tmp_path / "not-a-dir"
    blocker.write_bytes(b"")
    with pytest.raises(DataError, match="cannot create the dataset cache folder"):
        download_dataset("mnist", cache_dir=blocker, mirrors=[synthetic.base("good")])


def test_fashion_registry():
    spec = REMOTE_DATASETS["fashion-mnist"]
    assert [f.md5 for f in spec.files] == [
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "25c81989df183df01b3e8a0aad5dffbe",
        "bef4ecab320f06d8554ea6380940ec79",
        "bb300cfdad3c16e7a12a480ee83cd310",
    ]
    assert spec.mirrors == ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    assert REMOTE_DATASETS["mnist"].mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    np.testing.assert_equal(len(REMOTE_DATASETS["mnist"].files), 4)


# ------------------------------------------------------------------------------- cancel at once (issue 9)


class CancelButton:
    """The GUI's Cancel button as ``download_dataset`` sees it: a ``cancel()`` callable, pressed from
    another thread. ``waiting`` is set once cancel() has been polled ``polls`` times after ``armed()``
    became true, i.e. the download is provably waiting on the network (it polls while it waits)."""

    def __init__(self, armed, polls=2):
        self.armed, self.polls, self.count = armed, polls, 0
        self.waiting = threading.Event()
        self.pressed = threading.Event()

    def __call__(self) -> bool:
        if self.armed():
            self.count += 1
            if self.count >= self.polls:
                self.waiting.set()
        return self.pressed.is_set()


def cancel_while_waiting(button, **kwargs):
    """Run download_dataset on a thread; once it is waiting, press Cancel. Returns (exception, seconds
    from the press to the end of the download). Checks that no socket was left unclosed."""
    outcome = {}

    def run():
        try:
            download_dataset("mnist", cancel=button, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            outcome["error"] = exc

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        worker = threading.Thread(target=run)
        worker.start()
        try:
            assert button.waiting.wait(10), "the download never polled cancel() while waiting on the network"
        finally:
            t0 = time.monotonic()
            button.pressed.set()
            worker.join(10)
        seconds = time.monotonic() - t0
        assert not worker.is_alive()
        error = outcome.get("error")
        gc.collect()  # tracebacks hold frames that hold sockets: an unclosed one would warn here
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    return error, seconds


def test_cancel_during_a_mid_body_stall_is_immediate(synthetic, tmp_cache):
    headers = threading.Event()
    button = CancelButton(headers.is_set)
    error, seconds = cancel_while_waiting(
        button, mirrors=[synthetic.base("stall")], timeout=30, progress=lambda d, t, n: headers.set()
    )
    assert isinstance(error, DownloadCancelled), error
    assert "cancelled during train-images-idx3-ubyte.gz" in str(error) and "nothing partial" in str(error)
    assert seconds < 2
    assert leftovers(tmp_cache) == []


def test_cancel_while_the_server_never_answers_is_immediate(synthetic, tmp_cache):
    button = CancelButton(lambda: bool(synthetic.requests))  # the server has read the request
    error, seconds = cancel_while_waiting(button, mirrors=[synthetic.base("noheaders")], timeout=30)
    assert isinstance(error, DownloadCancelled), error
    assert "cancelled while waiting for train-images-idx3-ubyte.gz" in str(error)
    assert seconds < 2
    assert leftovers(tmp_cache) == []


def test_cancel_during_a_trickling_body_is_immediate(synthetic, tmp_cache):
    """A server that sends a byte every 20 ms never times out, and a 64 KiB chunk would take minutes."""
    headers = threading.Event()
    button = CancelButton(headers.is_set)
    error, seconds = cancel_while_waiting(
        button, mirrors=[synthetic.base("trickle")], timeout=30, progress=lambda d, t, n: headers.set()
    )
    assert isinstance(error, DownloadCancelled), error
    assert seconds < 2
    assert leftovers(tmp_cache) == []


def test_cancel_while_connecting_is_immediate(tmp_path, monkeypatch, tmp_cache):
    src = tmp_path / "served"
    make_idx_folder(src, n_train=20, n_test=10)
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", remote_for(src))
    with hanging_port() as (host, port):
        button = CancelButton(lambda: True)
        error, seconds = cancel_while_waiting(button, mirrors=[f"http://{host}:{port}/"], timeout=30)
    assert isinstance(error, DownloadCancelled), error
    assert seconds < 2
    assert leftovers(tmp_cache) == []


def test_cancel_while_looking_up_the_host_name_is_immediate(synthetic, tmp_cache, monkeypatch):
    """getaddrinfo cannot be interrupted: it runs on a daemon thread, which ends on its own later."""
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    real_getaddrinfo = socket.getaddrinfo
    answer = threading.Event()
    asked = threading.Event()

    def slow_dns(host, port, *args, **kwargs):
        if host != "slow-dns.invalid":
            return real_getaddrinfo(host, port, *args, **kwargs)
        flags = args[3] if len(args) > 3 else kwargs.get("flags", 0)
        if flags & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "not numeric")
        asked.set()
        answer.wait(10)
        return real_getaddrinfo("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    port = synthetic.base("good").split(":")[2].split("/")[0]
    button = CancelButton(asked.is_set)
    try:
        error, seconds = cancel_while_waiting(button, mirrors=[f"http://slow-dns.invalid:{port}/good/"], timeout=30)
    finally:
        answer.set()
    assert isinstance(error, DownloadCancelled), error
    assert seconds < 2
    assert synthetic.requests == []  # it never connected
    assert leftovers(tmp_cache) == []
    for t in threading.enumerate():
        if t.name.startswith("nnstudio-resolve"):
            t.join(5)
            assert not t.is_alive()


def test_server_that_never_answers_times_out_and_the_next_mirror_is_used(synthetic, tmp_cache):
    with pytest.raises(DataUnavailable, match=r"noheaders/train-images-idx3-ubyte.gz: no data for 0.2 s \(timed out\)"):
        download_dataset("mnist", mirrors=[synthetic.base("noheaders")], timeout=0.2)
    assert leftovers(tmp_cache) == []
    download_dataset("mnist", mirrors=[synthetic.base("noheaders"), synthetic.base("good")], timeout=0.2)
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)


def test_hanging_connect_times_out_and_the_next_mirror_is_used(synthetic, tmp_cache):
    with hanging_port() as (host, port):
        bad = f"http://{host}:{port}/"
        t0 = time.monotonic()
        with pytest.raises(DataUnavailable) as err:
            download_dataset("mnist", mirrors=[bad], timeout=0.2)
        assert time.monotonic() - t0 < 3
        assert f"{bad}train-images-idx3-ubyte.gz: no data for 0.2 s (timed out)" in str(err.value)
        download_dataset("mnist", mirrors=[bad, synthetic.base("good")], timeout=0.2)
    assert leftovers(tmp_cache / "mnist") == sorted(MNIST_FILES)


def test_stall_timeout_is_the_whole_timeout_not_one_tick(synthetic, tmp_cache):
    """Short socket waits are added up: a 0.6 s timeout is not cut short by the 0.25 s tick."""
    t0 = time.monotonic()
    with pytest.raises(DataUnavailable, match=r"stall/train-images-idx3-ubyte.gz: no data for 0.6 s \(timed out\)"):
        download_dataset("mnist", mirrors=[synthetic.base("stall")], timeout=0.6)
    assert 0.55 <= time.monotonic() - t0 < 3
