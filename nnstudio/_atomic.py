"""Safe file access: atomic writes that never damage what they do not own, opening only regular
files, and sweeping the leftovers of runs that were killed.

Used by the model files (core), the data layer (downloads, IDX files, images), the desktop entry and
the plot/history exports.  Plain Python: safe for the Qt-free core and data layer to import.

Writing (:func:`atomic_path`):

* a symlink is written through: its target gets the new contents, the link stays a link;
* only a regular file (or nothing) is replaced: a device (``/dev/null``), a folder, a named pipe or a
  socket is refused;
* a write-protected file (no write permission bit, even for root) is refused;
* an existing file keeps its permission bits (and, for root, its owner); a new one gets 0666 less
  the umask, like any other program's files;
* the new contents go to ``.<name>.<pid>.<random><suffix>`` beside the target and replace it in one
  rename; on any error (even a signal turned into an exception) the temporary file is removed.  A
  temporary file left by a process that was killed outright is removed by the next write in that
  folder (:func:`sweep_leftovers`).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["NotARegularFile", "atomic_path", "check_writable", "file_kind", "open_file_of", "open_regular",
           "sweep_leftovers", "write_file"]

#: a temporary file whose process is unknown (an older nnstudio's name) is stale after this long
STALE_AGE = 3600.0


class NotARegularFile(OSError):
    """The path names a device, a named pipe or a socket where a regular file is needed;
    ``kind`` says which ("a named pipe", ...)."""

    kind = "not a regular file"


def file_kind(mode: int) -> str:
    """'a folder', 'a named pipe', 'a character device', ... for an ``st_mode``."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _not_regular(path, mode: int) -> OSError:
    if stat.S_ISDIR(mode):
        return IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    e = NotARegularFile(errno.EINVAL, f"not a regular file ({file_kind(mode)})", str(path))
    e.kind = file_kind(mode)
    return e


def open_regular(path):
    """Open ``path`` for reading in binary mode, only if it is a regular file (after symlinks).

    A named pipe would block ``open()`` until some other program writes to it, so the file is
    opened without waiting and checked before anything is read.  Raises OSError
    (:class:`NotARegularFile`, ``IsADirectoryError``, ``FileNotFoundError``, ...)."""
    fd = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(path, mode)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_file_of(path, what: str, error: type[Exception]):
    """:func:`open_regular`, every reason it fails said in one line: ``error("<name>: no such file")``,
    "is a folder, not a <what>", "permission denied", "is a named pipe, not a <what>", "cannot be
    opened (...)".  ``what`` names the file expected ("model file")."""
    path = Path(path)
    name = path.name or str(path)
    try:
        return open_regular(path)
    except FileNotFoundError:
        raise error(f"{name}: no such file") from None
    except IsADirectoryError:
        raise error(f"{name}: is a folder, not a {what}") from None
    except PermissionError:
        raise error(f"{name}: permission denied") from None
    except NotARegularFile as e:
        raise error(f"{name}: is {e.kind}, not a {what}") from None
    except (OSError, ValueError) as e:
        raise error(f"{name}: cannot be opened ({getattr(e, 'strerror', None) or e})") from None


def write_file(path, write, error: type[Exception]) -> Path:
    """Write a file atomically (:func:`atomic_path`) with ``write(f)`` on its binary stream, flushed
    to the disk; any OSError is ``error("<name>: could not save (...); any old file was kept")``."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise error(f"{path.name}: could not save ({e.strerror or e}); any old file was kept") from None
    return path


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # (no /proc: read it the old way, and put it back at once)
    os.umask(mask)
    return mask


def check_writable(path) -> tuple[Path, os.stat_result | None]:
    """Where writing ``path`` would go (symlinks followed) and what is there now (None: nothing).

    Raises OSError, without writing anything, if that is not a regular file, is write-protected,
    or its folder is missing or not a folder."""
    real = Path(os.path.realpath(os.fspath(path)))
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise NotADirectoryError(errno.ENOTDIR, "a part of the path is a file, not a folder", str(path)) from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode)
        if not st.st_mode & 0o222 or not os.access(real, os.W_OK):
            raise PermissionError(errno.EACCES, "the file is write-protected", str(path))
    else:
        folder = real.parent
        if not folder.is_dir():
            raise FileNotFoundError(errno.ENOENT, f"the folder {folder} does not exist", str(path))
    return real, st


_LEFTOVER = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}(?P<suffix>\.[A-Za-z0-9]+)$")


def _dead(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # someone else's live process, or not a pid at all
        return False
    return False


def sweep_leftovers(folder, suffix: str, max_age: float = STALE_AGE, own_folder: bool = False) -> list[Path]:
    """Remove the temporary files ``.<name>.<pid>.<random><suffix>`` in ``folder`` whose process
    is gone (killed before it could clean up), and those older than ``max_age`` seconds whose name
    carries no process number (left by an older nnstudio), if ``<name>`` is beside them or the
    folder is nnstudio's own (the dataset cache).  Best effort; returns what was removed."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _LEFTOVER.match(entry.name)
        if m is None and own_folder and entry.name.startswith(".") and entry.name.endswith(suffix):
            m = {"pid": None, "name": ""}  # (an older nnstudio's name, in nnstudio's own folder)
        elif m is None or m["suffix"] != suffix:
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if m["pid"]:
                stale = _dead(int(m["pid"]))
            else:
                stale = (now - entry.stat(follow_symlinks=False).st_mtime > max_age
                         and (own_folder or os.path.lexists(os.path.join(folder, m["name"]))))
            if stale:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def temp_file(folder, name: str, suffix: str):
    """``mkstemp`` beside the target: ``(fd, path)`` of ``.<name>.<pid>.<random><suffix>``."""
    return tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=suffix, dir=folder)


@contextmanager
def atomic_path(path, suffix: str = ".tmp"):
    """Yield a temporary path beside ``path``'s target (symlinks followed); when the block ends
    without an error the temporary file replaces the target in one rename, otherwise it is removed
    and the target is left as it was.  Refuses (OSError, before writing) a target that is not a
    regular file or is write-protected; keeps an existing file's mode.  Errors (a read-only folder,
    a full disk, ...) propagate as OSError."""
    real, st = check_writable(path)
    folder = real.parent
    sweep_leftovers(folder, suffix)
    fd, tmp = temp_file(folder, real.name, suffix)
    try:
        try:
            if st is None:
                os.fchmod(fd, 0o666 & ~_umask())
            else:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
                if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
                    try:
                        os.fchown(fd, st.st_uid, st.st_gid)
                    except OSError:
                        pass
        finally:
            os.close(fd)
        yield Path(tmp)
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
