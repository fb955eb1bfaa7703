"""How well do the shipped networks read digits that were not written the MNIST way?

MNIST test digits are re-drawn as 280x280 drawing-pad images, each at a random size (30-85 % of the pad
height), at a random place and in either polarity (bright ink on dark, or dark ink on white paper), in
these variants (the same test digits for every variant):

==========  ============================================================================================
natural     strokes from MNIST's own width up to about twice as thick, hard pen-like or soft edges
            (the benchmark's original "drawn digits")
thin        the digit's skeleton re-drawn with a thin pen: 15-45 % of MNIST's stroke width (the pad's
            thinnest brushes)
thick       strokes 2-3x MNIST's width (a wide brush on a small digit)
squashed    flattened: height divided by 1.8-2.8 (a digit written in a wide, low box), re-drawn with a
            pen of MNIST's width
stretched   the bitmap stretched to fill a square box, as some collections store their digits
slanted     sheared by 17-31 degrees to the right or to the left
binary16    fitted into 16x16 (area-averaged), binarised at 40 % of its brightest pixel, then enlarged with blocky (nearest-neighbour) pixels
binary8     the same from 8x8
==========  ============================================================================================

Every image goes through :func:`nnstudio.data.to_mnist`, exactly what the drawing pad and ``nnstudio predict``
do; the first ``--cli-check`` images of each variant are also saved as PNG files and read back by
``python -m nnstudio predict MODEL files... --json`` in a subprocess, which must give the same digits.

Prints the time ``augment()`` takes for the 60,000 training images, then per model: MNIST test accuracy
(the raw IDX images, and the same images passed through ``to_mnist``, which must not hurt them), and the
accuracy on each variant; then a table of every variant for every model.

    python benchmarks/bench_robustness.py [--n 2000] [--seed 0] [--variants natural,thin,...] [MODEL.npz ...]

Needs real MNIST in ../shared/datasets/mnist (or --data).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnstudio._resources import shipped_model_path  # noqa: E402
from nnstudio.core import load_model  # noqa: E402
from nnstudio.data import load_dataset, to_mnist  # noqa: E402
from nnstudio.data.preprocess import resample_matrix  # noqa: E402

PAD = 280
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "mnist"
MNIST_STROKE = 0.11  # MNIST's strokes are about 2.2 px of a 20-px-high digit


# ------------------------------------------------------------------------------------------ rendering
def _dilate(img: np.ndarray, r: int) -> np.ndarray:
    """Grey dilation by an octagon of radius r (a square then a diamond: close to a round pen)."""
    if r <= 0:
        return img
    out = img
    rs, rd = max(1, int(round(r * 0.59))), max(0, int(round(r * 0.41)))
    for axis in (0, 1):  # square, separable
        p = np.pad(out, [(rs, rs) if a == axis else (0, 0) for a in (0, 1)])
        n = out.shape[axis]
        acc = out.copy()
        for s in range(2 * rs + 1):
            sl = [slice(None), slice(None)]
            sl[axis] = slice(s, s + n)
            np.maximum(acc, p[tuple(sl)], out=acc)
        out = acc
    for _ in range(rd):  # diamond = repeated plus-shaped 3x3
        p = np.pad(out, 1)
        out = np.maximum.reduce([p[1:-1, 1:-1], p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])
    return out


def _skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a boolean image to 1-px-wide, 8-connected lines (vectorised NumPy)."""
    b = np.pad(mask, 1).astype(np.uint8)
    while True:
        changed = False
        for step in (0, 1):
            c = b[1:-1, 1:-1]
            p2, p3, p4, p5 = b[:-2, 1:-1], b[:-2, 2:], b[1:-1, 2:], b[2:, 2:]
            p6, p7, p8, p9 = b[2:, 1:-1], b[2:, :-2], b[1:-1, :-2], b[:-2, :-2]
            ring = (p2, p3, p4, p5, p6, p7, p8, p9, p2)
            nb = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9
            trans = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.uint8) for i in range(8))
            if step == 0:
                keep_out = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                keep_out = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            kill = (c == 1) & (nb >= 2) & (nb <= 6) & (trans == 1) & keep_out
            if kill.any():
                c[kill] = 0
                changed = True
        if not changed:
            return b[1:-1, 1:-1].astype(bool)


def _pen(shape_img: np.ndarray, width: float) -> np.ndarray:
    """Re-draw a soft digit image as its skeleton traced by a round pen of ``width`` px (anti-aliased edge)."""
    skel = _skeleton(shape_img > 0.5 * shape_img.max()).astype(np.float64)
    ink = _dilate(skel, int(round((width - 1) / 2)))
    p = np.pad(ink, 1)  # a 3x3 smoothing: the 1-px anti-aliased edge of a painted stroke
    return (p[:-2, :-2] + p[:-2, 1:-1] + p[:-2, 2:] + p[1:-1, :-2] + p[1:-1, 1:-1] + p[1:-1, 2:] + p[2:, :-2]
            + p[2:, 1:-1] + p[2:, 2:]) / 9.0 * 0.5 + ink * 0.5


def _crop01(digit: np.ndarray) -> np.ndarray:
    d = digit.astype(np.float64) / 255.0
    rows = np.flatnonzero(d.max(axis=1) > 0.05)
    cols = np.flatnonzero(d.max(axis=0) > 0.05)
    return d[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _resize(d: np.ndarray, nh: int, nw: int) -> np.ndarray:
    return resample_matrix(d.shape[0], nh) @ d @ resample_matrix(d.shape[1], nw).T


def _shear(img: np.ndarray, k: float) -> np.ndarray:
    """Shift each row by k x (its height above the centre), linearly interpolated: k > 0 leans right."""
    h, w = img.shape
    extra = int(np.ceil(abs(k) * h))
    out_w = w + extra
    offset = k * ((h - 1) / 2.0 - np.arange(h)) + extra / 2.0  # (h,)
    src = np.arange(out_w)[None, :] - offset[:, None]  # (h, out_w) source column
    x0 = np.floor(src).astype(np.intp)
    t = src - x0
    p = np.pad(img, ((0, 0), (1, 1)))
    i0 = np.clip(x0 + 1, 0, w + 1)
    i1 = np.clip(x0 + 2, 0, w + 1)
    rows = np.arange(h)[:, None]
    return p[rows, i0] * (1.0 - t) + p[rows, i1] * t


def _trim(img: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(img.max(axis=1) > 0.02)
    cols = np.flatnonzero(img.max(axis=0) > 0.02)
    return img[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit_pad(h: float, w: float, frac: float) -> tuple[int, int]:
    """Target size for a digit of shape (h, w) whose height is ``frac`` of the pad (never wider than the pad)."""
    nh = max(2, int(round(frac * PAD)))
    nw = max(2, int(round(w * nh / h)))
    if nw > PAD - 4:
        nh, nw = max(2, int(round(nh * (PAD - 4) / nw))), PAD - 4
    return nh, nw


def _variant_ink(variant: str, digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The digit drawn in ``variant``: a float image in [0, 1], bright ink, at its final size on the pad."""
    d = _crop01(digit)
    h, w = d.shape
    frac = rng.uniform(0.30, 0.85)
    if variant == "thin":
        nh, nw = _fit_pad(h, w, frac)
        return _pen(_resize(d, nh, nw), max(2.0, rng.uniform(0.15, 0.45) * MNIST_STROKE * nh))
    if variant == "thick":
        nh, nw = _fit_pad(h, w, frac)
        big = _resize(d, nh, nw)
        return _dilate(big, int(round(rng.uniform(1.0, 2.0) * MNIST_STROKE * nh / 2)))
    if variant == "squashed":
        s = rng.uniform(1.8, 2.8)
        nh, nw = _fit_pad(h, w * s, frac)  # the natural height is nh * s, capped by the pad's width
        return _pen(_resize(d, nh, nw), max(2.0, MNIST_STROKE * min(PAD * 0.85, nh * s)))
    if variant == "stretched":
        side = max(2, int(round(frac * PAD)))
        return _resize(d, side, side)
    if variant == "slanted":
        nh, nw = _fit_pad(h, w, frac)
        k = rng.uniform(0.3, 0.6) * rng.choice((-1.0, 1.0))
        return _trim(_shear(_resize(d, nh, nw), k))
    if variant in ("binary16", "binary8"):
        k = 16 if variant == "binary16" else 8
        sh, sw = (k, max(1, int(round(w * k / h)))) if h >= w else (max(1, int(round(h * k / w))), k)
        grey = _resize(d, sh, sw)
        small = grey > 0.4 * grey.max()  # binarised, as a scanner or a 1-bit format does
        nh, nw = _fit_pad(sh, sw, frac)
        ri = np.minimum((np.arange(nh) * sh) // nh, sh - 1)
        ci = np.minimum((np.arange(nw) * sw) // nw, sw - 1)
        return small[np.ix_(ri, ci)].astype(np.float64)
    raise ValueError(f"unknown variant {variant!r}")


def _on_pad(ink: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Place ``ink`` at a random place on a 280x280 pad, random polarity; uint8 image and whether it is dark."""
    ink = ink[:PAD, :PAD]
    bh, bw = ink.shape
    top = int(rng.integers(0, PAD - bh + 1))
    left = int(rng.integers(0, PAD - bw + 1))
    canvas = np.zeros((PAD, PAD))
    canvas[top : top + bh, left : left + bw] = np.clip(ink, 0.0, 1.0)
    dark = bool(rng.random() < 0.5)
    if dark:
        canvas = 1.0 - canvas
    return np.floor(canvas * 255.0 + 0.5).astype(np.uint8), dark


def render_pad_drawing(digit: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """The "natural" variant: a 28x28 uint8 MNIST digit redrawn as a 280x280 uint8 pad image.

    Unchanged from the benchmark's first version (same random draws), so its figures stay comparable.
    """
    d = _crop01(digit)
    h, w = d.shape
    frac = rng.uniform(0.30, 0.85)
    nh = max(2, int(round(frac * PAD)))
    nw = max(2, min(PAD - 4, int(round(w * nh / h))))
    big = _resize(d, nh, nw)  # smooth (linear) upscale
    stroke = MNIST_STROKE * nh
    thick = rng.uniform(0.0, 1.0)  # extra width, as a fraction of the stroke width
    big = _dilate(big, int(round(thick * stroke / 2)))
    hard = rng.random() < 0.5
    if hard:  # pen-like: solid ink with a 1-2 px anti-aliased edge
        big = np.clip((big - 0.35) * 4.0, 0.0, 1.0)
    img, dark = _on_pad(big, rng)
    return img, {"size": frac, "thick": thick, "dark": dark, "hard": hard}


VARIANTS = ("natural", "thin", "thick", "squashed", "stretched", "slanted", "binary16", "binary8")


def render_variant(variant: str, digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 28x28 uint8 MNIST digit as a 280x280 uint8 pad image in ``variant`` (see the module docstring)."""
    if variant == "natural":
        return render_pad_drawing(digit, rng)[0]
    return _on_pad(_variant_ink(variant, digit, rng), rng)[0]


def make_variant(variant: str, images: np.ndarray, pick: np.ndarray, seed: int) -> np.ndarray:
    """The picked test digits rendered in ``variant``: (n, 280, 280) uint8; reproducible from ``seed``."""
    if variant == "natural":  # the original benchmark's random stream: choice, then one digit after another
        rng = np.random.default_rng(seed)
        rng.choice(len(images), size=len(pick), replace=False)
    else:
        rng = np.random.default_rng([seed, VARIANTS.index(variant)])
    return np.stack([render_variant(variant, images[i], rng) for i in pick])


def pick_digits(n_test: int, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(n_test, size=min(n, n_test), replace=False)


# ------------------------------------------------------------------------------------------ reading
def prepare(pads: np.ndarray) -> tuple[np.ndarray, float]:
    """``to_mnist`` of every pad image, flattened to (n, 784); and the mean seconds per call."""
    t0 = time.perf_counter()
    x = np.stack([to_mnist(p).ravel() for p in pads])
    return x, (time.perf_counter() - t0) / max(1, len(pads))


def predict_cli(model: Path, paths: list[Path]) -> list[int | None]:
    proc = subprocess.run(
        [sys.executable, "-m", "nnstudio", "predict", str(model), *map(str, paths), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    recs = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(recs) == len(paths), (len(recs), len(paths), proc.stderr[-500:])
    return [r["digit"] for r in recs]


def cli_check(models, pads_by_variant, preds, n_check: int, folder: Path) -> None:
    """The first ``n_check`` images of each variant through ``nnstudio predict`` must read as in-process."""
    from PIL import Image

    paths, where = [], []
    for v, pads in pads_by_variant.items():
        for k in range(min(n_check, len(pads))):
            path = folder / f"{v}_{k:05d}.png"
            Image.fromarray(pads[k]).save(path)
            paths.append(path)
            where.append((v, k))
    if not paths:
        return
    for model in models:
        got = predict_cli(model, paths)
        bad = [(v, k) for (v, k), g in zip(where, got) if g != preds[model][v][k]]
        assert not bad, f"{model.name}: nnstudio predict disagrees with to_mnist on {bad[:5]}"
    print(f"nnstudio predict --json agrees with in-process to_mnist on {len(paths)} PNG files per model")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--n", type=int, default=2000, help="test digits per variant")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ",".join(VARIANTS))
    ap.add_argument("--cli-check", type=int, default=50, metavar="K",
                    help="read the first K images of each variant through `nnstudio predict` too (0: skip)")
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--save-examples", type=Path, help="also save a contact sheet of 10 drawings per variant here")
    args = ap.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        ap.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    models = args.models or sorted(shipped_model_path().parent.glob("*.npz"))
    data = load_dataset(args.data)
    from nnstudio.data.augment import augment

    t0 = time.perf_counter()
    augment(data.train_images, np.random.default_rng(0))
    print(f"augment(): {len(data.train_images):,} training images in {time.perf_counter() - t0:.2f} s "
          "(what --augment 1 adds before training)")

    pick = pick_digits(len(data.test_images), args.n, args.seed)
    labels = data.test_labels[pick]
    pads_by_variant, x_by_variant = {}, {}
    t0 = time.perf_counter()
    for v in variants:
        pads_by_variant[v] = make_variant(v, data.test_images, pick, args.seed)
    print(f"rendered {len(pick)} test digits in each of {len(variants)} variants (280x280) "
          f"in {time.perf_counter() - t0:.1f} s")
    per_call = []
    for v in variants:
        x_by_variant[v], s = prepare(pads_by_variant[v])
        per_call.append(s)
    x_mnist, s = prepare(data.test_images)
    print(f"to_mnist: {1e3 * np.mean(per_call):.2f} ms per 280x280 pad image, {1e3 * s:.2f} ms per 28x28 MNIST image")
    if args.save_examples:
        from PIL import Image

        sheet = np.full((len(variants) * 140, 10 * 140), 128, np.uint8)
        for r, v in enumerate(variants):
            for c in range(min(10, len(pick))):
                im = Image.fromarray(pads_by_variant[v][c]).resize((136, 136), Image.Resampling.BOX)
                sheet[r * 140 + 2 : r * 140 + 138, c * 140 + 2 : c * 140 + 138] = np.asarray(im)
        Image.fromarray(sheet).save(args.save_examples)

    results, preds = {}, {}
    for model in models:
        net = load_model(model)
        raw = float((net.predict(data.test_x) == data.test_labels).mean())
        via = float((net.predict(x_mnist) == data.test_labels).mean())
        res = {"mnist": raw, "mnist_to_mnist": via}
        preds[model] = {}
        for v in variants:
            preds[model][v] = net.predict(x_by_variant[v])
            res[v] = float((preds[model][v] == labels).mean())
        results[model.name] = res
        print(f"\n{model.name}: {net.describe()}")
        print(f"  MNIST test (10,000):               {100 * raw:6.2f}%")
        print(f"  MNIST test through to_mnist:       {100 * via:6.2f}%")
        for v in variants:
            per_digit = "  ".join(f"{d}:{100 * (preds[model][v][labels == d] == d).mean():3.0f}" for d in range(10))
            print(f"  {v:<10} ({len(pick)}): {100 * res[v]:6.2f}%   per digit %: {per_digit}")
    if args.cli_check:
        with tempfile.TemporaryDirectory(prefix="nnstudio-robust-") as tmp:
            cli_check(models, pads_by_variant, preds, args.cli_check, Path(tmp))

    names = list(results)
    print("\n| variant | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for key in ["mnist", "mnist_to_mnist", *variants]:
        label = {"mnist": "MNIST test", "mnist_to_mnist": "MNIST test via to_mnist"}.get(key, key)
        print(f"| {label} | " + " | ".join(f"{100 * results[n][key]:.2f} %" for n in names) + " |")
    if args.json:
        args.json.write_text(json.dumps({"n": len(pick), "seed": args.seed, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
