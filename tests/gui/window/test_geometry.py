"""At home on every screen: the window opens within the screen, and at 1024×700, 1280×720, 1600×1000
and 1920×1080, in both themes, with every dock and tab shown in turn, no control is cut off or
squashed, none overlaps another, and no text is under 9 pt (tests/gui/geometry.py says how)."""

from __future__ import annotations

import numpy as np
import pytest
from geometry import every_view_shown, problems

from nnstudio.gui.qt import QtCore, QtGui, QtWidgets
from nnstudio.gui.views.plots import PlotsPanel, compact, headroom
from nnstudio.gui.window import docks
from nnstudio.training.history import TrainingHistory

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")

SIZES = [(1024, 700), (1280, 720), (1600, 1000), (1920, 1080)]


@pytest.fixture
def app_look():
    app = QtWidgets.QApplication.instance()
    saved = (app.style().name(), QtGui.QPalette(app.palette()), app.styleSheet())
    yield app
    app.setStyle(saved[0])
    app.setPalette(saved[1])
    app.setStyleSheet(saved[2])


@pytest.mark.parametrize("theme", ["dark", "light"])
@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_view_fits_at_every_size(qtbot, make_window, app_look, size, theme):
    w = make_window(load_views=True, size=size)
    if theme == "light":
        w.light_action.trigger()
    w.reset_layout()
    qtbot.wait(50)
    assert (w.width(), w.height()) == size, "the window could not be made this small"
    found = {}
    for state in every_view_shown(w, qtbot):
        for p in problems(w):
            found.setdefault(p, state)
    assert not found, "\n".join(f"[{state}] {p}" for p, state in found.items())


def test_the_window_opens_within_the_screens_available_area(qtbot, settings_dir, monkeypatch):
    from nnstudio.gui.window.mainwindow import MainWindow, make_settings

    monkeypatch.setattr(QtGui.QScreen, "availableGeometry", lambda self: QtCore.QRect(0, 0, 1280, 720))
    w = MainWindow(make_settings())
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.width() <= 1280 and w.height() <= 720 - 30  # (room for the window's title bar)
    assert w.width() >= 1200 and w.height() >= 600  # (and it uses the screen)
    assert docks.NARROW_WIDTH > 1280 and w.dockWidgetArea(w.plots_dock) == QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
    w.close()


def test_plot_ticks_stay_short_and_never_touch(qtbot):
    assert [compact(v, 500_000) for v in (0, 500_000, 1_000_000, 1_500_000)] == ["0", "500k", "1M", "1.5M"]
    assert compact(2_250_000, 250_000) == "2.25M" and compact(0.25, 0.05) == "0.25"
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.resize(300, 420)
    panel.show()
    h = TrainingHistory()
    h.n_train = 60_000
    h.extend_rows(np.arange(1, 225_001), 10) if hasattr(h, "extend_rows") else _fill(h, 225_000)
    panel.refresh(h)
    qtbot.wait(50)
    ax = panel.cost_plot.getPlotItem().getAxis("bottom")
    img = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
    p = QtGui.QPainter(img)
    specs = ax.generateDrawSpecs(p)
    p.end()
    rects = [r for r, _flags, _text in specs[2]]
    assert len(rects) >= 2
    for a, b in zip(rects, rects[1:]):
        assert not a.intersects(b), [t for _r, _f, t in specs[2]]
    # a short plot's y label is shortened, never cut ("test accurac")
    panel.resize(300, 330)  # (the cost plot ~50 px high, as at 1024×700 with the timeline)
    qtbot.wait(50)
    for plot_widget in (panel.cost_plot, panel.accuracy_plot):
        pi = plot_widget.getPlotItem()
        text = pi.getAxis("left").labelText
        assert QtGui.QFontMetrics(pi.getAxis("left").label.font()).horizontalAdvance(text) <= pi.vb.height()
        # ... and its numbers never touch
        left = pi.getAxis("left")
        img = QtGui.QImage(10, 10, QtGui.QImage.Format.Format_ARGB32)
        p = QtGui.QPainter(img)
        specs = left.generateDrawSpecs(p)
        p.end()
        rects = sorted((r for r, _flags, _text in specs[2]), key=lambda r: r.top())
        assert all(not a.intersects(b) and b.top() - a.bottom() >= 2 for a, b in zip(rects, rects[1:])), \
            [t for _r, _f, t in specs[2]]
    panel.resize(300, 900)
    qtbot.wait(50)
    assert panel.accuracy_plot.getPlotItem().getAxis("left").labelText == "test accuracy (%)"
    # the legend is a line of text above the plot, never a box over the newest data
    assert panel.cost_plot.getPlotItem().legend is None
    assert "moving mean" in panel.legend_label.text()


def test_the_x_axis_grows_in_steps_ahead_of_the_curve(qtbot):
    """The x range is the next of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k: it changes (and its ticks
    are drawn again) only when the curve reaches its edge, and never leaves less than the data."""
    assert [headroom(x) for x in (1, 1.1, 1.2, 7, 9.5, 10, 12_345, 0.031)] == pytest.approx(
        [1, 1.2, 1.2, 8, 10, 10, 15_000, 0.04])
    xs = np.linspace(0.001, 5e6, 20_000)
    h = np.array([headroom(x) for x in xs])
    assert (h >= xs).all() and (h <= 4 / 3 * xs * (1 + 1e-9)).all()
    assert len(np.unique(h)) < 60  # a handful of ranges over four orders of magnitude, not one per frame
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.set_fast(True)  # training at full speed: bold curves without antialiasing ...
    assert not panel.smooth_curve.opts["antialias"] and not panel.epoch_curve.curve.opts["antialias"]
    panel.set_fast(False)  # ... and back at once when it slows down
    assert panel.smooth_curve.opts["antialias"] and panel.accuracy_curve.curve.opts["antialias"]


def _fill(h, n):
    from nnstudio.core import BatchReport

    rows = [BatchReport(i // 6000, i % 6000, np.arange(10), 1.0 / (1 + i), 1e-5, 10 * (i + 1), i + 1, 1.5, 10)
            for i in range(n)]
    h.extend(rows)


def test_the_checker_sees_what_a_person_sees(qtbot):
    """The geometry check itself: a cut-off button, two overlapping labels, 7 pt text, a button
    narrower than its text are all found; a tidy layout is not blamed."""
    top = QtWidgets.QWidget()
    qtbot.addWidget(top)
    top.resize(200, 100)
    tidy = QtWidgets.QPushButton("OK", top)
    tidy.setGeometry(10, 10, 60, 30)
    top.show()
    qtbot.waitExposed(top)
    assert problems(top) == []
    cut = QtWidgets.QPushButton("Cut", top)
    cut.setGeometry(170, 10, 60, 30)
    a, b = QtWidgets.QLabel("one", top), QtWidgets.QLabel("two", top)
    a.setGeometry(10, 50, 60, 20)
    b.setGeometry(30, 55, 60, 20)
    small = QtWidgets.QLabel("tiny", top)
    f = small.font()
    f.setPointSizeF(7)
    small.setFont(f)
    small.setGeometry(100, 75, 60, 20)
    squashed = QtWidgets.QPushButton("A long caption", top)
    squashed.setGeometry(100, 10, 30, 30)
    for w in (cut, a, b, small, squashed):
        w.show()
    found = "\n".join(problems(top))
    assert "cut off" in found and "«Cut»" in found
    assert "overlap" in found and "«one»" in found
    assert "small text (7.0 pt)" in found
    assert "squashed" in found and "«A long caption»" in found


def test_no_rich_text_subscript_is_drawn_under_9_pt():
    """Qt draws a <sub> or <sup> at 2/3 of its size: a plain one in 10 pt text is ~6.7 pt. Every one in the
    app's rich text carries theme.SCRIPT (or a size of its own), which brings it to ~9.3 pt."""
    import re
    from pathlib import Path

    import nnstudio.gui

    plain = []
    for path in Path(nnstudio.gui.__file__).parent.rglob("*.py"):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"<su[bp]>", line) and not line.lstrip().startswith("#"):
                plain.append(f"{path.name}:{n}")
    assert not plain, "plain <sub>/<sup> (use style='{theme.SCRIPT}'): " + ", ".join(plain)
