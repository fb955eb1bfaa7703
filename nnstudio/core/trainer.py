"""Stochastic gradient descent, one mini-batch per step.

The trainer is a *stepper*: each call of :meth:`Trainer.step` (or each ``next()`` on
:meth:`Trainer.steps`) shuffles when an epoch starts, takes the next mini-batch, runs
backpropagation on it, moves every weight and bias by −η × the average gradient, and
returns a small :class:`BatchReport`.  The batch that ends an epoch carries an
:class:`EpochReport` with the test accuracy.  The same object drives the CLI, the tests
and the GUI worker.

Between steps you may change :attr:`learning_rate` and :attr:`batch_size`; the next
mini-batch uses them.  :meth:`rewind` puts back the initial weights and the shuffle
stream, so the same run replays bit for bit; :meth:`reset` starts over from a new seed.

Speed: there are two engines computing the same maths.  ``"c"`` (the default when it was
built: see ``setup.py``) runs a whole mini-batch in one call of a small C kernel that releases
the GIL while it works: layer by layer over the batch, the first layer as a sparse product over
each image's non-zero pixels, the others through register-blocked products, the sigmoid
vectorised; it also computes the epoch's test evaluation.  It agrees with the NumPy loop to
rounding (see ``tests/core/test_engines.py``), and is the faster of the two on every shape and
batch size measured (``benchmarks/bench_grid.py``, ``docs/performance.md``).  ``"numpy"`` is the
reference loop, used when the kernel is absent or cannot serve a case.  The NumPy loop works on
preallocated buffers, keeps the images as uint8 until the batch,
shuffles once per epoch into a contiguous array (so a mini-batch is a slice, not a fancy
index), and folds each bias into its weight matrix (the ones-column trick) so that one
matrix product and one addition update both.  See ``benchmarks/bench_trainer.py``.

BLAS threads: the C engine calls no BLAS (neither in its steps nor in its evaluation), so a
library user's OpenBLAS threads stay asleep.  The NumPy engine's matrix products do go through
BLAS, whose threads only contend on these small matrices: set ``OPENBLAS_NUM_THREADS=1`` (or
``OMP_NUM_THREADS``) before NumPy is first imported, as the command line and the training
process do.  It cannot be set from here (NumPy is imported by then) without a dependency such as
threadpoolctl, and changing a whole process's BLAS from inside a library would surprise its
other users.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from .costs import Quadratic
from .network import Network, as_targets

try:  # the optional C kernel (setup.py builds it when a compiler is present)
    import _nnstudio_sgd
except ImportError:  # pragma: no cover - depends on the build
    _nnstudio_sgd = None

#: the engines a Trainer can run: "c" (the compiled kernel) or "numpy" (the reference loop)
ENGINES = ("auto", "c", "numpy")

#: rows per forward pass of the NumPy engine's test evaluation (bounded memory, and faster than
#: 10,000: the float copy of a chunk stays in cache)
EVAL_CHUNK = 1000


def c_engine_available() -> bool:
    """True when the compiled SGD kernel was built and imports."""
    return _nnstudio_sgd is not None


@dataclass(slots=True)
class EpochReport:
    epoch: int  # 1-based number of the epoch that just ended
    train_cost: float  # mean of the epoch's mini-batch costs
    test_accuracy: float | None  # fraction 0..1, None without a test split
    test_cost: float | None
    seconds: float  # wall time of the epoch's steps (evaluation excluded)
    eval_seconds: float


@dataclass(slots=True)
class BatchReport:
    epoch: int  # 0-based epoch this batch belongs to
    batch: int  # 0-based index of the batch within its epoch
    indices: np.ndarray  # indices (into the training set) of the examples used
    cost: float  # mean cost over this mini-batch, before the step
    seconds: float  # wall time of this step
    examples_seen: int  # total examples processed since the start (or rewind)
    step: int  # total mini-batches since the start (or rewind), 1-based
    learning_rate: float
    batch_size: int
    epoch_end: EpochReport | None = None
    diverged: bool = False  # the cost became inf/NaN: the weights were restored
    offset: int = 0  # position of the batch's first example in the epoch's order


def _save_checkpoint(checkpoint, params) -> None:
    """Remember the weights, unless the last step already made them inf/NaN."""
    if all(np.isfinite(p).all() for p in params):
        for c, p in zip(checkpoint, params):
            c[...] = p


class DivergedError(RuntimeError):
    """Raised by :meth:`Trainer.run` when the cost stops being finite."""


@dataclass
class _Buffers:
    acts: list  # per layer l < L: (m, n_l + 1) with a column of ones; output: (m, n_L)
    views: list  # activations without the ones column
    zs: list
    sps: list  # f'(z) per layer (views into sp_all)
    deltas: list
    dps: list  # ∂C/∂a propagated to the previous layer
    grads: list  # (n_in + 1, n_out) per layer, like the parameters (views into grad_all)
    grad_all: np.ndarray  # laid out like Network.buffer: one addition updates every layer
    diff: np.ndarray
    hidden: np.ndarray  # every layer after the input side by side: one σ' for all
    sp_all: np.ndarray


class Trainer:
    """Mini-batch stochastic gradient descent over ``(train_x, train_labels)``.

    ``train_x`` is (N, n_in) uint8 pixels or float activations; ``train_labels`` (N,)
    integer labels.  The optional test split is evaluated at the end of every epoch
    (``eval_limit`` caps how many test examples are used).
    """

    def __init__(
        self,
        network: Network,
        train_x,
        train_labels,
        test_x=None,
        test_labels=None,
        *,
        learning_rate: float = 1.5,
        batch_size: int = 10,
        epochs: int | None = None,
        seed: int | None = 0,
        eval_limit: int | None = None,
        checkpoint_every: int = 200,
        weight_decay: float = 0.0,
        engine: str = "auto",
    ):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
        train_x = np.asarray(train_x)
        if train_x.ndim == 3:
            train_x = train_x.reshape(len(train_x), -1)
        if train_x.ndim != 2 or train_x.shape[1] != network.sizes[0]:
            raise ValueError(f"training inputs must be (N, {network.sizes[0]}), got {train_x.shape}")
        train_labels = np.asarray(train_labels)
        if len(train_labels) != len(train_x) or len(train_x) == 0:
            raise ValueError("training inputs and labels must be non-empty and of equal length")
        self.network = network
        self.train_x = train_x
        self.train_labels = train_labels
        self._train_targets = as_targets(train_labels, network.sizes[-1])
        if test_x is not None:
            test_x = np.asarray(test_x)
            if test_x.ndim == 3:
                test_x = test_x.reshape(len(test_x), -1)
        self.test_x = test_x
        self.test_labels = None if test_labels is None else np.asarray(test_labels)
        self.learning_rate = float(learning_rate)
        self.batch_size = int(batch_size)
        self.epochs = epochs
        self.eval_limit = eval_limit
        #: L2 regularisation λ: each step first shrinks the weights (not the biases) by the
        #: factor 1 − ηλ/n (n = training-set size), as in Nielsen's book, chapter 3.
        self.weight_decay = float(weight_decay)
        self.checkpoint_every = max(1, int(checkpoint_every))
        #: "auto" (C when available and applicable, else NumPy), "c" or "numpy";
        #: ``$NNSTUDIO_ENGINE`` overrides "auto" (e.g. ``numpy`` to compare the two)
        self.engine = engine
        self.seed = seed
        self._initial_params = network.get_params()
        self.history: list[EpochReport] = []
        self._restart()

    def __getstate__(self):
        # picklable (the GUI hands a trainer to its training process): the running
        # generator is not; the next step() starts a new one where this one was
        state = self.__dict__.copy()
        state["_gen"] = None
        return state

    # ------------------------------------------------------------------ control
    def _restart(self) -> None:
        self._shuffle_rng = np.random.default_rng(self.seed)
        self.epoch = 0  # epochs completed
        self.batch_in_epoch = 0
        self.examples_seen = 0
        self.step_count = 0
        self.history = []
        self._gen = None

    def rewind(self) -> None:
        """Back to the initial weights and the start of the same shuffle stream."""
        self.network.set_params(self._initial_params)
        self._restart()

    def reset(self, seed: int | None = None) -> None:
        """Fresh random weights and a fresh shuffle stream from ``seed`` (random if None)."""
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (2**31))
        self.seed = seed
        self.network.initialize(seed)
        self._initial_params = self.network.get_params()
        self._restart()

    def adopt(self, params) -> None:
        """Carry on the run from other weights (the same shapes): an explorer step, an undo, an
        edit.  The epoch, the shuffle order and the step count go on where they were."""
        self.network.set_params(params)
        self._gen = None  # the next step() starts a new loop (with these weights as its checkpoint)

    def position(self) -> dict:
        """Where the run is, for a checkpoint: with the weights, all :meth:`resume` needs to carry on
        bit for bit (the step count, the epoch and the place in its shuffled order, and the shuffle
        stream's state as it was before that order was drawn; plain ints and dicts: JSON-ready)."""
        rng = self._epoch_rng if self.batch_in_epoch else self._shuffle_rng.bit_generator.state
        return {"step": self.step_count, "epoch": self.epoch, "batch": self.batch_in_epoch,
                "pos": int(getattr(self, "_pos", 0)) if self.batch_in_epoch else 0,
                "seen": self.examples_seen, "rng": rng}

    def resume(self, params, position: dict, initial_params=None) -> None:
        """Put the run where :meth:`position` said it was, with these weights: the next steps are
        those the run took from there (same examples, same order).  ``initial_params``: what a
        rewind goes back to (default: the weights it had until now)."""
        self.network.set_params(params)
        if initial_params is not None:
            self._initial_params = [np.array(p) for p in initial_params]
        self._shuffle_rng = np.random.default_rng()
        self._shuffle_rng.bit_generator.state = position["rng"]
        self.epoch = int(position["epoch"])
        self.batch_in_epoch = int(position["batch"])
        self.examples_seen = int(position["seen"])
        self.step_count = int(position["step"])
        self.history = []
        self._gen = None
        if self.batch_in_epoch:  # mid-epoch: the epoch's order, drawn again from the same state
            self._epoch_rng = position["rng"]
            self._perm = self._shuffle_rng.permutation(self.n_train)
            self._ye = np.take(self._train_targets, self._perm, axis=0)
            self._pos = int(position["pos"])

    @property
    def engine_in_use(self) -> str:
        """The engine the next steps run on: "c" or "numpy"."""
        return "c" if self._c_kernel_args() is not None else "numpy"

    def _c_kernel_args(self):
        """The C kernel's constructor arguments, or None when the NumPy loop must run."""
        engine = self.engine
        if engine == "auto":
            engine = os.environ.get("NNSTUDIO_ENGINE", "auto").strip().lower() or "auto"
        if engine == "numpy" or _nnstudio_sgd is None:
            if engine == "c" and _nnstudio_sgd is None:
                raise RuntimeError("the C engine was not built (no C compiler at install time?)")
            return None
        net = self.network
        codes = {"sigmoid": _nnstudio_sgd.SIGMOID, "tanh": _nnstudio_sgd.TANH, "relu": _nnstudio_sgd.RELU}
        costs = {"quadratic": _nnstudio_sgd.QUADRATIC, "cross-entropy": _nnstudio_sgd.CROSS_ENTROPY}
        acts = [net.layer_activation(l).name for l in range(len(net.params))]
        x = self.train_x
        ok = (
            all(a in codes for a in acts)
            and net.cost.name in costs
            and x.dtype in (np.uint8, np.float64)
            and x.flags.c_contiguous
            and net.buffer.dtype == np.float64
            and net.buffer.flags.c_contiguous
            and len(net.sizes) <= 65
            and net.sizes[0] <= 65535
        )
        if not ok:
            if engine == "c":
                raise RuntimeError("the C engine cannot run this network or data; use engine='numpy'")
            return None
        return net.buffer, tuple(net.sizes), tuple(codes[a] for a in acts), costs[net.cost.name], x

    @property
    def n_train(self) -> int:
        return len(self.train_x)

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self.n_train / self.batch_size)

    @property
    def finished(self) -> bool:
        return self.epochs is not None and self.epoch >= self.epochs

    def step(self) -> BatchReport:
        """Advance exactly one mini-batch and report it.

        After a divergence the next call carries on (from the restored weights) with
        whatever learning rate is set by then.
        """
        epochs = self.epochs
        if epochs is not None and self.epoch >= epochs:  # (self.finished, without a property call)
            raise RuntimeError(f"training is finished ({self.epoch} of {self.epochs} epochs)")
        gen = self._gen
        if gen is None:
            gen = self._gen = self.steps()
        try:
            return next(gen)
        except StopIteration:  # the last one diverged: start a fresh loop
            self._gen = self.steps()
            return next(self._gen)

    def run_epoch(self) -> list[BatchReport]:
        """Step until the current epoch ends; returns its batch reports."""
        reports = []
        while True:
            r = self.step()
            reports.append(r)
            if r.epoch_end is not None or r.diverged:
                return reports

    def run(self, epochs: int | None = None, callback=None) -> list[EpochReport]:
        """Train for ``epochs`` more epochs (default: up to :attr:`epochs`)."""
        target = self.epoch + epochs if epochs is not None else self.epochs
        if target is None:
            raise ValueError("give a number of epochs")
        while self.epoch < target:
            r = self.step()
            if callback is not None:
                callback(r)
            if r.diverged:
                raise DivergedError(
                    f"the cost became infinite at epoch {r.epoch + 1}, batch {r.batch + 1} "
                    f"(learning rate {r.learning_rate:g}); the last good weights were kept"
                )
        return self.history

    def evaluate(self) -> tuple[float | None, float | None]:
        """(accuracy, mean cost) on the test split (the first ``eval_limit`` examples).

        On the C engine the kernel's forward pass computes the outputs (no BLAS call, no float
        copy of the test set); on the NumPy engine :meth:`Network.evaluate` does, 1,000 rows at a
        time (a 10,000-row chunk made a 60 MB float64 copy of the test images and was slower)."""
        if self.test_x is None or self.test_labels is None or len(self.test_labels) == 0:
            return None, None
        n = len(self.test_labels) if self.eval_limit is None else min(self.eval_limit, len(self.test_labels))
        x, labels = self.test_x[:n], self.test_labels[:n]
        kargs = self._c_kernel_args()
        if kargs is None or x.dtype not in (np.uint8, np.float64) or not x.flags.c_contiguous:
            return self.network.evaluate(x, labels, batch=EVAL_CHUNK)
        out = np.empty((n, self.network.sizes[-1]))
        _nnstudio_sgd.Kernel(*kargs).forward(x, out)
        correct = int(np.count_nonzero(out.argmax(axis=1) == labels))
        cost = float(self.network.cost.per_example(out, as_targets(labels, out.shape[1])).sum())
        return correct / n, cost / n

    # ------------------------------------------------------------------ the loop
    def _buffers(self, m: int) -> _Buffers:
        sizes = self.network.sizes
        L = len(sizes) - 1
        # Layers 1..L live side by side in one array (each hidden layer followed by its
        # ones column), so that σ'(z) = a(1 − a) of every layer is two NumPy calls.
        widths = [n + 1 for n in sizes[1:-1]] + [sizes[-1]]
        offsets = np.concatenate([[0], np.cumsum(widths)])
        hidden = np.ones((m, int(offsets[-1])))
        sp_all = np.zeros_like(hidden)
        first = np.ones((m, sizes[0] + 1))
        if self.train_x.dtype == np.uint8:
            # Raw pixels go in unscaled (a cheap cast, no multiply); the bias column holds
            # 255 to match, and the 1/255 is folded into the first layer's maths below.
            first[:, -1] = 255.0
        grad_all = np.zeros_like(self.network.buffer)
        grads, i = [], 0
        for p in self.network.params:
            grads.append(grad_all[i : i + p.size].reshape(p.shape))
            i += p.size
        acts, views, sps = [first], [first[:, :-1]], []
        for l in range(1, L + 1):
            o, n = int(offsets[l - 1]), sizes[l]
            acts.append(hidden[:, o : o + widths[l - 1]])
            views.append(hidden[:, o : o + n])
            sps.append(sp_all[:, o : o + n])
        return _Buffers(
            acts=acts,
            views=views,
            zs=[np.zeros((m, n)) for n in sizes[1:]],
            sps=sps,
            deltas=[np.zeros((m, n)) for n in sizes[1:]],
            dps=[np.zeros((m, n)) for n in sizes[1:-1]],
            grads=grads,
            grad_all=grad_all,
            diff=np.zeros((m, sizes[-1])),
            hidden=hidden,
            sp_all=sp_all,
        )

    def steps(self):
        """A generator: each ``next()`` trains one mini-batch and yields its report.

        It ends when :attr:`epochs` epochs are done (never if ``epochs`` is None) or when
        the cost diverges (after yielding a report with ``diverged=True``).
        """
        net = self.network
        params = net.params
        L = len(params)
        weights = [p[:-1].T for p in params]
        params_w = [p[:-1] for p in params]  # the weight rows (contiguous), without the biases
        shrink = np.array(1.0)
        acts_f = [net.layer_activation(l) for l in range(L)]
        # Sigmoid layers are computed inline (σ(z) = ½ + ½ tanh(z/2)); others by method.
        sig = [a.name == "sigmoid" for a in acts_f]
        all_sig = all(sig)
        quad = isinstance(net.cost, Quadratic)
        n = self.n_train
        raw = self.train_x.dtype == np.uint8
        # With raw pixels z₁ comes out 255× too large and so does ∂C/∂W₁: both are
        # undone by folding 1/255 into constants that are applied anyway.
        in_scale = [1.0 / 255.0 if (raw and l == 0) else 1.0 for l in range(L)]
        # np.dot has less overhead than np.matmul on these small 2-D products
        dot, matmul, multiply, subtract, add, tanh, vdot, copyto, take = (
            np.dot, np.matmul, np.multiply, np.subtract, np.add, np.tanh, np.vdot, np.copyto, np.take
        )
        train_x = self.train_x
        buffer = net.buffer
        perf = time.perf_counter
        inf = math.inf
        # Constants as 0-d arrays: NumPy converts a Python float on every call, a 0-d
        # array it does not (0.26 µs instead of 0.38 µs per call on this machine).
        half_scale = [np.array(0.5 * s) for s in in_scale]
        in_scale = [np.array(s) for s in in_scale]
        one, half = np.array(1.0), np.array(0.5)
        step_scale, step_eta, step_m = np.array(0.0), None, None
        bufs: dict[int, _Buffers] = {}
        cur_m = -1
        # The inputs of the next ~1,000 examples of the epoch, in shuffled order, converted
        # to float with the ones (or 255) column: refilled in bulk every ~100 mini-batches,
        # so a mini-batch's input is a slice of it (no per-step gather, no per-step cast).
        chunk_rows = 1024
        chunk = chunk_src = None
        c0 = c1 = 0
        checkpoint = net.get_params()
        checkpoint_every = self.checkpoint_every
        kargs = self._c_kernel_args()
        kernel = None if kargs is None else _nnstudio_sgd.Kernel(*kargs)
        kernel_step = None if kernel is None else kernel.step
        kernel_perm = None

        # running sums of the current epoch (restart if a new generator resumes mid-epoch)
        ep_cost, ep_n, ep_sec = 0.0, 0, 0.0
        while self.epochs is None or self.epoch < self.epochs:
            if self.batch_in_epoch == 0:
                # A new epoch: a new order.  The targets are small and are permuted whole;
                # the images are gathered chunk by chunk (below): no 47 MB shuffled copy.
                self._epoch_rng = self._shuffle_rng.bit_generator.state  # (for position())
                self._perm = self._shuffle_rng.permutation(n)
                self._ye = np.take(self._train_targets, self._perm, axis=0)
                self._pos = 0
                ep_cost, ep_n, ep_sec = 0.0, 0, 0.0
                c0 = c1 = 0
            perm, ye = self._perm, self._ye
            if kernel is not None:
                # the compiled kernel: the whole mini-batch in one call (the GIL released)
                if perm is not kernel_perm:
                    kernel.set_epoch(perm, ye)
                    kernel_perm = perm
                t0 = perf()
                pos = self._pos
                m = self.batch_size
                if m > n - pos:
                    m = n - pos
                eta = self.learning_rate
                decay = self.weight_decay
                cost = kernel_step(pos, m, eta, 1.0 - eta * decay / n if decay else 1.0)
                seconds = perf() - t0
            else:
                t0 = perf()
                pos = self._pos
                m = min(self.batch_size, n - pos)
                if m != cur_m:
                    b = bufs.get(m)
                    if b is None:
                        b = bufs[m] = self._buffers(m)
                    acts, views, zs, sps, deltas, dps, grads, diff = (
                        b.acts, b.views, b.zs, b.sps, b.deltas, b.dps, b.grads, b.diff
                    )
                    sp_all, hidden, out = b.sp_all, b.hidden, b.views[L]
                    grad_all = b.grad_all
                    # per-layer operands, looked up once rather than on every step
                    # (layer 0's input is the current slice of the chunk: None here)
                    fwd_plan = [(acts[l] if l else None, params[l], zs[l], views[l + 1], half_scale[l], sig[l])
                                for l in range(L)]
                    bwd_plan = [
                        (acts[l].T if l else None, deltas[l], grads[l], weights[l] if l else None,
                         dps[l - 1] if l else None, sps[l - 1] if l else None, deltas[l - 1] if l else None, params_w[l])
                        for l in range(L - 1, -1, -1)
                    ]
                    cur_m = m
                eta = self.learning_rate
                decay = self.weight_decay
                if decay:
                    shrink[...] = 1.0 - eta * decay / n
                if pos < c0 or pos + m > c1:
                    k = min(max(chunk_rows, m), n - pos)
                    if chunk is None or len(chunk) < k:
                        chunk = np.ones((max(chunk_rows, k), train_x.shape[1] + 1))
                        if raw:
                            chunk[:, -1] = 255.0
                        chunk_src = np.empty((len(chunk), train_x.shape[1]), dtype=train_x.dtype)
                    take(train_x, perm[pos : pos + k], 0, chunk_src[:k])
                    copyto(chunk[:k, :-1], chunk_src[:k])
                    c0, c1 = pos, pos + k
                a0 = chunk[pos - c0 : pos - c0 + m]
                try:  # (a try block costs nothing in CPython 3.11 unless it fires)
                    # forward: z = W a + b (one product thanks to the ones column), a = f(z)
                    for l, (a_in, p, z, a, hs, is_sig) in enumerate(fwd_plan):
                        dot(a0 if a_in is None else a_in, p, z)
                        if is_sig:
                            multiply(z, hs, z)
                            tanh(z, z)
                            multiply(z, half, a)
                            add(a, half, a)
                        else:
                            if raw and l == 0:
                                multiply(z, in_scale[0], z)
                            acts_f[l].apply(z, a)
                    # output error
                    yb = ye[pos : pos + m]
                    subtract(out, yb, diff)
                    # f'(z) of every layer: a(1 − a) for the sigmoid layers, all at once
                    if all_sig:
                        subtract(one, hidden, sp_all)
                        multiply(sp_all, hidden, sp_all)
                    else:
                        for l in range(L):
                            if sig[l]:
                                subtract(1.0, views[l + 1], out=sps[l])
                                multiply(sps[l], views[l + 1], out=sps[l])
                            else:
                                acts_f[l].derivative(zs[l], views[l + 1], out=sps[l])
                    if raw:
                        multiply(sps[0], in_scale[0], sps[0])
                    if eta != step_eta or m != step_m:
                        step_eta, step_m = eta, m
                        step_scale[...] = (-2.0 if quad else -1.0) * eta / m
                    d = deltas[L - 1]
                    if quad:
                        cost = vdot(diff, diff) / m
                        multiply(diff, sps[L - 1], d)
                        multiply(d, step_scale, d)
                    else:
                        cost = float(net.cost.per_example(out, yb).sum()) / m
                        multiply(diff, step_scale, d)  # cross-entropy with a sigmoid output
                    # backward: deltas are pre-scaled by −η/m, so grads are the steps themselves
                    for a_t, d, g, w, dp, sp, d_prev, pw in bwd_plan:
                        matmul(a0.T if a_t is None else a_t, d, g)
                        if w is not None:
                            dot(d, w, dp)
                            multiply(dp, sp, d_prev)
                        if decay:
                            multiply(pw, shrink, pw)
                    add(buffer, grad_all, buffer)  # every layer's step at once
                except (FloatingPointError, RuntimeWarning):
                    # NumPy set to raise on overflow: the step blew up, like a NaN cost does
                    cost = math.nan
                seconds = perf() - t0

            epoch, batch = self.epoch, self.batch_in_epoch
            step = self.step_count = self.step_count + 1
            seen = self.examples_seen = self.examples_seen + m
            diverged = not (cost < inf)
            if diverged:
                net.set_params(checkpoint)
            elif not step % checkpoint_every:
                _save_checkpoint(checkpoint, params)
            pos = self._pos = pos + m
            ep_cost += cost * m
            ep_n += m
            ep_sec += seconds
            self.batch_in_epoch = batch + 1
            epoch_report = None
            if pos >= n and not diverged:
                t1 = perf()
                acc, test_cost = self.evaluate()
                self.epoch += 1
                self.batch_in_epoch = 0
                epoch_report = EpochReport(
                    epoch=self.epoch,
                    train_cost=ep_cost / ep_n,
                    test_accuracy=acc,
                    test_cost=test_cost,
                    seconds=ep_sec,
                    eval_seconds=perf() - t1,
                )
                self.history.append(epoch_report)
                _save_checkpoint(checkpoint, params)
            yield BatchReport(
                epoch, batch, perm[pos - m : pos], float(cost), seconds, seen,
                step, eta, m, epoch_report, diverged, pos - m,
            )
            if diverged:
                self._gen = None
                return

    def batch_examples(self, report: BatchReport):
        """The inputs and labels of the mini-batch a report describes (for the views)."""
        return self.train_x[report.indices], self.train_labels[report.indices]
