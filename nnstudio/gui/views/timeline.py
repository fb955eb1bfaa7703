"""The timeline under the plots: a scrubber that reaches any mini-batch of the run, and the cost
curve answering a hover (the exact mini-batch, epoch and cost) and a click (the timeline goes there).

Nothing here holds the past: :class:`TimelineBar` and :class:`CostProbe` send the session's timeline
commands (``session.timeline.show``, ``go_live``, ``fork``) and draw what its events say
(``session.events.past``).  The views show the past because the session's snapshot *is* the past
then (see :mod:`nnstudio.session.timeline`); this module only marks it: the bar's readout, the
status bar's network field and a line on the cost curve, in :data:`nnstudio.gui.style.theme.PAST`.

Keys: **L** goes back to live (Training ▸ Back to live); with the scrubber focused, ←/→ move one
mini-batch, PgUp/PgDn a tenth of the run, Home/End the first and last.
"""

from __future__ import annotations

import math

import numpy as np

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal, pg
from nnstudio.gui.style import theme

#: the scrubber's range and the live end are refreshed this often while the run grows (ms)
REFRESH_MS = 250


def past_colour(widget) -> str:
    """theme.PAST, or its darker light-theme twin where ``widget`` is drawn on a light background."""
    light = widget.palette().color(QtGui.QPalette.ColorRole.Window).lightness() > 128
    return theme.LIGHT["PAST"] if light else theme.PAST


def past_text(step: int, last: int, epoch: int | None = None) -> str:
    text = f"step {step:,} of {last:,}"
    return text + (f" · epoch {epoch}" if epoch is not None else "")


class _Scrubber(QtWidgets.QSlider):
    """A slider whose groove, clicked, goes to that mini-batch (a QSlider steps a page towards it),
    and goes on as a drag from there.  (Not a QProxyStyle's SH_Slider_AbsoluteSetButtons: a proxy
    style owns its base style, and one made over the application's deleted it with the bar.)"""

    def mousePressEvent(self, ev) -> None:  # noqa: N802 (Qt's name)
        if ev.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            style, opt = self.style(), QtWidgets.QStyleOptionSlider()
            self.initStyleOption(opt)
            cc, sc = QtWidgets.QStyle.ComplexControl.CC_Slider, QtWidgets.QStyle.SubControl
            handle = style.subControlRect(cc, opt, sc.SC_SliderHandle, self)
            if not handle.contains(ev.position().toPoint()):
                groove = style.subControlRect(cc, opt, sc.SC_SliderGroove, self)
                x = ev.position().x() - groove.x() - handle.width() / 2
                self.setValue(QtWidgets.QStyle.sliderValueFromPosition(
                    self.minimum(), self.maximum(), int(round(x)), max(1, groove.width() - handle.width()),
                    opt.upsideDown))
        super().mousePressEvent(ev)


class TimelineBar(QtWidgets.QWidget):
    """A slider over the run's mini-batches, a readout (live, or "step 1,240 of 12,000" in the past
    colour), Live, and Continue from here."""

    #: the user asked to continue from the step on screen (the window asks for the settings)
    continueRequested = Signal()

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("timelineBar")
        self.slider = _Scrubber(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timelineSlider")
        self.slider.setToolTip("Drag to see the network at any mini-batch of this run (←/→ one mini-batch; "
                               "L: back to live)")
        self.slider.setMinimumWidth(80)
        self.slider.setTracking(True)
        self.readout = QtWidgets.QLabel()
        self.readout.setObjectName("timelineReadout")
        self.readout.setMinimumWidth(10)
        self.readout.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.live_button = QtWidgets.QToolButton()
        self.live_button.setObjectName("timelineLiveButton")
        self.live_button.setText("Live")
        self.live_button.setToolTip("Back to the live run (L)")
        self.live_button.setAutoRaise(True)
        self.fork_button = QtWidgets.QToolButton()
        self.fork_button.setObjectName("timelineForkButton")
        self.fork_button.setText("Continue from here…")
        self.fork_button.setToolTip("Start a new run from the step on screen, with the same or new settings")
        self.fork_button.setAutoRaise(True)
        # the readout has the whole width (it says "past: step 10,800 of 12,000 · epoch 28"); the
        # buttons sit at the slider's end
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(8)
        top.addWidget(QtWidgets.QLabel("<b>Timeline</b>"))
        top.addWidget(self.readout, 1)
        row = QtWidgets.QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.live_button)
        row.addWidget(self.fork_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 4)
        lay.setSpacing(0)
        lay.addLayout(top)
        lay.addLayout(row)
        self.slider.valueChanged.connect(self._moved)
        self.live_button.clicked.connect(lambda: session.timeline.go_live())
        self.fork_button.clicked.connect(self.continueRequested.emit)
        self._span = None
        self._setting = False
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        ev = session.events
        ev.past.connect(self._on_past)
        ev.restarted.connect(lambda _g: self.refresh())
        self.refresh()

    # ------------------------------------------------------------------ showing
    def refresh(self) -> None:
        """The range (the run's steps so far) and, when live, the handle at its end."""
        if not self.isVisible() and self._span is not None:
            return
        tl = self.session.timeline
        span = tl.span()
        enabled = span is not None and span[1] > span[0]
        self.slider.setEnabled(enabled)
        if span != self._span:
            self._span = span
            self._set(lambda: self.slider.setRange(*(span or (0, 0))))
            self.slider.setPageStep(max(1, (span[1] - span[0]) // 10) if span else 1)
        if not tl.past:
            if span is not None:
                self._set(lambda: self.slider.setValue(span[1]))
            self._show_live(span)
        self.live_button.setEnabled(tl.past)
        self.fork_button.setEnabled(tl.past)

    def _set(self, fn) -> None:
        self._setting = True
        try:
            fn()
        finally:
            self._setting = False

    def _show_live(self, span) -> None:
        muted = self.palette().color(QtGui.QPalette.ColorRole.PlaceholderText).name()
        room, metrics = self.readout.width(), self.readout.fontMetrics()

        def fits(plain: str) -> bool:
            return metrics.horizontalAdvance(plain) <= room

        if span is None or span[1] <= span[0]:
            hint = next((h for h in ("train to scrub back through every mini-batch", "train to scrub back")
                         if fits(h)), "")
            text = f"<span style='color:{muted}'>{hint}</span>"
        else:
            live = f"● live · mini-batch {span[1]:,}"
            hint = next((h for h in (" · drag back to see any of them", " · drag back") if fits(live + h)), "")
            text = (f"<span style='color:{theme.GOOD}'>●</span> live · mini-batch {span[1]:,}"
                    f"<span style='color:{muted}'>{hint}</span>")
        if self.readout.text() != text:
            self.readout.setText(text)

    def _on_past(self, step, last) -> None:
        if step is None:
            self.refresh()
            return
        snap = self.session.timeline.shown
        epoch = None if snap is None else (snap.epoch if snap.at_epoch_end else snap.epoch + 1)
        self.readout.setText(f"<span style='color:{past_colour(self)}; font-weight:600'>past: "
                             f"{past_text(step, last, epoch)}</span>")
        if self.slider.value() != step and not self.slider.isSliderDown():
            self._set(lambda: self.slider.setValue(step))
        self.live_button.setEnabled(True)
        self.fork_button.setEnabled(True)

    def _moved(self, value: int) -> None:
        if self._setting:
            return
        tl = self.session.timeline
        span = tl.span()
        if span is None:
            return
        if value >= span[1] and not tl.past:
            return  # (the live end: nothing to rebuild)
        tl.show(value)

    def resizeEvent(self, ev) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(ev)
        if not self.session.timeline.past:
            self._show_live(self._span)  # (the hint as long as the room allows)

    def keyPressEvent(self, ev) -> None:
        if ev.key() == Qt.Key.Key_L:
            self.session.timeline.go_live()
            return
        super().keyPressEvent(ev)


class CostProbe(QtCore.QObject):
    """The cost plot answers a hover with the exact mini-batch, epoch and cost of the nearest point
    (a label beside the cursor and a dot on the point), and a click sends the timeline there; while
    the past is on screen a vertical line marks its step."""

    def __init__(self, plots, session, parent=None):
        super().__init__(parent)
        self.plots, self.session = plots, session
        plot = plots.cost_plot.getPlotItem()
        self.vb = plot.vb
        self.label = pg.TextItem(anchor=(0, 1), color=theme.TEXT, fill=pg.mkBrush(22, 27, 34, 230),
                                 border=pg.mkPen(theme.MUTED))
        self.label.setZValue(100)
        self.dot = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(theme.ACCENT), pen=pg.mkPen(theme.BACKGROUND))
        self.dot.setZValue(99)
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(theme.PAST, width=2))
        self.marker.setZValue(98)
        for item in (self.label, self.dot, self.marker):
            plot.addItem(item, ignoreBounds=True)
            item.hide()
        self.hover_text = ""  # the label last shown (for tests)
        self.hover_row = None  # its history row
        scene = plots.cost_plot.scene()
        scene.sigMouseMoved.connect(self._moved)
        scene.sigMouseClicked.connect(self._clicked)
        plots.cost_plot.viewport().installEventFilter(self)
        session.events.past.connect(self._on_past)

    # ------------------------------------------------------------------ hover
    def _x_to_seen(self, x: float) -> float:
        h = self.session.history
        return x * h.n_train if self.plots.x_mode == "epochs" and h.n_train else x

    def _seen_to_x(self, seen: float) -> float:
        h = self.session.history
        return seen / h.n_train if self.plots.x_mode == "epochs" and h.n_train else seen

    def row_at(self, scene_pos) -> np.void | None:
        """The history row nearest the pointer's x (None off the plot or without rows)."""
        h = self.session.history
        if h.n == 0 or not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        x = self.vb.mapSceneToView(scene_pos).x()
        seen = self._x_to_seen(x)
        i = h.row_of(seen)
        rows = h.rows(max(0, i - 1), min(h.n, i + 1))
        if not len(rows):
            return None
        j = int(np.argmin(np.abs(rows["examples_seen"].astype(float) - seen)))
        return rows[j]

    def _moved(self, scene_pos) -> None:
        row = self.row_at(scene_pos)
        if row is None:
            self._hide()
            return
        cost = float(row["cost"])
        epoch = int(row["epoch"]) + 1
        text = (f"mini-batch {int(row['step']):,} · epoch {epoch} (batch {int(row['batch']) + 1:,})\n"
                f"cost {cost:.5f}" if math.isfinite(cost) else "cost diverged")
        text += f" · η {float(row['learning_rate']):g}\nclick: show the network then"
        x = self._seen_to_x(float(row["examples_seen"]))
        y = cost if math.isfinite(cost) else self.vb.viewRange()[1][1]
        self.hover_text, self.hover_row = text, row
        self.label.setText(text)
        (x0, x1), (y0, y1) = self.vb.viewRange()
        # beside the point, on the side with room
        self.label.setAnchor((1, 1) if x > (x0 + x1) / 2 else (0, 1))
        self.label.setPos(x, min(y, y1) if y >= (y0 + y1) / 2 else y + 0.0)
        self.label.show()
        self.dot.setData([x], [y])
        self.dot.show()

    def _hide(self) -> None:
        self.label.hide()
        self.dot.hide()
        self.hover_text, self.hover_row = "", None

    def eventFilter(self, obj, ev) -> bool:
        if ev.type() == QtCore.QEvent.Type.Leave:
            self._hide()
        return False

    def _clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        row = self.row_at(ev.scenePos())
        if row is not None:
            self.session.timeline.show(int(row["step"]))

    # ------------------------------------------------------------------ the past's marker
    def _on_past(self, step, last) -> None:
        snap = self.session.timeline.shown
        if step is None or snap is None:
            self.marker.hide()
            return
        self.marker.setPen(pg.mkPen(past_colour(self.plots.cost_plot), width=2))
        self.marker.setValue(self._seen_to_x(snap.examples_seen))
        self.marker.show()


class ContinueDialog(QtWidgets.QDialog):
    """Continue from step s: with which learning rate and mini-batch size."""

    def __init__(self, step: int, learning_rate: float, batch_size: int, parent=None):
        super().__init__(parent)
        self.setObjectName("continueDialog")
        self.setWindowTitle("Continue from here")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)  # (the explanation in a few lines)
        self.eta = QtWidgets.QDoubleSpinBox()
        self.eta.setObjectName("continueLearningRate")
        self.eta.setDecimals(4)
        self.eta.setRange(1e-4, 100.0)
        self.eta.setValue(learning_rate)
        self.batch = QtWidgets.QSpinBox()
        self.batch.setObjectName("continueBatchSize")
        self.batch.setRange(1, 10_000)
        self.batch.setValue(batch_size)
        form = QtWidgets.QFormLayout(self)
        form.addRow(QtWidgets.QLabel(
            f"A new run from mini-batch {step:,}: the same weights and the same shuffle from there. With the same "
            "settings it retraces the old run exactly; change them to see where else it could have gone."))
        form.itemAt(0).widget().setWordWrap(True)
        form.addRow("Learning rate η", self.eta)
        form.addRow("Mini-batch size", self.batch)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)


def style_status(status, past: bool) -> None:
    """The status bar's network field in the past colour while the past is on screen."""
    status.network_label.setStyleSheet(f"color: {past_colour(status)}; font-weight: 600;" if past else "")
