"""How the session runs slow work (loading a dataset) without knowing about threads or Qt.

A runner has one method, ``submit(fn, done, failed, progress=None)``: it calls
``fn(cancelled, progress)`` somewhere, where ``cancelled()`` tells whether the work should
stop and ``progress(done, total, name)`` reports it; then exactly one of ``done(result)`` or
``failed(exception)``, on the session's own thread.  It returns a handle with ``cancel()``.

:class:`SyncRunner` runs the work at once, in the caller's thread (headless use and tests); the
studio's runner (``nnstudio.gui.tasks.QtRunner``) runs it in a thread and delivers the answer
on the GUI thread.  The handle's ``cancel()`` and ``cancelled()`` work alike in both.
"""

from __future__ import annotations


class Handle:
    """What ``submit`` returns: ``cancel()`` asks the work to stop, ``cancelled()`` tells if it was asked."""

    def __init__(self):
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    def cancelled(self) -> bool:
        return self._cancelled


class SyncRunner:
    def submit(self, fn, done, failed, progress=None) -> Handle:
        h = Handle()
        try:
            result = fn(h.cancelled, progress or (lambda *a: None))
        except Exception as e:  # handed to the caller, who knows what it means
            failed(e)
        else:
            done(result)
        return h
