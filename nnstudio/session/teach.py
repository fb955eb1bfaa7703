"""Teach it yours: the network misread a drawing, the user says what it is, and one SGD step on it
is applied to the studio's network (Qt-free).

:func:`teach_step` is the maths: a mini-batch of the drawing and :data:`REAL_IN_BATCH` real training
images (or the drawing alone), the network's own cost, the studio's η, one plain step
(:func:`nnstudio.components.explain.sgd_step`, the explorer's).  :class:`Teacher` is the session's part:
it applies the step through :meth:`Session.adopt <nnstudio.session.Session.adopt>` (so it is undoable
and the training process carries on from the taught weights), measures what the step did to test
accuracy off the session's thread (the session's runner), and keeps every drawing taught in "my
digits" (:mod:`nnstudio.data.mydigits`), which training mixes in when asked.

Its events are the session's: ``taught`` (a :class:`TeachResult`, emitted again with its test accuracies
once they are measured) and ``my_digits`` (the :class:`~nnstudio.data.mydigits.MyDigits` now kept).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from nnstudio.components.explain import sgd_step
from nnstudio.core import ModelFileError, Network, load_model
from nnstudio.data.mydigits import (
    MyDigits, MyDigitsError, as_image, load_my_digits, mixed_training_set, my_digits_path, save_my_digits,
    set_aside,
)

log = logging.getLogger(__name__)

__all__ = ["REAL_IN_BATCH", "SENTENCE", "TeachResult", "Teacher", "teach_step", "test_accuracy"]

#: real training images the drawing is mixed with: a mini-batch of 10, the videos' size
REAL_IN_BATCH = 9
#: why the step is averaged over a mini-batch, in one plain sentence (the pad says it)
SENTENCE = (f"Alone, one drawing pulls every weight its way; averaged with {REAL_IN_BATCH} real digits, it only "
            "nudges them.")


@dataclass(frozen=True, eq=False)
class TeachResult:
    """One teaching step: what the network read before and after, and (once measured) test accuracy."""

    seq: int  # the session's count of teaching steps (a later result replaces an earlier one)
    label: int  # what the user said the drawing is
    alone: bool  # the drawing alone, or mixed with REAL_IN_BATCH real training images
    learning_rate: float
    cost: str  # the cost the step went down (the network's own)
    pixels: np.ndarray  # (784,) the drawing as the network sees it
    real_indices: np.ndarray  # the training images in the mini-batch (none when alone)
    before: np.ndarray  # the output activations for the drawing before the step
    after: np.ndarray  # ... and after it
    example_cost_before: float
    example_cost_after: float
    digit_id: int | None = None  # its id in my digits (None: not kept)
    order: tuple = (0, 0)  # (generation, edits) of the session's network after the step
    accuracy_before: float | None = None  # test accuracy before / after the step (None until measured)
    accuracy_after: float | None = None
    other_accuracy_after: float | None = None  # what the other choice (alone / mixed) would have done
    n_test: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def guess_before(self) -> int:
        return int(np.argmax(self.before))

    @property
    def guess_after(self) -> int:
        return int(np.argmax(self.after))

    @property
    def learned(self) -> bool:
        """The drawing is now read as its label."""
        return self.guess_after == self.label

    @property
    def measured(self) -> bool:
        return self.accuracy_after is not None


def teach_step(net: Network, x, label: int, train_x, train_labels, learning_rate: float, alone: bool = False,
               real: np.ndarray | None = None, rng: np.random.Generator | None = None):
    """One SGD step on the drawing ``x`` (784 values 0..1) labelled ``label``: alone, or in a mini-batch
    with the real training images ``real`` (indices into ``train_x``; REAL_IN_BATCH drawn with ``rng``
    if None).  Returns ``(stepped copy of net, real indices, StepResult)``; ``net`` is not changed."""
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    if real is None:
        n = len(train_labels)
        rng = rng if rng is not None else np.random.default_rng()
        real = np.sort(rng.choice(n, size=min(REAL_IN_BATCH, n), replace=False)) if n else np.zeros(0, np.intp)
    real = np.asarray(real, dtype=np.intp)
    if alone or not len(real):
        X, y = x, np.array([int(label)])
    else:
        X = np.vstack([x, np.asarray(train_x)[real] * (1.0 / 255.0)])
        y = np.concatenate([[int(label)], np.asarray(train_labels)[real].astype(np.intp)])
    res = sgd_step(net, X, y, learning_rate, example=(x, int(label)))
    res.network.cost = net.cost
    return res.network, real, res


def test_accuracy(net: Network, test_x, test_labels) -> float | None:
    """The fraction of the test images read right (None if there are none)."""
    if len(test_labels) == 0:
        return None
    return float(net.evaluate(test_x, test_labels)[0])


class Teacher:
    """The session's teaching and "my digits" (``session.teacher``); see the module docstring.

    Commands: :meth:`teach`, :meth:`relabel`, :meth:`delete`, :meth:`set_mix_in`, :meth:`load`.
    State: :attr:`my_digits`, :attr:`mix_in`, :attr:`last` (the latest TeachResult), :attr:`in_run`
    (how many of my digits the run in progress trains on, and how many times each)."""

    def __init__(self, session, seed: int | None = 0):
        self.session = session
        self.my_digits = MyDigits.empty()
        self.path = None  # where my digits are kept (None: not loaded yet)
        self.writable = True  # False when a damaged file could not be set aside: never write over it
        self.mix_in = False
        self.in_run = (0, 0)  # (my digits in the run's training set, repeats of each)
        self.last: TeachResult | None = None
        self._seq = 0
        self._rng = np.random.default_rng(seed)
        self._kept: tuple[bytes, int] | None = None  # (the last drawing kept, its id): a drawing is kept once

    # ------------------------------------------------------------------ my digits on disk
    def load(self, path=None) -> None:
        """Read my digits (at the session's start).  A damaged file is set aside (renamed, kept) and
        said in one line; the studio goes on with an empty collection."""
        self.path = path = path if path is not None else my_digits_path()
        try:
            self.my_digits = load_my_digits(path)
        except MyDigitsError as e:
            self.my_digits = MyDigits.empty()
            try:
                kept = set_aside(path)
            except OSError as err:
                self.writable = False
                self._tell("warning", "My digits", f"{e}: not used, and left as it is ({err.strerror or err}); "
                           "what you teach now is not saved")
            else:
                self._tell("warning", "My digits", f"{e}: not used; kept as {kept.name}, a new {path.name} starts")
        self.session.events.my_digits.emit(self.my_digits)

    def _save(self) -> None:
        if self.path is None:
            self.path = my_digits_path()
        if not self.writable:
            return
        try:
            save_my_digits(self.my_digits, self.path)
        except MyDigitsError as e:
            self._tell("status", "", f"{e}; they are kept until you close nnstudio")

    def _set(self, digits: MyDigits) -> None:
        self.my_digits = digits
        self._save()
        self.session.events.my_digits.emit(digits)

    def relabel(self, digit_id: int, label: int) -> bool:
        try:
            self._set(self.my_digits.relabelled(digit_id, label))
        except (KeyError, ValueError) as e:
            self._tell("status", "", str(e))
            return False
        self._tell("status", "", f"My digit #{digit_id} is now a {label}")
        return True

    def delete(self, digit_id: int) -> bool:
        try:
            self._set(self.my_digits.without(digit_id))
        except KeyError as e:
            self._tell("status", "", str(e))
            return False
        if self._kept is not None and self._kept[1] == digit_id:
            self._kept = None
        self._tell("status", "", f"Deleted my digit #{digit_id} ({len(self.my_digits)} left)")
        return True

    def _keep(self, pixels, label: int) -> int | None:
        """Keep the drawing in my digits (once: teaching it again keeps its one copy, relabelled)."""
        image = as_image(pixels)
        key = image.tobytes()
        d = self.my_digits
        try:
            if self._kept is not None and self._kept[0] == key and self._kept[1] in d.ids:
                digit_id = self._kept[1]
                if int(d.labels[d.index_of(digit_id)]) != label:
                    self._set(d.relabelled(digit_id, label))
                return digit_id
            d, digit_id = d.with_digit(image, label)
        except ValueError as e:
            self._tell("status", "", str(e))
            return None
        self._kept = (key, digit_id)
        self._set(d)
        return digit_id

    # ------------------------------------------------------------------ mixing them into training
    def training_set(self, ds) -> tuple[np.ndarray, np.ndarray]:
        """The training images a new run of ``ds`` uses: its own, and my digits when mixed in."""
        self.in_run = (0, 0)
        if not self.mix_in or not len(self.my_digits) or ds.train_x.shape[1] != 784 or ds.n_classes != 10:
            return ds.train_x, ds.train_labels
        x, y, r = mixed_training_set(ds.train_x, ds.train_labels, self.my_digits)
        self.in_run = (len(self.my_digits), r)
        return x, y

    def mix_note(self) -> str:
        """One line for the Training panel: how my digits are (or would be) in the training set."""
        n = len(self.my_digits)
        if not n:
            return "None yet: draw a digit on the pad, click the digit it is, then Step ▶"
        if not self.mix_in:
            return f"{n} kept (Evaluation ▸ Dataset ▸ my digits); tick to train on them too"
        mine, r = self.in_run
        if not mine:
            return f"{n} kept; the next run trains on them"
        total = self.session.history.n_train
        text = f"In training, each {r} time{'s' if r != 1 else ''}: {mine * r:,} of {total:,} images"
        if mine == n:
            return text
        return text + (f"; {n - mine} more from the next run" if n > mine else f"; {mine - n} fewer from the next run")

    def set_mix_in(self, on: bool) -> bool:
        """Mix my digits into the training set (or stop): a new run of the network on screen takes it
        (its weights kept; the plots start again), as switching the dataset does."""
        on = bool(on)
        if on == self.mix_in:
            return False
        self.mix_in = on
        s = self.session
        if s.dataset is not None and s.network is not None:
            s.pause()
            fresh = s.play_starts_fresh  # (Play on the launch's network still starts a new one)
            s._new_run(s.network.copy(), origin=s.origin, unsaved=s.unsaved)
            if fresh:
                s.play_starts_fresh = True
                s.events.origin.emit(s.origin)
            mine, r = self.in_run
            self._tell("status", "", f"Training on {s.dataset.name} with my {mine} digits, each {r} times"
                       if mine else f"Training on {s.dataset.name} only" + ("" if not on else " (no digits of mine yet)"))
        self.session.events.my_digits.emit(self.my_digits)
        return True

    # ------------------------------------------------------------------ teaching
    def teach(self, pixels, label: int, alone: bool = False) -> TeachResult | None:
        """One step on the drawing ``pixels`` (784 values 0..1) labelled ``label``, alone or mixed with
        REAL_IN_BATCH training images, applied to the network on screen (undoable).  The drawing is kept
        in my digits.  Returns the result (test accuracies follow in a second ``taught`` event)."""
        s = self.session
        net, ds = s.network, s.dataset
        if net is None or ds is None:
            return None
        label = int(label)
        x = np.asarray(pixels, dtype=np.float64).reshape(-1)
        if x.size != net.sizes[0] or not 0 <= label < net.sizes[-1]:
            self._tell("status", "", f"This {'-'.join(map(str, net.sizes))} network cannot be taught a "
                       f"{x.size}-pixel drawing labelled {label}")
            return None
        if s.running:
            s.pause()
        note = self._take_over_launch_network()
        eta = float(s.hyper["learning_rate"])
        new, real, step = teach_step(net, x, label, ds.train_x, ds.train_labels, eta, alone, rng=self._rng)
        if not all(np.isfinite(p).all() for p in new.params):
            self._tell("status", "", f"The step at η = {eta:g} made the weights infinite: not applied; lower η")
            return None
        self._seq += 1
        before, after = net.feedforward(x[None])[0], new.feedforward(x[None])[0]
        what = "alone" if alone else f"with {len(real)} real digits"
        if not s.adopt(new, f"taught a {label} ({what})"):
            return None
        digit_id = self._keep(x, label)
        res = TeachResult(self._seq, label, bool(alone), eta, net.cost.name, x.copy(), real, before, after,
                          float(step.example_cost_before), float(step.example_cost_after), digit_id,
                          (s.generation, s.edits), n_test=int(ds.n_test))
        self.last = res
        s.events.taught.emit(res)
        read = ds.class_names[res.guess_after] if res.guess_after < ds.n_classes else str(res.guess_after)
        self._tell("status", "", f"Taught: that's a {label}; one step ({what}, η = {eta:g}{note}); now read as {read} "
                   f"({100 * after[res.guess_after]:.0f} %). Undo: Training ▸ Undo")
        self._measure(res, net, new, ds)
        return res

    def _take_over_launch_network(self) -> str:
        """The launch shows the pretrained network until Play starts a new one; teaching it makes it the
        network Play trains on, with the η it was trained with (as File ▸ Open pretrained network does).
        Returns a note for the status bar ("" if nothing changed)."""
        s = self.session
        if not s.play_starts_fresh:
            return ""
        s.play_starts_fresh = False
        s.events.origin.emit(s.origin)  # (the window drops "Play starts a new network")
        o = s.origin
        try:
            meta = load_model(o.path, with_metadata=True)[1] if o is not None and o.kind == "shipped" else {}
        except ModelFileError:
            meta = {}
        eta = meta.get("learning_rate")
        if not isinstance(eta, (int, float)) or not 1e-4 <= eta <= 100 or eta == s.hyper["learning_rate"]:
            return ""
        s.set_learning_rate(float(eta))
        return ", the pretrained network's own"

    def _measure(self, res: TeachResult, before: Network, after: Network, ds) -> None:
        """Test accuracy before and after the step, and after the other choice, off the session's thread."""
        tx, ty, trx, try_ = ds.test_x, ds.test_labels, ds.train_x, ds.train_labels

        def work(cancelled, progress):
            t0 = time.perf_counter()
            acc_before = test_accuracy(before, tx, ty)
            acc_after = test_accuracy(after, tx, ty)
            other, _, _ = teach_step(before, res.pixels, res.label, trx, try_, res.learning_rate, not res.alone,
                                     real=res.real_indices)
            acc_other = test_accuracy(other, tx, ty)
            log.debug("teaching: test accuracy measured in %.3f s", time.perf_counter() - t0)
            return acc_before, acc_after, acc_other

        def done(accs) -> None:
            if self.last is None or self.last.seq != res.seq:
                return  # a later step's numbers are on their way
            self.last = dataclasses.replace(res, accuracy_before=accs[0], accuracy_after=accs[1],
                                            other_accuracy_after=accs[2])
            self.session.events.taught.emit(self.last)

        def failed(e: Exception) -> None:
            self._tell("status", "", f"Could not measure test accuracy: {e}")

        self.session.runner.submit(work, done, failed)

    def _tell(self, level: str, title: str, text: str) -> None:
        self.session.events.message.emit(level, title, text)
