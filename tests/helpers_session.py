"""Helpers of the session tests: take the inline worker's messages in."""

from __future__ import annotations

import time

import numpy as np


def pump(s, n=3):
    """``n`` polls of the session (an inline worker runs between them)."""
    for _ in range(n):
        s.poll()


def poll_until(s, cond, timeout=30.0):
    """Poll the session until ``cond()`` holds (a training process's messages come when they come)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s.poll()
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


def same(a, b) -> bool:
    """Two networks of the same sizes and bit-identical parameters."""
    return tuple(a.sizes) == tuple(b.sizes) and all(np.array_equal(p, q) for p, q in zip(a.params, b.params))
