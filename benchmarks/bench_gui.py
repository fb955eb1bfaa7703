"""The studio window under load (offscreen, 1600×1000): does watching slow the learning down?

Prints, measured in one run on this machine:

* training throughput with the window open and every available view live, as a ratio to
  the headless trainer measured just before and after in the same process
  (target ≥ 0.85: the worker must not be slowed by the GUI);
* event-loop stalls while training at full speed, from a 5 ms QTimer recording the gaps
  between its ticks (target: p99 ≤ 30 ms);
* pause latency: from the Pause click to the worker's "paused" arriving in the GUI;
* the diagram's frames per second while training at full speed (target ≥ 30), counted as
  paint events of its canvas;
* cold start: a fresh ``python`` process until the window is shown (and until the
  dataset is ready), median of a few runs (target ≤ 1.0 s on an idle machine).

With ``--busy`` another process keeps one core busy (a pure-Python loop) through all the
windowed *and* headless runs, so the throughput ratio compares like with like.

    python benchmarks/bench_gui.py [--seconds 1] [--rounds 8] [--starts 3] [--no-views] [--busy]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# as the app does (nnstudio/cli.py): one BLAS thread, in the headless runs and the training process
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCREEN = {"synchronousWindowSystemEvents": False, "windowFrameMargins": False,
          "screens": [{"name": "bench", "x": 0, "y": 0, "width": 1600, "height": 1000, "logicalDpi": 96}]}


def offscreen_platform() -> str:
    cfg = Path(tempfile.gettempdir()) / "nnstudio-bench-screen.json"
    cfg.write_text(json.dumps(SCREEN))
    return f"offscreen:configfile={cfg}"


def headless_rate(ds, seconds: float) -> float:
    import numpy as np

    from nnstudio.core import Network, Trainer

    np.seterr(all="ignore")
    tr = Trainer(Network(seed=0), ds.train_x, ds.train_labels, ds.test_x, ds.test_labels,
                 learning_rate=1.5, batch_size=10, seed=0)
    for _ in range(200):  # warm up
        tr.step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        tr.step()
        n += 1
    return n / (time.perf_counter() - t0)


def pct(values, q):
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def gui_run(seconds: float, with_views: bool, rounds: int = 8):
    from nnstudio.data import load_dataset
    from nnstudio.gui.app import build_window
    from nnstudio.gui.qt import QtCore

    ds = load_dataset("mnist-sample")
    app, w = build_window(load_views=with_views)
    w.resize(1600, 1000)
    w.show()
    loop = QtCore.QEventLoop()
    w.trainingPaused.connect(loop.quit)
    QtCore.QTimer.singleShot(0, w.start)
    loop.exec()
    w.controls.epochs_input.setValue(0)  # no epoch limit while measuring
    w.session.set_speed(0)
    hosted = [type(v).__name__ for v in w.studio_views()]
    diagram_paints = [0]
    diagram = next((v for v in w.studio_views() if type(v).__name__ == "DiagramView"), None)

    class PaintCounter(QtCore.QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QtCore.QEvent.Type.Paint:
                diagram_paints[0] += 1
            return False

    counter = PaintCounter()
    if diagram is not None:
        diagram.canvas.installEventFilter(counter)

    def wait(ms):
        QtCore.QTimer.singleShot(int(ms), loop.quit)
        loop.exec()

    headless, gui, gaps, pauses, fps, dfps, gui_cpu, trainer_cpu = [], [], [], [], [], [], [], []
    # Throughput: short headless and windowed runs alternate, so that the load other programs
    # put on the machine drifts the same way for both; the ratio is the median of per-pair
    # ratios.  (Measured without the probe timer below: waking the GUI 200 times a second
    # costs the worker GIL hand-overs of its own.)
    headless.append(headless_rate(ds, seconds))
    for _ in range(rounds):
        w.play()
        wait(250)  # ramp up
        s0, f0, d0, t0 = w.session.reports_seen, w.frames.plot_pacer.frames, diagram_paints[0], time.perf_counter()
        c0, k0 = time.process_time(), process_cpu(w)
        wait(seconds * 1000)
        dt = time.perf_counter() - t0
        gui_cpu.append((time.process_time() - c0) / dt)
        k1 = process_cpu(w)
        if k0 is not None and k1 is not None:
            trainer_cpu.append((k1 - k0) / dt)
        gui.append((w.session.reports_seen - s0) / dt)
        fps.append((w.frames.plot_pacer.frames - f0) / dt)
        dfps.append((diagram_paints[0] - d0) / dt)
        t_pause = time.perf_counter()
        w.pause()
        loop.exec()  # until trainingPaused
        pauses.append((time.perf_counter() - t_pause) * 1000.0)
        headless.append(headless_rate(ds, seconds))
    # event-loop stalls: a 5 ms timer records the gaps between its ticks while training
    last = [time.perf_counter()]

    def tick():
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000.0)
        last[0] = now

    probe = QtCore.QTimer()
    probe.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
    probe.setInterval(5)
    probe.timeout.connect(tick)
    w.play()
    wait(300)
    last[0] = time.perf_counter()
    probe.start()
    wait(3000)
    probe.stop()
    gaps[:] = gaps[1:]
    w.pause()
    loop.exec()
    # a few more pause latencies, from short runs
    for _ in range(5):
        w.play()
        wait(150)
        t_pause = time.perf_counter()
        w.pause()
        loop.exec()
        pauses.append((time.perf_counter() - t_pause) * 1000.0)
    errors = [m for m in w.messages if m[0] == "error"]
    w.close()
    return {"hosted": hosted, "headless": headless, "gui": gui, "gaps": gaps, "pauses": pauses, "errors": errors,
            "fps": fps, "diagram_fps": dfps, "gui_cpu": gui_cpu, "trainer_cpu": trainer_cpu}


def process_cpu(w) -> float | None:
    """Processor seconds the training process has used so far (Linux: /proc), or None."""
    try:
        pid = w.session.worker.process.pid
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except Exception:
        return None


COLD = r"""
import sys, time
t_import = time.perf_counter()
from nnstudio.gui.app import build_window
from nnstudio.gui.qt import QtCore
app, w = build_window()
def shown():
    print("SHOWN", flush=True)
w.show()
QtCore.QTimer.singleShot(0, shown)
QtCore.QTimer.singleShot(0, w.start)
def ready(*_):
    print("READY", flush=True)
    w.close()
    app.quit()
w.trainingPaused.connect(ready)
app.exec()
"""


def cold_start(n: int, env: dict) -> tuple[list[float], list[float]]:
    shown, ready = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-c", COLD], cwd=str(ROOT), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        for line in p.stdout:
            if line.startswith("SHOWN"):
                shown.append(time.perf_counter() - t0)
            elif line.startswith("READY"):
                ready.append(time.perf_counter() - t0)
        p.wait(60)
    return shown, ready


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="length of each measured run")
    ap.add_argument("--rounds", type=int, default=8, help="alternating headless/windowed run pairs")
    ap.add_argument("--starts", type=int, default=3, help="cold starts to time")
    ap.add_argument("--no-views", action="store_true", help="placeholders instead of the views")
    ap.add_argument("--gui-budget", type=float, nargs=2, default=None, metavar=("VIEWS", "PLOTS"),
                    help="shares of a core the views' and the plots' frames may take while training at "
                         "full speed in a process (default: the app's, frames.BUDGETS['process'])")
    ap.add_argument("--busy", action="store_true",
                    help="keep one core busy with another process through the measured runs")
    args = ap.parse_args()
    if args.gui_budget:
        from nnstudio.gui.window import frames

        frames.BUDGETS["process"] = tuple(args.gui_budget)

    settings = tempfile.mkdtemp(prefix="nnstudio-bench-settings-")
    os.environ["NNSTUDIO_SETTINGS_DIR"] = settings
    os.environ.setdefault("QT_QPA_PLATFORM", offscreen_platform())
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))

    hog = None
    if args.busy:  # another program keeping one core busy, through every measured run
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        r = gui_run(args.seconds, with_views=not args.no_views, rounds=args.rounds)
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    head = statistics.mean(r["headless"])
    gui = statistics.mean(r["gui"])
    pair = [g / ((a + b) / 2) for g, a, b in zip(r["gui"], r["headless"], r["headless"][1:])]
    gaps = r["gaps"]
    print(f"platform: {os.environ['QT_QPA_PLATFORM'].split(':')[0]}, window 1600×1000, "
          f"{os.cpu_count()} cores{', one kept busy by another process' if args.busy else ''}, views live: "
          f"{', '.join(r['hosted']) or 'none'}")
    print(f"headless trainer:      {head:9,.0f} mini-batches/s  (mean of {len(r['headless'])} runs)")
    print(f"with the window open:  {gui:9,.0f} mini-batches/s  (mean of {len(r['gui'])} runs)")
    ratio = statistics.median(pair)
    print(f"throughput ratio:      {ratio:9.3f}   (target ≥ 0.85)  {'OK' if ratio >= 0.85 else 'MISSED'}  "
          f"median of {len(pair)} alternating pairs; range {min(pair):.2f}–{max(pair):.2f}")
    p99 = pct(gaps, 99)
    print(f"event-loop gaps (5 ms timer, {len(gaps)} ticks): median {pct(gaps, 50):.1f} ms, p95 {pct(gaps, 95):.1f} ms, "
          f"p99 {p99:.1f} ms, max {max(gaps):.1f} ms   (target p99 ≤ 30 ms)  {'OK' if p99 <= 30 else 'MISSED'}")
    dfps = statistics.median(r["diagram_fps"]) if r["diagram_fps"] else 0.0
    print(f"diagram frames while training at full speed: {dfps:.1f}/s   (target ≥ 30)  "
          f"{'OK' if dfps >= 30 else 'MISSED'}  median of {len(r['diagram_fps'])} runs; "
          f"plots: {statistics.median(r['fps']):.1f}/s")
    print(f"processor time while training at full speed: the window's process {statistics.median(r['gui_cpu']):.2f} "
          f"of a core (GUI thread, reader thread, painting), the training process "
          f"{statistics.median(r['trainer_cpu']) if r['trainer_cpu'] else float('nan'):.2f}")
    print(f"pause latency:         median {pct(r['pauses'], 50):.1f} ms, max {max(r['pauses']):.1f} ms "
          f"(one display frame = 16.7 ms)")
    shown, ready = cold_start(args.starts, env)
    if shown:
        print(f"cold start to window shown: median {statistics.median(shown):.2f} s "
              f"(runs: {', '.join(f'{x:.2f}' for x in shown)}); "
              f"to dataset ready: median {statistics.median(ready):.2f} s")
    if r["errors"]:
        print(f"errors shown during the run: {r['errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
