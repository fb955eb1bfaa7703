"""Teach it yours, on the pad: say what the drawing is, step, and see what the step did.

:class:`TeachBars` are the pad's output bars that can be clicked ("misread? click the right digit"):
while teaching they outline the digit the user said and, after a step, each output's value before it.
:class:`TeachPanel` takes the place of the preview and the guess while teaching: the digit the user
said, "mixed into a mini-batch of 9 real ones" or "this drawing alone", Step, Undo, the explorer's
nudges, and what the step did (read as before → after, test accuracy before → after, and what the
other choice would have done) with the one sentence that says why the step is averaged.

The numbers come from the session (:class:`nnstudio.session.teach.TeachResult`); the panel only shows them.
"""

from __future__ import annotations

import numpy as np

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.views.pad.readouts import WrappedNote
from nnstudio.gui.widgets.output_bars import OutputBars
from nnstudio.session.teach import REAL_IN_BATCH, SENTENCE

__all__ = ["TeachBars", "TeachPanel", "accuracy_text"]

#: a drop of test accuracy (in points) from which the panel suggests a smaller η
BIG_DROP = 2.0


def _pct(a) -> str:
    return "–" if a is None else f"{100 * a:.1f} %"


def accuracy_text(res) -> str:
    """'Test accuracy 95.2 % → 94.9 % (alone: 71.3 %)', or '… → measuring…' before it is measured."""
    if res.accuracy_after is None:
        return "Test accuracy: measuring…"
    other = "mixed" if res.alone else "alone"
    return (f"Test accuracy {_pct(res.accuracy_before)} → {_pct(res.accuracy_after)} "
            f"({other}: {_pct(res.other_accuracy_after)})")


class TeachBars(OutputBars):
    """The pad's output bars: click a row to say "that's this digit" (``digitClicked``).  While teaching,
    the digit said is outlined in green and each output's value before the last step is outlined."""

    digitClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._said: int | None = None
        self._before: np.ndarray | None = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The ten output neurons. Misread? Click the digit you meant (or press its key on the pad) "
                        "to teach it.")

    def set_teaching(self, said: int | None, before=None) -> None:
        self._said = said
        self._before = None if before is None else np.asarray(before, dtype=np.float64)
        self.update()

    @property
    def before(self) -> np.ndarray | None:
        return None if self._before is None else self._before.copy()

    def _rows(self):
        """(label column width, track width, row height, bar height), as OutputBars draws its rows."""
        fm = self.fontMetrics()
        labels = self.labels()
        label_w = max(fm.horizontalAdvance(s) for s in labels) + 10 if labels else 10
        value_w = fm.horizontalAdvance("0.00") + 10
        row = self.height() / max(1, len(labels))
        return label_w, max(10.0, self.width() - label_w - value_w - 2), row, max(3.0, min(row * 0.62, 22.0))

    def row_at(self, y: float) -> int | None:
        n = len(self.labels())
        i = int(y // (self.height() / max(1, n)))
        return i if 0 <= i < n else None

    def row_center(self, i: int) -> QtCore.QPoint:
        label_w, track_w, row, _ = self._rows()
        return QtCore.QPoint(int(label_w + track_w / 2), int((i + 0.5) * row))

    def mousePressEvent(self, ev) -> None:
        i = self.row_at(ev.position().y())
        if ev.button() == Qt.MouseButton.LeftButton and i is not None:
            self.digitClicked.emit(i)
            ev.accept()
            return
        super().mousePressEvent(ev)

    def paintEvent(self, ev) -> None:
        super().paintEvent(ev)
        if self._said is None and self._before is None:
            return
        label_w, track_w, row, bar_h = self._rows()
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self._before is not None:
            pen = QtGui.QPen(QtGui.QColor(theme.TEXT), 1.2, Qt.PenStyle.DashLine)
            p.setPen(pen)
            for i, a in enumerate(self._before[: len(self.labels())]):
                if a > 0.004:
                    cy = (i + 0.5) * row
                    p.drawRoundedRect(QtCore.QRectF(label_w, cy - bar_h / 2 - 1, max(2.0, track_w * a), bar_h + 2), 3, 3)
        if self._said is not None and self._said < len(self.labels()):
            cy = (self._said + 0.5) * row
            p.setPen(QtGui.QPen(QtGui.QColor(theme.GOOD), 2))
            p.drawRoundedRect(QtCore.QRectF(1, cy - row / 2 + 1, label_w + track_w + 1, row - 2), 4, 4)
        p.end()


class TeachPanel(QtWidgets.QFrame):
    """Teaching one drawing: see the module docstring.  Signals: ``stepRequested(alone)``,
    ``undoRequested``, ``nudgesRequested`` (show the explorer's desired nudges), ``closeRequested``."""

    stepRequested = Signal(bool)
    undoRequested = Signal()
    nudgesRequested = Signal()
    closeRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("teachPanel")
        self.setStyleSheet(
            "#teachPanel { background: #161b22; border: 1px solid #30363d; border-radius: 6px; }"
            f"#teachPanel QLabel, #teachPanel QRadioButton {{ color: {theme.TEXT}; background: transparent; }}"
            f"#teachPanel QRadioButton::indicator {{ width: 10px; height: 10px; border-radius: 6px;"
            f" border: 1px solid {theme.MUTED}; background: #0d1117; }}"
            f"#teachPanel QRadioButton::indicator:checked {{ background: {theme.ACCENT}; border-color: {theme.ACCENT}; }}")
        self.label: int | None = None
        self.title = QtWidgets.QLabel()
        self.title.setObjectName("teachTitle")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.close_button = QtWidgets.QToolButton()
        self.close_button.setObjectName("teachCloseButton")
        self.close_button.setText("✕")
        self.close_button.setToolTip("Stop teaching (drawing on the pad stops it too)")
        self.close_button.clicked.connect(self.closeRequested)
        self.mixed_radio = QtWidgets.QRadioButton(f"mixed with {REAL_IN_BATCH} real digits")
        self.mixed_radio.setObjectName("teachMixedRadio")
        self.mixed_radio.setToolTip(f"One step on a mini-batch of this drawing and {REAL_IN_BATCH} real training "
                                    "images: the average of their ten gradients, as training does")
        self.alone_radio = QtWidgets.QRadioButton("this drawing alone")
        self.alone_radio.setObjectName("teachAloneRadio")
        self.alone_radio.setToolTip("One step on this drawing alone: its gradient, followed all the way")
        self.mixed_radio.setChecked(True)
        for r in (self.mixed_radio, self.alone_radio):
            r.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.step_button = QtWidgets.QPushButton("Step ▶")
        self.step_button.setObjectName("teachStepButton")
        self.step_button.setToolTip("One gradient-descent step on this drawing, with the studio's η and cost, applied "
                                    "to the studio's network (Training ▸ Undo takes it back)")
        self.step_button.clicked.connect(lambda: self.stepRequested.emit(self.alone))
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.undo_button.setObjectName("teachUndoButton")
        self.undo_button.setToolTip("Put back the weights from before the last step (Training ▸ Undo)")
        self.undo_button.clicked.connect(self.undoRequested)
        self.nudges_button = QtWidgets.QPushButton("Nudges ▸")
        self.nudges_button.setObjectName("teachNudgesButton")
        self.nudges_button.setToolTip("The Backprop explorer: the desired nudges of this drawing, every neuron, "
                                      "for the digit you said")
        self.nudges_button.clicked.connect(self.nudgesRequested)
        for b in (self.step_button, self.undo_button, self.nudges_button, self.close_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # (keys stay with the pad)
        self.result = WrappedNote("", lines=5)
        self.result.setObjectName("teachResult")
        self.why = WrappedNote(SENTENCE, lines=3)
        self.why.setObjectName("teachWhy")
        self.why.color = theme.TEXT
        for note in (self.result, self.why):
            note.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Maximum)
            note.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            note.setMaximumHeight(note.minimumHeight())

        head = QtWidgets.QHBoxLayout()
        head.setSpacing(4)
        head.addWidget(self.title, 1)
        head.addWidget(self.close_button)
        buttons = QtWidgets.QHBoxLayout()
        buttons.setSpacing(4)
        for b in (self.step_button, self.undo_button, self.nudges_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(3)
        lay.addLayout(head)
        lay.addWidget(self.mixed_radio)
        lay.addWidget(self.alone_radio)
        lay.addLayout(buttons)
        lay.addWidget(self.result)
        lay.addWidget(self.why)
        lay.addStretch(1)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Preferred, QtWidgets.QSizePolicy.Policy.Preferred)

    @property
    def alone(self) -> bool:
        return self.alone_radio.isChecked()

    def set_alone(self, alone: bool) -> None:
        (self.alone_radio if alone else self.mixed_radio).setChecked(True)

    def start(self, label: str, read_as: str | None, cost: str | None = None) -> None:
        """Teaching a new drawing (or the same one, another digit): nothing stepped yet."""
        read = f" <span style='color:{theme.MUTED}'>· at first read as {read_as}</span>" if read_as is not None else ""
        self.title.setText(f"That's a <b style='color:{theme.GOOD}'>{label}</b>{read}")
        self.result.setText(f"Step ▶: one gradient-descent step on it{f' ({cost} cost)' if cost else ''}, as "
                            "training takes, applied to the studio's network.")

    def show_result(self, res, names, current: bool = True) -> None:
        """What a step did (``res``: a TeachResult); ``current`` False: the network moved on since."""
        def name(i):
            return names[i] if i < len(names) else str(i)

        if not current:
            self.result.setText("The network changed since this step (trained on, or undone): Step ▶ again to "
                                "teach it.")
            return
        how = "on it alone" if res.alone else f"with {len(res.real_indices)} real digits"
        read = (f"Read as {name(res.guess_before)} ({res.before[res.guess_before]:.2f}) → {name(res.guess_after)} "
                f"({res.after[res.guess_after]:.2f}) after one step {how} (η = {res.learning_rate:g}). ")
        text = read + accuracy_text(res) + "."
        if not res.learned:
            text += f" Not read as {name(res.label)} yet: Step ▶ again."
        if not res.alone and res.accuracy_after is not None and res.accuracy_before is not None \
                and 100 * (res.accuracy_before - res.accuracy_after) >= BIG_DROP:
            text += " A big step: Undo, lower η in the Training panel, step again."
        self.result.setText(text)
