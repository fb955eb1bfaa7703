"""The five pages of the "What did it learn?" view, each showing one side of an evaluation.

* :class:`SummaryPage`: accuracy, mean cost, accuracy per digit and the confusion matrix;
* :class:`MistakesPage`: every misclassified example, sortable and filtered by true digit;
* :class:`NeuronsPage`: what each neuron responds to (its weights, or the input that maximises it);
* :class:`NoisePage`: noise, a blank image, a solid square: the network still answers;
* :class:`BrowserPage`: the dataset page by page, and the average digit per class; and "my digits", the
  drawings the user taught on the pad, to review, relabel and delete (:class:`MyDigitsBox`).

They show a :class:`_Result` (an analysis and what it was computed for) and report clicks as
signals; :class:`~nnstudio.gui.views.evaluation.view.EvaluationView` computes and wires them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from nnstudio.components.evaluation import PROBES, Analysis, class_indices
from nnstudio.gui.style import theme
from nnstudio.gui.views.evaluation.widgets import (
    CardFlow,
    ClassBars,
    ConfusionMatrixWidget,
    GalleryItem,
    NeuronCard,
    NeuronGrid,
    ProbeCard,
    ThumbnailGallery,
)
from nnstudio.gui.widgets.output_bars import OutputBars
from nnstudio.gui.qt import QtCore, QtWidgets, Qt, Signal

SPLITS = ("test", "train")
_SPLIT_WORDS = {"test": "test", "train": "training"}
MINE = "mine"  #: the dataset browser's third choice: the user's own digits


def _muted(text: str = "", size: str = "9pt") -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text)
    lab.setStyleSheet(f"color: {theme.MUTED}; font-size: {size};")
    lab.setWordWrap(True)
    return lab


def _split_images(dataset, split):
    return (dataset.test_images, dataset.test_labels) if split == "test" else (dataset.train_images, dataset.train_labels)


@dataclass(eq=False)
class _Result:
    """An analysis and what it was computed for."""

    analysis: Analysis
    dataset: object  # the Dataset evaluated
    split: str  # "test" or "train"
    epoch: int
    step: int
    network: object  # the Network evaluated


# --------------------------------------------------------------------------- pages
class SummaryPage(QtWidgets.QWidget):
    exampleClicked = Signal(int)  # index in the evaluated split
    evaluateClicked = Signal()
    splitChanged = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.network_label = ""  # the studio's name for its network
        self.accuracy_label = QtWidgets.QLabel("–")
        self.accuracy_label.setStyleSheet(f"color: {theme.TEXT}; font-size: 26pt; font-weight: 600;")
        self.accuracy_label.setToolTip("fraction of the images whose brightest output neuron is the right digit")
        self.correct_label = QtWidgets.QLabel("not evaluated yet")
        self.correct_label.setStyleSheet(f"color: {theme.TEXT}; font-size: 11pt;")
        self.correct_label.setWordWrap(True)
        self.cost_label = _muted("")
        self.cost_label.setToolTip("the cost of one image is C = Σ (a − y)² over the ten outputs (no ½); "
                                   "this is its average over the images")
        self.when_label = _muted("")
        self.split_combo = QtWidgets.QComboBox()
        self.split_combo.addItems(["test set", "training set"])
        self.split_combo.setToolTip("which images to evaluate on (the test set is never trained on)")
        self.split_combo.currentIndexChanged.connect(lambda i: self.splitChanged.emit(SPLITS[i]))
        self.evaluate_button = QtWidgets.QPushButton("Evaluate now")
        self.evaluate_button.setToolTip("evaluate the current network now (otherwise this happens at each epoch end)")
        self.evaluate_button.clicked.connect(self.evaluateClicked)
        self.busy_label = _muted("")

        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.accuracy_label)
        text = QtWidgets.QVBoxLayout()
        text.setSpacing(1)
        text.addWidget(self.correct_label)
        text.addWidget(self.cost_label)
        text.addWidget(self.when_label)
        head.addSpacing(10)
        head.addLayout(text, 1)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(self.split_combo)
        side.addWidget(self.evaluate_button)
        side.addWidget(self.busy_label)
        side.addStretch(1)
        head.addLayout(side)

        self.confusion = ConfusionMatrixWidget()
        self.confusion.cellClicked.connect(self._on_cell)
        self.bars = ClassBars()
        conf_box = QtWidgets.QVBoxLayout()
        conf_box.addWidget(self._title("Confusion matrix"))
        conf_box.addWidget(_muted("rows: the true digit; columns: what the network read. "
                                  "Blue: correct, red: mistakes. Click a cell to see its images."))
        conf_box.addWidget(self.confusion, 1)
        bar_box = QtWidgets.QVBoxLayout()
        bar_box.addWidget(self._title("Read correctly, per digit"))
        bar_box.addWidget(_muted("the dashed yellow line is the overall accuracy; the weakest digit is red"))
        bar_box.addWidget(self.bars, 1)
        # the matrix and the bars side by side when the page is wide enough for both, stacked when not
        self.mid = mid = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight)
        mid.setSpacing(12)
        mid.addLayout(conf_box, 3)
        mid.addLayout(bar_box, 2)

        self.cell_label = _muted("Click a cell of the matrix to see those images here; click an image to load it.")
        self.cell_gallery = ThumbnailGallery(scale=2)
        self.cell_gallery.setFixedHeight(self.cell_gallery.rows_height(1))  # (one row; more scroll)
        self.cell_gallery.itemClicked.connect(lambda i: self.exampleClicked.emit(self.cell_gallery.items()[i].key))

        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addLayout(head)
        lay.addLayout(mid, 1)
        lay.addWidget(self.cell_label)
        lay.addWidget(self.cell_gallery)
        self._result: _Result | None = None
        self._shown_width = 0

    def event(self, e):
        if e.type() == QtCore.QEvent.Type.LayoutRequest and self._shown_width:
            self.fit_width(self._shown_width)  # (the matrix grew or shrank with its counts)
        return super().event(e)

    def fit_width(self, width: int) -> None:
        """The width its scroll area shows: the matrix and the bars side by side if both fit, stacked if not."""
        self._shown_width = width
        D = QtWidgets.QBoxLayout.Direction
        m = self.layout().contentsMargins()
        need = (sum(self.mid.itemAt(i).minimumSize().width() for i in range(self.mid.count()))
                + self.mid.spacing() + m.left() + m.right())
        d = D.LeftToRight if width >= need else D.TopToBottom
        if self.mid.direction() != d:
            self.mid.setDirection(d)

    @staticmethod
    def _title(text):
        lab = QtWidgets.QLabel(text)
        lab.setStyleSheet(f"color: {theme.TEXT}; font-size: 11pt; font-weight: 600;")
        return lab

    def show_result(self, res: _Result | None, class_names) -> None:
        self._result = res
        self.cell_gallery.set_items([])
        if res is None:
            self.accuracy_label.setText("–")
            self.correct_label.setText("not evaluated yet")
            self.cost_label.setText("")
            self.when_label.setText("")
            self.confusion.set_matrix(None, class_names)
            self.bars.set_values([], class_names)
            return
        rep = res.analysis.report()
        words = _SPLIT_WORDS[res.split]
        self.accuracy_label.setText(f"{100 * rep['accuracy']:.2f}%")
        self.correct_label.setText(f"{rep['correct']:,} of {rep['total']:,} {words} images read correctly "
                                   f"({res.dataset.name})")
        self.cost_label.setText(f"mean cost {rep['mean_cost']:.4f}   (cost of one image: C = Σ (a − y)², "
                                "averaged over the images)" if res.network.cost.name == "quadratic" else
                                f"mean cost {rep['mean_cost']:.4f}   ({res.network.cost.name} cost, "
                                "averaged over the images)")
        self.set_when(res, stale=False)
        self.confusion.set_matrix(rep["confusion"], class_names)
        self.bars.set_values(rep["per_digit"], class_names, rep["accuracy"])
        self.cell_label.setText("Click a cell of the matrix to see those images here; click an image to load it.")

    def set_when(self, res: _Result, stale: bool) -> None:
        name = self.network_label or "the network"
        if res.step:
            when = f"{name} after {res.epoch} epoch{'s' if res.epoch != 1 else ''} of this run ({res.step:,} mini-batches)"
        else:  # (a network opened or created as it is: its training, if any, happened elsewhere)
            when = f"{name}, as it is (not trained in this run yet)"
        text = f"{when} · computed in {1000 * res.analysis.seconds:.0f} ms"
        if stale:
            text += (f" · <span style='color:{theme.ACCENT}'>training has moved on: "
                     "updated at the next epoch end, or click Evaluate now</span>")
        self.when_label.setText(text)

    def set_message(self, text: str) -> None:
        self.accuracy_label.setText("–")
        self.correct_label.setText(text)
        self.cost_label.setText("")
        self.when_label.setText("")

    def _on_cell(self, t: int, p: int) -> None:
        res = self._result
        if res is None:
            return
        ev = res.analysis.evaluation
        idx = ev.cell(t, p)
        images, _ = _split_images(res.dataset, res.split)
        names = res.dataset.class_names
        conf = ev.confidences
        items = [
            GalleryItem(images[i], f"#{i}", f"{conf[i]:.2f}", theme.GOOD if t == p else theme.BAD,
                        f"{res.split} #{i}: a {names[t]} read as {names[p]} (activation {conf[i]:.2f}); "
                        "click to load it", key=int(i))
            for i in idx
        ]
        what = "read correctly" if t == p else f"read as {names[p]}"
        self.cell_label.setText(
            f"True {names[t]}, {what}: {len(idx):,} image{'s' if len(idx) != 1 else ''}"
            + (" (most confident first; click one to load it)" if len(idx) else ""))
        self.cell_gallery.set_items(items)


class MistakesPage(QtWidgets.QWidget):
    exampleClicked = Signal(int)

    ORDERS = (
        ("most confident first", "confidence", True),
        ("least confident first", "confidence", False),
        ("by true digit", "label", True),
        ("by what it read", "predicted", True),
        ("in dataset order", "index", True),
    )

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header = QtWidgets.QLabel("not evaluated yet")
        self.header.setStyleSheet(f"color: {theme.TEXT}; font-size: 11pt;")
        self.header.setWordWrap(True)
        self.sort_combo = QtWidgets.QComboBox()
        self.sort_combo.addItems([o[0] for o in self.ORDERS])
        self.sort_combo.setToolTip("confidence: the activation of the winning (wrong) output neuron")
        self.filter_combo = QtWidgets.QComboBox()
        self.filter_combo.addItem("all digits")
        self.sort_combo.currentIndexChanged.connect(lambda _: self._fill())
        self.filter_combo.currentIndexChanged.connect(lambda _: self._fill())
        self.gallery = ThumbnailGallery(scale=2, min_text_width=52)
        self.gallery.set_placeholder("not evaluated yet")
        self.gallery.itemClicked.connect(lambda i: self.exampleClicked.emit(self.gallery.items()[i].key))
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.header, 1)
        row.addWidget(QtWidgets.QLabel("sort:"))
        row.addWidget(self.sort_combo)
        row.addWidget(QtWidgets.QLabel("true digit:"))
        row.addWidget(self.filter_combo)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addLayout(row)
        lay.addWidget(_muted("Each image shows true → read as, and below it the activation of the winning output "
                             "neuron (how sure the network was). Click one to load it into the pad, the diagram "
                             "and the backprop explorer."))
        lay.addWidget(self.gallery, 1)
        self._result: _Result | None = None

    def show_result(self, res: _Result | None, class_names) -> None:
        self._result = res
        keep = self.filter_combo.currentIndex()
        self.filter_combo.blockSignals(True)
        self.filter_combo.clear()
        self.filter_combo.addItem("all digits" if len(class_names) == 10 and class_names[0] == "0" else "all classes")
        self.filter_combo.addItems(list(class_names))
        self.filter_combo.setCurrentIndex(keep if 0 <= keep < self.filter_combo.count() else 0)
        self.filter_combo.blockSignals(False)
        self._fill()

    def show_class(self, k: int) -> None:
        self.filter_combo.setCurrentIndex(k + 1)

    def _fill(self) -> None:
        res = self._result
        if res is None:
            self.header.setText("not evaluated yet")
            self.gallery.set_items([])
            return
        _, order, desc = self.ORDERS[self.sort_combo.currentIndex()]
        ev = res.analysis.evaluation
        mistakes = ev.misclassified(order, desc)
        total = len(mistakes)
        want = self.filter_combo.currentIndex() - 1
        if want >= 0:
            mistakes = [m for m in mistakes if m.label == want]
        images, _ = _split_images(res.dataset, res.split)
        names = res.dataset.class_names
        self.gallery.set_items([
            GalleryItem(images[m.index], f"{names[m.label]} → {names[m.predicted]}", f"{m.confidence:.2f}", theme.BAD,
                        f"{res.split} #{m.index}: a {names[m.label]} read as {names[m.predicted]} "
                        f"(activation {m.confidence:.2f}); click to load it", key=m.index)
            for m in mistakes
        ])
        words = _SPLIT_WORDS[res.split]
        text = f"{total:,} of {ev.total:,} {words} images are read wrongly"
        if want >= 0:
            text += f"; {len(mistakes):,} of them are {names[want]}s"
        self.header.setText(text)
        self.gallery.set_placeholder("no mistakes here" if res else "not evaluated yet")


class NeuronsPage(QtWidgets.QWidget):
    exampleClicked = Signal(int)
    pixelsClicked = Signal(object, str)  # pixels, source

    NOTE_FIRST = ("Each first-layer neuron computes a weighted sum of the 784 pixels. Its weights, drawn as a 28×28 "
                  "image: <b style='color:#58c4dd'>blue</b> pixels push it to fire, "
                  "<b style='color:#fc6255'>red</b> ones hold it back. Next to it, the test images that excite it "
                  "most (with its activation). The videos hoped for little edges and loops; look at what it "
                  "actually learned.")
    NOTE_DEEP = ("What does this neuron want? Each big image is the input found by gradient ascent: starting from a dim "
                 "grey, every pixel is nudged along ∂z/∂pixel (backpropagation taken all the way to the input) to "
                 "make the neuron's weighted sum as large as possible. Honest note: these rarely look like strokes, "
                 "edges or digits. The network found its own way to separate digits, not the tidy "
                 "one we imagined. Click a big image to feed it to the network.")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.layer_combo = QtWidgets.QComboBox()
        self.layer_combo.currentIndexChanged.connect(lambda _: self._fill())
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        self.note.setStyleSheet(f"color: {theme.MUTED}; font-size: 9pt;")
        self.grid = NeuronGrid()
        self.grid.thumbClicked.connect(self._on_thumb)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("layer:"))
        row.addWidget(self.layer_combo)
        row.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addLayout(row)
        lay.addWidget(self.note)
        lay.addWidget(self.grid, 1)
        self._result: _Result | None = None
        self._network = None
        self._layers: list[int] = []

    @property
    def layer(self) -> int | None:
        i = self.layer_combo.currentIndex()
        return self._layers[i] if 0 <= i < len(self._layers) else None

    def set_layer(self, layer: int) -> None:
        self.layer_combo.setCurrentIndex(self._layers.index(layer))

    def show_result(self, res: _Result | None) -> None:
        self._result = res
        if res is not None:
            self._network = res.network
        sizes = res.network.sizes if res is not None else ()
        layers = list(range(1, len(sizes)))
        if layers != self._layers:
            keep = self.layer
            self._layers = layers
            self.layer_combo.blockSignals(True)
            self.layer_combo.clear()
            for l in layers:
                kind = "output" if l == len(sizes) - 1 else ("first hidden" if l == 1 else "hidden")
                self.layer_combo.addItem(f"layer {l} ({kind}, {sizes[l]} neurons)")
            if keep in layers:
                self.layer_combo.setCurrentIndex(layers.index(keep))
            self.layer_combo.blockSignals(False)
        self._fill()

    def set_network(self, network) -> None:
        """Live weights (first layer only): the weight images follow training at display rate."""
        self._network = network
        if self.layer == 1 and self._result is not None and self.isVisible():
            self._fill(keep_scroll=True)

    def _fill(self, keep_scroll: bool = True) -> None:
        res = self._result
        layer = self.layer
        if res is None or layer is None:
            self.note.setText("not evaluated yet")
            self.grid.set_cards([])
            return
        names = res.dataset.class_names
        an = res.analysis
        images, _ = _split_images(res.dataset, res.split)
        top = an.top.get(layer)
        out_layer = len(res.network.sizes) - 1
        cards = []
        n = res.network.sizes[layer]
        for j in range(n):
            thumbs = []
            if top is not None:
                thumbs = [(images[i], f"{a:.2f}") for i, a in zip(top.indices[j], top.activations[j])]
            label = f"output neuron “{names[j]}”" if layer == out_layer and j < len(names) else f"neuron {j}"
            if layer == 1:
                net = self._network if self._network is not None and self._network.sizes == res.network.sizes \
                    else res.network
                w = net.weights[0][j]
                side = int(round(np.sqrt(w.size)))
                cards.append(NeuronCard(
                    label, "its weights · the test images that excite it most:",
                    theme.weight_image(w.reshape(side, side)), thumbs, "weights",
                    f"layer 1 {label}: bias {net.biases[0][j]:+.2f}; weights from −{np.abs(w).max():.2f} (red) "
                    f"to +{np.abs(w).max():.2f} (blue)"))
            else:
                m = an.maximised.get(layer)
                if m is None:
                    continue
                cards.append(NeuronCard(
                    label, f"a = {m.activations[j]:.2f} on the input it wants (blank: "
                    f"{m.blank_activations[j]:.2f}) · top test images:",
                    m.pixels[j].reshape(28, 28), thumbs, f"a = {m.activations[j]:.2f}",
                    f"layer {layer} {label}: activation {m.activations[j]:.3f} on this input, "
                    f"{m.blank_activations[j]:.3f} on a blank one; click the image to load it"))
        self.note.setText(self.NOTE_FIRST if layer == 1 else self.NOTE_DEEP)
        self.grid.set_cards(cards, keep_scroll=keep_scroll)

    def _on_thumb(self, card: int, slot: int) -> None:
        res, layer = self._result, self.layer
        if res is None or layer is None:
            return
        if slot >= 0:
            self.exampleClicked.emit(int(res.analysis.top[layer].indices[card, slot]))
        elif layer > 1:
            m = res.analysis.maximised[layer]
            out = layer == len(res.network.sizes) - 1
            who = f"output “{res.dataset.class_names[card]}”" if out else f"layer {layer} neuron {card}"
            self.pixelsClicked.emit(m.pixels[card].copy(), f"input that maximises {who}")


class NoisePage(QtWidgets.QWidget):
    pixelsClicked = Signal(object, str)
    newNoiseClicked = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        intro = QtWidgets.QLabel(
            "A network trained only on digits has no way to say “that is not a digit”. Feed it random noise, "
            "an empty image or a solid square and it still lights up its output neurons and names a digit, "
            "sometimes with great confidence, as the videos point out. Click any image to load it everywhere.")
        intro.setWordWrap(True)
        intro.setStyleSheet(f"color: {theme.TEXT}; font-size: 10pt;")
        self.new_button = QtWidgets.QPushButton("New noise")
        self.new_button.setToolTip("draw new random noise and ask again")
        self.new_button.clicked.connect(self.newNoiseClicked)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(intro, 1)
        top.addWidget(self.new_button, 0, Qt.AlignmentFlag.AlignTop)
        self.cards: dict[str, ProbeCard] = {}
        self.card_flow = row = CardFlow()  # (as many in a row as the width holds; more rows when narrow)
        for name in PROBES:
            card = ProbeCard(name)
            card.clicked.connect(lambda n=name: self._on_card(n))
            self.cards[name] = card
            row.addWidget(card)
        self.stats_label = QtWidgets.QLabel()
        self.stats_label.setWordWrap(True)
        self.stats_label.setStyleSheet(f"color: {theme.TEXT}; font-size: 10pt;")
        self.stats_bars = OutputBars(layout="columns", show_values=True)
        self.stats_bars.setFixedHeight(96)
        self.stats_bars.setToolTip("how often each digit was the answer for the random-noise images")
        stats = QtWidgets.QHBoxLayout()
        stats.addWidget(self.stats_label, 3)
        stats.addWidget(self.stats_bars, 2)
        self.examples_label = _muted("More random inputs (uniform noise and sparse dots), the most confident answers "
                                     "first: below each, the digit it reads and that output neuron's activation "
                                     "(red when above 0.5).")
        self.examples = ThumbnailGallery(scale=2, min_text_width=48)
        self.examples.itemClicked.connect(self._on_example)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.addLayout(top)
        lay.addLayout(row)
        lay.addSpacing(6)
        lay.addLayout(stats)
        lay.addWidget(self.examples_label)
        lay.addWidget(self.examples, 1)
        self._probes = []

    def show_probes(self, probes, stats, examples, class_names) -> None:
        self._probes = list(probes)
        for p in probes:
            if p.name in self.cards:
                self.cards[p.name].set_result(p.pixels, p.outputs, p.digit, p.confidence, class_names)
        self.examples.set_items([
            GalleryItem(r.pixels.reshape(28, 28), class_names[r.digit] if len(class_names[r.digit]) <= 3
                        else str(r.digit), f"{r.confidence:.2f}", theme.BAD if r.confidence > 0.5 else theme.TEXT,
                        f"{r.name}: read as {class_names[r.digit]} (activation {r.confidence:.2f}); click to load it",
                        key=r)
            for r in examples
        ])
        if stats is None:
            self.stats_label.setText("")
            self.stats_bars.set_values([])
            return
        order = np.argsort(-stats.counts, kind="stable")
        common = ", ".join(f"{class_names[k]} ({100 * stats.counts[k] / stats.n:.0f}%)" for k in order[:3]
                           if stats.counts[k])
        self.stats_label.setText(
            f"<b>{stats.n:,} images of random noise</b>: the winning output neuron's activation is "
            f"<b style='color:{theme.ACCENT}'>{stats.mean_confidence:.2f}</b> on average, and "
            f"<b style='color:{theme.BAD}'>{100 * stats.confident_fraction:.0f}%</b> of them get an answer above 0.5. "
            f"Most often it sees: {common}. The ten outputs add up to {stats.mean_output_sum:.2f} on average: "
            "they are not probabilities. Right: how often each digit was the answer.")
        self.stats_bars.set_values(stats.counts, class_names, top=None, fmt="{:.0f}")

    def probes(self):
        return list(self._probes)

    def _on_card(self, name: str) -> None:
        for p in self._probes:
            if p.name == name:
                self.pixelsClicked.emit(p.pixels.copy(), f"noise test: {name}")

    def _on_example(self, i: int) -> None:
        r = self.examples.items()[i].key
        self.pixelsClicked.emit(r.pixels.copy(), f"noise test: {r.name}")


class MyDigitsBox(QtWidgets.QWidget):
    """Above the gallery of my digits: where they are kept, and the selected one: relabel it, delete it."""

    relabelled = Signal(int, int)  # digit id, new label
    deleted = Signal(int)  # digit id

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QtWidgets.QLabel("My digits")
        self.title.setStyleSheet(f"color: {theme.TEXT}; font-size: 11pt; font-weight: 600;")
        self.note = _muted("")
        self.selected_label = QtWidgets.QLabel("")
        self.selected_label.setObjectName("myDigitSelected")
        self.label_combo = QtWidgets.QComboBox()
        self.label_combo.setObjectName("myDigitLabelCombo")
        self.label_combo.addItems([str(d) for d in range(10)])
        self.label_combo.setToolTip("What this drawing is: choose another digit to relabel it")
        self.label_combo.activated.connect(lambda i: self._selected is not None and self.relabelled.emit(self._selected, i))
        self.delete_button = QtWidgets.QPushButton("Delete")
        self.delete_button.setObjectName("myDigitDeleteButton")
        self.delete_button.setToolTip("Remove this drawing from my digits (the network keeps what it learned from it)")
        self.delete_button.clicked.connect(lambda: self._selected is not None and self.deleted.emit(self._selected))
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.note, 1)
        edit = QtWidgets.QHBoxLayout()
        edit.addWidget(self.selected_label)
        edit.addWidget(self.label_combo)
        edit.addWidget(self.delete_button)
        edit.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addLayout(edit)
        self._selected: int | None = None
        self.select(None)

    @property
    def selected(self) -> int | None:
        return self._selected

    def select(self, digit_id: int | None, label: int | None = None) -> None:
        self._selected = digit_id
        on = digit_id is not None
        self.selected_label.setText(f"#{digit_id} is a" if on else "Click a digit to review it")
        self.label_combo.setVisible(on)
        self.delete_button.setVisible(on)
        if on and label is not None:
            self.label_combo.setCurrentIndex(int(label))


class BrowserPage(QtWidgets.QWidget):
    exampleClicked = Signal(str, int)  # split, index (for my digits: the digit's id)
    pixelsClicked = Signal(object, str, object)  # pixels, source, label

    PER_PAGE = 96

    def __init__(self, parent=None):
        super().__init__(parent)
        self.avg_label = QtWidgets.QLabel("Average digit per class")
        self.avg_label.setStyleSheet(f"color: {theme.TEXT}; font-size: 11pt; font-weight: 600;")
        self.avg_note = _muted("")
        self.averages = ThumbnailGallery(scale=2, min_text_width=48)
        self.averages.set_fit_height()  # (every class on screen: more rows when narrow)
        self.averages.itemClicked.connect(self._on_average)
        self.split_combo = QtWidgets.QComboBox()
        self.split_combo.addItems(["test set", "training set", "my digits (0)"])
        self.split_combo.setItemData(2, "the digits you taught on the drawing pad", Qt.ItemDataRole.ToolTipRole)
        self.mine = MyDigitsBox()
        self.mine.hide()
        self._my_digits = None  # the session's MyDigits (it never changes: a new one comes instead)
        self._my_path = ""
        self.class_combo = QtWidgets.QComboBox()
        self.prev_button = QtWidgets.QToolButton()
        self.prev_button.setText("◀")
        self.prev_button.setToolTip("previous page")
        self.next_button = QtWidgets.QToolButton()
        self.next_button.setText("▶")
        self.next_button.setToolTip("next page")
        self.page_label = QtWidgets.QLabel()
        self.gallery = ThumbnailGallery(scale=2, min_text_width=48)
        self.gallery.itemClicked.connect(self._on_item)
        self.split_combo.currentIndexChanged.connect(lambda _: self._reset())
        self.class_combo.currentIndexChanged.connect(lambda _: self._go(0))
        self.prev_button.clicked.connect(lambda: self._go(self.page - 1))
        self.next_button.clicked.connect(lambda: self._go(self.page + 1))
        nav = QtWidgets.QHBoxLayout()
        nav.addWidget(self.split_combo)
        nav.addWidget(self.class_combo)
        nav.addStretch(1)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.page_label)
        nav.addWidget(self.next_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        head = QtWidgets.QHBoxLayout()
        head.addWidget(self.avg_label)
        head.addWidget(self.avg_note, 1)
        lay.addLayout(head)
        lay.addWidget(self.averages)
        lay.addWidget(self.mine)
        lay.addLayout(nav)
        lay.addWidget(self.gallery, 1)
        self._dataset = None
        self._network = None
        self._result: _Result | None = None
        self._averages: dict = {}  # split -> (n_classes, 28, 28)
        self.page = 0
        self._indices = np.zeros(0, dtype=np.intp)

    @property
    def split(self) -> str:
        """"test", "train" or MINE (my digits)."""
        i = self.split_combo.currentIndex()
        return SPLITS[i] if i < len(SPLITS) else MINE

    @property
    def my_digits(self):
        return self._my_digits

    def set_my_digits(self, digits, path: str = "") -> None:
        """The user's digits (the session's MyDigits) and the file they are kept in."""
        self._my_digits, self._my_path = digits, path
        self.split_combo.setItemText(2, f"my digits ({len(digits):,})")
        if self.split == MINE:
            sel = self.mine.selected
            if sel is not None and sel not in digits.ids:
                self.mine.select(None)
            elif sel is not None:
                self.mine.select(sel, int(digits.labels[digits.index_of(sel)]))
            self._go(self.page, keep_scroll=True)

    def _on_item(self, i: int) -> None:
        key = self.gallery.items()[i].key
        if self.split == MINE and self._my_digits is not None and key in self._my_digits.ids:
            self.mine.select(key, int(self._my_digits.labels[self._my_digits.index_of(key)]))
            self.gallery.set_selected(i)
        self.exampleClicked.emit(self.split, key)

    @property
    def n_pages(self) -> int:
        return max(1, -(-len(self._indices) // self.PER_PAGE))

    def set_dataset(self, dataset) -> None:
        self._dataset = dataset
        self._averages = {}
        self._result = None
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        if dataset is not None:
            self.class_combo.addItem("all classes" if dataset.class_names[0] != "0" else "all digits")
            self.class_combo.addItems(list(dataset.class_names))
        self.class_combo.blockSignals(False)
        self._reset()

    def set_averages(self, split: str, averages) -> None:
        self._averages[split] = averages
        self._fill_averages()

    def has_averages(self, split: str) -> bool:
        return split in self._averages

    def set_network(self, network) -> None:
        self._network = network
        if self.split == MINE:
            self._go(self.page, keep_scroll=True)  # (the network's readings of my digits)

    def show_result(self, res: _Result | None) -> None:
        self._result = res
        if res is not None:
            self._network = res.network
        self._fill_averages()
        self._go(self.page, keep_scroll=True)

    def _reset(self) -> None:
        mine = self.split == MINE
        for w in (self.avg_label, self.avg_note, self.averages):
            w.setVisible(not mine)
        self.mine.setVisible(mine)
        self.mine.select(None)
        self._fill_averages()
        self._go(0)

    def _fill_averages(self) -> None:
        ds = self._dataset
        avg = self._averages.get(self.split)
        if self.split == MINE:
            return
        if ds is None or avg is None:
            self.averages.set_items([])
            self.averages.set_placeholder("computing…" if ds is not None else "no dataset")
            self.avg_note.setText("")
            return
        net = self._network
        reading = None
        if net is not None and net.sizes[0] == avg[0].size and net.sizes[-1] == len(avg):
            reading = net.feedforward(avg.reshape(len(avg), -1))
        items = []
        for k, img in enumerate(avg):
            detail, colour = "", None
            if reading is not None:
                d = int(reading[k].argmax())
                detail = f"reads {ds.class_names[d]}" if len(ds.class_names[d]) <= 3 else f"reads {d}"
                colour = theme.GOOD if d == k else theme.BAD
            items.append(GalleryItem(img, ds.class_names[k], detail, colour,
                                     f"the average of every {ds.class_names[k]} in the {_SPLIT_WORDS[self.split]} set"
                                     + (f"; the network reads it as {ds.class_names[int(reading[k].argmax())]} "
                                        f"(activation {reading[k].max():.2f})" if reading is not None else "")
                                     + "; click to load it", key=k))
        self.averages.set_items(items)
        self.avg_note.setText(f"({_SPLIT_WORDS[self.split]} set; below each: what the network reads it as; "
                              "click to load it)")

    def _go(self, page: int, keep_scroll: bool = False) -> None:
        ds = self._dataset
        if self.split == MINE:
            self._go_mine(page, keep_scroll)
            return
        if ds is None:
            self._indices = np.zeros(0, dtype=np.intp)
            self.gallery.set_items([])
            self.page_label.setText("")
            return
        images, labels = _split_images(ds, self.split)
        k = self.class_combo.currentIndex() - 1
        self._indices = class_indices(labels, None if k < 0 else k)
        idx = self._page_of(page)
        res = self._result if self._result is not None and self._result.split == self.split \
            and self._result.dataset is ds else None
        pred = res.analysis.evaluation.predictions if res is not None else None
        names = ds.class_names
        items = []
        for i in idx:
            lab = int(labels[i])
            wrong = pred is not None and pred[i] != lab
            detail = f"read {names[int(pred[i])]}" if wrong else f"#{i}"
            items.append(GalleryItem(images[i], names[lab] if len(names[lab]) <= 3 else str(lab), detail,
                                     theme.BAD if wrong else None,
                                     f"{self.split} #{i}: {names[lab]}"
                                     + (f", read as {names[int(pred[i])]}" if pred is not None else "")
                                     + "; click to load it", key=int(i)))
        self.gallery.set_items(items, keep_scroll=keep_scroll)
        self._show_page_nav(len(idx))

    def _page_of(self, page: int) -> np.ndarray:
        """Go to ``page`` of :attr:`_indices` (clamped); the indices on it."""
        self.page = int(min(max(0, page), self.n_pages - 1))
        return self._indices[self.page * self.PER_PAGE: (self.page + 1) * self.PER_PAGE]

    def _show_page_nav(self, shown: int) -> None:
        first = self.page * self.PER_PAGE
        self.page_label.setText(f"{first + 1:,}–{first + shown:,} of {len(self._indices):,}"
                                f"   page {self.page + 1} of {self.n_pages}" if len(self._indices) else "")
        self.prev_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < self.n_pages - 1)

    def _go_mine(self, page: int, keep_scroll: bool) -> None:
        """My digits, newest first, with what the network reads each as (in red when it misreads it)."""
        d = self._my_digits
        n = 0 if d is None else len(d)
        path = self._my_path
        self.mine.note.setText(f"{n:,} drawing{'s' if n != 1 else ''} you taught on the pad"
                               + (f", kept in {path}" if path else ""))
        self.mine.note.setToolTip(path)
        if not n:
            self._indices = np.zeros(0, dtype=np.intp)
            self.gallery.set_items([])
            self.gallery.set_placeholder("No digits of yours yet: draw on the pad, click the digit it is, Step ▶")
            self._show_page_nav(0)
            return
        k = self.class_combo.currentIndex() - 1
        order = np.arange(n)[::-1]
        self._indices = order if k < 0 else order[d.labels[order] == k]
        idx = self._page_of(page)
        net = self._network
        reads = None
        if net is not None and len(idx) and net.sizes[0] == 784 and net.sizes[-1] == 10:
            reads = net.predict(d.x[idx] * (1.0 / 255.0))
        items = []
        for j, i in enumerate(idx):
            lab, digit_id = int(d.labels[i]), int(d.ids[i])
            wrong = reads is not None and int(reads[j]) != lab
            detail = f"read {int(reads[j])}" if wrong else f"#{digit_id}"
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(float(d.added[i])))
            items.append(GalleryItem(d.images[i], str(lab), detail, theme.BAD if wrong else None,
                                     f"my digit #{digit_id}: a {lab}, taught {when}"
                                     + (f"; the network reads it as {int(reads[j])}" if reads is not None else "")
                                     + "; click to review it", key=digit_id))
        self.gallery.set_items(items, keep_scroll=keep_scroll)
        sel = self.mine.selected
        self.gallery.set_selected(next((j for j, it in enumerate(items) if it.key == sel), -1))
        self._show_page_nav(len(idx))

    def _on_average(self, i: int) -> None:
        avg = self._averages.get(self.split)
        if avg is not None and self._dataset is not None:
            self.pixelsClicked.emit(avg[i].reshape(-1).copy(),
                                    f"average {self._dataset.class_names[i]} ({_SPLIT_WORDS[self.split]} set)", i)
