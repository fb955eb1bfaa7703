"""Teach it yours, measured: one teaching step on each digit the shipped 784-16-16-10 misreads among the
embedded sample's 1,000 test digits, mixed with 9 real training digits (the pad's default) and alone.
Prints how many are read right after one step and what the step did to test accuracy (each step undone
before the next, so every one starts from the shipped network).

    python benchmarks/bench_teach.py
"""

from __future__ import annotations

import os
import tempfile

import numpy as np


def main() -> None:
    os.environ["NNSTUDIO_DATA_DIR"] = tempfile.mkdtemp(prefix="nnstudio-bench-")  # (never the user's my digits)
    from nnstudio.session import Session
    from nnstudio.training.workers import InlineWorker

    s = Session(worker=InlineWorker(steps_per_drain=400))
    s.start_worker()
    s.start("mnist-sample")
    s.poll()
    try:
        ds = s.dataset
        x = ds.test_x / 255.0
        wrong = np.flatnonzero(s.network.predict(x) != ds.test_labels)
        print(f"{s.network_label()} misreads {len(wrong)} of {ds.n_test:,} sample test digits")
        for alone in (False, True):
            rows = []
            for i in wrong:
                res = s.teacher.teach(x[i], int(ds.test_labels[i]), alone=alone)
                m = s.teacher.last
                rows.append((res.learned, m.accuracy_after - m.accuracy_before))
                s.undo()
            r = np.array(rows, float)
            print(f"{'alone' if alone else 'mixed with 9 real digits'} (η = {s.hyper['learning_rate']:g}): "
                  f"read right after one step {int(r[:, 0].sum())}/{len(r)}; test accuracy "
                  f"{100 * r[:, 1].mean():+.2f} points on average (median {100 * np.median(r[:, 1]):+.2f}, "
                  f"worst {100 * r[:, 1].min():+.2f})")
    finally:
        s.shutdown()


if __name__ == "__main__":
    main()
