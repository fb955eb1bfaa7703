"""A lesson step's text with its live numbers: as plain text, or as HTML from the small Markdown
subset lessons use (Qt-free)."""

from __future__ import annotations

import html
import re

from nnstudio.lessons.live import MISSING
from nnstudio.lessons.parser import PLACEHOLDER

__all__ = ["render_text", "markdown_to_html", "render_html"]


def render_text(template: str, values: dict) -> str:
    """``template`` with each ``{{live.x}}`` replaced by ``values[x]``."""
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), MISSING)), template)


_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])"), r"<i>\1</i>"),
    (re.compile(r"`([^`]+)`"), r'<span style="white-space:nowrap">\1</span>'),  # a formula: kept on one line
)


def _inline(text: str) -> str:
    s = html.escape(text, quote=False)
    for rx, rep in _INLINE:
        s = rx.sub(rep, s)
    return s


def markdown_to_html(text: str) -> str:
    """The small Markdown subset lessons use: paragraphs, '-' lists, '#' headings, **bold**, *italic*, and
    `a formula` (kept on one line)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.rstrip() for ln in block.strip().splitlines()]
        if not lines:
            continue
        if all(re.match(r"^\s*[-*]\s+", ln) or (k and ln.startswith("  ")) for k, ln in enumerate(lines)):
            items = []
            for ln in lines:
                m = re.match(r"^\s*[-*]\s+(.*)$", ln)
                if m:
                    items.append(m.group(1))
                else:
                    items[-1] += " " + ln.strip()
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        elif re.match(r"^#{1,6}\s", lines[0]) and len(lines) == 1:
            out.append(f"<h3>{_inline(lines[0].lstrip('#').strip())}</h3>")
        else:
            out.append(f"<p>{_inline(' '.join(ln.strip() for ln in lines))}</p>")
    return "\n".join(out)


def render_html(template: str, values: dict, number_style: str = "font-weight:600") -> str:
    """``template`` as HTML, each live value in a ``<span style=number_style>``."""
    body = markdown_to_html(template)

    def sub(m):
        val = values.get(m.group(1), MISSING)
        if val == "":
            return ""
        return f'<span style="{number_style}">{html.escape(str(val), quote=False)}</span>'

    return PLACEHOLDER.sub(sub, body)
