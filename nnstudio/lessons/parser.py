"""Guided lessons: lesson files, their setup, the learner's progress and the live numbers (Qt-free).

A lesson is one Markdown file per step in ``nnstudio/lessons/`` (``01-neuron.md`` …), so
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
no dependency; every key and value is checked (:data:`SETUP_KEYS`), and so is every
``{{live.name}}`` placeholder (:data:`LIVE`): a mistake is one :class:`LessonError`
naming the file and line.

The numbers are computed by :class:`Live` from a :class:`LiveContext` (the network, the
current example, the dataset, and the step's selections), never written in the text.
The videos' conventions hold throughout: the cost of one example is C = Σ (a − y)² (no ½),
the model's cost is its average over examples, and a neuron's desired nudge is −∂C/∂a.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from nnstudio.components.evaluation import noise_test
from nnstudio.components.explain import ParamRef, chain_rule, default_batch_indices, example_cost, explained, fmt, layer_name, nudges
from nnstudio.components.explain import parameter_nudges, sgd_step, three_ways
from nnstudio.core.network import Network, as_inputs
from nnstudio.components.playground import PRESETS, DescentRun

__all__ = [
    "LESSONS_DIR", "VIEWS", "NETWORKS", "BACKPROP_TABS", "EVALUATION_PAGES", "SETUP_KEYS", "LIVE",
    "LessonError", "ExampleSpec", "NeuronSpec", "ParamSpec", "Setup", "Lesson", "LessonProgress", "LiveContext",
    "Live", "parse_front_matter", "parse_lesson", "load_lessons", "placeholders", "live_values", "render_text",
    "render_html", "markdown_to_html", "resolve_example", "explorer_batch",
]

#: where the shipped lessons live (package data: ``nnstudio/lessons/NN-name.md``)
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
#: how an example can be picked by label
PICKS = ("first", "misread", "hardest")

PLACEHOLDER = re.compile(r"\{\{\s*live\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ANY_BRACES = re.compile(r"\{\{|\}\}")
_TRY_HEADING = re.compile(r"^##\s+try\b.*$", re.IGNORECASE | re.MULTILINE)
_TRUE = ("yes", "true", "on", "1")
_FALSE = ("no", "false", "off", "0")


class LessonError(ValueError):
    """A lesson file is not valid (the message names the file and line)."""


# =============================================================================== setup specs
@dataclass(frozen=True)
class ExampleSpec:
    """Which input a step shows.

    ``test 3`` / ``train 17``: that dataset example becomes the current input;
    ``train label 2 [first|misread|hardest]``: the first example of that class (or the first
    the network reads wrongly, or the one it finds hardest: highest cost);
    ``pad test 3``: put that test image on the drawing pad (the pad's reading becomes the input);
    ``pad clear``: clear the pad; ``keep``: leave the input as it is.
    """

    target: str = "keep"  # "keep" | "window" | "pad"
    split: str = "test"
    index: int | None = None
    label: int | None = None
    pick: str = "first"
    clear: bool = False

    @property
    def keeps(self) -> bool:
        return self.target == "keep"

    @classmethod
    def parse(cls, text: str) -> "ExampleSpec":
        words = text.split()
        if words == ["keep"]:
            return cls()
        target = "window"
        if words and words[0] == "pad":
            target, words = "pad", words[1:]
            if words == ["clear"]:
                return cls("pad", clear=True)
        if len(words) < 2 or words[0] not in ("train", "test"):
            raise ValueError("write 'test 3', 'train 17', 'train label 2 [first|misread|hardest]', "
                             "'pad test 3', 'pad clear' or 'keep'")
        split = words[0]
        if target == "pad" and split != "test":
            raise ValueError("the drawing pad takes test images only ('pad test 3')")
        if words[1] == "label":
            if target == "pad":
                raise ValueError("the drawing pad takes a test image by index ('pad test 3')")
            if len(words) not in (3, 4):
                raise ValueError("write 'train label 2' or 'train label 2 misread'")
            label = _int(words[2], "label", lo=0)
            pick = words[3] if len(words) == 4 else "first"
            if pick not in PICKS:
                raise ValueError(f"pick one of {', '.join(PICKS)}, not {pick!r}")
            return cls(target, split, None, label, pick)
        if len(words) != 2:
            raise ValueError(f"write '{split} <index>'")
        return cls(target, split, _int(words[1], "index", lo=0))


@dataclass(frozen=True)
class NeuronSpec:
    """A neuron to highlight: ``1 brightest`` (the brightest of layer 1 for this example) or ``1 5``."""

    layer: int
    index: int | None  # None: the brightest for the current example

    @classmethod
    def parse(cls, text: str) -> "NeuronSpec":
        words = text.split()
        if len(words) != 2:
            raise ValueError("write '<layer> <index>' or '<layer> brightest', e.g. '1 brightest'")
        layer = _int(words[0], "layer", lo=1)
        return cls(layer, None if words[1] == "brightest" else _int(words[1], "neuron", lo=0))

    def resolve(self, net: Network, pixels) -> tuple[int, int]:
        L = len(net.sizes) - 1
        if self.layer > L:
            raise ValueError(f"this network has no layer {self.layer}")
        if self.index is not None:
            if self.index >= net.sizes[self.layer]:
                raise ValueError(f"layer {self.layer} has no neuron {self.index}")
            return self.layer, self.index
        if pixels is None:
            return self.layer, 0
        a = net.forward(as_inputs(pixels)).activations[self.layer][0]
        return self.layer, int(np.argmax(a))


@dataclass(frozen=True)
class ParamSpec:
    """A weight or bias: ``weight <into layer|last> <neuron|label> <from neuron|brightest>`` or
    ``bias <into layer|last> <neuron|label>``.  Layers count neurons (1 = the first hidden layer);
    ``label`` is the example's desired digit; ``brightest`` the brightest neuron feeding it."""

    kind: str  # "weight" | "bias"
    layer: int | None  # the neuron layer the parameter feeds; None = the last
    row: int | None  # None = the label
    col: int | None = None  # weights only; None = the brightest

    @classmethod
    def parse(cls, text: str) -> "ParamSpec":
        words = text.split()
        if not words or words[0] not in ("weight", "bias"):
            raise ValueError("write 'weight last label brightest' or 'bias last label'")
        n = 4 if words[0] == "weight" else 3
        if len(words) != n:
            raise ValueError("write 'weight <layer|last> <neuron|label> <neuron|brightest>' or "
                             "'bias <layer|last> <neuron|label>'")
        layer = None if words[1] == "last" else _int(words[1], "layer", lo=1)
        row = None if words[2] == "label" else _int(words[2], "neuron", lo=0)
        col = None
        if n == 4:
            col = None if words[3] == "brightest" else _int(words[3], "neuron", lo=0)
        return cls(words[0], layer, row, col)

    def resolve(self, net: Network, pixels, label: int | None) -> ParamRef:
        L = len(net.sizes) - 1
        layer = L if self.layer is None else self.layer
        if layer > L:
            raise ValueError(f"this network has no layer {layer}")
        row = self.row
        if row is None:
            row = 0 if label is None else int(label)
        col = None
        if self.kind == "weight":
            col = self.col
            if col is None:
                col = 0
                if pixels is not None:
                    col = int(np.argmax(net.forward(as_inputs(pixels)).activations[layer - 1][0]))
        return ParamRef(layer - 1, row, col).check(net.sizes)


def _int(text: str, what: str, lo: int | None = None) -> int:
    try:
        v = int(text)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, not {text!r}") from None
    if lo is not None and v < lo:
        raise ValueError(f"{what} must be at least {lo}")
    return v


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
_SETUP_FIELDS = tuple(k for k in SETUP_KEYS if k not in ("id", "title"))


@dataclass(frozen=True)
class Setup:
    """What a step sets up before the learner plays (every field optional but ``show``)."""

    show: tuple = ()
    network: str = "keep"
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


# =============================================================================== live numbers
@dataclass
class LiveContext:
    """What the live numbers are computed from: the window's state and the step's selections."""

    network: Network | None = None
    pixels: np.ndarray | None = None  # (n_in,) the current input, 0..1
    label: int | None = None  # its true class, when known
    source: str = ""
    dataset: object = None  # an nnstudio Dataset (train_x, train_labels, test_x, test_labels, class_names)
    batch_indices: np.ndarray | None = None  # the last mini-batch stepped (training-set indices)
    explorer_eta: float = 1.5  # the Backprop explorer's learning rate
    neuron: NeuronSpec | None = None
    parameter: ParamSpec | None = None
    focus: int | None = None
    preset: str | None = None
    learning_rate: float | None = None  # the playground's
    start: tuple | None = None
    training_learning_rate: float | None = None
    training_batch_size: int | None = None
    noise_seed: int = 0


#: name -> (description, function(Live) -> str)
LIVE: dict[str, tuple[str, object]] = {}
MISSING = "—"


def live(name: str, doc: str):
    def register(fn):
        LIVE[name] = (doc, fn)
        return fn
    return register


def _count(n) -> str:
    return f"{int(n):,}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


class Live:
    """Computes the live values for one context (each intermediate result once)."""

    CHUNK = 10_000

    def __init__(self, ctx: LiveContext, cache: dict | None = None):
        self.ctx = ctx
        self.cache = cache if cache is not None else {}

    def value(self, name: str) -> str:
        try:
            fn = LIVE[name][1]
        except KeyError:
            raise KeyError(f"unknown live value {name!r}") from None
        try:
            v = fn(self)
        except (_Missing, ValueError, IndexError, FloatingPointError):
            return MISSING
        return MISSING if v is None else str(v)

    # ------------------------------------------------------------------ inputs
    @property
    def net(self) -> Network:
        if self.ctx.network is None:
            raise _Missing
        return self.ctx.network

    @cached_property
    def q(self) -> Network:
        """The network explained with the videos' cost, Σ (a − y)²."""
        return explained(self.net, "quadratic")

    @property
    def ds(self):
        if self.ctx.dataset is None:
            raise _Missing
        return self.ctx.dataset

    def name(self, k: int) -> str:
        names = getattr(self.ctx.dataset, "class_names", None)
        if names is not None and 0 <= k < len(names) and len(names) == self.net.sizes[-1]:
            return str(names[k])
        return str(k)

    @property
    def x(self) -> np.ndarray:
        p = self.ctx.pixels
        if p is None or np.asarray(p).size != self.net.sizes[0]:
            raise _Missing
        return as_inputs(np.asarray(p, dtype=np.float64).ravel())

    @cached_property
    def fwd(self):
        return self.net.forward(self.x)

    @property
    def out(self) -> np.ndarray:
        return self.fwd.output[0]

    @cached_property
    def guess(self) -> int:
        return int(np.argmax(self.out))

    @property
    def desired(self) -> int:
        """The desired digit: the true label, or (a drawing) the network's guess, as the explorer does."""
        lab = self.ctx.label
        if lab is None or not 0 <= lab < self.net.sizes[-1]:
            return self.guess
        return int(lab)

    @cached_property
    def ex_cost(self):
        return example_cost(self.q, self.x, self.desired)

    # ------------------------------------------------------------------ whole splits (cached across renders)
    def _key(self, what):
        return (what, id(self.ctx.network), id(self.ctx.dataset))

    def split_outputs(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(outputs (N, n_out), labels (N,)) of a dataset split, in chunks (never a float copy of it all)."""
        key = self._key(("outputs", split))
        if key not in self.cache:
            X = self.ds.test_x if split == "test" else self.ds.train_x
            y = np.asarray(self.ds.test_labels if split == "test" else self.ds.train_labels)
            if X.shape[1] != self.net.sizes[0]:
                raise _Missing
            outs = [self.net.feedforward(X[i:i + self.CHUNK]) for i in range(0, len(X), self.CHUNK)]
            out = np.concatenate(outs) if outs else np.zeros((0, self.net.sizes[-1]))
            self._remember(key, (out, y))
        return self.cache[key]

    def split_costs(self, split: str) -> np.ndarray:
        """Each example's Σ (a − y)² over a split."""
        out, y = self.split_outputs(split)
        Y = np.zeros_like(out)
        Y[np.arange(len(y)), y.astype(np.intp)] = 1.0
        return ((out - Y) ** 2).sum(axis=1)

    def _remember(self, key, value):
        if len(self.cache) > 16:  # a few networks' worth: enough for a step and its neighbours
            self.cache.pop(next(iter(self.cache)))
        self.cache[key] = value

    @cached_property
    def batch(self):
        """(X, labels) of the mini-batch the Backprop explorer shows."""
        idx = explorer_batch(self.ds, self.ctx.batch_indices)
        if idx is None:
            raise _Missing
        return self.ds.train_x[idx], np.asarray(self.ds.train_labels)[idx].astype(np.intp)

    @cached_property
    def ref(self) -> ParamRef:
        spec = self.ctx.parameter or ParamSpec("weight", None, None, None)
        try:
            return spec.resolve(self.net, self.x, self.desired)
        except ValueError:
            raise _Missing from None

    @cached_property
    def focus(self) -> int:
        f = self.ctx.focus
        return self.desired if f is None or not 0 <= f < self.net.sizes[-1] else int(f)

    @cached_property
    def three(self):
        return three_ways(self.q, self.x, self.desired, neuron=self.focus)

    @cached_property
    def nud(self):
        return nudges(self.q, self.x, self.desired)

    @cached_property
    def chain(self):
        return chain_rule(self.q, self.x, self.desired, self.ref)

    @cached_property
    def step(self):
        X, y = self.batch
        return sgd_step(self.q, X, y, self.ctx.explorer_eta)

    @cached_property
    def neuron(self) -> tuple[int, int]:
        spec = self.ctx.neuron or NeuronSpec(1, None)
        try:
            return spec.resolve(self.net, self.x)
        except ValueError:
            raise _Missing from None

    @cached_property
    def fn(self):
        key = self.ctx.preset
        if key not in PRESETS:
            raise _Missing
        return PRESETS[key]

    @property
    def eta(self) -> float:
        return float(self.ctx.learning_rate if self.ctx.learning_rate else self.fn.learning_rate)


class _Missing(Exception):
    """A live value cannot be computed yet (no network, no example, no dataset)."""


def explorer_batch(dataset, batch_indices=None, size: int = 10) -> np.ndarray | None:
    """The mini-batch the Backprop explorer explains: the last one stepped, else ``size`` fixed examples."""
    if dataset is None or getattr(dataset, "n_train", 0) == 0:
        return None
    n = dataset.n_train
    if batch_indices is not None and len(batch_indices):
        idx = np.asarray(batch_indices, dtype=np.intp)
        if idx.min() >= 0 and idx.max() < n:
            return idx
    return default_batch_indices(n, size, seed=0)


def resolve_example(spec: ExampleSpec, dataset, network: Network | None = None) -> int:
    """The index in ``spec.split`` of the example ``spec`` names (ValueError with a one-line reason)."""
    labels = np.asarray(dataset.test_labels if spec.split == "test" else dataset.train_labels)
    if spec.index is not None:
        if spec.index >= len(labels):
            raise ValueError(f"{dataset.name} has {len(labels):,} {spec.split} images, not #{spec.index}")
        return int(spec.index)
    idx = np.flatnonzero(labels == spec.label)
    if idx.size == 0:
        raise ValueError(f"{dataset.name} has no {spec.split} image of class {spec.label}")
    if spec.pick == "first" or network is None:
        return int(idx[0])
    X = dataset.test_x if spec.split == "test" else dataset.train_x
    out = np.concatenate([network.feedforward(X[idx[i:i + 10_000]]) for i in range(0, idx.size, 10_000)])
    if spec.pick == "misread":
        wrong = np.flatnonzero(out.argmax(axis=1) != spec.label)
        return int(idx[wrong[0]]) if wrong.size else int(idx[0])
    Y = np.zeros_like(out)
    Y[:, spec.label] = 1.0
    return int(idx[int(np.argmax(((out - Y) ** 2).sum(axis=1)))])


# ------------------------------------------------------------------------------- the values
@live("sizes", "the layer sizes, e.g. 784-16-16-10")
def _(v: Live):
    return "-".join(str(n) for n in v.net.sizes)


@live("n_inputs", "neurons in the input layer (784 pixels)")
def _(v):
    return _count(v.net.sizes[0])


@live("n_hidden", "neurons per hidden layer, e.g. '16 and 16'")
def _(v):
    h = [str(n) for n in v.net.sizes[1:-1]]
    return " and ".join([", ".join(h[:-1]), h[-1]]) if len(h) > 1 else (h[0] if h else "none")


@live("n_outputs", "neurons in the output layer")
def _(v):
    return _count(v.net.sizes[-1])


@live("n_params", "weights and biases in all (13,002)")
def _(v):
    return _count(v.net.n_params)


@live("n_weights", "weights in all")
def _(v):
    return _count(sum(a * b for a, b in zip(v.net.sizes[:-1], v.net.sizes[1:])))


@live("n_biases", "biases in all")
def _(v):
    return _count(sum(v.net.sizes[1:]))


@live("n_train", "training images in the dataset")
def _(v):
    return _count(v.ds.n_train)


@live("n_test", "test images in the dataset")
def _(v):
    return _count(v.ds.n_test)


@live("source", "where the current example comes from, e.g. 'test #1'")
def _(v):
    if v.ctx.pixels is None:
        raise _Missing
    return v.ctx.source or "the current example"


@live("label", "the desired digit of the current example (for a drawing: the network's guess)")
def _(v):
    return v.name(v.desired)


@live("guess", "the digit the network reads (its brightest output neuron)")
def _(v):
    return v.name(v.guess)


@live("confidence", "the activation of that output neuron")
def _(v):
    return fmt(v.out[v.guess], 3)


@live("runner_up", "the second brightest output neuron")
def _(v):
    return v.name(int(np.argsort(v.out)[-2]))


@live("lit_pixels", "input neurons of this example with activation above 0.5")
def _(v):
    return _count((v.x[0] > 0.5).sum())


@live("hidden_lit", "neurons of the first hidden layer with activation above 0.5")
def _(v):
    return _count((v.fwd.activations[1][0] > 0.5).sum())


@live("cost", "this example's cost Σ (a − y)²")
def _(v):
    return fmt(v.ex_cost.cost, 4)


@live("cost_label_term", "the desired digit's term (a − 1)²")
def _(v):
    return fmt(v.ex_cost.terms[v.desired], 3)


@live("accuracy", "share of the test images read correctly")
def _(v):
    out, y = v.split_outputs("test")
    return _pct(float((out.argmax(axis=1) == y).mean())) if len(y) else MISSING


@live("test_cost", "the average of Σ (a − y)² over the test images")
def _(v):
    c = v.split_costs("test")
    return fmt(c.mean(), 3) if c.size else MISSING


@live("train_cost", "the average of Σ (a − y)² over the training images (the model's cost)")
def _(v):
    c = v.split_costs("train")
    return fmt(c.mean(), 3) if c.size else MISSING


def _worst(v):
    c = v.split_costs("test")
    if not c.size:
        raise _Missing
    i = int(np.argmax(c))
    out, y = v.split_outputs("test")
    return i, c[i], int(y[i]), int(out[i].argmax())


@live("worst_index", "the test image with the highest cost")
def _(v):
    return str(_worst(v)[0])


@live("worst_cost", "its cost")
def _(v):
    return fmt(_worst(v)[1], 4)


@live("worst_label", "its true digit")
def _(v):
    return v.name(_worst(v)[2])


@live("worst_guess", "what the network reads it as")
def _(v):
    return v.name(_worst(v)[3])


@live("own_cost", "the cost this network is trained with")
def _(v):
    return v.net.cost.name


@live("cost_note", "a sentence when the network was trained with another cost than Σ (a − y)² (else nothing)")
def _(v):
    if v.net.cost.name == "quadratic":
        return ""
    return (f" (The Evaluation panel's mean cost is the {v.net.cost.name} cost this network was trained with, "
            "so it is a different number.)")


def _noise(v):
    res = {r.name: r for r in noise_test(v.net, v.ctx.noise_seed)}
    return res["random noise"]


@live("noise_guess", "the digit the network answers for random noise")
def _(v):
    return v.name(_noise(v).digit)


@live("noise_confidence", "the activation of that answer")
def _(v):
    return fmt(_noise(v).confidence, 3)


# ----------------------------------------------------------------------- one neuron (diagram)
@live("neuron", "the highlighted neuron's index in its layer")
def _(v):
    return str(v.neuron[1])


@live("neuron_layer", "the highlighted neuron's layer, e.g. 'hidden 1'")
def _(v):
    return layer_name(v.net.sizes, v.neuron[0])


def _neuron_parts(v):
    layer, j = v.neuron
    a_prev = v.fwd.activations[layer - 1][0]
    w = v.net.weights[layer - 1][j]
    b = float(v.net.biases[layer - 1][j])
    s = float(w @ a_prev)
    return s, b, s + b, float(v.fwd.activations[layer][0, j])


@live("neuron_weighted_sum", "its weighted sum w·a of the previous layer (before the bias)")
def _(v):
    return fmt(_neuron_parts(v)[0], 3)


@live("neuron_bias", "its bias b")
def _(v):
    return fmt(_neuron_parts(v)[1], 3)


@live("neuron_z", "z = w·a + b")
def _(v):
    return fmt(_neuron_parts(v)[2], 3)


@live("neuron_activation", "its activation σ(z)")
def _(v):
    return fmt(_neuron_parts(v)[3], 3)


# ----------------------------------------------------------------------- the playground
@live("preset", "the playground's function, e.g. 'elongated valley'")
def _(v):
    return v.fn.name.lower()


@live("eta", "the playground's learning rate")
def _(v):
    return fmt(v.eta, 3)


_REGIME_WORDS = {"crawls": "too small", "good": "a good size", "overshoots": "too large", "diverges": "far too large"}


@live("regime", "what that learning rate is for this function: too small / a good size / too large / far too large")
def _(v):
    return _REGIME_WORDS[v.fn.regime(v.eta).key]


@live("eta_crawls", "below this learning rate it crawls")
def _(v):
    return fmt(v.fn.regimes()[1].low, 2)


@live("eta_overshoots", "above this it overshoots (zig-zags)")
def _(v):
    return fmt(v.fn.regimes()[2].low, 2)


@live("eta_diverges", "above this (2 ÷ curvature) it diverges")
def _(v):
    return fmt(v.fn.stability_bound, 2)


@live("descent", "how gradient descent with that learning rate ends, e.g. 'reaches the bottom in 47 steps'")
def _(v):
    start = v.ctx.start if v.ctx.start is not None else v.fn.start
    run = DescentRun(v.fn, start, v.eta, max_steps=3000).run()
    if run.status == "converged":
        return f"reaches the bottom in {_count(run.steps_done)} steps"
    if run.status == "diverged":
        return "never settles: it diverges"
    return f"is still crawling after {_count(run.steps_done)} steps"


# ----------------------------------------------------------------------- SGD on the real network
@live("batch_size", "the real trainer's mini-batch size")
def _(v):
    return _count(v.ctx.training_batch_size or 10)


@live("batches_per_epoch", "mini-batches in one pass over the training images")
def _(v):
    return _count(math.ceil(v.ds.n_train / (v.ctx.training_batch_size or 10)))


@live("batch_cosine", "how well one mini-batch's downhill direction agrees with the full one (cosine)")
def _(v):
    key = v._key("full-gradient")
    if key not in v.cache:
        X, y = v.ds.train_x, np.asarray(v.ds.train_labels)
        total = None
        for i in range(0, len(X), v.CHUNK):
            gw, gb = v.q.backprop(X[i:i + v.CHUNK], y[i:i + v.CHUNK])
            g = v.q.flat_gradient(gw, gb) * len(y[i:i + v.CHUNK])
            total = g if total is None else total + g
        v._remember(key, total / len(X))
    full = v.cache[key]
    Xb, yb = v.batch
    gw, gb = v.q.backprop(Xb, yb)
    g = v.q.flat_gradient(gw, gb)
    den = float(np.linalg.norm(g) * np.linalg.norm(full))
    return fmt(float(g @ full) / den, 2) if den else MISSING


# ----------------------------------------------------------------------- backprop
@live("explorer_batch_size", "examples in the Backprop explorer's mini-batch")
def _(v):
    return _count(len(v.batch[1]))


@live("step_eta", "the Backprop explorer's learning rate")
def _(v):
    return fmt(v.ctx.explorer_eta, 3)


@live("step_cost_before", "the mini-batch's average cost before one step")
def _(v):
    return fmt(v.step.batch_cost_before, 4)


@live("step_cost_after", "…and after it")
def _(v):
    return fmt(v.step.batch_cost_after, 4)


def _top(v):
    X, y = v.batch
    pn = parameter_nudges(v.q, X, y, top=1)
    i = int(pn.top[0])
    return ParamRef.from_flat(v.net.sizes, i), float(pn.neg_grad[i])


@live("top_param", "the parameter with the largest entry of −∇C")
def _(v):
    return _top(v)[0].describe(v.net.sizes)


@live("top_param_change", "that entry of −∇C")
def _(v):
    return fmt(_top(v)[1], 3, plus=True)


@live("focus", "the output neuron the explorer explains")
def _(v):
    return v.name(v.focus)


@live("out_a", "its activation a")
def _(v):
    return fmt(v.three.a, 3)


@live("out_desired", "its desired nudge −∂C/∂a = −2(a − y)")
def _(v):
    return fmt(v.three.desired, 4, plus=True)


@live("out_bias", "its bias b")
def _(v):
    return fmt(v.three.bias, 3)


@live("bright_prev", "the brightest neuron of the layer before it")
def _(v):
    return str(int(np.argmax(v.three.prev_activations)))


@live("bright_prev_a", "that neuron's activation")
def _(v):
    return fmt(float(np.max(v.three.prev_activations)), 3)


@live("bright_prev_w", "its weight into the explained neuron")
def _(v):
    return fmt(float(v.three.weights[int(np.argmax(v.three.prev_activations))]), 3)


def _most_down(v):
    d = v.nud.desired[-1].copy()
    d[v.desired] = np.inf
    k = int(np.argmin(d))
    return k, float(d[k])


@live("most_down", "the output neuron that most wants to go down")
def _(v):
    return v.name(_most_down(v)[0])


@live("most_down_desired", "its desired nudge")
def _(v):
    return fmt(_most_down(v)[1], 4, plus=True)


def _hidden_top(v):
    d = v.nud.desired[-2]
    k = int(np.argmax(np.abs(d)))
    return k, float(d[k])


@live("hidden_top", "the last hidden layer's neuron with the largest desired nudge")
def _(v):
    if len(v.net.sizes) < 3:
        raise _Missing
    return str(_hidden_top(v)[0])


@live("hidden_top_desired", "its desired nudge (the sum of what every output asks of it)")
def _(v):
    if len(v.net.sizes) < 3:
        raise _Missing
    return fmt(_hidden_top(v)[1], 4, plus=True)


@live("param", "the explained weight or bias, in words")
def _(v):
    return v.ref.describe(v.net.sizes)


def _batch_changes(v):
    from nnstudio.components.explain import batch_nudges

    X, y = v.batch
    return batch_nudges(v.q, X, y, v.ref)


@live("batch_avg_change", "the average of the mini-batch's desired changes to it (the step's direction)")
def _(v):
    return fmt(_batch_changes(v).average, 3, plus=True)


@live("batch_min_change", "the smallest desired change in the mini-batch")
def _(v):
    return fmt(float(_batch_changes(v).changes.min()), 3, plus=True)


@live("batch_max_change", "the largest desired change in the mini-batch")
def _(v):
    return fmt(float(_batch_changes(v).changes.max()), 3, plus=True)


@live("batch_agree", "how many examples want it to move the way the average does")
def _(v):
    bn = _batch_changes(v)
    return _count(int((np.sign(bn.changes) == np.sign(bn.average)).sum()))


@live("batch_direction", "'go up' or 'go down': the average's direction")
def _(v):
    return "go up" if _batch_changes(v).average >= 0 else "go down"


@live("cr_a_prev", "chain rule: the activation the weight multiplies")
def _(v):
    return fmt(v.chain.a_prev, 3)


@live("cr_fprime", "chain rule: σ′(z)")
def _(v):
    return fmt(v.chain.fprime, 3)


@live("cr_dC_da", "chain rule: ∂C/∂a")
def _(v):
    return fmt(v.chain.dC_da, 4)


@live("cr_product", "chain rule: the product, ∂C/∂w")
def _(v):
    return fmt(v.chain.product, 4)


@live("cr_numerical", "the same derivative measured by nudging the weight")
def _(v):
    return fmt(v.chain.numerical, 4)


@live("cr_error", "the difference between the two")
def _(v):
    return fmt(v.chain.error, 1)


# ----------------------------------------------------------------------- training
@live("train_eta", "the real trainer's learning rate")
def _(v):
    return fmt(v.ctx.training_learning_rate or 1.5, 3)


def live_values(ctx: LiveContext, names, cache: dict | None = None) -> dict[str, str]:
    """The live values ``names`` for ``ctx`` (a value that cannot be computed yet is "—")."""
    v = Live(ctx, cache)
    return {n: v.value(n) for n in names}


# =============================================================================== rendering
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
