"""The protocol every studio view follows, so the window can host any of them over one session."""

from __future__ import annotations

from nnstudio.gui.qt import QtWidgets, Signal


class StudioView(QtWidgets.QWidget):
    """Base class of the views docked in the studio window.

    A view shows the session's state and turns gestures into requests; it keeps no state of its
    own about the network, the data or the run, and holds no maths (it calls
    ``nnstudio.components`` and ``nnstudio.core``).  The window calls these, on the GUI thread;
    the defaults do nothing, so a view overrides only what it shows:

    * :meth:`set_snapshot`: the network on screen, at most at display rate (and at once when a
      run stops), only while the view is on screen;
    * :meth:`set_input`: the current input, whenever it changes;
    * :meth:`set_dataset`: the dataset, whenever it changes;
    * :meth:`set_network_label`: the network's one name (as the title and the status bar say it);
    * :meth:`set_run_state`: training stopped ("paused", "finished").

    Requests go out as signals the window sends on to the session: ``inputRequested`` (make this
    the current input), ``statusMessage``; a view with more (the explorer's ``stepApplied``,
    ``undoRequested``, ``learningRateEdited``) declares them itself.
    """

    #: title of the dock/tab
    title = "View"
    #: a view asks the window to make an example the current input for every view
    inputRequested = Signal(object)  # InputExample
    #: a view asks the window to show a message in the status bar
    statusMessage = Signal(str)

    def set_snapshot(self, snapshot) -> None:
        """The network on screen (:class:`nnstudio.session.Snapshot`)."""

    def set_input(self, example) -> None:
        """The current input (:class:`nnstudio.session.InputExample`), or None."""

    def set_dataset(self, dataset) -> None:
        """The dataset now in use (:class:`nnstudio.data.Dataset`)."""

    def set_network_label(self, label: str) -> None:
        """The network's name, as the title and the status bar say it."""

    def set_run_state(self, state: str) -> None:
        """Training stopped: "paused" or "finished"."""
