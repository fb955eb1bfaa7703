"""The status bar: the network's name, the run's state and where it is, read from the session."""

from __future__ import annotations

import time

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets
from nnstudio.gui.widgets.steady import GrowingField

STATES = {"running": "Training", "paused": "Paused", "finished": "Finished", "idle": "Ready",
          "loading": "Loading data"}


class StatusBar(QtWidgets.QStatusBar):
    """Permanent fields (all from the session) and transient messages."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("statusBar")
        mono = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        self.load_progress = QtWidgets.QProgressBar()
        self.load_progress.setObjectName("loadProgress")
        self.load_progress.setMaximumWidth(240)
        self.load_progress.setMaximumHeight(16)
        self.load_progress.setTextVisible(True)
        self.load_progress.hide()
        self.addPermanentWidget(self.load_progress)
        self.network_label = QtWidgets.QLabel()
        self.network_label.setObjectName("statusNetwork")
        self.network_label.setProperty("statusField", True)
        self.network_label.setToolTip("The network on screen: every view shows this one (• = changed since it "
                                      "was saved or opened)")
        self.addPermanentWidget(self.network_label)
        self.state_label = QtWidgets.QLabel("starting")
        self.state_label.setObjectName("statusState")
        self.state_label.setProperty("statusField", True)
        self.state_label.setMinimumWidth(90)
        self.addPermanentWidget(self.state_label)
        self.labels: dict[str, QtWidgets.QLabel] = {}
        for key, name, tip in (
            ("epoch", "statusEpoch", "epoch in progress (1-based)"),
            ("batch", "statusBatch", "mini-batch within the epoch"),
            ("examples", "statusExamples", "training examples seen since the start or the last rewind"),
            ("speed", "statusSpeed", "training speed, examples per second"),
            ("lr", "statusLearningRate", "learning rate η of the next mini-batch"),
        ):
            lab = GrowingField()  # (updated every frame: no re-layout of the window each time)
            lab.setObjectName(name)
            lab.setFont(mono)
            lab.setToolTip(tip)
            lab.setProperty("statusField", True)
            self.addPermanentWidget(lab)
            self.labels[key] = lab
        self._message = ""  # the message in full (shown fitted to the room left: showMessage)
        self._message_timer = QtCore.QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.clearMessage)
        self.messageChanged.connect(self._message_changed)
        self._version = -1
        self._rate = (0.0, 0, 0.0)  # (time, examples seen, examples/s)
        self.refresh(force=True)

    def _set(self, lab: QtWidgets.QLabel, text: str) -> None:
        if lab.text() == text:
            return
        if not self._message:  # (every frame while training: no text measured)
            lab.setText(text)
            return
        wide = lab.sizeHint().width()
        lab.setText(text)
        if lab.sizeHint().width() != wide:  # (the room left for the message changed)
            self._show_fitted()

    def refresh(self, force: bool = False) -> None:
        """Show the session's state (cheap when nothing changed)."""
        s = self.session
        self._set(self.network_label, s.network_label())
        self._set(self.state_label, STATES.get(s.run_state, s.run_state) if s.loading_key is None else "Loading data")
        self._set(self.labels["lr"], f"η {s.hyper['learning_rate']:g}")
        h = s.history
        if not force and h.version == self._version:
            now = time.perf_counter()
            if self._rate[2] and now - self._rate[0] > 1.0 and s.run_state != "running":
                self._rate = (now, self._rate[1], 0.0)
                self._set(self.labels["speed"], "   — ex/s")
            return
        self._version = h.version
        p = s.timeline.progress() or s.progress()  # (while the past is on screen: where it is)
        if p["epoch"] is None:
            self._set(self.labels["epoch"], "epoch —")
            self._set(self.labels["batch"], "batch —")
            self._set(self.labels["examples"], f"{0:>10,} seen")
        else:
            self._set(self.labels["epoch"], f"epoch {p['epoch']:>3}")
            self._set(self.labels["batch"], f"batch {p['batch']:>5}/{p['batches'] or '—'}")
            self._set(self.labels["examples"], f"{p['examples']:>10,} seen")
            now = time.perf_counter()
            t0, seen0, rate = self._rate
            if p["examples"] < seen0:
                self._rate = (now, p["examples"], 0.0)
            elif now - t0 >= 0.5:
                self._rate = (now, p["examples"], (p["examples"] - seen0) / (now - t0))
        rate = self._rate[2]
        self._set(self.labels["speed"], f"{rate:>8,.0f} ex/s" if rate else "   — ex/s")

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt's name)
        """A message longer than the room left of the fields ends at a word with "…" (Qt would cut it
        mid-word at the first field), again whenever the bar's width changes; the whole of it is the
        status bar's tooltip while it shows."""
        self._message = text
        self._show_fitted()
        if timeout > 0:
            self._message_timer.start(timeout)
        else:
            self._message_timer.stop()

    def message(self) -> str:
        """The message showing, in full (``currentMessage()`` is what fits: it may end in "…")."""
        return self._message if self.currentMessage() else ""

    def _show_fitted(self) -> None:
        text = self._message
        room = self.message_room()
        fm = self.fontMetrics()
        shown = text
        if room > 0 and fm.horizontalAdvance(text) > room:
            words = text.split(" ")
            while len(words) > 1 and fm.horizontalAdvance(" ".join(words) + " …") > room:
                words.pop()
            shown = " ".join(words).rstrip(",;:·") + " …"
            if fm.horizontalAdvance(shown) > room:
                shown = fm.elidedText(text, QtCore.Qt.TextElideMode.ElideRight, room)
        self.setToolTip(text if shown != text else "")
        if shown != self.currentMessage():
            super().showMessage(shown)

    def message_room(self) -> int:
        """Pixels a message can take: the bar's width less the fields that are not hidden (from
        their size hints: right at launch, before the bar's first layout, too)."""
        fields = [w for w in self.findChildren(QtWidgets.QWidget) if w.parent() is self and not w.isHidden()]
        spacing = max(0, self.layout().spacing()) if self.layout() is not None else 6
        used = sum(max(w.sizeHint().width(), w.minimumWidth()) + spacing + 4 for w in fields)
        return max(0, self.width() - used - 2 * self.fontMetrics().horizontalAdvance(" ") - 12)

    def _message_changed(self, text: str) -> None:
        if not text:  # (cleared: by its timeout, by Qt when a menu item's tip came and went, or by a caller)
            self._message = ""
            self._message_timer.stop()
            self.setToolTip("")

    def resizeEvent(self, ev) -> None:
        """A narrow window keeps the message readable: the least needed fields step aside first."""
        super().resizeEvent(ev)
        width = self.width()
        for key, below in (("speed", 1350), ("examples", 1350), ("lr", 1100)):
            self.labels[key].setVisible(width >= below)
        if self._message and self.currentMessage():
            self._show_fitted()

    def restart(self) -> None:
        self._rate = (time.perf_counter(), 0, 0.0)
        self.refresh(force=True)
        for lab in self.labels.values():  # a new run's numbers start short again
            lab.refit()

    def show_loading(self, key: str | None, label: str = "") -> None:
        if key is None:
            self.load_progress.hide()
        else:
            self.load_progress.setRange(0, 0)
            self.load_progress.setFormat(f"loading {label or key}…")
            self.load_progress.show()
        self.refresh(force=True)

    def show_progress(self, done, total, name) -> None:
        if total:
            self.load_progress.setRange(0, 100)
            self.load_progress.setValue(min(100, int(100 * done / total)))
            self.load_progress.setFormat(f"{name} %p%")
