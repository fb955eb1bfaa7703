"""Run files: a whole training run saved to open again, replay, or take to class (no Qt here).

A run file is a plain ``.npz`` (never pickle) holding what rebuilds every mini-batch of the run:

* ``meta``: JSON text: the architecture, the seed, the weight decay and the engine, the dataset (its
  name, how to load it, its size and a fingerprint of its training set: opening checks it), the
  settings, every checkpoint's position (see :mod:`nnstudio.training.checkpoints`) and the epochs;
* ``params``: the checkpoints' weights, ``(checkpoints, parameters)`` float64, and ``start``: the
  run's initial weights (what Rewind goes back to);
* ``h_step``, ``h_epoch``, ``h_batch``, ``h_seen``, ``h_cost``, ``h_lr``, ``h_bs``: the history,
  one row per mini-batch (the learning rate and mini-batch size each step used are what a replay
  needs between two checkpoints).

Reading decides from sizes alone before reading: each zip entry's declared size and ``.npy``
header are checked (:class:`nnstudio.core.modelfile._Entries`, the model files' reader) against
what the metadata says and against :data:`MAX_RUN_BYTES`; any problem is a :class:`RunFileError`
with one line naming the file.  Writing is atomic (:func:`nnstudio._atomic.atomic_path`).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnstudio import limits
from nnstudio._atomic import open_file_of, write_file
from nnstudio.core import ACTIVATIONS, COSTS, INITS, Network
from nnstudio.core.modelfile import ModelFileError, _Entries, _what_is
from nnstudio.core.trainer import EpochReport
from nnstudio.training.checkpoints import CheckpointStore, Replayer, trainer_spacing
from nnstudio.training.history import ROW, TrainingHistory
from nnstudio.training.reportblock import WIRE, ReportBlock

FORMAT = "nnstudio-run"
FORMAT_VERSION = 1
#: the most data a run file may hold (checkpoints + history; on disk and decompressed), the most
#: mini-batch rows and checkpoints: the project's limits (nnstudio/limits.py)
MAX_RUN_BYTES = limits.RUN_FILE_BYTES
MAX_ROWS = limits.RUN_ROWS
MAX_CHECKPOINTS = limits.RUN_CHECKPOINTS
#: the history's columns in the file: (entry, ROW field, dtype kinds)
_COLUMNS = (("h_step", "step", "iu"), ("h_epoch", "epoch", "iu"), ("h_batch", "batch", "iu"),
            ("h_seen", "examples_seen", "iu"), ("h_cost", "cost", "f"), ("h_lr", "learning_rate", "f"),
            ("h_bs", "batch_size", "iu"))


class RunFileError(Exception):
    """A run file could not be read or written; the message is one line naming the file."""


def fingerprint(train_x, train_labels) -> str:
    """A short hash of a training set (opening a run checks that the data are the run's)."""
    h = hashlib.blake2b(digest_size=12)
    h.update(repr((np.asarray(train_x).shape, str(np.asarray(train_x).dtype))).encode())
    h.update(np.ascontiguousarray(train_labels).tobytes())
    h.update(np.ascontiguousarray(train_x).data)
    return h.hexdigest()


@dataclass
class Run:
    """A run: enough to rebuild any of its mini-batches (with its training set) and to draw it.

    ``meta``: the JSON metadata (see the module docstring); ``store``: its checkpoints;
    ``history``: every mini-batch; ``start``: its initial weights (flat, like ``Network.buffer``)."""

    meta: dict
    store: CheckpointStore
    history: TrainingHistory
    start: np.ndarray

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(self.meta["sizes"])

    @property
    def last_step(self) -> int:
        return int(self.meta.get("steps", 0))

    @property
    def first_step(self) -> int:
        return self.store.first_step or 0

    def network(self, flat=None) -> Network:
        m = self.meta
        net = Network(self.sizes, activation=m["activation"], cost=m["cost"], init=m["init"], seed=0)
        net.buffer[...] = self.start if flat is None else flat
        return net

    def replayer(self, train_x, train_labels) -> Replayer:
        m = self.meta
        return Replayer(self.store, self.network(), train_x, train_labels, seed=m.get("seed") or 0,
                        weight_decay=float(m.get("weight_decay", 0.0)), engine=m.get("engine", "auto"))

    def settings(self, step0: int, step1: int):
        return history_settings(self.history, step0, step1)


class RunRecorder:
    """Records a run driven outside the studio (``nnstudio train --save-run``): give it every
    report; it keeps the history and the checkpoints as the training loop would, and saves a run
    file the studio opens and ``nnstudio replay`` renders."""

    def __init__(self, trainer, dataset_key: str, dataset_name: str, class_names):
        self.trainer = trainer
        net = trainer.network
        self.store = CheckpointStore(net.n_params)
        self.history = TrainingHistory()
        self.history.n_train = trainer.n_train
        self.start = net.buffer.copy()
        self._pending: list = []
        self._gap = trainer_spacing(trainer)
        self._next = trainer.examples_seen + self._gap
        self._dataset = {"key": dataset_key, "name": dataset_name, "n_train": int(trainer.n_train),
                         "fingerprint": fingerprint(trainer.train_x, trainer.train_labels),
                         "class_names": [str(c) for c in class_names]}
        self._checkpoint(True)

    def _checkpoint(self, forced: bool = False) -> None:
        tr = self.trainer
        self.store.add(tr.network.buffer, dict(tr.position(), lr=tr.learning_rate, bs=tr.batch_size, forced=forced),
                       forced=forced)

    def record(self, r) -> None:
        self._pending.append(r)
        if len(self._pending) >= 4096 or r.epoch_end is not None:
            self.history.extend(self._pending)
            self._pending = []
        if r.diverged:
            self._checkpoint(True)
        elif r.examples_seen >= self._next:
            self._checkpoint()
            self._next = r.examples_seen + self._gap

    def save(self, path, **hyper) -> Path:
        if self._pending:
            self.history.extend(self._pending)
            self._pending = []
        tr, net = self.trainer, self.trainer.network
        from nnstudio import __version__

        meta = {"sizes": list(net.sizes), "activation": net.activation.name, "cost": net.cost.name, "init": net.init,
                "seed": tr.seed, "weight_decay": tr.weight_decay, "engine": tr.engine_in_use, "dataset": self._dataset,
                "hyper": hyper, "origin": "nnstudio train", "steps": tr.step_count, "nnstudio_version": __version__}
        return save_run(path, Run(meta, self.store, self.history, self.start))


# ====================================================================== the history as arrays
def history_settings(history: TrainingHistory, step0: int, step1: int):
    """(step0, learning rates, mini-batch sizes) of steps step0+1..step1 from the history's rows, or
    None when the history does not have every one of them (its disk failed, or another run)."""
    if step1 <= step0:
        return step0, np.empty(0), np.empty(0, np.int64)
    if history.n == 0:
        return None
    first = int(history.rows(0, 1)["step"][0])
    r0, r1 = step0 + 1 - first, step1 + 1 - first
    if r0 < 0 or r1 > history.n:
        return None
    rows = history.rows(r0, r1)
    if len(rows) != step1 - step0 or int(rows["step"][0]) != step0 + 1 or int(rows["step"][-1]) != step1:
        return None
    return step0, rows["learning_rate"].copy(), rows["batch_size"].astype(np.int64)


def history_block(rows: np.ndarray, epochs) -> ReportBlock:
    """History rows (:data:`~nnstudio.training.history.ROW`) and their epochs ((epoch, examples seen,
    train cost, accuracy or None, test cost or None) tuples) as a ReportBlock a TrainingHistory
    takes back in (the epochs land on the rows they ended)."""
    w = np.zeros(len(rows), dtype=WIRE)
    for f in ("step", "epoch", "batch", "examples_seen", "learning_rate", "batch_size"):
        w[f] = rows[f]
    w["cost"] = rows["cost"]
    w["diverged"] = ~np.isfinite(rows["cost"])
    w["perm"] = -1
    extras = {}
    seen = rows["examples_seen"]
    for e in epochs:
        i = int(np.searchsorted(seen, e[1]))
        if i < len(rows) and int(seen[i]) == int(e[1]):
            extras[i] = (EpochReport(int(e[0]), float(e[2]), e[3], e[4], 0.0, 0.0), np.empty(0, np.int64))
    return ReportBlock(w, extras)


def history_prefix(history: TrainingHistory, step: int) -> ReportBlock | None:
    """The rows of ``history`` up to and including ``step``, with their epochs (None if empty)."""
    if history.n == 0:
        return None
    rows = history.rows()
    rows = rows[rows["step"] <= step]
    if not len(rows):
        return None
    seen_max = int(rows["examples_seen"][-1])
    return history_block(rows, [e for e in history.epochs if e[1] <= seen_max])


# ====================================================================== writing
def save_run(path, run: Run) -> Path:
    """Write ``run`` to ``path`` atomically."""
    path = Path(path)
    name = path.name
    positions, params = run.store.arrays()
    rows = run.history.rows()
    meta = dict(run.meta, format=FORMAT, checkpoints=positions, epochs=[list(e) for e in run.history.epochs],
                rows=len(rows), steps=int(rows["step"][-1]) if len(rows) else run.last_step)
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise RunFileError(f"{name}: cannot be saved: {e}") from None
    if len(text) * 4 > limits.MAX_METADATA_BYTES:
        raise RunFileError(f"{name}: cannot be saved: its metadata is over {limits.MAX_METADATA_BYTES // 2**20} MB")
    arrays = {"format": np.array(FORMAT), "format_version": np.array(FORMAT_VERSION), "meta": np.array(text),
              "params": params, "start": np.asarray(run.start, dtype=np.float64)}
    for key, field, _kinds in _COLUMNS:
        arrays[key] = np.ascontiguousarray(rows[field])
    total = sum(a.nbytes for a in arrays.values())
    if total > MAX_RUN_BYTES:
        raise RunFileError(f"{name}: cannot be saved: {total / 2**20:,.0f} MB, over the {MAX_RUN_BYTES // 2**20:,} MB "
                           "a run file may hold")
    return write_file(path, lambda f: np.savez_compressed(f, **arrays), RunFileError)


# ====================================================================== reading
def load_run(path) -> Run:
    """Read a run file (checked before reading: see the module docstring)."""
    path = Path(path)
    name = path.name or str(path)
    f = open_file_of(path, "run file", RunFileError)
    with f:
        try:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            f.seek(0)
        except OSError as e:
            raise RunFileError(f"{name}: cannot be read ({e.strerror or e})") from None
        if size > MAX_RUN_BYTES:
            raise RunFileError(f"{name}: {size / 2**20:,.0f} MB, over the {MAX_RUN_BYTES // 2**20:,} MB a run file "
                               "may hold; refused unread")
        if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            raise RunFileError(f"{name}: not an nnstudio run file ({_what_is(head)})")
        try:
            with zipfile.ZipFile(f) as z:
                return _read(z, name)
        except RunFileError:
            raise
        except ModelFileError as e:
            raise RunFileError(str(e).replace("model", "run")) from None
        except (limits.LimitError, ValueError) as e:
            raise RunFileError(f"{name}: {e}") from None
        except MemoryError:
            raise RunFileError(f"{name}: too large to load into memory") from None
        except Exception as e:  # noqa: BLE001 - zip/zlib/npy errors of a damaged file: one line, never a traceback
            text = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
            raise RunFileError(f"{name}: damaged run file ({text})") from None


def _read(z: zipfile.ZipFile, name: str) -> Run:
    entries = _Entries(z, name)
    files = entries.files
    if len(files) > 32:
        raise RunFileError(f"{name}: holds {len(files):,} arrays; a run file has {10 + len(_COLUMNS)}")
    if "format" not in files or entries.text("format") != FORMAT:
        raise RunFileError(f"{name}: not an nnstudio run file (no run format tag)")
    version = int(entries.read("format_version", "iu", 8))
    if version > FORMAT_VERSION:
        raise RunFileError(f"{name}: made by a newer nnstudio (run format {version}); please upgrade nnstudio")
    missing = [k for k in ("meta", "params", "start", *(c[0] for c in _COLUMNS)) if k not in files]
    if missing:
        raise RunFileError(f"{name}: damaged run file (missing {', '.join(missing)})")
    try:
        meta = json.loads(entries.text("meta", limits.MAX_METADATA_BYTES))
    except json.JSONDecodeError:
        raise RunFileError(f"{name}: damaged run file (its metadata is not JSON)") from None
    sizes, positions = _check_meta(meta, name)
    limits.check_network(sizes, batch_size=1)
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    n_ck = len(positions)
    n_rows = meta.get("rows", -1)
    if not (isinstance(n_rows, int) and 0 <= n_rows <= MAX_ROWS):
        raise RunFileError(f"{name}: damaged run file (history of {n_rows} rows; at most {MAX_ROWS:,})")
    # what the arrays take once read, from the metadata alone (each entry is then checked against it):
    # a small file of zeros must not make the studio allocate gigabytes
    total = 8 * (n_ck + 1) * n_params + 8 * len(_COLUMNS) * n_rows
    if total > MAX_RUN_BYTES:
        raise RunFileError(f"{name}: declares {total / 2**20:,.0f} MB of weights and history, over the "
                           f"{MAX_RUN_BYTES // 2**20:,} MB a run file may hold; refused unread")
    params = entries.read("params", "f", 8 * n_ck * n_params, (n_ck, n_params))
    start = entries.read("start", "f", 8 * n_params, (n_params,))
    rows = np.zeros(n_rows, dtype=ROW)
    for key, field, kinds in _COLUMNS:
        rows[field] = entries.read(key, kinds, 8 * n_rows, (n_rows,))
    if not (np.isfinite(params).all() and np.isfinite(start).all()):
        raise RunFileError(f"{name}: damaged run file (weights that are inf or NaN)")
    if n_rows and (np.diff(rows["step"]) != 1).any():
        raise RunFileError(f"{name}: damaged run file (its history's steps are not consecutive)")
    steps = [int(p["step"]) for p in positions]
    if steps != sorted(steps) or len(set(steps)) != len(steps):
        raise RunFileError(f"{name}: damaged run file (checkpoints out of order)")
    store = CheckpointStore.from_arrays(positions, params)
    history = TrainingHistory()
    history.n_train = int(meta["dataset"]["n_train"])
    if n_rows:
        history.extend(history_block(rows, [tuple(e) for e in meta.get("epochs", [])]))
    return Run(meta, store, history, start)


def _check_meta(meta, name: str):
    """The metadata's shape, checked before any array is read: (sizes, checkpoint positions)."""
    def bad(what: str):
        raise RunFileError(f"{name}: damaged run file ({what})")

    if not isinstance(meta, dict):
        bad("its metadata is not a JSON object")
    sizes = meta.get("sizes")
    if not (isinstance(sizes, list) and 2 <= len(sizes) <= limits.MAX_LAYERS + 1
            and all(isinstance(s, int) and s >= 1 for s in sizes)):
        bad("bad layer sizes")
    if meta.get("activation") not in ACTIVATIONS or meta.get("cost") not in COSTS or meta.get("init") not in INITS:
        bad("unknown activation, cost or initialisation")
    ds = meta.get("dataset")
    if not (isinstance(ds, dict) and isinstance(ds.get("n_train"), int) and ds["n_train"] > 0
            and isinstance(ds.get("fingerprint"), str)):
        bad("no dataset description")
    positions = meta.get("checkpoints")
    if not isinstance(positions, list) or not 1 <= len(positions) <= MAX_CHECKPOINTS:
        bad("no checkpoints")
    keys = ("step", "epoch", "batch", "pos", "seen")
    for p in positions:
        if not (isinstance(p, dict) and all(isinstance(p.get(k), int) and p[k] >= 0 for k in keys)
                and isinstance(p.get("rng"), dict)):
            bad("a checkpoint without its position")
        try:
            np.random.default_rng(0).bit_generator.state = p["rng"]
        except (TypeError, ValueError, KeyError, OverflowError):
            bad("a checkpoint's shuffle state is not valid")
    seed = meta.get("seed")
    if seed is not None and not (isinstance(seed, int) and 0 <= seed <= limits.SEED_MAX):
        bad("bad seed")
    return tuple(sizes), positions
