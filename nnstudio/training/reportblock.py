"""Consecutive mini-batch reports as one array: what the training process sends the GUI.

At full speed the trainer makes 30,000-60,000 mini-batches a second.  One Python object per
mini-batch on the GUI's side (unpickled, turned into a :class:`~nnstudio.core.BatchReport`,
then into a row of the history) cost the GUI process a fifth of a core, more than drawing the
diagram.  A :class:`ReportBlock` carries the same reports as one NumPy array (:data:`WIRE`,
pickled as one buffer), so the GUI's work per block does not depend on how many mini-batches
it holds: :meth:`nnstudio.training.history.TrainingHistory.extend` copies columns, and only the
rare reports that carry objects (an epoch's end, a batch whose indices are not a slice of the
epoch's order) and the last one (:meth:`ReportBlock.last`) become ``BatchReport`` objects.

A batch's example indices are a slice of its epoch's order (``perm`` names it, ``offset`` is
where the slice starts); the orders a block needs travel with it (``perms``), by reference.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nnstudio.core.trainer import BatchReport

#: one mini-batch report on the wire (the fields of BatchReport that are numbers)
WIRE = np.dtype([("epoch", "<i8"), ("batch", "<i8"), ("offset", "<i8"), ("cost", "<f8"), ("seconds", "<f8"),
                 ("examples_seen", "<i8"), ("step", "<i8"), ("learning_rate", "<f8"), ("batch_size", "<i8"),
                 ("diverged", "?"), ("perm", "<i8")])


def wire_row(r: BatchReport, perm_id: int) -> tuple:
    """A report as a tuple of :data:`WIRE`'s fields (``perm_id`` -1: its indices travel in
    :attr:`ReportBlock.extras`)."""
    return (r.epoch, r.batch, r.offset, r.cost, r.seconds, r.examples_seen, r.step, r.learning_rate,
            r.batch_size, r.diverged, perm_id)


class ReportBlock:
    """``len(block)`` consecutive BatchReports.

    ``rows``: a :data:`WIRE` array; ``extras``: {row: (epoch_end, indices or None)} for the rows
    that carry an :class:`~nnstudio.core.trainer.EpochReport` or indices of their own;
    ``perms``: {perm id: the epoch order the rows' indices are slices of}."""

    __slots__ = ("rows", "extras", "perms")

    def __init__(self, rows: np.ndarray, extras: dict | None = None, perms: dict | None = None):
        self.rows = rows
        self.extras = extras or {}
        self.perms = perms or {}

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"ReportBlock({len(self)} reports, steps {self.rows['step'][0] if len(self) else '-'}..)"

    @classmethod
    def of(cls, reports) -> "ReportBlock":
        """The block of a list of BatchReports (each carries its own indices)."""
        rows = np.array([wire_row(r, -1) for r in reports], dtype=WIRE)
        extras = {i: (r.epoch_end, np.asarray(r.indices)) for i, r in enumerate(reports)}
        return cls(rows, extras)

    def report(self, i: int) -> BatchReport:
        """Row ``i`` as a BatchReport."""
        if i < 0:
            i += len(self.rows)
        row = self.rows[i]
        end, idx = self.extras.get(i, (None, None))
        off, bs, pid = int(row["offset"]), int(row["batch_size"]), int(row["perm"])
        if idx is None:
            perm = self.perms.get(pid)
            idx = perm[off : off + bs] if perm is not None else np.empty(0, dtype=np.int64)
        return BatchReport(int(row["epoch"]), int(row["batch"]), idx, float(row["cost"]), float(row["seconds"]),
                           int(row["examples_seen"]), int(row["step"]), float(row["learning_rate"]), bs, end,
                           bool(row["diverged"]), off)

    def last(self) -> BatchReport:
        return self.report(-1)

    def epoch_ends(self) -> Iterator[tuple[int, BatchReport]]:
        """(row, report) of the rows that end an epoch, in order."""
        for i in sorted(self.extras):
            if self.extras[i][0] is not None:
                yield i, self.report(i)

    def __iter__(self) -> Iterator[BatchReport]:
        return (self.report(i) for i in range(len(self.rows)))


class BlockBuilder:
    """Collects a training process's reports into :data:`WIRE` rows at little cost per mini-batch.

    A run of ordinary consecutive mini-batches (one epoch, one batch size, one η, one epoch
    order, nothing diverged) is kept as two lists of floats (the costs and the times) and
    expanded with ``arange`` when the block is built: per mini-batch a few comparisons and two
    appends, instead of a tuple of eleven fields converted into a structured row (0.4 µs).
    Every other report becomes a row of its own, its objects in :attr:`extras`."""

    def __init__(self):
        self._pieces: list = []  # WIRE arrays, in order
        self._closed = 0  # rows in the pieces
        self.extras: dict = {}  # row -> (epoch_end, own indices or None)
        self._run = None  # the open run's first row (a WIRE tuple)
        self._costs: list = []
        self._secs: list = []
        self._next = (0, 0, 0, 0)  # (step, batch, offset, examples seen) the run's next row must have

    def __len__(self) -> int:
        return self._closed + (len(self._costs) if self._run is not None else 0)

    def add(self, r: BatchReport, perm_id: int) -> None:
        run = self._run
        if perm_id >= 0 and r.epoch_end is None and not r.diverged:
            if (run is not None and (r.step, r.batch, r.offset, r.examples_seen) == self._next
                    and r.batch_size == run[8] and r.learning_rate == run[7] and r.epoch == run[0]
                    and perm_id == run[10]):
                self._costs.append(r.cost)
                self._secs.append(r.seconds)
            else:
                self._close()
                self._run = wire_row(r, perm_id)
                self._costs, self._secs = [r.cost], [r.seconds]
            bs = r.batch_size
            self._next = (r.step + 1, r.batch + 1, r.offset + bs, r.examples_seen + bs)
            return
        self._close()
        self.extras[self._closed] = (r.epoch_end, None if perm_id >= 0 else np.array(r.indices))
        self._pieces.append(np.array([wire_row(r, perm_id)], dtype=WIRE))
        self._closed += 1

    def _close(self) -> None:
        run = self._run
        if run is None:
            return
        k = len(self._costs)
        a = np.empty(k, dtype=WIRE)
        i = np.arange(k)
        bs = run[8]
        a["epoch"] = run[0]
        a["batch"] = run[1] + i
        a["offset"] = run[2] + i * bs
        a["cost"] = self._costs
        a["seconds"] = self._secs
        a["examples_seen"] = run[5] + i * bs
        a["step"] = run[6] + i
        a["learning_rate"] = run[7]
        a["batch_size"] = bs
        a["diverged"] = False
        a["perm"] = run[10]
        self._pieces.append(a)
        self._closed += k
        self._run = None
        self._costs, self._secs = [], []

    def take(self) -> tuple[np.ndarray, dict]:
        """The rows so far (in order) and their extras; the builder starts empty again."""
        self._close()
        pieces, extras = self._pieces, self.extras
        rows = pieces[0] if len(pieces) == 1 else (np.concatenate(pieces) if pieces else np.empty(0, dtype=WIRE))
        self._pieces, self._closed, self.extras = [], 0, {}
        return rows, extras
