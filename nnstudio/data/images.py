"""Read a picture file (PNG, JPEG, BMP, GIF, TIFF, WebP, ...) as a grayscale uint8 array, via Pillow.

Pillow is imported lazily, so ``import nnstudio.data`` stays light.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np

from nnstudio import limits
from nnstudio._atomic import NotARegularFile, open_regular

from .errors import DataError

__all__ = ["load_image"]

#: an image larger than this (pixels, or pixels on a side) is reduced before it becomes an array
_WORK_PIXELS = 4_000_000
_WORK_SIDE = 4096


def _to_gray_array(im) -> np.ndarray:
    from PIL import Image

    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # 16/32-bit grayscale or float: scale to 0..255 ourselves (Pillow's convert("L") clips).
        a = np.asarray(im).astype(np.float64)
        if a.size == 0:
            return a.astype(np.uint8)
        if mode == "F":
            a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
            top = float(a.max())
            a = a * 255.0 if top <= 1.0 else a * (255.0 / top) if top > 255.0 else a
        else:
            top = float(a.max())
            a = a if top <= 255 else a / 257.0 if top <= 65535 else a * (255.0 / top)
        return np.clip(np.floor(a + 0.5), 0, 255).astype(np.uint8)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info
    if has_alpha:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.uint8).copy()
    if mode not in ("L", "RGB", "1", "P"):
        im = im.convert("RGB")
    return np.asarray(im.convert("L"), dtype=np.uint8).copy()


def _reducible(im):
    """``im`` in a mode that averages well: palettes become colours, 1-bit and 16-bit become 8/32-bit."""
    mode = im.mode
    if mode == "1":
        return im.convert("L")
    if mode in ("P", "PA") or (mode in ("L", "RGB") and "transparency" in im.info):
        return im.convert("RGBA" if mode == "PA" or "transparency" in im.info else "RGB")
    if mode.startswith("I;16"):
        return im.convert("I")
    return im


def _factor(w: int, h: int) -> int:
    return max(math.ceil(w / _WORK_SIDE), math.ceil(h / _WORK_SIDE), math.ceil(math.sqrt(w * h / _WORK_PIXELS)), 1)


def _shrink(im, orientation: int):
    """A big image, reduced (box filter, one integer factor for both sides) to at most
    :data:`_WORK_SIDE` on a side and :data:`_WORK_PIXELS` in all, then turned upright (EXIF).
    Done a strip at a time, so nothing but the decoded image itself is ever held at full size."""
    from PIL import Image

    if im.format == "JPEG":  # the decoder itself can scale by 1/2, 1/4 or 1/8: less to hold in memory
        f = _factor(*im.size)
        im.draft(im.mode, (max(1, im.width // f), max(1, im.height // f)))
    im.load()
    w, h = im.size
    factor = _factor(w, h)
    rows = max(1, _WORK_PIXELS // max(1, w * factor))  # output rows per strip
    out = None
    for top in range(0, h, rows * factor):
        strip = _reducible(im.crop((0, top, w, min(h, top + rows * factor))))
        small = strip.reduce(factor) if factor > 1 else strip
        if out is None:
            out = Image.new(small.mode, (math.ceil(w / factor), math.ceil(h / factor)))
        out.paste(small, (0, top // factor))
    method = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}.get(orientation)
    return out.transpose(method) if method is not None else out


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Load an image file as a 2-D uint8 grayscale array (0 = black, 255 = white).

    Any mode is accepted: colour is converted to luminance; transparency (RGBA, LA, palette with a transparent
    colour) is composited on white; 16-bit images are scaled to 0..255; EXIF orientation is applied; for
    animations the first frame is used. Any failure raises DataError naming the file.

    Only a regular file is opened, and its dimensions are checked (:func:`nnstudio.limits.check_image`)
    before any pixel is decoded.  An image over :data:`_WORK_PIXELS` (or :data:`_WORK_SIDE` on a side)
    comes back reduced by an integer factor (a box filter, as MNIST's own size normalisation averages),
    so that any allowed image is read in a few hundred megabytes, whatever its shape.
    """
    p = Path(path)
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError as exc:  # pragma: no cover - Pillow is a dependency
        raise DataError(f"{p}: cannot read images: Pillow is not installed ({exc})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the size is checked below, against nnstudio's own limit)
            with open_regular(p) as f, Image.open(f) as im:
                limits.check_image(im.width, im.height, str(p))
                im.seek(0)
                if im.width * im.height > _WORK_PIXELS or max(im.size) > _WORK_SIDE:
                    orientation = im.getexif().get(0x0112, 1)
                    gray = _to_gray_array(_shrink(im, orientation))
                else:
                    im.load()
                    oriented = ImageOps.exif_transpose(im)
                    gray = _to_gray_array(oriented if oriented is not None else im)
    except limits.LimitError as exc:
        raise DataError(str(exc)) from None
    except FileNotFoundError:
        raise DataError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{p}: is a folder, not an image file") from None
    except NotARegularFile as exc:
        raise DataError(f"{p}: is {exc.kind}, not an image file") from None
    except PermissionError:
        raise DataError(f"{p}: permission denied (cannot read the file)") from None
    except UnidentifiedImageError:
        raise DataError(f"{p}: not an image file Pillow can read (PNG, JPEG, BMP, GIF, TIFF, WebP, ...)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DataError(f"{p}: image is too large (over Pillow's decompression-bomb limit)") from None
    except MemoryError:
        raise DataError(f"{p}: image is too large to load into memory") from None
    except Exception as exc:  # truncated/corrupt data: OSError, SyntaxError, ValueError, struct.error, ...
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise DataError(f"{p}: cannot read image ({text})") from None
    if gray.ndim != 2 or gray.size == 0:
        raise DataError(f"{p}: image has no pixels")
    return gray
