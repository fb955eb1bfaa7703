"""The real network's cost landscape, and full-batch gradient descent against SGD.

The cost is a function of all 13,002 weights and biases, so it cannot be drawn whole.
What can be drawn is a *slice*: pick two directions D₁, D₂ in weight space and plot

    C(α, β) = cost of the network with weights θ + α D₁ + β D₂

on a grid around the current weights θ (α = β = 0).  Directions (Li et al., "Visualizing
the Loss Landscape of Neural Nets", 2018):

- ``"random"``: two random directions, *filter-normalised*: each neuron's slice of the
  direction (its incoming weights and its bias) is scaled to the length of that neuron's
  own weights, so α = 1 means "change every neuron by about its own size";
- ``"gradient"``: D₁ = the negative gradient (downhill, as the next step of gradient
  descent would go), scaled to the length of θ, and D₂ a filter-normalised random direction
  made orthogonal to it;
- ``"pca"``: the two principal directions of the recent training path (recorded in a
  :class:`TrajectoryRing`); random directions are almost orthogonal to any path in 13,002
  dimensions, so only these show the path's real shape.

Speed: the first layer dominates (784 × 16 of the 13,002 parameters).  Its weighted sums
are linear in (α, β), z₁ = X (W + αD₁ + βD₂)ᵀ = XWᵀ + α XD₁ᵀ + β XD₂ᵀ, so the three
products are computed once and each grid point's first layer is a cheap combination; the
other layers are evaluated for many grid points at once with batched matrix products.

The cost shown is the network's own (for the videos' quadratic cost, C = Σ (a − y)² per
example, no ½, averaged over the examples of the subset).

NumPy only: the views run :func:`compute_landscape` and :class:`GDvsSGD` in a worker
thread; both check a ``cancel`` callable between chunks of work.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from nnstudio._cancel import Cancelled
from nnstudio.core.costs import Quadratic
from nnstudio.core.network import Network, as_inputs, as_targets
from nnstudio.components.playground import contour_segments, quantile_levels
from nnstudio.core.trainer import Trainer

__all__ = [
    "Cancelled", "DIRECTION_MODES", "Directions", "make_directions", "filter_normalized", "Landscape",
    "compute_landscape", "grid_axis", "TrajectoryRing", "flat_to_params", "params_to_flat", "training_subset",
    "CurvePoint", "ComparisonResult", "GDvsSGD", "smooth_grid",
]

DIRECTION_MODES = {
    "random": "two random directions (filter-normalised)",
    "gradient": "the negative gradient and a random direction",
    "pca": "the main directions of the recent training path",
}


# ---------------------------------------------------------------------- layouts
def params_to_flat(params) -> np.ndarray:
    """Per-layer (n_in + 1, n_out) arrays to the flat layout of :meth:`Network.flat_parameters`."""
    return np.concatenate([np.concatenate([p[:-1].T.ravel(), p[-1]]) for p in params])


def flat_to_params(vector, sizes) -> list[np.ndarray]:
    """The inverse of :func:`params_to_flat` for a network of layer ``sizes``."""
    vector = np.asarray(vector, dtype=np.float64)
    out, i = [], 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        p = np.empty((n_in + 1, n_out))
        p[:-1] = vector[i : i + n_in * n_out].reshape(n_out, n_in).T
        i += n_in * n_out
        p[-1] = vector[i : i + n_out]
        i += n_out
        out.append(p)
    if i != vector.size:
        raise ValueError(f"expected {i} parameters, got {vector.size}")
    return out


def training_subset(n_total: int, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a fixed random subset of ``n`` of ``n_total`` training examples."""
    n = min(int(n), int(n_total))
    if n <= 0:
        raise ValueError("the subset needs at least one example")
    return np.sort(np.random.default_rng(seed).choice(n_total, n, replace=False))


# ---------------------------------------------------------------------- directions
def filter_normalized(direction_params, net_params, norm: str = "filter") -> list[np.ndarray]:
    """Scale a direction like Li et al. (2018).

    ``norm="filter"``: each neuron's column (its incoming weights and its bias) gets the
    length of the same neuron's column of the network; ``"layer"``: each layer as a whole.
    """
    out = []
    for d, p in zip(direction_params, net_params):
        d = np.array(d, dtype=np.float64)
        if norm == "filter":
            dn = np.linalg.norm(d, axis=0)
            pn = np.linalg.norm(p, axis=0)
            d *= np.where(dn > 0, pn / np.where(dn > 0, dn, 1.0), 0.0)[None, :]
        elif norm == "layer":
            dn = np.linalg.norm(d)
            d *= (np.linalg.norm(p) / dn) if dn > 0 else 0.0
        else:
            raise ValueError(f"unknown normalisation {norm!r}: use 'filter' or 'layer'")
        out.append(d)
    return out


@dataclass
class Directions:
    """Two directions in weight space, flat (like :meth:`Network.flat_parameters`)."""

    d1: np.ndarray
    d2: np.ndarray
    mode: str
    label1: str = "α"
    label2: str = "β"
    note: str = ""
    #: gradient mode: the learning rate of a gradient-descent step that lands at α = 1 (|θ| / |∇C|)
    eta_per_alpha: float | None = None

    def params(self, sizes):
        return flat_to_params(self.d1, sizes), flat_to_params(self.d2, sizes)

    def project(self, points, centre) -> np.ndarray:
        """Coordinates (α, β) of weight vectors ``points`` (k, P) in the plane through ``centre``.

        Least squares: the (α, β) whose θ + αD₁ + βD₂ is nearest each point (D₁, D₂ need
        not be orthogonal).  The centre itself projects to (0, 0) exactly.
        """
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64)) - np.asarray(centre, dtype=np.float64)
        D = np.stack([self.d1, self.d2])  # (2, P)
        G = D @ D.T
        return np.linalg.solve(G, D @ pts.T).T

    def distance_from_plane(self, points, centre) -> np.ndarray:
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64)) - np.asarray(centre, dtype=np.float64)
        c = self.project(points, centre)
        return np.linalg.norm(pts - c @ np.stack([self.d1, self.d2]), axis=1)


def make_directions(
    net: Network,
    mode: str = "random",
    X=None,
    Y=None,
    *,
    seed: int = 0,
    trajectory=None,
    norm: str = "filter",
) -> Directions:
    """Two directions for a slice through ``net``'s weights (see the module docstring).

    ``X, Y`` (the subset) are needed for ``"gradient"``; ``trajectory`` ((k, P) flat weight
    vectors, k ≥ 2) for ``"pca"``.
    """
    rng = np.random.default_rng(seed)
    params = net.params
    theta = params_to_flat(params)

    def random_dir():
        return params_to_flat(filter_normalized([rng.standard_normal(p.shape) for p in params], params, norm))

    if mode == "random":
        return Directions(random_dir(), random_dir(), mode, "α (random direction 1)", "β (random direction 2)",
                          "filter-normalised random directions")
    if mode == "gradient":
        if X is None or Y is None:
            raise ValueError("the gradient direction needs the examples")
        gw, gb = net.backprop(X, Y)
        g = net.flat_gradient(gw, gb)
        scale = np.linalg.norm(theta)
        gn = np.linalg.norm(g)
        if gn == 0 or not np.isfinite(gn):
            raise ValueError("the gradient is zero here: there is no downhill direction")
        d1 = -g / gn * scale
        r = random_dir()
        r -= (r @ d1) / (d1 @ d1) * d1
        d2 = r / np.linalg.norm(r) * scale
        return Directions(d1, d2, mode, "α (downhill: −∇C)", "β (random, ⟂)",
                          "D₁ = −∇C scaled to |θ|; D₂ random, orthogonal", eta_per_alpha=float(scale / gn))
    if mode == "pca":
        if trajectory is None or len(trajectory) < 3:
            raise ValueError("the training path is too short: train a little first (it needs 3 snapshots)")
        T = np.asarray(trajectory, dtype=np.float64) - theta
        # principal directions through the *current* point (Li et al. centre on the final weights)
        G = T @ T.T
        w, v = np.linalg.eigh(G)
        order = np.argsort(w)[::-1]
        w, v = w[order], v[:, order]
        if w[1] <= 1e-18 * max(w[0], 1e-300):
            raise ValueError("the training path is a straight line so far: train a little longer")
        dirs = []
        for k in range(2):
            u = T.T @ v[:, k]
            u /= np.linalg.norm(u)
            coef = T @ u
            extent = float(np.abs(coef).max())
            dirs.append(u * (extent / 0.8 if extent > 0 else 1.0))  # the path fills ±0.8 of a ±1 grid
        share = w[:2] / w.sum()
        return Directions(dirs[0], dirs[1], mode, f"α (path PC1, {share[0]:.0%})", f"β (path PC2, {share[1]:.0%})",
                          "principal directions of the recent training path")
    raise ValueError(f"unknown direction mode {mode!r}; choose one of: {', '.join(DIRECTION_MODES)}")


# ---------------------------------------------------------------------- the grid
def grid_axis(span: float, resolution: int) -> np.ndarray:
    """``resolution`` values from −span to +span; an odd resolution has exactly 0 at its centre."""
    if resolution < 2:
        raise ValueError("the grid needs at least 2 points a side")
    if not (span > 0 and math.isfinite(span)):
        raise ValueError("the range must be a positive number")
    a = np.linspace(-span, span, int(resolution))
    if resolution % 2:
        a[resolution // 2] = 0.0
    return a


@dataclass
class Landscape:
    alphas: np.ndarray  # (na,)
    betas: np.ndarray  # (nb,)
    costs: np.ndarray  # (nb, na): costs[j, i] = C(alphas[i], betas[j])
    centre: np.ndarray  # flat weights at (0, 0)
    directions: Directions
    centre_cost: float  # the cost at (0, 0), computed with the network's own forward pass
    n_examples: int
    seconds: float
    cost_label: str
    step: int = 0  # the training step of the centre weights (from the snapshot)
    levels: np.ndarray = field(default_factory=lambda: np.array([]))
    contours: list = field(default_factory=list)  # per level (k, 2, 2) segments

    def project(self, points) -> np.ndarray:
        return self.directions.project(points, self.centre)

    @property
    def min_point(self) -> tuple[float, float, float]:
        j, i = np.unravel_index(np.nanargmin(self.costs), self.costs.shape)
        return float(self.alphas[i]), float(self.betas[j]), float(self.costs[j, i])


def _grid_costs(net: Network, X, Yt, d1p, d2p, alphas, betas, cancel=None, progress=None,
                chunk_floats: int = 300_000) -> np.ndarray:
    """Costs at every (alpha, beta) of the grid: rows of beta, columns of alpha.

    Grid points are evaluated K at a time: the first layer as a combination of the three
    precomputed products (one matrix product for all K points), the later layers with
    batched matrix products.  For the videos' network (sigmoid everywhere, quadratic cost)
    the work is done in "tanh space": σ(z) = ½ + ½ tanh(z/2), and the ½'s are folded into
    the weights of the next layer, so each layer costs one product and one tanh.
    """
    X = as_inputs(X)
    n = len(X)
    params = net.params
    L = len(params)
    Xa = np.empty((n, X.shape[1] + 1))
    Xa[:, :-1] = X
    Xa[:, -1] = 1.0
    acts = [net.layer_activation(l) for l in range(L)]
    fast = all(a.name == "sigmoid" for a in acts) and isinstance(net.cost, Quadratic)
    h1 = net.sizes[1]
    # the first layer's three products, once (the ones column brings the biases along)
    A = np.stack([Xa @ params[0], Xa @ d1p[0], Xa @ d2p[0]]).reshape(3, n * h1)
    if fast:
        A *= 0.5  # tanh space: z/2
        Yt = 2.0 * Yt - 1.0  # a − y = ½ (t − (2y − 1)) with t = tanh(z/2)
    width = max(net.sizes[1:])
    K = max(1, int(chunk_floats // max(1, n * width)))
    AA, BB = np.meshgrid(alphas, betas)  # (nb, na)
    coef = np.stack([np.ones(AA.size), AA.ravel(), BB.ravel()], axis=1)  # (G, 3)
    out = np.empty(AA.size)
    total = AA.size
    for s in range(0, total, K):
        if cancel is not None and cancel():
            raise Cancelled()
        c = coef[s : s + K]
        k = len(c)
        a = c[:, 1, None, None]
        b = c[:, 2, None, None]
        h = (c @ A).reshape(k, n, h1)
        if fast:
            np.tanh(h, h)
        else:
            acts[0].apply(h, h)
        for l in range(1, L):
            P = params[l] + a * d1p[l]
            P += b * d2p[l]
            if fast:
                # z/2 = (½t + ½)·W/2 + b/2 = t·(W/4) + (ΣW/4 + b/2)
                W = P[:, :-1, :] * 0.25
                bias = P[:, :-1, :].sum(axis=1, keepdims=True) * 0.25 + P[:, -1:, :] * 0.5
            else:
                W, bias = P[:, :-1, :], P[:, -1:, :]
            z = np.matmul(h, W)
            z += bias
            if fast:
                np.tanh(z, z)
            else:
                acts[l].apply(z, z)
            h = z
        if fast:
            h -= Yt
            out[s : s + K] = np.einsum("kno,kno->k", h, h) * (0.25 / n)
        elif isinstance(net.cost, Quadratic):
            h -= Yt
            out[s : s + K] = np.einsum("kno,kno->k", h, h) / n
        else:
            pe = net.cost.per_example(h.reshape(k * n, -1), np.broadcast_to(Yt, h.shape).reshape(k * n, -1))
            out[s : s + K] = pe.reshape(k, n).mean(axis=1)
        if progress is not None:
            progress(min(s + K, total), total)
    return out.reshape(AA.shape)


def compute_landscape(
    net: Network,
    X,
    Y,
    directions: Directions,
    *,
    span: float = 1.0,
    resolution: int = 41,
    cancel=None,
    progress=None,
    n_levels: int = 14,
    step: int = 0,
) -> Landscape:
    """The cost on a ``resolution`` × ``resolution`` grid of (α, β) in [−span, span]².

    ``cancel()`` is called between chunks of grid points (raise :class:`Cancelled` when it
    returns True); ``progress(done, total)`` after each chunk.  The contour lines are
    computed here too, so a view only draws.
    """
    t0 = time.perf_counter()
    X = as_inputs(X)
    Yt = as_targets(Y, net.sizes[-1])
    if len(X) == 0 or len(X) != len(Yt):
        raise ValueError("the subset needs examples with as many labels")
    alphas = grid_axis(span, resolution)
    betas = grid_axis(span, resolution)
    d1p, d2p = directions.params(net.sizes)
    with np.errstate(all="ignore"):
        costs = _grid_costs(net, X, Yt, d1p, d2p, alphas, betas, cancel, progress)
        centre_cost = net.cost_of(X, Yt)
        levels = quantile_levels(costs, n_levels)
        contours = contour_segments(alphas, betas, costs, levels)
    return Landscape(
        alphas, betas, costs, net.flat_parameters(), directions, float(centre_cost), len(X),
        time.perf_counter() - t0, net.cost.label, step, levels, contours,
    )


def smooth_grid(Z: np.ndarray, factor: int = 4) -> np.ndarray:
    """Bilinear upsampling of a grid (for a smooth picture of a coarse landscape)."""
    Z = np.asarray(Z, dtype=np.float64)
    ny, nx = Z.shape
    yi = np.linspace(0, ny - 1, (ny - 1) * factor + 1)
    xi = np.linspace(0, nx - 1, (nx - 1) * factor + 1)
    y0 = np.minimum(np.floor(yi).astype(int), ny - 2)
    x0 = np.minimum(np.floor(xi).astype(int), nx - 2)
    ty, tx = (yi - y0)[:, None], (xi - x0)[None, :]
    z00, z01 = Z[y0][:, x0], Z[y0][:, x0 + 1]
    z10, z11 = Z[y0 + 1][:, x0], Z[y0 + 1][:, x0 + 1]
    return (z00 * (1 - tx) + z01 * tx) * (1 - ty) + (z10 * (1 - tx) + z11 * tx) * ty


# ---------------------------------------------------------------------- the path
#: the most memory the trajectory ring takes (its vectors are float64 copies of every parameter)
RING_BYTES = 64 * 2**20


class TrajectoryRing:
    """Recent weight vectors of a training run (flat), for projecting the path onto a slice.

    A fixed buffer of ``capacity`` vectors, fewer for a big network (never more than
    :data:`RING_BYTES`, and never fewer than 4: 200 copies of a 3.6-million-parameter network
    would be 5.8 GB).  When it is full it drops every other vector and from then on keeps
    only every 2nd, 4th, … snapshot, so it always spans the run since the last rewind,
    densest nowhere.  A snapshot with a lower step than the last one (a rewind or a reset)
    starts a new path.
    """

    def __init__(self, capacity: int = 256):
        if capacity < 4:
            raise ValueError("capacity must be at least 4")
        self.capacity = int(capacity)
        self.rows = self.capacity  # vectors it holds at most (fewer for a big network: RING_BYTES)
        self._buf: np.ndarray | None = None
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._n = 0
        self._stride = 1
        self._seen = 0  # snapshots offered since the last thinning
        self.last_step: int | None = None

    def __len__(self) -> int:
        return self._n

    def clear(self) -> None:
        self._n = 0
        self._stride = 1
        self._seen = 0
        self.last_step = None

    def add(self, flat, step: int) -> bool:
        """Offer a snapshot; returns True if it was kept."""
        flat = np.asarray(flat, dtype=np.float64).ravel()
        if self._buf is None or self._buf.shape[1] != flat.size:
            self._buf = None  # (the old buffer goes before the new one is made)
            self.rows = max(4, min(self.capacity, RING_BYTES // (8 * max(1, flat.size))))
            self._buf = np.empty((self.rows, flat.size))
            self.clear()
        if self.last_step is not None:
            if step < self.last_step:
                self.clear()
            elif step == self.last_step:
                return False
        self.last_step = step
        self._seen += 1
        if self._n and (self._seen - 1) % self._stride:
            return False  # thinned out: keep every stride-th snapshot
        if self._n == self.rows:
            keep = np.arange(0, self.rows, 2)
            self._buf[: len(keep)] = self._buf[keep]
            self._steps[: len(keep)] = self._steps[keep]
            self._n = len(keep)
            self._stride *= 2
            self._seen = 1
        self._buf[self._n] = flat
        self._steps[self._n] = step
        self._n += 1
        return True

    def points(self) -> np.ndarray:
        """(k, P) the kept weight vectors, oldest first (a copy)."""
        if self._buf is None:
            return np.empty((0, 0))
        return self._buf[: self._n].copy()

    def steps(self) -> np.ndarray:
        return self._steps[: self._n].copy()

    def project(self, directions: "Directions", centre) -> np.ndarray:
        """(k, 2) coordinates of the kept vectors in a slice's plane, without copying them."""
        if self._buf is None or self._n == 0 or self._buf.shape[1] != np.size(centre):
            return np.empty((0, 2))
        D = np.stack([directions.d1, directions.d2])  # (2, P)
        rhs = self._buf[: self._n] @ D.T - np.asarray(centre, dtype=np.float64) @ D.T  # (k, 2)
        return np.linalg.solve(D @ D.T, rhs.T).T


# ---------------------------------------------------------------------- GD vs SGD
@dataclass(frozen=True)
class CurvePoint:
    examples: int  # examples processed so far (forward + backward)
    seconds: float  # wall time of the training steps so far (evaluations excluded)
    steps: int
    cost: float  # cost on the fixed evaluation subset


@dataclass
class ComparisonResult:
    full: list = field(default_factory=list)  # CurvePoints of full-batch gradient descent
    sgd: list = field(default_factory=list)  # CurvePoints of mini-batch SGD
    n_train: int = 0
    n_eval: int = 0
    batch_size: int = 10
    learning_rate_full: float = 0.0
    learning_rate_sgd: float = 0.0
    full_diverged: bool = False
    sgd_diverged: bool = False
    cancelled: bool = False

    def curve(self, which: str) -> np.ndarray:
        """(k, 4) rows of (examples, seconds, steps, cost)."""
        pts = self.full if which == "full" else self.sgd
        return np.array([(p.examples, p.seconds, p.steps, p.cost) for p in pts]).reshape(-1, 4)


class GDvsSGD:
    """Full-batch gradient descent against mini-batch SGD, from the same initial weights.

    Both use the core :class:`~nnstudio.core.Trainer` on the same ``n_train`` training
    examples: one with ``batch_size = n_train`` (every step averages the gradient over all
    of them: exact gradient descent), the other with small mini-batches.  They are given
    the same budget of examples processed (``epochs`` × ``n_train``) and are interleaved
    (the one behind in examples goes next), so both curves grow together.  The cost is
    measured on a fixed subset of ``n_eval`` of those training examples; evaluation time is
    not counted in ``seconds``.
    """

    def __init__(self, network: Network, train_x, train_labels, *, n_train: int = 4000, n_eval: int = 1000,
                 learning_rate_full: float = 1.5, learning_rate_sgd: float = 1.5, batch_size: int = 10,
                 epochs: int = 20, evals_per_epoch: int = 8, seed: int = 0):
        train_x = np.asarray(train_x)
        if train_x.ndim == 3:
            train_x = train_x.reshape(len(train_x), -1)
        idx = training_subset(len(train_x), n_train, seed)
        self.x, self.y = train_x[idx], np.asarray(train_labels)[idx]
        self.n_train = len(idx)
        self.n_eval = min(int(n_eval), self.n_train)
        self.eval_x, self.eval_y = self.x[: self.n_eval], self.y[: self.n_eval]
        if batch_size < 1 or epochs < 1:
            raise ValueError("batch size and epochs must be at least 1")
        self.batch_size = min(int(batch_size), self.n_train)
        self.epochs = int(epochs)
        self.eval_every = max(self.batch_size, self.n_train // max(1, evals_per_epoch))
        self.initial = network.copy()
        self.trainers = {
            "full": Trainer(self.initial.copy(), self.x, self.y, learning_rate=learning_rate_full,
                            batch_size=self.n_train, seed=seed),
            "sgd": Trainer(self.initial.copy(), self.x, self.y, learning_rate=learning_rate_sgd,
                           batch_size=self.batch_size, seed=seed),
        }
        self.result = ComparisonResult(n_train=self.n_train, n_eval=self.n_eval, batch_size=self.batch_size,
                                       learning_rate_full=float(learning_rate_full),
                                       learning_rate_sgd=float(learning_rate_sgd))

    @property
    def budget(self) -> int:
        return self.epochs * self.n_train

    def _eval(self, which: str) -> CurvePoint:
        tr = self.trainers[which]
        with np.errstate(all="ignore"):
            cost = tr.network.cost_of(self.eval_x, self.eval_y)
        return CurvePoint(tr.examples_seen, self._seconds[which], tr.step_count, float(cost))

    def run(self, cancel=None, on_point=None) -> ComparisonResult:
        """Train both to the budget; ``on_point(which, CurvePoint)`` for each new measurement."""
        res = self.result
        self._seconds = {"full": 0.0, "sgd": 0.0}
        next_eval = {"full": 0, "sgd": 0}
        done = {"full": False, "sgd": False}
        for which in ("full", "sgd"):
            p = self._eval(which)
            getattr(res, which).append(p)
            next_eval[which] = self.n_train if which == "full" else self.eval_every
            if on_point is not None:
                on_point(which, p)
        with np.errstate(all="ignore"):
            while not all(done.values()):
                if cancel is not None and cancel():
                    res.cancelled = True
                    return res
                which = min((w for w in done if not done[w]), key=lambda w: self.trainers[w].examples_seen)
                tr = self.trainers[which]
                # a burst of steps up to the next measurement (cancel is checked between bursts)
                while tr.examples_seen < next_eval[which]:
                    r = tr.step()
                    self._seconds[which] += r.seconds
                    if r.diverged:
                        setattr(res, f"{which}_diverged", True)
                        done[which] = True
                        break
                    if cancel is not None and tr.step_count % 256 == 0 and cancel():
                        break
                if tr.examples_seen >= next_eval[which] or done[which]:
                    p = self._eval(which)
                    getattr(res, which).append(p)
                    if on_point is not None:
                        on_point(which, p)
                    next_eval[which] += self.n_train if which == "full" else self.eval_every
                if tr.examples_seen >= self.budget:
                    done[which] = True
        return res
