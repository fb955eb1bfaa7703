"""Turn any drawing or picture of a digit into the 28x28 image MNIST would have made of it.

MNIST was made in four steps (LeCun et al.): size-normalise into a 20x20 box keeping the aspect ratio,
anti-alias, place in 28x28 so that the centre of mass sits at the centre, bright ink on a dark background.
:func:`to_mnist` does the same for the drawing pad, the CLI and any image a user gives:

1. **normalise** to float in [0, 1]: integers / 255 (/ 65535 if values exceed 255, by their maximum beyond
   that); floats are taken as [0, 1], or as a 0..255 scale if their maximum exceeds 1; negatives clip to 0.
   Colour (HxWx3) becomes luminance (ITU-R 601 weights, as Pillow's "L"); an alpha channel (HxWx2 or
   HxWx4) is composited on white, like :func:`~nnstudio.data.load_image`.
2. **polarity**: ``"auto"`` inverts dark-on-light images, detected from the outer frame of pixels: if the
   frame's median is above the midpoint of the image's darkest and brightest values, the background is
   light. ``"bright"`` (bright ink on dark) or ``"dark"`` (dark ink on light) force it.
3. **background removal**: the frame's median (the background level, e.g. grey paper) is subtracted, so a
   scan's background becomes 0. (If the frame is mostly ink, the image minimum is used instead.) A photo of
   paper under uneven light (shading, a soft shadow) has no one background level: :func:`background` detects
   it and estimates it (a median over a quarter of the image, on a coarse grid), and it is subtracted instead;
   dark ink is also divided by the paper's brightness, so it keeps its contrast in the shade. The polarity is
   then decided again: the ink is what departs most from that background. If the frame is grainy (paper,
   sensor noise), the grain is smoothed away (over half an output pixel) and cut off, and so is what an
   estimated background may miss (see :data:`NOISE_SIGMAS`, :data:`UNEVEN_FLOOR`). The drawing pad and MNIST's
   digits (a frame of one exact value) come out exactly as they did before photos were handled.
4. **blank check**: if no pixel is at least :data:`BLANK_LEVEL` above the background, the image is blank:
   the result is all zeros (a state, not an error; see :func:`is_blank`).
5. **crop** to the bounding box of pixels above :data:`INK_THRESHOLD` x the brightest ink.
   **Shape**: MNIST's writers used one kind of pen on one kind of form; people on the pad, and other
   collections, do not. A digit whose slant (:func:`slant`), aspect ratio or stroke width (:func:`stroke_width`,
   in pixels of the 20-px box) lies outside the range of 90 % of MNIST's training digits (:data:`SLANT_RANGE`,
   :data:`STROKE_RANGE`; wider than tall, :data:`MAX_ASPECT`) is brought to the nearest edge of that range, on
   a working copy :data:`WORK` px high: sheared upright, stretched up to square, its strokes widened (grey
   dilation) or narrowed (erosion), and cropped again. A digit inside every range is left exactly as it is.
   Measured (benchmarks/bench_robustness.py, shipped 784-16-16-10): a thin pen 92.2 -> 94.8 %, a wide one
   78.5 -> 89.2 %, squashed 54.6 -> 90.2 %, slanted 87.2 -> 94.8 %, and MNIST's own test digits 96.11 ->
   96.35 % (22 % of them are touched).
6. **resize** so the longer side is 20 px, keeping the aspect ratio: exact area-weighted resampling (a box
   filter: each output pixel is the mean of the input area it covers) when shrinking, linear interpolation
   when enlarging, done as two small matrix products (separable), so it is fast and deterministic.
7. **centre** by an *integer* shift, as MNIST did: the 20-px image is pasted into 28x28 at the offset that
   brings its centre of mass (row, col in pixel-index coordinates) closest to (14, 14), clipped so nothing
   falls off. The centre of mass therefore ends within 0.5 px of (14, 14) (MNIST's own training images span
   13.48..14.50), and no extra blur is added. No sub-pixel shift: it would blur strokes and MNIST has none.
8. **rescale** so the brightest pixel is 1.

Only NumPy; no Qt, no Pillow. A 280x280 drawing takes well under 1 ms (0.15 ms in MNIST's range, 0.5-1 ms
when its shape is brought into it); a 300x400 photo under uneven light about 5 ms.
"""

from __future__ import annotations

import numpy as np

from .errors import DataError

__all__ = [
    "BACKGROUND_GRID",
    "BLANK_LEVEL",
    "BOX",
    "NOISE_SIGMAS",
    "INK_THRESHOLD",
    "SIZE",
    "TARGET_CENTER",
    "background",
    "center_of_mass",
    "ink_map",
    "is_blank",
    "resample_matrix",
    "to_mnist",
    "to_mnist_uint8",
]

SIZE = 28  #: output side
BOX = 20  #: the digit's longer side after size normalisation
TARGET_CENTER = 14.0  #: centre of mass target (row and column, pixel-index coordinates), as in MNIST
INK_THRESHOLD = 0.05  #: crop threshold, as a fraction of the brightest ink
BLANK_LEVEL = 0.05  #: an image whose ink never rises this far above its background (on a 0..1 scale) is blank
STROKE_RANGE = (1.6, 3.8)  #: stroke widths (px of the 20-px box, see :func:`stroke_width`) of 90 % of MNIST's digits
SLANT_RANGE = (-0.34, 0.57)  #: slants (see :func:`slant`) of 90 % of MNIST's training digits (5th-95th percentile)
MAX_ASPECT = 1.0  #: flatter digits (9 % of MNIST's, up to 1.43) are stretched up to this width / height
WORK = 4 * BOX  #: side of the working copy on which stroke width and aspect are brought into MNIST's range
BACKGROUND_GRID = 48  #: the uneven background is estimated on a copy at most this many cells a side
UNEVEN_FLOOR = 0.15  #: under an uneven background, ink fainter than this fraction of the darkest is not trusted
NOISE_SIGMAS = 3.0  #: paper grain up to this many robust standard deviations above the background is not ink

_LUMA = np.array([0.299, 0.587, 0.114])
_POLARITIES = ("auto", "bright", "dark")


def _normalise(a: np.ndarray) -> np.ndarray:
    """Any real/bool array → a new float64 array in [0, 1] (see module doc, step 1)."""
    kind = a.dtype.kind
    if kind == "b":
        return a.astype(np.float64)
    if a.dtype == np.uint8:
        return a * (1.0 / 255.0)
    if kind in "iu":
        f = a.astype(np.float64)
        top = float(f.max())
        f *= 1.0 / (255.0 if top <= 255.0 else 65535.0 if top <= 65535.0 else top)
        return np.maximum(f, 0.0, out=f)
    if kind == "f":
        f = a.astype(np.float64)
        if not np.isfinite(f).all():
            raise DataError(f"image: contains NaN or infinite values (shape {_shape(a)})")
        top = float(f.max())
        if top > 1.0:
            f *= 1.0 / (255.0 if top <= 255.0 else top)
        return np.minimum(np.maximum(f, 0.0, out=f), 1.0, out=f)
    raise DataError(f"image: unsupported pixel type {a.dtype} (expected uint8, integer, float or bool)")


def _shape(a: np.ndarray) -> str:
    return "x".join(map(str, a.shape)) if a.ndim else "scalar"


def _gray01(image: object) -> np.ndarray:
    """Validate the input and return a 2-D float64 array in [0, 1]."""
    try:
        a = np.asarray(image)
    except (ValueError, TypeError) as exc:
        raise DataError(f"image: not an array ({' '.join(str(exc).split())})") from None
    if a.dtype.kind not in "biuf":
        raise DataError(f"image: unsupported pixel type {a.dtype} (expected uint8, integer, float or bool)")
    if a.ndim == 3 and a.shape[2] in (1, 2, 3, 4):
        channels = a.shape[2]
    elif a.ndim == 2:
        channels = 0
    else:
        raise DataError(
            f"image: expected a 2-D grayscale array or an HxWx3/HxWx4 colour array, got shape {_shape(a)}"
        )
    if a.size == 0:
        raise DataError(f"image: empty array (shape {_shape(a)})")
    f = _normalise(a)
    if channels == 0:
        return f
    if channels == 1:
        return f[:, :, 0]
    if channels == 2:
        gray, alpha = f[:, :, 0], f[:, :, 1]
    else:
        gray = _LUMA[0] * f[:, :, 0] + _LUMA[1] * f[:, :, 1] + _LUMA[2] * f[:, :, 2]
        alpha = f[:, :, 3] if channels == 4 else None
    if alpha is not None:
        gray = gray * alpha + (1.0 - alpha)  # composite on white
    return np.minimum(gray, 1.0, out=gray)


def _frame(g: np.ndarray) -> np.ndarray:
    """The outer ring of pixels (the whole image if it is 1 or 2 pixels thin)."""
    if g.shape[0] <= 2 or g.shape[1] <= 2:
        return g.ravel()
    return np.concatenate((g[0], g[-1], g[1:-1, 0], g[1:-1, -1]))


def _sliding(a: np.ndarray, k: int, reduce, axis: int) -> np.ndarray:
    """``reduce`` (np.min or np.max) of every run of ``k`` pixels along ``axis``, centred, edges repeated."""
    pad = [(0, 0), (0, 0)]
    pad[axis] = (k // 2, k - 1 - k // 2)
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(a, pad, mode="edge"), k, axis=axis)
    return reduce(windows, axis=-1)


def _filter2(a: np.ndarray, k: int, reduce) -> np.ndarray:
    """A k x k minimum, maximum (``reduce``) or mean (``np.mean``, by running sums) filter, edges repeated."""
    if reduce is not np.mean:
        return _sliding(_sliding(a, k, reduce, 0), k, reduce, 1)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (k // 2 + 1, k - 1 - k // 2)
        c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis)
        n = a.shape[axis]
        a = (np.take(c, np.arange(k, k + n), axis=axis) - np.take(c, np.arange(n), axis=axis)) / k
    return a


def background(g: np.ndarray) -> np.ndarray | None:
    """The background of an image lit unevenly (shading, a shadow), or None if it is even.

    ``g``: a float 2-D image in [0, 1], ink brighter than the background if known.  Worked out on a coarse copy
    (at most :data:`BACKGROUND_GRID` cells a side, each the mean of its pixels).  *Whether*: a grey opening
    (the minimum, then the maximum, over a window of a quarter of the image) removes every bright stroke
    narrower than the window; the background is even (None) if what is left varies by less than
    :data:`BLANK_LEVEL` along the image's outer frame, which a photo's shading or shadow reaches and a drawing
    on the pad never does (its frame is black, and ink touching it is narrower than the window).  *What*: the
    median over the same window (ink covers less than half of it; the median follows a ramp or a soft edge of
    light without shifting it, and does not care which way the ink goes), smoothed over 3x3 cells and enlarged
    back linearly.
    """
    h, w = g.shape
    if min(h, w) < 16:
        return None
    frame = _frame(g)
    if np.count_nonzero(frame == np.median(frame)) * 2 >= frame.size or np.ptp(frame) < BLANK_LEVEL:
        return None  # most of the frame is one exact value, as on the pad, or it hardly varies
    f = max(1, -(-max(h, w) // BACKGROUND_GRID))
    ch, cw = -(-h // f), -(-w // f)
    coarse = resample_matrix(h, ch) @ g @ resample_matrix(w, cw).T
    k = max(3, max(ch, cw) // 4)
    edge = _frame(_filter2(_filter2(coarse, k, np.min), k, np.max))
    if float(edge.max() - edge.min()) < BLANK_LEVEL:
        return None
    est = _median2(coarse, k)
    r = np.abs(coarse - est)
    ink = r > 0.25 * float(r.max())
    est = _median2(np.where(ink, est, coarse), max(3, k // 2))
    est = _filter2(est, 3, np.mean)
    return resample_matrix(ch, h) @ est @ resample_matrix(cw, w).T


def _median2(a: np.ndarray, k: int) -> np.ndarray:
    pad = ((k // 2, k - 1 - k // 2),) * 2
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(a, pad, mode="edge"), (k, k))
    return np.median(windows.reshape(a.shape + (k * k,)), axis=-1)


def ink_map(image: object, *, polarity: str = "auto") -> np.ndarray:
    """Steps 1-4: a float64 2-D array of ink in [0, 1] (bright ink on a zero background), same size as input."""
    if polarity not in _POLARITIES:
        raise ValueError(f"polarity must be one of {_POLARITIES}, got {polarity!r}")
    g = _gray01(image)
    border = float(np.median(_frame(g)))
    if polarity == "auto":
        lo, hi = float(g.min()), float(g.max())
        invert = border > 0.5 * (lo + hi) and hi > lo
    else:
        invert = polarity == "dark"
    if invert:
        g = 1.0 - g
        border = 1.0 - border
    uneven = background(g)
    if uneven is not None:
        g = g - uneven
        if polarity == "auto" and -float(g.min()) > float(g.max()):  # the ink is what departs most from it
            invert = not invert
            g = np.negative(g, out=g)
            uneven = 1.0 - uneven
        if invert:  # light multiplies what ink and paper reflect: dividing by the light the paper sends back
            g /= np.maximum(1.0 - uneven, BLANK_LEVEL)  # gives the ink the same contrast in light and shadow
    elif border < 0.5 * float(g.max()):
        g = g - border
    else:  # the frame is mostly ink: nothing to learn about the background from it
        lowest = float(g.min())
        if lowest > 0.0:
            g = g - lowest
            np.maximum(g, 0.0, out=g)
        return g
    spread, mid = _grain(g)
    if spread > 0.0:  # a grainy background (a photo, a scan): smooth away grain finer than half an output pixel
        k = min(g.shape) // (2 * SIZE)
        if k > 1:
            g = _filter2(g, k, np.mean)
            spread, mid = _grain(g)
    floor = max(0.0, mid) + NOISE_SIGMAS * spread
    if uneven is not None:  # an estimated background is only so accurate (at a shadow's edge, in a corner):
        # ink fainter than UNEVEN_FLOOR of the darkest, or of half the full contrast on a blank sheet, is not ink
        floor = max(floor, UNEVEN_FLOOR * max(float(g.max()), 0.5))
    if floor > 0.0:
        g = g - floor
    return np.maximum(g, 0.0, out=g)


def _grain(g: np.ndarray) -> tuple[float, float]:
    """The robust standard deviation (1.4826 x the median absolute deviation) and median of the frame."""
    edge = _frame(g)
    mid = float(np.median(edge))
    return 1.4826 * float(np.median(np.abs(edge - mid))), mid


def is_blank(image: object, *, polarity: str = "auto") -> bool:
    """True if the image holds no ink (nothing rises :data:`BLANK_LEVEL` above the background)."""
    return float(ink_map(image, polarity=polarity).max()) < BLANK_LEVEL


def resample_matrix(n_in: int, n_out: int, *, blocky: bool = False) -> np.ndarray:
    """(n_out, n_in) matrix that resamples a 1-D signal of n_in pixels to n_out pixels; rows sum to 1.

    Shrinking (n_out <= n_in) is exact area averaging: output pixel i covers input interval
    [i*s, (i+1)*s) with s = n_in/n_out, weighted by overlap. Enlarging is linear interpolation between pixel
    centres (edges clamped), or with ``blocky`` the same area averaging: each input pixel a solid block, as a
    small bitmap enlarged pixel by pixel and then shrunk to the output's size would give.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError("resample_matrix needs positive sizes")
    if n_out <= n_in or blocky:
        s = n_in / n_out
        edges = np.arange(n_out + 1) * s
        j = np.arange(n_in)
        lo = np.maximum(edges[:-1, None], j[None, :])
        hi = np.minimum(edges[1:, None], j[None, :] + 1)
        return np.clip(hi - lo, 0.0, None) / s
    x = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    x = np.clip(x, 0.0, n_in - 1)
    x0 = np.floor(x).astype(np.intp)
    x1 = np.minimum(x0 + 1, n_in - 1)
    t = x - x0
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    np.add.at(m, (rows, x0), 1.0 - t)
    np.add.at(m, (rows, x1), t)
    return m


def center_of_mass(img: object) -> tuple[float, float]:
    """Intensity-weighted centre (row, col) in pixel-index coordinates (pixel (0, 0) is at 0.0, 0.0).

    For an image without mass, returns the geometric centre ((h-1)/2, (w-1)/2).
    """
    a = np.asarray(img, dtype=np.float64)
    if a.ndim != 2 or a.size == 0:
        raise DataError(f"image: center_of_mass needs a non-empty 2-D array, got shape {_shape(a)}")
    total = float(a.sum())
    if not total > 0:
        return ((a.shape[0] - 1) / 2.0, (a.shape[1] - 1) / 2.0)
    rows = float(a.sum(axis=1) @ np.arange(a.shape[0])) / total
    cols = float(a.sum(axis=0) @ np.arange(a.shape[1])) / total
    return rows, cols


def _round_half_up(x: float) -> int:
    return int(np.floor(x + 0.5))


def _crop(ink: np.ndarray) -> np.ndarray:
    """The bounding box of the pixels above :data:`INK_THRESHOLD` x the brightest (the ink must not be blank)."""
    mask = ink > INK_THRESHOLD * float(ink.max())
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize(a: np.ndarray, nh: int, nw: int) -> np.ndarray:
    return resample_matrix(a.shape[0], nh) @ a @ resample_matrix(a.shape[1], nw).T


def _resample_axis(a: np.ndarray, n_out: int, axis: int) -> np.ndarray:
    """What ``resample_matrix`` does along ``axis``, by running sums and interpolation: no matrix product.

    (OpenBLAS runs products of a few hundred thousand multiplications on several threads, which can cost
    milliseconds on a busy machine; these loops cost tens of microseconds.)
    """
    n_in = a.shape[axis]
    if n_out <= n_in:  # area averaging: differences of the running sum at the output pixels' edges
        s = n_in / n_out
        edges = np.arange(n_out + 1) * s
        j = np.minimum(edges.astype(np.intp), n_in - 1)
        shape = [1, 1]
        shape[axis] = n_out + 1
        c = np.cumsum(a, axis=axis)
        total = np.take(c, j, axis=axis) - np.take(a, j, axis=axis)  # the sum of the pixels before j
        run = total + (edges - j).reshape(shape) * np.take(a, j, axis=axis)
        return np.diff(run, axis=axis) / s
    x = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0.0, n_in - 1)
    x0 = x.astype(np.intp)
    shape = [1, 1]
    shape[axis] = n_out
    t = (x - x0).reshape(shape)
    return np.take(a, x0, axis=axis) * (1.0 - t) + np.take(a, np.minimum(x0 + 1, n_in - 1), axis=axis) * t


def _to_box(a: np.ndarray, side: int, rows: int | None = None) -> np.ndarray:
    """``a`` resampled so that its longer side is ``side`` (or to ``rows`` x its width, if given)."""
    nh, nw = _fit(*a.shape, side) if rows is None else (rows, a.shape[1])
    return _resample_axis(_resample_axis(a, nh, 0), nw, 1)


def _fit(h: int, w: int, side: int) -> tuple[int, int]:
    """(rows, cols) of an h x w image scaled so that its longer side is ``side``, keeping its aspect ratio."""
    scale = side / max(h, w)
    return (side if h >= w else max(1, min(side, _round_half_up(h * scale))),
            side if w >= h else max(1, min(side, _round_half_up(w * scale))))


def stroke_width(ink: np.ndarray) -> float:
    """The mean width of the strokes of an ink image (bright on 0, not blank), in its pixels.

    A stroke of width w and length L holds w x L of ink and is outlined by 2L: the width is twice the ink
    (in units of the brightest pixel) over the outline of the pixels above half the brightest, counted along
    rows and columns and scaled by pi/4 (the mean of |cos| + |sin| over all directions).
    """
    top = float(ink.max())
    p = np.pad(ink > 0.5 * top, 1)
    outline = np.count_nonzero(p[1:] != p[:-1]) + np.count_nonzero(p[:, 1:] != p[:, :-1])
    return 2.0 * float(ink.sum()) / top / (outline * np.pi / 4.0)


def _spread(a: np.ndarray, r: float, op) -> np.ndarray:
    """Grey dilation (op=np.maximum) or erosion (np.minimum) by an octagon of radius ``r`` px (fractions blend)."""
    steps, frac = int(r), r - int(r)
    for i in range(steps + (frac > 0)):
        p = np.pad(a, 1)
        nxt = op(op(op(p[:-2, 1:-1], p[2:, 1:-1]), op(p[1:-1, :-2], p[1:-1, 2:])), a)
        if i % 2 == 0:  # square steps alternate with plus-shaped ones: an octagon, close to a round pen
            nxt = op(op(op(p[:-2, :-2], p[:-2, 2:]), op(p[2:, :-2], p[2:, 2:])), nxt)
        a = nxt if i < steps else a + frac * (nxt - a)
    return a


def slant(ink: np.ndarray) -> float:
    """How far the ink leans right: the change of column per row upwards that best fits it (least squares, from
    the ink's second moments); 0 for a single row."""
    total = float(ink.sum())
    r = np.arange(ink.shape[0]) - float(ink.sum(axis=1) @ np.arange(ink.shape[0])) / total
    c = np.arange(ink.shape[1]) - float(ink.sum(axis=0) @ np.arange(ink.shape[1])) / total
    spread = float((r * r) @ ink.sum(axis=1))
    return -float(r @ ink @ c) / spread if spread > 1e-9 * total else 0.0  # one row: no slant


def shear(a: np.ndarray, k: float) -> np.ndarray:
    """Lean an image right by k columns per row upwards (left if k < 0), about its middle row, widening it."""
    h, w = a.shape
    extra = int(np.ceil(abs(k) * (h - 1)))
    src = np.arange(w + extra)[None, :] - (k * ((h - 1) / 2.0 - np.arange(h)) + extra / 2.0)[:, None]
    x0 = np.floor(src).astype(np.intp)
    t = src - x0
    p = np.pad(a, ((0, 0), (1, 1)))
    rows = np.arange(h)[:, None]
    return p[rows, np.clip(x0 + 1, 0, w + 1)] * (1.0 - t) + p[rows, np.clip(x0 + 2, 0, w + 1)] * t


def _normalise_shape(crop: np.ndarray) -> np.ndarray:
    """Bring a cropped digit's slant, aspect ratio and stroke width into MNIST's range (see :data:`SLANT_RANGE`,
    :data:`MAX_ASPECT`, :data:`STROKE_RANGE`); a digit already in it is returned as it is (the same array)."""
    h, w = crop.shape
    probe = crop if max(h, w) <= WORK else _to_box(crop, WORK)
    width = stroke_width(probe) * BOX / max(probe.shape)  # in pixels of the 20-px box
    lean = slant(probe)
    lo, hi = STROKE_RANGE
    if lo <= width <= hi and w <= MAX_ASPECT * h and SLANT_RANGE[0] <= lean <= SLANT_RANGE[1]:
        return crop
    work = probe if probe is not crop else _to_box(crop, WORK)
    reshaped = False
    if not SLANT_RANGE[0] <= lean <= SLANT_RANGE[1]:
        work = _crop(shear(work, min(max(lean, SLANT_RANGE[0]), SLANT_RANGE[1]) - lean))
        reshaped = True
    th, tw = work.shape
    if tw > MAX_ASPECT * th:  # flatter than MNIST's digits: stretch it up to MAX_ASPECT
        work = _to_box(work, 0, rows=_round_half_up(tw / MAX_ASPECT))
        reshaped = True
    if reshaped:
        width = stroke_width(work) * BOX / max(work.shape)
    change = (min(max(width, lo), hi) - width) * max(work.shape) / BOX / 2.0  # per side, in working pixels
    if change > 0:
        pad = int(np.ceil(change))
        work = _spread(np.pad(work, pad), change, np.maximum)
    elif change < 0:
        work = _spread(work, -change, np.minimum)
        if not float(work.max()) >= BLANK_LEVEL:
            return crop
    return _crop(work)


def to_mnist(image: object, *, polarity: str = "auto") -> np.ndarray:
    """MNIST-style 28x28 float64 image in [0, 1], bright ink on black (see the module docstring).

    ``image``: 2-D array of any size (uint8 0..255, float 0..1, ...), or HxWx3 / HxWx4 colour.
    ``polarity``: ``"auto"`` (detect from the border), ``"bright"`` (bright ink on dark) or ``"dark"``.
    A blank image gives all zeros. Invalid input (not 2-D/colour, empty, NaN) raises DataError.
    """
    ink = ink_map(image, polarity=polarity)
    out = np.zeros((SIZE, SIZE), dtype=np.float64)
    if float(ink.max()) < BLANK_LEVEL:
        return out
    crop = _normalise_shape(_crop(ink))
    nh, nw = _fit(*crop.shape, BOX)
    small = _resize(crop, nh, nw)
    cr, cc = center_of_mass(small)
    r0 = min(max(_round_half_up(TARGET_CENTER - cr), 0), SIZE - nh)
    c0 = min(max(_round_half_up(TARGET_CENTER - cc), 0), SIZE - nw)
    out[r0 : r0 + nh, c0 : c0 + nw] = small
    peak = float(out.max())
    if peak > 0:
        out /= peak
    np.clip(out, 0.0, 1.0, out=out)
    return out


def to_mnist_uint8(image: object, *, polarity: str = "auto") -> np.ndarray:
    """:func:`to_mnist` as a uint8 0..255 array (what the MNIST IDX files hold)."""
    return np.floor(to_mnist(image, polarity=polarity) * 255.0 + 0.5).astype(np.uint8)
