"""Gradient descent on a function of two inputs, where every step can be seen.

The videos picture the cost as a landscape and gradient descent as a ball rolling
downhill: each step moves by −η ∇C, so steps get shorter as the slope gets shallower.
This module holds the maths of the playground (NumPy only, no Qt):

- :class:`Function2D` presets (a bowl, an elongated valley, several local minima, a
  saddle) with *analytic* gradients, their minima and the curvature there, which gives
  the stability bound η < 2 / curvature of gradient descent;
- :class:`PerExampleFunctions`: the same function written as the average of many
  per-example functions C = (1/N) Σ Cᵢ, so that a step can use a random mini-batch of
  them ("stochastic" gradient descent);
- :class:`DescentRun`: a gradient-descent (or SGD) run, one step per call, that records
  the path, the step lengths and the work done, and that detects divergence (no NaN ever
  leaves it);
- :func:`race`: the careful full-gradient path against the drunk mini-batch path, from
  the same start, each timed until it reaches the bottom;
- :func:`contour_segments`: vectorised marching squares (contour lines for any grid),
  shared with :mod:`nnstudio.components.landscape`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Function2D", "PRESETS", "get_preset", "preset_names", "Regime", "REGIMES", "PerExampleFunctions",
    "DescentRun", "StepInfo", "RaceResult", "race", "bottom_target", "contour_segments", "quantile_levels",
    "REGIME_CAPTION",
]

#: the one-line caption of the learning-rate regimes (the videos' three, with the edge of stability named)
REGIME_CAPTION = (
    "Learning rate η: too small → crawls; good → steady descent; too large → overshoots "
    "the valley, and past 2 ÷ curvature it diverges."
)


@dataclass(frozen=True)
class Regime:
    key: str  # "crawls" | "good" | "overshoots" | "diverges"
    label: str
    low: float  # the learning-rate interval [low, high) of this regime for one function
    high: float


REGIMES = ("crawls", "good", "overshoots", "diverges")
_REGIME_LABELS = {
    "crawls": "too small: crawls",
    "good": "good",
    "overshoots": "too large: overshoots (zig-zags)",
    "diverges": "too large: diverges",
}


class Function2D:
    """A cost C(x, y) of two inputs with its analytic gradient.

    Subclasses define :meth:`_value` and :meth:`_grad` (both vectorised over arrays of x
    and y).  Everything else (Hessian, minima, curvature, stability bound, grids) is
    derived here.
    """

    key = ""
    name = ""
    formula = ""
    description = ""
    domain = (-2.0, 2.0, -2.0, 2.0)  # xmin, xmax, ymin, ymax shown
    start = (1.5, 1.5)  # a good default start point
    learning_rate = 0.1  # a good default learning rate
    noise = 2.0  # spread of the per-example gradients in stochastic mode

    # ------------------------------------------------------------------ to define
    def _value(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, x, y):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ maths
    def value(self, x, y=None):
        """C at (x, y); ``x`` may also be a point (2,) or points (..., 2)."""
        x, y = _xy(x, y)
        with np.errstate(all="ignore"):
            return self._value(x, y)

    def gradient(self, x, y=None) -> np.ndarray:
        """∇C = (∂C/∂x, ∂C/∂y), shaped (..., 2)."""
        x, y = _xy(x, y)
        with np.errstate(all="ignore"):
            gx, gy = self._grad(x, y)
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def hessian(self, x, y=None, h: float = 1e-5) -> np.ndarray:
        """The 2×2 matrix of second derivatives (central differences of the analytic gradient), (..., 2, 2)."""
        x, y = _xy(x, y)
        x, y = np.asarray(x, float), np.asarray(y, float)
        gxp, gxm = self.gradient(x + h, y), self.gradient(x - h, y)
        gyp, gym = self.gradient(x, y + h), self.gradient(x, y - h)
        H = np.stack([(gxp - gxm) / (2 * h), (gyp - gym) / (2 * h)], axis=-1)  # H[..., i, j] = ∂gᵢ/∂xⱼ
        return 0.5 * (H + np.swapaxes(H, -1, -2))

    def curvature(self, x, y=None) -> np.ndarray:
        """The largest curvature (largest eigenvalue of the Hessian) at the point(s)."""
        return np.linalg.eigvalsh(self.hessian(x, y))[..., -1]

    @property
    def minima(self) -> np.ndarray:
        """The local minima inside (or near) the domain, deepest first: (k, 2)."""
        if getattr(self, "_minima", None) is None:
            self._minima = _find_minima(self)
        return self._minima

    @property
    def max_curvature(self) -> float:
        """The largest curvature at any minimum: the one that limits the learning rate."""
        return float(max(self.curvature(m) for m in self.minima))

    @property
    def stability_bound(self) -> float:
        """η above which gradient descent cannot settle in any minimum: 2 / curvature.

        Near a minimum C ≈ C* + ½ λ u² along the steepest direction, so a step maps
        u → (1 − ηλ) u: it shrinks only while |1 − ηλ| < 1, i.e. η < 2/λ.  For the
        quadratic presets (bowl, valley) a larger η diverges from every start; for the
        others the path bounces out of every minimum and runs away.
        """
        return 2.0 / self.max_curvature

    def regime(self, learning_rate: float) -> Regime:
        """Which of the videos' regimes a learning rate falls in, for this function."""
        b = self.stability_bound
        bounds = {"crawls": (0.0, 0.05 * b), "good": (0.05 * b, 0.5 * b), "overshoots": (0.5 * b, b),
                  "diverges": (b, math.inf)}
        for key in REGIMES:
            lo, hi = bounds[key]
            if learning_rate < hi:
                return Regime(key, _REGIME_LABELS[key], lo, hi)
        return Regime("diverges", _REGIME_LABELS["diverges"], b, math.inf)  # pragma: no cover - NaN only

    def regimes(self) -> list[Regime]:
        """The four regimes as learning-rate intervals, smallest first."""
        b = self.stability_bound
        edges = [0.0, 0.05 * b, 0.5 * b, b, math.inf]
        return [Regime(k, _REGIME_LABELS[k], edges[i], edges[i + 1]) for i, k in enumerate(REGIMES)]

    def padded_domain(self, pad: float = 0.5):
        """The domain widened by ``pad`` × its size on every side (to fill a wide or tall view)."""
        x0, x1, y0, y1 = self.domain
        dx, dy = pad * (x1 - x0), pad * (y1 - y0)
        return (x0 - dx, x1 + dx, y0 - dy, y1 + dy)

    def grid(self, n: int = 200, domain=None):
        """(xs (n,), ys (n,), Z (n, n)) with Z[j, i] = C(xs[i], ys[j]) over ``domain`` (default: the function's)."""
        x0, x1, y0, y1 = domain or self.domain
        xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
        return xs, ys, self.value(xs[None, :], ys[:, None])

    def downhill_field(self, n: int = 15, domain=None):
        """Arrows for the picture: points and −∇C there, both (k, 2), on a grid of cells ``n`` to the
        function's domain width, covering ``domain`` (default: the function's)."""
        x0, x1, y0, y1 = self.domain
        cell = max(x1 - x0, y1 - y0) / n
        x0, x1, y0, y1 = domain or self.domain
        xs = np.arange(x0 + cell / 2, x1, cell)
        ys = np.arange(y0 + cell / 2, y1, cell)
        P = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
        return P, -self.gradient(P)

    @property
    def escape_radius(self) -> float:
        """A point this far from the centre of the domain has run away (diverged)."""
        x0, x1, y0, y1 = self.domain
        return 50.0 * max(x1 - x0, y1 - y0)

    @property
    def centre(self) -> np.ndarray:
        x0, x1, y0, y1 = self.domain
        return np.array([(x0 + x1) / 2, (y0 + y1) / 2])

    def __repr__(self) -> str:
        return f"<Function2D {self.key}: {self.formula}>"


def _xy(x, y):
    if y is None:
        p = np.asarray(x, dtype=np.float64)
        return p[..., 0], p[..., 1]
    return x, y


def _find_minima(fn: Function2D, n: int = 9, steps: int = 4000) -> np.ndarray:
    """Run careful gradient descent from a grid of starts and keep the distinct end points."""
    x0, x1, y0, y1 = fn.domain
    P = np.stack(np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n)), -1).reshape(-1, 2)
    # a safe step: 0.5 / (largest curvature seen on a fine grid of the domain)
    xs, ys = np.linspace(x0, x1, 41), np.linspace(y0, y1, 41)
    Q = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    lr = 0.5 / max(float(np.abs(np.linalg.eigvalsh(fn.hessian(Q))).max()), 1e-9)
    for _ in range(steps):
        P = P - lr * fn.gradient(P)
    g = np.linalg.norm(fn.gradient(P), axis=1)
    ok = (g < 1e-5) & np.all(np.abs(P - fn.centre) < 2 * np.array([x1 - x0, y1 - y0]), axis=1)
    ok &= np.linalg.eigvalsh(fn.hessian(P))[:, 0] > 0  # a true minimum, not a saddle point
    found: list[np.ndarray] = []
    for p in P[ok]:
        if all(np.linalg.norm(p - q) > 1e-3 for q in found):
            found.append(p)
    found.sort(key=lambda p: float(fn.value(p)))
    return np.array(found).reshape(-1, 2)


# ---------------------------------------------------------------------- presets
class Bowl(Function2D):
    key = "bowl"
    name = "Bowl"
    formula = "C = x² + y²"
    description = "A round bowl: every downhill arrow points at the bottom."
    domain = (-2.0, 2.0, -2.0, 2.0)
    start = (-1.6, 1.3)
    learning_rate = 0.1
    noise = 6.0

    def _value(self, x, y):
        return x * x + y * y

    def _grad(self, x, y):
        return 2 * x, 2 * y


class Valley(Function2D):
    key = "valley"
    name = "Elongated valley"
    formula = "C = 0.1 u² + 2 v²  (u, v: the axes turned by 25°)"
    description = "Steep walls, a nearly flat floor: big steps zig-zag across, small ones crawl along."
    domain = (-3.0, 3.0, -3.0, 3.0)
    start = (-2.6, 0.2)
    learning_rate = 0.1
    noise = 4.0
    a, b = 0.1, 2.0
    theta = math.radians(25.0)

    def _uv(self, x, y):
        c, s = math.cos(self.theta), math.sin(self.theta)
        return c * x + s * y, -s * x + c * y

    def _value(self, x, y):
        u, v = self._uv(x, y)
        return self.a * u * u + self.b * v * v

    def _grad(self, x, y):
        u, v = self._uv(x, y)
        c, s = math.cos(self.theta), math.sin(self.theta)
        du, dv = 2 * self.a * u, 2 * self.b * v
        return du * c - dv * s, du * s + dv * c


class ManyMinima(Function2D):
    key = "minima"
    name = "Several local minima"
    formula = "C = 0.03 (x² + y²)² − Σₖ hₖ exp(−|p − cₖ|² / wₖ)"
    description = "Three dips of different depths: where you start decides which one you end in."
    domain = (-2.5, 2.5, -2.5, 2.5)
    start = (-0.2, -1.9)
    learning_rate = 0.05
    noise = 5.0
    # (cx, cy, depth h, width w)
    # depth/width alike (h/w = 2.5), so every dip has about the same curvature at its bottom
    wells = ((1.1, 0.7, 1.6, 0.64), (-1.3, -0.5, 1.1, 0.44), (-0.4, 1.6, 0.8, 0.32))
    ring = 0.03

    def _value(self, x, y):
        r2 = x * x + y * y
        v = self.ring * r2 * r2
        for cx, cy, h, w in self.wells:
            v = v - h * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / w)
        return v

    def _grad(self, x, y):
        r2 = x * x + y * y
        gx, gy = 4 * self.ring * r2 * x, 4 * self.ring * r2 * y
        for cx, cy, h, w in self.wells:
            e = h * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / w)
            gx = gx + e * 2 * (x - cx) / w
            gy = gy + e * 2 * (y - cy) / w
        return gx, gy


class Saddle(Function2D):
    key = "saddle"
    name = "Saddle"
    formula = "C = x² − y² + ½ y⁴"
    description = "A saddle point at the centre: the path slows to a near stop there, then escapes to a valley."
    domain = (-2.0, 2.0, -2.0, 2.0)
    start = (-1.8, 0.004)
    learning_rate = 0.05
    noise = 6.0

    def _value(self, x, y):
        y2 = y * y
        return x * x - y2 + 0.5 * y2 * y2

    def _grad(self, x, y):
        return 2 * x, -2 * y + 2 * y * y * y


PRESETS: dict[str, Function2D] = {f.key: f for f in (Bowl(), Valley(), ManyMinima(), Saddle())}


def preset_names() -> list[str]:
    return list(PRESETS)


def get_preset(key: str) -> Function2D:
    try:
        return PRESETS[key]
    except KeyError:
        raise ValueError(f"unknown function {key!r}; choose one of: {', '.join(PRESETS)}") from None


# ---------------------------------------------------------------------- stochastic
class PerExampleFunctions:
    """C(p) = (1/N) Σᵢ Cᵢ(p), each example's cost Cᵢ(p) = C(p) + gᵢ·p.

    The tilts gᵢ are random but add up to exactly zero, so the average *is* C: each
    example pulls the point its own way, and only together do they agree on downhill.
    A mini-batch's gradient is ∇C + mean(g over the batch): right on average, noisy
    in each step — the videos' "drunk man stumbling downhill".
    """

    def __init__(self, fn: Function2D, n: int = 200, spread: float | None = None, seed: int = 0):
        if n < 2:
            raise ValueError("need at least two examples")
        self.fn = fn
        self.n = int(n)
        self.spread = float(fn.noise if spread is None else spread)
        rng = np.random.default_rng(seed)
        g = rng.standard_normal((self.n, 2)) * self.spread
        self.tilts = g - g.mean(axis=0)  # exactly zero mean (to rounding)

    def value(self, p, indices=None) -> float:
        """Average cost over the examples ``indices`` (all if None) at p."""
        p = np.asarray(p, float)
        g = self.tilts if indices is None else self.tilts[indices]
        return float(self.fn.value(p) + (g @ p).mean())

    def example_gradients(self, p, indices=None) -> np.ndarray:
        """Each example's own gradient at p: (m, 2)."""
        g = self.tilts if indices is None else self.tilts[indices]
        return self.fn.gradient(np.asarray(p, float))[None, :] + g

    def gradient(self, p, indices=None) -> np.ndarray:
        """The average of the examples' gradients (all of them if ``indices`` is None)."""
        return self.example_gradients(p, indices).mean(axis=0)


# ---------------------------------------------------------------------- runs
@dataclass(frozen=True)
class StepInfo:
    step: int  # 1-based
    point: np.ndarray  # position after the step
    cost: float  # the true (full) cost there
    gradient: np.ndarray  # the gradient that was used for the step
    slope: float  # |gradient used|
    step_length: float  # η |gradient used|
    status: str


@dataclass
class DescentRun:
    """Gradient descent from ``start`` on ``fn``: p ← p − η ∇C(p), one :meth:`step` at a time.

    With ``examples`` (a :class:`PerExampleFunctions`) the gradient is the average over
    the examples' gradients: over all of them when ``batch_size`` is None (the careful
    path), or over a random mini-batch of ``batch_size`` (the drunk path: the examples
    are shuffled each epoch and taken in turn, as the trainer does).

    ``status`` is "ready", "running", "converged" (the slope fell below ``tol``),
    "diverged" (the point ran off: past :attr:`Function2D.escape_radius`, or not finite —
    it is then left at the last finite point; or, with the exact gradient, it keeps
    bouncing without ever settling: no new lowest cost for :attr:`patience` steps while the
    steps stay long) or "stopped" (``max_steps`` reached).
    """

    fn: Function2D
    start: tuple
    learning_rate: float
    examples: PerExampleFunctions | None = None
    batch_size: int | None = None
    seed: int = 0
    tol: float = 1e-4
    max_steps: int = 5000
    patience: int = 60

    path: list = field(init=False)
    costs: list = field(init=False)
    step_lengths: list = field(init=False)
    slopes: list = field(init=False)
    examples_seen: list = field(init=False)  # cumulative example-gradients computed, per point
    seconds: float = field(init=False, default=0.0)  # compute time of the steps (not of the bookkeeping)
    status: str = field(init=False, default="ready")
    message: str = field(init=False, default="")

    def __post_init__(self):
        p0 = np.asarray(self.start, dtype=np.float64).reshape(2)
        if not np.all(np.isfinite(p0)):
            raise ValueError("the start point must be finite")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ValueError("the learning rate must be a positive number")
        if self.batch_size is not None and self.examples is None:
            raise ValueError("a mini-batch needs per-example functions")
        if self.batch_size is not None and not 1 <= self.batch_size:
            raise ValueError("the mini-batch size must be at least 1")
        self.path = [p0]
        self.costs = [float(self._true_cost(p0))]
        self.step_lengths = []
        self.slopes = []
        self.examples_seen = [0]
        self._rng = np.random.default_rng(self.seed)
        self._order = None
        self._pos = 0

    # ------------------------------------------------------------------ properties
    @property
    def point(self) -> np.ndarray:
        return self.path[-1]

    @property
    def steps_done(self) -> int:
        return len(self.path) - 1

    @property
    def finished(self) -> bool:
        return self.status in ("converged", "diverged", "stopped")

    @property
    def stochastic(self) -> bool:
        return self.batch_size is not None and self.examples is not None and self.batch_size < self.examples.n

    @property
    def examples_per_step(self) -> int:
        if self.examples is None:
            return 1
        return self.examples.n if self.batch_size is None else min(self.batch_size, self.examples.n)

    def path_array(self) -> np.ndarray:
        return np.array(self.path)

    def _true_cost(self, p) -> float:
        return float(self.fn.value(p))

    # ------------------------------------------------------------------ stepping
    def _batch(self):
        ex = self.examples
        m = min(self.batch_size, ex.n)
        if self._order is None or self._pos + m > ex.n:
            self._order = self._rng.permutation(ex.n)
            self._pos = 0
        idx = self._order[self._pos : self._pos + m]
        self._pos += m
        return idx

    def _gradient(self, p) -> np.ndarray:
        if self.examples is None:
            return self.fn.gradient(p)
        if self.batch_size is None or self.batch_size >= self.examples.n:
            return self.examples.gradient(p)
        return self.examples.gradient(p, self._batch())

    def step(self) -> StepInfo | None:
        """One step; None if the run has already finished."""
        if self.finished:
            return None
        p = self.path[-1]
        t0 = time.perf_counter()
        with np.errstate(all="ignore"):
            g = self._gradient(p)
            new = p - self.learning_rate * g
        self.seconds += time.perf_counter() - t0
        self.status = "running"
        slope = float(np.hypot(g[0], g[1]))
        length = self.learning_rate * slope
        r = self.fn.escape_radius
        if not (np.all(np.isfinite(new)) and math.isfinite(length)) or np.hypot(*(new - self.fn.centre)) > r:
            self.status = "diverged"
            self.message = (
                f"the point ran off at step {self.steps_done + 1}: η = {self.learning_rate:.3g} is above "
                f"the stability bound 2 ÷ curvature = {self.fn.stability_bound:.3g}"
            )
            if np.all(np.isfinite(new)):  # show the last jump, clipped to the escape circle
                d = new - self.fn.centre
                new = self.fn.centre + d * min(1.0, r / max(np.hypot(*d), 1e-300))
            else:
                return StepInfo(self.steps_done, p, self.costs[-1], np.nan_to_num(g), _finite(slope),
                                _finite(length), self.status)
        cost = self._true_cost(new)
        self.path.append(new)
        self.costs.append(cost if math.isfinite(cost) else _finite(cost))
        self.step_lengths.append(length)
        self.slopes.append(slope)
        self.examples_seen.append(self.examples_seen[-1] + self.examples_per_step)
        if self.status != "diverged":
            true_slope = float(np.hypot(*self.fn.gradient(new)))
            if true_slope < self.tol and not self.stochastic:
                self.status = "converged"
                self.message = f"reached the bottom after {self.steps_done} steps (slope {true_slope:.1e})"
            elif not self.stochastic and self._bouncing(true_slope):
                self.status = "diverged"
                self.message = (
                    f"still bouncing after {self.steps_done} steps, it never settles: η = {self.learning_rate:.3g} "
                    f"is above the stability bound 2 ÷ curvature = {self.fn.stability_bound:.3g}"
                )
            elif self.steps_done >= self.max_steps:
                self.status = "stopped"
                self.message = f"{self.steps_done} steps and not at the bottom yet" + (
                    " — still crawling: the learning rate is too small" if not self.stochastic
                    and self.fn.regime(self.learning_rate).key == "crawls" else ""
                )
        return StepInfo(self.steps_done, new, self.costs[-1], g, slope, length, self.status)

    def _bouncing(self, slope: float) -> bool:
        """No new lowest cost for ``patience`` steps although the slope is still steep.

        Plain gradient descent with η below the stability bound lowers the cost at every
        step near a minimum, so this only happens when η is too large.
        """
        k = self.patience
        if self.steps_done <= k or slope < 100 * self.tol:
            return False
        costs = self.costs
        return min(costs[-k:]) >= min(costs[:-k]) - 1e-12 * (1 + abs(min(costs[:-k])))

    def run(self, max_steps: int | None = None) -> "DescentRun":
        """Step until finished (or ``max_steps`` more steps)."""
        n = 0
        while not self.finished and (max_steps is None or n < max_steps):
            self.step()
            n += 1
        return self


def _finite(v: float, cap: float = 1e300) -> float:
    if math.isnan(v):
        return cap
    return max(-cap, min(cap, v))


# ---------------------------------------------------------------------- the race
def bottom_target(fn: Function2D, start, fraction: float = 0.01) -> tuple[float, np.ndarray]:
    """The cost level that counts as "reached the bottom" from ``start``, and that bottom.

    A careful descent (η = a quarter of the stability bound) finds the minimum the start
    drains to, C*; the target is C* + ``fraction`` × (C(start) − C*).
    """
    run = DescentRun(fn, start, 0.25 * fn.stability_bound, tol=1e-7, max_steps=20000).run()
    c_star = float(run.costs[-1])
    c0 = float(fn.value(np.asarray(start, float)))
    return c_star + fraction * max(c0 - c_star, 0.0), run.point


@dataclass
class RaceResult:
    careful: DescentRun  # full gradient: N example-gradients per step
    drunk: DescentRun  # mini-batch: batch_size example-gradients per step
    target: float  # the cost that counts as the bottom
    careful_reached: int | None  # step at which each first got there (None: never, within the budget)
    drunk_reached: int | None

    def examples_to_bottom(self, which: str) -> int | None:
        run, k = (self.careful, self.careful_reached) if which == "careful" else (self.drunk, self.drunk_reached)
        return None if k is None else run.examples_seen[k]


def reached_at(run: DescentRun, target: float) -> int | None:
    for k, c in enumerate(run.costs):
        if c <= target:
            return k
    return None


def race(fn: Function2D, start, learning_rate: float, batch_size: int = 10, n_examples: int = 200,
         seed: int = 0, max_examples: int | None = None, fraction: float = 0.01) -> RaceResult:
    """Full-gradient descent against mini-batch SGD from the same start, with the same η.

    Both run until they reach the bottom (see :func:`bottom_target`), diverge, or use up
    ``max_examples`` example-gradients (default: 2000 full steps' worth).
    """
    examples = PerExampleFunctions(fn, n_examples, seed=seed)
    target, _ = bottom_target(fn, start, fraction)
    budget = max_examples if max_examples is not None else 2000 * n_examples
    careful = DescentRun(fn, start, learning_rate, examples, None, seed, max_steps=budget // n_examples + 1)
    drunk = DescentRun(fn, start, learning_rate, examples, batch_size, seed, max_steps=budget // batch_size + 1)
    for run in (careful, drunk):
        while not run.finished and run.costs[-1] > target:
            run.step()
    return RaceResult(careful, drunk, target, reached_at(careful, target), reached_at(drunk, target))


# ---------------------------------------------------------------------- contours
def quantile_levels(Z: np.ndarray, n: int = 12, lo: float = 0.02, hi: float = 0.9) -> np.ndarray:
    """Contour levels spread by area (quantiles of the grid values), distinct and finite."""
    z = np.asarray(Z, float)
    z = z[np.isfinite(z)]
    if z.size == 0:
        return np.array([])
    levels = np.unique(np.quantile(z, np.linspace(lo, hi, n)))
    return levels[(levels > z.min()) & (levels < z.max())]


# marching squares: corners v0=(i,j) v1=(i+1,j) v2=(i+1,j+1) v3=(i,j+1); edges
# e0 = v0-v1 (bottom), e1 = v1-v2 (right), e2 = v3-v2 (top), e3 = v0-v3 (left)
_CASES = {
    1: [(3, 0)], 2: [(0, 1)], 3: [(3, 1)], 4: [(1, 2)], 5: [(3, 0), (1, 2)], 6: [(0, 2)], 7: [(3, 2)],
    8: [(2, 3)], 9: [(0, 2)], 10: [(0, 1), (2, 3)], 11: [(1, 2)], 12: [(1, 3)], 13: [(0, 1)], 14: [(0, 3)],
}


def contour_segments(xs, ys, Z, levels) -> list[np.ndarray]:
    """Contour lines of Z[j, i] = f(xs[i], ys[j]) at each level, as line segments.

    Returns one (k, 2, 2) array per level: k segments, each two (x, y) end points, ready
    to draw as pairs.  Vectorised marching squares (no Python loop over cells): each level
    classifies every cell, then interpolates only in the cells the line crosses (a few
    thousandths of a 400×400 grid), in the order of the cases and, within a case, of the cells.
    """
    xs, ys, Z = np.asarray(xs, float), np.asarray(ys, float), np.asarray(Z, float)
    finite = np.isfinite(Z)
    valid = finite[:-1, :-1] & finite[:-1, 1:] & finite[1:, 1:] & finite[1:, :-1]
    out = []
    with np.errstate(all="ignore"):
        for c in np.atleast_1d(levels):
            above = (Z > c).view(np.int8)
            case = above[:-1, :-1] + 2 * above[:-1, 1:] + 4 * above[1:, 1:] + 8 * above[1:, :-1]
            j, i = np.nonzero(valid & (case != 0) & (case != 15))
            case = case[j, i]
            z0, z1, z2, z3 = Z[j, i], Z[j, i + 1], Z[j + 1, i + 1], Z[j + 1, i]
            X0, X1, Y0, Y1 = xs[i], xs[i + 1], ys[j], ys[j + 1]

            def t(a, b):
                d = b - a
                return np.clip(np.where(d != 0, (c - a) / np.where(d != 0, d, 1), 0.5), 0, 1)

            ex = [X0 + t(z0, z1) * (X1 - X0), X1, X0 + t(z3, z2) * (X1 - X0), X0]
            ey = [Y0, Y0 + t(z1, z2) * (Y1 - Y0), Y1, Y0 + t(z0, z3) * (Y1 - Y0)]
            segs = []
            for k, pairs in _CASES.items():
                sel = case == k
                if not sel.any():
                    continue
                for a, b in pairs:
                    s = np.empty((int(sel.sum()), 2, 2))
                    s[:, 0, 0], s[:, 0, 1] = ex[a][sel], ey[a][sel]
                    s[:, 1, 0], s[:, 1, 1] = ex[b][sel], ey[b][sel]
                    segs.append(s)
            out.append(np.concatenate(segs) if segs else np.empty((0, 2, 2)))
    return out
