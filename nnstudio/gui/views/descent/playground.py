"""Gradient descent you can see: a cost of two inputs, a ball rolling downhill.

A contour map of a preset function (bowl, elongated valley, several minima, saddle).
Click to drop a start point; run, pause or step gradient descent and watch the path,
the step lengths (η × slope: they shrink as the slope gets shallower), and what the
learning rate does — too small crawls, good descends, too large overshoots and diverges.
"Stochastic" mode writes the cost as the average of 200 example costs and races the
careful full-gradient path against the drunk mini-batch path, on one clock: the number
of example-gradients computed.

All maths lives in :mod:`nnstudio.components.playground`; this module only draws and listens.
"""

from __future__ import annotations

import math

import numpy as np

from nnstudio.components.playground import (
    PRESETS,
    REGIME_CAPTION,
    DescentRun,
    PerExampleFunctions,
    bottom_target,
    contour_segments,
    get_preset,
    quantile_levels,
)
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import point_font
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal, pg

CAREFUL_COLOR = theme.ACCENT  # the careful full-gradient path
DRUNK_COLOR = "#fc6255"  # the drunk mini-batch path (3b1b red)
REGIME_COLORS = {"crawls": "#58a6ff", "good": theme.GOOD, "overshoots": "#f0883e", "diverges": theme.BAD}
N_EXAMPLES = 200  # per-example functions in stochastic mode
STEP_TITLE = "Step length = η × slope |∇C|: it shrinks as the slope gets shallower"
STEP_TITLE_DIVERGED = "Step length = η × slope |∇C|: η too large — each step overshoots higher up, so the steps grow"
#: the step plot's titles for a narrow plot, longest first (the first that fits is shown)
SHORT_TITLES = {STEP_TITLE: ("Step length = η × slope |∇C|: it shrinks", "Step length = η × |∇C|"),
                STEP_TITLE_DIVERGED: ("η too large: each step overshoots higher up", "η too large: the steps grow")}
TICK_MS = 33
MAP_PAD = 1.0  #: the map is drawn, and follows a path, this far around the domain (× its size)
TALL_HEIGHT = 560  #: from this height the step plot goes under the map (a short dock puts it beside)
QWIDGETSIZE_MAX = (1 << 24) - 1


def fmt(v: float, digits: int = 3) -> str:
    """A number for the screen: never 'nan' or 'inf'."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.{max(1, digits - 1)}e}"
    return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits}f}".rstrip("0").rstrip(".") or "0"


def _landscape_colormap() -> "pg.ColorMap":
    # low cost = deep navy, high = pale blue-grey: the yellow path stands out on every level
    return pg.ColorMap(
        [0.0, 0.35, 0.7, 1.0],
        [(8, 20, 45), (22, 64, 104), (64, 126, 158), (170, 196, 214)],
    )


def segments_xy(segs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Segment arrays (k, 2, 2) to x, y arrays for ``connect='pairs'``."""
    if not segs:
        return np.empty(0), np.empty(0)
    s = np.concatenate([x.reshape(-1, 2) for x in segs])
    return s[:, 0].copy(), s[:, 1].copy()


class LearningRateBar(QtWidgets.QWidget):
    """A log-scale learning-rate control that shows the regimes of the current function.

    Coloured zones: too small (crawls), good, overshoots, diverges (past 2 ÷ curvature).
    Click or drag to set η; the arrow keys nudge it by a twentieth of a decade.
    """

    valueChanged = Signal(float)
    LOG_MIN, LOG_MAX = -3.0, 1.0

    def __init__(self, parent=None):
        super().__init__(parent)
        self._value = 0.1
        self._regimes = []
        self.setMinimumHeight(46)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setCursor(Qt.PointingHandCursor)
        self.setToolTip("Learning rate η (log scale): click or drag; ← → to nudge")

    def sizeHint(self):
        return QtCore.QSize(280, 46)

    def value(self) -> float:
        return self._value

    def setValue(self, v: float) -> None:
        if not (v > 0 and math.isfinite(v)):
            return
        v = float(min(max(v, 10**self.LOG_MIN), 10**self.LOG_MAX))
        if abs(v - self._value) > 1e-15 * v:
            self._value = v
            self.update()
            self.valueChanged.emit(v)

    def setRegimes(self, regimes) -> None:
        self._regimes = list(regimes)
        self.update()

    def _track(self) -> QtCore.QRectF:
        return QtCore.QRectF(8, 6, max(10, self.width() - 16), 14)

    def x_of(self, v: float) -> float:
        r = self._track()
        t = (math.log10(v) - self.LOG_MIN) / (self.LOG_MAX - self.LOG_MIN)
        return r.left() + min(max(t, 0.0), 1.0) * r.width()

    def value_at(self, x: float) -> float:
        r = self._track()
        t = min(max((x - r.left()) / r.width(), 0.0), 1.0)
        return 10 ** (self.LOG_MIN + t * (self.LOG_MAX - self.LOG_MIN))

    def paintEvent(self, _ev):
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.Antialiasing)
        r = self._track()
        p.fillRect(r, QtGui.QColor(theme.PANEL))
        p.setFont(point_font(9, base=p.font()))
        for reg in self._regimes:
            lo = max(reg.low, 10**self.LOG_MIN)
            hi = min(reg.high, 10**self.LOG_MAX)
            if hi <= lo:
                continue
            x0, x1 = self.x_of(lo), self.x_of(hi)
            c = QtGui.QColor(REGIME_COLORS[reg.key])
            c.setAlpha(150)
            p.fillRect(QtCore.QRectF(x0, r.top(), x1 - x0, r.height()), c)
            word = {"crawls": "crawls", "good": "good", "overshoots": "overshoots", "diverges": "diverges"}[reg.key]
            if p.fontMetrics().horizontalAdvance(word) + 4 < x1 - x0:
                p.setPen(QtGui.QColor("#0e1116"))
                p.drawText(QtCore.QRectF(x0, r.top(), x1 - x0, r.height()), Qt.AlignCenter, word)
        # decade ticks
        p.setPen(QtGui.QColor(theme.MUTED))
        for e in range(int(self.LOG_MIN), int(self.LOG_MAX) + 1):
            x = self.x_of(10.0**e)
            p.drawLine(QtCore.QPointF(x, r.bottom()), QtCore.QPointF(x, r.bottom() + 4))
            label = f"{10.0**e:g}"
            w = p.fontMetrics().horizontalAdvance(label)
            p.drawText(QtCore.QPointF(min(max(x - w / 2, 0), self.width() - w), r.bottom() + 16), label)
        # the current value
        x = self.x_of(self._value)
        pen = QtGui.QPen(QtGui.QColor(theme.ACCENT), 2.5)
        p.setPen(pen)
        p.drawLine(QtCore.QPointF(x, r.top() - 4), QtCore.QPointF(x, r.bottom() + 2))
        tri = QtGui.QPolygonF([QtCore.QPointF(x - 5, r.top() - 6), QtCore.QPointF(x + 5, r.top() - 6),
                               QtCore.QPointF(x, r.top())])
        p.setBrush(QtGui.QColor(theme.ACCENT))
        p.drawPolygon(tri)
        if self.hasFocus():
            p.setPen(QtGui.QPen(QtGui.QColor(theme.MUTED), 1, Qt.DotLine))
            p.setBrush(Qt.NoBrush)
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def mousePressEvent(self, ev):
        if ev.button() == Qt.LeftButton:
            self.setValue(self.value_at(ev.position().x()))

    def mouseMoveEvent(self, ev):
        if ev.buttons() & Qt.LeftButton:
            self.setValue(self.value_at(ev.position().x()))

    def keyPressEvent(self, ev):
        step = {Qt.Key_Left: -0.05, Qt.Key_Right: 0.05, Qt.Key_Down: -0.05, Qt.Key_Up: 0.05}.get(ev.key())
        if step is None:
            super().keyPressEvent(ev)
            return
        self.setValue(self._value * 10**step)


class PlaygroundView(StudioView):
    """Gradient descent on a function of two inputs, step by step.

    API (besides the gestures): :meth:`set_preset`, :meth:`set_learning_rate`,
    :meth:`set_start`, :meth:`run`, :meth:`pause`, :meth:`step`, :meth:`reset`,
    :meth:`set_stochastic`, :meth:`set_show_gradient`, :meth:`set_speed`; the runs are
    :attr:`careful` and :attr:`drunk` (a :class:`~nnstudio.components.playground.DescentRun`,
    ``drunk`` is None unless stochastic).  :attr:`runFinished` is emitted with the careful
    run's status ("converged", "diverged", "stopped") when a run ends by itself.
    """

    title = "Gradient descent playground"
    runFinished = Signal(str)

    def __init__(self, parent=None, preset: str = "bowl"):
        super().__init__(parent)
        self._fn = get_preset(preset)
        self._start = tuple(self._fn.start)
        self._lr = self._fn.learning_rate
        self._stochastic = False
        self._batch_size = 10
        self._speed = 12.0  # careful steps per second
        self._budget = 0.0  # steps owed by the timer
        self._clock = 0.0  # stochastic mode: example-gradients computed so far (the race's clock)
        self.careful: DescentRun | None = None
        self.drunk: DescentRun | None = None
        self._examples: PerExampleFunctions | None = None
        self._target: float | None = None
        self._reached: dict[str, int | None] = {"careful": None, "drunk": None}
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._build()
        self._load_function()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self._root = QtWidgets.QHBoxLayout(self)
        self._root.setContentsMargins(6, 6, 6, 6)
        self._plots = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.TopToBottom)
        self._root.addLayout(self._plots, 1)

        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        pi = self.plot.getPlotItem()
        pi.setAspectLocked(True)
        pi.hideButtons()
        pi.setLabel("bottom", "x")
        pi.setLabel("left", "y")
        pi.showGrid(False, False)
        self.plot.setMinimumSize(240, 190)
        self._plots.addWidget(self.plot, 4)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        pi.addItem(self.image)
        pi.getViewBox().setBackgroundColor(_landscape_colormap().map(1.0, mode="qcolor"))
        self.contours = pg.PlotDataItem(pen=pg.mkPen((230, 237, 243, 70), width=1), connect="pairs")
        pi.addItem(self.contours)
        self.arrows = pg.PlotDataItem(pen=pg.mkPen((230, 237, 243, 150), width=1.2), connect="pairs")
        self.arrows.setVisible(False)
        pi.addItem(self.arrows)
        self.minima = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen(theme.MUTED, width=1.5), brush=None)
        pi.addItem(self.minima)
        self.careful_path = pg.PlotDataItem(
            pen=pg.mkPen(CAREFUL_COLOR, width=2), symbol="o", symbolSize=5,
            symbolBrush=CAREFUL_COLOR, symbolPen=None,
        )
        pi.addItem(self.careful_path)
        self.drunk_path = pg.PlotDataItem(pen=pg.mkPen(DRUNK_COLOR, width=1.3))
        pi.addItem(self.drunk_path)
        self.start_marker = pg.ScatterPlotItem(size=13, pen=pg.mkPen("w", width=2), brush=pg.mkBrush(0, 0, 0, 0))
        pi.addItem(self.start_marker)
        self.ball = pg.ScatterPlotItem(size=12, pen=pg.mkPen("#0e1116", width=1.5), brush=pg.mkBrush(CAREFUL_COLOR))
        pi.addItem(self.ball)
        self.drunk_ball = pg.ScatterPlotItem(size=10, pen=pg.mkPen("#0e1116", width=1.5), brush=pg.mkBrush(DRUNK_COLOR))
        pi.addItem(self.drunk_ball)
        # where the path has gone when it leaves the map: an arrow at the map's edge, pointing to it
        self.offmap_arrow = pg.ArrowItem(headLen=16, tipAngle=40, brush=pg.mkBrush(CAREFUL_COLOR),
                                         pen=pg.mkPen("#0e1116", width=1))
        self.offmap_label = pg.TextItem("", color=CAREFUL_COLOR, fill=pg.mkBrush(14, 17, 22, 200))
        for item in (self.offmap_arrow, self.offmap_label):
            item.setZValue(20)
            item.setVisible(False)
            pi.addItem(item, ignoreBounds=True)
        # what the map shows: the function's domain, or more to follow a path; kept whole as the map is
        # resized, until the user zooms or pans
        self._map_range = (0.0, 1.0, 0.0, 1.0)
        self._user_range = False
        vb = pi.getViewBox()
        vb.sigRangeChanged.connect(lambda *_: self._place_offmap_marker())
        vb.sigResized.connect(lambda *_: self._show_map_range())
        vb.sigRangeChangedManually.connect(lambda *_: setattr(self, "_user_range", True))
        self.plot.scene().sigMouseClicked.connect(self._on_plot_click)

        self.step_plot = pg.PlotWidget()
        self.step_plot.setMenuEnabled(False)
        sp = self.step_plot.getPlotItem()
        sp.hideButtons()
        sp.setMouseEnabled(False, False)
        sp.setLabel("left", "step length")
        sp.getAxis("left").enableAutoSIPrefix(False)
        sp.setLabel("bottom", "step")
        sp.setTitle(STEP_TITLE, size="9pt")
        self.step_plot.setMinimumSize(220, 130)
        self.step_plot.installEventFilter(self)  # (its title follows its width)
        self.careful_steps = pg.PlotDataItem(pen=pg.mkPen(CAREFUL_COLOR, width=1.6), symbol="o", symbolSize=4,
                                             symbolBrush=CAREFUL_COLOR, symbolPen=None)
        self.drunk_steps = pg.PlotDataItem(pen=pg.mkPen(DRUNK_COLOR, width=1))
        sp.addItem(self.drunk_steps)
        sp.addItem(self.careful_steps)

        # -------------------------------------------------------------- the side panel (scrolls on its own)
        panel = QtWidgets.QWidget()
        panel.setObjectName("playgroundPanel")
        panel.setFixedWidth(330)
        side = self._side = QtWidgets.QVBoxLayout(panel)
        side.setContentsMargins(4, 0, 4, 0)
        self.side_scroll = QtWidgets.QScrollArea()
        self.side_scroll.setObjectName("playgroundPanelScroll")
        self.side_scroll.setWidget(panel)
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setFixedWidth(330 + self.side_scroll.verticalScrollBar().sizeHint().width())
        self._root.addWidget(self.side_scroll)
        # the run controls first: a short dock shows them without scrolling the panel
        row = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setCheckable(True)
        self.run_button.toggled.connect(self._on_run_toggled)
        self.step_button = QtWidgets.QPushButton("Step")
        self.step_button.clicked.connect(self.step)
        self.reset_button = QtWidgets.QPushButton("Reset")
        self.reset_button.clicked.connect(self.reset)
        for b in (self.run_button, self.step_button, self.reset_button):
            row.addWidget(b)
        side.addLayout(row)
        speed_row = QtWidgets.QHBoxLayout()
        speed_row.addWidget(QtWidgets.QLabel("Speed"))
        self.speed_slider = QtWidgets.QSlider(Qt.Horizontal)
        self.speed_slider.setRange(1, 60)
        self.speed_slider.setValue(int(self._speed))
        self.speed_slider.valueChanged.connect(lambda v: self.set_speed(v))
        speed_row.addWidget(self.speed_slider, 1)
        self.speed_label = QtWidgets.QLabel()
        speed_row.addWidget(self.speed_label)
        side.addLayout(speed_row)
        hint = QtWidgets.QLabel("Click on the map to drop a start point. Yellow: the path of gradient descent.")
        hint.setWordWrap(True)
        hint.setProperty("muted", True)
        side.addWidget(hint)

        side.addSpacing(6)
        self.preset_box = QtWidgets.QComboBox()
        for key, fn in PRESETS.items():
            self.preset_box.addItem(fn.name, key)
        self.preset_box.currentIndexChanged.connect(lambda i: self.set_preset(self.preset_box.itemData(i)))
        side.addWidget(_heading("Function"))
        side.addWidget(self.preset_box)
        self.formula = QtWidgets.QLabel()
        self.formula.setWordWrap(True)
        side.addWidget(self.formula)
        self.description = QtWidgets.QLabel()
        self.description.setWordWrap(True)
        self.description.setProperty("muted", True)
        side.addWidget(self.description)

        side.addSpacing(6)
        side.addWidget(_heading("Learning rate"))
        self.lr_label = QtWidgets.QLabel()
        side.addWidget(self.lr_label)
        self.lr_bar = LearningRateBar()
        self.lr_bar.valueChanged.connect(self._on_lr)
        side.addWidget(self.lr_bar)
        self.regime_label = QtWidgets.QLabel()
        side.addWidget(self.regime_label)
        self.caption = QtWidgets.QLabel(REGIME_CAPTION)
        self.caption.setWordWrap(True)
        self.caption.setProperty("muted", True)
        side.addWidget(self.caption)

        self.arrows_box = QtWidgets.QCheckBox("Show downhill arrows (−∇C)")
        self.arrows_box.toggled.connect(self.set_show_gradient)
        side.addWidget(self.arrows_box)

        side.addSpacing(6)
        side.addWidget(_heading("Stochastic gradient descent"))
        self.stochastic_box = QtWidgets.QCheckBox(f"Cost = average of {N_EXAMPLES} example costs")
        self.stochastic_box.toggled.connect(lambda on: self.set_stochastic(on))
        side.addWidget(self.stochastic_box)
        batch_row = QtWidgets.QHBoxLayout()
        batch_row.addWidget(QtWidgets.QLabel("Mini-batch of"))
        self.batch_spin = QtWidgets.QSpinBox()
        self.batch_spin.setRange(1, N_EXAMPLES)
        self.batch_spin.setValue(self._batch_size)
        self.batch_spin.valueChanged.connect(self._on_batch)
        batch_row.addWidget(self.batch_spin)
        batch_row.addWidget(QtWidgets.QLabel("examples per step"), 1)
        side.addLayout(batch_row)
        self.race_label = QtWidgets.QLabel()
        self.race_label.setWordWrap(True)
        self.race_label.setTextFormat(Qt.RichText)
        side.addWidget(self.race_label)

        side.addSpacing(6)
        side.addWidget(_heading("Now"))
        self.readout = QtWidgets.QLabel()
        self.readout.setWordWrap(True)
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setTextInteractionFlags(Qt.TextSelectableByMouse)
        side.addWidget(self.readout)
        self.status_label = QtWidgets.QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.RichText)
        side.addWidget(self.status_label)
        side.addStretch(1)
        self.set_speed(self._speed)
        self._mode: str | None = None
        self._arrange("narrow")  # (the smallest: a dock of any size can start with it)

    def _arrange(self, mode: str) -> None:
        """"tall": the map over the step plot, the panel beside them; "wide" (a short, wide dock): the
        map, the step plot and the panel side by side; "narrow" (short and narrow): the map and the
        panel, the step plot at the end of the panel.  The map is always whole on screen."""
        if mode == self._mode:
            return
        self._mode = mode
        plots, sp = self._plots, self.step_plot
        self._side.removeWidget(sp)
        plots.removeWidget(sp)
        if mode == "narrow":
            sp.setMaximumHeight(190)
            self._side.insertWidget(self._side.count() - 1, sp)  # (before the stretch)
        else:
            sp.setMaximumHeight(QWIDGETSIZE_MAX)
            plots.addWidget(sp, 1 if mode == "tall" else 2)
        plots.setStretchFactor(self.plot, 4 if mode == "tall" else 3)
        plots.setDirection(QtWidgets.QBoxLayout.Direction.TopToBottom if mode == "tall"
                           else QtWidgets.QBoxLayout.Direction.LeftToRight)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        m = self._root.contentsMargins()
        w, h = self.width() - m.left() - m.right(), self.height() - m.top() - m.bottom()
        side = self.side_scroll.width() + self._root.spacing()
        if h >= TALL_HEIGHT:
            self._arrange("tall")
        elif w - side >= 2 * self.step_plot.minimumWidth() + 60:
            self._arrange("wide")
        else:
            self._arrange("narrow")

    # ------------------------------------------------------------------ public API
    @property
    def preset(self):
        return self._fn

    @property
    def learning_rate(self) -> float:
        return self._lr

    @property
    def is_running(self) -> bool:
        return self._timer.isActive()

    @property
    def stochastic(self) -> bool:
        return self._stochastic

    def set_preset(self, key: str) -> None:
        """Switch to a preset function (its own start point and learning rate)."""
        fn = get_preset(key)
        if fn is self._fn and self.careful is not None:
            return
        self.pause()
        self._fn = fn
        self._start = tuple(fn.start)
        self._lr = fn.learning_rate
        self._load_function()

    def set_learning_rate(self, lr: float) -> None:
        if not (lr > 0 and math.isfinite(lr)):
            self.statusMessage.emit("The learning rate must be a positive number.")
            return
        self.lr_bar.setValue(lr)  # → _on_lr
        if abs(self.lr_bar.value() - lr) > 1e-12 * lr:  # clamped by the bar's range
            self._on_lr(self.lr_bar.value())

    def set_start(self, x: float, y: float) -> None:
        """Drop the start point at (x, y) and start over from there."""
        if not (math.isfinite(x) and math.isfinite(y)):
            return
        x0, x1, y0, y1 = self._fn.domain
        self._start = (min(max(x, x0), x1), min(max(y, y0), y1))
        self._restart_runs()

    def set_speed(self, steps_per_second: float) -> None:
        self._speed = float(min(max(steps_per_second, 1), 60))
        self.speed_label.setText(f"{self._speed:.0f} steps/s")
        if self.speed_slider.value() != int(self._speed):
            self.speed_slider.setValue(int(self._speed))

    def set_show_gradient(self, on: bool) -> None:
        self.arrows.setVisible(bool(on))
        if self.arrows_box.isChecked() != bool(on):
            self.arrows_box.setChecked(bool(on))

    def set_stochastic(self, on: bool, batch_size: int | None = None) -> None:
        if batch_size is not None:
            self._batch_size = int(min(max(batch_size, 1), N_EXAMPLES))
            self.batch_spin.blockSignals(True)
            self.batch_spin.setValue(self._batch_size)
            self.batch_spin.blockSignals(False)
        self._stochastic = bool(on)
        if self.stochastic_box.isChecked() != self._stochastic:
            self.stochastic_box.blockSignals(True)
            self.stochastic_box.setChecked(self._stochastic)
            self.stochastic_box.blockSignals(False)
        self._restart_runs()

    def run(self) -> None:
        if self.careful is not None and self._all_finished():
            self._restart_runs()
        self._budget = 0.0
        self._timer.start()
        self._sync_run_button(True)

    def pause(self) -> None:
        self._timer.stop()
        self._sync_run_button(False)

    def step(self) -> None:
        """One step of the careful path (and, in stochastic mode, the drunk steps that cost as much)."""
        self.pause()
        if not self._all_finished():
            self._advance(1.0)
        self._refresh()

    def reset(self) -> None:
        """Back to the start point (keeps it, the function and the learning rate)."""
        self.pause()
        self._restart_runs()

    # ------------------------------------------------------------------ internals
    def _load_function(self) -> None:
        fn = self._fn
        i = self.preset_box.findData(fn.key)
        if i != self.preset_box.currentIndex():
            self.preset_box.blockSignals(True)
            self.preset_box.setCurrentIndex(i)
            self.preset_box.blockSignals(False)
        self.formula.setText(f"<b>{fn.formula}</b>")
        self.description.setText(fn.description)
        # drawn over a wider area than the domain (MAP_PAD), so a wide or tall view, or one following a
        # path out of the domain, has no empty margins
        px0, px1, py0, py1 = fn.padded_domain(MAP_PAD)
        xs, ys, Z = fn.grid(400, (px0, px1, py0, py1))
        _, _, Zd = fn.grid(120)
        levels = quantile_levels(Zd, 14)  # levels spread over the domain itself
        ranks = np.interp(Z, np.sort(Zd.ravel()), np.linspace(0, 1, Zd.size))
        img = _landscape_colormap().map(ranks, mode="byte")
        self.image.setImage(img.reshape(Z.shape + (4,)))
        self.image.setRect(QtCore.QRectF(px0, py0, px1 - px0, py1 - py0))
        cx, cy = segments_xy(contour_segments(xs, ys, Z, levels))
        self.contours.setData(cx, cy)
        ax, ay = self._arrow_segments()
        self.arrows.setData(ax, ay)
        m = fn.minima
        self.minima.setData(m[:, 0], m[:, 1])
        pi = self.plot.getPlotItem()
        # (room to keep the aspect while following a path; past the drawn map is the map's highest colour)
        lx0, lx1, ly0, ly1 = fn.padded_domain(3.0)
        pi.setLimits(xMin=lx0, xMax=lx1, yMin=ly0, yMax=ly1)
        self._show_map_range(fn.domain)
        self.lr_bar.setRegimes(fn.regimes())
        self.lr_bar.blockSignals(True)
        self.lr_bar.setValue(self._lr)
        self.lr_bar.blockSignals(False)
        self._restart_runs()

    def _arrow_segments(self):
        fn = self._fn
        n = 15
        P, V = fn.downhill_field(n, fn.padded_domain(MAP_PAD))
        x0, x1, y0, y1 = fn.domain
        cell = min(x1 - x0, y1 - y0) / n
        mag = np.hypot(V[:, 0], V[:, 1])
        inside = (P[:, 0] >= x0) & (P[:, 0] <= x1) & (P[:, 1] >= y0) & (P[:, 1] <= y1)
        top = float(mag[inside].max()) or 1.0
        mag_c = np.minimum(mag, top)
        keep = mag > 1e-9 * top
        P, V, mag = P[keep], V[keep], mag[keep]  # (mag_c is indexed below)
        u = V / mag[:, None]
        length = cell * (0.25 + 0.6 * np.sqrt(mag_c[keep] / top))
        tail = P - u * length[:, None] / 2
        tip = P + u * length[:, None] / 2
        head = np.minimum(0.35 * length, 0.3 * cell)
        segs = [np.stack([tail, tip], 1)]
        for ang in (0.45, -0.45):
            c, s = math.cos(ang), math.sin(ang)
            back = np.stack([c * -u[:, 0] - s * -u[:, 1], s * -u[:, 0] + c * -u[:, 1]], 1)
            segs.append(np.stack([tip, tip + back * head[:, None]], 1))
        return segments_xy(segs)

    def _restart_runs(self) -> None:
        fn = self._fn
        if self._map_range != tuple(fn.domain):  # a new run starts on the function's own map again
            self._show_map_range(fn.domain)
        self._budget = 0.0
        self._clock = 0.0
        self._reached = {"careful": None, "drunk": None}
        if self._stochastic:
            self._examples = PerExampleFunctions(fn, N_EXAMPLES, seed=0)
            self._target, _ = bottom_target(fn, self._start)
            self.careful = DescentRun(fn, self._start, self._lr, self._examples, None, max_steps=3000)
            self.drunk = DescentRun(fn, self._start, self._lr, self._examples, self._batch_size, seed=1,
                                    max_steps=3000 * N_EXAMPLES // self._batch_size)
        else:
            self._examples = None
            self._target = None
            self.careful = DescentRun(fn, self._start, self._lr, max_steps=3000)
            self.drunk = None
        self._refresh()

    def _sync_run_button(self, running: bool) -> None:
        self.run_button.blockSignals(True)
        self.run_button.setChecked(running)
        self.run_button.setText("Pause" if running else "Run")
        self.run_button.blockSignals(False)

    def _on_run_toggled(self, on: bool) -> None:
        if on:
            self.run()
        else:
            self.pause()

    def _on_lr(self, lr: float) -> None:
        self._lr = float(lr)
        running = self.is_running
        self._restart_runs()
        if running:
            self.run()

    def _on_batch(self, m: int) -> None:
        self._batch_size = int(m)
        if self._stochastic:
            self._restart_runs()

    def _on_plot_click(self, ev) -> None:
        if ev.button() != Qt.LeftButton:
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        p = vb.mapSceneToView(ev.scenePos())
        ev.accept()
        self.set_start(p.x(), p.y())

    def _all_finished(self) -> bool:
        if self.careful is None:
            return True
        if not self._stochastic:
            return self.careful.finished
        return self._race_done("careful") and self._race_done("drunk")

    def _race_done(self, which: str) -> bool:
        run = self.careful if which == "careful" else self.drunk
        return run.finished or self._reached[which] is not None

    def _advance(self, careful_steps: float) -> None:
        """Advance the clock by ``careful_steps`` full-gradient steps' worth of work."""
        if not self._stochastic:
            for _ in range(int(careful_steps)):
                if self.careful.finished:
                    break
                self.careful.step()
            return
        # one clock for both paths: example-gradients computed
        self._clock += careful_steps * N_EXAMPLES
        per = {"careful": N_EXAMPLES, "drunk": self._batch_size}
        for which in ("careful", "drunk"):
            run = self.careful if which == "careful" else self.drunk
            while not self._race_done(which) and run.examples_seen[-1] + per[which] <= self._clock + 1e-9:
                run.step()
                if run.costs[-1] <= self._target:
                    self._reached[which] = run.steps_done

    def _tick(self) -> None:
        self._budget += self._speed * TICK_MS / 1000.0
        whole = math.floor(self._budget)
        if whole >= 1:
            self._budget -= whole
            self._advance(whole)
            self._refresh()
        if self._all_finished():
            self.pause()
            self.runFinished.emit(self.careful.status)

    # ------------------------------------------------------------------ drawing
    def _refresh(self) -> None:
        run = self.careful
        if run is None:
            return
        fn = self._fn
        P = run.path_array()
        self.careful_path.setData(P[:, 0], P[:, 1])
        self.careful_path.setSymbol("o" if len(P) <= 400 else None)
        self.start_marker.setData([self._start[0]], [self._start[1]])
        self.ball.setData([P[-1, 0]], [P[-1, 1]])
        steps = np.arange(1, len(run.step_lengths) + 1)
        self.careful_steps.setData(steps, np.asarray(run.step_lengths))
        if self.drunk is not None:
            D = self.drunk.path_array()
            self.drunk_path.setData(D[:, 0], D[:, 1])
            self.drunk_ball.setData([D[-1, 0]], [D[-1, 1]])
            # on the step plot the drunk steps are placed on the same clock (careful-step units)
            k = np.arange(1, len(self.drunk.step_lengths) + 1) * (self._batch_size / N_EXAMPLES)
            self.drunk_steps.setData(k, np.asarray(self.drunk.step_lengths))
        else:
            self.drunk_path.setData([], [])
            self.drunk_ball.setData([], [])
            self.drunk_steps.setData([], [])
        sp = self.step_plot.getPlotItem()
        sp.setLabel("bottom", "full-gradient steps (the clock)" if self.drunk is not None else "step")
        self._step_title = (STEP_TITLE_DIVERGED if run.status == "diverged" and len(run.step_lengths) > 2
                            and run.step_lengths[-1] > run.step_lengths[0] else STEP_TITLE)
        self._fit_step_title()
        self._follow_path([P] if self.drunk is None else [P, D])

        lr = self._lr
        reg = fn.regime(lr)
        self.lr_label.setText(
            f"η = <b>{fmt(lr)}</b> &nbsp; <span style='color:{theme.MUTED}'>stability bound "
            f"2 ÷ curvature = {fmt(fn.stability_bound)}</span>"
        )
        self.regime_label.setText(f"<span style='color:{REGIME_COLORS[reg.key]}'><b>{reg.label}</b></span>")

        # the readout: where the ball is and how long its last step was
        p = run.point
        slope = float(np.hypot(*fn.gradient(p)))
        lines = [
            f"step <b>{run.steps_done}</b> &nbsp; at ({fmt(p[0])}, {fmt(p[1])})",
            f"cost C = <b>{fmt(run.costs[-1])}</b> &nbsp; slope |∇C| = {fmt(slope)}",
        ]
        if run.step_lengths:
            lines.append(
                f"last step length = η × |∇C| = {fmt(lr)} × {fmt(run.slopes[-1])} = "
                f"<b style='color:{CAREFUL_COLOR}'>{fmt(run.step_lengths[-1])}</b>"
            )
        else:
            lines.append(f"next step length = η × |∇C| = {fmt(lr)} × {fmt(slope)} = <b>{fmt(lr * slope)}</b>")
        self.readout.setText("<br>".join(lines))

        status = run.status
        if status == "diverged":
            msg = f"<span style='color:{theme.BAD}'><b>Diverged:</b> {_html(run.message)}</span>"
        elif status == "converged":
            msg = f"<span style='color:{theme.GOOD}'><b>Converged:</b> {_html(run.message)}</span>"
        elif status == "stopped":
            msg = f"<span style='color:#f0883e'><b>Stopped:</b> {_html(run.message)}</span>"
        else:
            msg = ""
        if self.drunk is not None and self.drunk.status == "diverged" and status != "diverged":
            msg += f"<br><span style='color:{theme.BAD}'>The drunk path diverged.</span>"
        self.status_label.setText(msg)
        self._refresh_race()

    def _refresh_race(self) -> None:
        if self.drunk is None:
            self.race_label.setText(
                f"<span style='color:{theme.MUTED}'>Tick the box to race the careful full-gradient path "
                "against the drunk mini-batch path, on one clock.</span>"
            )
            return

        def line(which, run, color, what):
            k = self._reached[which]
            head = f"<span style='color:{color}'>■</span> <b>{what}</b>"
            if k is not None:
                work = run.examples_seen[k]
                return f"{head}: reached the bottom in {k} steps = <b>{work:,}</b> example-gradients"
            if run.status == "diverged":
                return f"{head}: diverged after {run.steps_done} steps"
            if run.finished:
                return f"{head}: did not get there ({run.steps_done} steps)"
            return f"{head}: {run.steps_done} steps, {run.examples_seen[-1]:,} example-gradients so far"

        a = line("careful", self.careful, CAREFUL_COLOR, f"careful (all {N_EXAMPLES} per step)")
        b = line("drunk", self.drunk, DRUNK_COLOR, f"drunk (mini-batches of {self._batch_size})")
        tail = ""
        ka, kb = self._reached["careful"], self._reached["drunk"]
        if ka is not None and kb is not None:
            wa, wb = self.careful.examples_seen[ka], self.drunk.examples_seen[kb]
            ratio = wa / max(wb, 1)
            tail = (f"<br>The drunk path took <b>{ratio:.1f}×</b> less time (example-gradients computed)."
                    if ratio >= 1 else f"<br>The careful path was {1 / ratio:.1f}× quicker this time.")
        self.race_label.setText(
            f"{a}<br>{b}{tail}<br><span style='color:{theme.MUTED}'>Time = example-gradients computed; "
            "“the bottom” = 99% of the way down, in cost, to the minimum this start drains to.</span>"
        )

    def _fit_step_title(self) -> None:
        """The step plot's title, shortened to the plot's width (never cut off)."""
        full = getattr(self, "_step_title", STEP_TITLE)
        fm = QtGui.QFontMetrics(point_font(9))
        room = self.step_plot.width() - 16
        title = next((t for t in (full,) + SHORT_TITLES[full] if fm.horizontalAdvance(t) <= room),
                     SHORT_TITLES[full][-1])
        sp = self.step_plot.getPlotItem()
        if sp.titleLabel.text != title:
            sp.setTitle(title, size="9pt")
        self.step_plot.setToolTip(full)

    def _show_map_range(self, rect=None) -> None:
        """Show ``rect`` (x0, x1, y0, y1) whole on the map (None: the current one, again after a resize);
        a new rect undoes the user's zoom."""
        if rect is not None:
            self._map_range, self._user_range = tuple(float(v) for v in rect), False
        if not self._user_range:
            x0, x1, y0, y1 = self._map_range
            self.plot.getPlotItem().getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def _follow_path(self, paths) -> None:
        """Keep the paths in view: widen the map to take them in (as far as the map is drawn); past
        that, an arrow at the map's edge points to where the path went."""
        P = np.concatenate(paths)
        P = P[np.isfinite(P).all(axis=1)]
        if len(P):
            px0, px1, py0, py1 = self._fn.padded_domain(MAP_PAD)
            lo = np.maximum(P.min(axis=0), (px0, py0))
            hi = np.minimum(P.max(axis=0), (px1, py1))
            (vx0, vx1), (vy0, vy1) = self.plot.getPlotItem().getViewBox().viewRange()
            if lo[0] < vx0 or hi[0] > vx1 or lo[1] < vy0 or hi[1] > vy1:
                x0, x1, y0, y1 = self._map_range
                pad_x, pad_y = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
                self._show_map_range((min(x0, lo[0] - pad_x), max(x1, hi[0] + pad_x),
                                      min(y0, lo[1] - pad_y), max(y1, hi[1] + pad_y)))
        self._place_offmap_marker()

    def _place_offmap_marker(self) -> None:
        run = self.careful
        if run is None:
            return
        vb = self.plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        balls = [run.point] + ([self.drunk.point] if self.drunk is not None else [])
        away = [b for b in balls if np.all(np.isfinite(b)) and not (x0 <= b[0] <= x1 and y0 <= b[1] <= y1)]
        for item in (self.offmap_arrow, self.offmap_label):
            item.setVisible(bool(away))
        if not away:
            return
        b = away[0]
        c = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        d = b - c
        # where the line from the centre to the ball leaves the view (a little inside it)
        t = min((0.47 * (x1 - x0)) / abs(d[0]) if d[0] else np.inf, (0.47 * (y1 - y0)) / abs(d[1]) if d[1] else np.inf)
        tip = c + d * min(t, 1.0)
        # (an ArrowItem at angle 0 points left and turns clockwise on screen; the map's aspect is locked,
        # so the direction in data units is the direction on screen)
        self.offmap_arrow.setStyle(angle=180 - float(np.degrees(np.arctan2(d[1], d[0]))))
        self.offmap_arrow.setPos(*tip)
        self.offmap_label.setText(f"off the map: ({fmt(b[0])}, {fmt(b[1])})")
        # the words inside the map, on the centre's side of the arrow
        self.offmap_label.setAnchor((1.0 if d[0] > 0 else 0.0, 0.0 if d[1] > 0 else 1.0))
        self.offmap_label.setPos(*(c + d * min(t, 1.0) * 0.93))

    # ------------------------------------------------------------------ Qt
    def eventFilter(self, obj, ev):
        if obj is self.step_plot and ev.type() == QtCore.QEvent.Type.Resize:
            self._fit_step_title()
        return super().eventFilter(obj, ev)

    def closeEvent(self, ev):
        self._timer.stop()
        super().closeEvent(ev)

    def hideEvent(self, ev):
        self.pause()
        super().hideEvent(ev)


def _heading(text: str) -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text.upper())
    lab.setFont(point_font(9, bold=True))
    lab.setStyleSheet("letter-spacing: 1px;")
    return lab


def _html(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["PlaygroundView", "LearningRateBar", "fmt"]
