"""Rendering a step's text with its live numbers (Qt-free)."""

from __future__ import annotations

from nnstudio.lessons.live import MISSING
from nnstudio.lessons.parser import placeholders
from nnstudio.lessons.render import markdown_to_html, render_html, render_text


def test_rendering_markdown_and_values():
    t = "A **bold** *word* and `code`: {{live.cost}}.\n\n- one {{live.guess}}\n- two\n  continued\n\n## Heading"
    html = render_html(t, {"cost": "0.5 <b>", "guess": "7"}, "color:red")
    assert "<b>bold</b>" in html and "<i>word</i>" in html and '<span style="white-space:nowrap">code</span>' in html
    assert '<span style="color:red">0.5 &lt;b&gt;</span>' in html
    assert "<ul><li>one <span" in html and "<li>two continued</li></ul>" in html and "<h3>Heading</h3>" in html
    assert render_text("cost {{ live.cost }}!", {"cost": "1"}) == "cost 1!"
    assert render_text("{{live.cost}}", {}) == MISSING
    assert render_html("x{{live.cost_note}}", {"cost_note": ""}) == "<p>x</p>"
    assert markdown_to_html("a < b & c") == "<p>a &lt; b &amp; c</p>"
    assert placeholders("{{live.a}} {{ live.b }} {{c}}") == {"a", "b"}
