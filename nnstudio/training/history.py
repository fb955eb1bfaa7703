"""The record of a training run: EVERY mini-batch, in memory that does not grow with the run.

A window training at full speed produces 5,000-6,000 mini-batch reports a second (20 million
in an hour).  Keeping them all in RAM grows the process by hundreds of megabytes an hour, and
redrawing all of them costs O(n) per frame.  :class:`TrainingHistory` instead keeps:

* **every row, on disk**: each :meth:`~TrainingHistory.extend` appends the rows (44 bytes each,
  :data:`ROW`) to an anonymous temporary file, the *spool*.  The operating system's page cache
  holds it, not the process; :meth:`~TrainingHistory.to_csv` streams it back in blocks.
* **the recent rows, in memory** (:attr:`~TrainingHistory.recent_size`, 8,192 by default): the
  live, zoomed-in view and the readouts need no disk.
* **a fixed-size summary of the whole run, in memory**: per bucket of consecutive mini-batches,
  the min, max, sum and count of the finite costs and the examples-seen extent.  When the
  4,096 buckets are used up, pairs merge and the buckets get twice as wide.  The min/max
  envelope holds every cost (a spike in any one mini-batch shows at any zoom) and the sums give
  the mean curve at any zoom level.
* **a pyramid of coarser summaries, on disk**: one record per 16, 256, 4,096, ... mini-batches
  (48 bytes each, 1/15 of the spool).  Zooming into an old range narrower than the in-memory
  summary's resolution reads only that range at the coarsest level that still gives one record
  per pixel, so any view costs O(pixels), and at full zoom the exact rows come from the spool.

**When the disk cannot take it** the history degrades instead of failing: :meth:`extend` never
raises for a spool problem.  A write error (a full disk, an I/O error, an unusable temporary
folder) closes and drops the spool (freeing its space) and stops spooling; the spool also stops,
kept but no longer appended, when it reaches :attr:`~TrainingHistory.max_spool_bytes` (default
``NNSTUDIO_HISTORY_MAX_MB``, 4,096 MB).  Either way :attr:`~TrainingHistory.spool_error` says so
in one line, everything in memory carries on exactly as before (``n``, the recent rows, the
summary holding every cost, the epochs), and the readers return what is still there: the rows
written before the stop (if the spool was kept) plus the recent rows; the one range in between
is :attr:`~TrainingHistory.missing_rows` / :attr:`~TrainingHistory.missing_steps`, which
:meth:`~TrainingHistory.trace` draws as the summary's min/max envelope and
:meth:`~TrainingHistory.to_csv` leaves out (reporting it in :attr:`~TrainingHistory.last_export`).
:meth:`~TrainingHistory.clear` starts spooling afresh.

Per mini-batch this costs well under 2 µs (amortised, in batches of ~100) and 44 + ~3 bytes of
disk; RAM holds about 1 MB whatever the run's length, plus ~90 bytes per finished epoch.

Qt-free: the plots panel (``nnstudio.gui.views.plots``) draws what :meth:`TrainingHistory.trace` and
:meth:`TrainingHistory.epoch_trace` return.  Not thread-safe: one thread (the GUI's) feeds it
and reads it.  The files on disk are :mod:`nnstudio.training._spool`'s; the arithmetic of the
summary's units is :mod:`nnstudio.training._units`'s.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnstudio._atomic import atomic_path
from nnstudio.training._spool import (
    DEFAULT_MAX_MB, MAX_MB_ENV, CsvExport, _close_files, _Level, _megabytes, _new_file, _read, _ReadFailed,
    _temp_dir, _write, default_max_spool_bytes,
)
from nnstudio.training.reportblock import ReportBlock
from nnstudio.training._units import (
    _CNT, _MAX, _MIN, _SUM, _UNIT_BYTES, _X0, _X1, _combine, _moving_mean, _reduce_groups, _reduce_runs,
    _units_of_rows,
)

__all__ = [
    "COLUMNS", "STEP", "EPOCH", "BATCH", "SEEN", "COST", "LR", "BS", "ROW", "DEFAULT_MAX_MB", "MAX_MB_ENV",
    "default_max_spool_bytes", "CsvExport", "Trace", "Epochs", "TrainingHistory",
]

COLUMNS = ("step", "epoch", "batch", "examples_seen", "cost", "learning_rate", "batch_size")
STEP, EPOCH, BATCH, SEEN, COST, LR, BS = range(len(COLUMNS))
#: one mini-batch as stored in the spool (packed, 44 bytes; the cost is NaN for a diverged batch)
ROW = np.dtype([("step", "<i8"), ("epoch", "<i4"), ("batch", "<i4"), ("examples_seen", "<i8"),
                ("cost", "<f8"), ("learning_rate", "<f8"), ("batch_size", "<i4")])
_SEEN_OFFSET = ROW.fields["examples_seen"][1]


@dataclass(frozen=True)
class Trace:
    """What the cost plot draws for one x range (see :meth:`TrainingHistory.trace`).

    ``x, y``: the per-mini-batch trace: the exact costs when ``exact`` (one point per mini-batch,
    NaN for a diverged one), otherwise a min/max envelope, two points per column (first x, min;
    last x, max) so every cost in the column is within the drawn stroke.  ``sx, sy``: the
    moving mean of the finite costs.  ``rows``: the mini-batch rows [r0, r1) covered; ``unit``:
    mini-batches per unit read (1 = the rows themselves); ``source``: where they came from
    ("recent", "spool", "summary" or "level <k>").  A range reaching into rows no longer kept
    (:attr:`TrainingHistory.missing_rows`) is never exact: ``unit`` and ``source`` are then
    those of the coarse part, which the recent rows may follow one unit each."""

    x: np.ndarray
    y: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    exact: bool
    rows: tuple[int, int]
    unit: int
    source: str


class Epochs(Sequence):
    """Read-only list of the finished epochs: ``(epoch, examples_seen, mean train cost, test
    accuracy or None, test cost or None)`` tuples, like the list it replaces."""

    def __init__(self, history: TrainingHistory):
        self._h = history

    def __len__(self) -> int:
        return self._h._ne

    def __getitem__(self, i):
        n = self._h._ne
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("epoch index out of range")
        e = self._h._ep[i]
        flags = int(e[6])
        return (int(e[0]), int(e[1]), float(e[2]), float(e[3]) if flags & 1 else None,
                float(e[4]) if flags & 2 else None)

    def __repr__(self) -> str:
        return f"Epochs({list(self)!r})"


class TrainingHistory:
    """Every mini-batch report of the current run (on disk), a bounded summary of it (in memory),
    and one row per finished epoch.

    ``n`` rows so far; ``n_train`` is the training-set size (for an "epochs" x axis);
    ``cost_min``/``cost_max`` over the finite costs; ``version`` changes on every change.
    ``max_spool_bytes`` caps the temporary files (``None``: ``NNSTUDIO_HISTORY_MAX_MB``, else
    4,096 MB; ``math.inf``: no cap); ``spool_error`` is ``None`` while every row reaches the disk,
    else the one-line reason it stopped (see the module's docstring).
    Call :meth:`close` when done (the garbage collector does it otherwise)."""

    FANOUT = 16  # mini-batches per record of the first on-disk level (and ratio between levels)

    def __init__(self, recent: int = 8192, buckets: int = 4096, max_spool_bytes: float | None = None):
        self.recent_size = max(16, int(recent))
        self._nbuckets = max(16, int(buckets))
        #: cap on the temporary files (spool + pyramid), in bytes; read at every extend()
        self.max_spool_bytes = default_max_spool_bytes() if max_spool_bytes is None else max_spool_bytes
        self._files: list = []  # every open temporary file (closed by close() or at GC)
        self._finalizer = weakref.finalize(self, _close_files, self._files)
        self._ring = np.zeros(2 * self.recent_size, ROW)  # the recent rows: [_ring0, n)
        self._summary = np.zeros((self._nbuckets, 6))
        self._ep = np.zeros((16, 7))  # epoch, seen, train cost, accuracy, test cost, row, flags
        self._ep_cs = np.zeros((17, 4))  # running sums: finite train cost, its count, accuracy, count
        self.version = 0
        self.generation = 0  # bumped by clear(): the rows before it are gone
        self.n_train = 0  # training-set size, for the "epochs" x axis
        self._reset()

    def _reset(self) -> None:
        _close_files(self._files)
        self._spool = None
        self._levels: list[_Level] = []
        self.n = 0
        self.cost_min = math.inf  # over the finite costs
        self.cost_max = -math.inf
        self._ring0 = 0  # row index of _ring[0]
        self._width = 1  # mini-batches per summary bucket
        self._ne = 0
        self.accuracy_min = math.inf  # over the epochs' test accuracies (0..1)
        self.accuracy_max = -math.inf
        self.last_accuracy: tuple[int, float] | None = None  # (epoch, test accuracy) most recently measured
        # the disk: rows [0, _spooled) are in the spool, the pyramid covers rows [0, _leveled);
        # both equal n until spooling stops (then they stay put, or drop to 0 with their files)
        self._spooled = 0
        self._leveled = 0
        #: None while every row reaches the disk; else one line saying why the spool stopped
        self.spool_error: str | None = None
        #: True when the spool stopped at max_spool_bytes (it is kept: its rows stay readable)
        self.spool_limit_reached = False
        self._why = ""  # short reason, for export notes
        self._first_step = 0  # step of row 0
        self._gap_step0 = 0  # step of row _spooled (the first one not spooled)
        self._evicted_step = 0  # step of row _ring0 - 1 (the last one to leave the ring)
        #: what the last to_csv() wrote (a CsvExport), None before any
        self.last_export: CsvExport | None = None

    def clear(self) -> None:
        """Forget everything (the temporary files are closed: their disk space is freed).  A
        stopped spool (``spool_error``) starts again with the next rows."""
        self._reset()
        self.generation += 1
        self.version += 1

    def close(self) -> None:
        """Release the temporary files.  (The history stays usable: it is empty, as after clear().)"""
        self.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _tempfile(self):
        f = _new_file()
        self._files.append(f)
        return f

    def _drop(self, f) -> None:
        if f is not None:
            self._files.remove(f)
            f.close()

    # ------------------------------------------------------------------ when the disk fails
    @property
    def spooling(self) -> bool:
        """True while every new row goes to the disk."""
        return self.spool_error is None

    def _capacity(self) -> float:
        """Rows the spool may hold so that it and its pyramid (at most 1/(FANOUT-1) records per
        row) stay within max_spool_bytes."""
        cap = self.max_spool_bytes
        if cap is None or math.isinf(cap):
            return math.inf
        f = self.FANOUT - 1
        return max(0, int(cap * f // (ROW.itemsize * f + _UNIT_BYTES)))

    def _stop(self, why: str, message: str, drop_spool: bool, drop_levels: bool) -> None:
        """Stop appending to the disk (for good, until clear()); free what is dropped."""
        if drop_spool and self._spool is not None:
            self._drop(self._spool)
            self._spool = None
        if drop_spool:
            self._spooled = 0
        if drop_levels:
            for lv in self._levels:
                self._drop(lv.file)
            self._levels = []
            self._leveled = 0
        self._why = why
        self.spool_error = message
        self.version += 1

    def _io_failed(self, e: OSError, reading: bool, drop_levels: bool = True) -> None:
        where = _temp_dir()
        why = e.strerror or str(e) or type(e).__name__
        verb = "read back from" if reading else "written to"
        short = f"the history could not be {verb} {where} ({why})"
        self.spool_limit_reached = False
        self._stop(short, f"The training history could not be {verb} {where} ({why}); older mini-batches are "
                   f"kept only as a summary: the cost plot still shows every one as a min/max envelope, and a "
                   f"CSV export has only the latest {self.recent_size:,} or more.", True, drop_levels)

    def _spool_rows(self, rows: np.ndarray, u: np.ndarray) -> None:
        """Rows n.. (and their units) to the spool and the pyramid, up to the cap; never raises
        OSError: a failure stops spooling instead."""
        i, k = self.n, len(rows)
        j = min(k, max(0, self._capacity() - i))  # rows that fit
        stage = "spool"
        try:
            if j:
                if self._spool is None:
                    self._spool = self._tempfile()
                _write(self._spool, rows[:j])
                self._spooled = i + j
                stage = "levels"
                self._push(1, u if j == k else u[:j])
                self._leveled = i + j
        except OSError as e:
            # a failed spool write leaves the pyramid as it was (rows [0, i)): keep it; a failed
            # pyramid write leaves it inconsistent: drop it (and the spool: the disk is failing)
            self._io_failed(e, reading=False, drop_levels=stage == "levels")
            return
        if j < k:
            self._gap_step0 = int(rows[j]["step"])
            limit = _megabytes(self.max_spool_bytes)
            self.spool_limit_reached = True
            self._stop(f"the full-resolution history reached its {limit} limit on disk",
                       f"The full-resolution training history reached its {limit} limit on disk ({MAX_MB_ENV}): "
                       f"the cost plot still shows every mini-batch as a min/max envelope; a CSV export covers "
                       + (f"the first {i + j:,} mini-batches and " if i + j else "")
                       + f"the latest {self.recent_size:,} or more.", False, False)

    @property
    def missing_rows(self) -> tuple[int, int] | None:
        """The rows [r0, r1) no longer kept at full resolution (in neither the spool nor the
        recent rows), or None: :meth:`rows` and :meth:`to_csv` leave them out; :meth:`trace`
        draws them from the summary."""
        s, r = self._spooled, self._ring0
        return (s, r) if s < r else None

    @property
    def missing_steps(self) -> tuple[int, int] | None:
        """The steps of the first and last of :attr:`missing_rows`, or None."""
        if self._spooled >= self._ring0:
            return None
        return (self._gap_step0 if self._spooled else self._first_step), self._evicted_step

    @property
    def rows_available(self) -> int:
        """How many rows :meth:`rows` (and a CSV export) still has: ``n`` unless rows are missing."""
        gap = self.missing_rows
        return self.n - (gap[1] - gap[0] if gap else 0)

    def _available(self) -> list[tuple[int, int]]:
        """The row ranges kept at full resolution, in order."""
        gap = self.missing_rows
        if gap is None:
            return [(0, self.n)] if self.n else []
        return [(a, b) for a, b in ((0, gap[0]), (gap[1], self.n)) if a < b]

    def _has(self, r0: int, r1: int) -> bool:
        """Are rows [r0, r1) all kept at full resolution?"""
        return r1 <= self._spooled or r0 >= self._ring0 or self._spooled >= self._ring0

    # ------------------------------------------------------------------ recording
    @property
    def epochs(self) -> Epochs:
        return Epochs(self)

    def append(self, r) -> None:
        """Record one BatchReport."""
        self.extend([r])

    def extend(self, reports) -> None:
        """Record many BatchReports at once (what the window's display timer drains): a list, or
        a :class:`~nnstudio.training.reportblock.ReportBlock` (columns copied: no Python per
        mini-batch).  Never raises for a problem with the disk: see :attr:`spool_error`."""
        k = len(reports)
        if not k:
            return
        if isinstance(reports, ReportBlock):
            w = reports.rows
            rows = np.empty(k, dtype=ROW)
            for f in ("step", "epoch", "batch", "examples_seen", "learning_rate", "batch_size"):
                rows[f] = w[f]
            rows["cost"] = np.where(w["diverged"], np.nan, w["cost"])
            ends = list(reports.epoch_ends())
        else:
            nan = math.nan
            rows = np.array([(r.step, r.epoch, r.batch, r.examples_seen, nan if r.diverged else r.cost,
                              r.learning_rate, r.batch_size) for r in reports], dtype=ROW)
            ends = [(j, r) for j, r in enumerate(reports) if r.epoch_end is not None]
        i = self.n
        if i == 0:
            self._first_step = int(rows[0]["step"])
        u = _units_of_rows(rows)
        if self.spool_error is None:
            self._spool_rows(rows, u)
        self._to_ring(rows)
        self._summarise(i, u)
        if np.any(u[:, _CNT]):
            self.cost_min = min(self.cost_min, float(np.fmin.reduce(u[:, _MIN])))
            self.cost_max = max(self.cost_max, float(np.fmax.reduce(u[:, _MAX])))
        self.n = i + k
        for j, r in ends:
            self._add_epoch(r, i + j)
        self.version += 1

    def _to_ring(self, rows: np.ndarray) -> None:
        ring, k, cap = self._ring, len(rows), len(self._ring)
        n, r0 = self.n, self._ring0
        used = n - r0
        if k >= cap:
            new0 = n + k - cap
        elif used + k > cap:  # keep the last (recent_size - k) rows, at the front
            new0 = r0 + used - max(0, self.recent_size - k)
        else:
            new0 = r0
        if new0 > r0:  # remember the step of the last row to leave
            last = new0 - 1
            self._evicted_step = int(rows[last - n]["step"] if last >= n else ring[last - r0]["step"])
        if k >= cap:
            ring[:] = rows[-cap:]
            self._ring0 = new0
            return
        if new0 > r0:
            keep = n - new0
            ring[:keep] = ring[used - keep : used]
            self._ring0 = new0
            used = keep
        ring[used : used + k] = rows

    def _summarise(self, i: int, u: np.ndarray) -> None:
        """Fold units of rows i.. into the in-memory buckets (merging pairs when they run out)."""
        k = len(u)
        while -(-(i + k) // self._width) > self._nbuckets:
            s, nb = self._summary, -(-i // self._width)
            half = nb // 2
            merged = _combine(s[0 : 2 * half : 2], s[1 : 2 * half : 2])
            s[:half] = merged
            if nb % 2:
                s[half] = s[nb - 1]
            self._width *= 2
        w = self._width
        first = (-i) % w  # rows until the next bucket starts
        starts = np.arange(first, k, w)
        if first:
            starts = np.concatenate(([0], starts))
        rec = _reduce_groups(u, starts)
        b = i // w
        if i % w:
            rec[0] = _combine(self._summary[b], rec[0])
        self._summary[b : b + len(rec)] = rec

    def _push(self, level: int, u: np.ndarray) -> None:
        """Units of level ``level - 1`` arrive: whole groups of FANOUT become level ``level``
        records (on disk), which go on up."""
        if level > len(self._levels):
            self._levels.append(_Level(self._tempfile()))
        lv = self._levels[level - 1]
        if len(lv.tail):
            u = np.concatenate((lv.tail, u))
        f = self.FANOUT
        m = len(u) // f * f
        if m:
            rec = _reduce_runs(u[:m], f)
            _write(lv.file, rec)
            lv.count += len(rec)
            self._push(level + 1, rec)
        lv.tail = u[m:].copy()

    def _add_epoch(self, r, row: int) -> None:
        e = r.epoch_end
        i = self._ne
        if i == len(self._ep):
            self._ep = np.concatenate((self._ep, np.zeros_like(self._ep)))
            self._ep_cs = np.concatenate((self._ep_cs, np.zeros((len(self._ep) + 1 - len(self._ep_cs), 4))))
        acc, tc = e.test_accuracy, e.test_cost
        flags = (acc is not None) | (tc is not None) << 1
        self._ep[i] = (e.epoch, r.examples_seen, e.train_cost, math.nan if acc is None else acc,
                       math.nan if tc is None else tc, row, flags)
        c_ok = math.isfinite(e.train_cost)
        a_ok = acc is not None and math.isfinite(acc)
        self._ep_cs[i + 1] = self._ep_cs[i] + (e.train_cost if c_ok else 0.0, c_ok, acc if a_ok else 0.0, a_ok)
        if a_ok:
            self.accuracy_min = min(self.accuracy_min, acc)
            self.accuracy_max = max(self.accuracy_max, acc)
            self.last_accuracy = (int(e.epoch), float(acc))
        self._ne = i + 1

    # ------------------------------------------------------------------ reading rows
    def _rows(self, r0: int, r1: int) -> np.ndarray:
        """The kept rows among [r0, r1) (clamped): the spool's below the recent rows, then the
        recent ones.  May raise OSError (a failed read of the spool)."""
        r1 = min(r1, self.n)
        r0 = max(0, min(r0, r1))
        ring0 = self._ring0
        if r0 >= ring0:
            return self._ring[r0 - ring0 : r1 - ring0].copy()
        e = min(r1, self._spooled, ring0)  # rows [r0, e) from the spool
        old = _read(self._spool, ROW, r0, e) if e > r0 else np.empty(0, ROW)
        if r1 <= ring0:
            return old
        return np.concatenate((old, self._ring[: r1 - ring0]))

    def _safely(self, fn, *args):
        """fn(*args); if reading the history's files fails, drop them and do it from memory."""
        try:
            return fn(*args)
        except OSError as e:
            self._io_failed(e, reading=True)
            return fn(*args)

    def rows(self, r0: int = 0, r1: int | None = None) -> np.ndarray:
        """Rows [r0, r1) as a :data:`ROW` array (from memory when recent, else from the spool).
        Only the rows still kept: when :attr:`missing_rows` is not None, those in it are left
        out (their ``step`` column shows the jump)."""
        return self._safely(self._rows, r0, self.n if r1 is None else r1)

    def iter_rows(self, block: int = 65536):
        """The kept rows (see :meth:`rows`) from the first, ``block`` at a time (streamed from
        the spool); each block is consecutive rows."""
        for a, b in self._available():
            for s in range(a, b, block):
                rows = self.rows(s, min(b, s + block))
                if len(rows):
                    yield rows

    def column(self, c: int) -> np.ndarray:
        """One column of every kept row (see :meth:`rows`), as float64.  O(n): reads the whole
        spool (for exports and tests)."""
        return self.rows()[COLUMNS[c]].astype(float)

    @property
    def costs(self) -> np.ndarray:
        """Every kept mini-batch cost (NaN: diverged; see :meth:`rows`).  O(n), see :meth:`column`."""
        return self.column(COST)

    @property
    def examples_seen(self) -> np.ndarray:
        return self.column(SEEN)

    @property
    def last_cost(self) -> float:
        return float(self._ring[self.n - 1 - self._ring0]["cost"]) if self.n else math.nan

    @property
    def epoch_seen_max(self) -> int:
        """Examples seen at the end of the last finished epoch (0 if none)."""
        return int(self._ep[self._ne - 1, 1]) if self._ne else 0

    @property
    def last_seen(self) -> int:
        return int(self._ring[self.n - 1 - self._ring0]["examples_seen"]) if self.n else 0

    def recent_mean(self, window: int) -> float:
        """Mean of the finite costs of the last ``window`` mini-batches (≤ recent_size); NaN if none."""
        c = self._ring[max(0, self.n - window - self._ring0) : self.n - self._ring0]["cost"]
        c = c[np.isfinite(c)]
        return float(c.mean()) if len(c) else math.nan

    def memory_bytes(self) -> int:
        """RAM held by this history's arrays (the spool and the pyramid are on disk)."""
        return int(self._ring.nbytes + self._summary.nbytes + self._ep.nbytes + self._ep_cs.nbytes
                   + sum(lv.tail.nbytes for lv in self._levels))

    def disk_bytes(self) -> int:
        """Bytes in the temporary files (the spool and the pyramid): at most max_spool_bytes."""
        spool = self._spooled if self._spool is not None else 0
        return spool * ROW.itemsize + sum(lv.count for lv in self._levels) * _UNIT_BYTES

    @property
    def bucket_width(self) -> int:
        """Mini-batches per bucket of the in-memory summary."""
        return self._width

    # ------------------------------------------------------------------ locating x
    def _seen_at(self, row: int) -> int:
        if row >= self._ring0:
            return int(self._ring[row - self._ring0]["examples_seen"])
        f = self._spool
        f.seek(row * ROW.itemsize + _SEEN_OFFSET)
        b = f.read(8)
        if len(b) != 8:
            raise OSError("the training history's temporary file is shorter than expected")
        return int(np.frombuffer(b, "<i8")[0])

    def row_of(self, seen: float, side: str = "left") -> int:
        """First row whose examples-seen is ≥ ``seen`` (side "left") or > ``seen`` ("right");
        ``n`` if none.  O(log n): the summary finds the bucket, then a binary search in it.
        In :attr:`missing_rows` the rows are not there to search: the answer is then the
        bucket's bound on the side that widens a range (its first row for "left", its last
        for "right")."""
        return self._safely(self._row_of, seen, side)

    def _row_of(self, seen: float, side: str) -> int:
        n = self.n
        if n == 0:
            return 0
        w = self._width
        nb = -(-n // w)
        b = int(np.searchsorted(self._summary[:nb, _X1], seen, side=side))
        if b >= nb:
            return n
        lo, hi = b * w, min(n, (b + 1) * w)  # the answer is in [lo, hi)
        if lo >= self._ring0:
            seen_col = self._ring[lo - self._ring0 : hi - self._ring0]["examples_seen"]
            return lo + int(np.searchsorted(seen_col, seen, side=side))
        x0 = self._summary[b, _X0]
        if x0 > seen or (side == "left" and x0 == seen):  # the bucket's first row qualifies
            return lo
        hi -= 1  # the bucket's last row is known to qualify: the answer is in [lo, hi]

        def qualifies(row: int) -> bool:
            v = self._seen_at(row)
            return v > seen or (side == "left" and v == seen)

        gap = self.missing_rows
        if gap is not None and lo < gap[1] and gap[0] <= hi:  # narrow [lo, hi] to kept rows
            g0, g1 = gap
            if g0 > lo and qualifies(g0 - 1):
                hi = g0 - 1
            else:
                lo = max(lo, g0)
                if g1 < hi and not qualifies(g1):
                    lo = g1 + 1
                elif lo < min(g1, hi):  # the answer is among the missing rows: a bound
                    return lo if side == "left" else min(g1, hi)
        while lo < hi:
            mid = (lo + hi) // 2
            if qualifies(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    # ------------------------------------------------------------------ what to draw
    def _units(self, r0: int, r1: int, width: int):
        """The units covering rows [r0, r1) at the coarsest resolution that still gives about one
        per pixel column: (units, mini-batches per unit, source, first row covered, row after
        the last covered)."""
        m = r1 - r0
        w = self._width
        n = self.n
        if m >= width * w:
            b0, b1 = r0 // w, -(-r1 // w)
            return self._summary[b0:b1], w, "summary", b0 * w, min(n, b1 * w)
        f = self.FANOUT
        if r1 <= self._leveled:
            for level in range(len(self._levels), 0, -1):
                size = f**level
                if size < w and m >= width * size:
                    j0 = r0 // size
                    u = self._level_units(level, j0, -(-r1 // size))
                    return u, size, f"level {level}", j0 * size, min(self._leveled, (j0 + len(u)) * size)
        if self._has(r0, r1):
            rows = self._rows(r0, r1)
            return _units_of_rows(rows), 1, "recent" if r0 >= self._ring0 else "spool", r0, r1
        return self._patched_units(r0, r1, width)

    def _patched_units(self, r0: int, r1: int, width: int):
        """[r0, r1) reaches into the missing rows: up to the recent rows, the finest record
        still covering them (a pyramid level if it reaches that far, else the summary), then
        the recent rows themselves."""
        m, w, f = r1 - r0, self._width, self.FANOUT
        e = min(r1, self._ring0)  # the coarse part covers [r0, e)
        levels = [k for k in range(1, len(self._levels) + 1) if f**k < w] if e <= self._leveled else []
        if levels:
            level = max((k for k in levels if m >= width * f**k), default=levels[0])
            size = f**level
            j0 = r0 // size
            u = self._level_units(level, j0, -(-e // size))
            source, c0, c1 = f"level {level}", j0 * size, min(self._leveled, (j0 + len(u)) * size)
        else:
            size = w
            b0, b1 = r0 // w, -(-e // w)
            u, source, c0, c1 = self._summary[b0:b1], "summary", b0 * w, min(self.n, b1 * w)
        if c1 < r1:  # (c1 >= the first recent row)
            u = np.concatenate((u, _units_of_rows(self._ring[c1 - self._ring0 : r1 - self._ring0])))
            c1 = r1
        return u, size, source, c0, c1

    def _level_units(self, level: int, j0: int, j1: int) -> np.ndarray:
        lv = self._levels[level - 1]
        out = _read(lv.file, None, j0, min(j1, lv.count))
        if j1 > lv.count:  # the last, partial record: the tails of this level and those below
            tails = [t.tail for t in reversed(self._levels[:level]) if len(t.tail)]
            if tails:
                part = np.concatenate(tails)
                out = np.concatenate((out, _reduce_groups(part, np.zeros(1, np.intp))))
        return out

    def trace(self, seen_lo: float | None = None, seen_hi: float | None = None, width: int = 1000) -> Trace:
        """The cost trace for examples seen in [seen_lo, seen_hi] (default: the whole run), for a
        plot ``width`` pixels wide: O(width) work and reads whatever the run's length.

        Rows come at the coarsest resolution that gives at least one unit per pixel column: the
        in-memory summary, a level of the on-disk pyramid, or the rows themselves (the recent
        ones from memory, older ones from the spool) when zoomed in that far.  One row either
        side of the range is included so the lines reach the edges.  A range reaching into
        :attr:`missing_rows` is an envelope (never exact): the finest record still covering
        those rows (a pyramid level, else the summary; ``unit`` is its size), then the recent
        rows one unit each."""
        return self._safely(self._trace, seen_lo, seen_hi, width)

    def _trace(self, seen_lo, seen_hi, width) -> Trace:
        width = max(1, int(width))
        n = self.n
        if n == 0:
            e = np.empty(0)
            return Trace(e, e, e, e, True, (0, 0), 1, "recent")
        if seen_lo is None:
            r0, r1 = 0, n
        else:
            r0 = max(0, self._row_of(seen_lo, "left") - 1)
            r1 = min(n, self._row_of(seen_hi, "right") + 1)
            r1 = max(r1, min(n, r0 + 1))
        units, unit, source, first, stop = self._units(r0, r1, width)
        k = len(units)
        g = max(1, -(-k // width))  # units per column
        cols = _reduce_groups(units, np.arange(0, k, g)) if g > 1 else units
        if g == 1 and unit == 1:  # the costs themselves
            x, y, exact = cols[:, _X0].copy(), cols[:, _MIN].copy(), True
        else:  # min/max envelope: a zig-zag within each column
            x = np.empty(2 * len(cols))
            y = np.empty_like(x)
            x[0::2], x[1::2] = cols[:, _X0], cols[:, _X1]
            y[0::2], y[1::2] = cols[:, _MIN], cols[:, _MAX]
            exact = False
        covered = stop - first
        window = max(5, min(200, covered // 25))  # mini-batches in the moving mean
        sy = _moving_mean(cols[:, _SUM], cols[:, _CNT], round(window / (g * unit)))
        return Trace(x, y, cols[:, _X1].copy(), sy, exact, (first, stop), unit, source)

    def epoch_trace(self, seen_lo: float | None = None, seen_hi: float | None = None,
                    width: int = 1000, max_points: int | None = None):
        """Per-epoch points in [seen_lo, seen_hi] (one either side too): ``(x, mean train cost,
        accuracy in %, exact)``.  Up to ``max_points`` (default ``width``) every epoch is given;
        beyond, the means per group of consecutive epochs (O(width) from running sums)."""
        ne = self._ne
        if ne == 0:
            e = np.empty(0)
            return e, e, e, True
        seen = self._ep[:ne, 1]
        e0, e1 = 0, ne
        if seen_lo is not None:
            e0 = max(0, int(np.searchsorted(seen, seen_lo)) - 1)
            e1 = min(ne, int(np.searchsorted(seen, seen_hi, side="right")) + 1)
            e1 = max(e1, min(ne, e0 + 1))
        cap = max(1, width if max_points is None else max_points)
        if e1 - e0 <= cap:
            ep = self._ep[e0:e1]
            return ep[:, 1].copy(), ep[:, 2].copy(), 100.0 * ep[:, 3], True
        g = -(-(e1 - e0) // max(1, width))
        lo = np.arange(e0, e1, g)
        hi = np.minimum(lo + g, e1)
        cs = self._ep_cs
        with np.errstate(invalid="ignore", divide="ignore"):
            cost = (cs[hi, 0] - cs[lo, 0]) / (cs[hi, 1] - cs[lo, 1])
            acc = 100.0 * (cs[hi, 2] - cs[lo, 2]) / (cs[hi, 3] - cs[lo, 3])
        x = seen[(lo + hi - 1) // 2]
        return x, cost, acc, False

    # ------------------------------------------------------------------ export
    def to_csv(self, path) -> Path:
        """Write every kept mini-batch row as CSV (epoch-ending rows carry the epoch's mean cost
        and test results), streamed from the spool, atomically.  Every row when ``spool_error``
        is None; otherwise the rows still kept (see :meth:`rows`): :attr:`last_export` (a
        :class:`CsvExport`) says how many and which steps are missing, in a sentence for the
        user.  An OSError is about ``path`` (e.g. a missing folder, a full disk): nothing is
        written then."""
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
            while True:
                try:
                    written = self._write_csv(f)
                    break
                except _ReadFailed as e:  # the spool went bad: drop it and write what is left
                    self._io_failed(e.error, reading=True)
                    f.seek(0)
                    f.truncate()
        gap, steps, note = self.missing_rows, self.missing_steps, None
        if gap is not None:
            note = (f"{written:,} of {self.n:,} mini-batches: steps {steps[0]:,} to {steps[1]:,} "
                    f"({gap[1] - gap[0]:,} mini-batches) are not in the file; {self._why}")
        self.last_export = CsvExport(path, written, self.n, gap, steps, note)
        return path

    def _write_csv(self, f) -> int:
        epochs = self.epochs
        end_rows = self._ep[: self._ne, 5].astype(np.int64)  # ascending
        # (what csv.writer writes for these numbers, formatted ~2x faster: floats as repr)
        f.write(",".join(COLUMNS + ("epoch_mean_cost", "test_accuracy", "test_cost")) + "\r\n")
        written = 0
        for a, b in self._available():
            for start in range(a, b, 65536):
                try:
                    rows = self._rows(start, min(b, start + 65536))
                except OSError as e:
                    raise _ReadFailed(e) from e
                lrs = rows["learning_rate"].tolist()
                lr_text = {v: repr(v) for v in set(lrs)}  # few distinct learning rates
                cols = [rows[c].tolist() for c in ("step", "epoch", "batch", "examples_seen", "cost")]
                lines = [f"{a},{b},{c},{d},{e!r},{lr},{bs},,,\r\n" for a, b, c, d, e, lr, bs
                         in zip(*cols, map(lr_text.__getitem__, lrs), rows["batch_size"].tolist())]
                k0, k1 = np.searchsorted(end_rows, (start, start + len(rows)))
                for k in range(int(k0), int(k1)):
                    e = epochs[k]
                    i = int(end_rows[k]) - start
                    lines[i] = lines[i][: -len(",,,\r\n")] + "".join(
                        (",", repr(e[2]), ",", "" if e[3] is None else repr(e[3]),
                         ",", "" if e[4] is None else repr(e[4]), "\r\n"))
                f.write("".join(lines))
                written += len(rows)
        return written
