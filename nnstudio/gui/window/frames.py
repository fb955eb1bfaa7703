"""The display clock: takes in what the trainer sent, and draws frames at display rate.

Data flows one way (see docs/architecture.md)::

    training worker --messages--> Session.poll() --state, events--> the views

:class:`FrameClock` calls :meth:`Session.poll` whenever the worker's file descriptor becomes
readable (a ``QSocketNotifier``: the worker wakes the GUI when it has something to say) and on
every tick of a display timer.  A frame has two parts, each paced on its own and drawn in its
own tick when both are due (each stretch of GUI work stays short):

* the *views*: every view on screen gets the session's snapshot (each view once per snapshot; a
  view hidden behind a tab gets it when shown), and the status bar is updated: the diagram
  lighting up is what the user watches, so it comes first;
* the *plots*, from the session's history (pyqtgraph's axes and curves cost about twice the
  diagram's frame, and a curve growing 10-15 times a second reads as smoothly).

When paused, stepping or training at ≤ 60 mini-batches/s both come at display rate (60/s).
Faster, a :class:`FramePacer` per part spaces its frames so that the GUI thread's *processor
time* stays within a budget (a fraction of one core, see :data:`BUDGETS`): on a machine busy with
other work the window then takes no more than on an idle one, and the trainer keeps its share.
See benchmarks/bench_gui.py.
"""

from __future__ import annotations

import logging
import time
import traceback

from nnstudio.gui.qt import QtCore
from nnstudio.gui.tasks import PipeWatch
from nnstudio.training.loop import watch_rate

log = logging.getLogger(__name__)

DISPLAY_HZ = 60
#: share of one core the GUI thread may spend on (views, plots) frames, by what the trainer does:
#: "display" (idle, paused, stepping, ≤ 60 mini-batches/s: frames at display rate), "fast" (a set
#: speed above that), "process" (full speed in a training process of its own), "thread" (full
#: speed in a thread: every millisecond the GUI paints is one the trainer waits for the GIL)
BUDGETS = {
    "display": (1.0, 1.0),
    "fast": (0.30, 0.15),
    "process": (0.16, 0.05),
    "thread": (0.04, 0.02),
}
#: the views' frames per second at most, by the same modes (at full speed 40 frames a second
#: read as smoothly as 60 and leave the trainer a third more of the GUI's share)
VIEWS_HZ = {"display": DISPLAY_HZ, "fast": DISPLAY_HZ, "process": 40, "thread": 40}


class FramePacer:
    """Paces one part of the display frames so the GUI thread stays within a budget.

    A frame's cost is the processor time (``time.thread_time``) of the tick that made it plus
    the painting it caused (the window's UpdateRequest handling, timed by the main window).  The
    next frame is due ``cost / budget`` after this one started (never sooner than 1/60 s, never
    later than 0.5 s).

    While the GUI works on a frame a thread worker steps aside (``worker.hold``): painting
    releases and re-takes the GIL at many Qt calls, and each time the GUI would wait up to a
    switch interval for a busy trainer to let go of it.
    """

    def __init__(self, hz: float = DISPLAY_HZ, worker=None):
        self.worker = worker
        self.min_interval = 1.0 / hz
        self.max_interval = 0.5
        self.interval = self.min_interval
        self.cost = 0.0  # smoothed frame cost, seconds of processor time
        self._t0 = -1e9
        self._cpu0 = 0.0
        self._work = None  # processor time of the frame in progress
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

    def next_at(self, budget: float) -> float:
        """When the next frame will be due (``time.perf_counter`` time), at ``budget``."""
        return self._t0 + min(self.max_interval, max(self.min_interval, self.cost / budget))

    def begin(self, now: float) -> None:
        self.frames += 1
        self._t0 = now
        self._cpu0 = time.thread_time()
        self._work = 0.0
        self.hold(True)

    def end(self) -> None:
        self._work += time.thread_time() - self._cpu0
        self.hold(False)

    def add(self, seconds: float) -> None:
        """GUI processor time spent painting (counted towards the current frame)."""
        if self._work is not None:
            self._work += seconds

    def hold(self, on: bool) -> None:
        if self.worker is not None:
            self.worker.hold = on


class FrameClock(QtCore.QObject):
    """Drives the session and the views' frames (see the module docstring).

    ``views()`` returns the views to feed; ``plots`` is the plots panel; ``status()`` updates
    the status bar.  ``pacer`` paces the views (and counts their frames), ``plot_pacer`` the plots.
    """

    def __init__(self, session, views, plots, status, parent=None):
        super().__init__(parent)
        self.session = session
        self._views = views
        self.plots = plots
        self._status = status
        self.pacer = FramePacer(worker=session.worker)
        self.plot_pacer = FramePacer(worker=session.worker)
        self._painting = self.pacer  # the part whose frame the next paint belongs to
        self._delivered: dict[int, object] = {}  # id(view) -> the snapshot it has
        self._watch = PipeWatch(self._readable, self)  # (the worker's pipe)
        self.timer = QtCore.QTimer(self)
        self.timer.setObjectName("displayTimer")
        self.timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        self.timer.setInterval(int(1000 / DISPLAY_HZ))
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        self.watch_worker()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._watch.stop()

    def watch_worker(self) -> None:
        """Wake up when the worker has something to say (its file descriptor is readable)."""
        w = self.session.worker
        self.pacer.worker = self.plot_pacer.worker = w
        self._watch.watch(w.fileno())

    def _readable(self, *_) -> None:
        try:
            self.session.poll()
        except Exception:  # never raise into Qt's event loop
            log.error("taking in the trainer's messages failed:\n%s", traceback.format_exc())
        if not self._watch.watching(self.session.worker.fileno()):  # (a new worker after the old one died)
            self.watch_worker()

    def mode(self) -> str:
        """Which of :data:`BUDGETS` applies now."""
        s = self.session
        speed = s.hyper["speed"]
        if speed < 0:  # the watch pace: its speed now
            speed = watch_rate(s.last_report.step if s.last_report is not None else 0)
        if s.run_state != "running" or 0 < speed <= DISPLAY_HZ:
            return "display"  # the worker is idle or mostly sleeping: frames at display rate
        if speed:
            return "fast"
        return "process" if s.worker.separate_process else "thread"

    def add_paint(self, seconds: float) -> None:
        """Processor time the window spent painting (the main window times its UpdateRequests)."""
        self._painting.add(seconds)

    def hold(self, on: bool) -> None:
        self.pacer.hold(on)

    def tick(self) -> None:
        """Take in the reports; hand the snapshot to the views on screen when their frame is due,
        else redraw the plots when theirs is (both in one tick at display rate)."""
        self._readable()
        now = time.perf_counter()
        mode = self.mode()
        try:
            self._frame(now, mode)
        finally:
            # the next tick when the next frame is due (a fixed 60 Hz tick would round a frame
            # every 22 ms up to every 33 ms); a thread trainer at full speed: fewer ticks (each
            # takes the GIL)
            plots_at = self.plot_pacer.next_at(BUDGETS[mode][1]) if shown(self.plots) else now + 1.0
            wake = min(self.pacer.next_at(BUDGETS[mode][0]), plots_at) - time.perf_counter()
            floor = 2000 / DISPLAY_HZ if mode == "thread" else 4.0
            interval = int(min(1000 / DISPLAY_HZ, max(floor, wake * 1000.0)))
            if self.timer.interval() != interval:
                self.timer.setInterval(interval)

    def _frame(self, now: float, mode: str) -> None:
        s = self.session
        views_budget, plots_budget = BUDGETS[mode]
        self.pacer.min_interval = 1.0 / VIEWS_HZ[mode]
        did_views = False
        if self.pacer.due(now, views_budget):
            # snapshots no more often than the views take them (each is a copy of the network)
            s.worker.set_snapshot_interval(self.pacer.interval)
            self._painting = self.pacer
            self.pacer.begin(now)
            try:
                self.frame_views()
            finally:
                self.pacer.end()
            did_views = True
            if mode != "display":
                return  # the plots' turn is the next tick
        self.plots.set_fast(mode != "display")
        if shown(self.plots) and self.plot_pacer.due(now, plots_budget):
            if not did_views:  # (at display rate both parts are painted together, as the views')
                self._painting = self.plot_pacer
            self.plot_pacer.begin(now)
            try:
                self.plots.refresh(s.history)
            finally:
                self.plot_pacer.end()

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
