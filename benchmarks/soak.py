"""Soak test: the studio window training live, every view open, for a long time (issue 9).

    python benchmarks/soak.py              # 30 minutes
    python benchmarks/soak.py --minutes 5
    python benchmarks/soak.py --short      # 60 s

Reports (measured in this one run, printed, never asserted):

* RSS growth of the whole process after warm-up (target ≤ 20 MB).  The training history keeps
  every mini-batch's row on disk (an anonymous temporary file: page cache, not RSS) and a
  fixed-size summary in memory; its in-memory share and its disk size are printed too;
* dropped cost points: mini-batches in the history vs the trainer's step count, and gaps in the
  step column, streamed back from the history's spool at the end (target 0);
* the plots panel's redraw time per frame (its ``refresh``, p99 and max);
* the longest event-loop stall: the largest gap between two ticks of a 5 ms QTimer, minus 5 ms
  (also the 99th percentile).

The window is built with isolated settings (a temporary NNSTUDIO_SETTINGS_DIR), on the embedded
mnist-sample, at full speed with no epoch limit; the bottom docks float so every view is on
screen and gets snapshots, and the Gradient-descent dock switches between its two tabs.
Runs on the offscreen platform unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TICK_MS = 5


def rss_mb(pid="self") -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # pragma: no cover - not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_pid(w):
    """The training process's pid (None when training runs in a thread of this process)."""
    proc = getattr(w.session.worker, "process", None)
    return getattr(proc, "pid", None)


def child_rss_mb(w) -> float | None:
    pid = child_pid(w)
    if pid is None:
        return None
    try:
        return rss_mb(pid)
    except (OSError, ValueError):
        return None


def trainer_progress(w):
    """(steps, examples seen, epoch index) of the trainer, read after a pause and a sync: from the
    trainer itself when it runs in this process, else from the last report its process sent."""
    loop = getattr(w.session.worker, "loop", None)  # (the thread worker's loop runs in this process)
    trainer = getattr(loop, "_trainer", None)
    if trainer is not None:
        return trainer.step_count, trainer.examples_seen, trainer.epoch
    last = w.session.last_report
    return (last.step, last.examples_seen, last.epoch) if last is not None else (0, 0, 0)


def history_mb(h) -> float:
    """RAM the history's arrays hold (recent rows, summary, epochs); the rows are on disk."""
    return h.memory_bytes() / 2**20


def step_gaps(h) -> int:
    """Mini-batches missing from the history's step column (streamed from its spool)."""
    gaps, prev, first = 0, None, True
    for rows in h.iter_rows():
        steps = rows["step"]
        if not len(steps):
            continue
        if first:
            first = False
        else:
            gaps += int(steps[0]) - prev - 1
        gaps += int(steps[-1] - steps[0] + 1 - len(steps))
        prev = int(steps[-1])
    return gaps


class Histogram:
    """Durations in ms, counted in fixed 0.05 ms bins up to 2 s (the soak's own memory must not
    grow either: a list of every 5 ms tick would be ~11 MB of floats in 30 minutes)."""

    BIN = 0.05

    def __init__(self, top_ms: float = 2000.0):
        import numpy as np

        self.counts = np.zeros(int(top_ms / self.BIN) + 1, dtype=np.int64)
        self.max = 0.0
        self.since = None  # counts at the baseline

    def add(self, ms: float) -> None:
        i = int(ms / self.BIN) if ms > 0 else 0
        self.counts[min(i, len(self.counts) - 1)] += 1
        if ms > self.max:
            self.max = ms

    def mark(self) -> None:
        """Start of the measured part: later statistics count from here (max too)."""
        self.since = self.counts.copy()
        self.max = 0.0

    def stats(self) -> tuple[int, float, float, float]:
        """(count, median, p99, max) since mark()."""
        import numpy as np

        c = self.counts - (self.since if self.since is not None else 0)
        n = int(c.sum())
        if not n:
            return 0, 0.0, 0.0, 0.0
        cum = np.cumsum(c)
        q = lambda f: (int(np.searchsorted(cum, f * n)) + 0.5) * self.BIN  # noqa: E731 (bin centre)
        return n, q(0.5), q(0.99), self.max


def wait_for(app, signal, action, timeout_s=60.0):
    from nnstudio.gui.qt import QtCore

    loop = QtCore.QEventLoop()
    got = []
    signal.connect(lambda *a: (got.append(a), loop.quit()))
    QtCore.QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    action()
    if not got:
        loop.exec()
    if not got:
        raise SystemExit(f"timed out waiting for {signal}")
    return got[0]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--short", action="store_true", help="60 s run")
    ap.add_argument("--warmup", type=float, default=None, help="seconds before the RSS baseline (default 10 %% of "
                                                                "the run, at least 10 s)")
    ap.add_argument("--tracemalloc", type=int, default=0, metavar="N",
                    help="trace Python allocations from the warm-up on and print the N source lines whose "
                         "memory grew most (slows the run: for finding a leak, not for the figures)")
    args = ap.parse_args(argv)
    duration = 60.0 if args.short else args.minutes * 60.0
    warmup = args.warmup if args.warmup is not None else max(10.0, 0.1 * duration)

    os.environ["NNSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="nnstudio-soak-")
    from nnstudio.gui.app import build_window
    from nnstudio.gui.qt import QtCore

    def quiet(mode, context, message):  # the offscreen platform's "does not support raise()" etc.
        if "This plugin does not support" not in message:
            sys.stderr.write(message + "\n")

    QtCore.qInstallMessageHandler(quiet)
    app, w = build_window()
    w.resize(1600, 1000)
    w.show()
    wait_for(app, w.datasetReady, w.start)
    for d in (w.draw_dock, w.backprop_dock, w.gradient_dock, w.evaluation_dock):
        d.setFloating(True)
        d.resize(700, 500)
        d.show()
    w.controls.epochs_input.setValue(0)  # no epoch limit
    w.session.set_speed(0.0)
    views = [k for k, v in w.views.items() if hasattr(v, "set_snapshot")]
    print(f"soak: {duration:.0f} s on {w.dataset.name}, views {', '.join(views)}; warm-up {warmup:.0f} s",
          flush=True)

    gaps = Histogram()  # event-loop ticks: ms late
    last = [time.perf_counter()]
    redraws = Histogram()  # the plots panel's refresh: ms
    panel_refresh = w.plots.refresh

    def timed_refresh(h):  # (the window calls self.plots.refresh: time each call)
        t = time.perf_counter()
        panel_refresh(h)
        redraws.add((time.perf_counter() - t) * 1000.0)

    w.plots.refresh = timed_refresh

    def tick():
        now = time.perf_counter()
        gaps.add((now - last[0]) * 1000.0 - TICK_MS)
        last[0] = now

    ticker = QtCore.QTimer()
    ticker.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)

    t0 = time.perf_counter()
    import numpy as np

    rss_at = np.full(int(duration) + 30, np.nan)  # RSS each second (preallocated: no growth of our own)
    state = {"base": None}

    def sample():
        t = time.perf_counter() - t0
        r, hm, cr = rss_mb(), history_mb(w.history), child_rss_mb(w)
        if int(t) < len(rss_at):
            rss_at[int(t)] = r
        if state["base"] is None and t >= warmup:
            state["base"] = (t, r, hm, w.history.n, cr)
            gaps.mark()
            redraws.mark()
            if args.tracemalloc:
                import tracemalloc

                tracemalloc.start(4)
                state["snap"] = tracemalloc.take_snapshot()
        w.gradient_tabs.setCurrentIndex(int(t // 10) % 2)  # both gradient views get their turn
        if int(t) % 60 == 0 or t < 2:
            child = "" if cr is None else f" (+ training process {cr:6.1f} MB)"
            print(f"  t={t:6.0f} s  RSS {r:7.1f} MB{child}  history {hm:5.2f} MB in RAM, "
                  f"{w.history.disk_bytes() / 2**20:7.1f} MB on disk  {w.history.n:>10,} mini-batches", flush=True)
        if t >= duration:
            run_loop.quit()  # (not app.quit(): in Qt 6 that closes every window first)

    sampler = QtCore.QTimer()
    sampler.setInterval(1000)
    sampler.timeout.connect(sample)

    run_loop = QtCore.QEventLoop()
    w.play()
    ticker.start()
    sampler.start()
    run_loop.exec()
    ticker.stop()
    sampler.stop()

    wait_for(app, w.trainingPaused, w.pause)
    wait_for(app, w.workerSynced, w.sync_worker)
    for _ in range(10):  # a few display ticks: the window drains what the sync brought in
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.02)
    steps, seen, epoch = trainer_progress(w)
    h = w.history
    end_rss, end_hist, end_child = rss_mb(), history_mb(h), child_rss_mb(w)  # (before reading the spool back)
    gaps_in_steps = step_gaps(h)
    bt, brss, bhist, bn, bchild = state["base"] or (0.0, end_rss, end_hist, h.n, end_child)
    grow = end_rss - brss
    ok_rss = grow <= 20
    print()
    print(f"run: {time.perf_counter() - t0:.0f} s, {steps:,} mini-batches ({steps / max(1e-9, duration):,.0f}/s), "
          f"{seen:,} examples, epoch {epoch + 1}; training in "
          f"{'a process of its own' if child_pid(w) else 'a thread of this process'}")
    print(f"RSS (whole GUI process): {brss:.1f} MB after {bt:.0f} s warm-up -> {end_rss:.1f} MB: {grow:+.1f} MB "
          f"(target <= 20 MB: {'OK' if ok_rss else 'OVER'}); the history holds {end_hist:.2f} MB in RAM "
          f"({end_hist - bhist:+.2f} MB since warm-up, {len(h.epochs):,} epochs) and "
          f"{h.disk_bytes() / 2**20:,.1f} MB on disk ({h.n:,} rows)")
    half = rss_at[int(duration) // 2 : int(duration) + 1]
    half = half[np.isfinite(half)]
    if len(half) > 10:  # bounded buffers that fill slowly (e.g. a view's ring) flatten out by then; a leak does not
        slope = np.polyfit(np.arange(len(half)), half, 1)[0] * 60.0
        print(f"RSS in the second half of the run: {half[-1] - half[0]:+.1f} MB over {len(half) - 1} s "
              f"({slope:+.2f} MB/min; at that rate a 30-minute soak would add {slope * 30:+.0f} MB)")
    if end_child is not None and bchild is not None:
        print(f"RSS (training process): {bchild:.1f} MB -> {end_child:.1f} MB: {end_child - bchild:+.1f} MB")
    dropped = steps - h.n
    print(f"cost points: history {h.n:,} vs trainer steps {steps:,}: dropped {dropped} "
          f"(gaps in the step column {gaps_in_steps}; the plot represents {w.plots.point_count():,} mini-batches, "
          f"drawn as a min/max envelope of every cost) "
          f"(target 0: {'OK' if dropped == 0 and gaps_in_steps == 0 else 'DROPPED'})")
    nr, r50, r99, rmax = redraws.stats()
    print(f"plots redraw (refresh, after warm-up): p99 {r99:.2f} ms, max {rmax:.2f} ms, median {r50:.2f} ms "
          f"over {nr:,} calls")
    ng, g50, g99, gmax = gaps.stats()
    print(f"event-loop stall ({TICK_MS} ms timer, after warm-up): longest {gmax:.1f} ms, "
          f"p99 {g99:.1f} ms, median {g50:.2f} ms over {ng:,} ticks")
    if state.get("snap") is not None:
        import tracemalloc

        stats = tracemalloc.take_snapshot().compare_to(state["snap"], "traceback")
        print(f"\nPython allocations that grew most since warm-up (tracemalloc, top {args.tracemalloc}):")
        for st in stats[: args.tracemalloc]:
            print(f"  {st.size_diff / 2**20:+8.2f} MB {st.count_diff:+9,} blocks")
            for line in st.traceback.format()[-8:]:
                print("      " + line.strip())
        tracemalloc.stop()
    errors = [m for m in w.messages if m[0] == "error"]
    if errors:
        print(f"errors shown: {errors}")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
