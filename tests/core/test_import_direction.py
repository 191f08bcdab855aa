"""Imports run one way: delivery → domain → core → layers, and no two apps import each other.

Read from the source with `ast` (no Django, no database): every module under gridmap/ except
migrations, imports inside functions included, relative imports resolved. docs/architecture.md
("Rooms and arrows") states the rule this test holds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DELIVERY_APPS = frozenset({"api", "open311", "dashboard", "maps"})
DOMAIN_APPS = frozenset(
    {
        "geography",
        "facilities",
        "problems",
        "evaluation",
        "analysis",
        "imports",
        "accounts",
        "notifications",
        "tensteps",
        "patrols",
        "surveys",
        "campaign",
    }
)
# Modules (or packages) that are delivery in whichever app they sit.
DELIVERY_PARTS = frozenset({"views", "urls", "forms", "admin", "templatetags", "management"})
RANK = {"core": 0, "domain": 1, "delivery": 2}

# Edges from a lower room to a higher one that are known and being removed elsewhere; each
# entry is (importing file, imported module). Keep it empty once they are gone.
KNOWN_BEING_FIXED: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module
    target: str
    path: str  # file relative to the project root
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} ({room(self.source)}) imports {self.target} ({room(self.target)})"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_modules(root: Path, package: str) -> dict[str, Path]:
    files = (p for p in sorted((root / package).rglob("*.py")) if "migrations" not in p.parts)
    return {module_name(p, root): p for p in files}


def imported_names(tree: ast.Module, module: str, is_package: bool) -> list[tuple[str, int]]:
    """Every module an import statement names, anywhere in the file; `from x import y` names
    x.y, which `resolve` shortens to x when y is not a module."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name refers to (the longest existing prefix), or None."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return None


def import_edges(root: Path, package: str = "gridmap") -> list[Edge]:
    modules = source_modules(root, package)
    edges = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in imported_names(tree, module, path.name == "__init__.py"):
            target = resolve(name, modules)
            if target is None or target == module or target == package:
                continue
            edges.setdefault((module, target), Edge(module, target, str(path.relative_to(root)), line))
    return sorted(edges.values(), key=lambda e: (e.path, e.line, e.target))


def app_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:  # gridmap/__init__.py
        return "core"
    if len(parts) == 2:  # gridmap.settings, gridmap.urls, gridmap.wsgi
        return "core" if parts[1] == "settings" else "project"
    return parts[1]


def room(module: str) -> str:
    parts = module.split(".")
    app = app_of(module)
    if app == "project":
        return "delivery"
    if app in DELIVERY_APPS or DELIVERY_PARTS & set(parts[2:]):
        return "delivery"
    if app == "core":
        return "core"
    assert app in DOMAIN_APPS, f"{module}: a new app must be placed in a room in this test"
    return "domain"


def upward(edges: list[Edge]) -> list[Edge]:
    return [e for e in edges if RANK[room(e.target)] > RANK[room(e.source)]]


def app_cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components of two or more apps (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for e in edges:
        a, b = app_of(e.source), app_of(e.target)
        graph.setdefault(a, set())
        graph.setdefault(b, set())
        if a != b:
            graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def cycle_report(edges: list[Edge], component: list[str]) -> str:
    """The app-to-app arrows inside a cycle, each with its first import (file:line)."""
    inside = set(component)
    arrows: dict[tuple[str, str], list[Edge]] = {}
    for e in edges:
        a, b = app_of(e.source), app_of(e.target)
        if a != b and a in inside and b in inside:
            arrows.setdefault((a, b), []).append(e)
    lines = [" ⇄ ".join(component) + ":"]
    for (a, b), found in sorted(arrows.items()):
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        lines.append(f"  {a} → {b}: {found[0]}{more}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    return import_edges(ROOT)


def test_no_import_runs_back_up(edges):
    known = [e for e in upward(edges) if (e.path, e.target) in KNOWN_BEING_FIXED]
    bad = [e for e in upward(edges) if e not in known]
    assert not bad, "imports from a lower room to a higher one:\n" + "\n".join(map(str, bad))


def test_known_exceptions_still_exist(edges):
    """An allowance that no longer matches an edge is removed from the list."""
    current = {(e.path, e.target) for e in upward(edges)}
    assert KNOWN_BEING_FIXED <= current, sorted(KNOWN_BEING_FIXED - current)


def test_no_cycle_between_apps(edges):
    cycles = app_cycles(edges)
    report = "\n".join(cycle_report(edges, c) for c in cycles)
    assert not cycles, "apps that import each other:\n" + report


def test_every_module_sits_in_a_room(edges):
    modules = source_modules(ROOT, "gridmap")
    assert {room(m) for m in modules} == {"delivery", "domain", "core"}
    assert room("gridmap.settings") == "core"
    assert room("gridmap.problems.views") == "delivery"
    assert room("gridmap.geography.management.commands.check_grids") == "delivery"
    assert room("gridmap.problems.selectors") == "domain"


def test_layers_import_neither_django_nor_gridmap():
    bad = []
    for path in sorted((ROOT / "layers").rglob("*.py")):
        module = module_name(path, ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, line in imported_names(tree, module, path.name == "__init__.py"):
            if name.split(".")[0] in {"django", "gridmap", "rest_framework"}:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not bad, "layers/ must stay pure:\n" + "\n".join(bad)


# The reader itself, on a small tree written here.


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_reader_sees_relative_and_function_level_imports(tmp_path):
    write(
        tmp_path,
        {
            "gridmap/__init__.py": "",
            "gridmap/settings.py": "",
            "gridmap/core/__init__.py": "",
            "gridmap/core/dates.py": "def f():\n    from gridmap.maps import tiles\n",
            "gridmap/maps/__init__.py": "",
            "gridmap/maps/tiles.py": "from ..problems.models import Problem\n",
            "gridmap/maps/views.py": "import gridmap.problems.models as m\n",
            "gridmap/problems/__init__.py": "from . import models\n",
            "gridmap/problems/models.py": "from .views import page\n",
            "gridmap/problems/views.py": "",
            "gridmap/problems/filters.py": "from gridmap.geography import services\n",
            "gridmap/geography/__init__.py": "",
            "gridmap/geography/services.py": "from gridmap.problems.models import Problem\n",
        },
    )
    found = import_edges(tmp_path)
    pairs = {(e.source, e.target) for e in found}
    assert ("gridmap.core.dates", "gridmap.maps.tiles") in pairs  # inside a function
    assert ("gridmap.maps.tiles", "gridmap.problems.models") in pairs  # two dots up
    assert ("gridmap.problems", "gridmap.problems.models") in pairs  # from a package's __init__
    assert ("gridmap.problems.models", "gridmap.problems.views") in pairs
    assert ("gridmap.maps.views", "gridmap.problems.models") in pairs  # import a.b.c as m
    bad = {(e.source, e.target): e for e in upward(found)}
    assert set(bad) == {
        ("gridmap.core.dates", "gridmap.maps.tiles"),
        ("gridmap.problems.models", "gridmap.problems.views"),
    }
    assert str(bad["gridmap.core.dates", "gridmap.maps.tiles"]).startswith("gridmap/core/dates.py:2: ")
    assert app_cycles(found) == [["geography", "problems"]]
