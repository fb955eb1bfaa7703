"""The frame clock: it watches the training worker's pipe while there is one."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")


def test_a_stopped_worker_is_not_watched(qtbot, make_window):
    w = make_window()
    frames = w.frames
    assert frames._watch.notifier is not None and frames._watch.notifier.isEnabled()
    w.session.worker.stop()
    assert w.session.worker.fileno() in (None, -1)
    with qtbot.captureExceptions() as errors:
        frames.watch_worker()  # (Qt warned "QSocketNotifier: Invalid socket specified" for the closed pipe)
        frames.tick()
    assert not errors and frames._watch.notifier is None
