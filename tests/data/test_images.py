"""Reading picture files (Pillow) into grayscale uint8, and the data layer's import hygiene."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nnstudio.data import DataError, load_image, to_mnist


def digit_canvas(dark_on_light=True):
    a = np.zeros((120, 90), np.uint8)
    a[20:100, 40:52] = 255  # a '1'
    a[20:30, 28:52] = 255
    return 255 - a if dark_on_light else a


@pytest.mark.parametrize("ext", ["png", "bmp", "tiff", "gif"])
def test_lossless_gray_roundtrip(tmp_path, ext):
    a = digit_canvas()
    p = tmp_path / f"d.{ext}"
    Image.fromarray(a).save(p)
    out = load_image(p)
    assert out.dtype == np.uint8 and out.ndim == 2
    np.testing.assert_array_equal(out, a)


def test_jpeg_and_rgb(tmp_path):
    a = digit_canvas()
    Image.fromarray(np.dstack([a, a, a])).save(tmp_path / "d.jpg", quality=95)
    out = load_image(tmp_path / "d.jpg")
    assert out.shape == a.shape and np.abs(out.astype(int) - a).mean() < 3
    Image.fromarray(np.dstack([a, a, a])).save(tmp_path / "d.png")
    np.testing.assert_array_equal(load_image(tmp_path / "d.png"), a)


def test_rgba_transparency_composited_on_white(tmp_path):
    ink = digit_canvas(dark_on_light=False)
    rgba = np.zeros(ink.shape + (4,), np.uint8)  # black ink, alpha = stroke, transparent background
    rgba[:, :, 3] = ink
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    out = load_image(tmp_path / "t.png")
    np.testing.assert_array_equal(out, 255 - ink)
    np.testing.assert_allclose(to_mnist(out), to_mnist(ink), atol=1e-12)


def test_palette_with_transparent_index(tmp_path):
    im = Image.new("P", (10, 10), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.putpixel((5, 5), 1)
    im.info["transparency"] = 0
    im.save(tmp_path / "p.png", transparency=0)
    out = load_image(tmp_path / "p.png")
    assert out[0, 0] == 255 and out[5, 5] == 76  # transparent -> white; red -> luminance 76


def test_16_bit(tmp_path):
    a = (digit_canvas().astype(np.uint16) * 257)
    Image.fromarray(a).save(tmp_path / "d16.png")
    np.testing.assert_array_equal(load_image(tmp_path / "d16.png"), digit_canvas())


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
def test_not_an_image(tmp_path, content):
    p = tmp_path / "bad.png"
    p.write_bytes(content)
    with pytest.raises(DataError) as err:
        load_image(p)
    assert str(err.value).startswith(str(p)) and "\n" not in str(err.value)


def test_truncated_png(tmp_path):
    p = tmp_path / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)).save(p)
    p.write_bytes(p.read_bytes()[:3000])
    with pytest.raises(DataError, match=r"cut.png: "):
        load_image(p)


def test_missing_and_folder(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(DataError, match="is a folder"):
        load_image(tmp_path)


def test_data_layer_never_imports_qt_or_core():
    code = (
        "import sys, nnstudio.data as d; d.load_dataset('mnist-sample'); d.to_mnist([[0, 1], [1, 0]]);"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')"
        " or m.startswith('nnstudio.core') or m.startswith('nnstudio.gui')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=repo, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
