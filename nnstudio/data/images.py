"""Read a picture file (PNG, JPEG, BMP, GIF, TIFF, WebP, ...) as a grayscale uint8 array, via Pillow.

Pillow is imported lazily, so ``import nnstudio.data`` stays light.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from .errors import DataError

__all__ = ["load_image"]


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


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Load an image file as a 2-D uint8 grayscale array (0 = black, 255 = white).

    Any mode is accepted: colour is converted to luminance; transparency (RGBA, LA, palette with a transparent
    colour) is composited on white; 16-bit images are scaled to 0..255; EXIF orientation is applied; for
    animations the first frame is used. Any failure raises DataError naming the file.
    """
    p = Path(path)
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError as exc:  # pragma: no cover - Pillow is a dependency
        raise DataError(f"{p}: cannot read images: Pillow is not installed ({exc})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                im.seek(0)
                im.load()
                oriented = ImageOps.exif_transpose(im)
                gray = _to_gray_array(oriented if oriented is not None else im)
    except FileNotFoundError:
        raise DataError(f"{p}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{p}: is a folder, not an image file") from None
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
