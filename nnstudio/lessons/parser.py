"""Guided lessons: lesson files, their setup and the learner's progress (Qt-free).

A lesson is one Markdown file per step in ``nnstudio/lessons/content/`` (``01-neuron.md`` …), so
lessons are data that can be edited and translated, not code spread across widgets::

    ---
    id: cost-one
    title: The cost of one example
    show: backprop, draw            # the views this step needs, most important first
    network: pretrained             # keep | pretrained | fresh
    example: test 1                 # which input the views show
    backprop_tab: one neuron
    ---
    The text, in a few short paragraphs.  Numbers come from the live network:
    this example's cost is {{live.cost}}.

    ## Try this
    The one thing the learner should try.

The front matter is ``key: value`` lines (``#`` starts a comment line), parsed here with
no dependency; every key and value is checked (:data:`SETUP_KEYS`; the example, neuron and
parameter are specs, :mod:`nnstudio.lessons.specs`), and so is every ``{{live.name}}``
placeholder (:data:`nnstudio.lessons.live.LIVE`): a mistake is one :class:`LessonError`
naming the file and line.

The numbers are computed in :mod:`nnstudio.lessons.live`, never written in the text;
:mod:`nnstudio.lessons.render` puts them into a step's text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from nnstudio.components.playground import PRESETS
from nnstudio.lessons.live import LIVE
from nnstudio.lessons.specs import ExampleSpec, NeuronSpec, ParamSpec, _int

# The live numbers were in this module before it was split: still importable from here for code
# not yet moved to nnstudio.lessons.live (tests/gui/views/lessons).
from nnstudio.lessons.live import MISSING, live_values, resolve_example  # noqa: F401  (re-exported)

__all__ = [
    "LESSONS_DIR", "VIEWS", "NETWORKS", "BACKPROP_TABS", "EVALUATION_PAGES", "SETUP_KEYS",
    "LessonError", "ExampleSpec", "NeuronSpec", "ParamSpec", "Setup", "Lesson", "LessonProgress",
    "parse_front_matter", "parse_lesson", "load_lessons", "placeholders",
]

#: where the shipped lessons live (package data: ``nnstudio/lessons/content/NN-name.md``)
LESSONS_DIR = Path(__file__).resolve().parent / "content"
#: lesson files are ``NN-name.md``; other files there (a README for translators) are not lessons
LESSON_FILE = re.compile(r"^(\d{2})-[a-z0-9-]+\.md$")

#: the views a step can show (keys of ``MainWindow.views``, plus the plots and the training controls)
VIEWS = ("diagram", "draw", "backprop", "playground", "landscape", "evaluation", "plots", "training")
NETWORKS = ("keep", "pretrained", "fresh")
#: the Backprop explorer's tabs (``nnstudio.gui.views.backprop.view.TABS``)
BACKPROP_TABS = ("one neuron", "all neurons", "all examples", "parameters", "chain rule")
#: the Evaluation view's pages
EVALUATION_PAGES = ("summary", "mistakes", "neurons", "noise", "browser")

PLACEHOLDER = re.compile(r"\{\{\s*live\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ANY_BRACES = re.compile(r"\{\{|\}\}")
_TRY_HEADING = re.compile(r"^##\s+try\b.*$", re.IGNORECASE | re.MULTILINE)
_TRUE = ("yes", "true", "on", "1")
_FALSE = ("no", "false", "off", "0")


class LessonError(ValueError):
    """A lesson file is not valid (the message names the file and line)."""


# =============================================================================== setup values
def _float(text: str, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, not {text!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{what} must be a positive number")
    return v


def _bool(text: str, what: str) -> bool:
    t = text.lower()
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    raise ValueError(f"{what} must be yes or no, not {text!r}")


def _choice(options):
    def parse(text: str):
        if text not in options:
            raise ValueError(f"choose one of: {', '.join(options)}")
        return text
    return parse


def _views(text: str) -> tuple[str, ...]:
    names = tuple(w.strip() for w in text.split(",") if w.strip())
    if not names:
        raise ValueError("name at least one view")
    for n in names:
        if n not in VIEWS:
            raise ValueError(f"unknown view {n!r}; choose from: {', '.join(VIEWS)}")
    if len(set(names)) != len(names):
        raise ValueError("a view is named twice")
    return names


def _start(text: str) -> tuple[float, float]:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise ValueError("write the start point as 'x, y'")
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError("write the start point as two numbers, 'x, y'") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("the start point must be finite")
    return x, y


def _focus(text: str):
    return None if text == "label" else _int(text, "focus", lo=0)


def _speed(text: str) -> float:
    return 0.0 if text == "full" else _float(text, "training_speed")


#: every front-matter key: (parser, description)
SETUP_KEYS = {
    "id": (lambda t: t, "a short unique name (letters, digits, dashes)"),
    "title": (lambda t: t, "the step's title"),
    "show": (_views, "the views this step needs, most important first"),
    "network": (_choice(NETWORKS), "keep the network, open the pretrained one, or start from fresh random weights"),
    "seed": (lambda t: _int(t, "seed", lo=0), "the seed of a fresh network's weights (default 0: the same every time)"),
    "example": (ExampleSpec.parse, "the current input (see ExampleSpec)"),
    "neuron": (NeuronSpec.parse, "a neuron to highlight in the diagram, e.g. '1 brightest'"),
    "backprop_tab": (_choice(BACKPROP_TABS), "the Backprop explorer's tab"),
    "focus": (_focus, "the output neuron the explorer explains ('label' or a digit)"),
    "parameter": (ParamSpec.parse, "the weight or bias the explorer explains"),
    "preset": (_choice(tuple(PRESETS)), "the playground's function"),
    "learning_rate": (lambda t: _float(t, "learning_rate"), "the playground's learning rate"),
    "start": (_start, "the playground's start point 'x, y'"),
    "stochastic": (lambda t: _bool(t, "stochastic"), "the playground's careful-vs-drunk race (yes/no)"),
    "batch_size": (lambda t: _int(t, "batch_size", lo=1), "the playground's mini-batch size"),
    "evaluation_page": (_choice(EVALUATION_PAGES), "the Evaluation view's page"),
    "evaluate": (lambda t: _bool(t, "evaluate"), "evaluate the network now (yes/no)"),
    "training_speed": (_speed, "the real trainer's speed: 'full' or mini-batches per second"),
    "training_learning_rate": (lambda t: _float(t, "training_learning_rate"), "the real trainer's η"),
    "training_batch_size": (lambda t: _int(t, "training_batch_size", lo=1), "the real trainer's mini-batch size"),
}


@dataclass(frozen=True)
class Setup:
    """What a step sets up before the learner plays (every field optional but ``show``)."""

    show: tuple = ()
    network: str = "keep"
    seed: int = 0
    example: ExampleSpec = ExampleSpec()
    neuron: NeuronSpec | None = None
    backprop_tab: str | None = None
    focus: int | None = None
    parameter: ParamSpec | None = None
    preset: str | None = None
    learning_rate: float | None = None
    start: tuple | None = None
    stochastic: bool | None = None
    batch_size: int | None = None
    evaluation_page: str | None = None
    evaluate: bool = False
    training_speed: float | None = None
    training_learning_rate: float | None = None
    training_batch_size: int | None = None

    @property
    def primary(self) -> str:
        return self.show[0]


@dataclass(frozen=True)
class Lesson:
    number: int  # 1-based, from the file name
    id: str
    title: str
    text: str  # Markdown with {{live.x}} placeholders
    try_text: str
    setup: Setup
    path: Path | None = None

    @property
    def placeholders(self) -> set[str]:
        return placeholders(self.text) | placeholders(self.try_text)


# =============================================================================== parsing
def parse_front_matter(text: str, where: str = "lesson") -> tuple[dict, dict, str, int]:
    """Split a lesson file into (values, line numbers, body, first body line)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].strip() != "---":
        raise LessonError(f"{where}:{i + 1}: a lesson starts with a '---' line, then 'key: value' lines, then '---'")
    values, numbers = {}, {}
    j = i + 1
    while j < len(lines) and lines[j].strip() != "---":
        raw = lines[j]
        s = raw.strip()
        if s and not s.startswith("#"):
            if ":" not in s:
                raise LessonError(f"{where}:{j + 1}: expected 'key: value', got {s!r}")
            key, value = s.split(":", 1)
            key, value = key.strip(), value.strip()
            if " #" in value:  # a trailing comment
                value = value.split(" #", 1)[0].rstrip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1].strip()
            if not re.fullmatch(r"[a-z_]+", key):
                raise LessonError(f"{where}:{j + 1}: {key!r} is not a key (lower-case letters and _)")
            if key in values:
                raise LessonError(f"{where}:{j + 1}: {key!r} is given twice (first on line {numbers[key]})")
            if not value:
                raise LessonError(f"{where}:{j + 1}: {key!r} has no value")
            values[key] = value
            numbers[key] = j + 1
        j += 1
    if j >= len(lines):
        raise LessonError(f"{where}:{i + 1}: the front matter has no closing '---'")
    return values, numbers, "\n".join(lines[j + 1:]), j + 2


def placeholders(text: str) -> set[str]:
    """The names used as ``{{live.name}}`` in ``text``."""
    return set(PLACEHOLDER.findall(text))


def _check_text(text: str, where: str, first_line: int) -> None:
    stripped = PLACEHOLDER.sub("", text)
    m = _ANY_BRACES.search(stripped)
    if m:
        # find the line of the stray braces in the original text
        for k, line in enumerate(text.splitlines()):
            if _ANY_BRACES.search(PLACEHOLDER.sub("", line)):
                raise LessonError(f"{where}:{first_line + k}: a placeholder is written {{{{live.name}}}}: "
                                  f"{line.strip()!r}")
    for k, line in enumerate(text.splitlines()):
        for name in PLACEHOLDER.findall(line):
            if name not in LIVE:
                close = [n for n in LIVE if n.startswith(name[:4])][:4]
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise LessonError(f"{where}:{first_line + k}: unknown live value {{{{live.{name}}}}}{hint}")


def parse_lesson(text: str, path: str | Path | None = None, number: int | None = None,
                 base: Lesson | None = None) -> Lesson:
    """One lesson from its file's text.

    ``base``: parse a *translation* of ``base``: it holds ``id``, ``title`` and the text only,
    and takes the setup from the base lesson (so a translation cannot break a step's setup).
    """
    where = str(path) if path is not None else "lesson"
    values, numbers, body, body_line = parse_front_matter(text, where)
    for key in ("id", "title"):
        if key not in values:
            raise LessonError(f"{where}:1: the front matter needs '{key}:'")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", values["id"]):
        raise LessonError(f"{where}:{numbers['id']}: id must be lower-case letters, digits and dashes")
    if base is not None:
        extra = [k for k in values if k not in ("id", "title")]
        if extra:
            raise LessonError(f"{where}:{numbers[extra[0]]}: a translation holds id, title and text only; "
                              f"'{extra[0]}' belongs to the lesson it translates")
        if values["id"] != base.id:
            raise LessonError(f"{where}:{numbers['id']}: translates {base.id!r}, so its id must be {base.id!r}")
        setup = base.setup
    else:
        kw = {}
        for key, value in values.items():
            if key not in SETUP_KEYS:
                raise LessonError(f"{where}:{numbers[key]}: unknown key {key!r}; the keys are: {', '.join(SETUP_KEYS)}")
            if key in ("id", "title"):
                continue
            try:
                kw[key] = SETUP_KEYS[key][0](value)
            except ValueError as e:
                raise LessonError(f"{where}:{numbers[key]}: {key}: {e}") from None
        if "show" not in kw:
            raise LessonError(f"{where}:1: the front matter needs 'show:' (the views this step needs)")
        setup = Setup(**kw)
        _check_setup(setup, where, numbers)
    m = _TRY_HEADING.search(body)
    if m is None:
        raise LessonError(f"{where}: the text needs a '## Try this' section (the one thing to try)")
    main, try_text = body[:m.start()].strip(), body[m.end():].strip()
    if not main:
        raise LessonError(f"{where}:{body_line}: the step has no text before '## Try this'")
    if not try_text:
        raise LessonError(f"{where}: the '## Try this' section is empty")
    _check_text(body, where, body_line)
    if number is None and path is not None:
        fm = LESSON_FILE.match(Path(path).name)
        number = int(fm.group(1)) if fm else None
    return Lesson(number or 0, values["id"], values["title"], main, try_text, setup,
                  Path(path) if path is not None else None)


def _check_setup(s: Setup, where: str, numbers: dict) -> None:
    def need(key, view):
        if getattr(s, key) not in (None, False) and view not in s.show:
            raise LessonError(f"{where}:{numbers[key]}: {key} needs '{view}' in show:")
    for key in ("backprop_tab", "focus", "parameter"):
        need(key, "backprop")
    for key in ("preset", "learning_rate", "start", "stochastic", "batch_size"):
        need(key, "playground")
    for key in ("evaluation_page", "evaluate"):
        need(key, "evaluation")
    need("neuron", "diagram")
    if s.example.target == "pad" and "draw" not in s.show:
        raise LessonError(f"{where}:{numbers['example']}: an example on the pad needs 'draw' in show:")


def load_lessons(folder: str | Path | None = None, lang: str | None = None) -> list[Lesson]:
    """The lessons of ``folder`` (default: the shipped ones), in file order.

    With ``lang`` (e.g. "fr"), files in ``folder/lang/`` with the same name translate the
    lessons they match (id, title and text; the setup stays the base lesson's).
    """
    folder = Path(folder) if folder is not None else LESSONS_DIR
    files = sorted(p for p in folder.iterdir() if p.is_file() and LESSON_FILE.match(p.name)) if folder.is_dir() else []
    if not files:
        raise LessonError(f"{folder}: no lesson files (NN-name.md)")
    lessons = []
    for k, p in enumerate(files, 1):
        num = int(LESSON_FILE.match(p.name).group(1))
        if num != k:
            raise LessonError(f"{p}: lessons are numbered 01, 02, … without gaps; expected {k:02d}-….md")
        lessons.append(parse_lesson(_read(p), p, num))
    ids = [x.id for x in lessons]
    for x in lessons:
        if ids.count(x.id) > 1:
            raise LessonError(f"{x.path}: the id {x.id!r} is used by more than one lesson")
    if lang:
        tdir = folder / lang
        if tdir.is_dir():
            for i, base in enumerate(lessons):
                t = tdir / base.path.name
                if t.is_file():
                    lessons[i] = parse_lesson(_read(t), t, base.number, base=base)
    return lessons


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise LessonError(f"{p}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise LessonError(f"{p}: cannot be read ({e.strerror or e})") from None


# =============================================================================== progress
@dataclass
class LessonProgress:
    """Where the learner is, and which steps they have seen (saved between sessions)."""

    ids: tuple
    current: int = 0
    visited: set = field(default_factory=set)

    def __post_init__(self):
        self.ids = tuple(self.ids)
        if not self.ids:
            raise ValueError("no lessons")
        self.current = min(max(0, int(self.current)), len(self.ids) - 1)
        self.visited = {i for i in self.visited if i in self.ids}
        self.visited.add(self.ids[self.current])

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def current_id(self) -> str:
        return self.ids[self.current]

    @property
    def at_start(self) -> bool:
        return self.current == 0

    @property
    def at_end(self) -> bool:
        return self.current == len(self.ids) - 1

    def is_visited(self, i: int) -> bool:
        return self.ids[i] in self.visited

    def go(self, i: int) -> int:
        self.current = min(max(0, int(i)), len(self.ids) - 1)
        self.visited.add(self.ids[self.current])
        return self.current

    def next(self) -> int:
        return self.go(self.current + 1)

    def back(self) -> int:
        return self.go(self.current - 1)

    def save(self) -> dict:
        """As strings, for a settings file: {"step": id, "visited": "id,id,…"} (visited in lesson order)."""
        return {"step": self.current_id, "visited": ",".join(i for i in self.ids if i in self.visited)}

    @classmethod
    def restore(cls, ids, step=None, visited=None) -> "LessonProgress":
        """From saved values, tolerating anything (unknown ids are dropped; a bad step starts at 1)."""
        ids = tuple(ids)
        if isinstance(visited, (list, tuple)):
            seen = {str(v).strip() for v in visited}
        else:
            seen = {v.strip() for v in str(visited or "").split(",")}
        step = str(step) if step is not None else ""
        current = ids.index(step) if step in ids else 0
        return cls(ids, current, seen)

