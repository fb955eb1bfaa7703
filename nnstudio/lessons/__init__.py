"""The guided lessons: one Markdown file per step (package data in ``content/``), Qt-free.

* :mod:`~nnstudio.lessons.parser`: lesson files, their setup (checked), the learner's progress;
* :mod:`~nnstudio.lessons.specs`: the example, neuron and parameter a step points at;
* :mod:`~nnstudio.lessons.live`: the live numbers, each ``{{live.name}}`` of a step's text;
* :mod:`~nnstudio.lessons.render`: a step's text with its numbers, as plain text or HTML.

The names below are the public API, importable from here or from their module.
"""

from nnstudio.lessons.live import LIVE, MISSING, Live, LiveContext, explorer_batch, live_values, resolve_example
from nnstudio.lessons.parser import (
    BACKPROP_TABS, EVALUATION_PAGES, LESSONS_DIR, NETWORKS, SETUP_KEYS, VIEWS, Lesson, LessonError, LessonProgress,
    Setup, load_lessons, parse_front_matter, parse_lesson, placeholders,
)
from nnstudio.lessons.render import markdown_to_html, render_html, render_text
from nnstudio.lessons.specs import ExampleSpec, NeuronSpec, ParamSpec

__all__ = [
    "LESSONS_DIR", "VIEWS", "NETWORKS", "BACKPROP_TABS", "EVALUATION_PAGES", "SETUP_KEYS", "LIVE", "MISSING",
    "LessonError", "ExampleSpec", "NeuronSpec", "ParamSpec", "Setup", "Lesson", "LessonProgress", "LiveContext",
    "Live", "parse_front_matter", "parse_lesson", "load_lessons", "placeholders", "live_values", "render_text",
    "render_html", "markdown_to_html", "resolve_example", "explorer_batch",
]
