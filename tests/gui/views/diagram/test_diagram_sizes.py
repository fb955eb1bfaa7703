"""The diagram at the sizes a small window gives it (a 1024×700 window: about 700×280 below the
toolbar): no painted text under 12 px (9 pt at 96 dpi), a legend that says what the colours mean,
the ten outputs whole, and a toolbar whose controls fit side by side, whole, at every width."""

import numpy as np
import pytest

from nnstudio.components.diagram import INPUT_MODE_NAMES
from nnstudio.core import Network
from nnstudio.gui.qt import QtCore, QtGui, QtWidgets
from nnstudio.gui.style import theme
from nnstudio.gui.views.diagram import canvas as canvas_module
from nnstudio.gui.views.diagram.view import DiagramView
from nnstudio.session.model import InputExample, Snapshot

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support (propagateSizeHints|raise)")


def make_view(qtbot, width, canvas_height, sizes=(784, 16, 16, 10)):
    view = DiagramView(open_inspector=False)
    qtbot.addWidget(view)
    net = Network(sizes, seed=0)
    view.set_snapshot(Snapshot.of(net))
    x = np.random.default_rng(0).random(sizes[0])
    view.set_input(InputExample(x, label=3, source="mini-batch 3/10 · train #1234"))
    view.show()
    view.resize(width, canvas_height + 40)
    QtWidgets.QApplication.processEvents()
    view.resize(width, canvas_height + (canvas_height + 40 - view.canvas.height()))
    QtWidgets.QApplication.processEvents()
    assert view.canvas.size() == QtCore.QSize(width, canvas_height)
    return view


@pytest.mark.parametrize("size", [(700, 280), (620, 220), (950, 300)])
@pytest.mark.parametrize("sizes", [(784, 16, 16, 10), (784, 16, 16, 16, 16, 16, 10)])
def test_no_painted_text_is_under_12_px(qtbot, monkeypatch, size, sizes):
    painted = []
    real = canvas_module.pixel_font

    def recording(px, bold=False):
        f = real(px, bold)
        painted.append(f.pixelSize())
        return f

    monkeypatch.setattr(canvas_module, "pixel_font", recording)
    view = make_view(qtbot, *size, sizes=sizes)
    view.canvas.render_frame()
    view.select_neuron(1, 0, inspect=False)  # the overlay: a first hidden neuron's weights, titled
    view.canvas.grab()
    assert painted and min(painted) >= 12, sorted(set(painted))


def test_the_canvas_sets_no_font_size_but_through_the_floored_helper():
    import inspect

    src = inspect.getsource(canvas_module)
    assert "setPixelSize" not in src and "setPointSize" not in src


def test_the_legend_shows_both_edge_colours_on_one_line_at_700_px(qtbot):
    view = make_view(qtbot, 700, 280)
    img = view.canvas.grab().toImage()
    lay = view.canvas.diagram_layout()
    # the samples are drawn in the edges' colours on the legend's line, inside the canvas
    y0 = int(lay.footer_top + lay.footer_line)
    assert y0 + lay.footer_line <= lay.height
    rows = np.array([[img.pixelColor(x, y).getRgb()[:3] for x in range(img.width())]
                     for y in range(y0, int(y0 + lay.footer_line))])
    for rgb in (theme.POSITIVE, theme.NEGATIVE):
        assert (np.abs(rows - np.array(rgb)).max(axis=-1) < 30).sum() >= 10


@pytest.mark.parametrize("h", [220, 280])
def test_the_ten_outputs_are_all_drawn(qtbot, h):
    view = make_view(qtbot, 700, h)
    centres = [view.canvas.neuron_center(3, d) for d in range(10)]
    assert all(c is not None and 0 < c.y() < h for c in centres)


@pytest.mark.parametrize("label", ["mini-batch: —", "mini-batch example 1000/1000"])
def test_the_toolbar_fits_whole_at_every_width(qtbot, label):
    view = DiagramView(open_inspector=False)
    qtbot.addWidget(view)
    view.show()
    view.resize(1250, 300)
    view.batch_label.setText(label)
    view.resize(1240, 300)
    QtWidgets.QApplication.processEvents()
    assert view.minimumWidth() <= 600  # (the diagram of a 1024×700 window is ~700 px wide)
    bar = [view.prev_button, view.batch_label, view.next_button, view.follow_check, *view.choice_labels.values(),
           *view.choice_combos.values(), view.show_button, view.fit_button]
    for width in (view.minimumWidth(), 600, 700, 800, 950, 1250, 1400):
        view.resize(width, 300)
        QtWidgets.QApplication.processEvents()
        shown = [w for w in bar if w.isVisible()]
        for w in shown:
            assert view.rect().contains(w.geometry()), (width, w)
            assert w.width() >= w.minimumSizeHint().width() - 1, (width, w)
        for i, a in enumerate(shown):
            for b in shown[i + 1:]:
                assert not a.geometry().intersects(b.geometry()), (width, a, b)
        # the choices show their whole current names (short or long), never cut off, each with its label;
        # or, narrow, all three are in the Show menu
        combos = [c for c in view.choice_combos.values() if c.isVisible()]
        assert len(combos) in (0, 3) and view.show_button.isVisible() == (not combos)
        for key, combo in view.choice_combos.items():
            if combo.isVisible():
                assert view.choice_labels[key].isVisible()
                for i in range(combo.count()):
                    fm = QtGui.QFontMetrics(combo.font())
                    assert fm.horizontalAdvance(combo.itemText(i)) + 20 <= combo.width(), (width, combo.itemText(i))
    assert view.mode_combo.currentText() == INPUT_MODE_NAMES["spread"] and view.mode_label.isVisible()
    assert view.choice_combos["edges"].currentText() == "weights w"
