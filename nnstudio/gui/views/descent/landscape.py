"""The real network's cost landscape, and full-batch gradient descent against SGD.

Top: a slice of the real cost function through the current weights — a contour map of
C(θ + αD₁ + βD₂) over a grid of (α, β), with the current point at the centre and the
recent training path projected onto the slice.  It is computed in a worker thread
(cancellable, never freezing the window), on demand and, if asked, every few seconds
while training.

Bottom: full-batch gradient descent against mini-batch SGD from the same initial
weights, their cost curves against examples processed and against wall time, trained
in a worker thread with the core trainer.

The maths is in :mod:`nnstudio.components.landscape`; this module only draws and listens.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from nnstudio.core import Network
from nnstudio.components.landscape import (
    DIRECTION_MODES,
    Cancelled,
    GDvsSGD,
    TrajectoryRing,
    compute_landscape,
    make_directions,
    smooth_grid,
    training_subset,
)
from nnstudio.gui.style import theme
from nnstudio.gui.tasks import Task
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.views.descent.playground import segments_xy
from nnstudio.gui.qt import QtCore, QtWidgets, Qt, Signal, Slot, pg

FULL_COLOR = "#58c4dd"  # 3b1b blue: full-batch gradient descent
SGD_COLOR = theme.ACCENT  # yellow: SGD
MODE_LABELS = {
    "random": "Two random directions (filter-normalised)",
    "gradient": "Downhill (−∇C) and a random direction",
    "pca": "The training path's main directions (PCA)",
}
DEFAULT_SPAN = {"random": 1.0, "gradient": 0.1, "pca": 1.0}
SIDE_WIDTH = 300  #: the controls' column beside each plot
TALL_HEIGHT = 600  #: from this height the slice and the comparison are shown one over the other (else in tabs)


def _cost_colormap() -> "pg.ColorMap":
    # low cost dark navy → teal → pale: the white path and the yellow point stand out
    return pg.ColorMap(
        [0.0, 0.3, 0.65, 1.0],
        [(8, 20, 45), (22, 70, 112), (70, 140, 170), (205, 222, 232)],
    )


class LandscapeView(StudioView):
    """A slice of the real cost function through the current weights, and GD vs SGD.

    The window calls :meth:`set_snapshot` (the trajectory ring records every snapshot's
    weights) and :meth:`set_dataset`.  API: :meth:`compute` (start a slice in the
    background; returns False with a message if it cannot), :meth:`cancel`,
    :meth:`set_mode`, :meth:`set_span`, :meth:`set_resolution`, :meth:`set_examples`,
    :meth:`set_auto_update`, :meth:`run_comparison`, :meth:`stop_comparison`,
    :meth:`shutdown` (cancel and join every worker; called on close).  Signals:
    :attr:`landscapeReady` (the :class:`~nnstudio.components.landscape.Landscape`),
    :attr:`comparisonFinished` (the :class:`~nnstudio.components.landscape.ComparisonResult`).
    """

    title = "Cost landscape"
    landscapeReady = Signal(object)
    comparisonFinished = Signal(object)

    def __init__(self, parent=None, ring_capacity: int = 200):
        super().__init__(parent)
        self._network: Network | None = None
        self._own_network = False
        self._step = 0
        self._run = (0, 0)  # (generation, edits) of the last snapshot
        self._dataset = None
        self._ring = TrajectoryRing(ring_capacity)
        self.landscape = None
        self._path_xy = np.empty((0, 2))
        self._path_steps = np.empty(0, dtype=np.int64)  # the ring's steps of the projected points
        self._mode = "random"
        self._span = DEFAULT_SPAN["random"]
        self._resolution = 41
        self._n_examples = 1000
        self._auto = False
        self._auto_period = 10.0
        self._last_compute = -1e9
        self._landscape_task: Task | None = None
        self._compare_task: Task | None = None
        self._tasks: set[Task] = set()
        self._curves = {"full": [], "sgd": []}
        self._curves_dirty = False
        self._y_top = None
        self.comparison = None
        self._build()
        self._repaint = QtCore.QTimer(self)
        # curves are redrawn at most 5× a second: every repaint competes with the worker for the GIL
        self._repaint.setInterval(200)
        self._repaint.timeout.connect(self._flush_curves)
        self._repaint.start()
        app = QtWidgets.QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._show_placeholder()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 6)

        # -------------------------------------------------------------- the slice: the map | its controls
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        pi = self.plot.getPlotItem()
        pi.hideButtons()
        pi.setAspectLocked(False)
        for ax in ("bottom", "left"):
            pi.getAxis(ax).enableAutoSIPrefix(False)
        self.plot.setMinimumSize(260, 170)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        pi.addItem(self.image)
        self.colorbar = pg.ColorBarItem(colorMap=_cost_colormap(), interactive=False, width=14, label="cost C")
        self.colorbar.setImageItem(self.image, insert_in=pi)
        self.contours = pg.PlotDataItem(pen=pg.mkPen((230, 237, 243, 80), width=1), connect="pairs")
        pi.addItem(self.contours)
        self.lowest = pg.ScatterPlotItem(symbol="x", size=10, pen=pg.mkPen(theme.MUTED, width=2), brush=None)
        pi.addItem(self.lowest)
        self.path = pg.PlotDataItem(pen=pg.mkPen((255, 255, 255, 200), width=1.5), symbol="o", symbolSize=3,
                                    symbolBrush=(255, 255, 255, 200), symbolPen=None)
        pi.addItem(self.path)
        self.current = pg.ScatterPlotItem(symbol="star", size=18, pen=pg.mkPen("#0e1116", width=1),
                                          brush=pg.mkBrush(theme.ACCENT))
        pi.addItem(self.current)
        self.message = pg.TextItem("", color=theme.MUTED, anchor=(0.5, 0.5))
        pi.addItem(self.message)

        self.mode_box = QtWidgets.QComboBox()
        for key in DIRECTION_MODES:
            self.mode_box.addItem(MODE_LABELS[key], key)
        self.mode_box.currentIndexChanged.connect(lambda i: self.set_mode(self.mode_box.itemData(i)))
        self.span_spin = _spin(0.01, 10.0, self._span, 0.1, decimals=2)
        self.span_spin.valueChanged.connect(self.set_span)
        self.res_spin = _spin(11, 101, self._resolution, 10)
        self.res_spin.valueChanged.connect(self.set_resolution)
        self.n_spin = _spin(50, 10000, self._n_examples, 500)
        self.n_spin.valueChanged.connect(self.set_examples)
        self.compute_button = QtWidgets.QPushButton("Compute slice")
        self.compute_button.clicked.connect(self._on_compute_clicked)
        self.auto_box = QtWidgets.QCheckBox(f"every {self._auto_period:.0f} s while training")
        self.auto_box.toggled.connect(self.set_auto_update)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)
        self.caption = QtWidgets.QLabel()  # the readout: the current point's cost, the slice's lowest
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.RichText)
        self.convention = QtWidgets.QLabel()
        self.convention.setProperty("muted", True)
        self.convention.setWordWrap(True)
        form = QtWidgets.QGridLayout()
        form.addWidget(QtWidgets.QLabel("Slice along"), 0, 0, 1, 4)
        form.addWidget(self.mode_box, 1, 0, 1, 4)
        for row, (a, wa, b, wb) in enumerate((("range ±", self.span_spin, "grid", self.res_spin),
                                               ("on", self.n_spin, "training examples", None)), start=2):
            form.addWidget(QtWidgets.QLabel(a), row, 0)
            form.addWidget(wa, row, 1)
            form.addWidget(QtWidgets.QLabel(b), row, 2, 1, 1 if wb is not None else 2)
            if wb is not None:
                form.addWidget(wb, row, 3)
        form.addWidget(self.compute_button, 4, 0, 1, 2)
        form.addWidget(self.auto_box, 5, 0, 1, 4)
        self.slice_page = _page(self.plot, [form, self.progress, self.caption, self.convention])

        # -------------------------------------------------------------- GD vs SGD: the curves | the controls
        self.cmp_n = _spin(100, 60000, 4000, 500)
        self.cmp_epochs = _spin(1, 200, 20)
        self.cmp_batch = _spin(1, 1000, 10)
        self.cmp_lr_full = _spin(0.01, 100.0, 1.5, 0.5, decimals=2)
        self.cmp_lr_sgd = _spin(0.01, 100.0, 1.5, 0.5, decimals=2)
        self.compare_button = QtWidgets.QPushButton("Run comparison")
        self.compare_button.clicked.connect(self._on_compare_clicked)
        form = QtWidgets.QGridLayout()
        head = QtWidgets.QLabel("<b>Full-batch gradient descent vs SGD</b>, from the same initial weights")
        head.setWordWrap(True)
        form.addWidget(head, 0, 0, 1, 4)
        for k, (label, w) in enumerate((("examples", self.cmp_n), ("epochs", self.cmp_epochs),
                                        ("η full", self.cmp_lr_full), ("η SGD", self.cmp_lr_sgd),
                                        ("SGD batch", self.cmp_batch))):
            form.addWidget(QtWidgets.QLabel(label), 1 + k // 2, 2 * (k % 2))
            form.addWidget(w, 1 + k // 2, 2 * (k % 2) + 1)
        form.addWidget(self.compare_button, 3, 2, 1, 2)
        self.plot_examples = self._curve_plot("examples processed")
        self.plot_time = self._curve_plot("wall time (s)")
        curves = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(curves)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot_examples)
        row.addWidget(self.plot_time)
        self.curve_items = {}
        legend = []
        for which, color, name in (("full", FULL_COLOR, "full batch (all examples, 1 step per epoch)"),
                                   ("sgd", SGD_COLOR, "SGD (mini-batches)")):
            for plot, key in ((self.plot_examples, "examples"), (self.plot_time, "time")):
                item = plot.plot([], [], pen=pg.mkPen(color, width=2), name=name, antialias=False,
                                 symbol="o" if which == "full" else None, symbolSize=5, symbolBrush=color,
                                 symbolPen=None)
                self.curve_items[(which, key)] = item
            legend.append(f"<span style='color:{color}'>━━</span> {name}")
        legend_label = QtWidgets.QLabel("<br>".join(legend))  # (beside the curves: a legend inside hid them)
        legend_label.setWordWrap(True)
        self.compare_summary = QtWidgets.QLabel(
            f"<span style='color:{theme.MUTED}'>“Run comparison” trains both, from the same random weights, in the "
            "background: full batch takes one careful step per pass over the examples, SGD hundreds of rough ones."
            "</span>"
        )
        self.compare_summary.setWordWrap(True)
        self.compare_summary.setTextFormat(Qt.RichText)
        self.compare_page = _page(curves, [form, legend_label, self.compare_summary])

        # a tall view shows both, one over the other; a short one (a dock of a small window) has a tab for each
        self._split = QtWidgets.QSplitter(Qt.Vertical)
        self._split.setChildrenCollapsible(False)
        self._tabs = QtWidgets.QTabWidget()
        self._tabs.setObjectName("landscapeTabs")
        self._tabs.setDocumentMode(True)
        root.addWidget(self._split)
        root.addWidget(self._tabs)
        self._tall: bool | None = None
        self._arrange(tall=False)
        self._update_convention()

    def _arrange(self, tall: bool) -> None:
        if tall == self._tall:
            return
        self._tall = tall
        pages = ((self.slice_page, "Cost slice"), (self.compare_page, "Full batch vs SGD"))
        for page, title in pages:
            if tall:
                self._tabs.removeTab(self._tabs.indexOf(page))
                self._split.addWidget(page)
                page.show()  # (the tabs had hidden the one behind)
            else:
                self._tabs.addTab(page, title)
        self._split.setVisible(tall)
        self._tabs.setVisible(not tall)
        if tall:
            self._split.setStretchFactor(0, 3)
            self._split.setStretchFactor(1, 2)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        self._arrange(tall=self.height() >= TALL_HEIGHT)

    def _curve_plot(self, xlabel: str):
        w = pg.PlotWidget()
        w.setMenuEnabled(False)
        p = w.getPlotItem()
        p.hideButtons()
        p.setLabel("bottom", xlabel)
        p.setLabel("left", "cost C")
        p.getAxis("bottom").enableAutoSIPrefix(False)
        w.setMinimumSize(160, 140)
        return w

    # ------------------------------------------------------------------ StudioView
    def set_snapshot(self, snapshot) -> None:
        net = snapshot.network
        self._network = net
        self._own_network = False
        self._step = int(snapshot.step)
        flat = net.flat_parameters()
        run = (getattr(snapshot, "generation", 0), getattr(snapshot, "edits", 0))
        if run != self._run:  # another run (rewind, reset, another network) or weights changed by hand
            new_network = run[0] != self._run[0]
            self._run = run
            self._ring.clear()
            self._path_xy = np.empty((0, 2))
            self._path_steps = np.empty(0, dtype=np.int64)
            if new_network and self.landscape is not None:
                self._clear_landscape()  # a slice through other weights means nothing for these
        elif self._ring.last_step is not None and self._step < self._ring.last_step:
            self._path_xy = np.empty((0, 2))
            self._path_steps = np.empty(0, dtype=np.int64)
        kept = self._ring.add(flat, self._step)
        if self.landscape is not None and self.landscape.centre.size != flat.size:
            self._clear_landscape()  # another architecture: the old slice means nothing now
        elif self.landscape is None and self._landscape_task is None:
            self._show_placeholder()  # (it said "No network yet" until now)
        if self.landscape is not None:
            land = self.landscape
            xy = land.project(flat)[0]  # one (2, 13002) product
            if kept:
                # follow the ring: drop what it thinned out (or all of it after a rewind), add the new point
                keep = np.isin(self._path_steps, self._ring.steps())
                self._path_xy = np.vstack([self._path_xy[keep], xy[None, :]])
                self._path_steps = np.append(self._path_steps[keep], self._step)
            self._draw_current(xy)
        if (self._auto and self._landscape_task is None and self._dataset is not None
                and time.monotonic() - self._last_compute >= self._auto_period
                and (self.landscape is None or self.landscape.step != self._step)
                and (self._mode != "pca" or len(self._ring) >= 3)):
            self._last_compute = time.monotonic()  # at most one attempt per period, even a refused one
            self.compute()

    def set_dataset(self, dataset) -> None:
        if dataset is self._dataset:
            return
        self.cancel()
        self.stop_comparison()
        self._dataset = dataset
        if self.landscape is not None:
            self._clear_landscape()  # it was measured on other examples
        n = int(dataset.n_train)
        self.cmp_n.setValue(min(self.cmp_n.value(), n) if n else self.cmp_n.value())
        self._update_convention()
        self._show_placeholder()

    # ------------------------------------------------------------------ public API
    @property
    def computing(self) -> bool:
        return self._landscape_task is not None

    @property
    def comparing(self) -> bool:
        return self._compare_task is not None

    @property
    def trajectory(self) -> TrajectoryRing:
        return self._ring

    @property
    def network(self) -> Network | None:
        return self._network

    def set_network(self, network: Network, step: int = 0) -> None:
        """Use ``network`` (for a standalone view; the window sends snapshots instead)."""
        from nnstudio.session.model import Snapshot

        self.set_snapshot(Snapshot(network.copy(), step=step))

    def set_mode(self, mode: str) -> None:
        if mode not in DIRECTION_MODES:
            self.statusMessage.emit(f"Unknown slice direction {mode!r}.")
            return
        changed = mode != self._mode
        self._mode = mode
        i = self.mode_box.findData(mode)
        if self.mode_box.currentIndex() != i:
            self.mode_box.blockSignals(True)
            self.mode_box.setCurrentIndex(i)
            self.mode_box.blockSignals(False)
        if changed:
            self.set_span(DEFAULT_SPAN[mode])

    def set_span(self, span: float) -> None:
        self._span = float(span)
        if abs(self.span_spin.value() - self._span) > 1e-9:
            self.span_spin.blockSignals(True)
            self.span_spin.setValue(self._span)
            self.span_spin.blockSignals(False)

    def set_resolution(self, n: int) -> None:
        self._resolution = int(n)
        if self.res_spin.value() != self._resolution:
            self.res_spin.blockSignals(True)
            self.res_spin.setValue(self._resolution)
            self.res_spin.blockSignals(False)

    def set_examples(self, n: int) -> None:
        self._n_examples = int(n)
        if self.n_spin.value() != self._n_examples:
            self.n_spin.blockSignals(True)
            self.n_spin.setValue(self._n_examples)
            self.n_spin.blockSignals(False)
        self._update_convention()

    def set_auto_update(self, on: bool, period: float | None = None) -> None:
        self._auto = bool(on)
        if period is not None:
            self._auto_period = max(0.0, float(period))
            self.auto_box.setText(f"every {self._auto_period:.0f} s while training")
        if self.auto_box.isChecked() != self._auto:
            self.auto_box.blockSignals(True)
            self.auto_box.setChecked(self._auto)
            self.auto_box.blockSignals(False)

    def subset(self):
        """The (X, labels) of the fixed training subset the slice is computed on."""
        return _subset(self._dataset, self._n_examples)

    def compute(self) -> bool:
        """Start computing a slice through the current weights (in the background)."""
        if self._dataset is None:
            return self._refuse("Choose a dataset first: the cost is measured on training examples.")
        if self._network is None:
            return self._refuse("No network yet: train or load one first.")
        net = self._network
        if net.sizes[0] != self._dataset.train_x.shape[1]:
            return self._refuse("The network and the dataset do not fit together (input sizes differ).")
        if self._mode == "pca" and len(self._ring) < 3:
            return self._refuse("The training path is too short: train a little first, then slice along it.")
        self.cancel()
        ds, n = self._dataset, self._n_examples
        mode, span, res, step = self._mode, self._span, self._resolution, self._step
        traj = self._ring.points() if mode == "pca" else None  # the ring is the GUI thread's: copy it
        seed = 1

        def work(task: Task):  # in the worker: the snapshot's network and the dataset are never mutated
            X, Y = _subset(ds, n)
            directions = make_directions(net, mode, X, Y, seed=seed, trajectory=traj)
            if task.checkpoint():
                raise Cancelled()
            land = compute_landscape(net, X, Y, directions, span=span, resolution=res,
                                     cancel=task.checkpoint, progress=task.progress.emit, step=step)
            # what only the picture needs is prepared here too, so the GUI thread just hands it over
            land.picture = smooth_grid(land.costs, 4)
            land.contour_xy = segments_xy(land.contours)
            return land

        task = self._start_task(work)
        self._landscape_task = task
        self.progress.setRange(0, res * res)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.compute_button.setText("Cancel")
        self.message.setText("")
        task.start(QtCore.QThread.LowPriority)
        return True

    def cancel(self) -> None:
        """Cancel a slice being computed (the worker stops within a few milliseconds)."""
        task = self._landscape_task
        self._landscape_task = None
        if task is not None:
            task.cancel()
            task.wait()
        self._landscape_idle()

    def run_comparison(self) -> bool:
        """Start full-batch GD vs SGD on the current dataset (in the background)."""
        if self._dataset is None:
            return self._refuse("Choose a dataset first.")
        self.stop_comparison()
        ds = self._dataset
        ref = self._network
        sizes = ref.sizes if ref is not None else (ds.train_x.shape[1], 16, 16, ds.n_classes)
        kw = dict(activation=ref.activation, cost=ref.cost) if ref is not None else {}
        kw.update(n_train=min(self.cmp_n.value(), ds.n_train), learning_rate_full=self.cmp_lr_full.value(),
                  learning_rate_sgd=self.cmp_lr_sgd.value(), batch_size=self.cmp_batch.value(),
                  epochs=self.cmp_epochs.value())
        self._curves = {"full": [], "sgd": []}
        self._curves_dirty = True
        self._y_top = None
        self.comparison = None
        # fixed ranges while it runs (a changing range re-lays the axes at every redraw)
        pe = self.plot_examples.getPlotItem()
        pe.setXRange(0, kw["n_train"] * kw["epochs"], padding=0.02)
        for w in (self.plot_examples, self.plot_time):
            w.getPlotItem().enableAutoRange(y=False)
        self.plot_time.getPlotItem().enableAutoRange(x=True)

        def work(task: Task):  # the set-up (copying the examples) happens in the worker too
            net_kw = {k: kw[k] for k in ("activation", "cost") if k in kw}
            run_kw = {k: v for k, v in kw.items() if k not in ("activation", "cost")}
            runner = GDvsSGD(Network(sizes, seed=0, **net_kw), ds.train_x, ds.train_labels, seed=0, **run_kw)
            return runner.run(cancel=task.checkpoint, on_point=task.point.emit)

        task = self._start_task(work)
        self._compare_task = task
        self.compare_button.setText("Stop")
        n, e = kw["n_train"], kw["epochs"]
        self.compare_summary.setText(
            f"Training both on {n:,} examples for {e} epochs' worth ({n * e:,} examples each)…"
        )
        task.start(QtCore.QThread.LowPriority)
        return True

    def stop_comparison(self) -> None:
        task = self._compare_task
        self._compare_task = None
        if task is not None:
            task.cancel()
            task.wait()
        self.compare_button.setText("Run comparison")

    def shutdown(self) -> None:
        """Cancel every worker and wait for it: no thread outlives the view."""
        for task in list(self._tasks):
            try:
                task.cancel()
                task.wait()
            except RuntimeError:  # already deleted by Qt
                pass
        self._landscape_task = None
        self._compare_task = None
        if self._tasks:
            _fast_gil_switching(False)
        self._tasks.clear()

    def running_threads(self) -> int:
        n = 0
        for task in list(self._tasks):
            try:
                n += bool(task.isRunning())
            except RuntimeError:
                pass
        return n

    # ------------------------------------------------------------------ workers
    def _start_task(self, fn) -> Task:
        # Bound slots of this view (not lambdas): queued to the GUI thread, and dropped by Qt
        # if the view is gone.  The slots tell the tasks apart with sender().
        task = Task(fn, self)
        if not self._tasks:
            _fast_gil_switching(True)
        self._tasks.add(task)
        task.progress.connect(self._task_progress)
        task.point.connect(self._task_point)
        task.succeeded.connect(self._task_succeeded)
        task.failed.connect(self._task_failed)
        task.finished.connect(self._task_finished)
        return task

    @Slot(int, int)
    def _task_progress(self, done: int, total: int) -> None:
        if self.sender() is self._landscape_task and self._landscape_task is not None:
            self._on_progress(done, total)

    @Slot(str, object)
    def _task_point(self, which: str, p) -> None:
        task = self.sender()
        if task is not None and task is self._compare_task:
            self._on_curve_point(task, which, p)

    @Slot(object)
    def _task_succeeded(self, result) -> None:
        task = self.sender()
        if task is None:
            return
        if task is self._landscape_task:
            self._on_landscape(task, result)
        elif task is self._compare_task:
            self._on_comparison(task, result)

    @Slot(str)
    def _task_failed(self, msg: str) -> None:
        task = self.sender()
        if task is None:
            return
        if task is self._landscape_task:
            self._on_landscape_failed(task, msg)
        elif task is self._compare_task:
            self._on_comparison_failed(task, msg)

    @Slot()
    def _task_finished(self) -> None:
        task = self.sender()
        if task is not None:
            if task in self._tasks:  # (not if shutdown() already let go of it)
                self._tasks.discard(task)
                if not self._tasks:
                    _fast_gil_switching(False)
            task.deleteLater()

    def _refuse(self, msg: str) -> bool:
        self.statusMessage.emit(msg)
        self.message.setText(msg)
        self._center_message()
        return False

    def _on_compute_clicked(self) -> None:
        if self._landscape_task is not None:
            self.cancel()
            self.statusMessage.emit("Slice cancelled.")
        else:
            self.compute()

    def _on_compare_clicked(self) -> None:
        if self._compare_task is not None:
            self.stop_comparison()
            self.compare_summary.setText(self.compare_summary.text() + " Stopped.")
        else:
            self.run_comparison()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    def _landscape_idle(self) -> None:
        self.progress.setVisible(False)
        self.compute_button.setText("Compute slice")

    def _on_landscape_failed(self, task: Task, msg: str) -> None:
        if task is not self._landscape_task:
            return
        self._landscape_task = None
        self._landscape_idle()
        self._refuse(msg)

    def _on_landscape(self, task: Task, land) -> None:
        if task is not self._landscape_task:
            return  # a cancelled or superseded slice
        self._landscape_task = None
        self._last_compute = time.monotonic()
        self._landscape_idle()
        self.landscape = land
        self._draw_landscape()
        self.statusMessage.emit(
            f"Cost slice: {len(land.alphas)}×{len(land.betas)} grid on {land.n_examples:,} examples "
            f"in {land.seconds:.2f} s"
        )
        self.landscapeReady.emit(land)

    def _on_curve_point(self, task: Task, which: str, p) -> None:
        if task is not self._compare_task:
            return
        self._curves[which].append(p)
        self._curves_dirty = True

    def _on_comparison(self, task: Task, res) -> None:
        if task is not self._compare_task:
            return
        self._compare_task = None
        self.compare_button.setText("Run comparison")
        self.comparison = res
        self._curves = {"full": list(res.full), "sgd": list(res.sgd)}
        self._curves_dirty = True
        self._flush_curves()
        self.compare_summary.setText(self._comparison_text(res))
        self.comparisonFinished.emit(res)

    def _on_comparison_failed(self, task: Task, msg: str) -> None:
        if task is not self._compare_task:
            return
        self._compare_task = None
        self.compare_button.setText("Run comparison")
        self.compare_summary.setText(f"<span style='color:{theme.BAD}'>{msg}</span>")
        self.statusMessage.emit(msg)

    # ------------------------------------------------------------------ drawing
    def _update_convention(self) -> None:
        net = self._network
        label = net.cost.label if net is not None else "C = Σ (a − y)²  (per example, no ½; averaged over examples)"
        n = self._n_examples if self._dataset is None else min(self._n_examples, self._dataset.n_train)
        self.convention.setText(
            f"Cost shown: {label} — on a fixed random subset of {n:,} training examples. "
            "A slice: only 2 of the network's directions, through its current weights."
        )

    def _clear_landscape(self) -> None:
        self.landscape = None
        self._path_xy = np.empty((0, 2))
        self._path_steps = np.empty(0, dtype=np.int64)
        self.image.clear()
        for item in (self.contours, self.path):
            item.setData([], [])
        for item in (self.lowest, self.current):
            item.setData([], [])
        self.caption.setText("")
        self._show_placeholder()

    def _show_placeholder(self) -> None:
        if self.landscape is None:
            if self._dataset is None:
                self.message.setText("Choose a dataset, then compute a slice.")
            elif self._network is None:
                self.message.setText("No network yet: train or load one, then compute a slice.")
            else:
                self.message.setText("Press “Compute slice”.")
            self._center_message()

    def _center_message(self) -> None:
        if self.landscape is None:
            self.plot.getPlotItem().setRange(xRange=(-1, 1), yRange=(-1, 1), padding=0)
            self.message.setPos(0, 0)
        else:
            self.message.setPos(0, 0)

    def _draw_landscape(self) -> None:
        land = self.landscape
        self._update_convention()
        a, b, C = land.alphas, land.betas, land.costs
        Z = getattr(land, "picture", None)
        if Z is None:
            Z = smooth_grid(C, 4)
        finite = np.isfinite(Z)
        lo = float(np.nanmin(Z[finite])) if finite.any() else 0.0
        hi = float(np.quantile(Z[finite], 0.95)) if finite.any() else 1.0
        if hi <= lo:
            hi = lo + 1e-9
        self.image.setImage(np.where(finite, Z, hi), levels=(lo, hi))
        self.colorbar.setLevels((lo, hi))
        self.image.setRect(QtCore.QRectF(a[0], b[0], a[-1] - a[0], b[-1] - b[0]))
        cx, cy = getattr(land, "contour_xy", None) or segments_xy(land.contours)
        self.contours.setData(cx, cy)
        ma, mb, mc = land.min_point
        self.lowest.setData([ma], [mb])
        pi = self.plot.getPlotItem()
        pi.setLabel("bottom", land.directions.label1)
        pi.setLabel("left", land.directions.label2)
        pi.setRange(xRange=(a[0], a[-1]), yRange=(b[0], b[-1]), padding=0)
        self.message.setText("")
        # the path: every ring snapshot projected onto the new plane
        self._path_xy = self._ring.project(land.directions, land.centre)
        self._path_steps = self._ring.steps()
        cur = land.project(self._network.flat_parameters())[0] if self._network is not None else np.zeros(2)
        self._draw_current(cur)
        caption = (
            f"<span style='color:{theme.ACCENT}'>★</span> current weights: C = <b>{land.centre_cost:.4f}</b> "
            f"(step {land.step:,}) &nbsp; × lowest in this slice: {mc:.4f} at ({ma:+.2f}, {mb:+.2f}) &nbsp; "
            f"<span style='color:{theme.MUTED}'>{len(a)}×{len(b)} grid in {land.seconds:.2f} s</span>"
        )
        if land.directions.mode == "gradient" and land.directions.eta_per_alpha:
            caption += (
                f"<br>Along α, a gradient-descent step of learning rate η lands at α = η·|∇C|/|θ|: "
                f"the cheapest point on this axis is a step of η ≈ {self._best_eta(land):.3g}."
            )
        elif land.directions.mode == "random":
            caption += (
                "<br><span style='color:{0}'>Random directions are almost perpendicular to the training path in "
                "13,002 dimensions, so the path (white) projects near the centre; slice along the path's main "
                "directions to see its shape.</span>".format(theme.MUTED)
            )
        self.caption.setText(caption)

    def _best_eta(self, land) -> float:
        j0 = int(np.argmin(np.abs(land.betas)))
        row = land.costs[j0]
        pos = land.alphas >= 0
        i = int(np.nanargmin(np.where(pos, row, np.inf)))
        return float(land.alphas[i]) * land.directions.eta_per_alpha

    def _draw_current(self, xy) -> None:
        self.current.setData([float(xy[0])], [float(xy[1])])
        P = self._path_xy
        if len(P):
            P = np.vstack([P, np.asarray(xy)[None, :]])
            self.path.setData(P[:, 0], P[:, 1])
        else:
            self.path.setData([], [])

    def _flush_curves(self) -> None:
        if not self._curves_dirty:
            return
        self._curves_dirty = False
        for which in ("full", "sgd"):
            pts = self._curves[which]
            xd = self.curve_items[(which, "examples")].xData
            n_drawn = 0 if xd is None else len(xd)
            if pts and len(pts) == n_drawn:
                continue  # unchanged
            if pts:
                ex = np.array([p.examples for p in pts], float)
                sec = np.array([p.seconds for p in pts], float)
                cost = np.array([p.cost for p in pts], float)
                ok = np.isfinite(cost)
                ex, sec, cost = ex[ok], sec[ok], cost[ok]
            else:
                ex = sec = cost = np.empty(0)
            self.curve_items[(which, "examples")].setData(ex, cost)
            self.curve_items[(which, "time")].setData(sec, cost)
            if cost.size:
                top = float(cost.max())
                if self._y_top is None or top > self._y_top:
                    self._y_top = top * 1.05
                    for w in (self.plot_examples, self.plot_time):
                        w.getPlotItem().setYRange(0, self._y_top, padding=0)

    @staticmethod
    def _comparison_text(res) -> str:
        def end(pts, name, color, diverged):
            if not pts:
                return ""
            p = pts[-1]
            d = " — <b>diverged</b> (η too large)" if diverged else ""
            return (f"<span style='color:{color}'>■</span> {name}: cost {p.cost:.3f} after {p.steps:,} steps, "
                    f"{p.examples:,} examples, {_seconds(p.seconds)}{d}")

        lines = [
            end(res.full, "full batch", FULL_COLOR, res.full_diverged),
            end(res.sgd, f"SGD (batch {res.batch_size})", SGD_COLOR, res.sgd_diverged),
        ]
        if res.full and res.sgd and not res.sgd_diverged:
            target = res.full[-1].cost
            hit = next((p for p in res.sgd if p.cost <= target), None)
            if hit is not None and hit.examples < res.full[-1].examples:
                lines.append(
                    f"SGD matched full batch's final cost after {hit.examples:,} examples and {_seconds(hit.seconds)} "
                    f"({res.full[-1].examples / max(hit.examples, 1):.0f}× fewer examples): many rough steps beat "
                    "a few careful ones."
                )
        return "<br>".join(x for x in lines if x) + (
            f"<br><span style='color:{theme.MUTED}'>Cost on {res.n_eval:,} of the {res.n_train:,} training "
            "examples; wall time counts the training steps only.</span>"
        )

    # ------------------------------------------------------------------ Qt
    def closeEvent(self, ev):
        self.shutdown()
        self._repaint.stop()
        super().closeEvent(ev)


#: While a worker computes, the GUI thread must win the GIL back quickly after every call
#: into Qt: with CPython's default 5 ms switch interval, a repaint that calls Python ~30
#: times can wait 5 ms each time (measured: 85–200 ms stalls during GD vs SGD; with 1 ms,
#: under 30 ms).  The view lowers the interval while its workers run and restores it after.
WORKER_SWITCH_INTERVAL = 0.001
_saved_switch_interval: list[float] = []


def _fast_gil_switching(on: bool) -> None:
    if on:
        if not _saved_switch_interval:
            _saved_switch_interval.append(sys.getswitchinterval())
            sys.setswitchinterval(min(WORKER_SWITCH_INTERVAL, _saved_switch_interval[0]))
        _saved_switch_interval.append(-1.0)  # one mark per view with running workers
    elif len(_saved_switch_interval) > 1:
        _saved_switch_interval.pop()
        if len(_saved_switch_interval) == 1:
            sys.setswitchinterval(_saved_switch_interval.pop())


def _spin(lo, hi, value, step=1, decimals=None):
    """A spin box (a double one when ``decimals`` is given)."""
    s = QtWidgets.QSpinBox() if decimals is None else QtWidgets.QDoubleSpinBox()
    if decimals is not None:
        s.setDecimals(decimals)
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setValue(value)
    return s


def _page(plots, side_items) -> QtWidgets.QWidget:
    """The plots with a column beside them: ``side_items`` (widgets and layouts) top to bottom, scrolling
    on their own when the column is taller than the page."""
    page = QtWidgets.QWidget()
    row = QtWidgets.QHBoxLayout(page)
    row.setContentsMargins(0, 4, 0, 0)
    row.addWidget(plots, 1)
    column = QtWidgets.QWidget()
    col = QtWidgets.QVBoxLayout(column)
    col.setContentsMargins(2, 0, 6, 0)
    for item in side_items:
        if isinstance(item, QtWidgets.QLayout):
            col.addLayout(item)
        else:
            col.addWidget(item)
    col.addStretch(1)
    scroll = QtWidgets.QScrollArea()
    scroll.setWidget(column)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    column.setFixedWidth(SIDE_WIDTH)
    scroll.setFixedWidth(SIDE_WIDTH + scroll.verticalScrollBar().sizeHint().width())
    row.addWidget(scroll)
    return page


def _seconds(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def _subset(dataset, n: int):
    idx = training_subset(dataset.n_train, n, seed=0)
    return dataset.train_x[idx], dataset.train_labels[idx]


__all__ = ["LandscapeView", "Task"]
