"""Latency from a stroke event on the drawing pad to the output bars being repainted.

A real DrawPanel (offscreen Qt, or your display with --show) reads a drawing with the shipped
784-16-16-10 network.  Mouse-move events are sent to the pad along a stroke, and for each one we time
event → the pad has drawn the segment → ``to_mnist`` + forward pass → the bars' paintEvent has finished.

Two regimes:

* **idle frame slot** (events 25 ms apart, so the 60 Hz coalescing never makes an event wait): this is
  the work the app does per update; target ≤ 10 ms.
* **fast mouse** (events every 4 ms, 250 Hz, faster than the display): updates are coalesced to at most
  one per 16 ms frame, so an event may wait for the next frame slot; we report how long until the bars
  show a reading that includes it, and how many updates per second were drawn.

    python benchmarks/bench_pad_latency.py [--events 200] [--show]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=200)
    ap.add_argument("--show", action="store_true", help="use the real display instead of offscreen")
    args = ap.parse_args(argv)
    if not args.show:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from nnstudio.data import to_mnist
    from nnstudio.gui.views.pad.view import DrawPanel
    from nnstudio.gui.qt import QtCore, QtWidgets, Qt
    from PySide6.QtTest import QTest

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    panel = DrawPanel()
    panel.resize(900, 520)
    panel.show()
    QTest.qWaitForWindowExposed(panel)
    pad = panel.pad
    painted = []
    panel.bars.painted.connect(lambda: painted.append(time.perf_counter()))
    readings = []  # (time, number of canvas changes included)
    changes = [0]
    pad.changed.connect(lambda: changes.__setitem__(0, changes[0] + 1))
    panel.predictionChanged.connect(lambda p: readings.append((time.perf_counter(), changes[0])))

    def path(n):  # a big figure-eight, so every event draws ink
        for i in range(n):
            t = 2 * math.pi * i / n
            yield pad.from_canvas(140 + 90 * math.sin(t), 140 + 110 * math.sin(t) * math.cos(t))

    def pt(q):
        return QtCore.QPoint(round(q.x()), round(q.y()))

    def wait_until(cond, timeout=1.0):
        end = time.perf_counter() + timeout
        while not cond() and time.perf_counter() < end:
            app.processEvents()

    # warm up: load the network, first paint
    pts = [pt(q) for q in path(args.events)]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    wait_until(lambda: panel.prediction is not None)
    for q in pts[1:10]:
        QTest.mouseMove(pad, q)
        wait_until(lambda: False, 0.03)

    # 1) idle frame slot
    lat, seg = [], []
    for q in pts[10:]:
        wait_until(lambda: False, 0.025)
        n0 = len(painted)
        t0 = time.perf_counter()
        QTest.mouseMove(pad, q)  # the pad draws the segment and emits changed, synchronously
        t_seg = time.perf_counter()
        wait_until(lambda: len(painted) > n0)
        lat.append(painted[-1] - t0)
        seg.append(t_seg - t0)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    wait_until(lambda: False, 0.05)

    # breakdown of one update
    canvas = pad.array()
    reps = 200
    t = time.perf_counter()
    for _ in range(reps):
        x = to_mnist(canvas)
    t_pre = (time.perf_counter() - t) / reps
    net = panel.network
    t = time.perf_counter()
    for _ in range(reps):
        net.feedforward(x.reshape(1, -1))
    t_fwd = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    for _ in range(50):
        panel.bars.repaint()
    t_paint = (time.perf_counter() - t) / 50

    # 2) fast mouse: an event every 4 ms
    pad.clear()
    wait_until(lambda: False, 0.05)
    readings.clear()
    sent = []  # (time, change count after the event)
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    t_start = time.perf_counter()
    for q in pts[1:]:
        QTest.mouseMove(pad, q)
        sent.append((time.perf_counter(), changes[0]))
        wait_until(lambda: False, 0.004)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])
    wait_until(lambda: False, 0.05)
    t_total = time.perf_counter() - t_start
    fast = []
    for ts, c in sent:
        later = [tr for tr, cr in readings if cr >= c and tr >= ts]
        if later:
            fast.append(later[0] - ts)

    ms = lambda a: 1000 * np.asarray(a)  # noqa: E731
    lat, seg, fast = ms(lat), ms(seg), ms(fast)
    print(f"DrawPanel latency, {len(lat)} stroke events ({QtWidgets.QApplication.platformName()} platform), "
          f"network {'-'.join(map(str, net.sizes))}")
    print(f"  event -> bars repainted (idle frame slot): median {np.median(lat):.2f} ms, "
          f"95th pct {np.percentile(lat, 95):.2f} ms, max {lat.max():.2f} ms   (target <= 10 ms: "
          f"{'OK' if np.percentile(lat, 95) <= 10 else 'MISSED'}, ratio {np.percentile(lat, 95) / 10:.2f})")
    print(f"    of which drawing the segment on the canvas: median {np.median(seg):.2f} ms")
    print(f"    one update: to_mnist {1000 * t_pre:.2f} ms + forward pass {1000 * t_fwd:.3f} ms + bars paint {1000 * t_paint:.2f} ms")
    print(f"  fast mouse (250 Hz events): event -> reading shown median {np.median(fast):.1f} ms, "
          f"max {fast.max():.1f} ms; {len(readings)} updates in {t_total:.2f} s = {len(readings) / t_total:.0f} per s (cap 60)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
