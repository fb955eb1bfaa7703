"""Trainer speed over a grid of shapes × batch sizes, as ratios to straightforward NumPy (and PyTorch).

The grid is {784-16-16-10, 784-30-10, 784-100-10, 784-300-100-10, 784-1000-10} × batch {1, 10, 32, 100,
1000}: sigmoid, quadratic cost, plain SGD (η 1.5), MNIST.  Each cell times one epoch of

- nnstudio's Trainer (its default engine: the C kernel when it was built), the Python loop included;
- the straightforward vectorised NumPy SGD of benchmarks/bench_trainer.py (float64, one BLAS thread);
- PyTorch float32 on one thread, when it can be imported here or ``--torch-python`` names an
  interpreter (a separate venv) that has it: the same maths written with torch tensors, no autograd
  (its fastest form).  PyTorch is optional: never a dependency of nnstudio or of this benchmark.

This machine is noisy: in each cell the methods alternate ``--repeats`` times and the best of each
is kept, and the ratios are read within a cell.  Slow cells time a prefix of the epoch (at least
``--min-examples`` examples, about ``--budget`` seconds for the slowest method) and scale it to
60,000; every method of a cell times the same examples.

Usage: python benchmarks/bench_grid.py [--data DIR] [--torch-python PATH] [--numpy-engine] [--sizes ...]
[--batches ...].  Prints the table (seconds per epoch; ×numpy = NumPy's time / nnstudio's, ×torch
likewise, ×engine for nnstudio's own NumPy engine: above 1 nnstudio's default is faster) and the
smallest ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZES = ("784-16-16-10", "784-30-10", "784-100-10", "784-300-100-10", "784-1000-10")
BATCHES = (1, 10, 32, 100, 1000)
ETA = 1.5
N_EPOCH = 60_000


# --------------------------------------------------------------------------- PyTorch (optional)
def torch_epoch(torch, x, y, sizes, batch, n, seed=0, eta=ETA):
    """One epoch over x[:n] in float32 with torch tensors, the maths of straightforward_epoch."""
    g = torch.Generator().manual_seed(seed)
    W = [torch.randn(o, i, generator=g) / i**0.5 for i, o in zip(sizes[:-1], sizes[1:])]
    b = [torch.randn(o, generator=g) for o in sizes[1:]]
    X = torch.from_numpy(np.ascontiguousarray(x[:n]))
    Y = torch.eye(sizes[-1])[torch.from_numpy(y[:n].astype(np.int64))]
    perm = torch.randperm(n, generator=g)
    t = time.perf_counter()
    with torch.no_grad():
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            a = X[idx].float().mul_(1 / 255)
            acts = [a]
            for w, bb in zip(W, b):
                a = torch.addmm(bb, a, w.t()).sigmoid_()
                acts.append(a)
            d = (a - Y[idx]).mul_(a * (1 - a)).mul_(2 * eta / len(idx))
            for l in range(len(W) - 1, -1, -1):
                if l:
                    d_prev = (d @ W[l]).mul_(acts[l] * (1 - acts[l]))
                W[l].addmm_(d.t(), acts[l], alpha=-1)
                b[l].sub_(d.sum(0))
                if l:
                    d = d_prev
    return time.perf_counter() - t


def torch_worker(data_file):
    """Run in the interpreter that has PyTorch: one JSON request per line in, seconds out."""
    import torch

    torch.set_num_threads(1)
    with np.load(data_file) as f:
        x, y = f["x"], f["y"]
    print(json.dumps({"torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        t = torch_epoch(torch, x, y, tuple(req["sizes"]), req["batch"], req["n"], req["seed"])
        print(json.dumps({"seconds": t}), flush=True)


class TorchColumn:
    """PyTorch in this process, or in a worker process of another interpreter, or absent."""

    def __init__(self, x, y, python=None):
        self.proc = self.torch = None
        self.version = None
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None:
            torch.set_num_threads(1)
            self.torch, self.version, self.x, self.y = torch, torch.__version__, x, y
        elif python:
            self._tmp = tempfile.TemporaryDirectory()
            data = os.path.join(self._tmp.name, "mnist.npz")
            np.savez(data, x=x, y=y)
            env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
            self.proc = subprocess.Popen([python, __file__, "--torch-worker", data], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env=env)
            self.version = json.loads(self.proc.stdout.readline())["torch"]

    @property
    def available(self):
        return self.version is not None

    def epoch(self, sizes, batch, n, seed):
        if self.torch is not None:
            return torch_epoch(self.torch, self.x, self.y, sizes, batch, n, seed)
        self.proc.stdin.write(json.dumps({"sizes": list(sizes), "batch": batch, "n": n, "seed": seed}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["seconds"]

    def close(self):
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


# --------------------------------------------------------------------------- the other columns
def nnstudio_epoch(x, y, sizes, batch, n, seed, engine="auto"):
    from nnstudio.core import Network, Trainer

    net = Network(sizes, seed=seed)
    tr = Trainer(net, x[:n], y[:n], learning_rate=ETA, batch_size=batch, seed=seed, engine=engine)
    t = time.perf_counter()
    tr.run_epoch()
    return time.perf_counter() - t, tr.engine_in_use


def numpy_epoch(x, y, sizes, batch, n, seed):
    from bench_trainer import straightforward_epoch
    from nnstudio.core import Network

    net = Network(sizes, seed=seed)
    params = ([w.copy() for w in net.weights], [b.copy() for b in net.biases])
    return straightforward_epoch(params, x[:n], y[:n], batch, ETA, np.random.default_rng(seed))


def examples_for(x, y, sizes, batch, args):
    """How many examples a cell times: all 60,000 unless NumPy would take over the budget."""
    probe = max(batch, min(N_EPOCH, 2000))
    per = numpy_epoch(x, y, sizes, batch, probe, 0) / probe
    n = int(args.budget / max(per, 1e-9))
    n = max(args.min_examples, min(N_EPOCH, n))
    return max(batch, n - n % batch)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="folder of the MNIST IDX files (default ../shared/datasets/mnist)")
    ap.add_argument("--torch-python", default=os.environ.get("NNSTUDIO_TORCH_PYTHON"),
                    help="an interpreter with PyTorch, for the optional PyTorch column")
    ap.add_argument("--sizes", nargs="+", default=SIZES)
    ap.add_argument("--batches", nargs="+", type=int, default=BATCHES)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds NumPy may take per run of a cell")
    ap.add_argument("--min-examples", type=int, default=6000)
    ap.add_argument("--numpy-engine", action="store_true", help="also time nnstudio's own NumPy engine (×engine)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--torch-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.torch_worker:
        return torch_worker(args.torch_worker)

    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from bench_trainer import load
    from nnstudio.core.trainer import c_engine_available

    x, y, _, _, name = load(args.data)
    torch_col = TorchColumn(x, y, args.torch_python)
    isa = "not built"
    if c_engine_available():
        import _nnstudio_sgd

        isa = _nnstudio_sgd.ISA
    print(f"data: {name}; numpy {np.__version__}; C kernel: {isa}; "
          f"PyTorch: {torch_col.version + ' (float32, 1 thread)' if torch_col.available else 'not available'}")
    head = f"{'sizes':<15}{'batch':>6}{'examples':>9}{'engine':>7}{'nnstudio s':>12}{'numpy s':>10}{'×numpy':>8}"
    if torch_col.available:
        head += f"{'torch s':>10}{'×torch':>8}"
    if args.numpy_engine:
        head += f"{'engine s':>10}{'×engine':>8}"
    print(head)
    rows = []
    try:
        for text in args.sizes:
            sizes = tuple(int(s) for s in text.split("-"))
            for batch in args.batches:
                n = examples_for(x, y, sizes, batch, args)
                best = {"nnstudio": np.inf, "numpy": np.inf, "torch": np.inf, "numpy_engine": np.inf}
                engine = "?"
                for r in range(args.repeats):  # the methods alternate: drift hits them alike
                    t, engine = nnstudio_epoch(x, y, sizes, batch, n, r)
                    best["nnstudio"] = min(best["nnstudio"], t)
                    best["numpy"] = min(best["numpy"], numpy_epoch(x, y, sizes, batch, n, r))
                    if torch_col.available:
                        best["torch"] = min(best["torch"], torch_col.epoch(sizes, batch, n, r))
                    if args.numpy_engine:
                        t, _ = nnstudio_epoch(x, y, sizes, batch, n, r, engine="numpy")
                        best["numpy_engine"] = min(best["numpy_engine"], t)
                scale = N_EPOCH / n
                row = {"sizes": text, "batch": batch, "examples": n, "engine": engine,
                       **{k: v * scale for k, v in best.items() if np.isfinite(v)}}
                row["x_numpy"] = row["numpy"] / row["nnstudio"]
                line = (f"{text:<15}{batch:>6}{n:>9}{engine:>7}{row['nnstudio']:>12.3f}{row['numpy']:>10.3f}"
                        f"{row['x_numpy']:>8.2f}")
                if "torch" in row:
                    row["x_torch"] = row["torch"] / row["nnstudio"]
                    line += f"{row['torch']:>10.3f}{row['x_torch']:>8.2f}"
                if "numpy_engine" in row:
                    row["x_engine"] = row["numpy_engine"] / row["nnstudio"]
                    line += f"{row['numpy_engine']:>10.3f}{row['x_engine']:>8.2f}"
                print(line, flush=True)
                rows.append(row)
    finally:
        torch_col.close()
    worst = min(rows, key=lambda r: r["x_numpy"])
    print(f"smallest ×numpy: {worst['x_numpy']:.2f} ({worst['sizes']}, batch {worst['batch']})")
    if torch_col.available:
        worst = min(rows, key=lambda r: r["x_torch"])
        print(f"smallest ×torch: {worst['x_torch']:.2f} ({worst['sizes']}, batch {worst['batch']}); "
              f"1/1.3 = 0.77 is the goal's limit")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
