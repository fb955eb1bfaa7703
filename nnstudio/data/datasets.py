"""Datasets: the embedded MNIST sample, MNIST and Fashion-MNIST from the cache, or any folder of IDX files."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnstudio import limits

from .download import (
    REMOTE_DATASETS,
    CancelCallback,
    ProgressCallback,
    dataset_dir,
    download_dataset,
    file_md5,
    remove_leftovers,
)
from .errors import DataError, DataUnavailable
from .idx import read_idx, read_idx_header

__all__ = [
    "DATASETS",
    "DIGIT_CLASSES",
    "FASHION_CLASSES",
    "Dataset",
    "dataset_status",
    "load_dataset",
]

DATASETS: tuple[str, ...] = ("mnist-sample", "mnist", "fashion-mnist")

DIGIT_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
FASHION_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

SAMPLE_FILE = "mnist-sample.npz"
_SAMPLE_KEYS = ("train_images", "train_labels", "test_images", "test_labels")

_SOURCES = {
    "mnist": "MNIST (Yann LeCun, Corinna Cortes, Christopher J. C. Burges; CC BY-SA 3.0)",
    "fashion-mnist": "Fashion-MNIST (Zalando Research; MIT licence)",
}
_CLASSES = {"mnist": DIGIT_CLASSES, "fashion-mnist": FASHION_CLASSES}

# The four roles of an IDX dataset: (attribute, file stem, idx kind)
_ROLES = (
    ("train_images", "train-images", "idx3"),
    ("train_labels", "train-labels", "idx1"),
    ("test_images", "t10k-images", "idx3"),
    ("test_labels", "t10k-labels", "idx1"),
)


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


def _check_shapes(
    images: tuple[int, ...],
    labels: tuple[int, ...],
    images_name: str,
    labels_name: str,
    allow_empty: bool = False,
) -> None:
    """Raise DataError (naming the offending file) unless ``images`` (N x 28 x 28) and ``labels``
    (N) are the shapes of a split: decided from the IDX headers alone, before any data is read."""
    if len(images) != 3:
        raise DataError(
            f"{images_name}: expected images (an idx3 file of N x 28 x 28), got {len(images)} dimension(s) "
            f"of shape {'x'.join(map(str, images))}"
        )
    if tuple(images[1:]) != (28, 28):
        raise DataError(f"{images_name}: images are {images[1]}x{images[2]}, expected 28x28")
    if len(labels) != 1:
        raise DataError(
            f"{labels_name}: expected labels (an idx1 file), got {len(labels)} dimensions "
            f"of shape {'x'.join(map(str, labels))}"
        )
    if images[0] == 0 and not allow_empty:
        raise DataError(f"{images_name}: holds no images")
    if images[0] != labels[0]:
        raise DataError(f"{labels_name}: {labels[0]} labels but {images_name} has {images[0]} images")


def _check_split(
    images: np.ndarray,
    labels: np.ndarray,
    images_name: str,
    labels_name: str,
    n_classes: int,
    allow_empty: bool = False,
) -> None:
    """Raise DataError (naming the offending file) unless images/labels form a valid split."""
    if images.dtype != np.uint8:
        raise DataError(f"{images_name}: images must be uint8, got {images.dtype}")
    if labels.dtype != np.uint8:
        raise DataError(f"{labels_name}: labels must be uint8, got {labels.dtype}")
    _check_shapes(images.shape, labels.shape, images_name, labels_name, allow_empty)
    if labels.size and int(labels.max()) >= n_classes:
        bad = int(np.argmax(labels >= n_classes))
        raise DataError(
            f"{labels_name}: label {int(labels[bad])} at index {bad} is outside 0..{n_classes - 1}"
        )


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of 28x28 uint8 images (bright ink on black) with uint8 labels.

    The arrays are C-contiguous and read-only (the dataset may be shared between the GUI and a worker).
    ``train_x`` / ``test_x`` are (N, 784) views of the images, without copying.
    """

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...] = DIGIT_CLASSES
    source: str = ""
    #: the splits that were loaded; a split left out (``load_dataset(..., splits=("test",))``) is empty
    splits: tuple[str, ...] = ("train", "test")

    def __post_init__(self) -> None:
        names = tuple(str(c) for c in self.class_names)
        if not names:
            raise DataError(f"{self.name}: no class names")
        object.__setattr__(self, "class_names", names)
        object.__setattr__(self, "splits", _valid_splits(self.splits))
        for split in ("train", "test"):
            images = np.asarray(getattr(self, f"{split}_images"))
            labels = np.asarray(getattr(self, f"{split}_labels"))
            _check_split(
                images, labels, f"{self.name} {split} images", f"{self.name} {split} labels", len(names),
                allow_empty=split not in self.splits,
            )
            object.__setattr__(self, f"{split}_images", _readonly(images))
            object.__setattr__(self, f"{split}_labels", _readonly(labels))

    @property
    def train_x(self) -> np.ndarray:
        """Training images as an (N, 784) uint8 view."""
        return self.train_images.reshape(self.train_images.shape[0], 784)

    @property
    def test_x(self) -> np.ndarray:
        """Test images as an (N, 784) uint8 view."""
        return self.test_images.reshape(self.test_images.shape[0], 784)

    @property
    def n_train(self) -> int:
        return int(self.train_images.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.test_images.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_train={self.n_train}, n_test={self.n_test}, "
            f"classes={self.n_classes}, source={self.source!r})"
        )


# ----------------------------------------------------------------------------------------------- folders


def _idx_candidates(stem: str, kind: str) -> list[str]:
    names = []
    for sep in ("-", "."):
        base = f"{stem}{sep}{kind}-ubyte"
        names += [base, base + ".gz"]
    return names


def _valid_splits(splits) -> tuple[str, ...]:
    chosen = tuple(sp for sp in ("train", "test") if sp in tuple(splits))
    if not chosen or len(chosen) != len(set(splits)):
        raise ValueError(f"splits must be 'train' and/or 'test', got {splits!r}")
    return chosen


def _empty_split() -> dict[str, np.ndarray]:
    return {"images": np.zeros((0, 28, 28), np.uint8), "labels": np.zeros(0, np.uint8)}


def find_idx_files(folder: str | os.PathLike[str], splits=("train", "test")) -> dict[str, Path]:
    """Locate the four IDX files in ``folder`` (standard names, ``.gz`` optional, ``-`` or ``.`` before
    ``idx``), or those of ``splits`` only. Raises DataError naming the folder and the first missing
    file, or the two files that could both be meant (a raw file beside its ``.gz``)."""
    splits = _valid_splits(splits)
    folder = Path(folder)
    found: dict[str, Path] = {}
    try:
        entries = {p.name: p for p in folder.iterdir()}
    except OSError as exc:
        raise DataError(f"{folder}: cannot list the folder ({' '.join(str(exc).split())})") from None
    missing = []
    for attr, stem, kind in _ROLES:
        if attr.split("_")[0] not in splits:
            continue
        present = [p for p in (entries.get(c) for c in _idx_candidates(stem, kind)) if p is not None and p.is_file()]
        if len(present) > 1:
            raise DataError(
                f"{folder}: both {present[0].name} and {present[1].name} are here; keep one of them "
                "(nnstudio will not guess which one is right)"
            )
        if present:
            found[attr] = present[0]
        else:
            missing.append(f"{stem}-{kind}-ubyte[.gz]")
    if missing:
        if not entries:
            raise DataError(f"{folder}: folder is empty; expected the four IDX files ({', '.join(missing)})")
        also = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise DataError(f"{folder}: missing {missing[0]}{also}")
    return found


def _load_idx_folder(
    folder: Path, *, name: str, class_names: tuple[str, ...], source: str, files: dict[str, Path] | None = None,
    splits=("train", "test"),
) -> Dataset:
    splits = _valid_splits(splits)
    files = files if files is not None else find_idx_files(folder, splits)
    files = {attr: path for attr, path in files.items() if attr.split("_")[0] in splits}
    # the headers first: each file's role and its partner's count decide before any data is read
    headers = {attr: read_idx_header(path) for attr, path in files.items()}
    for split in splits:
        _check_shapes(headers[f"{split}_images"].dims, headers[f"{split}_labels"].dims,
                      files[f"{split}_images"].name, files[f"{split}_labels"].name)
    what = "the four IDX files" if len(splits) == 2 else f"the {splits[0]} IDX files"
    try:
        limits.check_data(sum(h.nbytes for h in headers.values()), f"{folder}: {what}")
    except limits.LimitError as exc:
        raise DataError(str(exc)) from None
    arrays = {attr: read_idx(path, dims=headers[attr].dims) for attr, path in files.items()}
    for split in ("train", "test"):
        if split not in splits:
            empty = _empty_split()
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = empty["images"], empty["labels"]
    for split in splits:
        _check_split(
            arrays[f"{split}_images"],
            arrays[f"{split}_labels"],
            files[f"{split}_images"].name,
            files[f"{split}_labels"].name,
            len(class_names),
        )
    return Dataset(name=name, class_names=class_names, source=source, splits=splits, **arrays)


# ------------------------------------------------------------------------------------------------ sample


def _load_sample() -> Dataset:
    from nnstudio._resources import resource_path

    path = resource_path("data", SAMPLE_FILE)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in _SAMPLE_KEYS if k not in npz.files]
            if missing:
                raise DataError(f"{SAMPLE_FILE}: damaged embedded sample: missing {', '.join(missing)}")
            arrays = {k: npz[k] for k in _SAMPLE_KEYS}
            provenance = str(npz["provenance"][0]) if "provenance" in npz.files and npz["provenance"].size else ""
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(
            f"{SAMPLE_FILE}: embedded sample not found at {path}; the installation is incomplete"
        ) from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise DataError(f"{SAMPLE_FILE}: damaged embedded sample ({' '.join(str(exc).split())})") from None
    for split in ("train", "test"):
        _check_split(
            arrays[f"{split}_images"],
            arrays[f"{split}_labels"],
            f"{SAMPLE_FILE} {split}_images",
            f"{SAMPLE_FILE} {split}_labels",
            10,
        )
    source = provenance or "MNIST sample (embedded): 5,000 MNIST training digits; CC BY-SA 3.0"
    return Dataset(name="mnist-sample", class_names=DIGIT_CLASSES, source=source, **arrays)


# ------------------------------------------------------------------------------------------------ public


def _is_fashion(files: dict[str, Path]) -> bool:
    """The class names of a folder come from its contents, never from its name: it holds
    Fashion-MNIST (clothing) only if its label files are Fashion-MNIST's own downloads (same
    size and MD5); any other folder holds digits."""
    known = {rf.name: rf for rf in REMOTE_DATASETS["fashion-mnist"].files}
    labels = [files[attr] for attr in ("train_labels", "test_labels") if attr in files]
    for p in labels:
        rf = known.get(p.name)
        try:
            if rf is None or p.stat().st_size != rf.size or file_md5(p) != rf.md5:
                return False
        except OSError:
            return False
    return bool(labels)


def _not_downloaded_message(name: str, folder: Path, detail: str) -> str:
    names = ", ".join(f.name for f in REMOTE_DATASETS[name].files)
    return (
        f"{name}: {detail} (looked in {folder}). Get it with `nnstudio download {name}`, or put the four "
        f"IDX files ({names}) in a folder and pass that folder; the embedded 'mnist-sample' works offline now."
    )


def _cache_problem(name: str, folder: Path, splits=("train", "test")) -> str | None:
    """None if the cache holds all files (of ``splits``) with the right MD5, else a short description
    of the problem."""
    for rf in REMOTE_DATASETS[name].files:
        if rf.split not in splits:
            continue
        p = folder / rf.name
        if not p.is_file():
            return "not downloaded" if not folder.is_dir() else f"not downloaded ({rf.name} missing)"
        try:
            digest = file_md5(p)
        except OSError as exc:
            return f"cannot read {rf.name} ({' '.join(str(exc).split())})"
        if digest != rf.md5:
            return f"{rf.name} is damaged (MD5 {digest}, expected {rf.md5})"
    return None


def load_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    mirrors: str | Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCallback | None = None,
    splits=("train", "test"),
) -> Dataset:
    """Load a dataset by name (see :data:`DATASETS`) or from a folder holding the four IDX files.

    ``splits``: ``("test",)`` reads (and downloads) only the test files, ``("train",)`` only the
    training files; the split left out is empty (:attr:`Dataset.splits` says which were loaded).

    * ``"mnist-sample"``: 4,000/1,000 MNIST digits shipped with nnstudio (works offline).
    * ``"mnist"`` / ``"fashion-mnist"``: from the per-user cache (``cache_dir``, else
      ``$NNSTUDIO_CACHE_DIR``, else ``platformdirs.user_cache_dir("nnstudio")``; files in ``<root>/<name>``).
      Missing or damaged files are downloaded if ``download`` is true (``mirrors``, ``progress`` and
      ``cancel`` as for :func:`download_dataset`); otherwise, or if that fails, :class:`DataUnavailable`.
    * a folder: ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
      ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]`` (``train-images.idx3-ubyte`` also ok).

    Raises :class:`DataError` (one line) for anything wrong with the data.
    """
    if isinstance(name_or_path, str) and name_or_path in DATASETS:
        name = name_or_path
        if name == "mnist-sample":
            return _load_sample()
        folder = dataset_dir(name, cache_dir)
        remove_leftovers(folder)
        problem = _cache_problem(name, folder, splits)
        if problem is not None:
            if not download:
                raise DataUnavailable(_not_downloaded_message(name, folder, problem))
            folder = download_dataset(
                name, cache_dir=cache_dir, mirrors=mirrors, progress=progress, cancel=cancel, splits=splits
            )
        return _load_idx_folder(
            folder, name=name, class_names=_CLASSES[name], source=f"{_SOURCES[name]}, from {folder}", splits=splits
        )

    try:
        path = Path(name_or_path).expanduser()
        is_dir = path.is_dir()
        exists = path.exists()
    except RuntimeError:  # "~nosuchuser/x": no such user (or no home folder) to expand '~' to
        raise DataError(f"{name_or_path}: cannot expand '~' here: no such user or home folder") from None
    except (TypeError, ValueError, OSError):
        raise DataError(
            f"{name_or_path!r}: unknown dataset (valid names: {', '.join(DATASETS)}, or a folder of IDX files)"
        ) from None
    if is_dir:
        folder = path.resolve()
        files = find_idx_files(folder, splits)
        classes = FASHION_CLASSES if _is_fashion(files) else DIGIT_CLASSES
        return _load_idx_folder(folder, name=str(folder), class_names=classes, source=f"IDX files in {folder}",
                                files=files, splits=splits)
    if exists:
        raise DataError(f"{path}: is a file, not a folder; pass the folder that holds the four IDX files")
    raise DataError(
        f"{name_or_path}: unknown dataset and no such folder (valid names: {', '.join(DATASETS)}, "
        "or a folder holding the four IDX files)"
    )


def dataset_status(name: str, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """``"embedded"``, ``"cached"`` (all four files present) or ``"not downloaded"``; cheap (no hashing)."""
    if name == "mnist-sample":
        return "embedded"
    if name in REMOTE_DATASETS:
        folder = dataset_dir(name, cache_dir)
        present = all((folder / rf.name).is_file() for rf in REMOTE_DATASETS[name].files)
        return "cached" if present else "not downloaded"
    raise DataError(f"{name}: unknown dataset (valid names: {', '.join(DATASETS)})")

