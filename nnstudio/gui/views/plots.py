"""Live training plots: the cost of EVERY mini-batch, smoothed and per-epoch, and test accuracy.

:class:`TrainingHistory` (Qt-free, in :mod:`nnstudio.training.history`) records the run: every row
spooled to a temporary file, a bounded summary in memory, so memory stays flat however long
the run.  :class:`PlotsPanel` draws it, only when the window's display timer asks
(``refresh``) or the user zooms or pans, in O(pixels): a min/max envelope of every
mini-batch's cost (no cost is ever left out: a spike in one mini-batch always shows), the
exact costs once zoomed in far enough, a moving mean, and the per-epoch means.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nnstudio._atomic import atomic_path
from nnstudio.training.history import BATCH, BS, COLUMNS, COST, EPOCH, LR, ROW, SEEN, STEP, Trace, TrainingHistory
from nnstudio.gui.style import theme
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, pg
from nnstudio.gui.widgets.steady import SteadyLine

# (the history and its column indices live in the Qt-free core; re-exported for the window and tests)
__all__ = ["PlotsPanel", "TrainingHistory", "Trace", "COLUMNS", "ROW",
           "STEP", "EPOCH", "BATCH", "SEEN", "COST", "LR", "BS"]


def _pen(color, width=1.0, alpha=255):
    c = QtGui.QColor(color) if isinstance(color, str) else QtGui.QColor(*color)
    c.setAlpha(alpha)
    p = pg.mkPen(c, width=width)
    p.setCosmetic(True)
    return p


def compact(v: float, spacing: float) -> str:
    """A tick value in few characters: 950, 12.5k, 1.5M (never "1e+06", which ran into its neighbours)."""
    def decimals(step: float) -> int:  # as many as the tick spacing needs to be exact (0.25 → 2)
        for d in range(7):
            x = step * 10**d
            if abs(x - round(x)) < 1e-6 * max(1.0, x):
                return d
        return 6

    a = abs(v)
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div and spacing >= div / 1000:
            d = decimals(spacing / div)
            return (f"{v / div:.{d}f}".rstrip("0").rstrip(".") if d else f"{v / div:.0f}") + suffix
    if v == 0:
        return "0"
    d = decimals(spacing)
    return f"{v:.{d}f}"


_STEPS = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def headroom(x: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is at least ``x`` (x > 0)."""
    k = math.floor(math.log10(x))
    base = 10.0 ** k
    for m in _STEPS:
        if m * base >= x * (1 - 1e-12):
            return m * base
    return 10.0 * base


class CompactAxis(pg.AxisItem):
    """An axis whose tick labels stay short, and thin out before they would touch."""

    def __init__(self, orientation, **kw):
        super().__init__(orientation, **kw)
        self.enableAutoSIPrefix(False)
        # fewer labels when the text would fill more of the axis (pyqtgraph's own thinning)
        self.setStyle(autoExpandTextSpace=True, autoReduceTextSpace=True,
                      textFillLimits=[(0, 0.6), (2, 0.4), (4, 0.3), (6, 0.2)])

    def tickStrings(self, values, scale, spacing):
        return [compact(v * scale, spacing * scale) for v in values]

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802,N803 (pyqtgraph's names)
        """A vertical axis keeps its major numbers a line and a half apart (pyqtgraph puts at
        least 2.25 intervals on any axis: "100 80 60 40 20 0" in 60 px overlapped)."""
        levels = super().tickSpacing(minVal, maxVal, size)
        dif = abs(maxVal - minVal)
        if not levels or self.orientation not in ("left", "right") or not dif or size <= 0:
            return levels
        need = 1.5 * QtGui.QFontMetrics(self.style.get("tickFont") or self.font()).height()
        major = levels[0][0]
        steps = 0
        while major * size / dif < need and steps < 30:
            mantissa = major / 10 ** math.floor(math.log10(major))
            major *= 2.5 if round(mantissa) == 2 else 2.0  # 1 → 2 → 5 → 10 → ...
            steps += 1
        return levels if major == levels[0][0] else [(major, 0)]


class PlotsPanel(QtWidgets.QWidget):
    """Cost per mini-batch (thin), its moving mean, the per-epoch mean (bold); test accuracy."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("plotsPanel")
        self.x_mode = "examples"  # or "epochs"
        self._drawn_version = -1
        self._dark = True

        self.cost_plot = pg.PlotWidget(axisItems={"bottom": CompactAxis("bottom"), "left": CompactAxis("left")})
        self.cost_plot.setObjectName("costPlot")
        self.accuracy_plot = pg.PlotWidget(axisItems={"bottom": CompactAxis("bottom"), "left": CompactAxis("left")})
        self.accuracy_plot.setObjectName("accuracyPlot")
        for w in (self.cost_plot, self.accuracy_plot):
            w.setMinimumHeight(90)
            w.setMenuEnabled(True)
            pi = w.getPlotItem()
            # (no grid: pyqtgraph's grid lines cost more to paint than everything else here)
            # (no clipToView either: refresh() hands over only the part in view, and pyqtgraph's
            # clipping re-processes the data and paints the plot a second time on every range change)
            pi.hideButtons()
        cp = self.cost_plot.getPlotItem()
        cp.setLabel("left", "cost")
        # (the history hands over at most ~2 points per pixel column: no downsampling here)
        # (the legend is a line of text above the plot: it never hides the newest part of the curve)
        self.raw_curve = cp.plot(name="each mini-batch", antialias=False)
        self.smooth_curve = cp.plot(name="moving mean")
        self.epoch_curve = cp.plot(name="epoch mean")
        ap = self.accuracy_plot.getPlotItem()
        ap.setLabel("left", "test accuracy (%)")
        self.accuracy_curve = ap.plot(symbol="o", symbolSize=6)
        # a short plot gets a shorter y label (the readout above it names the quantity in full)
        for pi, labels in ((cp, ("cost",)), (ap, ("test accuracy (%)", "accuracy (%)", "%"))):
            pi.vb.sigResized.connect(lambda _vb, pi=pi, labels=labels: self._fit_y_label(pi, labels))
        # The panel keeps both plots fitted to the data itself (one range change, one repaint
        # per frame; pyqtgraph's own auto-range repaints two or three times per update).  Once
        # the user zooms or pans a plot it stays put until "Reset view".
        self._follow = {id(cp.vb): True, id(ap.vb): True}
        for vb in (cp.vb, ap.vb):
            vb.disableAutoRange()
            vb.sigRangeChangedManually.connect(lambda *_a, vb=vb: self._follow.__setitem__(id(vb), False))
        # Only the part in view is handed to pyqtgraph (at the view's resolution), so a zoom or a
        # pan redraws from the history: soon, once per burst of range changes.
        self._history: TrainingHistory | None = None
        self._drawn_key = None
        self._cost_cache = None  # (key, trace) of a zoomed view that does not reach the latest rows
        self._points = 0
        self._symbols = None
        self._range_timer = QtCore.QTimer(self)
        self._range_timer.setSingleShot(True)
        self._range_timer.setInterval(15)
        self._range_timer.timeout.connect(self._refresh_after_range_change)
        for vb in (cp.vb, ap.vb):
            vb.sigXRangeChanged.connect(self._range_timer.start)
        self._title_cost = ""
        self._title_acc = ""
        self.fast = False  # curves drawn without antialiasing (training at full speed: see set_fast)

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
        # (the readouts change every frame: lines that do not re-lay out the window each time)
        self.cost_label = SteadyLine(object_name="costReadout")
        self.legend_label = QtWidgets.QLabel()
        self.legend_label.setObjectName("costLegend")
        self.legend_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        self.accuracy_label = SteadyLine(object_name="accuracyReadout")
        for lab in (self.cost_label, self.accuracy_label):
            lab.setTextFormat(QtCore.Qt.TextFormat.RichText)

        bar = QtWidgets.QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addStretch(1)
        bar.addWidget(self.x_toggle)
        bar.addWidget(self.reset_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 6)
        lay.setSpacing(4)
        lay.addWidget(self.cost_label)
        lay.addWidget(self.legend_label)
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
        def swatch(color, text, width):
            c = QtGui.QColor(color) if isinstance(color, str) else QtGui.QColor(*color)
            return (f"<span style='color:{c.name()}; font-weight:900'>{'━' if width > 1.5 else '─'}</span>"
                    f"&nbsp;<span style='color:{muted}'>{text}</span>")
        self.legend_label.setText("&nbsp;&nbsp; ".join((swatch(raw, "each mini-batch", 1), swatch(blue, "moving mean", 2),
                                                         swatch(accent, "epoch mean", 3))))
        self._drawn_version = -1

    @staticmethod
    def _fit_y_label(pi, labels) -> None:
        """The longest of ``labels`` whose vertical text fits the plot's height (pyqtgraph would
        cut it at both ends: "test accurac")."""
        axis = pi.getAxis("left")
        room = pi.vb.height() - 4
        fm = QtGui.QFontMetrics(axis.label.font())
        text = next((t for t in labels if fm.horizontalAdvance(t) <= room), labels[-1])
        if text != axis.labelText:
            axis.setLabel(text)
        # and only the major ticks' numbers on a short axis ("4 3 2 1 0" in 50 px touched)
        level = 0 if room < 6 * fm.height() else 1
        if axis.style["maxTextLevel"] != level:
            axis.setStyle(maxTextLevel=level)

    def set_fast(self, fast: bool) -> None:
        """While training goes faster than the display, draw the bold curves without antialiasing
        (it was a quarter of the plots' frame); a plot at rest gets it back at once."""
        if fast == self.fast:
            return
        self.fast = fast
        for c in (self.smooth_curve, self.epoch_curve, self.accuracy_curve):
            # (pyqtgraph reads these options at each paint; there is no setter that keeps the data)
            c.opts["antialias"] = not fast
            c.curve.opts["antialias"] = not fast
            c.curve.update()

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
        self._fit_cost = self._fit_acc = None
        if self._history is not None:
            self.refresh(self._history)

    def following(self) -> bool:
        return all(self._follow.values())

    # ------------------------------------------------------------------ drawing
    def point_count(self) -> int:
        """Number of mini-batches the cost plot represents (every one of the history's rows:
        drawn exactly when zoomed in, within the min/max envelope otherwise)."""
        return self._points

    def _x(self, seen, n_train: int):
        if self.x_mode == "epochs" and n_train:
            return np.asarray(seen, dtype=float) / float(n_train)
        return seen

    def _seen_range(self, vb, h: TrainingHistory, margin: float = 0.25) -> tuple[float, float]:
        """The examples-seen range of a view box's x range, widened by ``margin`` on each side
        (small pans need no redraw before they show data)."""
        lo, hi = vb.viewRange()[0]
        span = hi - lo
        lo, hi = lo - margin * span, hi + margin * span
        if self.x_mode == "epochs" and h.n_train:
            lo, hi = lo * h.n_train, hi * h.n_train
        return lo, hi

    def _refresh_after_range_change(self) -> None:
        if self._history is not None and not self.following():
            self.refresh(self._history)

    def refresh(self, h: TrainingHistory) -> None:
        """Redraw from ``h`` if it or the zoomed view changed since the last call (called at
        display rate).  O(pixels) whatever the length of the run."""
        cvb, avb = self.cost_plot.getPlotItem().vb, self.accuracy_plot.getPlotItem().vb
        f_cost, f_acc = self._follow[id(cvb)], self._follow[id(avb)]
        width = max(200, self.cost_plot.width())
        key = (id(h), self.x_mode, width, None if f_cost else tuple(cvb.viewRange()[0]),
               None if f_acc else tuple(avb.viewRange()[0]))
        self._history = h
        if h.version == self._drawn_version and key == self._drawn_key:
            return
        self._drawn_version, self._drawn_key = h.version, key
        n = h.n
        xlabel = "epochs" if self.x_mode == "epochs" else "examples seen"
        if xlabel != getattr(self, "_xlabel", None):
            self._xlabel = xlabel
            for w in (self.cost_plot, self.accuracy_plot):
                w.getPlotItem().setLabel("bottom", xlabel)

        # cost of every mini-batch (envelope or exact) and its moving mean
        if f_cost:
            tr = h.trace(None, None, width)
            self._cost_cache = None
        else:
            lo, hi = self._seen_range(cvb, h)
            ck = (id(h), h.generation, self.x_mode, lo, hi, width)
            cached = self._cost_cache
            if cached is not None and cached[0] == ck and cached[1].rows[1] < cached[2]:
                tr = None  # the same old rows as drawn: nothing to redo
            else:
                tr = h.trace(lo, hi, int(1.5 * width))
                self._cost_cache = (ck, tr, n)
        if tr is not None:
            self.raw_curve.setData(self._x(tr.x, h.n_train), tr.y)
            self.smooth_curve.setData(self._x(tr.sx, h.n_train), tr.sy)
        self._points = n

        # per-epoch means (bold) and test accuracy
        cost_range = None if f_cost else self._seen_range(cvb, h)
        acc_range = None if f_acc else self._seen_range(avb, h)
        ex, ecost, eacc, exact = h.epoch_trace(*(cost_range or (None, None)), width=width)
        self.epoch_curve.setData(self._x(ex, h.n_train), ecost)
        if acc_range != cost_range:
            ex, _cost, eacc, exact = h.epoch_trace(*(acc_range or (None, None)), width=width)
        symbols = "o" if exact and len(ex) <= 300 else None  # (markers only where they can be told apart)
        if symbols != self._symbols:
            self._symbols = symbols
            self.accuracy_curve.setSymbol(symbols)
        self.accuracy_curve.setData(self._x(ex, h.n_train), eacc)
        self._fit(h)
        for vb in (cvb, avb):
            # the new range's transform now, not in the paint: pyqtgraph applies it while painting,
            # which marks the curves dirty again and paints each plot a second time
            vb.updateMatrix()

        fg = theme.MUTED if self._dark else theme.LIGHT["MUTED"]
        if n:
            last = h.last_cost
            cost_txt = (f"<b>Cost</b> <span style='color:{fg}'>last mini-batch</span> {last:.4f}"
                        if math.isfinite(last) else "<b>Cost</b> diverged")
            mean = h.recent_mean(max(5, min(200, n // 25)))
            if math.isfinite(mean):  # (a window of diverged batches has no mean)
                cost_txt += f" <span style='color:{fg}'>· mean</span> {mean:.4f}"
        else:
            cost_txt = f"<b>Cost</b> <span style='color:{fg}'>C = Σ(a − y)², averaged over the mini-batch</span>"
        if cost_txt != self._title_cost:
            self._title_cost = cost_txt
            self.cost_label.setText(cost_txt)
        if h.last_accuracy is not None:
            epoch, acc = h.last_accuracy
            acc_txt = (f"<b>Test accuracy</b> {100 * acc:.2f} % "
                       f"<span style='color:{fg}'>after epoch {epoch} · best {100 * h.accuracy_max:.2f} %</span>")
        else:
            acc_txt = f"<b>Test accuracy</b> <span style='color:{fg}'>measured after each epoch</span>"
        if acc_txt != self._title_acc:
            self._title_acc = acc_txt
            self.accuracy_label.setText(acc_txt)

    def _fit(self, h: TrainingHistory) -> None:
        """Set the ranges to the data (for the plots the user has not zoomed or panned)."""
        cp, ap = self.cost_plot.getPlotItem().vb, self.accuracy_plot.getPlotItem().vb
        seen_hi = max(h.last_seen, h.epoch_seen_max)
        x_hi = float(self._x(seen_hi, h.n_train)) if seen_hi else 1.0
        # the x axis grows in steps, ahead of the data (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k):
        # its ticks are then drawn again only when the curve reaches the edge, not on every frame
        # (pyqtgraph's axes cost more to draw than the curves), and the curve grows into a calm frame
        x_range = (0.0, headroom(max(x_hi, 1e-9)))
        if self._follow[id(cp)]:
            finite = h.cost_max >= h.cost_min
            hi = h.cost_max if finite else 1.0
            lo = min(0.0, h.cost_min) if finite else 0.0
            target = (x_range, (lo, hi if hi > lo else lo + 1.0))
            if target != getattr(self, "_fit_cost", None):
                self._fit_cost = target
                cp.setRange(xRange=target[0], yRange=target[1], padding=0.03, update=True)
        if self._follow[id(ap)]:
            lo = 100.0 * h.accuracy_min if math.isfinite(h.accuracy_min) else 0.0
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
