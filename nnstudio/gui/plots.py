"""Live training plots: the cost of EVERY mini-batch, smoothed and per-epoch, and test accuracy.

:class:`TrainingHistory` is a plain (Qt-free) record fed one :class:`BatchReport` at a time
by the window's slot: it appends to growing NumPy buffers (nothing is ever dropped) and
costs about a microsecond per batch.  :class:`PlotsPanel` draws it, but only when the
window's display timer asks (``refresh``), never per training signal.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from nnstudio._atomic import atomic_path
from nnstudio.gui import theme
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, pg

# columns of TrainingHistory.batches
_COLS = ("step", "epoch", "batch", "examples_seen", "cost", "learning_rate", "batch_size")
STEP, EPOCH, BATCH, SEEN, COST, LR, BS = range(len(_COLS))


class TrainingHistory:
    """Every mini-batch report of the current run, plus one row per finished epoch."""

    def __init__(self, capacity: int = 4096):
        self._buf = np.empty((max(16, capacity), len(_COLS)))
        # running sums of the finite costs and their count (row i holds the sums of rows < i),
        # kept as the rows arrive so a moving mean of any window costs O(points drawn)
        self._cs = np.zeros(max(16, capacity) + 1)
        self._cn = np.zeros(max(16, capacity) + 1)
        self.cost_min = math.inf  # over the finite costs
        self.cost_max = -math.inf
        self.n = 0
        self.n_train = 0  # training-set size, for the "epochs" x axis
        #: per finished epoch: (epoch, examples_seen, mean train cost, test accuracy, test cost)
        self.epochs: list[tuple[int, int, float, float | None, float | None]] = []
        self._epoch_at: dict[int, int] = {}  # row index of the batch that ended each epoch
        self.version = 0  # bumped on every change (the panel redraws when it differs)

    def clear(self) -> None:
        self.n = 0
        self.cost_min, self.cost_max = math.inf, -math.inf
        self.epochs = []
        self._epoch_at = {}
        self.version += 1

    def append(self, r) -> None:
        """Record one BatchReport."""
        self.extend([r])

    def extend(self, reports) -> None:
        """Record many BatchReports at once (what the window's display timer drains)."""
        k = len(reports)
        if not k:
            return
        i = self.n
        buf = self._buf
        if i + k > len(buf):
            cap = max(2 * len(buf), i + k)
            new = np.empty((cap, buf.shape[1]))
            new[:i] = buf[:i]
            self._buf = buf = new
            for name in ("_cs", "_cn"):
                grown = np.zeros(cap + 1)
                grown[: i + 1] = getattr(self, name)[: i + 1]
                setattr(self, name, grown)
        nan = math.nan
        buf[i : i + k] = [
            (r.step, r.epoch, r.batch, r.examples_seen, nan if r.diverged else r.cost, r.learning_rate, r.batch_size)
            for r in reports
        ]
        c = buf[i : i + k, COST]
        ok = np.isfinite(c)
        if ok.all():
            np.cumsum(c, out=self._cs[i + 1 : i + k + 1])
            self._cn[i + 1 : i + k + 1] = np.arange(1, k + 1)
            lo, hi = float(c.min()), float(c.max())
        else:
            np.cumsum(np.where(ok, c, 0.0), out=self._cs[i + 1 : i + k + 1])
            np.cumsum(ok, out=self._cn[i + 1 : i + k + 1])
            lo, hi = (float(c[ok].min()), float(c[ok].max())) if ok.any() else (math.inf, -math.inf)
        self._cs[i + 1 : i + k + 1] += self._cs[i]
        self._cn[i + 1 : i + k + 1] += self._cn[i]
        self.cost_min, self.cost_max = min(self.cost_min, lo), max(self.cost_max, hi)
        self.n = i + k
        for j, r in enumerate(reports):
            e = r.epoch_end
            if e is not None:
                self._epoch_at[len(self.epochs)] = i + j
                self.epochs.append((e.epoch, r.examples_seen, e.train_cost, e.test_accuracy, e.test_cost))
        self.version += 1

    # ------------------------------------------------------------------ views of the data
    def column(self, c: int) -> np.ndarray:
        return self._buf[: self.n, c]

    @property
    def costs(self) -> np.ndarray:
        return self._buf[: self.n, COST]

    @property
    def examples_seen(self) -> np.ndarray:
        return self._buf[: self.n, SEEN]

    def smoothed(self, window: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(row index, moving mean of the last ``window`` finite costs) at every ``stride``-th
        row ≥ window−1 (and the last row)."""
        n = self.n
        if n == 0:
            return np.empty(0, dtype=np.intp), np.empty(0)
        w = max(1, min(window, n))
        rows = np.arange(w - 1, n, max(1, stride))
        if rows[-1] != n - 1:
            rows = np.append(rows, n - 1)
        s = self._cs[rows + 1] - self._cs[rows + 1 - w]
        k = self._cn[rows + 1] - self._cn[rows + 1 - w]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(k > 0, s / np.maximum(k, 1), np.nan)
        return rows, mean

    # ------------------------------------------------------------------ export
    def to_csv(self, path) -> Path:
        """Write the per-batch history as CSV (epoch rows carry the epoch means), atomically."""
        path = Path(path)
        ends = {self._epoch_at[k]: e for k, e in enumerate(self.epochs)}
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(list(_COLS) + ["epoch_mean_cost", "test_accuracy", "test_cost"])
            buf = self._buf
            for i in range(self.n):
                row = buf[i]
                out = [int(row[STEP]), int(row[EPOCH]), int(row[BATCH]), int(row[SEEN]),
                       repr(float(row[COST])), repr(float(row[LR])), int(row[BS])]
                e = ends.get(i)
                if e is not None:
                    out += [repr(e[2]), "" if e[3] is None else repr(e[3]), "" if e[4] is None else repr(e[4])]
                else:
                    out += ["", "", ""]
                w.writerow(out)
        return path


def envelope(x: np.ndarray, y: np.ndarray, buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max of ``y`` per bucket of consecutive points, as a zig-zag of 2 points per bucket
    (what a pixel column shows anyway); NaNs are skipped.  Short inputs come back as they are."""
    n = len(y)
    b = -(-n // max(1, buckets))
    if b <= 2:
        return x, y
    m = n // b * b
    yy = y[:m].reshape(-1, b)
    xx = x[:m].reshape(-1, b)
    k = len(yy)
    ox = np.empty(2 * k + (n - m))
    oy = np.empty_like(ox)
    ox[0 : 2 * k : 2] = xx[:, 0]
    ox[1 : 2 * k : 2] = xx[:, -1]
    oy[0 : 2 * k : 2] = np.fmin.reduce(yy, axis=1)
    oy[1 : 2 * k : 2] = np.fmax.reduce(yy, axis=1)
    ox[2 * k :] = x[m:]
    oy[2 * k :] = y[m:]
    return ox, oy


def _pen(color, width=1.0, alpha=255):
    c = QtGui.QColor(color) if isinstance(color, str) else QtGui.QColor(*color)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    p.setCosmetic(True)
    return p


class PlotsPanel(QtWidgets.QWidget):
    """Cost per mini-batch (thin), its moving mean, the per-epoch mean (bold); test accuracy."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("plotsPanel")
        self.x_mode = "examples"  # or "epochs"
        self._drawn_version = -1
        self._dark = True

        self.cost_plot = pg.PlotWidget()
        self.cost_plot.setObjectName("costPlot")
        self.accuracy_plot = pg.PlotWidget()
        self.accuracy_plot.setObjectName("accuracyPlot")
        for w in (self.cost_plot, self.accuracy_plot):
            w.setMinimumHeight(120)
            w.setMenuEnabled(True)
            pi = w.getPlotItem()
            # (no grid: pyqtgraph's grid lines cost more to paint than everything else here)
            pi.setClipToView(True)
            pi.hideButtons()
        cp = self.cost_plot.getPlotItem()
        cp.setLabel("left", "cost")
        cp.addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.raw_curve = cp.plot(name="each mini-batch", antialias=False)
        self.raw_curve.setDownsampling(auto=True, method="peak")
        self.raw_curve.setClipToView(True)
        self.smooth_curve = cp.plot(name="moving mean")
        self.smooth_curve.setDownsampling(auto=True, method="mean")
        self.smooth_curve.setClipToView(True)
        self.epoch_curve = cp.plot(name="epoch mean")
        ap = self.accuracy_plot.getPlotItem()
        ap.setLabel("left", "test accuracy", units="%")
        self.accuracy_curve = ap.plot(symbol="o", symbolSize=6)
        # The panel keeps both plots fitted to the data itself (one range change, one repaint
        # per frame; pyqtgraph's own auto-range repaints two or three times per update).  Once
        # the user zooms or pans a plot it stays put until "Reset view".
        self._follow = {id(cp.vb): True, id(ap.vb): True}
        for vb in (cp.vb, ap.vb):
            vb.disableAutoRange()
            vb.sigRangeChangedManually.connect(lambda *_a, vb=vb: self._follow.__setitem__(id(vb), False))
        self._title_cost = ""
        self._title_acc = ""

        self.x_toggle = QtWidgets.QToolButton()
        self.x_toggle.setObjectName("plotAxisToggle")
        self.x_toggle.setCheckable(True)
        self.x_toggle.setText("x: examples seen")
        self.x_toggle.setAutoRaise(True)
        self.x_toggle.setToolTip("Plot against examples seen or against epochs")
        self.x_toggle.toggled.connect(lambda on: self.set_x_mode("epochs" if on else "examples"))
        self.reset_button = QtWidgets.QToolButton()
        self.reset_button.setObjectName("plotResetViewButton")
        self.reset_button.setText("Reset view")
        self.reset_button.setAutoRaise(True)
        self.reset_button.setToolTip("Fit both plots to their data again (after zooming or panning)")
        self.reset_button.clicked.connect(self.reset_view)
        self.cost_label = QtWidgets.QLabel()
        self.cost_label.setObjectName("costReadout")
        self.accuracy_label = QtWidgets.QLabel()
        self.accuracy_label.setObjectName("accuracyReadout")
        for lab in (self.cost_label, self.accuracy_label):
            lab.setTextFormat(QtCore.Qt.TextFormat.RichText)
            lab.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
            lab.setMinimumWidth(60)

        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addStretch(1)
        bar.addWidget(self.x_toggle)
        bar.addWidget(self.reset_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(4)
        lay.addWidget(self.cost_label)
        lay.addWidget(self.cost_plot, 3)
        lay.addWidget(self.accuracy_label)
        lay.addWidget(self.accuracy_plot, 2)
        lay.addLayout(bar)
        self.apply_theme(True)
        self.refresh(TrainingHistory())

    # ------------------------------------------------------------------ appearance
    def apply_theme(self, dark: bool) -> None:
        self._dark = dark
        bg = theme.PANEL if dark else theme.LIGHT["PANEL"]
        fg = theme.TEXT if dark else theme.LIGHT["TEXT"]
        muted = theme.MUTED if dark else theme.LIGHT["MUTED"]
        for w in (self.cost_plot, self.accuracy_plot):
            w.setBackground(bg)
            pi = w.getPlotItem()
            for name in ("left", "bottom"):
                ax = pi.getAxis(name)
                ax.setPen(_pen(muted))
                ax.setTextPen(_pen(fg))
        raw = (139, 148, 158) if dark else (89, 99, 110)
        self.raw_curve.setPen(_pen(raw, 1.0, 110))
        blue = theme.POSITIVE if dark else (31, 111, 180)
        self.smooth_curve.setPen(_pen(blue, 2.0))
        accent = theme.ACCENT if dark else "#b7860b"
        self.epoch_curve.setPen(_pen(accent, 3.0))
        good = theme.GOOD if dark else "#1a7f37"
        self.accuracy_curve.setPen(_pen(good, 2.5))
        self.accuracy_curve.setSymbolBrush(pg.mkBrush(good))
        self.accuracy_curve.setSymbolPen(_pen(good))
        legend = self.cost_plot.getPlotItem().legend
        if legend is not None:
            legend.setLabelTextColor(fg)
            legend.setBrush(pg.mkBrush(QtGui.QColor(bg)))
            for _sample, label in legend.items:
                label.setText(label.text, color=fg)
        self._drawn_version = -1

    def set_x_mode(self, mode: str) -> None:
        if mode not in ("examples", "epochs") or mode == self.x_mode:
            return
        self.x_mode = mode
        self.x_toggle.blockSignals(True)
        self.x_toggle.setChecked(mode == "epochs")
        self.x_toggle.blockSignals(False)
        self.x_toggle.setText("x: epochs" if mode == "epochs" else "x: examples seen")
        self._drawn_version = -1
        self.reset_view()

    def reset_view(self) -> None:
        """Fit both plots to their data again, and keep following it."""
        for w in (self.cost_plot, self.accuracy_plot):
            self._follow[id(w.getPlotItem().vb)] = True
        self._drawn_version = -1
        self._fitted = None

    def following(self) -> bool:
        return all(self._follow.values())

    # ------------------------------------------------------------------ drawing
    def point_count(self) -> int:
        """Number of mini-batch costs the cost plot holds (what is drawn, before downsampling)."""
        x, _ = self.raw_curve.getOriginalDataset()
        return 0 if x is None else len(x)

    def _x(self, seen: np.ndarray, n_train: int) -> np.ndarray:
        if self.x_mode == "epochs" and n_train:
            return seen / float(n_train)
        return seen

    def refresh(self, h: TrainingHistory) -> None:
        """Redraw from ``h`` if it changed since the last call (called at display rate)."""
        if h.version == self._drawn_version:
            return
        self._drawn_version = h.version
        n = h.n
        xlabel = "epochs" if self.x_mode == "epochs" else "examples seen"
        if xlabel != getattr(self, "_xlabel", None):
            self._xlabel = xlabel
            for w in (self.cost_plot, self.accuracy_plot):
                w.getPlotItem().setLabel("bottom", xlabel)
        seen = h.examples_seen
        x = self._x(seen, h.n_train)
        costs = h.costs
        if self._follow[id(self.cost_plot.getPlotItem().vb)]:
            # all of it is in view: hand pyqtgraph the min/max envelope, two points per pixel
            self.raw_curve.setData(*envelope(x, costs, max(200, self.cost_plot.width())))
        else:  # zoomed in: all the points (pyqtgraph clips and downsamples to the view)
            self.raw_curve.setData(x, costs)
        window = max(5, min(200, n // 25))
        # no more points than it needs: a few per window, at most ~one per pixel
        rows, mean = h.smoothed(window, stride=max(1, window // 5, n // max(200, self.cost_plot.width())))
        self.smooth_curve.setData(x[rows], mean)
        ex = ep = None
        if h.epochs:
            ep = np.array([(e[1], e[2], np.nan if e[3] is None else 100.0 * e[3]) for e in h.epochs], dtype=float)
            ex = self._x(ep[:, 0], h.n_train)
            self.epoch_curve.setData(ex, ep[:, 1])
            self.accuracy_curve.setData(ex, ep[:, 2])
        else:
            self.epoch_curve.setData([], [])
            self.accuracy_curve.setData([], [])
        self._fit(x, h, ex, None if ep is None else ep[:, 2])
        fg = theme.MUTED if self._dark else theme.LIGHT["MUTED"]
        if n:
            last = h.costs[-1]
            cost_txt = (f"<b>Cost</b> <span style='color:{fg}'>last mini-batch</span> {last:.4f}"
                        if math.isfinite(last) else "<b>Cost</b> diverged")
            if len(mean) and math.isfinite(mean[-1]):  # (a window of diverged batches has no mean)
                cost_txt += f" <span style='color:{fg}'>· mean</span> {mean[-1]:.4f}"
        else:
            cost_txt = f"<b>Cost</b> <span style='color:{fg}'>C = Σ(a − y)², averaged over the mini-batch</span>"
        if cost_txt != self._title_cost:
            self._title_cost = cost_txt
            self.cost_label.setText(cost_txt)
        accs = [e for e in h.epochs if e[3] is not None]
        if accs:
            best = max(e[3] for e in accs)
            acc_txt = (f"<b>Test accuracy</b> {100 * accs[-1][3]:.2f} % "
                       f"<span style='color:{fg}'>after epoch {accs[-1][0]} · best {100 * best:.2f} %</span>")
        else:
            acc_txt = f"<b>Test accuracy</b> <span style='color:{fg}'>measured after each epoch</span>"
        if acc_txt != self._title_acc:
            self._title_acc = acc_txt
            self.accuracy_label.setText(acc_txt)

    def _fit(self, x, h, ex, acc) -> None:
        """Set the ranges to the data (for the plots the user has not zoomed or panned)."""
        cp, ap = self.cost_plot.getPlotItem().vb, self.accuracy_plot.getPlotItem().vb
        x_hi = float(x[-1]) if len(x) else 1.0
        if ex is not None and len(ex):
            x_hi = max(x_hi, float(ex[-1]))
        x_range = (0.0, max(x_hi, 1e-9))
        if self._follow[id(cp)]:
            finite = h.cost_max >= h.cost_min
            hi = h.cost_max if finite else 1.0
            lo = min(0.0, h.cost_min) if finite else 0.0
            target = (x_range, (lo, hi if hi > lo else lo + 1.0))
            if target != getattr(self, "_fit_cost", None):
                self._fit_cost = target
                cp.setRange(xRange=target[0], yRange=target[1], padding=0.03, update=True)
        if self._follow[id(ap)]:
            vals = acc[np.isfinite(acc)] if acc is not None else np.empty(0)
            lo = float(vals.min()) if len(vals) else 0.0
            y_range = (max(0.0, min(lo - 2.0, 90.0)), 100.0)
            target = (x_range, y_range)
            if target != getattr(self, "_fit_acc", None):
                self._fit_acc = target
                ap.setRange(xRange=x_range, yRange=y_range, padding=0.03, update=True)

    # ------------------------------------------------------------------ export
    def export_png(self, path) -> Path:
        """Save both plots as one PNG (atomically: never a half-written file)."""
        path = Path(path)
        pix = self.grab()
        with atomic_path(path, suffix=".png") as tmp:
            if not pix.save(str(tmp), "PNG"):
                raise OSError(f"{path.name}: could not write the image")
        return path
