"""Exceptions of the data layer.

:class:`DataError` is the only exception type that escapes ``nnstudio.data`` for bad data, missing data,
unreadable images and failed downloads. Its ``str()`` is always a single line that names the file (or
dataset) and the problem, so the CLI can print it as is and the GUI can show it in a status bar.
"""

from __future__ import annotations

from nnstudio._cancel import Cancelled

__all__ = ["DataError", "DataUnavailable", "DownloadCancelled"]


class DataError(Exception):
    """Bad, missing or unreadable data. ``str(err)`` is one line: ``<file or dataset>: <problem>``."""

    def __init__(self, message: object = "") -> None:
        # One line, whatever the caller (or an OS error message) put in it.
        super().__init__(" ".join(str(message).split()))


class DataUnavailable(DataError):
    """A downloadable dataset is not in the cache and could not be (or was not allowed to be) downloaded.

    The message says how to get it (``nnstudio download <name>``, or a folder with the four IDX files) and
    that the embedded ``mnist-sample`` works offline.
    """


class DownloadCancelled(DataError, Cancelled):
    """The user cancelled a download (the ``cancel`` callable returned True). Nothing partial is left."""
