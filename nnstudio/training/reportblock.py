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
