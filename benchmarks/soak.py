"""Soak test: the studio window training live, every view open, for a long time (issue 9).

    python benchmarks/soak.py              # 30 minutes
    python benchmarks/soak.py --minutes 5
    python benchmarks/soak.py --short      # 60 s

Reports (measured in this one run, printed, never asserted):

* RSS growth after warm-up (target ≤ 20 MB).  The training history keeps every mini-batch's row
  by design (the cost plot shows all of them: 72 bytes each with the running sums): its share is
  printed apart, and the target applies to the growth *excluding* it;
* dropped cost points: mini-batches in the cost plot's history vs the trainer's step count, and
  gaps in the step column (target 0);
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


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # pragma: no cover - not Linux
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def history_mb(h) -> float:
    """Memory the history's rows occupy (its buffers double, but pages never written to are not
    resident: the rows in use are what RSS sees)."""
    return h.n * (h._buf.shape[1] * h._buf.itemsize + h._cs.itemsize + h._cn.itemsize) / 2**20


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
    args = ap.parse_args(argv)
    duration = 60.0 if args.short else args.minutes * 60.0
    warmup = args.warmup if args.warmup is not None else max(10.0, 0.1 * duration)

    os.environ["NNSTUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="nnstudio-soak-")
    from nnstudio.gui.app import build_window
    from nnstudio.gui.plots import STEP
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
    w.controls.set_speed(0.0)
    w.worker.set_speed(0.0)
    views = [k for k, v in w.views.items() if hasattr(v, "set_snapshot")]
    print(f"soak: {duration:.0f} s on {w.dataset.name}, views {', '.join(views)}; warm-up {warmup:.0f} s",
          flush=True)

    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    ticker = QtCore.QTimer()
    ticker.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)

    t0 = time.perf_counter()
    state = {"base": None, "samples": []}

    def sample():
        t = time.perf_counter() - t0
        r, hm = rss_mb(), history_mb(w.history)
        state["samples"].append((t, r, hm, w.history.n))
        if state["base"] is None and t >= warmup:
            state["base"] = (t, r, hm, w.history.n, len(gaps))
        w.gradient_tabs.setCurrentIndex(int(t // 10) % 2)  # both gradient views get their turn
        if int(t) % 60 == 0 or t < 2:
            print(f"  t={t:6.0f} s  RSS {r:7.1f} MB  history {hm:6.1f} MB  {w.history.n:>10,} mini-batches",
                  flush=True)
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
    trainer = w.worker._trainer  # the worker is paused: reading is safe
    h = w.history
    steps = h.column(STEP).astype(int)
    gaps_in_steps = int(len(steps) and (steps[-1] - steps[0] + 1 - len(steps)))
    end_rss, end_hist = rss_mb(), history_mb(h)
    bt, brss, bhist, bn, bgaps = state["base"] or (0.0, end_rss, end_hist, h.n, 0)
    grow = end_rss - brss
    hist_grow = end_hist - bhist
    import numpy as np

    g = (np.array(gaps[bgaps:] or gaps or [0.0]) * 1000.0) - TICK_MS
    ok_rss = grow - hist_grow <= 20
    print()
    print(f"run: {time.perf_counter() - t0:.0f} s, {trainer.step_count:,} mini-batches "
          f"({trainer.step_count / max(1e-9, duration):,.0f}/s), {trainer.examples_seen:,} examples, "
          f"epoch {trainer.epoch + 1}")
    print(f"RSS: {brss:.1f} MB after {bt:.0f} s warm-up -> {end_rss:.1f} MB: +{grow:.1f} MB, of which the "
          f"history buffer +{hist_grow:.1f} MB ({h.n:,} rows, 72 B each); growth excluding it {grow - hist_grow:+.1f} MB "
          f"(target <= 20 MB: {'OK' if ok_rss else 'OVER'})")
    dropped = trainer.step_count - h.n
    print(f"cost points: history {h.n:,} vs trainer steps {trainer.step_count:,}: dropped {dropped} "
          f"(gaps in the step column {gaps_in_steps}; the curve holds {w.plots.point_count():,} points after "
          f"min/max envelope) (target 0: {'OK' if dropped == 0 and gaps_in_steps == 0 else 'DROPPED'})")
    print(f"event-loop stall ({TICK_MS} ms timer, after warm-up): longest {g.max():.1f} ms, "
          f"p99 {np.percentile(g, 99):.1f} ms, median {np.median(g):.2f} ms over {len(g):,} ticks")
    errors = [m for m in w.messages if m[0] == "error"]
    if errors:
        print(f"errors shown: {errors}")
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
