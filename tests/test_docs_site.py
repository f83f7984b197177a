"""The documentation site: citations resolve, the reST reader works, the strict build passes."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SOURCES = [
    path
    for folder in ("gangames", "agents", "tests", "examples", "benchmarks", "configs")
    for path in sorted((ROOT / folder).rglob("*"))
    if path.suffix in {".py", ".toml", ".md"} and path != Path(__file__).resolve()
] + [ROOT / "README.md"]
# "docs/algorithms.md §2.1", "docs/algorithms.md §8 T4", "docs/algorithms.md T5"
CITATION = re.compile(
    r"docs/algorithms\.md(?: (§\d+(?:\.\d+)?)(?:[–-](\d+))?)?(?:,? (T\d+))?"
)
DESIGN_CITATION = re.compile(r"docs/design\.md (§\d+)")


def _headings(page: str) -> set[str]:
    """The ``§N``, ``§N.M`` and ``TN`` labels that open the headings of a page."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return set(re.findall(r"^#{2,4} (§\d+(?:\.\d+)?|T\d+) ", text, re.MULTILINE))


def _cited(pattern: re.Pattern[str]) -> dict[str, set[str]]:
    cited: dict[str, set[str]] = {}
    for path in SOURCES:
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            labels = [g for g in match.groups() if g]
            if len(match.groups()) == 3 and match.group(2):  # a range §1–6
                labels[1] = "§" + labels[1]
            for label in labels:
                cited.setdefault(label, set()).add(path.relative_to(ROOT).as_posix())
    return cited


def test_every_algorithms_citation_has_its_section():
    headings = _headings("algorithms.md")
    cited = _cited(CITATION)
    assert cited, "no citation found: the pattern is stale"
    missing = {
        label: sorted(files) for label, files in cited.items() if label not in headings
    }
    assert not missing, f"cited but not in docs/algorithms.md: {missing}"


def test_every_design_citation_has_its_section():
    headings = _headings("design.md")
    missing = {k: v for k, v in _cited(DESIGN_CITATION).items() if k not in headings}
    assert not missing, f"cited but not in docs/design.md: {missing}"


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s+- (?:[^:\n]+: )?(\S+\.md)$", nav, re.MULTILINE))
    pages = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if "_ext" not in p.parts
    }
    assert pages == listed, (sorted(pages - listed), sorted(listed - pages))


def _extension():
    pytest.importorskip("griffe", reason="the docs extra is not installed")
    spec = importlib.util.spec_from_file_location(
        "sphinx_roles", DOCS / "_ext" / "sphinx_roles.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_roles_become_cross_references():
    convert = _extension().convert
    known = {"Game": "gangames.game.Game", "agents.base.Solver": "agents.base.Solver"}
    text = "See :class:`Game`, :class:`~agents.base.Solver` and :func:`torch.cos`."
    assert convert(text, known.get) == (
        "See [`Game`][gangames.game.Game], [`Solver`][agents.base.Solver] and `torch.cos`."
    )


def test_literal_markers_and_example_sections():
    convert = _extension().convert
    text = "Update::\n\n    x = 1\n\nExample:\n    >>> 1\n    1"
    assert (
        convert(text, lambda target: None)
        == "Update:\n\n    x = 1\n\nExamples:\n    >>> 1\n    1"
    )


def test_citations_link_to_their_sections():
    convert = _extension().convert
    text = "docs/algorithms.md §8 T1; docs/algorithms.md §2.1; docs/design.md §2; docs/algorithms.md"
    assert convert(text, lambda target: None) == (
        "[docs/algorithms.md §8 T1][t1-bilinear]; "
        "[docs/algorithms.md §2.1][21-the-proximal-objective-and-the-proximal-equilibrium]; "
        "[docs/design.md §2][2-flat-parameter-vectors]; docs/algorithms.md"
    )
    assert (
        convert("docs/algorithms.md §99", lambda target: None)
        == "docs/algorithms.md §99"
    )


def test_simple_tables_become_markdown_tables():
    convert = _extension().convert
    table = "\n".join(
        [
            "=====  =========",
            "seat   layout",
            "=====  =========",
            "gen    θ (d,),",
            "       then b",
            "disc   φ",
            "=====  =========",
        ]
    )
    assert convert(table, lambda target: None).split("\n") == [
        "| seat | layout |",
        "| --- | --- |",
        "| gen | θ (d,), then b |",
        "| disc | φ |",
    ]


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    pytest.importorskip(
        "mkdocstrings_handlers.python", reason="the docs extra is not installed"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert (tmp_path / "algorithms" / "index.html").exists()
