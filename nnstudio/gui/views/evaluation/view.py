""""What did it learn?": the test-set summary, mistakes, hidden neurons, noise and the dataset.

:class:`EvaluationView` is a :class:`~nnstudio.gui.views.base.StudioView` holding five tabs:

* **Summary**: accuracy, mean cost, accuracy per digit and the confusion matrix (click a
  cell to see its examples);
* **Mistakes**: every misclassified example with its true label, what the network read
  and how confident it was, sortable;
* **Hidden neurons**: each first-layer neuron's weights as a 28×28 image with the test
  images that excite it most; for deeper neurons the input found by gradient ascent that
  maximises them;
* **Noise test**: random noise, a blank image, a solid square: the network still answers;
* **Dataset**: page through the examples of each digit, and the average digit per class.

The numbers are computed by :mod:`nnstudio.components.evaluation` (the same code as
``nnstudio evaluate``) in a worker thread, once per epoch while training (when
``snapshot.epoch`` changes), when the model or dataset changes, or when the user asks;
never per snapshot.  Clicking any image emits ``inputRequested(InputExample)``.
The pages live in :mod:`nnstudio.gui.views.evaluation.pages`, their painted widgets in
:mod:`nnstudio.gui.views.evaluation.widgets`.
"""

from __future__ import annotations

import time

import numpy as np

from nnstudio.core import as_inputs
from nnstudio.components.evaluation import (
    Analysis,
    average_images,
    analyse,
    noise_examples,
    noise_statistics,
    noise_test,
)
from nnstudio.gui.style import theme
from nnstudio.gui.style.palette import apply_dark_palette
from nnstudio.gui.views.base import StudioView
from nnstudio.gui.views.evaluation.pages import (
    MINE,
    SPLITS,
    _SPLIT_WORDS,
    BrowserPage,
    MistakesPage,
    NeuronsPage,
    NoisePage,
    SummaryPage,
    _Result,
    _split_images,
)
from nnstudio.gui.tasks import JobRunner
from nnstudio.gui.qt import QtCore, QtWidgets, Signal
from nnstudio.session.model import InputExample

#: automatic evaluations start no sooner than this many times the last one's duration after it
BUSY_FACTOR = 5.0


def _run(snap) -> tuple:
    """Which network a snapshot shows, beyond its step: the run and the outside edits within it."""
    return (getattr(snap, "generation", 0), getattr(snap, "edits", 0))


class EvaluationView(StudioView):
    """What did it learn?  See the module docstring.

    API (besides the StudioView protocol): ``evaluate_now()``; ``report`` (the dict of
    ``nnstudio evaluate --json`` for the last evaluation, or None); ``analysis``;
    ``split`` / ``set_split("test"|"train")``; ``busy``; ``shutdown()`` (stop the worker;
    also done on close); signal ``evaluated(Analysis)`` after new results are shown.
    Automatic evaluations (epoch ends) start at most every ``min_interval`` seconds; the
    newest epoch wins, so a fast run on a small dataset does not keep a core busy.
    """

    title = "What did it learn?"
    evaluated = Signal(object)  # nnstudio.components.evaluation.Analysis
    myDigitRelabelled = Signal(int, int)  # the Dataset page's "my digits": (digit id, new label)
    myDigitDeleted = Signal(int)  # digit id

    def __init__(self, parent=None, *, top_k: int = 6, maximise_steps: int = 150, min_interval: float = 0.3):
        super().__init__(parent)
        self.setObjectName("EvaluationView")
        self._style()
        self.top_k = top_k
        self.maximise_steps = maximise_steps
        self._snapshot = None
        self._dataset = None
        self._split = "test"
        self._result: _Result | None = None
        self._wanted = None  # (epoch, step, network) last asked for
        self._wanted_run = None
        self._wanted_snapshot = None
        self.min_interval = min_interval  # seconds between two automatic evaluations
        self._last_submit = -1e9
        self._job_seconds = 0.0  # how long the last automatic evaluation took
        self._throttle = QtCore.QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.timeout.connect(lambda: self._submit_wanted())
        self._dirty = False  # an evaluation is due but the view was hidden
        self._stale = False
        self._noise_seed = 0
        self._watched_window = None
        self._mine_run = None  # the network (run, edits) my digits were last read with

        self.runner = JobRunner(self)
        self.runner.finished.connect(self._on_job_done)
        self.runner.failed.connect(self._on_job_failed)
        self.runner.busyChanged.connect(self._on_busy)
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

        self.summary = SummaryPage()
        self.mistakes = MistakesPage()
        self.neurons = NeuronsPage()
        self.noise = NoisePage()
        self.browser = BrowserPage()
        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setDocumentMode(True)
        self._pages = []
        for page, name, tip in (
            (self.summary, "Summary", "accuracy, cost, per-digit accuracy and the confusion matrix"),
            (self.mistakes, "Mistakes", "every misclassified image"),
            (self.neurons, "Hidden neurons", "what each neuron responds to"),
            (self.noise, "Noise test", "what it says about noise, a blank image, a square"),
            (self.browser, "Dataset", "browse the images; the average digit"),
        ):
            # each page scrolls as a whole when the dock is smaller than it needs, instead of squashing
            scroll = QtWidgets.QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
            scroll.setWidget(page)
            page.setObjectName("evalPage")
            scroll.viewport().installEventFilter(self)  # (a page that rearranges itself hears its width)
            self._pages.append(page)
            i = self.tabs.addTab(scroll, name)
            self.tabs.setTabToolTip(i, tip)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs)

        self.summary.evaluateClicked.connect(self.evaluate_now)
        self.summary.splitChanged.connect(self.set_split)
        self.summary.exampleClicked.connect(lambda i: self._request_example(self._result_split(), i))
        self.summary.bars.classClicked.connect(self._show_mistakes_of)
        self.mistakes.exampleClicked.connect(lambda i: self._request_example(self._result_split(), i))
        self.neurons.exampleClicked.connect(lambda i: self._request_example(self._result_split(), i))
        self.neurons.pixelsClicked.connect(lambda px, src: self._request_pixels(px, src, None))
        self.noise.pixelsClicked.connect(lambda px, src: self._request_pixels(px, src, None))
        self.noise.newNoiseClicked.connect(self._new_noise)
        self.browser.exampleClicked.connect(self._request_example)
        self.browser.mine.relabelled.connect(self.myDigitRelabelled)
        self.browser.mine.deleted.connect(self.myDigitDeleted)
        self.browser.pixelsClicked.connect(self._request_pixels)
        self.browser.split_combo.currentIndexChanged.connect(lambda _: self._ensure_averages())
        self.tabs.currentChanged.connect(self._on_tab)

    def _style(self) -> None:
        apply_dark_palette(self, window=theme.BACKGROUND, base=theme.PANEL)
        self.setStyleSheet(
            "#EvaluationView QTabWidget::pane { border: none; }"
            "#EvaluationView QTabBar::tab { background: %(panel)s; color: %(muted)s; padding: 5px 14px;"
            " border: 1px solid #30363d; border-bottom: none; border-top-left-radius: 5px;"
            " border-top-right-radius: 5px; margin-right: 2px; }"
            "#EvaluationView QTabBar::tab:selected { color: %(accent)s; background: %(bg)s; }"
            "#EvaluationView QPushButton, #EvaluationView QToolButton { background: #21262d; color: %(text)s;"
            " border: 1px solid #30363d; border-radius: 5px; padding: 3px 10px; }"
            "#EvaluationView QPushButton:hover, #EvaluationView QToolButton:hover { border-color: %(muted)s; }"
            "#EvaluationView QPushButton:disabled, #EvaluationView QToolButton:disabled { color: #484f58; }"
            "#EvaluationView QComboBox { background: #21262d; color: %(text)s; border: 1px solid #30363d;"
            " border-radius: 5px; padding: 2px 8px; }"
            "#EvaluationView QLabel { color: %(text)s; }"
            "#EvaluationView QScrollArea, #EvaluationView #evalPage { background: %(bg)s; }"
            "#EvaluationView #probeCard { background: %(panel)s; border: 1px solid #30363d; border-radius: 6px; }"
            "#EvaluationView #probeCard:hover { border-color: %(accent)s; }"
            % {"text": theme.TEXT, "muted": theme.MUTED, "accent": theme.ACCENT, "panel": theme.PANEL,
               "bg": theme.BACKGROUND}
        )

    # ------------------------------------------------------------------ StudioView protocol
    def set_snapshot(self, snapshot) -> None:
        self._snapshot = snapshot
        if snapshot is None:
            return
        if self._result is not None and getattr(self._result, "run", None) != _run(snapshot):
            # another network (a new run, an opened file, an adopted step): never show its numbers as
            # this one's, not even for the moment the new evaluation takes
            self._result = None
            self._show(None)
            self.summary.set_message("evaluating this network…")
        if self._due(snapshot):
            self._request()
        else:
            self._update_stale()
        if self.current_page() is self.neurons:
            self.neurons.set_network(snapshot.network)
        if self.current_page() is self.browser and self.browser.split == MINE and _run(snapshot) != self._mine_run:
            self._mine_run = _run(snapshot)  # (taught, undone, another network: read my digits again)
            self.browser.set_network(snapshot.network)

    def set_input(self, example) -> None:
        """Nothing to show for the current input: this view is about the whole test set."""

    def set_my_digits(self, digits, path: str = "") -> None:
        """The user's own digits (the session's MyDigits), for the Dataset page."""
        self.browser.set_my_digits(digits, path)

    def set_network_label(self, label: str) -> None:
        self.summary.network_label = label
        if self._result is not None:
            self.summary.set_when(self._result, self._stale)

    def set_run_state(self, state: str) -> None:
        """Training paused (or finished): evaluate the network as it is now, if it moved on since."""
        snap, res = self._snapshot, self._result
        if state in ("paused", "finished") and snap is not None and self.browser.split == MINE:
            self.browser.set_network(snap.network)  # (what it reads my digits as, now)
        if state in ("paused", "finished") and snap is not None and (res is None or res.step != snap.step
                                                                     or getattr(res, "run", None) != _run(snap)):
            self._request()

    def set_dataset(self, dataset) -> None:
        if dataset is self._dataset:
            return
        self._dataset = dataset
        self._result = None
        self._show(None)
        self.browser.set_dataset(dataset)
        self._ensure_averages()
        if self._snapshot is not None:
            self._request()

    # ------------------------------------------------------------------ API
    def current_page(self) -> QtWidgets.QWidget:
        """The page shown (``summary``, ``mistakes``, ``neurons``, ``noise`` or ``browser``)."""
        i = self.tabs.currentIndex()
        return self._pages[i] if 0 <= i < len(self._pages) else None

    def show_page(self, page: QtWidgets.QWidget) -> None:
        self.tabs.setCurrentIndex(self._pages.index(page))

    @property
    def report(self) -> dict | None:
        """The numbers shown, as ``nnstudio evaluate --json`` prints them (without model/dataset/split)."""
        return None if self._result is None else self._result.analysis.report()

    @property
    def analysis(self) -> Analysis | None:
        return None if self._result is None else self._result.analysis

    @property
    def split(self) -> str:
        return self._split

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def set_split(self, split: str) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}")
        if self.summary.split_combo.currentIndex() != SPLITS.index(split):
            self.summary.split_combo.setCurrentIndex(SPLITS.index(split))  # re-enters via splitChanged
            return
        if split != self._split:
            self._split = split
            self.evaluate_now()

    def evaluate_now(self) -> None:
        """Evaluate the latest network now (the user asked)."""
        if self._snapshot is not None:
            self._request(force=True)

    def shutdown(self) -> None:
        """Stop any running evaluation and wait for the worker thread: nothing is left running."""
        if self.runner.busy or self._throttle.isActive():
            self._dirty = True  # evaluate again when shown again
        self._throttle.stop()
        self.runner.shutdown()

    # ------------------------------------------------------------------ scheduling
    def _due(self, snap) -> bool:
        """Evaluate at each epoch end, or when the network was replaced (rewind, reset, load); never per snapshot."""
        w = self._wanted
        if w is None:
            return True
        epoch, step, net = w
        if snap.epoch != epoch or snap.step < step or _run(snap) != self._wanted_run:
            return True
        if snap.step == step and snap.network is not net:
            if snap.network.sizes != net.sizes:
                return True
            return not all(np.array_equal(a, b) for a, b in zip(snap.network.params, net.params))
        return False

    def _update_stale(self) -> None:
        res, snap = self._result, self._snapshot
        stale = res is not None and snap is not None and snap.step != res.step
        if stale != self._stale:
            self._stale = stale
            self.summary.set_when(res, stale)

    def _request(self, force: bool = False) -> None:
        snap = self._snapshot
        self._wanted = (snap.epoch, snap.step, snap.network)
        self._wanted_run = _run(snap)
        self._wanted_snapshot = snap
        self._submit_wanted(force)

    def _submit_wanted(self, force: bool = False) -> None:
        snap, ds = self._wanted_snapshot, self._dataset
        if snap is None or ds is None:
            return
        net = snap.network
        if net.sizes[0] != ds.test_images[0].size or net.sizes[-1] != len(ds.class_names):
            self._result = None
            self._show(None)
            self.summary.set_message(
                f"a {'-'.join(map(str, net.sizes))} network cannot read {ds.name} "
                f"({ds.test_images[0].size} pixels, {len(ds.class_names)} classes)")
            return
        if not self.isVisible() and not force:
            self._dirty = True
            return
        if not force:
            # epochs of a small dataset can end many times a second: evaluate at most every min_interval s
            # and keep this view's thread busy a fifth of the time at most: it shares the GIL
            # with the GUI thread, which must stay responsive while training runs at full speed
            gap = max(self.min_interval, BUSY_FACTOR * self._job_seconds)
            wait = self._last_submit + gap - time.monotonic()
            if wait > 0:
                if not self._throttle.isActive():
                    self._throttle.start(int(1000 * wait) + 1)
                return
        self._throttle.stop()
        self._dirty = False
        self._last_submit = time.monotonic()
        split, top_k, steps, seed = self._split, self.top_k, self.maximise_steps, self._noise_seed
        images, labels = _split_images(ds, split)
        n_classes = len(ds.class_names)
        epoch, step, run = snap.epoch, snap.step, _run(snap)

        def job(should_stop):
            t0 = time.perf_counter()
            an = analyse(net, images, labels, n_classes, top_k=top_k, maximise_steps=steps, noise_seed=seed,
                         should_stop=should_stop)
            self._job_seconds = time.perf_counter() - t0  # (a float: written whole, read on the GUI thread)
            res = _Result(an, ds, split, epoch, step, net)
            res.run = run
            return res

        self.runner.submit("analysis", job)

    def _ensure_averages(self) -> None:
        ds, split = self._dataset, self.browser.split
        if ds is None or split == MINE or self.browser.has_averages(split):
            return
        images, labels = _split_images(ds, split)
        n = len(ds.class_names)

        def job(should_stop):
            return ds, split, average_images(images, labels, n, should_stop)

        self.runner.submit(f"averages-{split}", job)

    # ------------------------------------------------------------------ results
    def _on_job_done(self, name: str, result) -> None:
        if name == "analysis":
            if result.dataset is not self._dataset or result.split != self._split:
                return  # computed for a dataset or split no longer shown
            snap = self._snapshot
            if snap is not None and result.run != _run(snap):
                return  # computed for a network no longer shown (its replacement is being evaluated)
            self._result = result
            self._stale = False
            self._show(result)
            self._update_stale()
            rep = result.analysis.report()
            self.statusMessage.emit(
                f"Evaluated after epoch {result.epoch}: {100 * rep['accuracy']:.2f}% of {rep['total']:,} "
                f"{_SPLIT_WORDS[result.split]} images read correctly, mean cost {rep['mean_cost']:.4f}")
            self.evaluated.emit(result.analysis)
        elif name.startswith("averages-"):
            ds, split, avg = result
            if ds is self._dataset:
                self.browser.set_averages(split, avg)

    def _on_job_failed(self, name: str, message: str) -> None:
        self.statusMessage.emit(f"Evaluation failed: {message}")
        if name == "analysis":
            self.summary.set_message(f"evaluation failed: {message}")

    def _on_busy(self, busy: bool) -> None:
        self.summary.busy_label.setText("evaluating…" if busy else "")

    def _show(self, res: _Result | None) -> None:
        names = self._dataset.class_names if self._dataset is not None else tuple(str(i) for i in range(10))
        self.summary.show_result(res, names)
        self.mistakes.show_result(res, names)
        self.neurons.show_result(res)
        if res is not None:
            an = res.analysis
            self.noise.show_probes(an.probes, an.noise, an.noise_examples, names)
        self.browser.show_result(res)

    def _result_split(self) -> str:
        return self._result.split if self._result is not None else self._split

    def _show_mistakes_of(self, k: int) -> None:
        self.mistakes.show_class(k)
        self.show_page(self.mistakes)

    def _new_noise(self) -> None:
        net = self._snapshot.network if self._snapshot is not None else None
        if net is None or self._dataset is None:
            return
        self._noise_seed += 1
        seed = self._noise_seed
        self.noise.show_probes(noise_test(net, seed), noise_statistics(net, 1000, seed), noise_examples(net, 24, seed),
                               self._dataset.class_names)

    def _on_tab(self, _i: int) -> None:
        if self.current_page() is self.neurons and self._snapshot is not None:
            self.neurons.set_network(self._snapshot.network)
        if self.current_page() is self.browser and self._snapshot is not None:
            self.browser.set_network(self._snapshot.network)

    # ------------------------------------------------------------------ input requests
    def _request_example(self, split: str, index: int) -> None:
        ds = self._dataset
        mine = self.browser.my_digits
        if split == MINE and mine is not None and index in mine.ids:
            i = mine.index_of(index)
            self.inputRequested.emit(InputExample(pixels=as_inputs(mine.x[i])[0].copy(), label=int(mine.labels[i]),
                                                  source=f"my digit #{index}"))
            return
        if ds is None or split == MINE:
            return
        images, labels = _split_images(ds, split)
        pixels = as_inputs(images[index].reshape(-1))[0].copy()
        self.inputRequested.emit(InputExample(pixels=pixels, label=int(labels[index]), source=f"{split} #{index}",
                                              index=int(index), split=split))

    def _request_pixels(self, pixels, source: str, label) -> None:
        self.inputRequested.emit(InputExample(pixels=np.asarray(pixels, dtype=np.float64).reshape(-1),
                                              label=label, source=source))

    # ------------------------------------------------------------------ lifetime
    def showEvent(self, e) -> None:
        super().showEvent(e)
        win = self.window()
        if win is not self and win is not self._watched_window:
            if self._watched_window is not None:
                self._watched_window.removeEventFilter(self)
            win.installEventFilter(self)
            self._watched_window = win
        if self._dirty and self._snapshot is not None:
            self._request()
        self._ensure_averages()

    def eventFilter(self, obj, e) -> bool:
        if obj is self._watched_window and e.type() == QtCore.QEvent.Type.Close:
            self.shutdown()
        elif e.type() == QtCore.QEvent.Type.Resize and isinstance(obj.parentWidget(), QtWidgets.QScrollArea):
            page = obj.parentWidget().widget()
            if hasattr(page, "fit_width"):
                page.fit_width(obj.width())
        return False

    def closeEvent(self, e) -> None:
        self.shutdown()
        super().closeEvent(e)
