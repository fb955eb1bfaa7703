"""The one exception that ends a piece of background work the user (or a newer request) cancelled.

Long computations take a ``cancel()`` callable (or ``should_stop()``) and raise
:class:`Cancelled` when it returns True; whoever runs them (``nnstudio.gui.tasks``, the
session's runner) ends quietly on it.  ``DownloadCancelled`` (``nnstudio.data``) is one too.
"""

from __future__ import annotations


class Cancelled(Exception):
    """The work was cancelled: nothing to report, nothing half-done to keep."""


def check(cancel) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is given and returns True."""
    if cancel is not None and cancel():
        raise Cancelled()
