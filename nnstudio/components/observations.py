"""The run explains itself: short plain-language observations drawn from the live numbers.

Each *detector* looks at what the studio already has (the recent mini-batch costs, the per-epoch
test accuracy and cost, the network on screen) and, when its condition holds, says what it sees,
why it happens, what to try, and which view shows it:

========================  =====================================================================  ==========
kind                      condition (the numbers it reads)                                        view
========================  =====================================================================  ==========
``overshoot``             the cost rose well above the lowest it had reached (the mean of the     playground
                          last mini-batches against the best earlier stretch, beyond their
                          noise), zig-zags from epoch to epoch, or blew up: the step is too long
``plateau``               the cost has been flat for hundreds of mini-batches while the network   plots
                          still reads its training images badly: a plateau, or η too small
``confident_wrong``       quadratic cost, and many images have an output neuron at the wrong end  backprop
                          (|a − y| > 0.97): there σ′(z) is tiny, so that neuron learns slowly
``saturated``             sigmoid/tanh hidden neurons pinned at an end for ≥ 95 % of the images   diagram
``dead``                  ReLU hidden neurons with a = 0 for every image (no gradient, ever)       diagram
``overfitting``           the test accuracy fell (or the test cost rose) for epochs while the     plots
                          training cost kept falling
``vanishing``             the first weight layer's gradient, RMS *per weight*, is far smaller     backprop
                          than the last layer's (per weight: a big layer does not look stronger
                          for having more weights)
========================  =====================================================================  ==========

The network-based numbers (:class:`NetworkFacts`) come from one forward and one backward pass over
a fixed probe of training images (:func:`measure_network`: ~3 ms for 784-16-16-10, ~20 ms for
784-100-10; :mod:`nnstudio.session.commentary` measures again only a network that changed, and never
more than 2 % of the time); the cost-based ones from the history (:class:`RunFacts`).

:class:`Observer` decides what to say: an observation is said **once** while its condition holds
(a condition that clears needs a clearly better number than the one that raised it, so a number
hovering at a threshold does not chatter), may come back only after it cleared and at least
``refire_after`` seconds passed, and at most one new observation comes every ``min_gap`` seconds
(the others wait their turn, if still true).  The feed calls :meth:`Observer.check` at display
rate, never per mini-batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

KINDS = ("overshoot", "confident_wrong", "dead", "saturated", "vanishing", "plateau", "overfitting")
#: mini-batches in one stretch of the cost (its mean is compared with other stretches)
WINDOW = 50
#: a flat cost over this many mini-batches is a plateau
PLATEAU_SPAN = 400
#: the largest probe measure_network uses (fewer for a big network: about PROBE_BUDGET multiply-adds)
PROBE_SIZE = 256
PROBE_BUDGET = 2e7
#: an output this close to the wrong end (|a − y| > 1 − CONFIDENT) is "confidently wrong"
CONFIDENT = 0.03
#: a neuron pinned at an end of its range on this share of the probe is saturated
STUCK_SHARE = 0.95
#: the learning rate the videos' network learns well with, per cost (for "η is small" and the advice)
GOOD_ETA = {"quadratic": 1.5, "cross-entropy": 0.5}


@dataclass(frozen=True)
class Observation:
    """One thing the run shows, in plain words."""

    kind: str
    title: str  # one line: what is happening
    text: str  # the numbers, and why
    advice: str  # what to try
    view: str  # the view that shows it: "plots", "playground", "backprop", "diagram"
    step: int = 0  # the mini-batch it was seen at


@dataclass
class RunFacts:
    """The run's numbers a detector reads (gathered from the session's history at display rate)."""

    costs: np.ndarray  # the most recent mini-batch costs, oldest first (NaN: diverged)
    step: int  # mini-batches in this run so far
    epochs: list = field(default_factory=list)  # (epoch, seen, train cost, test accuracy | None, test cost | None)
    learning_rate: float = 1.5
    cost: str = "quadratic"
    activation: str = "sigmoid"

    @classmethod
    def of_history(cls, history, learning_rate: float, cost: str, activation: str, recent: int = 4096) -> "RunFacts":
        """From a ``TrainingHistory`` (its last ``recent`` rows, in memory, and its epochs)."""
        n = history.n
        rows = history.rows(max(0, n - recent), n) if n else None
        costs = np.asarray(rows["cost"], dtype=np.float64) if rows is not None else np.zeros(0)
        step = int(rows["step"][-1]) if rows is not None and len(rows) else 0
        return cls(costs, step, list(history.epochs), float(learning_rate), cost, activation)


@dataclass(frozen=True)
class NetworkFacts:
    """What one forward and backward pass over the probe says about the network."""

    step: int
    sizes: tuple
    activation: str
    cost: str
    probe: int  # images in the probe
    accuracy: float  # on the probe (training images)
    confident_wrong: float  # share of the probe with an output at the wrong end (|a − y| > 0.97)
    wrong_sigma_prime: float  # mean σ′(z) of those outputs
    stuck: tuple  # per hidden layer: indices of saturated (sigmoid, tanh) or dead (ReLU) neurons
    grad_rms: tuple  # per weight layer: RMS of ∂C/∂w over its weights (per weight)

    @property
    def hidden(self) -> int:
        return sum(self.sizes[1:-1])

    @property
    def stuck_count(self) -> int:
        return sum(len(s) for s in self.stuck)


def probe_size(sizes) -> int:
    """How many images :func:`measure_network` uses for a network of these sizes."""
    n_params = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    return int(np.clip(PROBE_BUDGET // max(1, n_params), 16, PROBE_SIZE))


def pick_probe(n_train: int, sizes, seed: int = 0) -> np.ndarray:
    """A fixed random choice of training images for :func:`measure_network`."""
    k = min(n_train, probe_size(sizes))
    return np.sort(np.random.default_rng(seed).choice(n_train, k, replace=False))


def measure_network(network, X, labels, step: int = 0) -> NetworkFacts:
    """One forward and one backward pass over (X, labels): see :class:`NetworkFacts`."""
    d = network.backprop_details(X, labels)
    fp, y = d.forward, d.targets
    n = len(y)
    a = fp.output
    off = np.abs(a - y) > 1.0 - CONFIDENT
    cw = float(off.any(axis=1).mean()) if n else 0.0
    sp = a * (1.0 - a)
    wsp = float(sp[off].mean()) if off.any() else 0.25
    acc = float((a.argmax(axis=1) == y.argmax(axis=1)).mean()) if n else 0.0
    stuck = []
    name = network.activation.name
    for l in range(1, len(network.sizes) - 1):
        h = fp.activations[l]
        if name == "relu":
            pinned = np.all(h <= 0.0, axis=0)
        else:
            lo, hi = network.activation.low, network.activation.high
            edge = 0.01 * (hi - lo)
            pinned = ((h < lo + edge) | (h > hi - edge)).mean(axis=0) >= STUCK_SHARE
        stuck.append(tuple(int(i) for i in np.flatnonzero(pinned)))
    rms = tuple(float(np.sqrt(np.mean(np.square(delta.T @ prev / max(1, n)))))
                for delta, prev in zip(d.deltas, fp.activations[:-1]))
    return NetworkFacts(int(step), tuple(network.sizes), name, network.cost.name, n, acc, cw, wsp, tuple(stuck), rms)


# ====================================================================================== detectors
def _fmt(v: float) -> str:
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def _eta(v: float) -> str:
    return f"{v:.3g}"


def overshoot(run: RunFacts, net: NetworkFacts | None, on: bool) -> Observation | None:
    c = run.costs
    eta = run.learning_rate
    lower = _eta(max(1e-4, eta / 3))
    advice = (f"Lower the learning rate (try η = {lower}). The Playground shows the same on a two-input cost: a "
              "step that is too long jumps across the valley and climbs the other side.")
    tail = c[-WINDOW:]
    if len(tail) and not np.all(np.isfinite(tail)):
        return Observation("overshoot", "The cost blew up: η is far too large",
                           f"Some of the last mini-batches' costs are infinite: with η = {_eta(eta)} each step "
                           "overshoots so far that the weights run off.", advice, "playground", run.step)
    ep = [e[2] for e in run.epochs if e[2] is not None and math.isfinite(e[2])]
    if len(c) >= 2 * WINDOW:
        recent = float(tail.mean())
        se = float(tail.std(ddof=1)) / math.sqrt(WINDOW)
        k = (len(c) - WINDOW) // WINDOW
        earlier = c[len(c) - WINDOW - k * WINDOW : len(c) - WINDOW].reshape(k, WINDOW).mean(axis=1)
        best = float(min(earlier.min(), min(ep) if ep else math.inf))
        ratio = 1.2 if on else 1.5  # (to clear, the cost must come back close to its best)
        if recent > ratio * best and recent - best > 4 * se + 0.01:
            return Observation(
                "overshoot", "The cost is rising: the step overshoots",
                f"The last {WINDOW} mini-batches cost {_fmt(recent)} on average, {recent / best:.1f}× the "
                f"{_fmt(best)} the network had reached. Going downhill should never make the cost climb back like "
                f"this: with η = {_eta(eta)} each step is too long, so it overshoots the valley's floor and lands "
                "higher up the other side.", advice, "playground", run.step)
    if len(ep) >= 4:
        d = np.diff(ep[-4:])
        rel = np.abs(d) / np.asarray(ep[-4:-1])
        if np.all(np.sign(d[1:]) == -np.sign(d[:-1])) and np.all(rel > (0.05 if on else 0.1)):
            return Observation(
                "overshoot", "The cost zig-zags from epoch to epoch",
                "The mean cost of the last epochs went " + ", ".join(_fmt(v) for v in ep[-4:]) + ": up and down "
                f"by more than 10 % each time. The steps jump back and forth across the valley: η = {_eta(eta)} is "
                "too large to settle.", advice, "playground", run.step)
    return None


def plateau(run: RunFacts, net: NetworkFacts | None, on: bool) -> Observation | None:
    c = run.costs[-PLATEAU_SPAN:]
    if len(c) < PLATEAU_SPAN or not np.all(np.isfinite(c)):
        return None
    half = PLATEAU_SPAN // 2
    m1, m2 = float(c[:half].mean()), float(c[half:].mean())
    drop = (m1 - m2) / max(m1, 1e-12)
    flat = drop < (0.05 if on else 0.02)
    acc = net.accuracy if net is not None else next((e[3] for e in reversed(run.epochs) if e[3] is not None), None)
    if not flat or acc is None or acc >= (0.65 if on else 0.6):  # (a network that reads well has converged)
        return None
    eta, good = run.learning_rate, GOOD_ETA.get(run.cost, 1.5)
    stuck = net is not None and (net.confident_wrong >= 0.3 or net.stuck_count >= 0.25 * max(1, net.hidden))
    text = (f"The cost has stayed at about {_fmt(m2)} for the last {PLATEAU_SPAN} mini-batches, and the network reads "
            f"only {100 * acc:.0f} % of its training images right.")
    if stuck:
        text += (" Its neurons are saturated (see the other notes), so the gradient is tiny and each step barely "
                 "moves the weights: a plateau.")
        advice = ("Start again with new weights (Reset) and a smaller η, or the cross-entropy cost, which does not "
                  "stall on saturated outputs.")
    elif eta < good / 5:
        text += f" With η = {_eta(eta)} each step moves the weights very little: the learning rate is too small."
        advice = f"Raise the learning rate (try η = {_eta(min(good, eta * 10))})."
    else:
        text += (" The gradient is small here: a plateau. Plateaus often end by themselves (the videos' network sits "
                 "on one before it starts to read digits).")
        advice = f"Give it time, or try a larger η (up to about {_eta(2 * good)}) or the cross-entropy cost."
    return Observation("plateau", "The cost has flattened: a plateau", text, advice, "plots", run.step)


def confident_wrong(run: RunFacts, net: NetworkFacts | None, on: bool) -> Observation | None:
    if net is None or net.cost != "quadratic" or net.confident_wrong < (0.15 if on else 0.3):
        return None
    return Observation(
        "confident_wrong", "Confidently wrong outputs learn slowly with the quadratic cost",
        f"{100 * net.confident_wrong:.0f} % of the training images tested have an output neuron at the wrong end "
        f"(a within {CONFIDENT} of 0 when it should be 1, or the reverse). There the sigmoid is flat: σ′(z) averages "
        f"{net.wrong_sigma_prime:.2g} (at most 0.25), and ∂C/∂z = 2(a − y)·σ′(z), so the neurons that are most "
        "wrong get the smallest nudges.",
        "Switch the cost to cross-entropy (Network ▸ Cost): its ∂C/∂z is just a − y, so a confidently wrong neuron "
        "learns fastest. That is why cross-entropy exists. The Backprop explorer shows σ′(z) for one neuron.",
        "backprop", net.step)


def _neurons(net: NetworkFacts) -> str:
    parts = [f"layer {l + 1}: " + ", ".join(str(i) for i in s[:8]) + (" …" if len(s) > 8 else "")
             for l, s in enumerate(net.stuck) if s]
    return "; ".join(parts)


def saturated(run: RunFacts, net: NetworkFacts | None, on: bool) -> Observation | None:
    if net is None or net.activation == "relu" or not net.hidden:
        return None
    k, n = net.stuck_count, net.hidden
    if k < (0.15 if on else 0.25) * n:
        return None
    return Observation(
        "saturated", "Hidden neurons are saturated",
        f"{k} of the {n} hidden neurons are pinned at an end of the {net.activation} for at least "
        f"{100 * STUCK_SHARE:.0f} % of the images ({_neurons(net)}). There f′(z) ≈ 0, so almost no gradient flows "
        "through them: their incoming weights stop learning and they tell the next layer nothing.",
        f"A smaller learning rate (try η = {_eta(max(1e-4, run.learning_rate / 3))}) keeps the weights, and so z, from "
        "growing so large; start again (Reset) with it, and with Initialisation: scaled, which starts every z small. "
        "Click one of them in the diagram to see its z.", "diagram", net.step)


def dead(run: RunFacts, net: NetworkFacts | None, on: bool) -> Observation | None:
    if net is None or net.activation != "relu" or not net.hidden or run.step < 200:
        return None  # (a few start dead with random weights and may revive: dying is what training does)
    k, n = net.stuck_count, net.hidden
    if k < (0.4 if on else 0.5) * n:  # (a third may be dead from the start, with random biases, and revive)
        return None
    return Observation(
        "dead", "ReLU neurons have died",
        f"{k} of the {n} hidden ReLU neurons are dead: z < 0 for every image tested, so a = 0 and ReLU′(z) = 0 "
        f"({_neurons(net)}). No gradient reaches their incoming weights, so they stop learning; only a change in "
        "the layer before can bring them back (in the first hidden layer, nothing can).",
        "Start again (Reset) with a smaller learning rate: one step that is too large can push a neuron's z below "
        "0 for every image.", "diagram", net.step)


def overfitting(run: RunFacts, net: NetworkFacts | None, on: bool) -> Observation | None:
    ep = [e for e in run.epochs if e[3] is not None]
    if len(ep) < 4:
        return None
    acc = np.array([e[3] for e in ep])
    train = np.array([e[2] for e in ep])
    b = int(np.argmax(acc))
    last = len(ep) - 1
    fell = acc[b] - acc[last] >= (0.005 if on else 0.01)
    tc = np.array([e[4] if e[4] is not None else np.nan for e in ep])
    m = int(np.nanargmin(tc)) if np.isfinite(tc).any() else None
    rose = m is not None and last - m >= 3 and tc[last] > tc[m] * (1.05 if on else 1.1)
    since = b if fell else m
    if since is None or last - since < 3 or not (fell or rose) or not train[last] < 0.9 * train[since]:
        return None
    what = (f"the test accuracy fell from {100 * acc[b]:.1f} % to {100 * acc[last]:.1f} %" if fell else
            f"the test cost rose from {_fmt(tc[m])} to {_fmt(tc[last])} (the accuracy stays near "
            f"{100 * acc[last]:.1f} %)")
    return Observation(
        "overfitting", "Overfitting: better on its training images, worse on new ones",
        f"Since epoch {ep[since][0]} the training cost kept falling ({_fmt(train[since])} → {_fmt(train[last])}), "
        f"but {what}. The network is learning its own training images by heart, not digits in general.",
        "More (or more varied) training images help most: a bigger dataset (Dataset ▸ mnist). Or stop here and "
        "save this network; an earlier epoch generalised better.", "plots", run.step)


def vanishing(run: RunFacts, net: NetworkFacts | None, on: bool) -> Observation | None:
    if net is None or len(net.grad_rms) < 2 or run.step < 200:
        return None
    first, last = net.grad_rms[0], net.grad_rms[-1]
    if not (last > 0 and math.isfinite(first)) or first / last >= (0.02 if on else 0.01):
        return None
    layers = ", ".join(f"{g:.1e}" for g in net.grad_rms)
    return Observation(
        "vanishing", "The first layer learns far slower than the last",
        f"Per weight (RMS of ∂C/∂w), the first layer's gradient is {last / max(first, 1e-300):,.0f}× smaller than "
        f"the last layer's (layer by layer: {layers}). Going backwards each layer multiplies the nudges by its "
        f"weights and by {net.activation}′(z) (at most 0.25 for the sigmoid), so they shrink on the way: the "
        "vanishing gradient.",
        "Fewer hidden layers, ReLU hidden neurons (Network ▸ Activation) or the cross-entropy cost. The Backprop "
        "explorer shows the desired nudges shrinking as they travel back.", "backprop", net.step)


DETECTORS = {"overshoot": overshoot, "confident_wrong": confident_wrong, "dead": dead, "saturated": saturated,
             "vanishing": vanishing, "plateau": plateau, "overfitting": overfitting}


class Observer:
    """Decides what the feed says (see the module docstring)."""

    def __init__(self, min_gap: float = 3.0, refire_after: float = 30.0):
        self.min_gap = float(min_gap)
        self.refire_after = float(refire_after)
        self.reset()

    def reset(self) -> None:
        """A new run: everything may be said again."""
        self.active: dict[str, bool] = {k: False for k in KINDS}  # said, and its condition still holds
        self._said_at: dict[str, float] = {}
        self._last = -math.inf

    def conditions(self, run: RunFacts, net: NetworkFacts | None) -> dict:
        """Each detector's observation now (None: its condition does not hold)."""
        return {k: DETECTORS[k](run, net, self.active[k]) for k in KINDS}

    def check(self, run: RunFacts, net: NetworkFacts | None, now: float) -> list[Observation]:
        """The new observations to show now (at most one)."""
        found = self.conditions(run, net)
        out = []
        for k in KINDS:
            obs = found[k]
            if obs is None:
                self.active[k] = False
                continue
            if self.active[k] or out or now - self._last < self.min_gap:
                continue
            if now - self._said_at.get(k, -math.inf) < self.refire_after:
                continue
            self.active[k] = True
            self._said_at[k] = self._last = now
            out.append(obs)
        return out
