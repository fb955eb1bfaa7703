"""The embedded sample: its test digits are real MNIST *test* digits, never training digits, so the
accuracy it reports (Lesson 4, the Evaluation view) is measured on digits the shipped networks never saw."""

from __future__ import annotations

import numpy as np

from nnstudio.data import load_dataset, read_idx


def test_the_sample_is_balanced_and_says_where_it_came_from():
    ds = load_dataset("mnist-sample")
    assert (ds.n_train, ds.n_test) == (4000, 1000)
    assert np.bincount(ds.test_labels).tolist() == [100] * 10
    assert "1,000 MNIST test digits" in ds.source and "CC BY-SA 3.0" in ds.source


def test_every_test_digit_is_an_mnist_test_digit_and_none_a_training_digit(shared_mnist_dir):
    ds = load_dataset("mnist-sample")
    tr_x = read_idx(shared_mnist_dir / "train-images-idx3-ubyte.gz")
    te_x = read_idx(shared_mnist_dir / "t10k-images-idx3-ubyte.gz")
    te_y = read_idx(shared_mnist_dir / "t10k-labels-idx1-ubyte.gz")
    train = {img.tobytes() for img in tr_x}
    test = {img.tobytes(): int(lab) for img, lab in zip(te_x, te_y)}
    for img, lab in zip(ds.test_images, ds.test_labels):
        key = img.tobytes()
        assert test.get(key) == int(lab)
        assert key not in train
    assert all(img.tobytes() in train for img in ds.train_images)
