"""Random distortions for training (nnstudio train --augment K)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnstudio.cli import shipped_model_path
from nnstudio.core import load_model
from nnstudio.data import DataError, center_of_mass, load_dataset
from nnstudio.data.augment import augment
from nnstudio.data.preprocess import resample_matrix

NO_WARP = dict(shift=0.0, scale=(1.0, 1.0), rotate=0.0, stretch=0.0, shear=0.0)


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("mnist-sample")
    return ds.test_images[:300], ds.test_labels[:300]


def test_shape_dtype_and_input_untouched(digits):
    images, _ = digits
    before = images.copy()
    out = augment(images, np.random.default_rng(0))
    assert out.shape == images.shape and out.dtype == np.uint8
    assert np.array_equal(images, before)
    assert not np.array_equal(out, images)
    assert augment(images[:0], 0).shape == (0, 28, 28)


def test_reproducible_from_the_generator(digits):
    images, _ = digits
    a = augment(images, np.random.default_rng(5))
    b = augment(images, np.random.default_rng(5))
    c = augment(images, np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.array_equal(augment(images, 7), augment(images, 7))  # a seed works too


def test_identity_when_everything_is_off(digits):
    images, _ = digits
    out = augment(images, 0, **NO_WARP, thicken=0.0, thin=0.0, lowres=0.0)
    assert np.array_equal(out, images)


def test_distortions_stay_light(digits):
    images, _ = digits
    out = augment(images, np.random.default_rng(1))
    shifts = []
    for a, b in zip(images, out):
        (r0, c0), (r1, c1) = center_of_mass(a), center_of_mass(b)
        shifts.append(np.hypot(r1 - r0, c1 - c0))
    assert max(shifts) < 4.0  # ±2 px shift plus what scaling/rotation about the centre moves
    ratio = out.reshape(len(out), -1).sum(1) / images.reshape(len(images), -1).sum(1)
    assert 0.5 < ratio.min() and ratio.max() < 3.0  # ink is never lost; thickening x scaling at most
    # digits stay (almost) inside the image: only some tall, enlarged or shifted digits touch the frame
    frame = np.concatenate([out[:, 0, :], out[:, -1, :], out[:, :, 0], out[:, :, -1]], axis=1)
    assert (frame.max(axis=1) > 128).mean() < 0.12
    assert frame.astype(float).sum() < 0.005 * out.astype(float).sum()


def test_thickening_and_thinning(digits):
    images, _ = digits
    fat = augment(images, 2, **NO_WARP, thicken=1.0, thin=0.0, lowres=0.0)
    assert (fat >= images).all()
    assert (fat.reshape(len(fat), -1).sum(1) > images.reshape(len(images), -1).sum(1)).all()
    slim = augment(images, 2, **NO_WARP, thicken=0.0, thin=1.0, lowres=0.0)
    assert (slim <= images).all()
    ink0 = images.reshape(len(images), -1).sum(1).astype(float)
    ink1 = slim.reshape(len(slim), -1).sum(1)
    assert (ink1 >= 0.5 * ink0 - 255).all() and (ink1 < ink0).mean() > 0.9  # thinner, never erased


def test_scale_changes_the_size(digits):
    images, _ = digits

    def height(batch):
        rows = (batch > 64).any(axis=2)
        return np.array([np.flatnonzero(r)[-1] - np.flatnonzero(r)[0] + 1 for r in rows])

    big = augment(images, 3, shift=0.0, scale=(1.15, 1.15), rotate=0.0, stretch=0.0, shear=0.0, thicken=0.0, thin=0.0,
                  lowres=0.0)
    small = augment(images, 3, shift=0.0, scale=(0.85, 0.85), rotate=0.0, stretch=0.0, shear=0.0, thicken=0.0, thin=0.0,
                    lowres=0.0)
    assert height(big).mean() > height(images).mean() + 1.5
    assert height(small).mean() < height(images).mean() - 1.5


def test_augmented_digits_keep_their_label(digits):
    """The shipped network still reads nearly all distorted digits: the distortions are label-preserving."""
    images, labels = digits
    net = load_model(shipped_model_path())
    clean = (net.predict(images.reshape(len(images), -1)) == labels).mean()
    distorted = (net.predict(augment(images, 4).reshape(len(images), -1)) == labels).mean()
    assert distorted > 0.9 and distorted > clean - 0.06


def test_low_resolution_copies(digits):
    """A low-resolution copy is the digit binarised at 8 px per 20-px digit and enlarged back pixel by pixel."""
    images, labels = digits
    out = augment(images, 6, **NO_WARP, thicken=0.0, thin=0.0, lowres=1.0, lowres_sides=(8, 8))
    down = resample_matrix(28, 11)  # 8 px per 20-px digit: 11 px for the whole 28x28 image
    back = resample_matrix(11, 28, blocky=True)
    for a, b in zip(images, out):
        small = down @ a @ down.T
        np.testing.assert_allclose(b, back @ (255.0 * (small > 0.4 * small.max())) @ back.T, atol=0.5)
    ratio = out.reshape(len(out), -1).sum(1) / images.reshape(len(images), -1).sum(1)
    assert 0.5 < ratio.min() and ratio.max() < 3.0
    net = load_model(shipped_model_path())
    assert (net.predict(out.reshape(len(out), -1)) == labels).mean() > 0.8
    some = augment(images, 6)  # the default: 3 in 10
    assert np.array_equal(some, augment(images, 6)) and not np.array_equal(some, augment(images, 6, lowres=0.0))
    with pytest.raises(ValueError):
        augment(images, 6, lowres=1.5)


@pytest.mark.parametrize("bad", [np.zeros((5, 28, 28), np.float32), np.zeros((28, 28), np.uint8), np.zeros((3, 20, 20), np.uint8)])
def test_bad_input_is_a_data_error(bad):
    with pytest.raises(DataError, match="augment"):
        augment(bad, 0)


def test_is_qt_free():
    code = "import sys, nnstudio.data.augment; assert not any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)
