"""The ``nnstudio`` command line.

``nnstudio`` alone opens the studio window (or, with no display, trains on the embedded
sample so it still does its main job).  The other commands are headless and never
import Qt: ``train``, ``evaluate``, ``predict``, ``download``.

Exit codes: 0 success, 1 a runtime problem (bad file, missing data, ...) reported in one
line, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

# The network's matrices are small: BLAS threads only contend with the trainer and the GUI
# (measured: batch-100 epochs 10× slower with OpenBLAS threads on a busy 2-core machine).
# Set before NumPy is first imported; an explicit setting by the user wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from nnstudio import __version__, limits  # noqa: E402
from nnstudio._resources import shipped_model_path  # noqa: E402

PROG = "nnstudio"


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 1."""


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised where the program is, so that every ``finally`` cleans up
    (a download's ``.part``, a save's temporary file) before it exits with 128 + the signal.  A
    BaseException, so no ``except Exception`` on the way mistakes it for a failure to carry on from."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _raise_terminated(signum, _frame):
    raise Terminated(signum)


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:  # pragma: no cover
        return f"signal {signum}"


# --------------------------------------------------------------------------- helpers
def _parse_sizes(text: str) -> tuple[int, ...]:
    """'784,16,16,10' or '784-16-16-10' (spaces allowed) → (784, 16, 16, 10); every part a whole
    number >= 1 (so '784,-16,10' is refused, not read as 784-16-10)."""
    parts = [p.strip() for p in re.split(r"[,-]", text.strip())]
    if any(not p for p in parts):
        raise argparse.ArgumentTypeError(
            f"layer sizes must be positive whole numbers separated by commas, like 784,16,16,10, not {text!r}")
    if not all(p.isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"layer sizes must be whole numbers like 784,16,16,10, not {text!r}")
    sizes = tuple(int(p) for p in parts)
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"need at least two positive layer sizes, got {text!r}")
    return sizes


def _whole(text: str, lo: int, hi: int | None = None) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < lo or (hi is not None and v > hi):
        raise argparse.ArgumentTypeError(f"expected a number from {lo:,} to {hi:,}, got {v}" if hi is not None
                                         else f"expected a number >= {lo}, got {v}")
    return v


def _positive_int(text: str) -> int:
    return _whole(text, 1)


def _seed(text: str) -> int:
    return _whole(text, 0, limits.SEED_MAX)


def _copies(text: str) -> int:
    return _whole(text, 0)


def _nonneg_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (v >= 0 and v < float("inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return v


def _resolve_model(text: str) -> Path:
    if text in ("pretrained", "shipped", "default"):
        return shipped_model_path()
    return Path(text)


def _load_dataset(name: str, quiet: bool, splits=("train", "test")):
    from nnstudio.data import dataset_status, load_dataset

    progress = None
    bar = None
    if not quiet and name in ("mnist", "fashion-mnist") and dataset_status(name) == "not downloaded":
        progress, bar = _download_progress()
    try:
        return load_dataset(name, progress=progress, splits=splits)
    finally:
        if bar is not None:
            bar.close()


def _download_progress():
    from tqdm import tqdm

    state = {"bar": None, "file": None}

    def progress(done, total, filename):
        if state["file"] != filename:
            if state["bar"] is not None:
                state["bar"].close()
            state["bar"] = tqdm(total=total or None, unit="B", unit_scale=True, desc=filename, file=sys.stderr,
                                leave=False, disable=not sys.stderr.isatty())
            state["file"] = filename
        bar = state["bar"]
        bar.update(done - bar.n)

    class _Closer:
        def close(self):
            if state["bar"] is not None:
                state["bar"].close()

    return progress, _Closer()


def _check_out(path: Path) -> None:
    """Refuse now, before training, an --out that could not be written."""
    from nnstudio._atomic import check_writable

    try:
        check_writable(path)
    except OSError as e:
        raise UserError(f"--out {path}: cannot save there ({e.strerror or e})") from None


def _emit(obj, stream=None):
    print(json.dumps(obj), file=stream or sys.stdout, flush=True)


# --------------------------------------------------------------------------- train
def cmd_train(args) -> int:
    import numpy as np

    from nnstudio.core import DivergedError, Network, Trainer, save_model

    if args.out is not None:
        _check_out(args.out)  # (a missing folder is found now, not after the training)
    if args.save_run is not None:
        _check_out(args.save_run)
        if args.augment:
            raise UserError("--save-run cannot record a run with --augment (its replay would need the same "
                            "augmented copies); leave one of them out")
    data = _load_dataset(args.data, args.quiet or args.json)
    cost = args.cost
    lr = args.learning_rate if args.learning_rate is not None else (1.5 if cost == "quadratic" else 0.5)
    sizes = args.sizes
    if sizes[0] != 784 or sizes[-1] != len(data.class_names):
        raise UserError(
            f"the first layer must have 784 neurons (28×28 pixels) and the last {len(data.class_names)}, "
            f"got {'-'.join(map(str, sizes))}"
        )
    limits.check_network(sizes, args.batch_size)  # (before anything is built)
    n_train = data.n_train * (args.augment + 1)
    if args.augment:
        limits.check_data(n_train * 784, f"--augment {args.augment} ({n_train:,} training images)")
    weight_decay = args.weight_decay if args.weight_decay is not None else 5.0 * n_train / 60_000
    shrink = lr * weight_decay / n_train
    if args.weight_decay is not None and shrink >= 1:
        raise UserError(
            f"--weight-decay {weight_decay:g} is too strong for learning rate {lr:g} on {n_train:,} training images: "
            f"each step would multiply the weights by 1 − ηλ/n = {1 - shrink:.3g} (it must stay above 0); "
            f"use --weight-decay below {n_train / lr:g}"
        )
    net = Network(sizes, activation=args.activation, cost=cost, init=args.init, seed=args.seed)
    train_x, train_y = data.train_x, data.train_labels
    if args.augment:
        from nnstudio.data.augment import augment

        rng = np.random.default_rng(args.seed)
        n = data.n_train
        train_x = np.empty((n_train, 784), dtype=np.uint8)  # (filled in place: no second copy of it all)
        train_x[:n] = data.train_x
        for k in range(1, args.augment + 1):
            train_x[k * n : (k + 1) * n] = augment(data.train_images, rng).reshape(n, -1)
        train_y = np.tile(data.train_labels, args.augment + 1)
    trainer = Trainer(
        net, train_x, train_y, data.test_x, data.test_labels,
        learning_rate=lr, batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
        weight_decay=weight_decay,
    )
    recorder = None
    if args.save_run is not None:
        from nnstudio.training.runfile import RunRecorder

        recorder = RunRecorder(trainer, args.data, data.name, data.class_names)
    quiet = args.quiet or args.json
    if not quiet:
        print(
            f"Training {net.describe()} on {data.name} ({len(train_x):,} training / {data.n_test:,} test images); "
            f"learning rate {lr:g} (× {args.lr_decay:g} per epoch), L2 λ {weight_decay:.3g}, mini-batch {args.batch_size}, "
            f"{args.epochs} epochs, seed {args.seed}; {trainer.engine_in_use} engine",
            file=sys.stderr,
        )
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=trainer.batches_per_epoch, unit="batch", file=sys.stderr, leave=False, mininterval=0.2,
                   disable=not sys.stderr.isatty())
    history = []
    best = 0.0
    t_start = time.perf_counter()
    pending = 0
    old_err = np.seterr(all="ignore")  # a diverging run is reported below, not by NumPy warnings
    try:
        while not trainer.finished:
            r = trainer.step()
            if recorder is not None:
                recorder.record(r)
            if bar is not None:
                pending += 1
                if pending >= 200 or r.epoch_end is not None:
                    bar.update(pending)
                    pending = 0
            if r.diverged:
                raise DivergedError(
                    f"the cost became infinite at epoch {r.epoch + 1} (learning rate {r.learning_rate:g}); "
                    "try a smaller --learning-rate"
                )
            e = r.epoch_end
            if e is None:
                continue
            best = max(best, e.test_accuracy or 0.0)
            rec = {
                "epoch": e.epoch, "train_cost": round(e.train_cost, 6), "accuracy": e.test_accuracy,
                "test_cost": e.test_cost, "learning_rate": trainer.learning_rate,
                "seconds": round(e.seconds, 4), "examples_per_second": round(len(train_x) / max(e.seconds, 1e-9)),
            }
            history.append(rec)
            if args.json:
                _emit(rec)
            elif not args.quiet:
                bar.clear()
                print(
                    f"epoch {e.epoch:>3}/{args.epochs}: test accuracy {100 * e.test_accuracy:6.2f}%  "
                    f"cost {e.train_cost:.4f} (train) {e.test_cost:.4f} (test)  {e.seconds:.2f} s",
                    file=sys.stderr, flush=True,
                )
                bar.reset(total=trainer.batches_per_epoch)
            if args.lr_decay != 1.0:
                trainer.learning_rate *= args.lr_decay
    except (KeyboardInterrupt, Terminated) as stop:
        if bar is not None:
            bar.close()
        why = "interrupted" if isinstance(stop, KeyboardInterrupt) else f"stopped by {_signal_name(stop.signum)}"
        print(f"{PROG}: {why} after {trainer.epoch} epochs; nothing saved", file=sys.stderr)
        return 130 if isinstance(stop, KeyboardInterrupt) else 128 + stop.signum
    finally:
        np.seterr(**old_err)
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t_start
    final = history[-1]["accuracy"] if history else None
    out = None
    if args.out:
        out = save_model(
            net, args.out,
            dataset=data.name, sizes=list(net.sizes), activation=net.activation.name, cost=net.cost.name,
            init=net.init, learning_rate=lr, lr_decay=args.lr_decay, batch_size=args.batch_size,
            epochs=args.epochs, seed=args.seed, weight_decay=weight_decay, augment=args.augment,
            accuracy=final, best_accuracy=best, seconds=round(seconds, 2), history=history,
            command=" ".join([PROG] + sys.argv[1:]) if sys.argv and sys.argv[0] else None,
            nnstudio_version=__version__,
        )
    if recorder is not None:
        from nnstudio.training.runfile import RunFileError

        try:
            recorder.save(args.save_run, learning_rate=lr, batch_size=args.batch_size, epochs=args.epochs)
        except RunFileError as e:
            raise UserError(str(e)) from None
        if not quiet:
            print(f"run saved to {args.save_run} ({len(recorder.store)} checkpoints): open it in the studio "
                  f"(File ▸ Open run) or '{PROG} replay {args.save_run} --out training.gif'", file=sys.stderr)
    summary = {
        "final": True, "accuracy": final, "best_accuracy": best, "epochs": trainer.epoch,
        "seconds": round(seconds, 2), "dataset": data.name, "sizes": list(net.sizes),
        "model": str(out) if out else None,
    }
    if args.json:
        _emit(summary)
    elif not args.quiet:
        where = f"; saved to {out}" if out else " (not saved: use --out PATH to keep it)"
        print(f"done: test accuracy {100 * (final or 0):.2f}% after {trainer.epoch} epochs in {seconds:.1f} s{where}")
    return 0


# --------------------------------------------------------------------------- evaluate
def cmd_evaluate(args) -> int:
    from nnstudio.core import load_model
    from nnstudio.components.evaluation import evaluation_report

    net, meta = load_model(_resolve_model(args.model), with_metadata=True)
    data = _load_dataset(args.data, args.quiet or args.json, splits=(args.split,))  # (only the files it reads)
    if net.sizes[0] != 784 or net.sizes[-1] != len(data.class_names):
        raise UserError(f"{Path(args.model).name}: a {'-'.join(map(str, net.sizes))} network cannot read {data.name}")
    images, labels = (data.test_images, data.test_labels) if args.split == "test" else (data.train_images, data.train_labels)
    rep = evaluation_report(net, images, labels, len(data.class_names))
    rep.update({"model": str(args.model), "dataset": data.name, "split": args.split})
    if args.json:
        _emit(rep)
        return 0
    print(f"{net.describe()}")
    print(f"{data.name} {args.split} set: accuracy {100 * rep['accuracy']:.2f}% ({rep['correct']:,} of {rep['total']:,}), mean cost {rep['mean_cost']:.4f}")
    print("per class: " + "  ".join(
        f"{name}: {'-' if a is None else f'{100 * a:.1f}%'}" for name, a in zip(data.class_names, rep["per_digit"])
    ))
    print("confusion matrix (rows: true, columns: predicted):")
    print("      " + " ".join(f"{i:>5}" for i in range(len(data.class_names))))
    for i, row in enumerate(rep["confusion"]):
        print(f"{i:>5} " + " ".join(f"{v:>5}" for v in row))
    return 0


# --------------------------------------------------------------------------- predict
def cmd_predict(args) -> int:
    from nnstudio.core import load_model
    from nnstudio.data import DataError, load_image, to_mnist

    net = load_model(_resolve_model(args.model))
    if net.sizes[0] != 784:
        raise UserError(f"{Path(args.model).name}: the network takes {net.sizes[0]} inputs, not 28×28 = 784 pixels")
    failures = 0
    for path in args.images:
        try:
            image = to_mnist(load_image(path), polarity=args.polarity)
        except DataError as e:
            failures += 1
            print(f"{PROG}: {e}", file=sys.stderr)
            continue
        if not image.any():
            rec = {"path": str(path), "digit": None, "confidence": None, "activations": None, "blank": True}
        else:
            act = net.feedforward(image.reshape(1, -1))[0]
            digit = int(act.argmax())
            rec = {"path": str(path), "digit": digit, "confidence": float(act[digit]), "activations": [float(a) for a in act], "blank": False}
        if args.json:
            _emit(rec)
        elif rec["blank"]:
            print(f"{path}: blank (no ink found)")
        else:
            acts = " ".join(f"{i}:{a:.3f}" for i, a in enumerate(rec["activations"]))
            print(f"{path}: {rec['digit']}  (activation {rec['confidence']:.3f})  [{acts}]")
    return 1 if failures else 0  # (the images that could be read were all answered above)


# --------------------------------------------------------------------------- download
def cmd_download(args) -> int:
    from nnstudio.data import dataset_status, download_dataset

    if args.name == "mnist-sample":
        print("mnist-sample is embedded in nnstudio: nothing to download")
        return 0
    progress, bar = (None, None) if args.quiet else _download_progress()
    try:
        path = download_dataset(args.name, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    print(f"{args.name}: {dataset_status(args.name)} in {path}")
    return 0


# --------------------------------------------------------------------------- replay
def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[x×,]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a size like 800x450, not {text!r}")
    return int(m.group(1)), int(m.group(2))


def cmd_replay(args) -> int:
    from nnstudio.training.runfile import RunFileError, fingerprint, load_run

    try:
        run = load_run(args.run)  # (checked before Qt or the data load)
    except RunFileError as e:
        raise UserError(str(e)) from None
    _check_out(args.out)
    key = args.data or run.meta["dataset"].get("key") or "mnist-sample"
    data = _load_dataset(key, quiet=False, splits=("train", "test"))
    d = run.meta["dataset"]
    if data.n_train != d["n_train"] or fingerprint(data.train_x, data.train_labels) != d["fingerprint"]:
        raise UserError(f"{args.run.name} was trained on {d.get('name') or 'other data'} ({d['n_train']:,} training "
                        f"images), not on {data.name}; give its dataset with --data")
    if not _has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # (renders with no display at all)
    from nnstudio.gui.replay import ensure_app, render_replay
    from nnstudio.session.model import InputExample

    ensure_app()
    i = min(args.example, data.n_test - 1) if data.n_test else None
    example = None if i is None else InputExample(pixels=data.test_x[i] * (1.0 / 255.0), label=int(data.test_labels[i]),
                                                  source=f"test #{i}", index=i, split="test")
    try:
        out = render_replay(run, run.replayer(data.train_x, data.train_labels), args.out, first=args.first,
                            last=args.last, frames=args.frames, fps=args.fps, size=args.size, spacing=args.spacing,
                            example=example, class_names=data.class_names)
    except ValueError as e:
        raise UserError(str(e)) from None
    print(f"{out.path}: {len(out.steps)} frames of {out.size[0]}x{out.size[1]} at {out.fps:g} fps, "
          f"steps {out.steps[0]:,} to {out.steps[-1]:,}")
    return 0


# --------------------------------------------------------------------------- gui
def _has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def cmd_gui(args) -> int:
    if not _has_display():
        print(
            f"{PROG}: no display found, so instead of the window here is what it does headless: "
            "training the videos' 784-16-16-10 network on the embedded MNIST sample "
            f"(see '{PROG} train --help'; run '{PROG}' on a desktop for the studio window)",
            file=sys.stderr,
        )
        return main(["train", "--data", "mnist-sample", "--epochs", "10"])
    from nnstudio._platform import window_problem

    problem = window_problem()  # (Qt would abort the process with a core dump: say why, and do the main job)
    if problem:
        print(f"{PROG}: {problem}. Meanwhile, here is what it does headless: training the videos' 784-16-16-10 "
              "network on the embedded MNIST sample", file=sys.stderr)
        return main(["train", "--data", "mnist-sample", "--epochs", "10"])
    from nnstudio.gui.app import run

    stopped: list[int] = []

    def close_window(signum, _frame):  # SIGTERM, SIGHUP: close as Ctrl+C does (settings saved, workers joined)
        stopped.append(signum)
        from nnstudio.gui.qt import QtWidgets

        QtWidgets.QApplication.closeAllWindows()

    for sig in _STOP_SIGNALS:
        signal.signal(sig, close_window)
    code = run(model=getattr(args, "model", None))
    return 128 + stopped[0] if stopped else code


def cmd_desktop(install: bool) -> int:
    from nnstudio import desktop

    if install:
        paths = desktop.install()
        print("installed: " + ", ".join(str(p) for p in paths))
    else:
        paths = desktop.uninstall()
        print("removed: " + (", ".join(str(p) for p in paths) if paths else "nothing was installed"))
    return 0


# --------------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error told in one line (exit code 2) instead of the whole usage text."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())} (usage: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from nnstudio.core.activations import ACTIVATIONS

    p = _Parser(
        prog=PROG,
        description="Watch a neural network learn to read handwritten digits. "
        "With no command, opens the studio window.",
    )
    p.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    p.add_argument("--install-desktop", action="store_true", help="add nnstudio to your desktop's application menu")
    p.add_argument("--uninstall-desktop", action="store_true", help="remove it from the application menu")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train a network (headless)", description="Train a network with stochastic gradient descent.")
    t.add_argument("--data", default="mnist-sample", metavar="NAME|DIR",
                   help="mnist-sample (embedded, default), mnist, fashion-mnist, or a folder with the four IDX files")
    t.add_argument("--sizes", type=_parse_sizes, default=(784, 16, 16, 10), metavar="784,16,16,10",
                   help="layer sizes (training must fit NNSTUDIO_MAX_NETWORK_MB, 2,048 MB by default)")
    t.add_argument("--activation", choices=sorted(ACTIVATIONS), default="sigmoid", help="hidden-layer activation (the output layer is always a sigmoid)")
    t.add_argument("--cost", choices=["quadratic", "cross-entropy"], default="quadratic",
                   help="quadratic: C = Σ(a − y)² per example as in the videos (no ½); averaged over examples")
    t.add_argument("--init", choices=["scaled", "normal"], default="scaled", help="weights N(0, 1/n_in) (default) or N(0, 1)")
    t.add_argument("--epochs", type=_positive_int, default=30)
    t.add_argument("--batch-size", type=_positive_int, default=10)
    t.add_argument("--learning-rate", "--eta", dest="learning_rate", type=_nonneg_float, default=None,
                   help="η (default 1.5 for quadratic, which is the book's η = 3.0 for its ½-cost; 0.5 for cross-entropy)")
    t.add_argument("--lr-decay", type=_nonneg_float, default=0.9, metavar="FACTOR",
                   help="multiply η by this after every epoch (default 0.9; 1 keeps it constant)")
    t.add_argument("--weight-decay", type=_nonneg_float, default=None, metavar="LAMBDA",
                   help="L2 regularisation λ: the cost gains λ/(2n)·Σw², so weights shrink by 1 − ηλ/n each step "
                   "(default: 5 × n/60000, i.e. λ = 5 on full MNIST and the same shrink per step on any dataset; 0 turns it off)")
    t.add_argument("--augment", type=_copies, default=0, metavar="K",
                   help="add K randomly shifted/scaled/thickened copies of the training set "
                   "(they must fit NNSTUDIO_MAX_DATA_MB, 1,024 MB by default: 20 copies of MNIST)")
    t.add_argument("--seed", type=_seed, default=0, help=f"fixes the initial weights and the shuffle order (0 to {limits.SEED_MAX})")
    t.add_argument("--out", type=Path, metavar="PATH", help="save the trained network here (.npz)")
    t.add_argument("--save-run", type=Path, metavar="RUN",
                   help="also save the whole run (every mini-batch's cost, checkpoints to rebuild any of them): "
                   "open it in the studio's timeline, or make a GIF with 'nnstudio replay RUN'")
    t.add_argument("--json", action="store_true", help="print one JSON object per epoch and a final one")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="test a saved network", description="Accuracy, per-digit accuracy and confusion matrix.")
    e.add_argument("model", metavar="MODEL", help="a .npz model file, or 'pretrained' for the shipped one")
    e.add_argument("--data", default="mnist-sample", metavar="NAME|DIR")
    e.add_argument("--split", choices=["test", "train"], default="test")
    e.add_argument("--json", action="store_true")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("predict", help="read digits from image files",
                       description="Read handwritten digits from PNG/JPEG/BMP files of any size and either ink polarity. "
                       "Each image is prepared as MNIST was: cropped to the ink, fitted to 20×20, centred by mass in 28×28.")
    r.add_argument("model", metavar="MODEL", help="a .npz model file, or 'pretrained' for the shipped one")
    r.add_argument("images", metavar="IMAGE", nargs="+", type=Path)
    r.add_argument("--polarity", choices=["auto", "bright", "dark"], default="auto", help="ink brighter or darker than the paper (default: detect)")
    r.add_argument("--json", action="store_true", help="one JSON object per image")
    r.set_defaults(func=cmd_predict)

    d = sub.add_parser("download", help="download a dataset into the cache")
    d.add_argument("name", choices=["mnist", "fashion-mnist", "mnist-sample"])
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=cmd_download)

    rp = sub.add_parser("replay", help="a run as an animated GIF (headless)",
                        description="Render a saved run (File ▸ Save run, or 'nnstudio train --save-run') as an "
                        "animated GIF: the network diagram beside the cost curve, with a step counter. Needs no display.")
    rp.add_argument("run", metavar="RUN", type=Path, help="a run file (.npz)")
    rp.add_argument("--out", type=Path, required=True, metavar="GIF", help="the GIF to write")
    rp.add_argument("--from", dest="first", type=_copies, default=None, metavar="STEP", help="first mini-batch (default: the run's first)")
    rp.add_argument("--to", dest="last", type=_copies, default=None, metavar="STEP", help="last mini-batch (default: the run's last)")
    rp.add_argument("--frames", type=_positive_int, default=60, help="frames in the GIF (default 60)")
    rp.add_argument("--fps", type=_nonneg_float, default=10.0, help="frames per second (default 10)")
    rp.add_argument("--size", type=_size, default=(800, 450), metavar="WxH", help="pixels (default 800x450)")
    rp.add_argument("--spacing", choices=["linear", "log"], default="linear",
                    help="frames evenly in steps, or in log(step): more of the early training, when it changes most")
    rp.add_argument("--example", type=_copies, default=0, metavar="N", help="the test image lighting the network (default 0)")
    rp.add_argument("--data", default=None, metavar="NAME|DIR", help="where the run's dataset is (default: as saved)")
    rp.set_defaults(func=cmd_replay)

    g = sub.add_parser("gui", help="open the studio window (the default)")
    g.add_argument("--model", type=Path, help="open this model file")
    g.set_defaults(func=cmd_gui)
    return p


def _on_stop_signals(handler) -> dict:
    """Install ``handler`` for SIGTERM and SIGHUP (main thread only); returns the previous ones."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        return {}
    return {sig: signal.signal(sig, handler) for sig in _STOP_SIGNALS}


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from nnstudio.core import DivergedError, ModelFileError
    from nnstudio.data import DataError

    previous = _on_stop_signals(_raise_terminated)
    try:
        if args.install_desktop or args.uninstall_desktop:
            return cmd_desktop(install=args.install_desktop)
        if args.command is None:
            return cmd_gui(args)
        return args.func(args)
    except Terminated as t:
        print(f"{PROG}: stopped by {_signal_name(t.signum)}; nothing partial was left behind", file=sys.stderr)
        return 128 + t.signum
    except (UserError, DataError, ModelFileError, DivergedError, limits.LimitError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{PROG}: error: {e.filename or ''}{': ' if e.filename else ''}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
