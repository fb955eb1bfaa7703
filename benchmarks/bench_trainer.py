"""Trainer speed: seconds per epoch of 60,000 MNIST images for 784-16-16-10.

Prints, for batch 10 and batch 100, nnstudio's trainer (on its compiled C kernel, the default
when it was built, and on its NumPy engine) against two references written here, all measured
in the same run (this machine is noisy: read the ratios):

- a straightforward vectorised mini-batch backprop (allocating NumPy, float64), the way a
  first implementation looks;
- the book's per-example backprop loop (Nielsen, network.py), timed on a slice and scaled.

With ``--ab TREE`` it compares this tree's trainer and kernel with another tree's (an older
checkout with its kernel built in place) in one process: both trainers on the same data, their
epochs alternating, the kernel time and the epoch wall of each, and their ratios.

With ``--cli`` it measures the command line instead: ``nnstudio train`` on the data, batch 10, for
3 epochs and for 1 (each in a fresh process; the difference is two epochs with the start-up
cancelled out), alternating with two epochs of the straightforward NumPy SGD, and prints the ratio.

Usage: python benchmarks/bench_trainer.py [--data DIR] [--repeats N] [--cli]
Needs the real MNIST (../shared/datasets/mnist by default); falls back to the embedded
sample tiled to 60,000 images if it is absent (same shapes, same cost per epoch).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

# as the app does (nnstudio/cli.py): one BLAS thread, these matrices are small
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nnstudio.core import Network, Trainer  # noqa: E402
from nnstudio.data import load_dataset  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"


def load(data):
    try:
        ds = load_dataset(data or str(SHARED))
        return ds.train_x, ds.train_labels, ds.test_x, ds.test_labels, ds.name
    except Exception as e:  # noqa: BLE001 - a benchmark: say why and fall back
        print(f"(real MNIST unavailable: {e}; tiling the embedded sample to 60,000)")
        ds = load_dataset("mnist-sample")
        reps = -(-60_000 // ds.n_train)
        x = np.tile(ds.train_x, (reps, 1))[:60_000]
        y = np.tile(ds.train_labels, reps)[:60_000]
        return x, y, ds.test_x, ds.test_labels, "mnist-sample×15"


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def straightforward_epoch(net_params, x, y, batch, eta, rng):
    """A first vectorised implementation: float64, fresh arrays every step."""
    W = [w.copy() for w in net_params[0]]
    b = [v.copy() for v in net_params[1]]
    Y = np.eye(10)[y]
    perm = rng.permutation(len(x))
    t = time.perf_counter()
    for i in range(0, len(x), batch):
        idx = perm[i : i + batch]
        a = x[idx] / 255.0
        acts, zs = [a], []
        for w, bb in zip(W, b):
            z = a @ w.T + bb
            a = sigmoid(z)
            zs.append(z)
            acts.append(a)
        delta = 2 * (a - Y[idx]) * a * (1 - a)
        for l in range(len(W) - 1, -1, -1):
            gw = delta.T @ acts[l] / len(idx)
            gb = delta.mean(axis=0)
            if l:
                delta = (delta @ W[l]) * acts[l] * (1 - acts[l])
            W[l] -= eta * gw
            b[l] -= eta * gb
    return time.perf_counter() - t


def per_example_epoch(net_params, x, y, batch, eta, n_examples):
    """The book's loop: backprop one example at a time, summing nudges per mini-batch."""
    W = [w.copy() for w in net_params[0]]
    b = [v.reshape(-1, 1).copy() for v in net_params[1]]
    t = time.perf_counter()
    for i in range(0, n_examples, batch):
        nw = [np.zeros_like(w) for w in W]
        nb = [np.zeros_like(v) for v in b]
        for j in range(i, min(i + batch, n_examples)):
            a = (x[j] / 255.0).reshape(-1, 1)
            target = np.zeros((10, 1))
            target[y[j]] = 1
            acts, zs = [a], []
            for w, bb in zip(W, b):
                z = w @ a + bb
                a = sigmoid(z)
                zs.append(z)
                acts.append(a)
            delta = 2 * (a - target) * a * (1 - a)
            nb[-1] += delta
            nw[-1] += delta @ acts[-2].T
            for l in range(2, len(W) + 1):
                sp = acts[-l] * (1 - acts[-l])
                delta = (W[-l + 1].T @ delta) * sp
                nb[-l] += delta
                nw[-l] += delta @ acts[-l - 1].T
        W = [w - eta / batch * g for w, g in zip(W, nw)]
        b = [v - eta / batch * g for v, g in zip(b, nb)]
    return (time.perf_counter() - t) * len(x) / n_examples


def nnstudio_epoch(x, y, xt, yt, batch, eta, seed=0, engine="auto"):
    net = Network(seed=seed)
    tr = Trainer(net, x, y, xt, yt, learning_rate=eta, batch_size=batch, seed=seed, engine=engine)
    t = time.perf_counter()
    reports = tr.run_epoch()
    wall = time.perf_counter() - t
    end = reports[-1].epoch_end
    return end.seconds, wall - end.eval_seconds, end.eval_seconds, end.test_accuracy


def cli_seconds(data, epochs, cwd):
    """Wall time of ``nnstudio train`` (batch 10) in a fresh process run from ``cwd``."""
    cmd = [sys.executable, "-m", "nnstudio", "train", "--data", data, "--epochs", str(epochs),
           "--batch-size", "10", "--quiet"]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def cli_bar(args, x, y):
    """Two epochs of ``nnstudio train`` (3 epochs minus 1) against two of the straightforward NumPy.

    Start-up varies by ±0.1 s on a busy machine: each round times a 1-epoch and a 3-epoch run back
    to back, and the median of the rounds' differences is reported (and the difference of the
    fastest runs, for comparison)."""
    data = str(Path(args.data or SHARED).resolve())
    trees = [str(Path(__file__).resolve().parents[1])] + args.compare
    net = Network(seed=0)
    params = ([w.copy() for w in net.weights], [b.copy() for b in net.biases])
    for tree in trees:  # which kernel each tree's `nnstudio train` gets (none: the NumPy engine)
        probe = "import _nnstudio_sgd as k; print(k.ISA, k.__file__)"
        found = subprocess.run([sys.executable, "-c", probe], cwd=tree, capture_output=True, text=True)
        print(f"{tree}: C kernel {found.stdout.strip() or 'not built: the NumPy engine'}")
    runs = {tree: {1: [], 3: []} for tree in trees}
    numpy_runs = []
    for r in range(args.repeats):  # alternate, so that drift hits every column alike
        for tree in trees:
            for epochs in (1, 3):
                runs[tree][epochs].append(cli_seconds(data, epochs, tree))
        rng = np.random.default_rng(r)
        numpy_runs.append(sum(straightforward_epoch(params, x, y, 10, 1.5, rng) for _ in range(2)))
    numpy_two = float(np.median(numpy_runs))
    print(f"straightforward NumPy, 2 epochs at batch 10: median {numpy_two:.3f} s (best {min(numpy_runs):.3f})")
    for tree in trees:
        one, three = np.array(runs[tree][1]), np.array(runs[tree][3])
        two = float(np.median(three - one))
        print(f"nnstudio train from {tree}: 1 epoch {np.median(one):.2f} s, 3 epochs {np.median(three):.2f} s; "
              f"two epochs {two:.3f} s = {two / numpy_two:.2f} of the straightforward NumPy "
              f"(fastest runs: {(three.min() - one.min()) / min(numpy_runs):.2f})")


def load_tree_trainer(tree):
    """The Trainer class of another source tree, run with that tree's compiled kernel (the rest of
    nnstudio.core is this tree's: the trainer is what changes between versions)."""
    import glob
    import importlib.util

    tree = Path(tree).resolve()
    so = glob.glob(str(tree / "_nnstudio_sgd*.so")) + glob.glob(str(tree / "_nnstudio_sgd*.pyd"))
    name = "nnstudio.core._trainer_of_" + "".join(c if c.isalnum() else "_" for c in tree.name)
    spec = importlib.util.spec_from_file_location(name, tree / "nnstudio" / "core" / "trainer.py")
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "nnstudio.core"
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    if so:  # that tree's kernel under its own path (a module of the same name, loaded from that file)
        kspec = importlib.util.spec_from_file_location("_nnstudio_sgd", so[0])
        kernel = importlib.util.module_from_spec(kspec)
        kspec.loader.exec_module(kernel)
        mod._nnstudio_sgd = kernel
    return mod.Trainer


def ab(args, x, y, xt, yt):
    """This tree's trainer against another tree's, epochs alternating in one process."""
    trainers = {"this tree": Trainer, args.ab: load_tree_trainer(args.ab)}
    for batch in (10, 100):
        runs = {}
        for name, cls in trainers.items():
            tr = cls(Network(seed=0), x, y, xt, yt, learning_rate=1.5, batch_size=batch, seed=0)
            tr.run_epoch()  # warm up (first-touch of the buffers)
            runs[name] = (tr, [], [])
        for _ in range(args.repeats):
            for tr, walls, kernel in runs.values():
                t = time.perf_counter()
                end = tr.run_epoch()[-1].epoch_end
                walls.append(time.perf_counter() - t)
                kernel.append(end.seconds)
        print(f"batch {batch}:")
        for name, (tr, walls, kernel) in runs.items():
            print(f"  {name:<40} {tr.engine_in_use} engine: steps {min(kernel):.4f} s, epoch wall {min(walls):.4f} s")
        (_, w0, k0), (_, w1, k1) = runs.values()
        print(f"  this tree / the other: steps {min(k0) / min(k1):.3f} (median of paired "
              f"{np.median(np.divide(k0, k1)):.3f}), wall {min(w0) / min(w1):.3f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None)
    ap.add_argument("--repeats", type=int, default=3, help="epochs per measurement (best is reported)")
    ap.add_argument("--per-example", type=int, default=6000, help="examples timed for the per-example loop")
    ap.add_argument("--cli", action="store_true", help="time `nnstudio train` (3 epochs minus 1) instead")
    ap.add_argument("--ab", default=None, metavar="TREE", help="compare with another tree's trainer in one process")
    ap.add_argument("--compare", nargs="*", default=[], metavar="TREE",
                    help="with --cli: also time `nnstudio train` run from these source trees (e.g. an older checkout)")
    args = ap.parse_args(argv)
    x, y, xt, yt, name = load(args.data)
    if args.cli:
        return cli_bar(args, x, y)
    if args.ab:
        return ab(args, x, y, xt, yt)
    print(f"data: {name}, {len(x):,} training images; numpy {np.__version__}")
    net = Network(seed=0)
    params = ([w.copy() for w in net.weights], [b.copy() for b in net.biases])
    rng = np.random.default_rng(0)
    from nnstudio.core.trainer import c_engine_available

    engines = ["c", "numpy"] if c_engine_available() else ["numpy"]
    if not c_engine_available():
        print("(the C kernel is not built: only the NumPy engine is measured)")
    else:
        import _nnstudio_sgd

        print(f"C kernel: {_nnstudio_sgd.ISA}")
    for batch in (10, 100):
        best = {}
        for engine in engines:
            ours = [nnstudio_epoch(x, y, xt, yt, batch, 1.5, seed=r, engine=engine) for r in range(args.repeats)]
            best[engine] = (min(o[0] for o in ours), min(o[1] for o in ours), ours[0][2], max(o[3] for o in ours))
        straight = min(straightforward_epoch(params, x, y, batch, 1.5, rng) for _ in range(max(1, args.repeats - 1)))
        per_ex = per_example_epoch(params, x, y, batch, 1.5, args.per_example)
        steps = best[engines[0]][0]
        print(f"batch {batch:>3}:")
        for engine in engines:
            s_, wall, ev, acc = best[engine]
            print(f"  nnstudio, {engine:<5} engine  {s_:.3f} s/epoch of steps ({wall:.3f} s with the shuffle; "
                  f"test evaluation {ev * 1000:.0f} ms extra; accuracy after 1 epoch {acc:.2%})")
        print(f"  straightforward NumPy  {straight:.3f} s  (×{straight / steps:.2f} the {engines[0]} engine's time)")
        print(f"  per-example loop       {per_ex:.2f} s  (×{per_ex / steps:.1f})")
        if len(engines) == 2:
            print(f"  C engine vs NumPy engine: ×{best['numpy'][0] / best['c'][0]:.2f} faster")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
