"""The comparison's curves, overlaid: each run's cost (its moving mean over the mini-batches) and test
accuracy (after each epoch) against the examples seen, one colour per run.  The legend is a line of
text above the plots (it never hides data) and the ticks are the studio plots' short ones
(:class:`~nnstudio.gui.views.plots.CompactAxis`)."""

from __future__ import annotations

import math

import numpy as np

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, pg
from nnstudio.gui.style import theme
from nnstudio.gui.views.plots import CompactAxis

#: one colour per run (A, B, C, D): dark theme, light theme
RUN_COLORS = (("#f5c542", "#b7860b"), ("#58c4dd", "#1f6fb4"), ("#3fb950", "#1a7f37"), ("#d2a8ff", "#8250df"))


def run_color(i: int, dark: bool = True) -> str:
    return RUN_COLORS[i % len(RUN_COLORS)][0 if dark else 1]


def _pen(color: str, width: float) -> QtGui.QPen:
    p = pg.mkPen(QtGui.QColor(color), width=width)
    p.setCosmetic(True)
    return p


class ComparePlots(QtWidgets.QWidget):
    """Cost and test accuracy of every run, side by side (``refresh(histories, titles)``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("comparePlots")
        self._dark = True
        self._titles: tuple = ()
        self._drawn = None
        self.legend_label = QtWidgets.QLabel()
        self.legend_label.setObjectName("compareLegend")
        self.legend_label.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.legend_label.setWordWrap(True)
        self.cost_plot = pg.PlotWidget(axisItems={"bottom": CompactAxis("bottom"), "left": CompactAxis("left")})
        self.cost_plot.setObjectName("compareCostPlot")
        self.accuracy_plot = pg.PlotWidget(axisItems={"bottom": CompactAxis("bottom"), "left": CompactAxis("left")})
        self.accuracy_plot.setObjectName("compareAccuracyPlot")
        self.cost_curves: list = []
        self.accuracy_curves: list = []
        self._follow = True
        for w, ylabel in ((self.cost_plot, "cost (moving mean)"), (self.accuracy_plot, "test accuracy")):
            w.setMinimumSize(200, 120)
            pi = w.getPlotItem()
            pi.hideButtons()
            pi.setLabel("left", ylabel, units="%" if "accuracy" in ylabel else None)
            pi.setLabel("bottom", "examples seen (each run)")
            pi.vb.disableAutoRange()
            pi.vb.sigRangeChangedManually.connect(lambda *_a: setattr(self, "_follow", False))
        self.reset_button = QtWidgets.QToolButton(text="Reset view")
        self.reset_button.setObjectName("compareResetView")
        self.reset_button.setAutoRaise(True)
        self.reset_button.setToolTip("Fit both plots to the runs' data again (after zooming or panning)")
        self.reset_button.clicked.connect(self.reset_view)
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.legend_label, 1)
        top.addWidget(self.reset_button, 0, QtCore.Qt.AlignmentFlag.AlignTop)
        plots = QtWidgets.QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.cost_plot, 1)
        plots.addWidget(self.accuracy_plot, 1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addLayout(plots, 1)
        self.apply_theme(True)

    def apply_theme(self, dark: bool) -> None:
        self._dark = dark
        bg = theme.PANEL if dark else theme.LIGHT["PANEL"]
        fg = theme.TEXT if dark else theme.LIGHT["TEXT"]
        muted = theme.MUTED if dark else theme.LIGHT["MUTED"]
        for w in (self.cost_plot, self.accuracy_plot):
            w.setBackground(bg)
            for name in ("left", "bottom"):
                ax = w.getPlotItem().getAxis(name)
                ax.setPen(_pen(muted, 1.0))
                ax.setTextPen(_pen(fg, 1.0))
        for i, (c, a) in enumerate(zip(self.cost_curves, self.accuracy_curves)):
            color = run_color(i, dark)
            c.setPen(_pen(color, 2.0))
            a.setPen(_pen(color, 2.0))
            a.setSymbolBrush(pg.mkBrush(color))
            a.setSymbolPen(_pen(color, 1.0))
        self._set_legend()
        self._drawn = None

    def _set_legend(self) -> None:
        muted = theme.MUTED if self._dark else theme.LIGHT["MUTED"]
        parts = [f"<span style='color:{run_color(i, self._dark)}; font-weight:900'>━</span>&nbsp;{t}"
                 for i, t in enumerate(self._titles)]
        tail = f"<span style='color:{muted}'>cost: moving mean of every mini-batch · accuracy: after each epoch</span>"
        self.legend_label.setText("&nbsp;&nbsp; ".join(parts + [tail]) if parts else tail)

    def set_runs(self, titles) -> None:
        """The runs (their titles, in order): one curve of each kind per run."""
        titles = tuple(titles)
        if titles == self._titles and len(self.cost_curves) == len(titles):
            return
        self._titles = titles
        cp, ap = self.cost_plot.getPlotItem(), self.accuracy_plot.getPlotItem()
        for c in self.cost_curves:
            cp.removeItem(c)
        for c in self.accuracy_curves:
            ap.removeItem(c)
        self.cost_curves = [cp.plot() for _ in titles]
        self.accuracy_curves = [ap.plot(symbol="o", symbolSize=5) for _ in titles]
        self._follow = True
        self.apply_theme(self._dark)

    def reset_view(self) -> None:
        self._follow = True
        self._drawn = None

    def refresh(self, histories) -> None:
        """Redraw from the runs' histories (if they changed since the last call)."""
        width = max(200, self.cost_plot.width())
        key = (tuple((id(h), h.version) for h in histories), width, self._follow)
        if key == self._drawn:
            return
        self._drawn = key
        seen_hi, cost_hi = 0.0, 0.0
        for h, cc, ac in zip(histories, self.cost_curves, self.accuracy_curves):
            if not h.n:
                cc.setData([], [])
                ac.setData([], [])
                continue
            tr = h.trace(None, None, width)
            cc.setData(tr.sx, tr.sy)
            ex, _cost, eacc, _exact = h.epoch_trace(None, None, width=width)
            ac.setData(ex, eacc)  # (in %)
            seen_hi = max(seen_hi, float(h.last_seen))
            finite = np.asarray(tr.sy)[np.isfinite(tr.sy)]
            if finite.size:
                cost_hi = max(cost_hi, float(finite.max()))
        if self._follow:
            x = (0.0, max(seen_hi, 1.0))
            self.cost_plot.getPlotItem().vb.setRange(xRange=x, yRange=(0.0, cost_hi if cost_hi > 0 else 1.0),
                                                     padding=0.03)
            accs = [h.accuracy_min for h in histories if math.isfinite(h.accuracy_min)]
            lo = max(0.0, min(100 * min(accs) - 2.0, 90.0)) if accs else 0.0
            self.accuracy_plot.getPlotItem().vb.setRange(xRange=x, yRange=(lo, 100.0), padding=0.03)
