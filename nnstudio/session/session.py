"""The studio's state in one Qt-free object: the session (napari's ``ViewerModel``, for nnstudio).

A :class:`Session` holds everything the studio shows, and nothing else holds any of it:

* the dataset (and the one being loaded);
* **the network on screen** (:attr:`Session.snapshot`, a private copy) and where it came from
  (:attr:`Session.origin`: the shipped pretrained one, new random weights from seed N, a file),
  whether it changed since it was saved or opened (:attr:`Session.unsaved`);
* the current input (a dataset example, the pad's drawing, a mini-batch example);
* the hyper-parameters (η, mini-batch size, epochs, speed) and the recipe for new networks
  (:attr:`Session.architecture`);
* the run's state and history (every mini-batch, none dropped).

It announces every change through :attr:`Session.events` and is changed only through its
commands (:meth:`play`, :meth:`open_model`, :meth:`adopt`, :meth:`switch_dataset`...).  Views,
lessons, the title and the status bar read it and send it commands; none keeps its own idea of
"the network", so exactly one network is on screen at any moment and everything that names it
calls it :meth:`network_label`.

Data flows one way: the training worker (``nnstudio.training.workers``) → its messages, taken in
by :meth:`poll` → the session's state and events → the views.  The session never waits for the
worker: a command that replaces the network (open, reset, rewind, a new architecture, an
adopted step) updates :attr:`snapshot` at once, and the worker's later messages about older
runs are dropped (each run has a generation number, each outside change an edit number).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from nnstudio._resources import shipped_model_path
from nnstudio.core import ACTIVATIONS, COSTS, INITS, ModelFileError, Network, Trainer, load_model, save_model
from nnstudio.core.trainer import BatchReport
from nnstudio.training.reportblock import ReportBlock
from nnstudio.session.commentary import Commentary
from nnstudio.session.edits import NeuronEditor
from nnstudio.session.events import Events
from nnstudio.session.model import InputExample, Origin, Snapshot, sizes_text
from nnstudio.session.runner import SyncRunner
from nnstudio.session.teach import Teacher
from nnstudio.session.timeline import Timeline
from nnstudio.training.history import TrainingHistory
from nnstudio.training.loop import WATCH

log = logging.getLogger(__name__)

#: the recipe of a new network when nothing else was chosen: the videos' 784-16-16-10
DEFAULT_ARCHITECTURE = {"sizes": (784, 16, 16, 10), "activation": "sigmoid", "cost": "quadratic",
                        "init": "scaled", "seed": 0}
DEFAULT_HYPER = {"learning_rate": 1.5, "batch_size": 10, "epochs": 30, "speed": WATCH}
#: ranges of the hyper-parameters (the controls offer the same)
HYPER_RANGES = {"learning_rate": (1e-4, 100.0), "batch_size": (1, 10_000), "epochs": (0, 100_000),
                "speed": (WATCH, 1e6)}
UNDO_LIMIT = 20
RUN_STATES = ("idle", "loading", "paused", "running", "finished")


class SessionError(ValueError):
    """A command cannot be carried out; the message is one line for the user."""


class Session:
    """See the module docstring.  ``worker`` runs the training loop (default: an inline worker,
    driven by :meth:`poll`); ``runner`` runs slow work such as loading a dataset (default: at
    once, in the caller's thread)."""

    def __init__(self, worker=None, runner=None):
        if worker is None:
            from nnstudio.training.workers import InlineWorker

            worker = InlineWorker()
        self.worker = worker
        self.runner = runner or SyncRunner()
        self.events = Events(
            dataset="the dataset in use changed (Dataset)",
            loading="a dataset started loading (key, downloading) or stopped (None, False)",
            progress="download progress (bytes done, bytes in all or None, file name)",
            network="the network on screen changed (Snapshot): replaced, stepped, or trained further",
            origin="the network's name changed (Origin): opened, saved, new, or changed since saved",
            input="the current input changed (InputExample or None)",
            hyper="a hyper-parameter changed (name, value)",
            architecture="the recipe for new networks changed (dict)",
            run_state="the run's state changed: idle, loading, paused, running or finished",
            stopped="the worker reported it stopped (paused or finished) after a command: all its reports are in",
            history="mini-batch reports were added to the history, or it was cleared",
            restarted="a new run started (generation): rewind, reset, new network, new dataset",
            message="tell the user (level, title, text); level 'status' is a status-bar note",
            diverged="the cost diverged (BatchReport); the last good weights are back",
            synced="a ping came back (token)",
            past="the network on screen is the run as it was at an earlier step (step, last step), or live again "
                 "(None, None): see nnstudio.session.timeline",
            edit="a hand edit of a neuron began, changed or ended (EditState, or None)",
            observation="the run says something in plain words (an Observation), or None: a new run, the feed "
                        "starts again (nnstudio.session.commentary)",
            taught="a drawing was taught (TeachResult); again once its test accuracies are measured",
            my_digits="the user's own digits changed (MyDigits), or whether training mixes them in",
        )
        #: asked before something the user made is thrown away; the GUI puts a dialog here
        self.confirm = lambda question: True
        self.dataset = None
        self.dataset_key: str | None = None
        self.loading_key: str | None = None
        self.snapshot: Snapshot | None = None
        self.origin: Origin | None = None
        self.unsaved = False
        self.current_input: InputExample | None = None
        self.hyper = dict(DEFAULT_HYPER)
        self.architecture = dict(DEFAULT_ARCHITECTURE)
        self.run_state = "idle"
        self.history = TrainingHistory()
        self.last_report: BatchReport | None = None
        self.generation = 0  # the run the session shows (bumped by every restart it sends)
        self.edits = 0  # outside changes to the weights in this run
        self._worker_gen = 0  # the run the worker's messages belong to now
        self._consumed = 0
        self._mode_seq = 0  # commands the worker must have handled for its state to be current
        self._run_start: Network | None = None  # the weights a rewind goes back to
        self._undo: list = []
        self._loader = None
        self._pending_model = None
        self._started = False
        #: on launch the shipped network is shown; Play then starts new random weights
        self.play_starts_fresh = False
        self.saved_path: str | None = None
        self.step_changes = False  # snapshots carry the last step's change (see show_step_changes)
        #: teaching the network a drawing, and the drawings taught ("my digits"): nnstudio.session.teach
        self.teacher = Teacher(self)
        #: any mini-batch of the run on screen, continue from there, run files: nnstudio.session.timeline
        self.timeline = Timeline(self)
        #: the run explains itself: observations from the live numbers (nnstudio.session.commentary)
        self.commentary = Commentary(self)
        self.editor = NeuronEditor(self)  # the hand edit of a neuron in progress (nnstudio.session.edits)

    # ================================================================== reading
    @property
    def network(self) -> Network | None:
        """The network on screen (a private copy; never mutate it: send :meth:`adopt`)."""
        return None if self.snapshot is None else self.snapshot.network

    @property
    def reports_seen(self) -> int:
        """Mini-batch reports taken in from the worker so far (every one, dropped ones included)."""
        return self._consumed

    @property
    def running(self) -> bool:
        return self.run_state == "running"

    @property
    def trained(self) -> bool:
        """Discarding the network would lose something the user did (training, an edit, a file)."""
        return self.unsaved

    def network_label(self) -> str:
        """The one name of the network on screen: the title, the status bar and every view use it."""
        if self.origin is None:
            return "no network yet"
        return self.origin.name + (" •" if self.unsaved else "") + self.timeline.label()

    def describe_network(self) -> str:
        """A sentence about the network on screen, for the views' captions."""
        o = self.origin
        if o is None:
            return "No network yet"
        snap = self.snapshot
        text = f"{o.name} ({o.detail})" if o.detail else o.name
        if snap is not None and snap.step:
            ep = snap.epoch
            text += f", trained {snap.step:,} mini-batch{'es' if snap.step != 1 else ''}"
            text += f" ({ep} epoch{'s' if ep != 1 else ''})" if ep else ""
        elif self.unsaved:
            text += ", changed since it was opened"
        return text

    def progress(self) -> dict:
        """Where the run is: the epoch (1-based: the one in progress, or the one just completed), the
        mini-batch within it (1-based) of how many (those done plus what the rest of the epoch takes at
        the current mini-batch size), the examples seen; None before the first mini-batch."""
        r = self.last_report
        if r is None:
            return {"epoch": None, "batch": None, "batches": None, "examples": 0}
        n = (self.history.n_train or self.dataset.n_train) if self.dataset is not None else 0
        done = r.batch + 1  # batches of this epoch so far, whatever their sizes
        # this epoch's batches: those done, plus what the rest of the epoch takes at the current size
        rest = max(0, n - (r.offset + r.batch_size)) if n else 0
        batches = done + math.ceil(rest / max(1, int(self.hyper["batch_size"]))) if n else None
        return {"epoch": r.epoch + 1, "batch": done, "batches": batches, "examples": r.examples_seen}

    def example(self, split: str, index: int, source: str | None = None, **extra) -> InputExample | None:
        """Example ``index`` of the current dataset's ``split`` ("train" or "test")."""
        ds = self.dataset
        if ds is None:
            return None
        images = ds.test_x if split == "test" else ds.train_x
        labels = ds.test_labels if split == "test" else ds.train_labels
        if not 0 <= index < len(images):
            return None
        return InputExample(pixels=images[index] * (1.0 / 255.0), label=int(labels[index]),
                            source=source or f"{split} #{index}", index=int(index), split=split, extra=extra)

    # ================================================================== starting and datasets
    def restore(self, hyper: dict | None = None, architecture: dict | None = None) -> None:
        """Take remembered settings before :meth:`start` (values out of range are ignored)."""
        for name, value in (hyper or {}).items():
            lo, hi = HYPER_RANGES[name]
            if lo <= value <= hi:
                self.hyper[name] = value
        if architecture:
            arch = dict(self.architecture, **architecture)
            arch["sizes"] = tuple(int(n) for n in arch["sizes"])
            if (arch["activation"] in ACTIVATIONS and arch["cost"] in COSTS and arch["init"] in INITS
                    and len(arch["sizes"]) >= 2 and min(arch["sizes"]) >= 1 and 0 <= arch["seed"] < 2**31):
                self.architecture = arch
        self.events.architecture.emit(dict(self.architecture))
        for name, value in self.hyper.items():
            self.events.hyper.emit(name, value)

    def start(self, dataset: str = "mnist-sample", model=None) -> None:
        """Load ``dataset`` (then ``model`` if given, else the shipped network)."""
        self._pending_model = model
        self._started = True
        self.teacher.load()
        self.load_dataset(dataset)

    def load_dataset(self, key: str) -> bool:
        """Load ``key`` (a dataset name or a folder) off the session's thread; on success it
        becomes the dataset.  The network stays when its input and output sizes fit the new
        data; otherwise a new one starts (after asking, when the current one was trained)."""
        if self._loader is not None:
            return False
        from nnstudio.data import DATASETS, dataset_status

        downloading = key in DATASETS and key != "mnist-sample" and dataset_status(key) != "cached"
        self.loading_key = key
        if self.dataset is None:
            self._set_run_state("loading")
        self.events.loading.emit(key, downloading)

        def work(cancelled, progress):
            from nnstudio.data import load_dataset

            return load_dataset(key, download=True, progress=progress, cancel=cancelled)

        self._loader = True  # (set before submit: a synchronous runner answers inside it)
        self._loader = self.runner.submit(work, lambda ds: self._loaded(key, ds), lambda e: self._load_failed(key, e),
                                          progress=lambda d, t, n: self.events.progress.emit(d, t, n))
        if self.loading_key is None:  # (answered already)
            self._loader = None
        return True

    def cancel_loading(self) -> None:
        if self._loader is not None and self._loader is not True:
            self._loader.cancel()

    def _end_loading(self) -> None:
        self._loader = None
        self.loading_key = None
        self.events.loading.emit(None, False)

    def _load_failed(self, key: str, e: Exception) -> None:
        from nnstudio.data import DownloadCancelled

        cancelled = isinstance(e, DownloadCancelled) or (self._loader not in (None, True) and self._loader.cancelled())
        self._end_loading()
        if cancelled:
            self._say(f"Download cancelled; still using {self.dataset_key or 'nothing yet'}")
        else:
            still = (f"nnstudio keeps using {self.dataset_key}." if self.dataset_key
                     else "nnstudio uses the embedded mnist-sample instead.")
            msg = str(e) if not isinstance(e, (OSError, MemoryError)) or str(e) else type(e).__name__
            self.events.message.emit("warning", "Could not load the dataset", f"{msg}\n\n{still}")
        if self.dataset is None and key != "mnist-sample":
            self.load_dataset("mnist-sample")
        elif self.dataset is None:
            self._set_run_state("idle")

    def _loaded(self, key: str, ds) -> None:
        self._end_loading()
        net = self.network
        fits = net is not None and net.sizes[0] == ds.train_x.shape[1] and net.sizes[-1] == ds.n_classes
        first = self.dataset is None
        if not first and not fits and self.trained and not self.confirm(
                f"A {sizes_text(net.sizes)} network cannot read {ds.name} ({ds.n_classes} classes), so switching "
                "starts a new network."):
            self._say(f"Kept {self.dataset_key}: the network was not discarded")
            return
        self.dataset, self.dataset_key = ds, key
        self.history.n_train = ds.n_train
        self.events.dataset.emit(ds)
        if first:
            model, self._pending_model = self._pending_model, None
            if model is None or not self.open_model(model, ask=False):
                from nnstudio.limits import LimitError

                try:
                    self._show_shipped_or_fresh()
                except LimitError as e:  # (a remembered recipe too big to build: the videos' network instead)
                    self.architecture = dict(DEFAULT_ARCHITECTURE)
                    self.events.architecture.emit(dict(self.architecture))
                    self.events.message.emit("warning", "Network too large", f"{e}\n\nnnstudio starts with the "
                                             f"default {sizes_text(self.architecture['sizes'])} network instead.")
                    self._show_shipped_or_fresh()
        elif fits:
            # keep the network: a new run of it on the new data
            self._new_run(self.network.copy(), origin=self.origin, unsaved=self.unsaved)
            self._say(f"Loaded {ds.name}: {ds.n_train:,} training / {ds.n_test:,} test images; "
                      f"the network stays ({self.network_label()})")
        else:
            self._fit_architecture(ds)
            self._fresh(self.architecture["seed"])
            self._say(f"Loaded {ds.name}: a new {sizes_text(self.architecture['sizes'])} network for it")
        if self.current_input is None or self.current_input.split is not None:
            self.set_input(self.example("test", 0))

    def switch_dataset(self, key: str) -> bool:
        """The user picked another dataset."""
        if key == self.dataset_key:
            return False
        self.pause()
        return self.load_dataset(key)

    def _fit_architecture(self, ds) -> None:
        sizes = list(self.architecture["sizes"])
        if sizes[0] != ds.train_x.shape[1] or sizes[-1] != ds.n_classes:
            sizes[0], sizes[-1] = ds.train_x.shape[1], ds.n_classes
            self.architecture["sizes"] = tuple(sizes)
            self.events.architecture.emit(dict(self.architecture))

    def _digits(self) -> bool:
        return self.dataset is not None and tuple(self.dataset.class_names) == tuple(str(d) for d in range(10))

    def _show_shipped_or_fresh(self) -> None:
        """The launch: the shipped network, which reads digits well, until Play starts a new one
        (unless the remembered recipe is another architecture: then a new network of that one)."""
        if self._digits() and self.dataset.train_x.shape[1] == 784 and self.architecture["sizes"] == (784, 16, 16, 10):
            try:
                net, meta = load_model(shipped_model_path(), with_metadata=True)
            except ModelFileError as e:
                log.warning("the shipped network cannot be loaded: %s", e)
            else:
                self._new_run(net, Origin.shipped(net.sizes, shipped_model_path(), meta.get("accuracy")))
                self.play_starts_fresh = True
                self.events.origin.emit(self.origin)  # (the window says what Play will do)
                self._say("The pretrained network shipped with nnstudio. Play (Space) trains a new one from random "
                          "weights.")
                return
        self._fit_architecture(self.dataset)
        self._fresh(self.architecture["seed"])

    # ================================================================== the network
    def _trainer(self, network: Network) -> Trainer:
        ds = self.dataset
        h = self.hyper
        train_x, train_labels = self.teacher.training_set(ds)  # (my digits mixed in, when asked)
        self.history.n_train = len(train_labels)
        return Trainer(network, train_x, train_labels, ds.test_x, ds.test_labels,
                       learning_rate=h["learning_rate"], batch_size=int(h["batch_size"]),
                       epochs=int(h["epochs"]) or None, seed=self.architecture["seed"])

    def _new_run(self, network: Network, origin: Origin, unsaved: bool = False) -> None:
        """Hand ``network`` to the worker as a new run and show it at once."""
        self._ensure_worker()
        trainer = self._trainer(network)
        self.timeline.new_run(trainer)
        self._run_start = network.copy()
        self.generation += 1
        self.edits = 0
        self._clear_history()
        self.snapshot = Snapshot(network.copy(), generation=self.generation, learning_rate=self.hyper["learning_rate"],
                                 batch_size=int(self.hyper["batch_size"]))
        self.worker.set_trainer(trainer)  # the session never touches it again
        self.play_starts_fresh = False
        self._undo.clear()
        self._set_origin(origin, unsaved)
        self._set_run_state("paused")
        self.events.restarted.emit(self.generation)
        self.events.network.emit(self.snapshot)
        self._drop_batch_input()

    def _fresh(self, seed: int) -> None:
        a = self.architecture
        net = Network(a["sizes"], activation=a["activation"], cost=a["cost"], init=a["init"], seed=seed)
        self._new_run(net, Origin.fresh(net.sizes, seed))

    def _set_origin(self, origin: Origin, unsaved: bool = False) -> None:
        self.origin = origin
        self.unsaved = unsaved
        self.events.origin.emit(origin)

    def _mark_changed(self) -> None:
        if not self.unsaved:
            self.unsaved = True
            self.events.origin.emit(self.origin)

    def new_network(self, seed: int | None = None, ask: bool = True, **architecture) -> bool:
        """New random weights (from ``seed``; the recipe's seed if None), with the recipe's
        architecture changed by ``architecture`` (sizes, activation, cost, init)."""
        if self.dataset is None:
            return False
        arch = dict(self.architecture, **{k: v for k, v in architecture.items() if v is not None})
        arch["sizes"] = tuple(int(s) for s in arch["sizes"])
        if seed is not None:
            arch["seed"] = int(seed)
        self._check_architecture(arch)
        if ask and self.trained and not self.confirm("Starting a new network discards the current one."):
            return False
        changed = arch != self.architecture
        self.architecture = arch
        if changed:
            self.events.architecture.emit(dict(arch))
        self._fresh(arch["seed"])
        return True

    def _check_architecture(self, arch: dict) -> None:
        ds = self.dataset
        sizes = arch["sizes"]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise SessionError("every layer needs at least one neuron, and a network at least two layers")
        if ds is not None and (sizes[0] != ds.train_x.shape[1] or sizes[-1] != ds.n_classes):
            raise SessionError(f"The first layer must have {ds.train_x.shape[1]} neurons (28×28 pixels) and the last "
                               f"{ds.n_classes} (one per class), not {sizes_text(sizes)}")
        from nnstudio.limits import LimitError, check_network

        try:  # (the limit nnstudio train uses, before anything is built)
            check_network(sizes, int(self.hyper["batch_size"]))
        except LimitError as e:
            raise SessionError(str(e)) from None

    def set_architecture(self, **architecture) -> bool:
        """The user edited the recipe (sizes, activation, cost, init, seed): if it differs from the
        network on screen, a new network starts (after asking, when that one was trained)."""
        arch = dict(self.architecture, **architecture)
        arch["sizes"] = tuple(int(s) for s in arch["sizes"])
        self._check_architecture(arch)
        if arch == self.architecture and self.origin is not None and self.origin.kind == "fresh":
            return False
        return self.new_network(**arch)

    def reset(self, seed: int | None = None) -> bool:
        """New random weights of the same architecture, from ``seed`` (a new random seed if None)."""
        if self.dataset is None or self.network is None:
            return False
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31 - 1))
        net = self.network  # (Reset is the user's own request for new weights: it does not ask)
        return self.new_network(seed=seed, ask=False, sizes=net.sizes, activation=net.activation.name,
                                cost=net.cost.name, init=net.init)

    def rewind(self) -> bool:
        """Back to this run's initial weights and shuffle order: the run replays bit for bit."""
        if self.dataset is None or self._run_start is None:
            return False
        self.worker.rewind()
        self.timeline.new_run()
        self.generation += 1
        self.edits = 0
        self._clear_history()
        self.snapshot = Snapshot(self._run_start.copy(), generation=self.generation,
                                 learning_rate=self.hyper["learning_rate"], batch_size=int(self.hyper["batch_size"]))
        self._undo.clear()
        self.events.restarted.emit(self.generation)
        self.events.network.emit(self.snapshot)
        self._drop_batch_input()
        self._say("Rewound: same initial weights and shuffle order, so the run replays exactly")
        return True

    def open_model(self, path, ask: bool = True, origin: Origin | None = None) -> bool:
        """Open a saved network; it becomes the network on screen.  A problem is told (message
        event) and changes nothing."""
        path = Path(path)
        if self.dataset is None:
            self._pending_model = path
            return False
        try:
            net, meta = load_model(path, with_metadata=True)
        except ModelFileError as e:
            self.events.message.emit("error", "Could not open the model", str(e))
            return False
        ds = self.dataset
        if net.sizes[0] != ds.train_x.shape[1] or net.sizes[-1] != ds.n_classes:
            self.events.message.emit(
                "error", "Could not open the model",
                f"{path.name}: a {sizes_text(net.sizes)} network cannot read {ds.name} (it needs "
                f"{ds.train_x.shape[1]} inputs and {ds.n_classes} outputs)")
            return False
        if ask and self.trained and not self.confirm(f"Opening {path.name} replaces the current network."):
            return False
        seed = meta.get("seed")
        seed = seed if isinstance(seed, int) and 0 <= seed < 2**31 else None
        arch = {"sizes": tuple(net.sizes), "activation": net.activation.name, "cost": net.cost.name,
                "init": net.init, "seed": seed if seed is not None else self.architecture["seed"]}
        if arch != self.architecture:
            self.architecture = arch
            self.events.architecture.emit(dict(arch))
        lr, bs = meta.get("learning_rate"), meta.get("batch_size")
        if isinstance(lr, (int, float)) and 1e-4 <= lr <= 100:
            self.set_learning_rate(float(lr))
        if isinstance(bs, int) and 1 <= bs <= 10_000:
            self.set_batch_size(int(bs))
        acc = meta.get("accuracy")
        if origin is None:
            origin = Origin.file(path, net.sizes, seed, acc if isinstance(acc, (int, float)) else None)
        self._new_run(net, origin)
        self.saved_path = str(path.resolve()) if origin.kind == "file" else self.saved_path
        extra = f" (test accuracy {100 * acc:.2f} % when saved)" if isinstance(acc, (int, float)) else ""
        self._say(f"Opened {path.name}: {net.describe()}{extra}")
        return True

    def open_shipped(self, ask: bool = True) -> bool:
        """Open the pretrained network shipped with nnstudio (File ▸ Open pretrained)."""
        path = shipped_model_path()
        if not path.is_file():
            self.events.message.emit(
                "info", "No pretrained network",
                f"This copy of nnstudio has no pretrained network yet (it would be {path}). Train one and save it, "
                "or run 'nnstudio train --data mnist --out model.npz' and open that file.")
            return False
        try:
            meta = load_model(path, with_metadata=True)[1]
        except ModelFileError as e:
            self.events.message.emit("error", "Could not open the model", str(e))
            return False
        sizes = meta.get("sizes") or (784, 16, 16, 10)
        return self.open_model(path, ask=ask, origin=Origin.shipped(sizes, path, meta.get("accuracy")))

    def save_model(self, path, **extra) -> bool:
        """Save the network on screen; it is then named after the file."""
        from nnstudio import __version__

        snap = self.snapshot
        if snap is None:
            self.events.message.emit("info", "Nothing to save", "There is no network yet (the dataset is still loading).")
            return False
        h = self.history
        acc = h.epochs[-1][3] if h.epochs else None
        net = snap.network
        try:
            out = save_model(
                net, path, dataset=self.dataset.name if self.dataset is not None else None,
                sizes=list(net.sizes), activation=net.activation.name, cost=net.cost.name, init=net.init,
                seed=self.origin.seed if self.origin is not None else None,
                learning_rate=float(self.hyper["learning_rate"]), batch_size=int(self.hyper["batch_size"]),
                epochs=snap.epoch, steps=snap.step, examples_seen=snap.examples_seen, accuracy=acc,
                history=[{"epoch": e[0], "train_cost": e[2], "accuracy": e[3], "test_cost": e[4]} for e in h.epochs],
                nnstudio_version=__version__, saved_by="nnstudio studio", **extra)
        except ModelFileError as e:
            self.events.message.emit("error", "Could not save the model", str(e))
            return False
        out = Path(out)
        self.saved_path = str(out.resolve())
        self._set_origin(Origin.file(out, net.sizes, self.origin.seed if self.origin else None, acc), unsaved=False)
        self._say(f"Saved {out.name} (after {snap.step:,} mini-batches)")
        return True

    # ------------------------------------------------------------------ outside changes to the weights
    def adopt(self, network: Network, note: str = "changed", undoable: bool = True) -> bool:
        """Make ``network`` (same shapes) the network on screen and carry the run on from it: an
        explorer step, a lesson's edit.  Undoable with :meth:`undo`."""
        cur = self.network
        if cur is None or tuple(network.sizes) != tuple(cur.sizes):
            return False
        if self.timeline.past:
            self._say("That is the past on screen: Continue from here first, or back to live (L)")
            return False
        if undoable:
            self._undo.append((cur.get_params(), self.unsaved, note))
            del self._undo[:-UNDO_LIMIT]
        self._apply_params(network.get_params())
        self._mark_changed()
        return True

    def undo(self) -> bool:
        """Put back the weights from before the last adopted change."""
        if not self._undo:
            return False
        params, unsaved, note = self._undo.pop()
        self._apply_params(params)
        if not unsaved and self.unsaved:
            self.unsaved = False
            self.events.origin.emit(self.origin)
        self._say(f"Undone: {note}")
        return True

    def edit_neuron(self, layer: int, index: int, **changes) -> bool:
        """Edit a neuron by hand (bias_shift, weight_scale, off): see nnstudio.session.edits."""
        return self.editor.set(layer, index, **changes)

    def reset_neuron_edit(self) -> bool:
        return self.editor.reset()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def _apply_params(self, params) -> None:
        self.worker.adopt(params)
        self.edits += 1
        net = self.network.copy()
        net.set_params(params)
        s = self.snapshot
        self.snapshot = Snapshot(net, step=s.step, epoch=s.epoch, batch=s.batch, examples_seen=s.examples_seen,
                                 learning_rate=s.learning_rate, batch_size=s.batch_size, batch_indices=s.batch_indices,
                                 batch_cost=s.batch_cost, at_epoch_end=s.at_epoch_end, generation=self.generation,
                                 edits=self.edits)
        self.events.network.emit(self.snapshot)

    # ================================================================== running
    def _can_train(self) -> bool:
        if self.dataset is None or self.snapshot is None:
            return False
        self._ensure_worker()
        self.timeline.go_live()
        self.editor.commit()  # (training goes on from the edited network)
        if self.play_starts_fresh:
            seed = self.architecture["seed"]
            self._fresh(seed)
            self._say(f"A new network: random weights from seed {seed}, as in the videos (the pretrained one: File menu)")
        if self.run_state == "finished":
            self._say_finished()
            return False
        return True

    def play(self) -> None:
        """Train continuously.  The run state says "running" at once (the Play button turns into
        Pause); states the worker sent before it saw this command are ignored."""
        if self._can_train():
            self.worker.play()
            self._mode_seq = self.worker.sent
            self._set_run_state("running")

    def pause(self) -> None:
        """Pause; the run state says "paused" when the worker has paused (every report of the run
        has arrived by then)."""
        self.worker.pause()
        self._mode_seq = self.worker.sent

    def toggle_play(self) -> None:
        self.pause() if self.running else self.play()

    def step_batch(self) -> None:
        if self._can_train():
            self.worker.step_batch()
            self._mode_seq = self.worker.sent

    def step_epoch(self) -> None:
        if self._can_train():
            self.worker.step_epoch()
            self._mode_seq = self.worker.sent

    def _say_finished(self) -> None:
        n = self.hyper["epochs"]
        self._say(f"Training finished its {n} epochs: raise Epochs to train on, or Rewind to watch it again")

    # ------------------------------------------------------------------ hyper-parameters
    def _set_hyper(self, name: str, value) -> bool:
        lo, hi = HYPER_RANGES[name]
        if not (lo <= value <= hi):
            raise SessionError(f"{name.replace('_', ' ')} must be between {lo:g} and {hi:g}, not {value!r}")
        if self.hyper[name] == value:
            return False
        self.hyper[name] = value
        self.events.hyper.emit(name, value)
        return True

    def set_learning_rate(self, eta: float) -> None:
        if self._set_hyper("learning_rate", float(eta)):
            self.worker.set_learning_rate(eta)

    def set_batch_size(self, n: int) -> None:
        """A mini-batch too big for the network on screen to train within the memory limit is refused
        (its activations grow with the batch), and the field goes back to the size kept."""
        from nnstudio.limits import LimitError, check_network

        net = self.network
        if net is not None and int(n) != self.hyper["batch_size"]:
            try:
                check_network(net.sizes, int(n))
            except LimitError as e:
                self.events.hyper.emit("batch_size", self.hyper["batch_size"])
                why = str(e).replace("use fewer or smaller layers", "use a smaller mini-batch")
                raise SessionError(f"Mini-batches of {int(n):,}: {why}") from None
        if self._set_hyper("batch_size", int(n)):
            self.worker.set_batch_size(n)

    def set_epochs(self, n: int) -> None:
        if self._set_hyper("epochs", int(n)):
            self.worker.set_epochs(n or None)
            if self.run_state == "finished":
                self._set_run_state("paused")

    def set_speed(self, bps: float) -> None:
        if self._set_hyper("speed", float(bps)):
            self.worker.set_speed(bps)

    # ================================================================== the current input
    def set_input(self, example: InputExample | None) -> None:
        self.current_input = example
        self.events.input.emit(example)

    def _drop_batch_input(self) -> None:
        """A new run has no mini-batch yet: an input taken from the old run's batch goes."""
        ex = self.current_input
        if ex is not None and ex.from_batch:
            self.set_input(self.example("test", 0))

    # ================================================================== the worker's messages
    def _ensure_worker(self) -> None:
        """A worker that died (the dialog said so) is replaced by a new one."""
        w = self.worker
        if w.started and not w.alive:
            log.warning("the training worker ended; starting a new one")
            try:
                w.stop(1.0)
            except Exception:  # pragma: no cover - it is gone anyway
                pass
            self.worker = type(w)()
            self.start_worker()
            # (the new worker counts runs and edits from zero: so must the session, or it ignores every
            # snapshot the new worker sends after an edit of the old run)
            self.generation = self._worker_gen = self._mode_seq = self.edits = 0
            self.worker.set_speed(self.hyper["speed"])
            self.worker.send("detail", self.step_changes)
            if self.snapshot is not None and self.dataset is not None and self._run_start is not None:
                tr = self._trainer(self.snapshot.network.copy())
                self.timeline.new_run(tr)
                self.generation = 1
                self._clear_history()
                self.worker.set_trainer(tr)
                self._run_start = self.snapshot.network.copy()

    def start_worker(self) -> None:
        self.worker.start()
        self.worker.set_speed(self.hyper["speed"])

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the worker and any loading (idempotent)."""
        self.cancel_loading()
        try:
            self.worker.stop(timeout)
        except Exception:  # pragma: no cover - never keep the app from closing
            log.exception("stopping the training worker failed")

    def show_step_changes(self, on: bool) -> None:
        """While on, snapshots carry the last step's change (Snapshot.step_change): the diagram's
        −∂C/∂w and Δw edges.  Off, the worker copies nothing more than the network."""
        self.step_changes = bool(on)
        self.worker.send("detail", self.step_changes)

    def ping(self, token: int = 0) -> None:
        self.worker.ping(token)

    def poll(self) -> int:
        """Take in what the worker produced (call it often: the GUI does on every display tick
        and whenever the worker's file descriptor is readable).  Returns how many items came."""
        items = self.worker.drain()
        if not items:
            return 0
        reports = []
        n_reports = 0
        for it in items:
            if type(it) is BatchReport:
                n_reports += 1
                if self._worker_gen == self.generation:
                    reports.append(it)
                continue
            if reports:
                self._take(reports)
                reports = []
            if type(it) is ReportBlock:  # (a training process's: many reports as one array)
                n_reports += len(it)
                if self._worker_gen == self.generation and len(it):
                    self._take(it)
                continue
            self._message(it)
        if reports:
            self._take(reports)
        if n_reports:
            self._consumed += n_reports
            self.worker.acknowledge(self._consumed)
        return len(items)

    def _take(self, reports) -> None:
        """Record a list of BatchReports or a ReportBlock."""
        self.history.extend(reports)
        self.last_report = reports.last() if type(reports) is ReportBlock else reports[-1]
        self._mark_changed()
        self.events.history.emit()

    def _message(self, msg) -> None:
        kind = msg[0]
        if kind == "snapshot":
            snap = msg[1]
            if snap.order >= (self.generation, self.edits) and self._worker_gen == self.generation:
                self.timeline.offer(snap)
                if not self.timeline.hold(snap):  # (while the past is on screen the live run waits)
                    self.snapshot = snap
                    self.events.network.emit(snap)
        elif kind == "state":
            if len(msg) > 2 and msg[2] < self._mode_seq:
                return  # sent before the worker saw the last play or pause: out of date
            if self._worker_gen == self.generation or msg[1] == "idle":
                self._set_run_state(msg[1])
                if msg[1] == "finished":
                    self._say_finished()
                if msg[1] in ("paused", "finished"):
                    self.events.stopped.emit(msg[1])
        elif kind == "restarted":
            self._worker_gen = msg[2]
            if msg[2] == self.generation:
                self.timeline.offer(msg[1])
                self.snapshot = msg[1]
                self.events.network.emit(self.snapshot)
        elif kind == "diverged":
            r = msg[1]
            if self._worker_gen == self.generation:
                self._set_run_state("paused")
                eta = r.learning_rate
                self._say(f"Diverged at η = {eta:g}: paused, last good weights kept; lower the learning rate")
                self.events.diverged.emit(r)
                self.events.message.emit(
                    "warning", "Training diverged",
                    f"The cost became infinite at epoch {r.epoch + 1}, mini-batch {r.batch + 1}: with a learning rate "
                    f"of η = {eta:g} each step overshoots, so the weights blow up instead of going downhill.\n\n"
                    f"Training is paused and the last good weights were restored. Lower the learning rate (try "
                    f"η = {eta / 10:g}) and press Play again.")
        elif kind == "shown":
            r = msg[1]
            ds = self.dataset
            playing = len(msg) > 2 and msg[2] != "batch"
            if (playing and self.current_input is not None and self.current_input.split is None) or self.timeline.past:
                return  # slow motion follows the batches, but never over the learner's own drawing or the past
            if self._worker_gen == self.generation and ds is not None and len(r.indices) and int(r.indices[0]) < ds.n_train:
                self.set_input(self.example("train", int(r.indices[0]),
                                            source=f"mini-batch {r.batch + 1} of epoch {r.epoch + 1}",
                                            batch_indices=np.array(r.indices)))
        elif kind == "pong":
            self.events.synced.emit(msg[1])
        elif kind == "error":
            if len(msg) > 2 and msg[2]:
                log.error("training failed:\n%s", msg[2])
            self._set_run_state("paused")
            self.events.message.emit("error", "Training stopped", msg[1] + "\n\nPress Play to start training again "
                                     "from the network as it was last shown.")
        elif kind == "finished":
            pass

    def _set_run_state(self, state: str) -> None:
        if state != self.run_state:
            self.run_state = state
            self.events.run_state.emit(state)

    def _clear_history(self) -> None:
        self.history.clear()
        self.last_report = None
        self.events.history.emit()

    def _say(self, text: str) -> None:
        self.events.message.emit("status", "", text)
