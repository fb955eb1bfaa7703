"""The diagram's layout maths at the sizes the studio meets (a 1024×700 window gives the diagram
about 700×280): every text at least 12 px (9 pt at 96 dpi), room above and below the columns for
the text lines drawn there, the ten outputs always whole, and room on the right for their labels."""

import pytest

from nnstudio.components.diagram import (
    CAPTION_SCALE,
    FOOTER_SCALE,
    LINE,
    MIN_TEXT_PX,
    SUB_SCALE,
    TITLE_SCALE,
    compute_layout,
)

NETS = [(784, 16, 16, 10), (784, 100, 10), (784, 30, 30, 30, 30, 10), (4, 3, 2)]
SIZES = [(320, 200), (700, 280), (640, 220), (950, 300), (1250, 450), (1600, 1000), (3800, 2000)]


@pytest.mark.parametrize("sizes", NETS)
@pytest.mark.parametrize("w,h", SIZES)
def test_every_text_is_at_least_12_px_and_has_its_room(sizes, w, h):
    lay = compute_layout(sizes, w, h)
    for scale in (TITLE_SCALE, SUB_SCALE, FOOTER_SCALE, CAPTION_SCALE):
        assert lay.text_px(scale) >= MIN_TEXT_PX
    assert lay.digit_px >= MIN_TEXT_PX and lay.value_px >= MIN_TEXT_PX
    # the title and subtitle lines end above the first neuron, the footer's two lines start below the last
    titles_end = lay.top + (lay.text_px(TITLE_SCALE) + lay.text_px(SUB_SCALE)) * LINE
    top_neuron = min(float(c.ys.min()) for c in lay.columns) - lay.radius
    bottom_neuron = max(float(c.ys.max()) for c in lay.columns) + lay.radius
    assert titles_end <= top_neuron + 0.5
    assert bottom_neuron <= lay.footer_top + 0.5
    assert lay.footer_line == pytest.approx(lay.text_px(FOOTER_SCALE) * LINE)
    assert lay.footer_top + 2 * lay.footer_line <= h


@pytest.mark.parametrize("h", [200, 240, 280, 320])
def test_a_short_diagram_shows_all_ten_outputs(h):
    lay = compute_layout((784, 16, 16, 10), 700, h)
    out = lay.columns[-1]
    assert out.slots == 10 and not out.truncated
    # ... spaced so that their 12-px labels do not run into each other
    assert min(out.ys[1:] - out.ys[:-1]) >= 0.9 * MIN_TEXT_PX


@pytest.mark.parametrize("w,h", SIZES[1:])  # (the diagram is never narrower than ~450 px: its toolbar)
@pytest.mark.parametrize("chars", [1, 10])  # digits, or "Ankle boot"
def test_the_output_labels_and_values_fit_right_of_the_last_column(w, h, chars):
    lay = compute_layout((784, 16, 16, 10), w, h, label_chars=chars)
    col = lay.columns[-1]
    f = lay.font_px
    # what the canvas draws after the circle: a gap, the name, a gap, the value "0.93"
    x = col.x + lay.radius + max(3.0, lay.radius * 0.3) + f * 0.45
    end = x + 0.6 * lay.digit_px * chars + f * 0.5 + 2.2 * lay.value_px
    assert end <= w
