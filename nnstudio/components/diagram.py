"""Qt-free maths behind the network diagram: layout, visible subsets, edge strengths, hit tests.

The diagram draws the network the way 3Blue1Brown does: layers left to right, each neuron a
circle lit by its activation, edges blue (positive weight) or red (negative) whose opacity and
width grow with |w|.  A layer too tall to show every neuron (the 784 inputs, or a 100-neuron
hidden layer) shows a *visible subset* around an ellipsis.  Everything here is plain NumPy so
it is testable headless; ``nnstudio.gui.views.diagram.canvas`` only turns these numbers into pixels.

Layer numbering follows the videos: layer 0 is the input, layer L the output.  The edges
of *gap* g join layer g to layer g + 1 and carry ``network.weights[g]`` (shape (n_{g+1}, n_g)).

The edges can show more than the weights (:data:`EDGE_MODES`): the last mini-batch's −∂C/∂w or
the last step's Δw, both from the trainer's last step as the snapshot carries it
(:meth:`nnstudio.training.snapshot.Snapshot.descent_params`, ``change_params``); and the neurons
their desired nudge −∂C/∂a for the input shown and its label (:data:`NEURON_MODES`, computed by
:func:`nnstudio.components.explain.nudges`, the Backprop explorer's own maths).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nnstudio.components.explain import nudges
from nnstudio.core.network import Network

#: the smallest text the diagram paints, in pixels: 9 pt at 96 dpi (a short window scales the
#: diagram down, never its words below this)
MIN_TEXT_PX = 12.0
#: a line of painted text is this many times its pixel size tall
LINE = 1.3

#: the texts' sizes relative to the base font: layer titles, their subtitles, the footer and legend,
#: the output digits and their values, the small captions (the image's)
TITLE_SCALE, SUB_SCALE, FOOTER_SCALE, DIGIT_SCALE, VALUE_SCALE, CAPTION_SCALE = 1.05, 0.85, 0.82, 1.15, 0.8, 0.8


def text_px(font: float, scale: float) -> float:
    """``scale`` times the base size ``font``, never under MIN_TEXT_PX."""
    return max(MIN_TEXT_PX, float(font) * scale)


def digit_px(font: float, radius: float) -> float:
    return max(MIN_TEXT_PX, min(font * DIGIT_SCALE, radius * 1.9 + 4))


def value_px(font: float, radius: float) -> float:
    return max(MIN_TEXT_PX, min(font * VALUE_SCALE, radius * 1.5 + 3))


#: how the input column picks which of its pixels to show
INPUT_MODES = ("spread", "brightest", "strongest")
INPUT_MODE_NAMES = {
    "spread": "spread over the image",
    "brightest": "brightest pixels of the input",
    "strongest": "strongest weights",
}


#: what the edges show: the weight w, the last mini-batch's −∂C/∂w, or the last step's Δw
EDGE_MODES = ("weights", "gradient", "change")
EDGE_MODE_NAMES = {"weights": "weights w", "gradient": "gradient −∂C/∂w", "change": "last step Δw"}
EDGE_MODE_SHORT = {"weights": "w", "gradient": "−∂C/∂w", "change": "Δw"}
#: what the neurons show: the activation a, or the desired nudge −∂C/∂a for the input shown
NEURON_MODES = ("activation", "nudge")
NEURON_MODE_NAMES = {"activation": "activations a", "nudge": "nudges −∂C/∂a"}
NEURON_MODE_SHORT = {"activation": "a", "nudge": "−∂C/∂a"}


#: the gestures, last in the legend (dropped first when the diagram is narrow)
LEGEND_HINT = "hover for values, click a neuron to inspect, wheel to zoom"


def legend_items(edge_mode: str = "weights", neuron_mode: str = "activation", edges_ok: bool = True,
                 label: str | None = None, past: bool = False) -> tuple:
    """The legend under the diagram, for what it shows: (sample, words) pairs, the sample being
    "neuron" (a dark and a lit neuron), "nudge" (an up and a down arrow), "positive" / "negative"
    (an edge) or None.  ``edges_ok``: the edges can show their mode; ``label``: the name of the
    input's desired digit (None: no label, so no nudges); ``past``: the network shown is an earlier
    step of the run (the timeline), whose step's change is not kept."""
    if neuron_mode == "nudge" and label is not None:
        items = [("nudge", f"arrow = desired nudge −∂C/∂a (to read “{label}”)")]
    elif neuron_mode == "nudge":
        items = [("neuron", "brightness = activation (nudges need a labelled example)")]
    else:
        items = [("neuron", "brightness = activation")]
    if edge_mode == "weights":
        items += [("positive", "positive weight"), ("negative", "negative weight"), (None, "stronger = more opaque")]
    elif not edges_ok:
        what = "−∂C/∂w" if edge_mode == "gradient" else "Δw"
        why = "not kept for a step of the past (L: back to live)" if past else "no last step to show (press Step)"
        items.append((None, f"{what}: {why}"))
    elif edge_mode == "gradient":
        items += [("positive", "−∂C/∂w > 0: the last mini-batch wants w up"), ("negative", "< 0: down"),
                  (None, "stronger = more opaque")]
    else:
        items += [("positive", "Δw > 0: the last step raised w"), ("negative", "Δw < 0: lowered it"),
                  (None, "Δw = −η ∂C/∂w")]
    return tuple(items) + ((None, LEGEND_HINT),)


# ---------------------------------------------------------------- visible subsets
def head_tail(n: int, k: int) -> np.ndarray:
    """The first ⌈k/2⌉ and last ⌊k/2⌋ of ``n`` neurons (all of them when k >= n)."""
    if k >= n:
        return np.arange(n)
    top = (k + 1) // 2
    return np.concatenate([np.arange(top), np.arange(n - (k - top), n)])


def image_side(n: int) -> int | None:
    """The side of the square image an input of ``n`` values comes from, or None."""
    s = math.isqrt(n)
    return s if s * s == n and s >= 2 else None


def spread_pixels(n: int, k: int) -> np.ndarray:
    """``k`` input indices spread evenly over the image's central area (sorted).

    For a 28×28 image the central 20×20 box holds the digits (MNIST fits them in 20×20),
    so a fixed subset taken there shows a mix of ink and background as the videos' column does.
    """
    if k >= n:
        return np.arange(n)
    side = image_side(n)
    if side is None or side < 8:
        return np.unique(np.linspace(0, n - 1, k).round().astype(np.intp))
    m = max(1, round(side / 7))  # 4 for 28×28
    inner = side - 2 * m
    # a low-discrepancy (R2) sequence over the central box: evenly spread, never a line
    g = 1.32471795724474602596  # the plastic number
    a1, a2 = 1.0 / g, 1.0 / (g * g)
    picks, seen, i = [], set(), 0
    while len(picks) < k and i < 50 * k:
        r = m + int(((0.5 + a2 * i) % 1.0) * inner)
        c = m + int(((0.5 + a1 * i) % 1.0) * inner)
        i += 1
        if (r, c) not in seen:
            seen.add((r, c))
            picks.append(r * side + c)
    return np.sort(np.array(picks, dtype=np.intp))


_TIE_BREAK: dict = {}


def brightest_pixels(x: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` most active inputs of ``x`` (sorted by index).

    MNIST strokes have many pixels at exactly 1.0; ties are broken by a fixed scrambled order,
    so the chosen pixels spread over the whole stroke rather than bunching in one row.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    n = x.size
    if k >= n:
        return np.arange(n)
    tie = _TIE_BREAK.get(n)
    if tie is None:
        tie = _TIE_BREAK[n] = np.random.default_rng(12345).permutation(n) * (1e-7 / n)
    key = np.nan_to_num(x) + tie
    return np.sort(np.argpartition(-key, k - 1)[:k])


def strongest_inputs(w: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` inputs whose outgoing weights (columns of ``w`` (n_out, n_in)) are strongest."""
    w = np.asarray(w)
    n = w.shape[1]
    if k >= n:
        return np.arange(n)
    strength = np.abs(w).sum(axis=0)
    return np.sort(np.argpartition(-strength, k - 1)[:k])


# ---------------------------------------------------------------- edge strengths
def robust_scale(w: np.ndarray, q: float = 0.99) -> float:
    """The |w| that maps to full strength: a high percentile, so one outlier does not dim the rest."""
    a = np.abs(np.asarray(w, dtype=np.float64)).ravel()
    if a.size == 0:
        return 1.0
    k = min(a.size - 1, int(q * (a.size - 1)))
    s = float(np.partition(a, k)[k])
    if not np.isfinite(s) or s <= 0:
        s = float(a.max()) if np.isfinite(a.max()) and a.max() > 0 else 1.0
    return s


def edge_buckets(w: np.ndarray, scale: float, n_buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Strength bucket (0 = faintest) and sign (1 = positive) of each weight."""
    w = np.asarray(w, dtype=np.float64)
    s = np.abs(w) / (scale or 1.0)
    s = np.nan_to_num(s, nan=0.0, posinf=1.0)
    b = np.minimum((s * n_buckets).astype(np.intp), n_buckets - 1)
    return b, (w >= 0).astype(np.intp)


def brightness(a, activation=None) -> np.ndarray:
    """Activation → brightness 0..1 (0 dark, 1 white), using the activation's range."""
    a = np.asarray(a, dtype=np.float64)
    low = getattr(activation, "low", 0.0)
    high = getattr(activation, "high", 1.0)
    if not np.isfinite(high):  # ReLU: 0 dark, ≥ 1 white
        low, high = 0.0, 1.0
    return np.clip(np.nan_to_num((a - low) / (high - low)), 0.0, 1.0)


# ---------------------------------------------------------------- layout
@dataclass
class Column:
    """One layer's column: where its visible neurons sit."""

    size: int  # neurons in the layer
    x: float
    ys: np.ndarray  # centre y of each slot (one per visible neuron), top to bottom
    ellipsis_after: int | None = None  # slot index after which the ellipsis is drawn
    ellipsis_y: float | None = None

    @property
    def slots(self) -> int:
        return len(self.ys)

    @property
    def truncated(self) -> bool:
        return self.slots < self.size


@dataclass
class Layout:
    """Geometry of the whole diagram for one widget size (in widget pixels)."""

    width: float
    height: float
    sizes: tuple
    columns: list
    radius: float
    font_px: float  # base text size (every text is a multiple of it, never under MIN_TEXT_PX: see text_px)
    top: float  # y of the first row of titles
    image_rect: tuple | None = None  # (x, y, side) of the input image panel
    label_x: float = 0.0  # x where the output labels start
    extra: dict = field(default_factory=dict)
    footer_top: float = 0.0  # y of the footer's first line (the legend is the second)

    def text_px(self, scale: float) -> float:
        """The pixel size of a text ``scale`` times the base size, never under :data:`MIN_TEXT_PX`."""
        return text_px(self.font_px, scale)

    @property
    def footer_line(self) -> float:
        """The height of one footer line."""
        return self.text_px(FOOTER_SCALE) * LINE

    @property
    def digit_px(self) -> float:
        """The size of the output labels (the digits): with the text, smaller for small circles."""
        return digit_px(self.font_px, self.radius)

    @property
    def value_px(self) -> float:
        """The size of the output activations printed after the labels."""
        return value_px(self.font_px, self.radius)

    def segments(self, gap: int) -> np.ndarray:
        """Endpoints of the gap's edges, (n_dst_slots * n_src_slots, 4) = x0, y0, x1, y1.

        Edge k joins source slot ``k % m`` to destination slot ``k // m`` (m source slots),
        the order in which :meth:`DiagramModel.gap_weights` returns weights.
        """
        a, b = self.columns[gap], self.columns[gap + 1]
        m, n = a.slots, b.slots
        out = np.empty((n * m, 4))
        out[:, 0] = a.x
        out[:, 1] = np.tile(a.ys, n)
        out[:, 2] = b.x
        out[:, 3] = np.repeat(b.ys, m)
        return out


def compute_layout(
    sizes,
    width: float,
    height: float,
    *,
    max_input: int | None = None,
    max_hidden: int | None = None,
    label_chars: int = 1,
) -> Layout:
    """Lay the network out to fit ``width`` × ``height`` ("zoom to fit").

    The input column shows an even number of pixels (8–32, by height) around an ellipsis;
    a hidden layer shows every neuron when they fit with a legible spacing, otherwise its first
    and last neurons around an ellipsis; an output layer of up to 12 neurons (the ten digits) is
    always shown whole.  ``label_chars`` is the length of
    the longest output label (class name), to leave room for it on the right.
    """
    sizes = tuple(int(s) for s in sizes)
    W, H = max(float(width), 120.0), max(float(height), 120.0)
    font = float(np.clip(min(H / 58.0, W / 95.0), 10.0, 30.0))
    top = font * 0.9
    # titles and subtitles above the columns, two footer lines below: sized by the text they hold
    title_h = (text_px(font, TITLE_SCALE) + text_px(font, SUB_SCALE)) * LINE + font * 0.7
    foot_line = text_px(font, FOOTER_SCALE) * LINE
    bottom = 2 * foot_line + font * 0.9
    y0, y1 = top + title_h, H - bottom
    avail = max(y1 - y0, 40.0)
    has_image = image_side(sizes[0]) is not None
    panel = float(np.clip(min(0.14 * W, 0.32 * avail), 48.0, 420.0)) if has_image else 0.0
    left = font * 1.2 + panel + (font * 2.2 if has_image else font * 2.0)

    # how many slots each column gets
    if max_input is None:
        max_input = int(np.clip(2 * (int(avail / 30.0) // 2) - 2, 6, 32))
    if max_hidden is None:
        max_hidden = int(np.clip(int(avail / 26.0) - 1, 6, 40))
    shown = []
    for l, n in enumerate(sizes):
        cap = max_input if l == 0 else max_hidden
        if l == len(sizes) - 1 and n <= 12:
            cap = n  # the output layer is the answer: every digit is always shown (smaller, if need be)
        shown.append(min(n, max(cap, 2)))
    n_slots = [k + (1.5 if k < n else 0) for k, n in zip(shown, sizes)]
    spacing_fit = [avail / max(s, 1) for s in n_slots]
    radius = float(np.clip(0.36 * min(spacing_fit), 2.5, 0.055 * H))
    # room for the output labels ("7 0.93", or "Ankle boot 0.93") right of the last column: the ring
    # around the winner, the name (~0.65 of its size a character) and the value (~2.3 of its size)
    label_w = (radius + max(3.0, radius * 0.3) + font * 0.45 + 0.65 * digit_px(font, radius) * max(1, label_chars)
               + font * 0.5 + 2.3 * value_px(font, radius) + font * 0.4)
    label_w = float(np.clip(label_w, 60.0, 0.3 * W))
    xs = np.linspace(left, W - label_w, len(sizes)) if len(sizes) > 1 else np.array([left])
    gap_x = (xs[1] - xs[0]) if len(xs) > 1 else W
    radius = min(radius, 0.18 * gap_x)
    columns = []
    mid = (y0 + y1) / 2.0
    for l, (n, k) in enumerate(zip(sizes, shown)):
        s = min(spacing_fit[l], 3.3 * radius)
        if k < n:
            top_k = (k + 1) // 2
            # slots: top_k neurons, an ellipsis gap of 1.5 slots, the rest
            offs = np.concatenate([np.arange(top_k), np.arange(top_k, k) + 1.5])
            total = k - 1 + 1.5
            ys = mid + (offs - total / 2.0) * s
            ell_y = mid + (top_k - 1 + 1.25 - total / 2.0) * s
            columns.append(Column(n, float(xs[l]), ys, top_k - 1, float(ell_y)))
        else:
            ys = mid + (np.arange(k) - (k - 1) / 2.0) * s
            columns.append(Column(n, float(xs[l]), ys))
    image_rect = None
    if has_image:
        side = panel
        ix = font * 1.2
        iy = float(np.clip(mid - side / 2.0, y0, max(y0, y1 - side)))
        image_rect = (ix, iy, side)
    return Layout(W, H, sizes, columns, radius, font, top, image_rect, float(xs[-1] + radius + font * 0.8),
                  footer_top=H - bottom + font * 0.5)


# ---------------------------------------------------------------- hit tests
def nearest_neuron(layout: Layout, x: float, y: float, slack: float = 1.25):
    """(layer, slot) of the neuron circle under (x, y), or None."""
    r = layout.radius * slack
    for l, col in enumerate(layout.columns):
        if abs(x - col.x) > r:
            continue
        d = np.abs(col.ys - y)
        i = int(np.argmin(d)) if d.size else -1
        if i >= 0 and math.hypot(x - col.x, y - col.ys[i]) <= max(r, 4.0):
            return l, i
    return None


def segment_distances(seg: np.ndarray, x: float, y: float) -> np.ndarray:
    """Distance from (x, y) to each segment (rows x0, y0, x1, y1)."""
    p0 = seg[:, :2]
    d = seg[:, 2:] - p0
    L2 = np.einsum("ij,ij->i", d, d)
    L2[L2 == 0] = 1.0
    t = np.clip(((x - p0[:, 0]) * d[:, 0] + (y - p0[:, 1]) * d[:, 1]) / L2, 0.0, 1.0)
    px = p0[:, 0] + t * d[:, 0] - x
    py = p0[:, 1] + t * d[:, 1] - y
    return np.hypot(px, py)


def gap_at(layout: Layout, x: float) -> int | None:
    """Which gap (between layer g and g + 1) the x coordinate falls in."""
    cols = layout.columns
    for g in range(len(cols) - 1):
        if cols[g].x < x < cols[g + 1].x:
            return g
    return None


# ---------------------------------------------------------------- the model
@dataclass
class NeuronValues:
    """What a neuron holds for the current input."""

    layer: int
    index: int
    a: float | None  # activation (None when there is no input)
    z: float | None = None  # weighted sum (None for input neurons)
    b: float | None = None  # bias (None for input neurons)


class DiagramModel:
    """The network and the current input, and what the diagram needs from them.

    Holds no Qt.  ``set_network`` takes a network that is not mutated afterwards (a
    snapshot copy); ``set_input`` takes the (n_in,) activations of the input layer.
    The forward pass and per-layer edge scales are computed lazily, once per change.
    """

    def __init__(self) -> None:
        self.network: Network | None = None
        self.x: np.ndarray | None = None
        self.label: int | None = None  # the input's desired digit (for the nudges), when known
        self.snapshot = None  # the Snapshot the network came in (its last step's change, when it has one)
        self._forward = None
        self._scales: list | None = None
        self._mats = None  # (mode, per-gap matrices (n_out, n_in) or None) of a mode other than the weights
        self._nudges = None  # (per neuron layer 1..L, −∂C/∂a) of the input shown, or () when there are none
        self.input_mode = "spread"
        self.edge_mode = "weights"
        self.neuron_mode = "activation"

    # -------------------------------------------------------------- state
    def set_network(self, network: Network | None, snapshot=None) -> None:
        self.network = network
        self.snapshot = snapshot
        self._forward = None
        self._scales = None
        self._mats = None
        self._nudges = None

    def set_input(self, x, label: int | None = None) -> None:
        if x is None:
            self.x = None
        else:
            x = np.asarray(x).ravel()
            self.x = x / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)
        self.label = None if label is None else int(label)
        self._forward = None
        self._nudges = None

    def set_modes(self, edges: str | None = None, neurons: str | None = None) -> None:
        """What the edges (:data:`EDGE_MODES`) and the neurons (:data:`NEURON_MODES`) show."""
        if edges is not None:
            if edges not in EDGE_MODES:
                raise ValueError(f"unknown edge mode {edges!r}; choose one of {', '.join(EDGE_MODES)}")
            if edges != self.edge_mode:
                self.edge_mode = edges
                self._scales = None
        if neurons is not None:
            if neurons not in NEURON_MODES:
                raise ValueError(f"unknown neuron mode {neurons!r}; choose one of {', '.join(NEURON_MODES)}")
            self.neuron_mode = neurons

    @property
    def sizes(self) -> tuple:
        return tuple(self.network.sizes) if self.network is not None else ()

    @property
    def has_input(self) -> bool:
        return self.x is not None and self.network is not None and self.x.size == self.network.sizes[0]

    def _ensure_forward(self):
        if self._forward is None and self.has_input:
            fp = self.network.forward(self.x[None, :])
            self._forward = ([None] + [z[0] for z in fp.zs], [a[0] for a in fp.activations])
        return self._forward

    def activations(self, layer: int) -> np.ndarray | None:
        fw = self._ensure_forward()
        return None if fw is None else fw[1][layer]

    def zs(self, layer: int) -> np.ndarray | None:
        fw = self._ensure_forward()
        return None if fw is None or layer == 0 else fw[0][layer]

    def layer_brightness(self, layer: int) -> np.ndarray | None:
        a = self.activations(layer)
        if a is None:
            return None
        act = None if layer == 0 else self.network.layer_activation(layer - 1)
        return brightness(a, act)

    def scale(self, gap: int) -> float:
        """The |value| of the edges' mode that maps to full strength in this gap."""
        if self._scales is None:
            mats = self.network.weights if self.edge_mode == "weights" else self._edge_mats()
            self._scales = [1.0] * len(self.network.params) if mats is None else [robust_scale(w) for w in mats]
        return self._scales[gap]

    # -------------------------------------------------------------- what the edges show
    def _edge_mats(self) -> list | None:
        mode = self.edge_mode
        if self._mats is None or self._mats[0] != mode:
            s = self.snapshot
            params = None
            if s is not None and getattr(s, "network", None) is self.network:
                params = s.descent_params() if mode == "gradient" else s.change_params()
            self._mats = (mode, None if params is None else [p[:-1].T for p in params])
        return self._mats[1]

    @property
    def edges_available(self) -> bool:
        """Can the edges show their mode (the weights always; −∂C/∂w and Δw once the snapshot
        carries a step's change)?"""
        return self.network is not None and (self.edge_mode == "weights" or self._edge_mats() is not None)

    def edge_matrix(self, gap: int) -> np.ndarray | None:
        """The values the edges of ``gap`` show, shaped (n_out, n_in) like the gap's weights."""
        if self.edge_mode == "weights":
            return self.network.weights[gap]
        mats = self._edge_mats()
        return None if mats is None else mats[gap]

    def edge_value(self, gap: int, src: int, dst: int) -> float | None:
        m = self.edge_matrix(gap)
        return None if m is None else float(m[dst, src])

    def gap_values(self, gap: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
        """What the visible edges of a gap show, destination-major (see :meth:`Layout.segments`)."""
        if self.edge_mode == "weights":
            return self.network.weights[gap][np.ix_(dst, src)].ravel()
        m = self.edge_matrix(gap)
        return None if m is None else m[np.ix_(dst, src)].ravel()

    # -------------------------------------------------------------- what the neurons show
    def nudges(self) -> list | None:
        """−∂C/∂a of every neuron layer 1..L for the input shown and its label (the desired nudges,
        :func:`nnstudio.components.explain.nudges`), or None without an input or a label."""
        if self._nudges is None:
            ok = self.has_input and self.label is not None and 0 <= self.label < self.network.sizes[-1]
            self._nudges = nudges(self.network, self.x, self.label).desired if ok else ()
        return self._nudges or None

    def layer_nudges(self, layer: int) -> np.ndarray | None:
        """−∂C/∂a of neuron layer ``layer`` (None for the input layer, or without nudges)."""
        n = self.nudges()
        return None if n is None or layer == 0 else n[layer - 1]

    def winner(self) -> int | None:
        a = self.activations(len(self.sizes) - 1)
        return None if a is None else int(np.argmax(a))

    def neuron(self, layer: int, index: int) -> NeuronValues:
        a = self.activations(layer)
        av = None if a is None else float(a[index])
        if layer == 0:
            return NeuronValues(layer, index, av)
        b = float(self.network.biases[layer - 1][index])
        z = self.zs(layer)
        return NeuronValues(layer, index, av, None if z is None else float(z[index]), b)

    # -------------------------------------------------------------- subsets
    def visible(self, layout: Layout) -> list[np.ndarray]:
        """Per layer, the neuron index shown in each slot of the layout's column."""
        out = []
        for l, col in enumerate(layout.columns):
            k = col.slots
            if l == 0 and k < col.size:
                if self.input_mode == "brightest" and self.has_input:
                    out.append(brightest_pixels(self.x, k))
                elif self.input_mode == "strongest" and self.network is not None and len(self.sizes) > 1:
                    out.append(strongest_inputs(self.network.weights[0], k))
                else:
                    out.append(spread_pixels(col.size, k))
            else:
                out.append(head_tail(col.size, k))
        return out

    def gap_weights(self, gap: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Weights of the visible edges of a gap, destination-major (see :meth:`Layout.segments`)."""
        return self.network.weights[gap][np.ix_(dst, src)].ravel()


def describe_neuron(layer: int, index: int, n_layers: int, input_size: int | None = None) -> str:
    """A human name: "input pixel 406 (row 14, col 14)", "hidden layer 1, neuron 5", "output neuron 7"."""
    if layer == 0:
        side = image_side(input_size) if input_size else None
        if side:
            return f"input pixel {index} (row {index // side}, col {index % side})"
        return f"input neuron {index}"
    if layer == n_layers - 1:
        return f"output neuron {index}"
    return f"hidden layer {layer}, neuron {index}"


def layer_title(layer: int, n_layers: int) -> str:
    if layer == 0:
        return "Input layer"
    if layer == n_layers - 1:
        return "Output layer"
    return f"Hidden layer {layer}" if n_layers > 3 else "Hidden layer"
