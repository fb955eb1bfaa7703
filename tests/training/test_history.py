"""The training history keeps EVERY mini-batch in bounded memory (issue 9), and the plots panel
draws a long run from it: an envelope holding every cost, exact costs when zoomed in."""

from __future__ import annotations

import csv
import errno
import gc
import math
import tempfile

import numpy as np
import pytest

from nnstudio.training import history as history_mod
from nnstudio.training.history import LR, ROW, STEP, TrainingHistory

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

N = 1_000_000
EPOCH_ROWS = 1000  # a (fake) epoch every 1000 mini-batches
BATCH = 10


class FakeEpoch:
    __slots__ = ("epoch", "train_cost", "test_accuracy", "test_cost")

    def __init__(self, epoch, train_cost, test_accuracy, test_cost):
        self.epoch, self.train_cost, self.test_accuracy, self.test_cost = epoch, train_cost, test_accuracy, test_cost


class FakeReport:
    """What TrainingHistory reads of a BatchReport (the real one also carries indices etc.)."""

    __slots__ = ("step", "epoch", "batch", "examples_seen", "cost", "learning_rate", "batch_size",
                 "diverged", "epoch_end")

    def __init__(self, i, cost, lr=1.5, bs=BATCH, seen=None, diverged=False, epoch_end=None):
        self.step, self.epoch, self.batch = i + 1, i // EPOCH_ROWS, i % EPOCH_ROWS
        self.examples_seen = bs * (i + 1) if seen is None else seen
        self.cost, self.learning_rate, self.batch_size = cost, lr, bs
        self.diverged, self.epoch_end = diverged, epoch_end


def make_costs(n, seed=0):
    rng = np.random.default_rng(seed)
    costs = 0.1 + 0.8 * np.exp(-np.arange(n) / (n / 8)) + 0.05 * rng.random(n)
    spikes = np.sort(rng.choice(n, 25, replace=False))
    costs[spikes] = 5.0 + np.arange(25)  # each spike a distinct height
    dips = np.sort(rng.choice(n, 5, replace=False))
    costs[dips] = 1e-6 * (1 + np.arange(5))
    diverged = np.sort(rng.choice(n, 7, replace=False))
    costs[diverged] = np.nan
    return costs, spikes, dips, diverged


def fill(h, costs, start=0, stop=None, chunk=250):
    stop = len(costs) if stop is None else stop
    for s in range(start, stop, chunk):
        reports = []
        for i in range(s, min(stop, s + chunk)):
            c = float(costs[i])
            end = None
            if i % EPOCH_ROWS == EPOCH_ROWS - 1:
                e = i // EPOCH_ROWS
                end = FakeEpoch(e + 1, 0.5 / (e + 1), min(1.0, 0.5 + e / 2000), 0.4 / (e + 1))
            reports.append(FakeReport(i, 0.0 if c != c else c, diverged=c != c, epoch_end=end))
        h.extend(reports)


@pytest.fixture(scope="module")
def long_run():
    costs, spikes, dips, diverged = make_costs(N)
    h = TrainingHistory()
    h.n_train = BATCH * EPOCH_ROWS
    fill(h, costs, 0, N // 10)
    mem_early = h.memory_bytes()
    fill(h, costs, N // 10)
    yield h, costs, spikes, dips, diverged, mem_early
    h.close()


def test_a_million_batches_in_bounded_memory(long_run):
    h, costs, _spikes, _dips, _div, mem_early = long_run
    assert h.n == N and len(h.epochs) == N // EPOCH_ROWS
    # RAM: fixed-size recent rows and summary; only the per-epoch rows grow (96 B per epoch)
    grown = h.memory_bytes() - mem_early
    assert h.memory_bytes() < 1.5 * 2**20
    assert grown <= 96 * 2 * len(h.epochs)  # (the epoch arrays double)
    assert h.disk_bytes() >= 44 * N  # every row is on disk
    assert h.bucket_width >= N // 4096
    assert h.cost_max == np.nanmax(costs) and h.cost_min == np.nanmin(costs)
    assert h.last_cost == costs[-1] and h.last_seen == BATCH * N
    assert math.isclose(h.recent_mean(200), np.nanmean(costs[-200:]))


def test_the_envelope_holds_every_spike_and_dip(long_run):
    h, costs, spikes, dips, diverged, _ = long_run
    tr = h.trace(width=800)
    assert not tr.exact and tr.source == "summary" and tr.rows == (0, N)
    assert len(tr.x) <= 2 * 800 and np.all(np.diff(tr.x) >= 0)
    assert not np.isinf(tr.y).any()
    # every one of the million costs lies within its column's [min, max], and each column's
    # min and max are costs of that column: no cost is left out, none is made up
    x0, x1, lo, hi = tr.x[0::2], tr.x[1::2], tr.y[0::2], tr.y[1::2]
    seen = BATCH * np.arange(1, N + 1)
    col = np.searchsorted(x0, seen, side="right") - 1
    assert (col >= 0).all() and (seen <= x1[col]).all()
    ok = np.isfinite(costs)
    assert (lo[col][ok] <= costs[ok]).all() and (costs[ok] <= hi[col][ok]).all()
    starts = np.searchsorted(seen, x0)
    np.testing.assert_array_equal(hi, np.fmax.reduceat(costs, starts))
    np.testing.assert_array_equal(lo, np.fmin.reduceat(costs, starts))
    assert set(costs[spikes]) & set(hi) and set(costs[dips]) <= set(lo)
    # the moving mean: finite, within the costs, rising nowhere near a spike's height
    assert np.isfinite(tr.sy).all() and 0.1 <= tr.sy.min() and tr.sy.max() < 1.5


@pytest.mark.parametrize("r0, r1, source", [(123_456, 123_499, "spool"), (500_000, 510_000, "spool"),
                                            (200_000, 300_000, "level 1"), (N - 3000, N, "recent")])
def test_zooming_into_any_range_reads_it_exactly_or_as_an_envelope(long_run, r0, r1, source):
    h, costs, *_ = long_run
    # examples seen at row i is BATCH * (i + 1)
    tr = h.trace(BATCH * (r0 + 1), BATCH * r1, width=1000)
    assert tr.source.startswith(source)
    a, b = tr.rows
    assert a <= max(0, r0 - 1) and b >= min(N, r1 + 1) and b - a <= (r1 - r0) + 2 * tr.unit + 2
    seg = costs[a:b]
    if tr.exact:  # one point per mini-batch: the costs themselves (NaN: diverged)
        assert tr.unit == 1
        np.testing.assert_array_equal(tr.y, seg)
        np.testing.assert_array_equal(tr.x, BATCH * np.arange(a + 1, b + 1))
    else:
        assert np.nanmax(tr.y) == np.nanmax(seg) and np.nanmin(tr.y) == np.nanmin(seg)
        assert len(tr.x) <= 2 * 1000


def test_a_diverged_batch_is_nan_and_leaves_the_statistics_alone(long_run):
    h, costs, _s, _d, diverged, _ = long_run
    i = int(diverged[0])
    tr = h.trace(BATCH * (i - 5), BATCH * (i + 5), width=1000)
    assert tr.exact
    k = i - tr.rows[0]
    assert math.isnan(tr.y[k]) and np.isfinite(np.delete(tr.y, k)).all()
    assert np.isfinite(tr.sy).all()  # the moving mean skips it
    rows = h.rows(i, i + 1)
    assert math.isnan(rows["cost"][0]) and rows["step"][0] == i + 1

    h2 = TrainingHistory()
    h2.extend([FakeReport(j, 0.0, diverged=True) for j in range(20)])
    assert h2.n == 20 and h2.cost_min == math.inf and h2.cost_max == -math.inf
    assert math.isnan(h2.recent_mean(10)) and math.isnan(h2.last_cost)
    tr = h2.trace()
    assert np.isnan(tr.y).all() and np.isnan(tr.sy).all()
    h2.close()


def test_rows_columns_and_locating_examples_seen(long_run):
    h, costs, *_ = long_run
    assert np.array_equal(h.column(STEP), np.arange(1, N + 1))
    np.testing.assert_array_equal(h.costs, costs)
    assert (h.column(LR) == 1.5).all()
    for seen in (0, 1, 10, 15, 123_450, 123_455, BATCH * N - 1, BATCH * N, BATCH * N + 1):
        assert h.row_of(seen) == min(N, max(0, math.ceil(seen / BATCH) - 1)), seen
        assert h.row_of(seen, side="right") == min(N, max(0, seen // BATCH)), seen
    e = h.epochs
    assert e[0] == (1, BATCH * EPOCH_ROWS, 0.5, 0.5, 0.4) and e[-1][0] == N // EPOCH_ROWS
    assert len(e[2:5]) == 3 and e[-1] == e[len(e) - 1]
    x, cost, acc, exact = h.epoch_trace(width=300)  # 1000 epochs: means of groups
    assert not exact and len(x) <= 300 and np.all(np.diff(x) > 0) and np.isfinite(acc).all()
    x, cost, acc, exact = h.epoch_trace(BATCH * 100_000, BATCH * 110_000, width=300)
    assert exact and list(cost) == [0.5 / k for k in range(99, 112)]  # (one epoch either side)


def test_csv_export_has_every_row(tmp_path):
    n = 30_000
    costs, _s, _d, diverged = make_costs(n, seed=3)
    h = TrainingHistory(recent=1024, buckets=256)  # small: most rows come from the spool
    fill(h, costs[:1001])
    lr = [FakeReport(i, float(costs[i]), lr=0.1 if i < 20_000 else 3.0, bs=BATCH) for i in range(1001, n)]
    for r, c in zip(lr, costs[1001:]):
        r.diverged = c != c
        r.cost = 0.0 if r.diverged else float(c)
    lr[500].epoch_end = FakeEpoch(2, 0.25, None, None)  # no test split
    h.extend(lr)
    path = h.to_csv(tmp_path / "history.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n
    assert [int(r["step"]) for r in rows] == list(range(1, n + 1))
    got = np.array([float(r["cost"]) for r in rows])
    np.testing.assert_array_equal(got, costs)  # (exact: floats as repr, nan for diverged)
    assert {r["learning_rate"] for r in rows} == {"1.5", "0.1", "3.0"}
    ends = [i for i, r in enumerate(rows) if r["epoch_mean_cost"]]
    assert ends == [999, 1501]
    assert rows[999]["test_accuracy"] == "0.5" and rows[999]["test_cost"] == "0.4"
    assert rows[1501]["epoch_mean_cost"] == "0.25" and rows[1501]["test_accuracy"] == ""
    # atomic: a folder that does not exist is an OSError, and nothing is left behind
    with pytest.raises(OSError):
        h.to_csv(tmp_path / "missing" / "h.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv"]
    h.close()


def test_clear_resets_and_close_frees_the_files():
    h = TrainingHistory(recent=64, buckets=32)
    fill(h, np.linspace(1, 0, 5000))
    files = list(h._files)
    assert files and h.n == 5000 and len(h.epochs) == 5
    v, g = h.version, h.generation
    h.clear()
    assert all(f.closed for f in files) and not h._files
    assert h.n == 0 and len(h.epochs) == 0 and h.version > v and h.generation == g + 1
    assert h.cost_min == math.inf and h.last_accuracy is None and h.bucket_width == 1
    assert len(h.trace().x) == 0 and len(h.costs) == 0
    fill(h, np.full(300, 0.25))  # usable again: a fresh spool
    assert h.n == 300 and h.column(STEP)[0] == 1 and (h.costs == 0.25).all()
    files = list(h._files)
    del h
    gc.collect()  # the finalizer closes the files (no ResourceWarning: warnings are errors here)
    assert files and all(f.closed for f in files)


def test_small_extends_match_one_big_extend():
    """The summary and the pyramid do not depend on how the reports are batched."""
    costs, *_ = make_costs(5000, seed=5)
    a, b = TrainingHistory(recent=100, buckets=64), TrainingHistory(recent=100, buckets=64)
    fill(a, costs, chunk=1)
    fill(b, costs, chunk=1999)
    for lo, hi, width, source in ((None, None, 30, "summary"), (BATCH * 1000, BATCH * 4000, 50, "level 1"),
                                  (BATCH * 1000, BATCH * 4000, 300, "spool"), (BATCH * 100, BATCH * 160, 50, "spool")):
        ta, tb = a.trace(lo, hi, width), b.trace(lo, hi, width)
        assert ta.source == tb.source == source and ta.rows == tb.rows
        np.testing.assert_array_equal(ta.y, tb.y)
        np.testing.assert_allclose(ta.sy, tb.sy)
        seg = costs[ta.rows[0] : ta.rows[1]]
        assert np.nanmax(ta.y) == np.nanmax(seg) and np.nanmin(ta.y) == np.nanmin(seg)
    a.close()
    b.close()


# ----------------------------------------------------------------------------------- the panel
def _count(img, rgb, tol=40):
    """Pixels of ``img`` within ``tol`` of colour ``rgb``."""
    from nnstudio.gui.qt import QtGui

    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    a = a[:, : img.width(), 2::-1].astype(int)  # BGRA -> RGB
    return int((np.abs(a - np.array(rgb)).sum(axis=2) < tol).sum())


def test_the_panel_draws_a_long_run_and_zooms_to_the_exact_costs(qtbot, long_run):
    from nnstudio.gui.style import theme
    from nnstudio.gui.views.plots import PlotsPanel
    from nnstudio.gui.qt import QtCore, QtGui, QtWidgets

    h, costs, spikes, *_ = long_run
    p = PlotsPanel()
    qtbot.addWidget(p)
    p.resize(900, 640)
    p.show()
    qtbot.waitExposed(p)
    p.refresh(h)
    assert p.point_count() == N and p.following()
    x, y = p.raw_curve.getOriginalDataset()
    assert len(x) <= 2 * p.cost_plot.width() and np.nanmax(y) == np.nanmax(costs)
    img = p.cost_plot.grab().toImage()
    assert _count(img, QtGui.QColor(theme.ACCENT).getRgb()[:3]) > 200  # the bold epoch means
    assert _count(img, theme.POSITIVE) > 200  # the moving mean
    assert _count(img, (139, 148, 158), tol=60) > 200  # the envelope of every mini-batch (translucent)
    assert _count(p.accuracy_plot.grab().toImage(), QtGui.QColor(theme.GOOD).getRgb()[:3]) > 200
    assert "after epoch 1000" in p.accuracy_label.text()

    # the user zooms in with the wheel: the panel stops following and redraws the view's range
    vb = p.cost_plot.getPlotItem().vb
    view = p.cost_plot.viewport()
    pos = QtCore.QPointF(view.width() * 0.3, view.height() / 2)
    for _ in range(2):
        ev = QtGui.QWheelEvent(pos, view.mapToGlobal(pos), QtCore.QPoint(0, 0), QtCore.QPoint(0, 120),
                               QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier,
                               QtCore.Qt.ScrollPhase.NoScrollPhase, False)
        QtWidgets.QApplication.sendEvent(view, ev)
    assert not p.following()
    lo, hi = vb.viewRange()[0]
    assert hi - lo < 0.9 * BATCH * N
    qtbot.waitUntil(lambda: p.raw_curve.getOriginalDataset()[0][-1] < BATCH * N)  # redrawn for the new range
    # ... and further, to a few dozen old mini-batches: drawn exactly, one point each
    i = int(spikes[3])
    vb.setXRange(BATCH * (i - 20), BATCH * (i + 20), padding=0)
    qtbot.waitUntil(lambda: len(p.raw_curve.getOriginalDataset()[0]) < 200)
    x, y = p.raw_curve.getOriginalDataset()
    rows = (x / BATCH).astype(int) - 1
    np.testing.assert_array_equal(y, costs[rows])
    assert costs[i] in y and p.point_count() == N
    # Reset view: the whole run again
    qtbot.mouseClick(p.reset_button, QtCore.Qt.MouseButton.LeftButton)
    assert p.following()
    x, y = p.raw_curve.getOriginalDataset()
    assert x[0] == BATCH and x[-1] == BATCH * N
    # the epochs axis
    p.x_toggle.click()
    qtbot.waitUntil(lambda: p.x_mode == "epochs")
    x, _ = p.raw_curve.getOriginalDataset()
    assert x[-1] == N // EPOCH_ROWS


# ------------------------------------------------------------------ when the disk fails or fills up
def check_envelope(tr, costs):
    """Every cost of rows tr.rows lies in exactly one column, whose min and max are the min and
    max of its costs: nothing left out, nothing made up (fill's rows: examples seen = 10 (i + 1))."""
    a, b = tr.rows
    seen = BATCH * np.arange(a + 1, b + 1)
    seg = costs[a:b]
    x0, x1, lo, hi = tr.x[0::2], tr.x[1::2], tr.y[0::2], tr.y[1::2]
    assert not tr.exact and x0[0] == seen[0] and x1[-1] == seen[-1]
    starts = np.searchsorted(seen, x0)
    np.testing.assert_array_equal(np.searchsorted(seen, x1, side="right")[:-1], starts[1:])  # back to back
    np.testing.assert_array_equal(hi, np.fmax.reduceat(seg, starts))
    np.testing.assert_array_equal(lo, np.fmin.reduceat(seg, starts))


def full_disk_after(monkeypatch, spool_rows=None, level_writes=None):
    """Make the history's writes fail like a full disk: the spool after ``spool_rows`` rows (the
    failing write lands partly, as a real one can), or the pyramid at write ``level_writes``."""
    real = history_mod._write
    seen = {"rows": 0, "levels": 0, "spools": []}

    def write(f, arr):
        if arr.dtype == ROW:
            seen["spools"].append(f)
            if spool_rows is not None and seen["rows"] + len(arr) > spool_rows:
                real(f, arr[: spool_rows - seen["rows"]])
                raise OSError(errno.ENOSPC, "No space left on device")
            seen["rows"] += len(arr)
        else:
            seen["levels"] += 1
            if level_writes is not None and seen["levels"] >= level_writes:
                raise OSError(errno.ENOSPC, "No space left on device")
        real(f, arr)

    monkeypatch.setattr(history_mod, "_write", write)
    return seen


def spiky_costs(n, seed):
    costs, *_ = make_costs(n, seed=seed)
    costs[n - 2000] = 1e3  # after any failure below: the envelope must still hold them
    costs[n - 1500] = 1e-9
    return costs


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_a_full_disk_stops_the_spool_and_everything_in_memory_carries_on(monkeypatch, tmp_path):
    n = 6000
    costs = spiky_costs(n, seed=7)
    ref = TrainingHistory(recent=64, buckets=64, max_spool_bytes=math.inf)
    fill(ref, costs)
    h = TrainingHistory(recent=64, buckets=64, max_spool_bytes=math.inf)
    state = full_disk_after(monkeypatch, spool_rows=2600)
    fill(h, costs)  # never raises
    monkeypatch.undo()

    assert not h.spooling and not h.spool_limit_reached
    assert "No space left on device" in h.spool_error and tempfile.gettempdir() in h.spool_error
    assert "\n" not in h.spool_error and "summary" in h.spool_error
    spool = state["spools"][0]
    assert spool.closed and spool not in h._files  # its disk space is freed
    assert all(not f.closed for f in h._files)  # the pyramid (rows [0, 2500)) is kept
    assert 0 < h.disk_bytes() < 2500 * 48 / 15 + 1
    # memory: exactly as without the failure
    assert h.n == n and len(h.epochs) == n // EPOCH_ROWS and list(h.epochs) == list(ref.epochs)
    assert h.cost_min == 1e-9 == np.nanmin(costs) and h.cost_max == 1e3 == np.nanmax(costs)
    assert h.last_cost == costs[-1] and h.recent_mean(50) == ref.recent_mean(50)
    assert h.version >= ref.version and h.bucket_width == ref.bucket_width
    whole = h.trace(width=40)  # (the summary's 47 buckets: the same as without the failure)
    np.testing.assert_array_equal(whole.y, ref.trace(width=40).y)
    np.testing.assert_array_equal(whole.sy, ref.trace(width=40).sy)
    whole = h.trace(width=200)  # (without the failure: the pyramid, 16 mini-batches per unit)
    assert whole.rows == (0, n) and whole.source == "summary"
    check_envelope(whole, costs)
    for fn in (lambda t: t.epoch_trace(width=3), lambda t: t.epoch_trace()):
        for a, b in zip(fn(h), fn(ref)):
            np.testing.assert_array_equal(a, b)

    # the rows: only the recent ones are kept now; the rest is one gap, said in rows and steps
    r0, r1 = h.missing_rows
    assert r0 == 0 and n - 128 <= r1 <= n - 64 and h.missing_steps == (1, r1)
    assert h.rows_available == n - r1
    np.testing.assert_array_equal(h.costs, costs[r1:])
    np.testing.assert_array_equal(h.column(STEP), np.arange(r1 + 1, n + 1))
    assert len(h.rows(100, 200)) == 0 and len(h.rows(r1 - 10, r1 + 10)) == 10
    assert sum(len(b) for b in h.iter_rows(block=7)) == n - r1

    # zooming in: exact where the rows are kept, an honest envelope elsewhere
    def zoom(a, b, width=1000):
        tr = h.trace(BATCH * (a + 1), BATCH * b, width)
        assert tr.rows[0] <= max(0, a - 1) and tr.rows[1] >= min(n, b + 1)
        return tr

    tr = zoom(1000, 1100)  # inside what the kept pyramid covers: 16 mini-batches per unit
    assert tr.source == "level 1" and tr.unit == 16
    check_envelope(tr, costs)
    for a in (n - 2010, n - 1510):  # the spikes after the failure: drawn from the summary
        tr = zoom(a, a + 20)
        assert tr.source == "summary" and (1e3 in tr.y or 1e-9 in tr.y)
        check_envelope(tr, costs)
    tr = zoom(n - 40, n)
    assert tr.exact and tr.source == "recent"
    np.testing.assert_array_equal(tr.y, costs[tr.rows[0] : tr.rows[1]])
    tr = zoom(r1 - 200, n)  # across the gap's end: the summary's buckets, then every kept row
    check_envelope(tr, costs)
    x0, x1 = tr.x[0::2], tr.x[1::2]
    w = h.bucket_width
    assert (x0 == x1).sum() == n - -(-r1 // w) * w  # every kept row after the gap's last bucket

    # CSV: the kept rows, and the caller is told what is not there
    path = h.to_csv(tmp_path / "h.csv")
    rows = csv_rows(path)
    assert [int(r["step"]) for r in rows] == list(range(r1 + 1, n + 1))
    np.testing.assert_array_equal([float(r["cost"]) for r in rows], costs[r1:])
    ex = h.last_export
    assert ex.path == path and ex.rows == n - r1 and ex.total == n and not ex.complete
    assert ex.missing_rows == (0, r1) and ex.missing_steps == (1, r1)
    assert f"steps 1 to {r1:,}" in ex.note and "No space left on device" in ex.note
    assert ref.to_csv(tmp_path / "ref.csv") and ref.last_export.complete and ref.last_export.note is None

    # clear(): a new run spools again
    v = h.version
    h.clear()
    assert h.spooling and h.spool_error is None and h.missing_rows is None and h.version > v
    fill(h, costs[:500])
    assert h.spooling and h.missing_rows is None and h.disk_bytes() >= 500 * 44
    np.testing.assert_array_equal(h.costs, costs[:500])
    h.close()
    ref.close()
    assert not h._files and all(f.closed for f in state["spools"])


def test_a_failing_pyramid_write_drops_every_file(monkeypatch):
    n = 3000
    costs = spiky_costs(n, seed=8)
    h = TrainingHistory(recent=64, buckets=64, max_spool_bytes=math.inf)
    files = []
    real_tempfile = h._tempfile
    monkeypatch.setattr(h, "_tempfile", lambda: files.append(real_tempfile()) or files[-1])
    full_disk_after(monkeypatch, level_writes=20)
    fill(h, costs)
    monkeypatch.undo()
    assert "No space left on device" in h.spool_error
    assert files and all(f.closed for f in files) and not h._files and h.disk_bytes() == 0
    assert h.n == n and h.cost_max == 1e3 and h.cost_min == 1e-9
    assert h.missing_rows == (0, h.missing_rows[1]) and h.rows_available == n - h.missing_rows[1]
    check_envelope(h.trace(width=100), costs)
    tr = h.trace(BATCH * 1001, BATCH * 1200)  # the pyramid is gone: the summary
    assert tr.source == "summary"
    check_envelope(tr, costs)
    h.close()


def test_an_unusable_temporary_folder(monkeypatch, tmp_path):
    gone = tmp_path / "gone"
    monkeypatch.setattr(tempfile, "tempdir", str(gone))
    h = TrainingHistory(recent=64, buckets=64)
    costs = spiky_costs(3000, seed=9)
    fill(h, costs)
    assert str(gone) in h.spool_error and not h._files
    assert h.n == 3000 and h.cost_max == 1e3
    check_envelope(h.trace(width=300), costs)
    monkeypatch.undo()
    h.clear()
    fill(h, costs[:100])
    assert h.spooling and h._files and h.disk_bytes() == 100 * 44 + (100 // 16) * 48
    h.close()


def test_a_failing_read_drops_the_files_and_the_readers_carry_on(monkeypatch, tmp_path):
    n = 3000
    costs = spiky_costs(n, seed=10)
    h = TrainingHistory(recent=64, buckets=64, max_spool_bytes=math.inf)
    fill(h, costs)
    files = list(h._files)

    def broken(*a):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(history_mod, "_read", broken)
    path = h.to_csv(tmp_path / "h.csv")  # the spool fails while exporting: the kept rows
    assert "could not be read back" in h.spool_error and "Input/output error" in h.spool_error
    assert all(f.closed for f in files) and not h._files
    r1 = h.missing_rows[1]
    assert [int(r["step"]) for r in csv_rows(path)] == list(range(r1 + 1, n + 1))
    assert h.last_export.rows == n - r1 and "Input/output error" in h.last_export.note
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.csv"]
    tr = h.trace(BATCH * 101, BATCH * 150)
    check_envelope(tr, costs)
    h.close()

    monkeypatch.undo()
    h = TrainingHistory(recent=64, buckets=64, max_spool_bytes=math.inf)
    fill(h, costs)
    tr = h.trace(BATCH * 101, BATCH * 150)  # a read from the spool fails while drawing
    assert tr.exact and h.spooling
    monkeypatch.setattr(history_mod, "_read", broken)
    tr = h.trace(BATCH * 101, BATCH * 150)
    assert "could not be read back" in h.spool_error and not h._files
    check_envelope(tr, costs)
    assert h.row_of(BATCH * 1234) <= 1233 and h.row_of(BATCH * 1234, "right") >= 1234
    h.close()


def test_the_cap_on_disk_keeps_the_first_rows_and_the_recent_ones(tmp_path):
    n, kept = 5000, 1010
    costs = spiky_costs(n, seed=11)
    cap = kept * (44 * 15 + 48) / 15  # the spool's rows plus, at most, its pyramid's records
    h = TrainingHistory(recent=64, buckets=64, max_spool_bytes=cap)
    ref = TrainingHistory(recent=64, buckets=64, max_spool_bytes=math.inf)
    fill(ref, costs)
    fill(h, costs)
    assert h.spool_limit_reached and not h.spooling
    assert "limit on disk" in h.spool_error and f"the first {kept:,} mini-batches" in h.spool_error
    assert "NNSTUDIO_HISTORY_MAX_MB" in h.spool_error and "envelope" in h.spool_error
    files = list(h._files)
    assert files and not any(f.closed for f in files)  # kept, no longer appended
    assert kept * 44 < h.disk_bytes() <= cap
    sizes = [f.seek(0, 2) for f in files]
    fill(h, costs[-500:], start=0)  # (more rows: nothing more on disk)
    assert [f.seek(0, 2) for f in files] == sizes and sum(sizes) == h.disk_bytes()
    h.clear()
    fill(h, costs)

    r0, r1 = h.missing_rows
    assert r0 == kept and n - 128 <= r1 <= n - 64
    assert h.missing_steps == (kept + 1, r1) and h.rows_available == kept + n - r1
    np.testing.assert_array_equal(h.costs, np.concatenate((costs[:kept], costs[r1:])))
    # the trace: exact from the spool, the pyramid, the summary for the gap, the recent rows
    np.testing.assert_array_equal(h.trace(width=30).y, ref.trace(width=30).y)
    check_envelope(h.trace(width=300), costs)
    tr = h.trace(BATCH * 101, BATCH * 140)
    assert tr.exact and tr.source == "spool"
    np.testing.assert_array_equal(tr.y, costs[tr.rows[0] : tr.rows[1]])
    tr = h.trace(BATCH * 1, BATCH * 1000, width=30)
    assert tr.source == "level 1"
    check_envelope(tr, costs)
    for a in (kept - 20, 3000, n - 2010):
        tr = h.trace(BATCH * (a + 1), BATCH * (a + 40))
        assert tr.source == "summary"
        check_envelope(tr, costs)

    # locating examples seen: exact when the answer and the row before it are kept, else a bound
    # that widens the range (the rows in between are not there to search)
    def kept_(r):
        return r < kept or r >= r1

    for r in range(n):
        left, right = h.row_of(BATCH * (r + 1)), h.row_of(BATCH * (r + 1) - 5, "right")
        if kept_(r) and (r == 0 or kept_(r - 1)):
            assert left == right == r, r
        else:
            assert left <= r <= right, r

    path = h.to_csv(tmp_path / "h.csv")
    rows = csv_rows(path)
    steps = [int(r["step"]) for r in rows]
    assert steps == list(range(1, kept + 1)) + list(range(r1 + 1, n + 1))
    np.testing.assert_array_equal([float(r["cost"]) for r in rows], np.concatenate((costs[:kept], costs[r1:])))
    # the ends of epochs 1 (step 1000) and 5 (step 5000) were kept; those in the gap are not
    assert [int(r["step"]) for r in rows if r["epoch_mean_cost"]] == [1000, 5000]
    assert rows[999]["epoch_mean_cost"] == "0.5" and rows[-1]["epoch_mean_cost"] == repr(0.5 / 5)
    ex = h.last_export
    assert ex.rows == len(rows) and ex.missing_rows == (kept, r1) and ex.missing_steps == (kept + 1, r1)
    assert f"steps {kept + 1:,} to {r1:,}" in ex.note and "limit on disk" in ex.note

    h.clear()
    assert h.spooling and not h.spool_limit_reached and h.spool_error is None
    fill(h, costs[:kept])  # up to the cap exactly: still spooling
    assert h.spooling and h.missing_rows is None
    h.close()
    ref.close()


def test_the_cap_comes_from_the_environment(monkeypatch):
    for value, mb in (("", 4096), ("0.5", 0.5), ("inf", math.inf), ("lots", 4096), ("-3", 4096), ("nan", 4096)):
        monkeypatch.setenv("NNSTUDIO_HISTORY_MAX_MB", value)
        assert TrainingHistory().max_spool_bytes == mb * 2**20, value
    monkeypatch.delenv("NNSTUDIO_HISTORY_MAX_MB")
    assert TrainingHistory().max_spool_bytes == 4096 * 2**20
    monkeypatch.setenv("NNSTUDIO_HISTORY_MAX_MB", "0")  # nothing on disk at all
    h = TrainingHistory()
    fill(h, np.full(300, 0.5))
    assert h.spool_limit_reached and not h._files and h.disk_bytes() == 0
    assert "a CSV export covers the latest 8,192" in h.spool_error
    assert h.missing_rows is None and len(h.costs) == 300  # (all still recent)
    h.close()
