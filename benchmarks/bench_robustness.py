"""How well do the shipped networks read *drawn* digits?

MNIST test digits are re-drawn as 280x280 drawing-pad images the way people draw: at a random size
(30-85 % of the pad height), at a random place, with randomly thickened strokes (from MNIST's own width up
to about twice as thick, with hard pen-like or soft edges), in either polarity (bright ink on dark, or dark
ink on white paper).  Each is saved as a PNG in a temporary folder and the whole lot is read back through
the public predict path: ``python -m nnstudio predict MODEL files... --json`` in a subprocess (which does
``to_mnist(load_image(path))``, exactly what the drawing pad does with its canvas).

Prints the time ``augment()`` takes for the 60,000 training images, then, per model: plain MNIST test accuracy, accuracy on the drawn digits (overall, per polarity, per size
band, per thickness band) and the time taken.

    python benchmarks/bench_robustness.py [--n 2000] [--seed 0] [MODEL.npz ...]

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

from nnstudio.cli import shipped_model_path  # noqa: E402
from nnstudio.components.evaluation import evaluation_report  # noqa: E402
from nnstudio.core import load_model  # noqa: E402
from nnstudio.data import load_dataset  # noqa: E402
from nnstudio.data.preprocess import resample_matrix  # noqa: E402

PAD = 280
DEFAULT_DATA = ROOT.parent / "shared" / "datasets" / "mnist"


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


def render_pad_drawing(digit: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A 28x28 uint8 MNIST digit redrawn as a 280x280 uint8 pad image; returns (image, parameters)."""
    d = digit.astype(np.float64) / 255.0
    rows = np.flatnonzero(d.max(axis=1) > 0.05)
    cols = np.flatnonzero(d.max(axis=0) > 0.05)
    d = d[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = d.shape
    frac = rng.uniform(0.30, 0.85)
    nh = max(2, int(round(frac * PAD)))
    nw = max(2, min(PAD - 4, int(round(w * nh / h))))
    big = resample_matrix(h, nh) @ d @ resample_matrix(w, nw).T  # smooth (linear) upscale
    stroke = 0.11 * nh  # MNIST's strokes are about 2.2 of 20 px
    thick = rng.uniform(0.0, 1.0)  # extra width, as a fraction of the stroke width
    big = _dilate(big, int(round(thick * stroke / 2)))
    hard = rng.random() < 0.5
    if hard:  # pen-like: solid ink with a 1-2 px anti-aliased edge
        big = np.clip((big - 0.35) * 4.0, 0.0, 1.0)
    bh, bw = big.shape
    top = int(rng.integers(0, PAD - bh + 1)) if bh < PAD else 0
    left = int(rng.integers(0, PAD - bw + 1)) if bw < PAD else 0
    canvas = np.zeros((PAD, PAD))
    canvas[top : top + bh, left : left + bw] = big[: PAD - top, : PAD - left]
    dark = rng.random() < 0.5
    if dark:
        canvas = 1.0 - canvas
    img = np.floor(canvas * 255.0 + 0.5).astype(np.uint8)
    return img, {"size": frac, "thick": thick, "dark": dark, "hard": hard}


def make_drawings(images, labels, n, seed, folder: Path):
    from PIL import Image

    rng = np.random.default_rng(seed)
    pick = rng.choice(len(images), size=min(n, len(images)), replace=False)
    paths, params = [], []
    for k, i in enumerate(pick):
        img, p = render_pad_drawing(images[i], rng)
        path = folder / f"{k:05d}_{labels[i]}.png"
        Image.fromarray(img).save(path)
        paths.append(path)
        p["label"] = int(labels[i])
        params.append(p)
    return paths, params


def predict_cli(model: Path, paths: list[Path]) -> list[int | None]:
    proc = subprocess.run(
        [sys.executable, "-m", "nnstudio", "predict", str(model), *map(str, paths), "--json"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    recs = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(recs) == len(paths), (len(recs), len(paths), proc.stderr[-500:])
    return [r["digit"] for r in recs]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--save-examples", type=Path, help="also save a contact sheet of the first 40 drawings here")
    args = ap.parse_args(argv)
    models = args.models or sorted(shipped_model_path().parent.glob("*.npz"))
    data = load_dataset(args.data)
    from nnstudio.data.augment import augment

    t0 = time.perf_counter()
    augment(data.train_images, np.random.default_rng(0))
    print(f"augment(): {len(data.train_images):,} training images in {time.perf_counter() - t0:.2f} s "
          "(what --augment 1 adds before training)")
    with tempfile.TemporaryDirectory(prefix="nnstudio-robust-") as tmp:
        t0 = time.perf_counter()
        paths, params = make_drawings(data.test_images, data.test_labels, args.n, args.seed, Path(tmp))
        t_render = time.perf_counter() - t0
        print(f"rendered {len(paths)} pad drawings (280x280 PNG) in {t_render:.1f} s")
        if args.save_examples:
            from PIL import Image

            sheet = np.full((2 * 140, 20 * 140), 128, np.uint8)
            for k in range(min(40, len(paths))):
                im = Image.open(paths[k]).convert("L").resize((136, 136))
                r, c = divmod(k, 20)
                sheet[r * 140 + 2 : r * 140 + 138, c * 140 + 2 : c * 140 + 138] = np.asarray(im)
            Image.fromarray(sheet).save(args.save_examples)
        labels = np.array([p["label"] for p in params])
        size = np.array([p["size"] for p in params])
        thick = np.array([p["thick"] for p in params])
        dark = np.array([p["dark"] for p in params])
        for model in models:
            net = load_model(model)
            plain = evaluation_report(net, data.test_images, data.test_labels)["accuracy"]
            t0 = time.perf_counter()
            pred = np.array([-1 if d is None else d for d in predict_cli(model, paths)])
            t_pred = time.perf_counter() - t0
            ok = pred == labels

            def acc(mask):
                return f"{100 * ok[mask].mean():5.1f}% ({mask.sum()})" if mask.any() else "  -  "

            print(f"\n{model.name}: {net.describe()}")
            print(f"  MNIST test (10,000):            {100 * plain:.2f}%")
            print(f"  drawn digits ({len(paths)}):             {100 * ok.mean():.2f}%   "
                  f"[nnstudio predict --json: {t_pred:.1f} s]")
            print(f"    bright on dark / dark on light: {acc(~dark)} / {acc(dark)}")
            print("    by size (pad height):          " + "  ".join(
                f"{lo:.0%}-{hi:.0%}: {acc((size >= lo) & (size < hi))}" for lo, hi in ((0.3, 0.45), (0.45, 0.65), (0.65, 0.86))))
            print("    by extra stroke width:         " + "  ".join(
                f"+{lo:.0%}-{hi:.0%}: {acc((thick >= lo) & (thick < hi))}" for lo, hi in ((0, 0.33), (0.33, 0.66), (0.66, 1.01))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
