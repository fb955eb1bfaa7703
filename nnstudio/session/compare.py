"""Compare runs: networks from the same initial weights and the same shuffle, each with one setting
changed, trained side by side (Qt-free).

A :class:`Comparison` is **a separate experiment**: it never changes the studio's network.  It
reads the studio's dataset and recipe when it starts (the network's sizes, the seed, η, the
mini-batch size, the cost, the activation, the initialisation, the epochs), changes the one
setting the user picked (:data:`VARIABLES`) to two to four values, and trains every run in
lockstep in a worker of its own (a training process, like the studio's): the one
:class:`~nnstudio.training.loop.TrainingLoop`, handed a
:class:`~nnstudio.training.lockstep.LockstepTrainer`.  So one Play, Pause, Step or Rewind is for
all the runs, and one step moves every run on by the same examples.  Each run keeps its history
(:class:`~nnstudio.training.history.TrainingHistory`, every mini-batch) for the overlaid curves.

Why a model of its own and not N sessions: a session is the studio's one truth (its network is
the network on screen, its run the run the window controls); N of them would put N networks on
screen under one title and one set of controls.  The comparison shares nothing with the session
but the data and the starting recipe, and hands a run over only when asked:
:meth:`Comparison.open_in_studio` adopts the run's network through the session's own commands
(undoable, as an explorer step is).

The presets (:data:`PRESETS`) are the comparisons the videos invite: η too small / good / too
large, quadratic vs cross-entropy, sigmoid vs ReLU, mini-batch 1 vs 10 vs 100, and the two
initialisations.  Their values were chosen by training the embedded sample and MNIST (see
docs/architecture.md).

Events (``comparison.events.<name>.connect``): ``setup`` (new runs), ``runs`` (the runs' networks
moved on), ``history`` (their reports arrived), ``run_state``, ``message`` (level, title, text).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from nnstudio.core import ACTIVATIONS, INITS, Network, Trainer
from nnstudio.core.activations import get_activation
from nnstudio.core.costs import get_cost
from nnstudio.core.trainer import BatchReport
from nnstudio.limits import LimitError, check_network
from nnstudio.session.events import Events
from nnstudio.session.model import Snapshot, sizes_text
from nnstudio.session.session import HYPER_RANGES, SessionError
from nnstudio.training.history import TrainingHistory
from nnstudio.training.lockstep import LockstepTrainer, RunsSnapshot, RunState
from nnstudio.training.loop import WATCH
from nnstudio.training.reportblock import ReportBlock
from nnstudio.training.workers import make_worker

log = logging.getLogger(__name__)

#: the settings a comparison may vary: key -> (what the user reads, type)
VARIABLES = {
    "learning_rate": ("learning rate η", float),
    "batch_size": ("mini-batch size", int),
    "cost": ("cost", str),
    "activation": ("activation", str),
    "init": ("initial weights", str),
}
CHOICES = {"cost": ("quadratic", "cross-entropy"), "activation": tuple(ACTIVATIONS), "init": INITS}
MIN_RUNS, MAX_RUNS = 2, 4
RUN_NAMES = "ABCD"
#: where the runs start: new weights of the recipe's seed, or the studio's network as it is
STARTS = ("fresh", "studio")
#: snapshots of the runs a second while they train (three diagrams and two plots follow them)
SNAPSHOT_HZ = 20.0


@dataclass(frozen=True)
class Preset:
    key: str
    title: str  # the button
    vary: str
    values: tuple
    names: tuple = ()  # a word per value ("too small", ...)
    common: dict = field(default_factory=dict)  # settings the preset fixes for every run
    note: str = ""  # what to look for


PRESETS = (
    Preset("eta", "η too small · good · too large", "learning_rate", (0.1, 1.5, 10.0),
           ("too small", "good", "too large"),
           note="Too small crawls downhill; too large overshoots, and its cost and accuracy jump about."),
    Preset("cost", "quadratic vs cross-entropy", "cost", ("quadratic", "cross-entropy"), (),
           {"learning_rate": 0.5},
           note="Cross-entropy learns faster at first: a saturated wrong output still gets a large gradient. "
                "The two costs are different functions: compare the accuracy."),
    Preset("activation", "sigmoid vs ReLU", "activation", ("sigmoid", "relu"), (), {"learning_rate": 0.5},
           note="ReLU hidden neurons pass large gradients back and learn faster at first."),
    Preset("batch", "mini-batch 1 vs 10 vs 100", "batch_size", (1, 10, 100),
           note="The same examples for each: one step is 100 mini-batches of 1, 10 of 10, 1 of 100. "
                "Mini-batches of 1 stumble; of 100 take few, careful steps."),
    Preset("init", "1/√n vs N(0, 1) weights", "init", ("scaled", "normal"),
           note="The same random draws, scaled: N(0, 1) weights saturate the sigmoid neurons, which then learn slowly."),
)
PRESET_BY_KEY = {p.key: p for p in PRESETS}


def value_text(vary: str, value) -> str:
    """How a run names its value: "η = 0.1", "mini-batch 10", "cross-entropy cost", "ReLU"..."""
    if vary == "learning_rate":
        return f"η = {value:g}"
    if vary == "batch_size":
        return f"mini-batch {value}"
    if vary == "cost":
        return f"{value} cost"
    if vary == "activation":
        return {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid"}.get(value, value)
    return {"scaled": "1/√n weights", "normal": "N(0, 1) weights"}.get(value, value)


def parse_values(vary: str, text: str) -> tuple:
    """The values a user typed ("0.1, 1.5, 10"; "sigmoid, relu"), checked; SessionError (one line)."""
    if vary not in VARIABLES:
        raise SessionError(f"cannot vary {vary!r}; choose one of: {', '.join(VARIABLES)}")
    name, kind = VARIABLES[vary]
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    out = []
    for p in parts:
        if kind is str:
            v = p.lower().replace(" ", "-")
            v = {"ce": "cross-entropy", "crossentropy": "cross-entropy", "1/√n": "scaled", "n(0,1)": "normal"}.get(v, v)
            if v not in CHOICES[vary]:
                raise SessionError(f"{p!r} is not a {name}; choose from: {', '.join(CHOICES[vary])}")
        else:
            try:
                v = kind(float(p)) if kind is int and float(p).is_integer() else kind(p)
            except ValueError:
                raise SessionError(f"{p!r} is not a number ({name})") from None
        out.append(v)
    return check_values(vary, out)


def check_values(vary: str, values) -> tuple:
    name, kind = VARIABLES[vary]
    values = tuple(values)
    if not MIN_RUNS <= len(values) <= MAX_RUNS:
        raise SessionError(f"give {MIN_RUNS} to {MAX_RUNS} values of the {name}, separated by commas")
    if len(set(values)) != len(values):
        raise SessionError(f"the values of the {name} must differ from each other")
    if vary in HYPER_RANGES:
        lo, hi = HYPER_RANGES[vary]
        for v in values:
            if not (lo <= v <= hi) or (kind is float and not math.isfinite(v)):
                raise SessionError(f"the {name} must be between {lo:g} and {hi:g}, not {v!r}")
    return values


@dataclass(frozen=True)
class RunSpec:
    """One run: its name and everything it trains with."""

    name: str  # "A", "B", ...
    label: str  # "η = 0.1 (too small)"
    learning_rate: float
    batch_size: int
    cost: str
    activation: str
    init: str

    @property
    def title(self) -> str:
        return f"{self.name} · {self.label}"


@dataclass(frozen=True)
class Setup:
    """What a comparison trains: the runs, and what they share."""

    vary: str
    runs: tuple[RunSpec, ...]
    common: dict  # learning_rate, batch_size, cost, activation, init (the shared ones)
    sizes: tuple
    seed: int
    epochs: int | None
    start: str  # "fresh" or "studio"
    dataset: str
    preset: str | None = None
    note: str = ""

    def shared_text(self) -> str:
        """One line: what every run has in common."""
        c = self.common
        parts = [sizes_text(self.sizes)]
        if self.vary != "activation":
            parts.append(value_text("activation", c["activation"]))
        if self.vary != "cost":
            parts.append(value_text("cost", c["cost"]))
        if self.vary != "learning_rate":
            parts.append(value_text("learning_rate", c["learning_rate"]))
        if self.vary != "batch_size":
            parts.append(value_text("batch_size", c["batch_size"]))
        if self.start == "studio":
            parts.append("from the studio's network")
        else:
            if self.vary != "init":
                parts.append(value_text("init", c["init"]))
            parts.append(f"seed {self.seed}")
        parts.append(f"{self.epochs} epochs" if self.epochs else "no epoch limit")
        parts.append(self.dataset)
        return " · ".join(parts)


class Comparison:
    """See the module docstring.  ``worker_factory()`` makes the worker the runs train in (default:
    :func:`~nnstudio.training.workers.make_worker`, a training process)."""

    def __init__(self, session, worker_factory=None):
        self.session = session
        self._factory = worker_factory or make_worker
        self.worker = None
        self.events = Events(
            setup="a comparison was set up (Setup): new runs, all at their start",
            runs="the runs' networks moved on (a snapshot arrived)",
            history="the runs' mini-batch reports arrived",
            run_state="idle, paused, running or finished",
            message="tell the user (level, title, text); level 'status' is a short note",
        )
        self.setup: Setup | None = None
        self.histories: list[TrainingHistory] = []
        self.states: list[RunState | None] = []
        self.run_state = "idle"
        self.speed = WATCH
        self.step_count = 0  # lockstep steps so far
        self.examples = 0  # examples each run has seen
        self.generation = 0
        self._worker_gen = 0
        self._mode_seq = 0
        self._consumed = 0
        self._initial: list[Network] = []

    # ================================================================== setting up
    def plan(self, vary: str, values, *, start: str = "fresh", preset: str | None = None) -> Setup:
        """The runs that :meth:`begin` would train (checked; SessionError, one line)."""
        s = self.session
        ds = s.dataset
        if ds is None or (start == "studio" and s.network is None):
            raise SessionError("there is no dataset yet: wait until it is loaded")
        if start not in STARTS:
            raise SessionError(f"start from one of: {', '.join(STARTS)}")
        if vary not in VARIABLES:
            raise SessionError(f"cannot vary {vary!r}; choose one of: {', '.join(VARIABLES)}")
        p = PRESET_BY_KEY.get(preset) if preset else None
        values = check_values(vary, values)
        arch, hyper = s.architecture, s.hyper
        net = s.network
        common = {"learning_rate": float(hyper["learning_rate"]), "batch_size": int(hyper["batch_size"]),
                  "cost": arch["cost"], "activation": arch["activation"], "init": arch["init"]}
        sizes = tuple(arch["sizes"])
        if start == "studio":
            if vary == "init":
                raise SessionError("the initialisation only shapes new weights: start from new weights to compare it")
            sizes = tuple(net.sizes)
            common.update(cost=net.cost.name, activation=net.activation.name, init=net.init)
        if p is not None:
            common.update(p.common)
        if vary == "batch_size" and max(values) > ds.n_train:
            raise SessionError(f"a mini-batch cannot be larger than the {ds.n_train:,} training images")
        try:
            for v in values:
                check_network(sizes, int(v) if vary == "batch_size" else common["batch_size"])
        except LimitError as e:
            raise SessionError(str(e)) from None
        matched = p is not None and p.vary == vary and tuple(p.values) == tuple(values)  # (the preset as it is)
        names = p.names if matched else ()
        runs = []
        for k, v in enumerate(values):
            label = value_text(vary, v) + (f" ({names[k]})" if names else "")
            runs.append(RunSpec(RUN_NAMES[k], label, **dict(common, **{vary: v})))
        epochs = int(hyper["epochs"]) or None
        return Setup(vary, tuple(runs), common, sizes, int(arch["seed"]), epochs, start, ds.name,
                     p.key if matched else None, p.note if matched else "")

    def begin(self, setup: Setup) -> None:
        """Build the runs of ``setup`` (every one from the same weights and shuffle) and hand them
        to the worker, paused at their start."""
        s = self.session
        ds = s.dataset
        base = s.network.copy() if setup.start == "studio" else None
        nets, trainers = [], []
        for run in setup.runs:
            if base is None:  # the same draws of the seed for every run (scaled by its initialisation)
                net = Network(setup.sizes, activation=run.activation, cost=run.cost, init=run.init, seed=setup.seed)
            else:
                net = base.copy()
                net.activation, net.cost = get_activation(run.activation), get_cost(run.cost)
            nets.append(net.copy())
            trainers.append(Trainer(net, ds.train_x, ds.train_labels, ds.test_x, ds.test_labels,
                                    learning_rate=run.learning_rate, batch_size=run.batch_size,
                                    epochs=setup.epochs, seed=setup.seed))
        self._ensure_worker()
        for h in self.histories:
            h.close()
        self.histories = []
        for _ in setup.runs:
            h = TrainingHistory()
            h.n_train = ds.n_train
            self.histories.append(h)
        self.setup = setup
        self._initial = nets
        self.states = [RunState(n, 0, 0, 0, None, False, None, False, None) for n in nets]
        self.step_count = self.examples = 0
        self.generation += 1
        self.worker.set_trainer(LockstepTrainer(trainers))
        self._set_run_state("paused")
        self.events.setup.emit(setup)
        self.events.runs.emit()
        self.events.history.emit()

    def start(self, vary: str, values, *, start: str = "fresh", preset: str | None = None) -> Setup:
        """:meth:`plan` then :meth:`begin`."""
        setup = self.plan(vary, values, start=start, preset=preset)
        self.begin(setup)
        return setup

    def start_preset(self, key: str, start: str = "fresh") -> Setup:
        """One of :data:`PRESETS`, by key."""
        p = PRESET_BY_KEY[key]
        return self.start(p.vary, p.values, start=start, preset=key)

    def _ensure_worker(self) -> None:
        w = self.worker
        if w is not None and w.started and not w.alive:
            try:
                w.stop(1.0)
            except Exception:  # pragma: no cover - it is gone anyway
                pass
            w = None
        if w is None:
            self.worker = w = self._factory()
            w.start()
            w.set_speed(self.speed)
            w.set_snapshot_interval(1.0 / SNAPSHOT_HZ)
            self.generation = self._worker_gen = self._mode_seq = self._consumed = 0

    # ================================================================== reading
    @property
    def runs(self) -> tuple[RunSpec, ...]:
        return () if self.setup is None else self.setup.runs

    @property
    def running(self) -> bool:
        return self.run_state == "running"

    def initial_network(self, i: int) -> Network:
        """Run ``i``'s weights before its first step (a copy)."""
        return self._initial[i].copy()

    def run_snapshot(self, i: int) -> Snapshot | None:
        """Run ``i``'s network as a Snapshot (its own step, epoch and last cost), for a diagram."""
        st = self.states[i] if i < len(self.states) else None
        if st is None:
            return None
        return Snapshot(st.network, step=st.step, epoch=st.epoch, examples_seen=st.examples_seen,
                        learning_rate=self.runs[i].learning_rate, batch_size=self.runs[i].batch_size,
                        batch_cost=st.batch_cost, at_epoch_end=st.at_epoch_end)

    def run_status(self, i: int) -> str:
        """A short line about run ``i``: its last cost and test accuracy, or why it stopped."""
        st, h = self.states[i], self.histories[i]
        parts = []
        if st is not None and st.diverged_at is not None:
            parts.append(f"diverged at its mini-batch {st.diverged_at:,}: stopped (last good weights kept)")
        if h.n:
            mean = h.recent_mean(max(5, min(200, h.n // 25)))
            parts.append(f"cost {mean:.3f}" if math.isfinite(mean) else "cost ∞")
        if h.last_accuracy is not None:
            epoch, acc = h.last_accuracy
            parts.append(f"{100 * acc:.1f} % after epoch {epoch}")
        if st is not None and st.step and not h.last_accuracy:
            parts.append(f"{st.step:,} mini-batch{'es' if st.step != 1 else ''}")
        return " · ".join(parts) if parts else "not started"

    def progress_text(self) -> str:
        if self.setup is None:
            return "no comparison yet"
        n_train = self.histories[0].n_train if self.histories else 0
        epoch = f" (epoch {self.examples / n_train:.2f})" if n_train and self.examples else ""
        return f"step {self.step_count:,} · {self.examples:,} examples each{epoch}"

    # ================================================================== commands
    def _can_train(self) -> bool:
        if self.setup is None or self.worker is None:
            return False
        self._ensure_alive()
        if self.run_state == "finished":
            self._say("Every run is done: Rewind to watch them again, or start another comparison")
            return False
        return True

    def _ensure_alive(self) -> None:
        if self.worker is not None and self.worker.started and not self.worker.alive and self.setup is not None:
            log.warning("the comparison's worker ended; starting it again from the runs' start")
            self.begin(self.setup)

    def play(self) -> None:
        if not self._can_train():
            return
        if self.session.running:  # (two trainings would share the processor; the user watches this one)
            self.session.pause()
            self._say("The studio's training is paused while the comparison runs")
        self.worker.play()
        self._mode_seq = self.worker.sent
        self._set_run_state("running")

    def pause(self) -> None:
        if self.worker is not None:
            self.worker.pause()
            self._mode_seq = self.worker.sent

    def toggle_play(self) -> None:
        self.pause() if self.running else self.play()

    def step(self) -> None:
        """One lockstep step: the same examples for every run."""
        if self._can_train():
            self.worker.step_batch()
            self._mode_seq = self.worker.sent

    def step_epoch(self) -> None:
        if self._can_train():
            self.worker.step_epoch()
            self._mode_seq = self.worker.sent

    def rewind(self) -> None:
        """Every run back to the common start: they replay exactly."""
        if self.setup is None or self.worker is None:
            return
        self.worker.rewind()
        self.generation += 1
        for h in self.histories:
            h.clear()
        self.states = [RunState(n.copy(), 0, 0, 0, None, False, None, False, None) for n in self._initial]
        self.step_count = self.examples = 0
        self.events.runs.emit()
        self.events.history.emit()
        self._say("Rewound: every run is back at the common start, and replays exactly")

    def set_speed(self, batches_per_second: float) -> None:
        self.speed = WATCH if batches_per_second < 0 else float(batches_per_second)
        if self.worker is not None:
            self.worker.set_speed(self.speed)

    def open_in_studio(self, i: int) -> bool:
        """Make run ``i``'s network the studio's, through the session (undoable): its weights are
        adopted (Training ▸ Undo puts the studio's back), and the studio takes its η and mini-batch
        size.  A run of another activation or cost needs a network of that recipe first: the
        studio starts one from the comparison's seed (asking first if its own was trained), so
        that Undo goes back to the run's initial weights."""
        s = self.session
        run, st = self.runs[i], self.states[i]
        net = st.network
        cur = s.network
        same = (cur is not None and tuple(cur.sizes) == tuple(net.sizes) and cur.activation.name == net.activation.name
                and cur.cost.name == net.cost.name)
        if not same:
            seed = self.setup.seed if self.setup.start == "fresh" else None
            if not s.new_network(seed=seed, sizes=net.sizes, activation=net.activation.name, cost=net.cost.name,
                                 init=run.init):
                self._say(f"Kept the studio's network: run {run.name} was not opened")
                return False
        s.set_learning_rate(run.learning_rate)
        s.set_batch_size(run.batch_size)
        if not s.adopt(net.copy(), f"opening run {run.name} of the comparison"):
            return False
        self.session.events.message.emit(
            "status", "", f"Run {run.name} ({run.label}) is now the studio's network, after {st.step:,} mini-batches "
                          f"of the comparison; Training ▸ Undo puts the previous weights back")
        return True

    # ================================================================== the worker's messages
    def poll(self) -> int:
        """Take in what the worker produced (call it often).  Returns how many items came."""
        w = self.worker
        if w is None:
            return 0
        items = w.drain()
        n = 0
        for it in items:
            t = type(it)
            if t is BatchReport:  # (the lockstep's own reports: the runs' come with the snapshots)
                n += 1
            elif t is ReportBlock:
                n += len(it)
            else:
                self._message(it)
        if n:
            self._consumed += n
            w.acknowledge(self._consumed)
        return len(items)

    def _message(self, msg) -> None:
        kind = msg[0]
        if kind in ("snapshot", "restarted"):
            if kind == "restarted":
                self._worker_gen = msg[2]
            extra = msg[1].extra
            if self._worker_gen == self.generation and isinstance(extra, RunsSnapshot):
                self._take(extra)
        elif kind == "state":
            if len(msg) > 2 and msg[2] < self._mode_seq:
                return
            if self._worker_gen == self.generation or msg[1] == "idle":
                if msg[1] == "idle" and self.setup is not None:
                    return
                self._set_run_state(msg[1])
                if msg[1] == "finished":
                    self._say("The comparison is done: every run finished its epochs (or stopped)")
        elif kind == "error":
            if len(msg) > 2 and msg[2]:
                log.error("the comparison's training failed:\n%s", msg[2])
            self._set_run_state("paused")
            self.events.message.emit("error", "Comparison stopped", msg[1])

    def _take(self, extra: RunsSnapshot) -> None:
        if len(extra.runs) != len(self.histories):
            return
        got = False
        for h, st in zip(self.histories, extra.runs):
            if st.block is not None:
                h.extend(st.block)
                got = True
        self.states = list(extra.runs)
        self.step_count, self.examples = extra.step, extra.examples
        self.events.runs.emit()
        if got:
            self.events.history.emit()

    def _set_run_state(self, state: str) -> None:
        if state != self.run_state:
            self.run_state = state
            self.events.run_state.emit(state)

    def _say(self, text: str) -> None:
        self.events.message.emit("status", "", text)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop the worker and free the histories (idempotent)."""
        w, self.worker = self.worker, None
        if w is not None:
            try:
                w.stop(timeout)
            except Exception:  # pragma: no cover - never keep the app from closing
                log.exception("stopping the comparison's worker failed")
        for h in self.histories:
            h.close()
        self._set_run_state("idle")
