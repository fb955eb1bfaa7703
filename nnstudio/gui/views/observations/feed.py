"""The feed of what the run shows, in plain words: one card per observation, newest on top.

The observations are made by the session (:mod:`nnstudio.session.commentary`, from the live
numbers, with :mod:`nnstudio.components.observations`) and arrive as ``session.events.observation``;
this view only shows them.  Each card says what happens, why, what to try, and has a button to the
view that shows it (``viewRequested(name)``: "plots", "playground", "backprop", "diagram"; the window
brings that view on screen).  ``None`` (a new run) marks where the new run starts.
"""

from __future__ import annotations

from nnstudio.gui.qt import QtWidgets, Qt, Signal
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import pixel_font

#: the cards kept (older ones are dropped)
MAX_CARDS = 20
#: the view each observation links to, as its button names it
VIEW_NAMES = {"plots": "the plots", "playground": "the Playground", "backprop": "the Backprop explorer",
              "diagram": "the network"}
EMPTY = ("Nothing to say yet. As the network trains, notes appear here when the numbers show something worth "
         "knowing: a cost that climbs or stalls, saturated or dead neurons, overfitting, a first layer that "
         "barely learns. Each says what to try.")


class ObservationCard(QtWidgets.QFrame):
    """One observation: title, text, what to try, and a button to the view that shows it."""

    def __init__(self, obs, on_show, parent=None):
        super().__init__(parent)
        self.observation = obs
        self.setObjectName("observationCard")
        self.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)
        self.title = QtWidgets.QLabel(obs.title)
        self.title.setObjectName("observationTitle")
        self.title.setFont(pixel_font(14, bold=True))
        self.title.setWordWrap(True)
        self.step = QtWidgets.QLabel(f"mini-batch {obs.step:,}" if obs.step else "")
        self.step.setObjectName("observationStep")
        self.step.setStyleSheet(f"color: {theme.MUTED}")
        self.text = QtWidgets.QLabel(obs.text)
        self.text.setObjectName("observationText")
        self.text.setWordWrap(True)
        self.advice = QtWidgets.QLabel(f"<b>Try:</b> {obs.advice}")
        self.advice.setObjectName("observationAdvice")
        self.advice.setWordWrap(True)
        self.show_button = QtWidgets.QToolButton(text=f"Show {VIEW_NAMES.get(obs.view, obs.view)} ▸")
        self.show_button.setObjectName("observationShowButton")
        self.show_button.setToolTip("Bring the view that shows this on screen")
        self.show_button.clicked.connect(lambda: on_show(obs.view))
        for lab in (self.text, self.advice):
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head = QtWidgets.QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.step, 0, Qt.AlignmentFlag.AlignTop)
        foot = QtWidgets.QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        foot.addStretch(1)
        foot.addWidget(self.show_button)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 8)
        lay.setSpacing(4)
        lay.addLayout(head)
        lay.addWidget(self.text)
        lay.addWidget(self.advice)
        lay.addLayout(foot)

    def set_newest(self, newest: bool) -> None:
        colour = theme.ACCENT if newest else theme.MUTED
        self.setStyleSheet(f"QFrame#observationCard {{ border: 1px solid {theme.MUTED}; "
                           f"border-left: 4px solid {colour}; border-radius: 3px; }}")


class ObservationsFeed(QtWidgets.QWidget):
    """The feed (see the module docstring).  ``session``: the studio's Session (its ``commentary.feed``
    is shown at once, and its ``observation`` events as they come)."""

    viewRequested = Signal(str)

    def __init__(self, session=None, parent=None):
        super().__init__(parent)
        self.setObjectName("observationsFeed")
        self.cards: list[ObservationCard] = []
        self.empty = QtWidgets.QLabel(EMPTY)
        self.empty.setObjectName("observationsEmpty")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {theme.MUTED}")
        self.run_note = QtWidgets.QLabel("")
        self.run_note.setObjectName("observationsRunNote")
        self.run_note.setWordWrap(True)
        self.run_note.setStyleSheet(f"color: {theme.MUTED}")
        self.run_note.hide()
        inner = QtWidgets.QWidget()
        inner.setObjectName("observationsList")
        self.list_layout = QtWidgets.QVBoxLayout(inner)
        self.list_layout.setContentsMargins(8, 8, 8, 8)
        self.list_layout.setSpacing(8)
        self.list_layout.addWidget(self.empty)
        self.list_layout.addWidget(self.run_note)
        self.list_layout.addStretch(1)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setObjectName("observationsScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(inner)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.scroll)
        self.setMinimumWidth(200)
        if session is not None:
            for obs in session.commentary.feed:
                self.add(obs)
            session.events.observation.connect(self.add)

    def add(self, obs) -> None:
        """Show a new observation on top (None: a new run starts; the old run's notes are dropped)."""
        if obs is None:
            self.clear()
            return
        card = ObservationCard(obs, self.viewRequested.emit)
        self.cards.insert(0, card)
        self.list_layout.insertWidget(0, card)
        while len(self.cards) > MAX_CARDS:
            old = self.cards.pop()
            self.list_layout.removeWidget(old)
            old.deleteLater()
        for i, c in enumerate(self.cards):
            c.set_newest(i == 0)
        self.empty.hide()
        self.scroll.verticalScrollBar().setValue(0)

    def clear(self) -> None:
        had = bool(self.cards)
        for c in self.cards:
            self.list_layout.removeWidget(c)
            c.deleteLater()
        self.cards.clear()
        self.empty.show()
        self.run_note.setVisible(had)
        self.run_note.setText("A new run: the notes about the last one were cleared." if had else "")

    def kinds(self) -> list[str]:
        """The kinds shown, newest first."""
        return [c.observation.kind for c in self.cards]
