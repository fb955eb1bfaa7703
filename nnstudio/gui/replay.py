"""A replay of a run as an animated GIF: the network diagram beside the cost curve, with a step
counter, at a chosen frame rate and size (File ▸ Export replay, and ``nnstudio replay``).

Each frame is the run rebuilt at one mini-batch (:class:`nnstudio.training.checkpoints.Replayer`,
forward from frame to frame: the range is replayed once) and drawn with the studio's own diagram
(:class:`~nnstudio.gui.views.diagram.canvas.DiagramCanvas`, off screen) lit by one example, beside the
run's cost curve over the range with a marker at the frame's step.  Qt renders off screen: with no
display the command line sets ``QT_QPA_PLATFORM=offscreen`` before Qt loads.  Pillow writes the GIF
(one adaptive palette per frame); its comment lists the frames' steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from nnstudio._atomic import atomic_path
from nnstudio._cancel import Cancelled
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets, Qt
from nnstudio.gui.style import theme
from nnstudio.gui.style.paint import pixel_font, qcolor
from nnstudio.gui.views.diagram.canvas import DiagramCanvas
from nnstudio.session.model import InputExample, Snapshot
from nnstudio.training.runfile import Run, history_settings

#: limits of an export: frames, frames per second, pixels a side
MAX_FRAMES, MAX_FPS, MIN_SIDE, MAX_SIDE = 2000, 60, 160, 3840
#: the share of a frame's width the diagram takes (the cost curve has the rest)
DIAGRAM_SHARE = 0.62


@dataclass(frozen=True)
class Replay:
    path: Path
    steps: tuple[int, ...]
    size: tuple[int, int]
    fps: float


def frame_steps(first: int, last: int, frames: int, spacing: str = "linear") -> list[int]:
    """``frames`` steps from ``first`` to ``last`` (both included, no repeats): evenly spaced, or
    ``"log"``: evenly in log(step + 1) (early training, when the network changes fastest, gets more)."""
    if last < first:
        raise ValueError(f"--to {last:,} is before --from {first:,}")
    n = max(1, min(int(frames), last - first + 1))
    if n == 1:
        return [last]
    if spacing == "log":
        t = np.expm1(np.linspace(math.log1p(first), math.log1p(last), n))
    else:
        t = np.linspace(first, last, n)
    steps = sorted(set(int(round(v)) for v in t) | {first, last})
    return steps


def counter_text(step: int, last: int, epoch: int) -> str:
    return f"step {step:,} of {last:,} · epoch {epoch}"


def draw_counter(p: QtGui.QPainter, rect: QtCore.QRectF, text: str, px: float) -> None:
    """The step counter (also what the tests read back), in a font small enough to fit ``rect``."""
    font = pixel_font(px, bold=True)
    wide = QtGui.QFontMetricsF(font).horizontalAdvance(text)
    if wide > rect.width() > 0:
        font = pixel_font(max(6.0, px * rect.width() / wide * 0.97), bold=True)
    p.setFont(font)
    p.setPen(qcolor(theme.TEXT))
    p.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


def counter_rect(width: int, height: int) -> QtCore.QRectF:
    x0 = width * DIAGRAM_SHARE
    return QtCore.QRectF(x0 + 10, 6, width - x0 - 16, max(14.0, height * 0.07))


class ReplayRenderer:
    """Draws frames of ``run`` (its ``replayer`` over ``train_x``) at ``size``, lit by ``example``."""

    def __init__(self, run: Run, replayer, size=(800, 450), example: InputExample | None = None,
                 class_names=None, first: int | None = None, last: int | None = None):
        w, h = (int(v) for v in size)
        if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE // 2 <= h <= MAX_SIDE):
            raise ValueError(f"a replay is {MIN_SIDE} to {MAX_SIDE} pixels wide and {MIN_SIDE // 2} to {MAX_SIDE} "
                             f"high, not {w}x{h}")
        self.run, self.replayer, self.size = run, replayer, (w, h)
        self.first = run.first_step if first is None else first
        self.last = run.last_step if last is None else last
        self.canvas = DiagramCanvas()
        self.canvas.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.canvas.resize(int(w * DIAGRAM_SHARE), h)
        if class_names:
            self.canvas.set_class_names(class_names)
        self.canvas.set_example(example)
        self.canvas.network_label = ""
        hist = run.history
        rows = hist.rows()
        sel = (rows["step"] >= self.first) & (rows["step"] <= self.last)
        self._steps = rows["step"][sel].astype(float)
        cost = rows["cost"][sel].astype(float)
        self._cost = cost
        self._mean = _moving_mean(cost, max(5, len(cost) // 60))
        self._band = None  # (pixel columns, (x, 10th and 90th percentiles per column)), made on first use
        finite = cost[np.isfinite(cost)]
        # (up to most mini-batches' costs and the whole moving mean: a few spiky mini-batches go off the top)
        top = max(float(np.percentile(finite, 90)), float(np.nanmax(self._mean))) * 1.1 if len(finite) else 1.0
        self._ylim = (0.0, top or 1.0)

    def frame(self, step: int) -> Image.Image:
        """The run at ``step``, drawn (an RGB image)."""
        i = self.replayer.store.nearest(step)
        settings = history_settings(self.run.history, self.replayer.store.steps[i], step) if i is not None else None
        rebuilt = self.replayer.at(step, settings)
        r, pos = rebuilt.report, rebuilt.position
        snap = Snapshot.of(rebuilt.network, r) if r is not None else Snapshot(
            rebuilt.network, step=step, epoch=pos["epoch"], examples_seen=pos["seen"])
        self.canvas.set_network(rebuilt.network, snap)
        w, h = self.size
        img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
        img.fill(qcolor(theme.BACKGROUND))
        p = QtGui.QPainter(img)
        try:
            self.canvas.render(p, QtCore.QPoint(0, 0))
            epoch = snap.epoch if snap.at_epoch_end else snap.epoch + 1
            self._paint_curve(p, step, epoch)
        finally:
            p.end()
        return _to_pil(img)

    def _paint_curve(self, p: QtGui.QPainter, step: int, epoch: int) -> None:
        w, h = self.size
        x0 = w * DIAGRAM_SHARE
        p.fillRect(QtCore.QRectF(x0, 0, w - x0, h), qcolor(theme.PANEL))
        px = max(9.0, h * 0.032)
        draw_counter(p, counter_rect(w, h), counter_text(step, self.last, epoch), px * 1.15)
        k = int(np.searchsorted(self._steps, step, side="right")) - 1
        cost = self._cost[k] if k >= 0 else math.nan
        p.setFont(pixel_font(px))
        p.setPen(qcolor(theme.MUTED))
        top = counter_rect(w, h).bottom() + 2
        line = QtCore.QRectF(x0 + 10, top, w - x0 - 16, px * 1.6)
        p.drawText(line, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   f"cost of this mini-batch {cost:.4f}" if math.isfinite(cost) else "cost: diverged")
        # (room on the left for the rotated "cost", inside the curve's panel)
        plot = QtCore.QRectF(x0 + 12 + 1.4 * px, line.bottom() + px, w - x0 - 24 - 1.4 * px, h - line.bottom() - 3.2 * px)
        p.setPen(QtGui.QPen(qcolor(theme.MUTED), 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.bottomLeft(), plot.topLeft())
        p.drawText(QtCore.QRectF(plot.left(), plot.bottom() + 2, plot.width(), px * 1.6),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, f"{self.first:,}")
        p.drawText(QtCore.QRectF(plot.left(), plot.bottom() + 2, plot.width(), px * 1.6),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, f"{self.last:,} mini-batches")
        p.save()
        p.translate(plot.left() - 2, plot.center().y())
        p.rotate(-90)
        p.drawText(QtCore.QRectF(-plot.height() / 2, -px * 1.4, plot.height(), px * 1.3),
                   Qt.AlignmentFlag.AlignCenter, "cost")
        p.restore()
        if not len(self._steps):
            return
        s0, s1 = float(self.first), float(max(self.last, self.first + 1))
        y0, y1 = self._ylim

        def xy(s, c):
            x = plot.left() + (s - s0) / (s1 - s0) * plot.width()
            y = plot.bottom() - (min(max(c, y0), y1) - y0) / ((y1 - y0) or 1.0) * plot.height()
            return x, y

        cols = max(2, int(plot.width()))
        if len(self._steps) <= 4 * cols:  # each mini-batch's cost, a faint line
            pts = _columns(self._steps, self._cost, s0, s1, cols)
            if len(pts) >= 2:
                p.setPen(QtGui.QPen(qcolor((139, 148, 158), 90), 1.0))
                p.drawPolyline(QtGui.QPolygonF([QtCore.QPointF(*xy(s, c)) for s, c in pts]))
        else:  # hundreds per pixel column: the band of their middle 80 % (their extremes would hide the mean)
            if self._band is None or self._band[0] != cols:
                self._band = (cols, _band(self._steps, self._cost, s0, s1, cols))
            xs, lo, hi = self._band[1]
            if len(xs) >= 2:
                poly = QtGui.QPolygonF([QtCore.QPointF(*xy(s, c)) for s, c in zip(xs, hi)]
                                       + [QtCore.QPointF(*xy(s, c)) for s, c in zip(xs[::-1], lo[::-1])])
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(qcolor((139, 148, 158), 70))
                p.drawPolygon(poly)
        pts = _columns(self._steps, self._mean, s0, s1, cols)
        if len(pts) >= 2:
            p.setPen(QtGui.QPen(qcolor(theme.POSITIVE), 2.0))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolyline(QtGui.QPolygonF([QtCore.QPointF(*xy(s, c)) for s, c in pts]))
        x, y = xy(step, cost if math.isfinite(cost) else y1)
        p.setPen(QtGui.QPen(qcolor(theme.PAST), 2))
        p.drawLine(QtCore.QPointF(x, plot.top()), QtCore.QPointF(x, plot.bottom()))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(qcolor(theme.ACCENT))
        p.drawEllipse(QtCore.QPointF(x, y), 3.5, 3.5)


def render_replay(run: Run, replayer, out, *, first: int | None = None, last: int | None = None, frames: int = 60,
                  fps: float = 10.0, size=(800, 450), spacing: str = "linear", example=None, class_names=None,
                  progress=None, cancelled=None) -> Replay:
    """Write the replay of steps [first, last] of ``run`` to ``out`` (an animated GIF, atomically)."""
    first = run.first_step if first is None else int(first)
    last = run.last_step if last is None else int(last)
    if first < run.first_step or last > run.last_step:
        raise ValueError(f"the run reaches steps {run.first_step:,} to {run.last_step:,}, not {first:,} to {last:,}")
    if not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames must be 1 to {MAX_FRAMES:,}, not {frames}")
    if not 0 < fps <= MAX_FPS:
        raise ValueError(f"fps must be above 0 and at most {MAX_FPS}, not {fps:g}")
    steps = frame_steps(first, last, frames, spacing)
    renderer = ReplayRenderer(run, replayer, size, example, class_names, first, last)
    images = []
    for k, step in enumerate(steps):
        if cancelled is not None and cancelled():
            raise Cancelled()
        images.append(renderer.frame(step).quantize(colors=128, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
        if progress is not None:
            progress(k + 1, len(steps))
    out = Path(out)
    comment = "nnstudio replay; steps " + ",".join(str(s) for s in steps)
    with atomic_path(out, suffix=".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=int(round(1000 / fps)),
                       loop=0, comment=comment[:60_000])
    return Replay(out, tuple(steps), renderer.size, fps)


def ensure_app():
    """A QApplication for rendering (created off screen if there is none)."""
    app = QtWidgets.QApplication.instance()
    return app if app is not None else QtWidgets.QApplication(["nnstudio-replay"])


def _to_pil(img: QtGui.QImage) -> Image.Image:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h).reshape(h, stride)
    return Image.fromarray(buf[:, : w * 3].reshape(h, w, 3).copy(), "RGB")


def _moving_mean(y: np.ndarray, window: int) -> np.ndarray:
    ok = np.isfinite(y)
    c = np.concatenate(([0.0], np.cumsum(np.where(ok, y, 0.0))))
    n = np.concatenate(([0], np.cumsum(ok)))
    k = np.arange(len(y))
    lo = np.maximum(0, k - window + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (c[k + 1] - c[lo]) / (n[k + 1] - n[lo])


def _band(x: np.ndarray, y: np.ndarray, x0: float, x1: float, cols: int):
    """Per pixel column: its middle x, and the 10th and 90th percentiles of its values."""
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    col = np.minimum(cols - 1, ((x - x0) / max(1e-9, x1 - x0) * cols).astype(int))
    starts = np.flatnonzero(np.diff(np.concatenate(([-1], col))))
    xs, lo, hi = [], [], []
    for a, b in zip(starts, np.append(starts[1:], len(x))):
        q10, q90 = np.percentile(y[a:b], (10, 90))
        xs.append(float(x[(a + b - 1) // 2]))
        lo.append(float(q10))
        hi.append(float(q90))
    return xs, lo, hi


def _columns(x: np.ndarray, y: np.ndarray, x0: float, x1: float, cols: int) -> list[tuple[float, float]]:
    """At most two points per pixel column (its min and max), so any length draws in O(pixels)."""
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) <= 2 * cols:
        return list(zip(x.tolist(), y.tolist()))
    col = np.minimum(cols - 1, ((x - x0) / max(1e-9, x1 - x0) * cols).astype(int))
    starts = np.flatnonzero(np.diff(np.concatenate(([-1], col))))
    out = []
    for a, b in zip(starts, np.append(starts[1:], len(x))):
        seg = y[a:b]
        i, j = int(np.argmin(seg)), int(np.argmax(seg))
        for t in sorted((i, j)):
            out.append((float(x[a + t]), float(seg[t])))
    return out
