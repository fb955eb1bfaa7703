"""nnstudio's data layer: datasets (embedded sample, MNIST, Fashion-MNIST, IDX folders), downloads,
image files and MNIST-style preprocessing of drawings.

Pure NumPy (+ Pillow for image files, imported lazily); never imports Qt or ``nnstudio.core``.
Every problem with data surfaces as :class:`DataError` with a one-line message.
"""

from .datasets import DATASETS, Dataset, dataset_status, load_dataset
from .download import download_dataset
from .errors import DataError, DataUnavailable, DownloadCancelled
from .idx import read_idx, write_idx
from .images import load_image
from .preprocess import center_of_mass, is_blank, to_mnist, to_mnist_uint8

__all__ = [
    "DATASETS",
    "DataError",
    "DataUnavailable",
    "Dataset",
    "DownloadCancelled",
    "center_of_mass",
    "dataset_status",
    "download_dataset",
    "is_blank",
    "load_dataset",
    "load_image",
    "read_idx",
    "to_mnist",
    "to_mnist_uint8",
    "write_idx",
]
