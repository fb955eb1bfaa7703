"""Light random distortions of 28x28 digits, so a network trained on them reads *drawn* digits well.

Each image gets its own random

* **affine warp** (defaults): shift of up to ±1.5 px, scale 0.9-1.1 (with up to 4 % independent stretch per
  axis), a rotation of up to ±8° and a slight shear (up to 0.08), sampled bilinearly about the image centre;
* **stroke width change**: with probability ``thicken`` (0.3) the strokes are widened by a 3x3 (or
  plus-shaped) max filter blended in at a random strength 0.4-1; with probability ``thin`` (0.1) they are
  narrowed by the matching min filter, never below 60 % of the digit's ink;
* **low resolution**: with probability ``lowres`` (0.3) the image becomes a 1-bit bitmap of 7 to 16 px per
  20-px digit (``lowres_sides``; area-averaged, the pixels above 40 % of the brightest kept as ink) enlarged
  back pixel by pixel: what ``to_mnist`` makes of a 16x16 or 8x8 binarised scan, or of a small bitmap
  stretched up to the drawing pad.

Why these amounts: the drawing pad and ``nnstudio predict`` re-normalise every drawing the MNIST way (fit
20x20, centre by mass, and bring slant, aspect and stroke width into MNIST's usual range), so position, size,
slant and width vary little after preprocessing. On the 784-16-16-10 network (cross-entropy, 30 epochs,
``--augment 1``), stronger warps (±2 px, 0.85-1.15, ±12°) cost about half a point of MNIST test accuracy *and*
of drawn-digit accuracy (16 hidden neurons have little capacity to spare); so did a 10 % stretch per axis.
The warps and stroke changes keep the test accuracy of training without augmentation while lifting accuracy on
drawn digits (benchmarks/bench_robustness.py) from ~92.8 % to ~94 %; without the stroke changes, wide pens
read 1.4 points worse. Low-resolution copies (in 3 of 10 images) lift 8x8 binarised digits by about a point
(88.4 -> 89.5 %, means of 3 and 6 seeds) for about 0.1 point of MNIST test accuracy (96.06 -> 95.96 %);
in 2 or 4 of 10 images they helped less.

All of it is vectorised NumPy over blocks of images (no Python loop per image): the 60,000 MNIST training
images take about 3 s (2.9-3.8 s measured on a busy 2-core machine).  Pure NumPy: no Qt, no SciPy, and no
BLAS (its rounding may differ from machine to machine; the shipped models must rebuild bit for bit).
"""

from __future__ import annotations

import numpy as np

from .errors import DataError
from .preprocess import resample_matrix

__all__ = ["augment"]

_SIDE = 28
_PAD = _SIDE + 2  # one zero pixel on every side, so out-of-range samples read 0
_CENTRE = (_SIDE - 1) / 2.0
_THIN_KEEP = 0.6  # thinning keeps at least this fraction of a digit's ink
_BINARISE = 0.4  # a low-resolution copy keeps the pixels above this fraction of its brightest as ink


def _check(images) -> np.ndarray:
    a = np.asarray(images)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[1:] != (_SIDE, _SIDE):
        shape = "x".join(map(str, a.shape)) if a.ndim else "scalar"
        raise DataError(f"augment: expected uint8 images of shape (N, 28, 28), got {a.dtype} {shape}")
    return a


def _warp(block: np.ndarray, rng: np.random.Generator, shift, scale, rotate, stretch, shear) -> np.ndarray:
    """Random affine warp of a block of float32 images (n, 28, 28) -> (n, 28, 28), bilinear."""
    n = len(block)
    theta = np.deg2rad(rng.uniform(-rotate, rotate, n))
    s = rng.uniform(scale[0], scale[1], n)
    sy = s * rng.uniform(1.0 - stretch, 1.0 + stretch, n)
    sx = s * rng.uniform(1.0 - stretch, 1.0 + stretch, n)
    k = rng.uniform(-shear, shear, n)
    ty = rng.uniform(-shift, shift, n)
    tx = rng.uniform(-shift, shift, n)
    # forward map: out = R(theta) @ Shear(k) @ diag(sy, sx) @ (src - c) + c + t; sample with its inverse
    cos, sin = np.cos(theta), np.sin(theta)
    # M = R @ Sh @ S ; Sh = [[1, k], [0, 1]] (row, col)
    m00 = cos * sy
    m01 = (cos * k - sin) * sx
    m10 = sin * sy
    m11 = (sin * k + cos) * sx
    det = m00 * m11 - m01 * m10
    i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
    g = np.arange(_SIDE, dtype=np.float32) - _CENTRE
    dr = g[None, :, None] - ty[:, None, None].astype(np.float32)  # (n, 28, 1)
    dc = g[None, None, :] - tx[:, None, None].astype(np.float32)  # (n, 1, 28)
    f32 = lambda v: v.astype(np.float32)[:, None, None]  # noqa: E731
    src_r = f32(i00) * dr + f32(i01) * dc + _CENTRE
    src_c = f32(i10) * dr + f32(i11) * dc + _CENTRE
    np.clip(src_r, -1.0, float(_SIDE), out=src_r)
    np.clip(src_c, -1.0, float(_SIDE), out=src_c)
    r0 = np.floor(src_r)
    c0 = np.floor(src_c)
    fr = src_r - r0
    fc = src_c - c0
    # indices into the zero-padded (n, 30, 30) block, flattened
    ri = r0.astype(np.intp) + 1
    ci = c0.astype(np.intp) + 1
    ri1 = np.minimum(ri + 1, _PAD - 1)
    ci1 = np.minimum(ci + 1, _PAD - 1)
    padded = np.zeros((n, _PAD, _PAD), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = block
    flat = padded.ravel()
    base = (np.arange(n, dtype=np.intp) * (_PAD * _PAD))[:, None, None]
    top = flat[base + ri * _PAD + ci] * (1.0 - fc) + flat[base + ri * _PAD + ci1] * fc
    bottom = flat[base + ri1 * _PAD + ci] * (1.0 - fc) + flat[base + ri1 * _PAD + ci1] * fc
    return top * (1.0 - fr) + bottom * fr


def _neighbourhood(block: np.ndarray, op, box: bool) -> np.ndarray:
    """3x3 (box) or plus-shaped max/min filter of (n, 28, 28) float32, zero outside."""
    p = np.zeros((len(block), _PAD, _PAD), dtype=np.float32)
    p[:, 1:-1, 1:-1] = block
    out = block.copy()
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if (dr == 0 and dc == 0) or (not box and dr != 0 and dc != 0):
                continue
            op(out, p[:, 1 + dr : _PAD - 1 + dr, 1 + dc : _PAD - 1 + dc], out=out)
    return out


def _stroke_width(block: np.ndarray, rng: np.random.Generator, thicken: float, thin: float) -> np.ndarray:
    n = len(block)
    u = rng.random(n)
    strength = rng.uniform(0.4, 1.0, n).astype(np.float32)
    box = rng.random(n) < 0.5
    fat = np.flatnonzero(u < thicken)
    slim = np.flatnonzero((u >= thicken) & (u < thicken + thin))
    for idx, op in ((fat, np.maximum), (slim, np.minimum)):
        if not len(idx):
            continue
        for shape in (True, False):
            sel = idx[box[idx] == shape]
            if not len(sel):
                continue
            src = block[sel]
            filtered = _neighbourhood(src, op, shape)
            a = strength[sel]
            if op is np.minimum:
                # thinning must not erase a thin digit: limit the strength so most of the ink stays
                ink0 = src.sum(axis=(1, 2))
                lost = ink0 - filtered.sum(axis=(1, 2))
                a = np.minimum(a, (1.0 - _THIN_KEEP) * ink0 / np.maximum(lost, 1e-6))
            block[sel] = src + a[:, None, None] * (filtered - src)
    return block


def _both_axes(m: np.ndarray, images: np.ndarray) -> np.ndarray:
    """m @ image @ m.T for every image, by einsum's own loops (not BLAS: the same bits on every machine)."""
    return np.einsum("nik,lk->nil", np.einsum("ij,njk->nik", m, images), m)


def _low_resolution(block: np.ndarray, rng: np.random.Generator, p: float, sides: tuple[int, int]) -> np.ndarray:
    """With probability p, an image becomes a binarised bitmap of ``sides`` px per 20-px digit, enlarged back."""
    n = len(block)
    chosen = rng.random(n) < p
    m = np.rint(rng.integers(sides[0], sides[1] + 1, n) * (_SIDE / 20.0)).astype(int)  # pixels for all 28
    for size in np.unique(m[chosen]):
        sel = np.flatnonzero(chosen & (m == size))
        down = resample_matrix(_SIDE, size)
        up = resample_matrix(size, _SIDE, blocky=True)
        small = _both_axes(down, block[sel])
        bits = small > _BINARISE * small.max(axis=(1, 2), keepdims=True)
        block[sel] = _both_axes(up, bits * 255.0)
    return block


def augment(
    images,
    rng: np.random.Generator | int | None = None,
    *,
    shift: float = 1.5,
    scale: tuple[float, float] = (0.9, 1.1),
    rotate: float = 8.0,
    stretch: float = 0.04,
    shear: float = 0.08,
    thicken: float = 0.3,
    thin: float = 0.1,
    lowres: float = 0.3,
    lowres_sides: tuple[int, int] = (7, 16),
    block: int = 4096,
) -> np.ndarray:
    """Randomly distorted copies of ``images`` (uint8, shape (N, 28, 28)); returns a new uint8 array.

    ``rng``: a :class:`numpy.random.Generator` (or a seed); the result is fully determined by it.
    ``shift`` px, ``scale`` range, ``rotate`` degrees, ``stretch``/``shear`` fractions, the
    probabilities ``thicken``/``thin`` of a stroke-width change and ``lowres`` of a low-resolution copy, and
    the range of its resolutions ``lowres_sides`` (px per 20-px digit; see the module docstring).
    The input is never modified.  Wrong dtype or shape raises :class:`~nnstudio.data.DataError`.
    """
    a = _check(images)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if not (0.0 < scale[0] <= scale[1]):
        raise ValueError(f"scale must be a range of positive factors, got {scale!r}")
    if thicken < 0 or thin < 0 or thicken + thin > 1:
        raise ValueError("thicken and thin are probabilities that must sum to at most 1")
    if not 0 <= lowres <= 1 or not 1 <= lowres_sides[0] <= lowres_sides[1]:
        raise ValueError(f"lowres must be a probability and lowres_sides a range of sizes, not {lowres!r}, {lowres_sides!r}")
    out = np.empty_like(a)
    for start in range(0, len(a), block):
        chunk = a[start : start + block].astype(np.float32)
        warped = _warp(chunk, rng, shift, scale, rotate, stretch, shear)
        warped = _stroke_width(warped, rng, thicken, thin)
        if lowres:
            warped = _low_resolution(warped, rng, lowres, lowres_sides)
        np.clip(warped, 0.0, 255.0, out=warped)
        out[start : start + block] = (warped + 0.5).astype(np.uint8)
    return out
