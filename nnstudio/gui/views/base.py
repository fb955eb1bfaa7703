"""The protocol every studio view follows, so the main window can host any of them."""

from __future__ import annotations

from nnstudio.gui.qt import QtWidgets, Signal


class StudioView(QtWidgets.QWidget):
    """Base class of the views docked in the studio window.

    The window calls these (on the GUI thread, at most at display rate); the defaults do
    nothing, so a view overrides only what it shows.  Views render state and turn gestures
    into requests; they hold no maths of their own (they call ``nnstudio.core``).
    """

    #: title of the dock/tab
    title = "View"
    #: a view asks the window to make an example the current input for every view
    inputRequested = Signal(object)  # InputExample
    #: a view asks the window to show a message in the status bar
    statusMessage = Signal(str)

    def set_snapshot(self, snapshot) -> None:
        """The latest network state (:class:`nnstudio.session.model.Snapshot`)."""

    def set_input(self, example) -> None:
        """The current input (:class:`nnstudio.session.model.InputExample`), or None."""

    def set_dataset(self, dataset) -> None:
        """The dataset now in use (:class:`nnstudio.data.Dataset`)."""
