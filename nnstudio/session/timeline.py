"""The timeline: any mini-batch of the run on screen, a run continued from there, runs saved and
opened again (no Qt here).

The session owns one :class:`Timeline` (``session.timeline``).  It keeps the run's checkpoints (the
snapshots the training loop marks, see :mod:`nnstudio.training.checkpoints`) and rebuilds any step
from them.  Showing step *s* (:meth:`Timeline.show`) makes the session's snapshot the network as it
was after mini-batch *s* (``Snapshot.past = (s, last step)``): every view draws it the way it draws
the live network, through ``session.events.network``; the title, the status bar and the views'
labels say "past: step s of N" (:meth:`Session.network_label`), and ``session.events.past`` tells
those that care (the timeline bar, the plots' marker).  The live run carries on meanwhile; its
snapshots wait in :attr:`Timeline.live` until :meth:`Timeline.go_live` (the window's key: L).

:meth:`Timeline.fork` ("Continue from here") starts a new run from the step on screen: the same
weights and the same place in the same shuffle, with the settings the user gives; up to that step
its history and checkpoints are the old run's, so it continues bit for bit as the old one did when
the settings are the same.  :meth:`Timeline.save_run` and :meth:`Timeline.open_run` write and read
run files (:mod:`nnstudio.training.runfile`).

Rebuilding runs on the session's runner (a thread in the studio, at once in tests); requests that
come while one is running are coalesced (only the newest is rebuilt next).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

from nnstudio.core import Trainer
from nnstudio.session.model import Origin, Snapshot
from nnstudio.training.checkpoints import CheckpointStore, Replayer
from nnstudio.training.runfile import (
    Run, RunFileError, fingerprint, history_block, history_prefix, history_settings, load_run, save_run,
)

log = logging.getLogger(__name__)

__all__ = ["Timeline", "RunFileError"]


class Timeline:
    """See the module docstring."""

    def __init__(self, session):
        self.s = session
        self.store: CheckpointStore | None = None
        self.replayer: Replayer | None = None
        self._data = None  # the run's (train_x, train_labels, seed, weight decay, engine)
        self._fp = None  # (id of train_x, its fingerprint)
        #: the step on screen when it is the past, else None (live)
        self.step: int | None = None
        self.shown: Snapshot | None = None  # the past snapshot on screen
        self._shown_pos: dict | None = None  # its trainer position
        #: the newest live snapshot, held back while the past is on screen
        self.live: Snapshot | None = None
        self._wanted: int | None = None
        self._busy = False
        self._pending_run = None  # a run file waiting for its dataset
        #: milliseconds the last rebuild took, and mini-batches it replayed
        self.last_ms = 0.0
        self.last_replayed = 0
        session.events.dataset.connect(self._dataset_ready)

    # ================================================================== fed by the session
    def new_run(self, trainer: Trainer | None = None) -> None:
        """A new run started (a new network, a rewind, a reset...): the old one's timeline goes.
        ``trainer``: the new run's trainer (None: the same data as before, e.g. a rewind)."""
        was_past = self.step is not None
        self.step, self.shown, self._shown_pos, self.live, self._wanted = None, None, None, None, None
        self.store = None
        self.replayer = None
        if trainer is not None:
            self._data = (trainer.train_x, trainer.train_labels, trainer.seed, trainer.weight_decay, trainer.engine)
        if was_past:
            self.s.events.past.emit(None, None)

    def offer(self, snap: Snapshot) -> None:
        """A snapshot of the live run came in: keep it if it is a checkpoint."""
        pos = snap.position
        if pos is None:
            return
        if self.store is None or self.store.n_params != snap.network.n_params:
            self.store = CheckpointStore(snap.network.n_params)
            self.replayer = None
        try:
            self.store.add(snap.network.buffer, pos, forced=bool(pos.get("forced")))
        except OSError as e:  # (the temporary folder failed: the timeline stops, training goes on)
            log.warning("the timeline cannot keep checkpoints: %s", e)
            self.store = None

    def hold(self, snap: Snapshot) -> bool:
        """While the past is on screen, a live snapshot waits here (True) instead of being shown."""
        if self.step is None:
            return False
        self.live = snap
        return True

    # ================================================================== reading
    @property
    def training_set(self):
        """(train_x, train_labels) of the run (None before one)."""
        return None if self._data is None else self._data[:2]

    @property
    def past(self) -> bool:
        return self.step is not None

    def span(self) -> tuple[int, int] | None:
        """(first, last): the steps the timeline reaches now, or None."""
        if self.store is None or not len(self.store) or self._data is None:
            return None
        r = self.s.last_report
        last = r.step if r is not None else self.store.steps[-1]
        first = self.store.first_step
        return (first, last) if last >= first else None

    def label(self) -> str:
        """" · past: step 1,240 of 12,000" while the past is on screen, else ""."""
        if self.shown is None or self.shown.past is None:
            return ""
        s, last = self.shown.past
        return f" · past: step {s:,} of {last:,}"

    def progress(self) -> dict | None:
        """Where the step on screen is, as :meth:`Session.progress` says where the run is (the status
        bar shows this while the past is on screen), or None when live."""
        snap = self.shown
        if snap is None or snap.past is None:
            return None
        n = self.s.history.n_train or (self.s.dataset.n_train if self.s.dataset is not None else 0)
        bs = snap.batch_size or int(self.s.hyper["batch_size"])
        return {"epoch": snap.epoch if snap.at_epoch_end else snap.epoch + 1, "batch": snap.batch + 1,
                "batches": -(-n // max(1, bs)) if n else None, "examples": snap.examples_seen}

    # ================================================================== showing a step
    def show(self, step: int) -> bool:
        """Put the run as it was after mini-batch ``step`` on screen (clamped to :meth:`span`)."""
        span = self.span()
        if span is None:
            return False
        step = int(min(max(step, span[0]), span[1]))
        if self.step is None:
            self.live = self.s.snapshot
        self.step = step
        self._wanted = step
        self._kick()
        return True

    def _replayer(self) -> Replayer:
        if self.replayer is None or self.replayer.store is not self.store:
            x, y, seed, decay, engine = self._data
            self.replayer = Replayer(self.store, self.s.network, x, y, seed=seed, weight_decay=decay, engine=engine)
        return self.replayer

    def _kick(self) -> None:
        if self._busy or self._wanted is None:
            return
        step, gen, store = self._wanted, self.s.generation, self.store
        self._wanted = None
        i = store.nearest(step)
        settings = history_settings(self.s.history, store.steps[i], step) if i is not None else None
        replayer = self._replayer()
        last = self.span()[1]
        self._busy = True

        def work(cancelled, _progress):
            t0 = time.perf_counter()
            rebuilt = replayer.at(step, settings, cancelled=lambda: cancelled() or self._wanted is not None)
            return rebuilt, (time.perf_counter() - t0) * 1e3

        def done(result):
            self._busy = False
            rebuilt, ms = result
            if gen == self.s.generation and self.step is not None and self.store is store:
                self.last_ms, self.last_replayed = ms, rebuilt.replayed
                self._put_on_screen(rebuilt, last)
            self._kick()

        def failed(e):
            self._busy = False
            from nnstudio._cancel import Cancelled

            if not isinstance(e, Cancelled) and gen == self.s.generation:
                log.warning("rebuilding step %s failed: %s", step, e)
                self.s.events.message.emit("status", "", f"Could not rebuild step {step:,}: {e}")
            self._kick()

        self.s.runner.submit(work, done, failed)

    def _put_on_screen(self, rebuilt, last: int) -> None:
        s = self.s
        r, pos, step = rebuilt.report, rebuilt.position, rebuilt.step
        kw = dict(generation=s.generation, edits=s.edits, past=(step, max(last, step)))
        if r is not None:
            snap = Snapshot.of(rebuilt.network, r, **kw)
        else:  # (a checkpoint: its mini-batch's numbers from the history)
            row = _row(s.history, step)
            snap = Snapshot(rebuilt.network, step=step, epoch=pos["epoch"], batch=max(0, pos["batch"] - 1),
                            examples_seen=pos["seen"], learning_rate=float(pos.get("lr", 0.0)),
                            batch_size=int(pos.get("bs", 0)), batch_cost=None if row is None else float(row["cost"]),
                            at_epoch_end=step > 0 and pos["batch"] == 0, **kw)
        self.shown, self._shown_pos = snap, pos
        s.snapshot = snap
        s.events.network.emit(snap)
        s.events.origin.emit(s.origin)  # (the label says "past: step s of N")
        s.events.past.emit(step, snap.past[1])

    def go_live(self) -> bool:
        """Back to the live run (the newest network of the run on screen again)."""
        if self.step is None:
            return False
        s = self.s
        live = self.live if self.live is not None else s.snapshot
        self.step, self.shown, self._shown_pos, self.live, self._wanted = None, None, None, None, None
        if live is not None and live.past is None:
            s.snapshot = live
            s.events.network.emit(live)
        s.events.origin.emit(s.origin)
        s.events.past.emit(None, None)
        return True

    # ================================================================== continue from here
    def fork(self, learning_rate: float | None = None, batch_size: int | None = None) -> bool:
        """Continue from the step on screen: a new run from there (the old run's later steps go),
        with these settings (default: the current ones).  Asks first (``session.confirm``)."""
        s = self.s
        snap, pos = self.shown, self._shown_pos
        if snap is None or pos is None or s.dataset is None:
            return False
        step, last = snap.past
        if last > step and s.trained and not s.confirm(
                f"Continuing from step {step:,} starts a new run there: the {last - step:,} mini-batches after it "
                "are discarded."):
            return False
        if learning_rate is not None:
            s.set_learning_rate(learning_rate)
        if batch_size is not None:
            s.set_batch_size(batch_size)
        self._continue(snap, pos, history_prefix(s.history, step))
        h = s.hyper
        s._say(f"Continued from step {step:,} with η = {h['learning_rate']:g}, mini-batch {int(h['batch_size'])}: "
               "a new run from there (Play to train it)")
        return True

    def _continue(self, snap: Snapshot, pos: dict, prefix, origin: Origin | None = None) -> None:
        """A new run from ``snap`` (at ``pos``): the worker gets a trainer resumed there, the history
        becomes ``prefix`` (a ReportBlock, or None: empty), the checkpoints after it go."""
        s = self.s
        s.pause()
        s._ensure_worker()
        x, y, seed, decay, engine = self._data
        net = snap.network.copy()
        ds, h = s.dataset, s.hyper
        tr = Trainer(net, x, y, ds.test_x, ds.test_labels, learning_rate=h["learning_rate"],
                     batch_size=int(h["batch_size"]), epochs=int(h["epochs"]) or None, seed=seed,
                     weight_decay=decay, engine=engine)
        start = s._run_start.get_params() if s._run_start is not None else None
        tr.resume(net.get_params(), pos, initial_params=start)
        store = self.store
        store.truncate(int(pos["step"]))
        s.generation += 1
        s.edits = 0
        was_past = self.step is not None
        self.step, self.shown, self._shown_pos, self.live, self._wanted = None, None, None, None, None
        self.replayer = None
        s.history.clear()
        s.history.n_train = len(y)
        if prefix is not None:
            s.history.extend(prefix)
        s.last_report = prefix.last() if prefix is not None and len(prefix) else None
        s.events.history.emit()
        s.snapshot = dataclasses.replace(snap, past=None, generation=s.generation, edits=0, position=None)
        s.worker.set_trainer(tr)
        s._undo.clear()
        s.play_starts_fresh = False
        if origin is not None:
            s._set_origin(origin, unsaved=False)
        else:
            s.unsaved = True
        s._set_run_state("paused")
        s.events.restarted.emit(s.generation)
        s.events.network.emit(s.snapshot)
        s.events.origin.emit(s.origin)
        if was_past or origin is None:
            s.events.past.emit(None, None)

    # ================================================================== run files
    def run(self) -> Run | None:
        """The run on screen as a :class:`Run` (sharing the store and the history: for saving and
        exporting), or None before it has a checkpoint."""
        s = self.s
        if self.store is None or not len(self.store) or self._data is None or s.network is None:
            return None
        x, y, seed, decay, _engine = self._data
        net = s.network
        ds = s.dataset
        if self._fp is None or self._fp[0] is not x:
            self._fp = (x, fingerprint(x, y))
        start = s._run_start.buffer.copy() if s._run_start is not None else self.store.get(0)[1]
        meta = {
            "sizes": list(net.sizes), "activation": net.activation.name, "cost": net.cost.name, "init": net.init,
            "seed": seed, "weight_decay": decay, "engine": self._replayer().engine,
            "dataset": {"key": s.dataset_key, "name": ds.name, "n_train": int(len(y)), "fingerprint": self._fp[1],
                        "class_names": list(ds.class_names)},
            "hyper": {k: v for k, v in s.hyper.items()}, "origin": s.origin.name if s.origin else None,
            "steps": s.last_report.step if s.last_report is not None else 0,
        }
        from nnstudio import __version__

        meta["nnstudio_version"] = __version__
        return Run(meta, self.store, s.history, start)

    def save_run(self, path) -> bool:
        run = self.run()
        if run is None:
            self.s.events.message.emit("info", "Nothing to save", "This run has no timeline yet: train a little first.")
            return False
        try:
            out = save_run(path, run)
        except RunFileError as e:
            self.s.events.message.emit("error", "Could not save the run", str(e))
            return False
        self.s._say(f"Saved the run to {Path(out).name}: {run.last_step:,} mini-batches, {len(run.store)} checkpoints")
        return True

    def open_run(self, path) -> bool:
        """Open a run file: its dataset (loaded first if another is in use), its network at its last
        step, its history and its timeline.  A problem is one line in a message; nothing changes."""
        s = self.s
        try:
            run = load_run(path)
        except RunFileError as e:
            s.events.message.emit("error", "Could not open the run", str(e))
            return False
        key = run.meta["dataset"].get("key")
        if s.dataset is None or (key and key != s.dataset_key):
            if not key:
                s.events.message.emit("error", "Could not open the run", f"{Path(path).name}: it names no dataset")
                return False
            self._pending_run = (path, run)
            s._say(f"Loading {key} for {Path(path).name}…")
            if s.dataset_key != key:
                s.switch_dataset(key) if s.dataset is not None else s.load_dataset(key)
            return True
        return self._adopt_run(path, run)

    def _dataset_ready(self, _ds) -> None:
        pending, self._pending_run = self._pending_run, None
        if pending is not None and self.s.dataset_key == pending[1].meta["dataset"].get("key"):
            self._adopt_run(*pending)

    def _adopt_run(self, path, run: Run) -> bool:
        s = self.s
        ds = s.dataset
        name = Path(path).name
        m = run.meta
        x, y = ds.train_x, ds.train_labels
        if len(y) != m["dataset"]["n_train"] or fingerprint(x, y) != m["dataset"]["fingerprint"]:
            s.events.message.emit("error", "Could not open the run", f"{name}: it was trained on other data than "
                                  f"{ds.name} ({m['dataset']['n_train']:,} training images)")
            return False
        if s.trained and not s.confirm(f"Opening {name} replaces the current network."):
            return False
        seed = m.get("seed") or 0
        net = run.network()
        s.architecture = {"sizes": tuple(net.sizes), "activation": net.activation.name, "cost": net.cost.name,
                          "init": net.init, "seed": seed}
        s.events.architecture.emit(dict(s.architecture))
        hyper = m.get("hyper") or {}
        for k, setter in (("learning_rate", s.set_learning_rate), ("batch_size", s.set_batch_size),
                          ("epochs", s.set_epochs)):
            if k in hyper:
                try:
                    setter(hyper[k])
                except ValueError:
                    pass
        # the run's own timeline: its checkpoints and history; its last step on screen, where the
        # worker carries on if Play is pressed
        s._run_start = net.copy()
        self.store = run.store
        self.replayer = None
        self._data = (x, y, seed, float(m.get("weight_decay", 0.0)), m.get("engine", "auto"))
        last = run.last_step
        i = run.store.nearest(last)
        rebuilt = self._replayer().at(last, history_settings(run.history, run.store.steps[i], last))
        pos = rebuilt.position
        snap = Snapshot.of(rebuilt.network, rebuilt.report, generation=s.generation) if rebuilt.report is not None \
            else Snapshot(rebuilt.network, step=last, epoch=pos["epoch"], examples_seen=pos["seen"])
        self._continue(snap, pos, history_block(run.history.rows(), list(run.history.epochs)),
                       origin=Origin.file(Path(path), net.sizes, seed))
        s.saved_path = str(Path(path).resolve())
        s._say(f"Opened the run {name}: {last:,} mini-batches; drag the timeline to see any of them")
        return True


def _row(history, step: int):
    """The history's row of ``step``, or None."""
    if history.n == 0:
        return None
    first = int(history.rows(0, 1)["step"][0])
    rows = history.rows(step - first, step - first + 1) if step >= first else []
    return rows[0] if len(rows) and int(rows[0]["step"]) == step else None

