"""The display clock: takes in what the trainer sent, and draws frames at display rate.

Data flows one way (see docs/architecture.md)::

    training worker --messages--> Session.poll() --state, events--> the views

:class:`FrameClock` calls :meth:`Session.poll` whenever the worker's file descriptor becomes
readable (a ``QSocketNotifier``: the worker wakes the GUI when it has something to say) and on
every tick of a display timer.  When a frame is due it draws it in two halves, one timer tick
apart, to keep each stretch of GUI work short: first the plots (from the session's history),
then the views on screen get the session's snapshot (each view once per snapshot; a view
hidden behind a tab gets it when shown) and the status bar is updated.

Frames come at display rate (60/s) when paused, stepping or training at ≤ 60 mini-batches/s;
at full speed a :class:`FramePacer` spaces them so the GUI thread stays within a budget of the
time: FULL_SPEED_GUI_BUDGET when the trainer is a thread (it shares the GIL with the GUI),
PROCESS_GUI_BUDGET when it is a process of its own.  See benchmarks/bench_gui.py.
"""

from __future__ import annotations

import logging
import time
import traceback

from nnstudio.gui.qt import QtCore
from nnstudio.training.loop import watch_rate

log = logging.getLogger(__name__)

DISPLAY_HZ = 60
#: while training at full speed the GUI thread may be busy this fraction of the time at most
#: (with a training *thread*, every millisecond the GUI paints is one the trainer waits)
FULL_SPEED_GUI_BUDGET = 0.06
#: the same with the trainer in its own process: frames come at up to display rate
PROCESS_GUI_BUDGET = 0.5


class FramePacer:
    """Paces display frames so the GUI thread stays within a time budget.

    A frame's cost is the time of the display tick that made it plus the painting it caused
    (the window's UpdateRequest handling, timed by the main window).  The next frame is due
    ``cost / budget`` after this one started (never sooner than 1/60 s, never later than 0.5 s).

    While the GUI works on a frame a thread worker steps aside (``worker.hold``): painting
    releases and re-takes the GIL at many Qt calls, and each time the GUI would wait up to a
    switch interval for a busy trainer to let go of it.
    """

    def __init__(self, hz: float = DISPLAY_HZ, worker=None):
        self.worker = worker
        self.min_interval = 1.0 / hz
        self.max_interval = 0.5
        self.interval = self.min_interval
        self.cost = 0.0  # smoothed frame cost, seconds
        self._t0 = -1e9
        self._work = None  # GUI time of the frame in progress
        self.frames = 0  # frames begun so far

    def due(self, now: float, budget: float) -> bool:
        """Is the next frame due, with the GUI allowed ``budget`` of its time from now on?"""
        if now < self._t0 + self.min_interval:
            return False
        if self._work is not None:  # the last frame is complete: fold its cost in
            cost, self._work = self._work, None
            self.cost = cost if not self.cost else 0.7 * self.cost + 0.3 * cost
        self.interval = min(self.max_interval, max(self.min_interval, self.cost / budget))
        return now >= self._t0 + self.interval

    def begin(self, now: float) -> None:
        self.frames += 1
        self._t0 = now
        self._work = 0.0
        self.hold(True)

    def end(self, now: float) -> None:
        self._work += now - self._t0
        self.hold(False)

    def add(self, seconds: float) -> None:
        """GUI time spent painting (counted towards the current frame)."""
        if self._work is not None:
            self._work += seconds

    def hold(self, on: bool) -> None:
        if self.worker is not None:
            self.worker.hold = on


class FrameClock(QtCore.QObject):
    """Drives the session and the views' frames (see the module docstring).

    ``views()`` returns the views to feed; ``plots`` is the plots panel; ``status()`` updates
    the status bar.
    """

    def __init__(self, session, views, plots, status, parent=None):
        super().__init__(parent)
        self.session = session
        self._views = views
        self.plots = plots
        self._status = status
        self.pacer = FramePacer(worker=session.worker)
        self._delivered: dict[int, object] = {}  # id(view) -> the snapshot it has
        self._phase = 0  # 1: the views' half of a frame is due at the next tick
        self._notifier = None
        self._notified_fd = None
        self.timer = QtCore.QTimer(self)
        self.timer.setObjectName("displayTimer")
        self.timer.setInterval(int(1000 / DISPLAY_HZ))
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.watch_worker()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier = None

    def watch_worker(self) -> None:
        """Wake up when the worker has something to say (its file descriptor is readable)."""
        w = self.session.worker
        self.pacer.worker = w
        fd = w.fileno()
        if fd == self._notified_fd:
            return
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        self._notified_fd = fd
        if fd is not None:
            self._notifier = QtCore.QSocketNotifier(fd, QtCore.QSocketNotifier.Type.Read, self)
            self._notifier.activated.connect(self._readable)

    def _readable(self, *_) -> None:
        try:
            self.session.poll()
        except Exception:  # never raise into Qt's event loop
            log.error("taking in the trainer's messages failed:\n%s", traceback.format_exc())
        if self.session.worker.fileno() != self._notified_fd:  # (a new worker after the old one died)
            self.watch_worker()

    def tick(self) -> None:
        """Take in the reports; when a frame is due, redraw the plots, then (next tick) hand the
        snapshot to the views on screen and update the status bar."""
        self._readable()
        now = time.perf_counter()
        if self._phase == 1:
            self._phase = 0
            self.pacer.hold(True)
            try:
                self.frame_views()
            finally:
                self.pacer.hold(False)
                self.pacer.add(time.perf_counter() - now)
            return
        s = self.session
        speed = s.hyper["speed"]
        if speed < 0:  # the watch pace: its speed now
            speed = watch_rate(s.last_report.step if s.last_report is not None else 0)
        if s.run_state != "running" or 0 < speed <= DISPLAY_HZ:
            budget = 1.0  # the worker is idle or mostly sleeping: frames at display rate
        elif speed:
            budget = 0.5
        elif s.worker.separate_process:
            budget = PROCESS_GUI_BUDGET
        else:
            budget = FULL_SPEED_GUI_BUDGET
        # at full speed frames are few: tick less often too (every tick takes the GIL)
        interval = int(1000 / DISPLAY_HZ) if budget == 1.0 else int(2000 / DISPLAY_HZ)
        if self.timer.interval() != interval:
            self.timer.setInterval(interval)
        if not self.pacer.due(now, budget):
            return
        # snapshots no more often than frames are drawn (each is a copy of the network)
        s.worker.set_snapshot_interval(self.pacer.interval)
        self.pacer.begin(now)
        try:
            if shown(self.plots):
                self.plots.refresh(s.history)
        finally:
            self.pacer.end(time.perf_counter())
        self._phase = 1

    def frame_views(self) -> None:
        """Give the session's snapshot to every view on screen that does not have it yet."""
        snap = self.session.snapshot
        if snap is not None:
            for v in self._views():
                if self._delivered.get(id(v)) is snap or not shown(v):
                    continue
                self._delivered[id(v)] = snap
                try:
                    v.set_snapshot(snap)
                except Exception:
                    log.error("%s.set_snapshot failed:\n%s", type(v).__name__, traceback.format_exc())
        self._status()


def shown(widget) -> bool:
    """On screen now (not hidden, not behind another tab of a dock)?"""
    return widget.isVisible() and not widget.visibleRegion().isEmpty()
