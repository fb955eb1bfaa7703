"""Download MNIST and Fashion-MNIST into the per-user cache, checksummed, with mirror fallback.

Why a small ``urllib`` implementation and not pooch
---------------------------------------------------
pooch's ``retrieve`` does the "download to a temporary file, verify the hash, then move" part well, but the
rest of what nnstudio needs is outside its model:

* **cancel at once**: the GUI's Cancel button must stop a 10 MB download at once, even while a mirror is
  silent. pooch offers no hook for that; the only way in would be to raise from inside its progress-bar
  object (an undocumented use), and that is never called while a read blocks.
* **mirror fallback**: pooch takes one URL per file. Falling back on HTTP errors, stalls, connections
  closed mid-file *and* hash mismatches means catching pooch's and requests' exceptions around it.
* **timeouts and messages**: every failure must end up in a one-line message naming each mirror and what
  went wrong with it; with pooch they arrive as requests exceptions, ``ValueError`` (hash) etc.

With those added, pooch would be a thin shell around a loop we write anyway, and it would pull in requests.
The standard library does the job in a few hundred lines that we control fully: ``urllib.request`` (proxies
from the environment, CONNECT tunnels, redirects and TLS work as usual; only the socket's connect and waits
are replaced, see below), ``hashlib.md5`` while streaming, ``tempfile.mkstemp`` in the destination folder
and ``os.replace`` to publish a verified file atomically.

Guarantees
----------
* Nothing partial ever appears under a final file name: each file is streamed to ``.<name>.*.part`` in the
  destination folder, its MD5 verified, then renamed. On any failure, cancel, or even ``KeyboardInterrupt``,
  the temporary file is deleted. Files that were already complete and verified stay (so a later run resumes
  with the next file). A ``.part`` file carries its process number: one left by a process that was killed
  outright (SIGKILL, a power cut) is removed by the next load or download of that dataset.
* The exact size of every file is known: a mirror whose Content-Length says otherwise is not read at all,
  and one that sends more bytes than the file has is cut off there (never more than the file's size is
  written, whatever the server announces).
* A mirror may be a folder holding the files (``/media/usb/mnist`` or ``file:///media/usb/mnist/``).
* A file already present with the right MD5 is not downloaded again.
* ``timeout`` applies to connecting and to each read: a server that sends nothing for ``timeout`` seconds
  counts as failed ("no data for N s (timed out)") and the next mirror is tried.
* ``cancel()`` takes effect within about a quarter of a second in every phase: looking up the host name,
  connecting, the TLS handshake, waiting for the response headers, a body that stalls or trickles, and
  between chunks. Sockets wait at most 0.25 s at a time (``_TICK``); each time a wait ends without data,
  ``cancel()`` is polled on the calling thread and the silence is added up until it reaches ``timeout``.
  The connect itself is non-blocking (polled the same way), and a host name that is not an IP address is
  resolved on a short-lived daemon thread (``getaddrinfo`` cannot be interrupted; if the user cancels,
  that thread is left to finish on its own and holds no socket). No socket is left open on any path.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import http.client
import os
import re
import select
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nnstudio._atomic import sweep_leftovers, temp_file

from .errors import DataError, DataUnavailable, DownloadCancelled

__all__ = [
    "REMOTE_DATASETS",
    "RemoteDataset",
    "RemoteFile",
    "cache_root",
    "dataset_dir",
    "download_dataset",
    "file_md5",
    "remove_leftovers",
]

ProgressCallback = Callable[[int, "int | None", str], object]
CancelCallback = Callable[[], bool]

_CHUNK = 64 * 1024
_STALE_PART_AGE = 3600.0  # seconds
_TICK = 0.25  # longest single wait on a socket: how soon cancel() is noticed


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file: its canonical name, the MD5 of its bytes, and its exact size in bytes."""

    name: str
    md5: str
    size: int

    @property
    def split(self) -> str:
        """"train" or "test" (MNIST's test files are named t10k-...)."""
        return "test" if self.name.startswith("t10k") else "train"


@dataclass(frozen=True)
class RemoteDataset:
    name: str
    title: str
    files: tuple[RemoteFile, ...]
    mirrors: tuple[str, ...]


MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)

REMOTE_DATASETS: dict[str, RemoteDataset] = {
    "mnist": RemoteDataset(
        name="mnist",
        title="MNIST",
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
            RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
            RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
            RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4_542),
        ),
        mirrors=MNIST_MIRRORS,
    ),
    "fashion-mnist": RemoteDataset(
        name="fashion-mnist",
        title="Fashion-MNIST",
        files=(
            RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26_421_880),
            RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", 29_515),
            RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", 4_422_102),
            RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", 5_148),
        ),
        mirrors=FASHION_MNIST_MIRRORS,
    ),
}


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Root of the dataset cache: ``cache_dir`` if given, else ``$NNSTUDIO_CACHE_DIR``, else
    ``platformdirs.user_cache_dir("nnstudio")``. Each dataset lives in ``<root>/<name>/``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("NNSTUDIO_CACHE_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnstudio", appauthor=False))


def dataset_dir(name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Folder that holds (or will hold) the IDX files of the downloadable dataset ``name``."""
    return cache_root(cache_dir) / name


def file_md5(path: str | os.PathLike[str]) -> str:
    """Hex MD5 of a file (raises OSError if unreadable)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _remote(name: str) -> RemoteDataset:
    try:
        return REMOTE_DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(REMOTE_DATASETS)
        raise DataError(f"{name}: not a downloadable dataset (downloadable: {valid})") from None


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


def _as_url(base: str) -> str:
    """A mirror as a base URL: URLs as they are (``https://``, ``file:///media/usb/mnist/``), and a
    plain folder (``/media/usb/mnist``, ``~/mnist``) as its ``file:`` URL."""
    if not _SCHEME.match(base):
        try:
            base = Path(base).expanduser().resolve().as_uri()
        except (RuntimeError, ValueError, OSError):  # '~nosuchuser/...': left as it is; it fails as a mirror
            pass
    return base if base.endswith("/") else base + "/"


def _resolve_mirrors(mirrors: str | Sequence[str] | None, default: Sequence[str]) -> list[str]:
    """Mirror base URLs: the argument, else ``$NNSTUDIO_MIRRORS`` (comma-separated), else the defaults.
    A folder of the files is a mirror too (see :func:`_as_url`)."""
    if mirrors is None:
        mirrors = os.environ.get("NNSTUDIO_MIRRORS", "").strip() or None
    if mirrors is None:
        mirrors = default
    if isinstance(mirrors, str):
        mirrors = mirrors.split(",")
    bases = [m.strip() for m in mirrors if m and m.strip()]
    if not bases:
        bases = list(default)
    return [_as_url(b) for b in bases]


def _is_complete(path: Path, md5: str) -> bool:
    try:
        return path.is_file() and file_md5(path) == md5
    except OSError:
        return False


def remove_leftovers(folder: Path) -> None:
    """Remove the ``.part`` files of downloads whose process is gone (killed, or the machine went
    down): each carries its process number.  Older ones without it go after an hour."""
    sweep_leftovers(folder, ".part", _STALE_PART_AGE, own_folder=True)


class _MirrorFailed(Exception):
    """One mirror failed for one file; the message says how (short, lower-case)."""


def _reason(exc: BaseException, timeout: float) -> str:
    """Short human description of a network exception."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}".strip()
    if isinstance(exc, urllib.error.URLError):
        inner = exc.reason
        if isinstance(inner, BaseException):
            return _reason(inner, timeout)
        return str(inner)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no data for {timeout:g} s (timed out)"
    if isinstance(exc, http.client.IncompleteRead):
        return f"connection closed after {len(exc.partial)} bytes"
    if isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)):
        return "connection closed by the server"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ------------------------------------------------------------------------------------------------------
# Cancellable HTTP(S): urllib with sockets that wait at most _TICK at a time.
#
# urllib and http.client do all the HTTP work (proxies from the environment, CONNECT tunnels, redirects,
# TLS with the default context); the connection classes below only replace how a socket connects and how
# it waits, so that cancel() is polled on the calling thread while nothing arrives.


class _Cancelled(Exception):
    """Raised from inside a socket wait when ``cancel()`` returned True (turned into DownloadCancelled)."""


class _Patience:
    """How long one connection may stay silent (``timeout``) and whether the user still wants it."""

    def __init__(self, timeout: float, cancel: CancelCallback | None):
        self.timeout = float(timeout)
        self.tick = min(self.timeout, _TICK)
        self._cancel = cancel
        self._checked = time.monotonic()

    def check_cancel(self) -> None:
        self._checked = time.monotonic()
        if self._cancel is not None and self._cancel():
            raise _Cancelled

    def progressed(self) -> None:
        """After data arrived: poll cancel() at most once per tick (a trickling server never times out)."""
        if time.monotonic() - self._checked >= self.tick:
            self.check_cancel()

    def waited(self, started: float) -> float:
        """A wait of up to one tick ended with nothing: raise _Cancelled if cancelled, socket.timeout if
        nothing happened for ``timeout`` seconds since ``started``; else return how long to wait next."""
        self.check_cancel()
        remaining = self.timeout - (time.monotonic() - started)
        if remaining <= 0:
            raise socket.timeout("timed out")
        return min(self.tick, remaining)


class _PatientMixin:
    """Socket methods that http.client uses, made to wait in ticks (the socket's timeout is one tick)."""

    _patience: _Patience | None = None

    def _patiently(self, op, *args):
        patience = self._patience
        if patience is None:
            return op(*args)
        started = time.monotonic()
        shortened = False
        try:
            while True:
                try:
                    result = op(*args)
                except socket.timeout:
                    wait = patience.waited(started)
                    if wait < patience.tick:
                        self.settimeout(wait)
                        shortened = True
                    continue
                patience.progressed()
                return result
        finally:
            if shortened:
                try:
                    self.settimeout(patience.tick)
                except OSError:  # pragma: no cover - closed meanwhile
                    pass

    def recv_into(self, *args):
        return self._patiently(super().recv_into, *args)

    def recv(self, *args):
        return self._patiently(super().recv, *args)

    def sendall(self, data, flags=0):
        if self._patience is None:
            return super().sendall(data, flags)
        # socket.sendall cannot be resumed after a timeout (it does not say how much it sent): use send()
        with memoryview(data) as view, view.cast("B") as octets:
            sent = 0
            while sent < len(octets):
                sent += self._patiently(self.send, octets[sent:], flags)
        return None


class _PatientSocket(_PatientMixin, socket.socket):
    pass


class _PatientSSLSocket(_PatientMixin, ssl.SSLSocket):
    def do_handshake(self, *args):
        return self._patiently(super().do_handshake, *args)


_CONNECTING = frozenset(
    {errno.EINPROGRESS, errno.EALREADY, errno.EWOULDBLOCK, errno.EAGAIN, errno.EINTR,
     getattr(errno, "WSAEWOULDBLOCK", errno.EWOULDBLOCK)}
)


def _writable(sock: socket.socket, seconds: float) -> bool:
    if hasattr(select, "poll"):  # no FD_SETSIZE limit
        poller = select.poll()
        poller.register(sock, select.POLLOUT | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(max(1, int(seconds * 1000 + 0.999))))
    _, writable, failed = select.select([], [sock], [sock], seconds)
    return bool(writable or failed)


def _resolve(host: str, port: int, patience: _Patience) -> list:
    """``getaddrinfo`` that cancel() can interrupt: numeric hosts directly, names on a daemon thread."""
    try:
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        pass
    infos: list = []
    errors: list[Exception] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos.extend(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting thread
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=lookup, name=f"nnstudio-resolve {host}", daemon=True).start()
    while not done.wait(patience.tick):
        patience.check_cancel()  # if cancelled, the lookup thread ends by itself and holds no socket
    if errors:
        raise errors[0]
    return infos


def _connect(address, timeout=None, source_address=None, *, patience: _Patience) -> _PatientSocket:
    """Like ``socket.create_connection``, but the connect polls cancel() every tick; ``patience.timeout``
    bounds each address (the ``timeout`` argument, given by http.client, is the same number)."""
    host, port = address
    error: BaseException | None = None
    for family, kind, proto, _, sockaddr in _resolve(host, port, patience):
        sock = _PatientSocket(family, kind, proto)
        try:
            if source_address:
                sock.bind(source_address)
            sock.setblocking(False)
            code = sock.connect_ex(sockaddr)
            started = time.monotonic()
            wait = patience.tick
            while code in _CONNECTING:
                if _writable(sock, wait):
                    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    break
                wait = patience.waited(started)
            if code:
                raise OSError(code, os.strerror(code))
            sock.settimeout(patience.tick)
            sock._patience = patience
            return sock
        except OSError as exc:  # this address failed (refused, unreachable, timed out): try the next
            error = exc
            sock.close()
        except BaseException:
            sock.close()
            raise
    raise error if error is not None else OSError("getaddrinfo returned no address")


class _PatientHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, patience: _Patience, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_connect, patience=patience)


class _PatientHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args, patience: _Patience, **kwargs):
        super().__init__(*args, **kwargs)  # no context given: a fresh default one, ours to adjust
        self._patience = patience
        self._create_connection = functools.partial(_connect, patience=patience)
        self._context.sslsocket_class = _PatientSSLSocket

    def connect(self) -> None:
        # as http.client.HTTPSConnection.connect, with the handshake done in ticks
        http.client.HTTPConnection.connect(self)
        server_hostname = self._tunnel_host or self.host
        sock = self._context.wrap_socket(self.sock, server_hostname=server_hostname, do_handshake_on_connect=False)
        self.sock = sock  # closed by urllib if the handshake fails
        sock._patience = self._patience
        sock.do_handshake()


class _PatientHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, patience: _Patience):
        super().__init__()
        self._patience = patience

    def http_open(self, req):
        return self.do_open(functools.partial(_PatientHTTPConnection, patience=self._patience), req)


class _PatientHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, patience: _Patience):
        super().__init__()
        self._patience = patience

    def https_open(self, req):
        return self.do_open(functools.partial(_PatientHTTPSConnection, patience=self._patience), req)


def _open(request: urllib.request.Request, patience: _Patience):
    """``urlopen`` with cancellable waits (file:// and the other schemes as usual)."""
    opener = urllib.request.build_opener(_PatientHTTPHandler(patience), _PatientHTTPSHandler(patience))
    return opener.open(request, timeout=patience.timeout)


def _fetch(
    url: str,
    folder: Path,
    rf: RemoteFile,
    *,
    dataset: str,
    progress: ProgressCallback | None,
    cancel: CancelCallback | None,
    timeout: float,
) -> None:
    """Download ``url`` to ``folder/rf.name`` via a verified temporary file; raise _MirrorFailed on failure."""
    from nnstudio import __version__

    try:
        fd, tmp_name = temp_file(folder, rf.name, ".part")
    except OSError as exc:
        raise DataError(f"{folder}: cannot write to the dataset cache ({_reason(exc, timeout)})") from None
    tmp = Path(tmp_name)
    published = False
    try:
        with os.fdopen(fd, "wb") as out:
            if cancel is not None and cancel():
                raise DownloadCancelled(f"{dataset}: download cancelled before {rf.name}; nothing partial was kept")
            patience = _Patience(timeout, cancel)
            try:
                request = urllib.request.Request(url, headers={"User-Agent": f"nnstudio/{__version__}"})
                response = _open(request, patience)
            except _Cancelled:
                raise DownloadCancelled(
                    f"{dataset}: download cancelled while waiting for {rf.name}; nothing partial was kept"
                ) from None
            except urllib.error.HTTPError as exc:
                exc.close()
                raise _MirrorFailed(_reason(exc, timeout)) from None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                raise _MirrorFailed(_reason(exc, timeout)) from None
            with response:
                status = getattr(response, "status", None)
                if status is not None and status != 200:
                    raise _MirrorFailed(f"HTTP {status}")
                length_header = response.headers.get("Content-Length")
                try:
                    length = int(length_header) if length_header is not None else None
                except ValueError:
                    length = None
                if length is not None and length != rf.size:
                    # (the size of every file is known: nothing else is read, whatever the server says)
                    raise _MirrorFailed(f"the server announces {length:,} bytes; {rf.name} has {rf.size:,}")
                total = rf.size
                digest = hashlib.md5(usedforsecurity=False)
                done = 0
                if progress is not None:
                    progress(0, total, rf.name)
                while True:
                    if cancel is not None and cancel():
                        raise DownloadCancelled(
                            f"{dataset}: download cancelled during {rf.name}; nothing partial was kept"
                        )
                    try:
                        chunk = response.read(_CHUNK)
                    except _Cancelled:
                        raise DownloadCancelled(
                            f"{dataset}: download cancelled during {rf.name}; nothing partial was kept"
                        ) from None
                    except (OSError, http.client.HTTPException, ValueError) as exc:
                        raise _MirrorFailed(f"{_reason(exc, timeout)} after {done} bytes") from None
                    if not chunk:
                        break
                    if done + len(chunk) > rf.size:
                        raise _MirrorFailed(f"the server sent more than the {rf.size:,} bytes of {rf.name}")
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise DataError(f"{tmp.parent}: cannot write {rf.name} ({_reason(exc, timeout)})") from None
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total, rf.name)
        if done < rf.size:
            raise _MirrorFailed(f"connection closed after {done} of {rf.size} bytes")
        got = digest.hexdigest()
        if got != rf.md5:
            raise _MirrorFailed(f"checksum mismatch (MD5 {got}, expected {rf.md5}; {done} bytes)")
        try:
            os.replace(tmp, folder / rf.name)
        except OSError as exc:
            raise DataError(f"{folder}: cannot store {rf.name} ({_reason(exc, timeout)})") from None
        published = True
    finally:
        if not published:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            except OSError:  # pragma: no cover - best effort
                pass


def download_dataset(
    name: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    mirrors: str | Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
    timeout: float = 30,
    splits=("train", "test"),
) -> Path:
    """Download the four IDX files of ``name`` ("mnist" or "fashion-mnist") into the cache; return the folder.
    ``splits=("test",)`` downloads the two test files only (what evaluating a network needs).

    ``mirrors``: base URLs tried in order for each file (a list, or one comma-separated string); default
    ``$NNSTUDIO_MIRRORS`` or the built-in list (a folder, ``/media/usb/mnist`` or ``file:///media/usb/mnist/``,
    works too).
    ``progress(done_bytes, total_bytes, filename)`` is called
    per chunk of each file (``total_bytes`` is the file's known size).
    ``cancel()`` is polled on the calling thread per chunk and, while the network is silent or slow, every
    0.25 s (also while connecting); returning True raises :class:`DownloadCancelled` within about 0.25 s.
    ``timeout``: seconds a mirror may stay silent (connecting, or between bytes) before the next is tried.

    Raises :class:`DataUnavailable` if some file could not be fetched from any mirror (the one-line message
    lists each mirror's failure and how to work offline), :class:`DownloadCancelled`, or :class:`DataError`
    if the cache folder cannot be written.
    """
    spec = _remote(name)
    if not timeout or timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    bases = _resolve_mirrors(mirrors, spec.mirrors)
    folder = dataset_dir(name, cache_dir)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{folder}: cannot create the dataset cache folder ({_reason(exc, timeout)})") from None
    if not folder.is_dir():
        raise DataError(f"{folder}: exists but is not a folder; cannot store {spec.title} there")
    remove_leftovers(folder)
    ok = False
    try:
        for rf in spec.files:
            if rf.split not in splits:
                continue
            target = folder / rf.name
            if _is_complete(target, rf.md5):
                if progress is not None:
                    progress(rf.size, rf.size, rf.name)
                continue
            failures: list[str] = []
            for base in bases:
                url = base + rf.name
                try:
                    _fetch(url, folder, rf, dataset=name, progress=progress, cancel=cancel, timeout=timeout)
                except _MirrorFailed as exc:
                    failures.append(f"{url}: {exc}")
                    continue
                break
            else:
                names = ", ".join(f.name for f in spec.files)
                raise DataUnavailable(
                    f"{name}: could not download {rf.name} from any mirror ({'; '.join(failures)}). "
                    f"Try again later with `nnstudio download {name}`, or put the four IDX files ({names}) "
                    f"in a folder and pass that folder (or copy them into {folder}); "
                    "the embedded 'mnist-sample' dataset works offline now."
                )
        ok = True
    finally:
        if not ok and created:
            try:
                folder.rmdir()  # only succeeds if we created it and nothing was completed in it
            except OSError:
                pass
    return folder
