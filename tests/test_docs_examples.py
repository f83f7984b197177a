"""Every ```python block of docs/ runs, so the pages cannot rot.

A page's blocks run in order in one namespace (a how-to builds on its earlier blocks),
in a fresh working directory. A block whose first line is ``# needs: <what>`` runs only
where that is available: ``cuda`` (a CUDA device), ``ray`` (the ``ray`` package, a local
``ray.init()``) or ``ray cluster`` (``RAY_ADDRESS`` names a running cluster).
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import types
from pathlib import Path

import pytest
import torch

import agents.registry
import gangames.registration

DOCS = Path(__file__).resolve().parents[1] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)
NEEDS = re.compile(r"^# needs: (.+)$")


def _available(need: str) -> bool:
    checks = {
        "cuda": torch.cuda.is_available,
        "ray": lambda: importlib.util.find_spec("ray") is not None,
        "ray cluster": lambda: bool(os.environ.get("RAY_ADDRESS")),
    }
    if need not in checks:
        raise AssertionError(
            f"unknown '# needs: {need}' (expected one of {list(checks)})"
        )
    return checks[need]()


def _pages() -> list[Path]:
    pages = sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)
    return [p for p in pages if BLOCK.search(p.read_text(encoding="utf-8"))]


def _id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


def test_the_howtos_have_examples():
    names = {_id(p) for p in _pages()}
    assert {"index.md", "howto/own-game.md", "howto/own-rule.md"} <= names
    assert {"howto/plugin.md", "howto/train-sb3.md", "howto/gpu.md"} <= names
    assert "howto/ray.md" in names


@pytest.mark.slow
@pytest.mark.parametrize("page", _pages(), ids=_id)
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # The pages register example games and agents: keep them out of the other tests.
    for registry in (gangames.registration, agents.registry):
        monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    # A real module, so that dataclasses and pickling find what the page defines.
    module = types.ModuleType(f"docs_{page.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    skipped = []
    for number, code in enumerate(BLOCK.findall(page.read_text(encoding="utf-8"))):
        need = NEEDS.match(code.split("\n", 1)[0])
        if need and not _available(need.group(1)):
            skipped.append(f"block {number} ({need.group(1)})")
            continue
        exec(compile(code, f"{_id(page)}[block {number}]", "exec"), module.__dict__)
    if skipped:
        pytest.skip("not available here: " + ", ".join(skipped))
