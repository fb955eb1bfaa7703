"""Sets a lesson step up in the studio: through the session's commands, and the views' own API.

:class:`LessonHost` is asked by the lessons panel, and only when the learner asks (Next, Back, a
step in the list, "Set up this step"): opening the dock, resetting the layout or launching the
app never sets a step up.  It changes the studio only through

* the session's commands (switch the dataset, open the shipped network, a new network from the
  step's seed, the current input, η, the mini-batch size, the speed), which ask before a network
  the learner trained is discarded;
* the window's ``show_view(name)`` (raise the dock and tab that hold a view);
* each view's public methods (the explorer's tab, the diagram's selected neuron, the
  playground's function, the evaluation page).

``begin(lesson)`` starts; ``poll()`` advances as far as the studio allows and returns "waiting",
"ready" or "failed" (the panel calls it again when the session changes).
"""

from __future__ import annotations

import logging
import time
import traceback

import numpy as np

from nnstudio._resources import shipped_model_path
from nnstudio.core import ModelFileError, load_model
from nnstudio.lessons.live import LiveContext, resolve_example
from nnstudio.gui.qt import QtCore, Qt, Signal
from nnstudio.session import DEFAULT_ARCHITECTURE

log = logging.getLogger(__name__)

#: the pad's InputExample source (nnstudio.gui.views.pad.view.SOURCE)
PAD_SOURCE = "drawing pad"
#: give up waiting for a step's setup after this many seconds (and say what is missing)
SETUP_TIMEOUT = 20.0
#: the share of the window's height the bottom docks get when a step is about one of them (or not)
BOTTOM_SHARE, BOTTOM_SHARE_SECONDARY = 0.52, 0.36
DIGITS = tuple(str(d) for d in range(10))


def same_params(a, b) -> bool:
    if a is None or b is None or tuple(a.sizes) != tuple(b.sizes):
        return False
    return all(np.array_equal(p, q) for p, q in zip(a.params, b.params))


class LessonHost(QtCore.QObject):
    """Applies a lesson's setup to a studio window, in phases:

    1. *dataset*: the lessons are about digits, so a dataset of other classes is swapped for MNIST
       (or the embedded sample);
    2. *network*: the shipped pretrained network, or fresh random weights from the step's seed;
    3. *views*: show and raise the step's docks and tabs, make the step's example the current input,
       wait until the views have it;
    4. *details*: the explorer's tab, neuron and parameter, the playground's function and
       learning rate, the evaluation page, the trainer's η, mini-batch and speed — then "ready".
    """

    changed = Signal()  # the setup advanced or finished (poll again / re-render)

    def __init__(self, window, parent=None):
        super().__init__(parent)
        self.window = window
        self.session = window.session
        self.lesson = None
        self.phase = "idle"
        self.problems: list[str] = []
        self._pretrained = None  # (Network | None, error message)
        self._touched = False  # the lessons have put a network in place this session
        self._declined = False  # the learner chose to keep their own network
        self._dataset_requested = False
        self._expected = None  # (kind, split, index)
        self._t0 = 0.0
        self._polling = False
        self.example_index = None

    # ------------------------------------------------------------------ reading
    def view(self, name: str, method: str | None = None):
        """The hosted view ``name`` if it is real (not a placeholder) and has ``method``."""
        w = self.window
        v = w.plots if name == "plots" else w.controls if name == "training" else w.views.get(name)
        if v is None or (method is not None and not hasattr(v, method)):
            return None
        return v

    def network(self):
        return self.session.network

    def pretrained(self):
        """The shipped pretrained network (loaded once), or None."""
        if self._pretrained is None:
            try:
                self._pretrained = (load_model(shipped_model_path()), "")
            except ModelFileError as e:
                self._pretrained = (None, str(e))
        return self._pretrained[0]

    # ------------------------------------------------------------------ setting up
    def begin(self, lesson, again: bool = False) -> None:
        self.lesson = lesson
        self.problems = []
        self.phase = "dataset"
        self._expected = None
        self.example_index = None
        self._dataset_requested = False
        self._t0 = time.monotonic()
        if again:
            self._declined = False

    def poll(self) -> str:
        if self.lesson is None:
            return "idle"
        if self._polling:  # (a command of the setup announced a change, and the panel asks again)
            return self.phase
        self._polling = True
        try:
            return self._advance()
        except Exception as e:  # a broken step must never break the window
            log.error("lesson setup failed:\n%s", traceback.format_exc())
            self.problems.append(f"{type(e).__name__}: {e}")
            self.phase = "failed"
            return "failed"
        finally:
            self._polling = False

    @property
    def waiting(self) -> bool:
        return self.phase not in ("idle", "ready", "failed")

    def _timed_out(self, what: str) -> bool:
        if time.monotonic() - self._t0 > SETUP_TIMEOUT:
            self.problems.append(f"gave up waiting for {what}")
            self.phase = "failed"
            return True
        return False

    def _advance(self) -> str:
        s = self.session
        setup = self.lesson.setup
        if self.phase == "dataset":
            ds = s.dataset
            if ds is None or s.loading_key is not None:
                return "failed" if self._timed_out("the dataset") else "waiting"
            if tuple(ds.class_names) != DIGITS:
                if not self._dataset_requested:
                    self._dataset_requested = True
                    from nnstudio.data import dataset_status

                    key = "mnist" if dataset_status("mnist") == "cached" else "mnist-sample"
                    self.window.statusBar().showMessage(f"The lessons read handwritten digits: loading {key}", 6000)
                    s.switch_dataset(key)
                return "failed" if self._timed_out("the MNIST dataset") else "waiting"
            self.phase = "network"
        if self.phase == "network":
            self.phase = "views"  # (first: the commands below announce changes, and the panel polls again)
            self._network(setup)
            self._start_views(setup)
        if self.phase == "views":
            if not self._views_ready(setup):
                return "failed" if self._timed_out("the example and the views") else "waiting"
            self.phase = "details"
        if self.phase == "details":
            self._apply_details(setup)
            self.phase = "ready"
            self.changed.emit()
        return "ready" if self.phase == "ready" else self.phase

    # ------------------------------------------------------------------ network
    def _may_replace(self, what: str) -> bool:
        """Ask before the lessons first replace a network the learner trained themselves."""
        s = self.session
        if self._declined:
            return False
        if self._touched or not s.trained:
            return True
        if s.confirm(f"The lesson {what}."):
            return True
        self._declined = True
        return False

    def _network(self, setup) -> None:
        s = self.session
        if setup.network == "pretrained":
            net = self.pretrained()
            if net is None:
                self.problems.append(f"the pretrained network cannot be loaded ({self._pretrained[1]})")
                return
            if same_params(s.network, net):
                self._touched = True
                return
            if not self._may_replace("opens the pretrained network"):
                self.problems.append("kept your own network (the numbers are for it)")
                return
            if s.open_shipped(ask=False):
                self._touched = True
            else:
                self.problems.append("the pretrained network could not be opened")
        elif setup.network == "fresh":
            if not self._may_replace("starts again from random weights"):
                self.problems.append("kept your own network (the numbers are for it)")
                return
            s.pause()
            arch = {k: v for k, v in DEFAULT_ARCHITECTURE.items() if k != "seed"}
            if s.new_network(seed=setup.seed, ask=False, **arch):
                self._touched = True

    # ------------------------------------------------------------------ views and example
    def _start_views(self, setup) -> None:
        w, s = self.window, self.session
        for name in reversed(setup.show):  # the first named ends on top of its tab group
            w.show_view(name)
        self._size_docks(setup)
        bp = self.view("backprop", "reset")
        if bp is not None and "backprop" in setup.show:
            bp.reset()  # the explorer's own step count and costs: back to the studio's network as it is
        spec = setup.example
        self._expected = None
        if spec.keeps:
            return
        draw = self.view("draw", "load_example")
        if spec.target == "pad" and spec.clear:
            if draw is not None:
                draw.clear()
            return
        try:
            index = resolve_example(spec, s.dataset, self.network())
        except ValueError as e:
            self.problems.append(str(e))
            return
        self.example_index = index
        if spec.target == "pad" and draw is not None:
            draw.load_example(index)
            self._expected = ("pad", "test", index)
        else:
            ex = s.example(spec.split, index)
            if ex is None:
                self.problems.append(f"no {spec.split} example #{index}")
                return
            s.set_input(ex)
            self._expected = ("session", spec.split, index)

    def _size_docks(self, setup) -> None:
        """Give the bottom docks room when the step is about one of them (the diagram keeps the rest)."""
        w = self.window
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for name in setup.show:
            d = w.dock_of(name)
            if d is not None and not d.isFloating() and w.dockWidgetArea(d) == bottom:
                share = BOTTOM_SHARE if name == setup.primary else BOTTOM_SHARE_SECONDARY
                w.resizeDocks([d], [int(w.height() * share)], Qt.Orientation.Vertical)
                return

    def input_matches(self) -> bool:
        """The views show the step's example as the current input (True if the step keeps the input)."""
        if self._expected is None:
            return True
        kind, split, index = self._expected
        ex = self.session.current_input
        if ex is not getattr(self.window, "views_input", ex):
            return False  # (the views get it at the next turn of the event loop)
        if ex is None:
            return False
        if kind == "pad":
            return ex.source == PAD_SOURCE and str(ex.extra.get("example", "")).endswith(f"test #{index}")
        return ex.split == split and ex.index == index

    def _views_ready(self, setup) -> bool:
        if not self.input_matches():
            return False
        snap = self.session.snapshot
        if snap is None:
            return False
        bp = self.view("backprop", "show_tab")
        if "backprop" in setup.show and bp is not None and not same_params(bp.network, snap.network):
            return False  # the explorer gets the snapshot at the next display frame
        dg = self.view("diagram", "select_neuron")
        if setup.neuron is not None and dg is not None and getattr(dg, "snapshot", None) is not snap:
            return False
        return True

    # ------------------------------------------------------------------ details
    def _apply_details(self, setup) -> None:
        s = self.session
        net = self.network()
        ex = s.current_input
        pixels = None if ex is None else ex.pixels
        label = None if ex is None else ex.label
        dg = self.view("diagram", "select_neuron")
        if dg is not None and "diagram" in setup.show:
            if setup.neuron is not None and net is not None:
                try:
                    layer, index = setup.neuron.resolve(net, pixels)
                    dg.select_neuron(layer, index, inspect=False)
                except ValueError as e:
                    self.problems.append(f"neuron: {e}")
            elif hasattr(dg, "clear_selection"):
                dg.clear_selection()
        bp = self.view("backprop", "show_tab")
        if bp is not None and "backprop" in setup.show:
            if setup.backprop_tab:
                bp.show_tab(setup.backprop_tab)
            if bp.network is not None and bp.current_example is not None:
                desired = bp.current_example[1]
                bp.set_focus_neuron(desired if setup.focus is None else setup.focus)
                if setup.parameter is not None and net is not None:
                    try:
                        bp.select_parameter(setup.parameter.resolve(net, pixels, desired if label is None else label))
                    except ValueError as e:
                        self.problems.append(f"parameter: {e}")
        pg = self.view("playground", "set_preset")
        if pg is not None and "playground" in setup.show:
            pg.pause()
            if setup.preset:
                pg.set_preset(setup.preset)
            if setup.learning_rate:
                pg.set_learning_rate(setup.learning_rate)
            start = setup.start if setup.start is not None else tuple(pg.preset.start)
            pg.set_stochastic(bool(setup.stochastic), setup.batch_size)
            pg.set_start(*start)
        ev = self.view("evaluation", "show_page")
        if ev is not None and "evaluation" in setup.show:
            if setup.evaluation_page:
                page = getattr(ev, setup.evaluation_page, None)
                if page is not None:
                    ev.show_page(page)
            if setup.evaluate:
                ev.evaluate_now()
        if setup.training_speed is not None:
            s.set_speed(setup.training_speed)
        if setup.training_learning_rate is not None:
            s.set_learning_rate(setup.training_learning_rate)
        if setup.training_batch_size is not None:
            s.set_batch_size(setup.training_batch_size)

    # ------------------------------------------------------------------ live numbers
    def live_context(self, lesson) -> LiveContext:
        """What the live numbers of ``lesson`` are computed from, read from the session now."""
        s = self.session
        setup = lesson.setup
        snap = s.snapshot
        ex = s.current_input
        ctx = LiveContext(
            network=None if snap is None else snap.network,
            pixels=None if ex is None else ex.pixels, label=None if ex is None else ex.label,
            source="" if ex is None else ex.source, dataset=s.dataset,
            batch_indices=None if snap is None else snap.batch_indices,
            neuron=setup.neuron, parameter=setup.parameter, focus=setup.focus, preset=setup.preset,
            learning_rate=setup.learning_rate, start=setup.start,
            training_learning_rate=s.hyper["learning_rate"], training_batch_size=int(s.hyper["batch_size"]),
        )
        if ex is not None and ex.source == PAD_SOURCE and ex.extra.get("example"):
            ctx.source = f"{ex.extra['example']} on the pad"
        # the explorer's η is the studio's
        ctx.explorer_eta = s.hyper["learning_rate"]
        # the text explains the step's own output neuron and parameter (the explorer shows whatever the
        # learner picks next); a neuron clicked in the diagram's layer is followed, the text says "ringed"
        dg = self.view("diagram", "selected")
        sel = dg.selected if dg is not None else None
        if setup.neuron is not None and sel is not None and sel[0] == setup.neuron.layer:
            ctx.neuron = type(setup.neuron)(sel[0], sel[1])
        pg = self.view("playground", "set_preset")
        if pg is not None and "playground" in setup.show:
            ctx.preset = pg.preset.key
            ctx.learning_rate = float(pg.learning_rate)
        return ctx

