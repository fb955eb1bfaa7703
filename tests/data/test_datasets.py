"""Datasets: the embedded sample, IDX folders, the cache, status, and every way they can be wrong."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from helpers_http import make_idx_folder, remote_for

from nnstudio.data import (
    DATASETS,
    DataError,
    DataUnavailable,
    Dataset,
    dataset_status,
    load_dataset,
    write_idx,
)
from nnstudio.data.download import REMOTE_DATASETS, cache_root


def test_embedded_sample():
    ds = load_dataset("mnist-sample")
    assert ds.name == "mnist-sample"
    assert (ds.n_train, ds.n_test) == (4000, 1000)
    assert ds.train_images.shape == (4000, 28, 28) and ds.test_images.shape == (1000, 28, 28)
    assert ds.train_images.dtype == ds.train_labels.dtype == np.uint8
    assert ds.class_names == tuple("0123456789")
    assert np.bincount(ds.train_labels, minlength=10).tolist() == [400] * 10
    assert np.bincount(ds.test_labels, minlength=10).tolist() == [100] * 10
    assert ds.train_x.shape == (4000, 784) and np.shares_memory(ds.train_x, ds.train_images)
    assert ds.test_x.shape == (1000, 784) and np.shares_memory(ds.test_x, ds.test_images)
    assert not ds.train_images.flags.writeable
    assert "CC BY-SA 3.0" in ds.source
    # the sample is bright ink on black, like MNIST
    assert ds.train_images[:, 0, :].max() == 0 and ds.train_images.max() == 255
    # train and test don't overlap
    train = {x.tobytes() for x in ds.train_images}
    assert not any(x.tobytes() in train for x in ds.test_images)
    assert dataset_status("mnist-sample") == "embedded"
    assert "n_train=4000" in repr(ds)


def test_names():
    assert DATASETS == ("mnist-sample", "mnist", "fashion-mnist")


@pytest.mark.parametrize("gz, sep", [(True, "-"), (False, "-"), (True, "."), (False, ".")])
def test_folder(tmp_path, gz, sep):
    arrays = make_idx_folder(tmp_path / "digits", n_train=30, n_test=10, gz=gz, sep=sep)
    ds = load_dataset(tmp_path / "digits")
    assert (ds.n_train, ds.n_test) == (30, 10)
    np.testing.assert_array_equal(ds.train_images, arrays["train_images"])
    np.testing.assert_array_equal(ds.test_labels, arrays["test_labels"])
    assert ds.class_names == tuple("0123456789")
    assert str(tmp_path / "digits") in ds.source
    ds2 = load_dataset(str(tmp_path / "digits"))
    assert ds2.n_train == 30


def test_class_names_come_from_the_files_not_the_folder_name(tmp_path, monkeypatch):
    """A folder of digits whose name says "fashion" still holds digits; Fashion-MNIST's own label
    files (same size and MD5 as its downloads) give clothing names whatever the folder is called."""
    make_idx_folder(tmp_path / "Fashion-MNIST", gz=True)
    assert load_dataset(tmp_path / "Fashion-MNIST").class_names == tuple("0123456789")
    # (as if these files were Fashion-MNIST's downloads)
    monkeypatch.setitem(REMOTE_DATASETS, "fashion-mnist", remote_for(tmp_path / "Fashion-MNIST", "fashion-mnist"))
    (tmp_path / "Fashion-MNIST").rename(tmp_path / "clothes")
    ds = load_dataset(tmp_path / "clothes")
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


def test_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path / "empty")
    msg = str(err.value)
    assert str(tmp_path / "empty") in msg and "empty" in msg and "train-images-idx3-ubyte" in msg


def test_missing_file(tmp_path):
    make_idx_folder(tmp_path / "d")
    (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as err:
        load_dataset(tmp_path / "d")
    assert str(tmp_path / "d") in str(err.value) and "t10k-labels-idx1-ubyte" in str(err.value)


def test_mismatched_counts(tmp_path):
    make_idx_folder(tmp_path / "d", n_train=30)
    write_idx(tmp_path / "d" / "train-labels-idx1-ubyte.gz", np.zeros(29, np.uint8))
    expected = r"^train-labels-idx1-ubyte.gz: 29 labels but train-images-idx3-ubyte.gz has 30 images"
    with pytest.raises(DataError, match=expected):
        load_dataset(tmp_path / "d")


def test_label_out_of_range(tmp_path):
    make_idx_folder(tmp_path / "d", n_test=10)
    labels = np.zeros(10, np.uint8)
    labels[7] = 12
    write_idx(tmp_path / "d" / "t10k-labels-idx1-ubyte.gz", labels)
    with pytest.raises(DataError, match=r"^t10k-labels-idx1-ubyte.gz: label 12 at index 7 is outside 0..9"):
        load_dataset(tmp_path / "d")


def test_wrong_image_size(tmp_path):
    make_idx_folder(tmp_path / "d", n_test=10)
    write_idx(tmp_path / "d" / "t10k-images-idx3-ubyte.gz", np.zeros((10, 32, 32), np.uint8))
    with pytest.raises(DataError, match=r"^t10k-images-idx3-ubyte.gz: images are 32x32, expected 28x28"):
        load_dataset(tmp_path / "d")


def test_swapped_files(tmp_path):
    make_idx_folder(tmp_path / "d", n_train=10)
    d = tmp_path / "d"
    shutil.copy(d / "train-labels-idx1-ubyte.gz", d / "train-images-idx3-ubyte.gz")
    with pytest.raises(DataError, match=r"^train-images-idx3-ubyte.gz: expected images"):
        load_dataset(d)


def test_corrupt_file_in_folder(tmp_path):
    make_idx_folder(tmp_path / "d")
    p = tmp_path / "d" / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:500])
    with pytest.raises(DataError, match=r"^train-images-idx3-ubyte.gz: "):
        load_dataset(tmp_path / "d")


def test_unknown_name(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("mnsit")
    msg = str(err.value)
    assert msg.startswith("mnsit: unknown dataset") and all(n in msg for n in DATASETS)
    f = tmp_path / "file.gz"
    f.write_bytes(b"x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        load_dataset(f)
    with pytest.raises(DataError):
        dataset_status("mnsit")


def test_dataset_validates_itself():
    img = np.zeros((3, 28, 28), np.uint8)
    with pytest.raises(DataError, match="2 labels but"):
        Dataset("x", img, np.zeros(2, np.uint8), img, np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="outside 0..9"):
        Dataset("x", img, np.full(3, 10, np.uint8), img, np.zeros(3, np.uint8))
    with pytest.raises(DataError, match="uint8"):
        Dataset("x", img.astype(np.float32), np.zeros(3, np.uint8), img, np.zeros(3, np.uint8))
    ok = Dataset("x", img, np.zeros(3, np.uint8), img, np.zeros(3, np.uint8), class_names=("a", "b"))
    assert ok.n_classes == 2 and ok.train_x.shape == (3, 784)
    assert img.flags.writeable  # the caller's arrays are left alone


def test_not_downloaded_offline(tmp_cache):
    assert dataset_status("mnist") == "not downloaded"
    assert dataset_status("fashion-mnist") == "not downloaded"
    with pytest.raises(DataUnavailable) as err:
        load_dataset("mnist", download=False)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("mnist: not downloaded")
    assert "nnstudio download mnist" in msg and "mnist-sample" in msg and "folder" in msg
    assert str(tmp_cache / "mnist") in msg
    assert not (tmp_cache / "mnist").exists()


def test_cache_dir_precedence(tmp_path, tmp_cache):
    assert cache_root() == tmp_cache
    assert cache_root(tmp_path / "x") == tmp_path / "x"


def test_cached_synthetic(tmp_path, tmp_cache, monkeypatch):
    """A cache holding files with the registry's MD5s is 'cached' and loads without any network."""
    make_idx_folder(tmp_cache / "mnist", n_train=20, n_test=10)
    monkeypatch.setitem(REMOTE_DATASETS, "mnist", remote_for(tmp_cache / "mnist"))
    assert dataset_status("mnist") == "cached"
    ds = load_dataset("mnist", download=False)
    assert ds.name == "mnist" and (ds.n_train, ds.n_test) == (20, 10)
    assert "LeCun" in ds.source
    # a damaged cached file is detected (MD5) and reported; offline it cannot be repaired
    p = tmp_cache / "mnist" / "t10k-labels-idx1-ubyte.gz"
    data = p.read_bytes()
    p.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(DataUnavailable, match="t10k-labels-idx1-ubyte.gz is damaged"):
        load_dataset("mnist", download=False)
    # the cache_dir argument wins over the environment
    other = tmp_path / "elsewhere"
    assert dataset_status("mnist", cache_dir=other) == "not downloaded"
    with pytest.raises(DataUnavailable, match=str(other)):
        load_dataset("mnist", cache_dir=other, download=False)


def test_real_mnist_folder(shared_mnist_dir):
    ds = load_dataset(shared_mnist_dir)
    assert (ds.n_train, ds.n_test) == (60000, 10000)
    assert ds.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert ds.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    # the embedded sample is a subset of MNIST train
    sample = load_dataset("mnist-sample")
    train = {x.tobytes() for x in ds.train_images}
    assert all(x.tobytes() in train for x in sample.train_images[:200])


def test_one_split_reads_only_its_files(tmp_path):
    """splits=("test",) needs only the t10k files; the training split is then empty (and says so)."""
    arrays = make_idx_folder(tmp_path / "d", n_train=40, n_test=25)
    for f in (tmp_path / "d").glob("train-*"):
        f.unlink()
    ds = load_dataset(tmp_path / "d", splits=("test",))
    assert ds.splits == ("test",) and ds.n_train == 0 and ds.train_x.shape == (0, 784)
    assert np.array_equal(ds.test_images, arrays["test_images"]) and np.array_equal(ds.test_labels, arrays["test_labels"])
    with pytest.raises(DataError, match="missing train-images"):
        load_dataset(tmp_path / "d")
    with pytest.raises(ValueError):
        load_dataset(tmp_path / "d", splits=("validation",))
