"""The architecture's rules, checked on the source (see docs/architecture.md).

* Qt (PySide6, pyqtgraph, shiboken6) is imported only under ``nnstudio/gui``;
* no import cycles between nnstudio's modules, imports inside functions included;
* nothing imports ``nnstudio.cli`` but ``nnstudio/__main__.py``;
* no module over MAX_LINES lines;
* the gui is split into subpackages by family;
* the engine (core) and the data layer do not import each other, nor anything above them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "nnstudio"
MAX_LINES = 900
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2")
#: packages that must run without Qt (headless, in the CLI, in the training process)
QT_FREE = ("core", "data", "session", "training", "components", "lessons")


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py")) if "__pycache__" not in p.parts}


MODULES = all_modules()


def imports_of(name: str, path: Path) -> list[tuple[str, int]]:
    """Every module named by an import statement anywhere in the file (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((mod, node.lineno))
            for a in node.names:  # "from pkg import submodule" imports the submodule too
                if f"{mod}.{a.name}" in MODULES:
                    out.append((f"{mod}.{a.name}", node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    g = {}
    for name, path in MODULES.items():
        g[name] = {m for m, _ in imports_of(name, path) if m in MODULES and m != name}
    return g


def strongly_connected(g: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in g:
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_the_checker_finds_what_it_should():
    assert "nnstudio.core.network" in MODULES and "nnstudio.gui.qt" in MODULES
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    cycles = strongly_connected(graph())
    assert cycles == [], "import cycles (imports inside functions count):\n" + "\n".join(" ↔ ".join(c) for c in cycles)


@pytest.mark.parametrize("package", QT_FREE)
def test_no_qt_outside_gui(package):
    bad = []
    for name, path in MODULES.items():
        if not name.startswith(f"nnstudio.{package}"):
            continue
        for mod, line in imports_of(name, path):
            if mod.split(".")[0] in QT_MODULES or mod.startswith("nnstudio.gui"):
                bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {mod}")
    assert bad == []


def test_qt_only_under_gui():
    bad = []
    for name, path in MODULES.items():
        if name.startswith("nnstudio.gui"):
            continue
        for mod, line in imports_of(name, path):
            if mod.split(".")[0] in QT_MODULES:
                bad.append(f"{path.relative_to(PKG.parent)}:{line} imports {mod}")
    assert bad == []


def test_only_main_imports_the_cli():
    bad = []
    for name, path in MODULES.items():
        if name in ("nnstudio.__main__", "nnstudio.cli"):
            continue
        for mod, line in imports_of(name, path):
            if mod == "nnstudio.cli":
                bad.append(f"{path.relative_to(PKG.parent)}:{line}")
    assert bad == []


def test_layers_point_one_way():
    """core ← data? no: core and data are independent bottoms; session, training, components and
    lessons sit above them; the gui sits on top."""
    rank = {"core": 0, "data": 0, "components": 1, "training": 1, "lessons": 2, "session": 3, "gui": 4}
    allowed_same_rank = {("core", "core"), ("data", "data"), ("components", "components"), ("training", "training"),
                         ("components", "training"), ("training", "components")}
    bad = []
    for name, path in MODULES.items():
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in rank:
            continue
        me = parts[1]
        for mod, line in imports_of(name, path):
            other = mod.split(".")
            if other[0] != "nnstudio" or len(other) < 2 or other[1] not in rank or other[1] == me:
                continue
            if rank[other[1]] > rank[me] or (rank[other[1]] == rank[me] and (me, other[1]) not in allowed_same_rank):
                bad.append(f"{path.relative_to(PKG.parent)}:{line}: {me} imports {mod}")
    assert bad == []


def test_no_module_over_the_limit():
    long = {str(p.relative_to(PKG.parent)): n for p in MODULES.values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_gui_is_split_by_family():
    subpackages = sorted(p.parent.name for p in (PKG / "gui").glob("*/__init__.py"))
    assert len(subpackages) >= 4, subpackages
    assert {"style", "window", "training", "views"} <= set(subpackages)
    # every view family is a subpackage of its own
    families = sorted(p.parent.name for p in (PKG / "gui" / "views").glob("*/__init__.py"))
    assert {"diagram", "backprop", "pad", "evaluation", "descent", "lessons"} <= set(families), families


def test_tests_mirror_the_package():
    """Each test file of a subpackage lives in the matching tests/ folder."""
    tests = Path(__file__).resolve().parent
    for pkg in ("core", "data", "components", "training", "session", "lessons"):
        assert (tests / pkg).is_dir() and any((tests / pkg).glob("test_*.py")), pkg
    for fam in ("window", "training", "views/diagram", "views/backprop", "views/pad", "views/evaluation",
                "views/descent", "views/lessons"):
        assert any((tests / "gui" / fam).glob("test_*.py")), fam
