"""Imports run one way: the layers of docs/architecture.md, checked on the source.

Every import statement of ``gangames/`` and ``agents/`` is read with ``ast`` — at
module level, under ``if TYPE_CHECKING``, and inside functions — and the project's
module graph is built from them. ``from pkg import name`` counts as an import of
``pkg.name`` when that is a module, else of ``pkg``; the implicit import of a parent
package is not counted (every submodule would otherwise depend on its package's
``__init__``).
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gangames", "agents")

# Layers, lowest first. A module may import modules of its own layer and of the layers
# below it, never above. A name covers that module and everything under it, except the
# root package "gangames", which covers gangames/__init__.py only.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "foundation",
        (
            "gangames.types",
            "gangames.errors",
            "gangames.random",
            "gangames.checks",
            "gangames.concepts",
            "gangames.forking",
        ),
    ),
    (
        "models",
        ("gangames.game", "gangames.nets", "gangames.quality", "gangames.render"),
    ),
    ("evaluation", ("gangames.oracle", "gangames.metrics", "gangames.estimators")),
    ("engine and rule protocol", ("gangames.engine", "gangames.rules")),
    (
        "environment core",
        (
            "gangames.envs.config",
            "gangames.envs.spaces",
            "gangames.envs.record",
            "gangames.envs.session",
        ),
    ),
    ("environment adapters", ("gangames.envs", "gangames.flat")),
    ("registry and games", ("gangames.registration", "gangames.games")),
    ("match loop and checkers", ("gangames.play", "gangames.testing")),
    ("public API", ("gangames",)),
    ("agents", ("agents",)),
    (
        "joining layers",
        (
            "gangames.wrappers",
            "gangames.torchrl_env",
            "gangames.training",
            "gangames.tournament",
            "gangames.cli",
        ),
    ),
)

# Third-party modules that may be imported inside a function, and why. Everything else
# (the project's own modules, the standard library, required dependencies) is imported
# at the top of its module.
DEFERRED = {
    "ray": "optional extra 'ray': the distributed tournament backend",
    "tensorboard": "optional extra 'tensorboard': training logs",
    "matplotlib": "report plots only; takes about a second to import",
    "scipy": "tuning trials only (scipy.stats.qmc); takes about a second to import",
    "sklearn": "the digits game only; takes seconds to import",
    "threadpoolctl": "installed with scikit-learn, used with it by the digits game",
}


class Import(NamedTuple):
    """One imported project or third-party module."""

    source: str  # the importing module
    target: str  # the imported module (a project module, or a top-level name)
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def _sources() -> dict[str, Path]:
    return {
        _module_name(p): p
        for package in PACKAGES
        for p in sorted((ROOT / package).rglob("*.py"))
    }


def _is_project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def _resolve(name: str) -> str:
    """The longest prefix of ``name`` that is a project module (``name`` otherwise)."""
    modules = _sources()
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return name


def _imports_of(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(
                        Import(module, _resolve(alias.name), child.lineno, in_function)
                    )
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                if base == "__future__":
                    continue
                for alias in child.names:
                    target = f"{base}.{alias.name}"
                    if target not in _sources():
                        target = _resolve(base)
                    found.append(Import(module, target, child.lineno, in_function))
            visit(child, inside)

    visit(tree, False)
    return found


@functools.cache
def _imports() -> tuple[Import, ...]:
    # one entry per (module, target, line): `from m import a, b` names m once
    return tuple(
        dict.fromkeys(
            imp
            for module, path in _sources().items()
            for imp in _imports_of(module, path)
        )
    )


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in _sources()}
    for imp in _imports():
        if _is_project(imp.target) and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    return graph


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None  # (prefix length, layer index)
    for index, (_, names) in enumerate(LAYERS):
        for name in names:
            covers = module == name or (
                name != "gangames" and module.startswith(name + ".")
            )
            if covers and (best is None or len(name) > best[0]):
                best = (len(name), index)
    return None if best is None else best[1]


def _where(imp: Import) -> str:
    kind = "inside a function" if imp.in_function else "at module level"
    path = _sources()[imp.source].relative_to(ROOT)
    return f"{path}:{imp.line} ({kind})"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component with a cycle (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)

    cycles = []
    for component in components:
        start = min(component)
        # breadth-first search for the shortest way back to start inside the component
        parents: dict[str, str] = {}
        frontier = [start]
        while frontier and start not in parents:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & component):
                    if w not in parents:
                        parents[w] = v
                        nxt.append(w)
            frontier = nxt
        path = [start]
        v = parents[start]
        while v != start:
            path.append(v)
            v = parents[v]
        cycles.append([start, *reversed(path[1:]), start])
    return cycles


# ---- the checks ----------------------------------------------------------------------
def test_the_walk_sees_the_tree():
    # guards the checks below against passing on an empty or misparsed tree
    modules = _sources()
    assert {"gangames", "gangames.rules", "gangames.play", "agents"} <= set(modules)
    assert len(modules) > 40
    targets = {imp.target for imp in _imports()}
    assert {"gangames.rules", "gangames.oracle", "torch", "agents.control"} <= targets
    assert any(imp.in_function for imp in _imports())  # the deferred optional deps


def test_every_module_has_a_layer():
    missing = sorted(m for m in _sources() if _layer(m) is None)
    assert not missing, (
        f"modules without a layer: {missing}; add each to LAYERS in "
        "tests/test_imports.py and to docs/architecture.md"
    )


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(
        " → ".join(cycle) for cycle in cycles
    )


def test_the_core_never_imports_agents():
    # the core: every layer below agents (the joining layers may import agents)
    agents_layer = _layer("agents")
    bad = [
        f"{imp.source} → {imp.target} at {_where(imp)}"
        for imp in _imports()
        if imp.target.split(".")[0] == "agents"
        and (_layer(imp.source) or 0) < agents_layer
    ]
    assert not bad, "the core imports agents:\n" + "\n".join(bad)


def test_imports_point_down_the_layers():
    names = [name for name, _ in LAYERS]
    bad = []
    for imp in _imports():
        if not _is_project(imp.target):
            continue
        source, target = _layer(imp.source), _layer(imp.target)
        if source is not None and target is not None and target > source:
            bad.append(
                f"{imp.source} ({names[source]}) → {imp.target} ({names[target]}) "
                f"at {_where(imp)}"
            )
    assert not bad, "imports up the layers:\n" + "\n".join(bad)


def test_imports_inside_functions_are_deferred_optional_dependencies():
    bad = [
        f"{imp.target} at {_where(imp)}"
        for imp in _imports()
        if imp.in_function and imp.target.split(".")[0] not in DEFERRED
    ]
    assert not bad, (
        "imports inside functions (move them to the top of the module, or add an "
        "optional dependency to DEFERRED with its reason):\n" + "\n".join(bad)
    )


def test_cycle_finder_names_the_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    ("statement", "absent"),
    [
        (
            "import gangames",
            (
                "agents",
                "gangames.wrappers",
                "gangames.training",
                "gangames.torchrl_env",
                "torchrl",
            ),
        ),
        (
            "import agents",
            ("gangames.wrappers", "gangames.training", "gangames.tournament"),
        ),
    ],
)
def test_importing_a_package_leaves_the_layers_above_unloaded(statement, absent):
    code = f"import json, sys; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    modules = json.loads(out)
    assert statement.split()[-1] in modules  # the import itself happened
    loaded = [
        m for m in modules if any(m == a or m.startswith(a + ".") for a in absent)
    ]
    assert loaded == [], f"{statement} loaded {loaded}"
