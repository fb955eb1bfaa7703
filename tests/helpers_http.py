"""Test helpers for the data layer: a loopback HTTP "mirror" with fault modes, and synthetic IDX folders.

``LoopbackMirror(root)`` serves the files of ``root`` on 127.0.0.1 (random port) under several prefixes,
each a base URL usable as a download mirror:

* ``good``     - the file, with Content-Length
* ``nolength`` - the file, without Content-Length
* ``missing``  - HTTP 404 for everything
* ``corrupt``  - the file with one byte flipped in the middle (MD5 mismatch)
* ``truncate`` - announces the full Content-Length, sends half, then closes the connection
* ``stall``    - announces the full length, sends 1 KiB, then sends nothing more until the mirror closes
* ``noheaders`` - accepts the connection and reads the request, then answers nothing until the mirror closes
* ``trickle``  - announces the full length, sends 1 KiB, then one byte every 20 ms (never silent for long,
                 so never a timeout, but a 64 KiB chunk would take 20 minutes)

``hanging_port()`` gives an address whose TCP connect never completes (a full listen backlog).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import select
import socket
import threading
from pathlib import Path

import numpy as np

from nnstudio.data.download import RemoteDataset, RemoteFile
from nnstudio.data.idx import write_idx

MODES = ("good", "nolength", "missing", "corrupt", "truncate", "stall", "noheaders", "trickle")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
        pass

    def do_GET(self):  # noqa: N802
        mode, _, name = self.path.lstrip("/").partition("/")
        self.server.requests.append(self.path)
        path = self.server.root / name
        if mode not in MODES or mode == "missing" or "/" in name or name.startswith(".") or not path.is_file():
            self.send_error(404, "Not Found")
            return
        if mode == "noheaders":
            self.server.stop.wait(30)
            self.close_connection = True
            return
        data = path.read_bytes()
        if mode == "corrupt":
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode != "nolength":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            if mode == "truncate":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == "stall":
                self.wfile.write(data[:1024])
                self.wfile.flush()
                self.server.stop.wait(30)
                return
            if mode == "trickle":
                self.wfile.write(data[:1024])
                self.wfile.flush()
                for i in range(1024, len(data)):
                    if self.server.stop.wait(0.02):
                        break
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)
        except (ConnectionError, OSError):
            pass  # the client went away (cancel, timeout): fine


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(self, root: Path):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = Path(root)
        self.requests: list[str] = []
        self.stop = threading.Event()

    def handle_error(self, request, client_address):  # pragma: no cover - keep test output clean
        pass


class LoopbackMirror:
    """Context manager: ``with LoopbackMirror(folder) as m: m.base("good")`` -> ``http://127.0.0.1:PORT/good/``."""

    def __init__(self, root: Path):
        self._server = _Server(root)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def requests(self) -> list[str]:
        return self._server.requests

    def base(self, mode: str) -> str:
        assert mode in MODES, mode
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{mode}/"

    def __enter__(self) -> LoopbackMirror:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@contextlib.contextmanager
def hanging_port():
    """``(host, port)`` on loopback where a TCP connect stays pending: a listening socket with backlog 0
    whose queue is filled and never accepted (Linux then drops further SYNs). Skips if the OS completes
    the connects anyway."""
    import pytest

    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(8):
            probe = socket.socket()
            fillers.append(probe)
            probe.setblocking(False)
            probe.connect_ex(address)
            _, writable, _ = select.select([], [probe], [], 0.2)
            if not writable:  # this connect hangs: so will the next one
                break
        else:
            pytest.skip("this OS completes every loopback connect; cannot simulate a hanging connect")
        yield address
    finally:
        for s in fillers:
            s.close()
        listener.close()


IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def make_idx_folder(
    folder: Path, *, n_train: int = 60, n_test: int = 20, gz: bool = True, seed: int = 0, sep: str = "-"
) -> dict[str, np.ndarray]:
    """Write four small synthetic IDX files (random 28x28 images, labels cycling 0..9) into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for key, arr in arrays.items():
        name = IDX_NAMES[key].replace("-idx", f"{sep}idx") + (".gz" if gz else "")
        write_idx(folder / name, arr)
    return arrays


def remote_for(folder: Path, name: str = "mnist") -> RemoteDataset:
    """A RemoteDataset describing the .gz files in ``folder`` (to monkeypatch into REMOTE_DATASETS)."""
    files = []
    for stem in IDX_NAMES.values():
        p = folder / f"{stem}.gz"
        data = p.read_bytes()
        files.append(RemoteFile(p.name, hashlib.md5(data).hexdigest(), len(data)))
    return RemoteDataset(name=name, title=f"synthetic {name}", files=tuple(files), mirrors=("http://127.0.0.1:9/",))
