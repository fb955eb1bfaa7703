""""My digits": the drawings a user taught the network, kept as a small dataset of their own.

A :class:`MyDigits` holds 28×28 uint8 images (bright ink on black, as MNIST's), their labels, a
stable id for each and when each was added.  It never changes in place: :meth:`MyDigits.with_digit`,
:meth:`MyDigits.relabelled` and :meth:`MyDigits.without` return a new collection, so whoever shows
one (the dataset browser) can keep it without a copy.

It lives in one file, ``my-digits.npz`` in the user's data folder (``$NNSTUDIO_DATA_DIR``, else
``platformdirs.user_data_dir("nnstudio")``), written atomically (:mod:`nnstudio._atomic`) and read
back only after checking it: a regular file of at most :data:`nnstudio.limits.MY_DIGITS_FILE_BYTES`,
a zip of the expected arrays whose declared sizes and ``.npy`` headers fit
:data:`nnstudio.limits.MY_DIGITS` drawings, read without pickles.  Anything else is a
:class:`MyDigitsError` with a one-line message; :func:`set_aside` then keeps the damaged file under
another name, so nothing the user made is overwritten.

:func:`mixed_training_set` puts them into a training set, each repeated :func:`repeats_for` times.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnstudio import limits
from nnstudio._atomic import NotARegularFile, atomic_path, open_regular
from nnstudio.data.errors import DataError

__all__ = ["FILE_NAME", "MyDigits", "MyDigitsError", "data_dir", "load_my_digits", "mixed_training_set",
           "my_digits_path", "repeats_for", "save_my_digits", "set_aside"]

FILE_NAME = "my-digits.npz"
FORMAT_VERSION = 1
#: the arrays of a file: name -> (dtype, shape after the count N)
_ARRAYS = {"images": (np.uint8, (28, 28)), "labels": (np.uint8, ()), "ids": (np.int64, ()),
           "added": (np.float64, ()), "format_version": (np.int64, None)}
#: in a mixed training set, the user's digits make up about this share of it (each repeated to get there)
MIX_SHARE = 0.01
MAX_REPEATS = 100


class MyDigitsError(DataError):
    """The "my digits" file cannot be used; ``str()`` is one line naming the file and the problem."""


def data_dir() -> Path:
    """The user's data folder: ``$NNSTUDIO_DATA_DIR`` if set, else ``platformdirs.user_data_dir("nnstudio")``."""
    env = os.environ.get("NNSTUDIO_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("nnstudio", appauthor=False))


def my_digits_path() -> Path:
    return data_dir() / FILE_NAME


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def as_image(pixels) -> np.ndarray:
    """A drawing as the network sees it ((784,) or (28, 28) floats 0..1, or uint8) → (28, 28) uint8."""
    a = np.asarray(pixels)
    if a.size != 784:
        raise ValueError(f"a digit is 28×28 = 784 pixels, not {a.size}")
    a = a.reshape(28, 28)
    if a.dtype != np.uint8:
        a = np.rint(np.clip(np.nan_to_num(a.astype(np.float64)), 0.0, 1.0) * 255.0).astype(np.uint8)
    return a


@dataclass(frozen=True, eq=False)
class MyDigits:
    """The user's digits: ``images`` (N, 28, 28) uint8, ``labels`` (N,) uint8, ``ids`` (N,) int64 (each
    digit's own, never reused), ``added`` (N,) float64 (seconds since 1970).  Read-only arrays."""

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    added: np.ndarray

    def __post_init__(self) -> None:
        for name in ("images", "labels", "ids", "added"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    @classmethod
    def empty(cls) -> "MyDigits":
        return cls(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8), np.zeros(0, np.int64), np.zeros(0))

    def __len__(self) -> int:
        return int(len(self.labels))

    @property
    def x(self) -> np.ndarray:
        """The images as an (N, 784) uint8 view, like ``Dataset.train_x``."""
        return self.images.reshape(len(self), 784)

    def index_of(self, digit_id: int) -> int:
        """Where digit ``digit_id`` is (KeyError if it is not here)."""
        hits = np.flatnonzero(self.ids == int(digit_id))
        if not hits.size:
            raise KeyError(f"no digit with id {digit_id}")
        return int(hits[0])

    def counts(self, n_classes: int = 10) -> np.ndarray:
        return np.bincount(self.labels, minlength=n_classes)

    def with_digit(self, pixels, label: int, when: float | None = None) -> tuple["MyDigits", int]:
        """A new collection with the drawing ``pixels`` (28×28 or 784 values) labelled ``label``
        added at the end; returns it and the new digit's id.  ValueError when full."""
        if len(self) >= limits.MY_DIGITS:
            raise ValueError(f"my digits holds {limits.MY_DIGITS:,} drawings already, the most it keeps; "
                             "delete some in the dataset browser")
        new_id = int(self.ids.max()) + 1 if len(self) else 0
        return MyDigits(np.concatenate([self.images, as_image(pixels)[None]]),
                        np.append(self.labels, np.uint8(_label(label))),
                        np.append(self.ids, np.int64(new_id)),
                        np.append(self.added, time.time() if when is None else float(when))), new_id

    def relabelled(self, digit_id: int, label: int) -> "MyDigits":
        i = self.index_of(digit_id)
        labels = self.labels.copy()
        labels[i] = _label(label)
        return MyDigits(self.images, labels, self.ids, self.added)

    def without(self, digit_id: int) -> "MyDigits":
        keep = self.ids != int(digit_id)
        if keep.all():
            raise KeyError(f"no digit with id {digit_id}")
        return MyDigits(self.images[keep], self.labels[keep], self.ids[keep], self.added[keep])


def _label(label) -> int:
    label = int(label)
    if not 0 <= label <= 9:
        raise ValueError(f"a digit's label is 0..9, not {label}")
    return label


# ------------------------------------------------------------------------------------------ training sets
def repeats_for(n_train: int, n_mine: int) -> int:
    """How many times each of ``n_mine`` digits is repeated in a training set of ``n_train`` others so
    that they make up about :data:`MIX_SHARE` of it (at least once, at most :data:`MAX_REPEATS`)."""
    if n_mine <= 0:
        return 0
    return int(min(MAX_REPEATS, max(1, round(MIX_SHARE * n_train / n_mine))))


def mixed_training_set(train_x, train_labels, mine: MyDigits) -> tuple[np.ndarray, np.ndarray, int]:
    """``(x, labels, repeats)``: the training set with ``mine`` appended, each digit ``repeats`` times
    (after the dataset's own examples, so their indices stay theirs)."""
    r = repeats_for(len(train_labels), len(mine))
    if r == 0:
        return train_x, train_labels, 0
    extra = np.repeat(mine.x, r, axis=0)
    limits.check_data(train_x.nbytes + extra.nbytes, "the training set with my digits mixed in")
    x = np.concatenate([np.asarray(train_x, dtype=np.uint8).reshape(len(train_labels), -1), extra])
    y = np.concatenate([np.asarray(train_labels, dtype=np.uint8), np.repeat(mine.labels, r)])
    return x, y, r


# ------------------------------------------------------------------------------------------ the file
def save_my_digits(digits: MyDigits, path=None) -> Path:
    """Write ``digits`` to ``path`` (default :func:`my_digits_path`) atomically, creating its folder.
    A problem is a :class:`MyDigitsError` (one line); the file that was there is kept."""
    path = Path(path) if path is not None else my_digits_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, images=digits.images, labels=digits.labels, ids=digits.ids, added=digits.added,
                                format_version=np.int64(FORMAT_VERSION))
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise MyDigitsError(f"{path}: could not save my digits ({e.strerror or e})") from None
    return path


def load_my_digits(path=None) -> MyDigits:
    """Read "my digits" from ``path`` (default :func:`my_digits_path`); no file: an empty collection.
    Anything but a sound file of ours is a :class:`MyDigitsError` (nothing is changed on disk)."""
    path = Path(path) if path is not None else my_digits_path()
    name = path.name
    try:
        f = open_regular(path)
    except FileNotFoundError:
        return MyDigits.empty()
    except NotARegularFile as e:
        raise MyDigitsError(f"{name}: is {e.kind}, not a file of my digits") from None
    except OSError as e:
        raise MyDigitsError(f"{name}: cannot be opened ({e.strerror or e})") from None
    with f:
        try:
            size = os.fstat(f.fileno()).st_size
            if size > limits.MY_DIGITS_FILE_BYTES:
                raise MyDigitsError(f"{name}: {size:,} bytes, more than a file of {limits.MY_DIGITS:,} digits "
                                    f"takes ({limits.MY_DIGITS_FILE_BYTES:,})")
            data = f.read(limits.MY_DIGITS_FILE_BYTES + 1)
        except OSError as e:
            raise MyDigitsError(f"{name}: cannot be read ({e.strerror or e})") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            arrays = _read_arrays(z, name)
    except MyDigitsError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever a damaged zip, deflate stream or .npy header raises
        text = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise MyDigitsError(f"{name}: damaged ({text})") from None
    return _check(arrays, name)


def _read_arrays(z: zipfile.ZipFile, name: str) -> dict:
    """The file's arrays, each read only after its declared size and .npy header were checked."""
    infos = {i.filename.removesuffix(".npy"): i for i in z.infolist()}
    missing = sorted(set(_ARRAYS) - set(infos))
    if missing or len(infos) > 2 * len(_ARRAYS):
        raise MyDigitsError(f"{name}: not a file of my digits (no {', '.join(missing)})" if missing
                            else f"{name}: not a file of my digits ({len(infos)} arrays)")
    out = {}
    n_max = limits.MY_DIGITS
    for key, (dtype, tail) in _ARRAYS.items():
        info = infos[key]
        per = int(np.prod(tail, dtype=np.int64)) if tail is not None else 1
        most = (n_max * per if tail is not None else 1) * np.dtype(dtype).itemsize + 4096  # (+ the .npy header)
        if info.file_size > most:
            raise MyDigitsError(f"{name}: '{key}' declares {info.file_size:,} bytes, more than {n_max:,} digits take")
        raw = io.BytesIO(z.read(info))  # (at most its declared size; the CRC is checked)
        version = np.lib.format.read_magic(raw)
        if version not in ((1, 0), (2, 0)):
            raise MyDigitsError(f"{name}: '{key}' is stored in an unknown .npy version {version}")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dt = read_header(raw, max_header_size=4096)
        if dt != np.dtype(dtype) or fortran:
            raise MyDigitsError(f"{name}: '{key}' holds {dt}, not {np.dtype(dtype)}")
        body = raw.read()
        if len(body) != int(np.prod(shape, dtype=np.int64)) * dt.itemsize:
            raise MyDigitsError(f"{name}: '{key}' is cut short or padded ({len(body):,} bytes for shape {shape})")
        out[key] = np.frombuffer(body, dtype=dt).reshape(shape)
    return out


def _check(a: dict, name: str) -> MyDigits:
    version = a["format_version"]
    if version.shape != () or int(version) != FORMAT_VERSION:
        raise MyDigitsError(f"{name}: made by another version of nnstudio (format {version.ravel()[:1]})")
    images, labels, ids, added = a["images"], a["labels"], a["ids"], a["added"]
    n = labels.shape[0] if labels.ndim == 1 else -1
    if images.shape != (n, 28, 28) or labels.shape != (n,) or ids.shape != (n,) or added.shape != (n,):
        raise MyDigitsError(f"{name}: its arrays disagree (images {images.shape}, labels {labels.shape}, "
                            f"ids {ids.shape}, dates {added.shape})")
    if n > limits.MY_DIGITS:
        raise MyDigitsError(f"{name}: {n:,} digits, more than the {limits.MY_DIGITS:,} nnstudio keeps")
    if n and int(labels.max()) > 9:
        raise MyDigitsError(f"{name}: a label is {int(labels.max())}, not a digit 0..9")
    if n and (int(ids.min()) < 0 or len(np.unique(ids)) != n):
        raise MyDigitsError(f"{name}: its ids are not distinct whole numbers")
    if not np.isfinite(added).all():
        raise MyDigitsError(f"{name}: a date is not a number")
    return MyDigits(images.copy(), labels.copy(), ids.copy(), added.copy())


def set_aside(path) -> Path:
    """Rename the file at ``path`` (e.g. a damaged one) to a free name beside it,
    ``my-digits.damaged-20250101-120000.npz``, and return that name (OSError if it cannot)."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(1000):
        new = path.with_name(f"{path.stem}.damaged-{stamp}{f'-{k}' if k else ''}{path.suffix}")
        if not os.path.lexists(new):
            os.rename(path, new)
            return new
    raise FileExistsError(f"no free name beside {path}")
