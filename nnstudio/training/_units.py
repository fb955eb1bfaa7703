"""Summary units, the training history's building block (see :mod:`nnstudio.training.history`).

A unit sums up consecutive mini-batches as 6 float64: the min, max, sum and count of their
finite costs and the examples-seen of the first and the last (a raw row is a unit of one
mini-batch).  Units are the columns of a (k, 6) array: the in-memory summary's buckets, the
records of the on-disk pyramid and what the cost plot draws are all units.  Qt-free.
"""

from __future__ import annotations

import numpy as np

# a summary unit: columns of a (k, 6) float64 array (a raw row is a unit of one mini-batch)
_MIN, _MAX, _SUM, _CNT, _X0, _X1 = range(6)
#: bytes of one unit on disk
_UNIT_BYTES = 6 * 8
_EMPTY_UNITS = np.empty((0, 6))


def _reduce_groups(u: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Units -> one unit per group of consecutive units beginning at ``starts``."""
    out = np.empty((len(starts), 6))
    out[:, _MIN] = np.fmin.reduceat(u[:, _MIN], starts)
    out[:, _MAX] = np.fmax.reduceat(u[:, _MAX], starts)
    out[:, _SUM] = np.add.reduceat(u[:, _SUM], starts)
    out[:, _CNT] = np.add.reduceat(u[:, _CNT], starts)
    out[:, _X0] = u[starts, _X0]
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    ends[-1] = len(u) - 1
    out[:, _X1] = u[ends, _X1]
    return out


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Units ``a`` followed by units ``b`` (same shapes) -> one unit each."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., _MIN] = np.fmin(a[..., _MIN], b[..., _MIN])
    out[..., _MAX] = np.fmax(a[..., _MAX], b[..., _MAX])
    out[..., _SUM] = a[..., _SUM] + b[..., _SUM]
    out[..., _CNT] = a[..., _CNT] + b[..., _CNT]
    out[..., _X0] = a[..., _X0]
    out[..., _X1] = b[..., _X1]
    return out


def _units_of_rows(rows: np.ndarray) -> np.ndarray:
    c = rows["cost"]
    ok = np.isfinite(c)
    u = np.empty((len(rows), 6))
    u[:, _MIN] = c
    u[:, _MAX] = c
    u[:, _SUM] = np.where(ok, c, 0.0)
    u[:, _CNT] = ok
    u[:, _X0] = rows["examples_seen"]
    u[:, _X1] = u[:, _X0]
    return u


def _moving_mean(sums: np.ndarray, counts: np.ndarray, window: int) -> np.ndarray:
    """Mean over the last ``window`` entries (fewer at the start); NaN where none is finite."""
    cs = np.concatenate(([0.0], np.cumsum(sums)))
    cn = np.concatenate(([0.0], np.cumsum(counts)))
    hi = np.arange(1, len(sums) + 1)
    lo = np.maximum(0, hi - max(1, window))
    s, k = cs[hi] - cs[lo], cn[hi] - cn[lo]
    out = np.full(len(sums), np.nan)
    np.divide(s, k, out=out, where=k > 0)
    return out


def _reduce_runs(u: np.ndarray, f: int) -> np.ndarray:
    """Units (a whole number of runs of ``f``) -> one unit per run of ``f`` consecutive units."""
    g = u.reshape(-1, f, 6)
    rec = np.empty((len(u) // f, 6))
    rec[:, _MIN] = np.fmin.reduce(g[:, :, _MIN], axis=1)
    rec[:, _MAX] = np.fmax.reduce(g[:, :, _MAX], axis=1)
    rec[:, _SUM] = g[:, :, _SUM].sum(axis=1)
    rec[:, _CNT] = g[:, :, _CNT].sum(axis=1)
    rec[:, _X0] = g[:, 0, _X0]
    rec[:, _X1] = g[:, -1, _X1]
    return rec
