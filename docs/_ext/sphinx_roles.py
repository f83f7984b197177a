"""Griffe extension: read the docstrings' reStructuredText markup as Markdown.

The package's docstrings are Google style (what mkdocstrings-python parses) but their
prose uses a little reStructuredText, which Markdown would print verbatim:

* Sphinx roles ``:func:`x```, ``:class:`~a.b.C```, ``:mod:`.report``` … become
  mkdocstrings cross-references ``[`x`][a.b.x]``. A role is resolved the way Sphinx
  does it: absolute, relative to the enclosing class and module (and the names the
  module imports), or, with a leading dot, to the module's package; ``~`` shows only
  the last component. A target in a private module (``gangames.games._neural``) or
  outside the two packages (``torch.nn.functional.logsigmoid``) is shown as code
  without a link. A gangames or agents target that resolves to nothing is reported
  as a warning, which ``mkdocs build --strict`` turns into an error: every docstring
  reference must resolve.
* An ``Example:`` section is read as ``Examples:`` (doctest code, not Markdown).
* A paragraph ending in ``::`` (a literal block follows) ends in ``:``.
* Simple tables (columns framed by ``=====  =====`` rules) become Markdown tables.
* Citations of the documentation pages, ``docs/algorithms.md §8 T1`` or
  ``docs/design.md §2``, link to that section's heading; a section the page lacks is
  reported as a warning.

Configured in ``mkdocs.yml`` under the python handler's ``extensions``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import griffe
from markdown.extensions.toc import slugify

__all__ = ["SphinxRoles", "convert"]

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj):`(~?)([^`]+)`")
_RULE = re.compile(r"^( *)(=+)(?: +=+)+ *$")
_OWN = ("gangames", "agents")
_DOCS = Path(__file__).resolve().parents[1]
_CITATION = re.compile(
    r"docs/(algorithms|design)\.md"
    r"(?: (§\d+(?:\.\d+)?))?(?:,? (T\d+))?"
)
_logger = griffe.get_logger("gangames.docs")


def convert(text: str, resolve: Callable[[str], str | None]) -> str:
    """Rewrite one docstring's reST markup as Markdown.

    Args:
        text: the docstring.
        resolve: maps a role's target (as written, without ``~``) to the path of a
            documented object, or ``None`` to show the target as plain code.

    Returns:
        The docstring with roles as cross-references, ``::`` as ``:`` and simple
        tables as Markdown tables.
    """

    def role(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2)
        shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
        path = resolve(target)
        return f"[`{shown}`][{path}]" if path else f"`{shown}`"

    # griffe parses "Examples:" as doctest code; "Example:" would be read as Markdown.
    text = re.sub(r"^( *)Example:$", r"\1Examples:", text, flags=re.MULTILINE)
    text = re.sub(r"(\S)::$", r"\1:", text, flags=re.MULTILINE)
    text = re.sub(r"^( *)::$", "", text, flags=re.MULTILINE)
    return _CITATION.sub(_cite, _ROLE.sub(role, _tables(text)))


def _anchors(page: str) -> dict[str, str]:
    """``{"§8": "8-test-games-with-known-answers", "T1": "t1-bilinear", …}`` of a page."""
    text = (_DOCS / page).read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,4} ((§\d+(?:\.\d+)?|T\d+) .*)$", text, re.MULTILINE)
    return {label: slugify(title, "-") for title, label in headings}


def _cite(match: re.Match[str]) -> str:
    page = match.group(1).lower() + ".md"
    label = match.group(3) or match.group(2)
    if label is None:
        return match.group(0)
    anchor = _anchors(page).get(label)
    if anchor is None:
        _logger.warning(f"docs/{page} has no section {label} ({match.group(0)!r})")
        return match.group(0)
    return f"[{match.group(0)}][{anchor}]"


def _tables(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        rule = _RULE.match(lines[i])
        end = _table_end(lines, i) if rule else None
        if rule is None or end is None:
            out.append(lines[i])
            i += 1
            continue
        out.extend(_markdown_table(lines[i : end + 1], rule))
        i = end + 1
    return "\n".join(out)


def _table_end(lines: list[str], start: int) -> int | None:
    """Index of the closing rule of a simple table opened at ``start`` (three rules)."""
    rules = [
        j for j in range(start, len(lines)) if lines[j].strip() == lines[start].strip()
    ]
    if len(rules) < 3:
        return None
    body = range(rules[0] + 1, rules[2])
    return rules[2] if all(lines[j].strip() for j in body) else None


def _markdown_table(block: list[str], rule: re.Match[str]) -> list[str]:
    indent = rule.group(1)
    spans = [m.span() for m in re.finditer(r"=+", block[0])]
    rows: list[list[str]] = []
    for line in block[1:-1]:
        if _RULE.match(line):
            rows.append([])  # the header rule
            continue
        cells = [
            line[a : (spans[k + 1][0] if k + 1 < len(spans) else len(line))].strip()
            for k, (a, _) in enumerate(spans)
        ]
        if rows and rows[-1] and not cells[0]:  # a continuation line
            rows[-1] = [
                f"{p} {c}".strip() for p, c in zip(rows[-1], cells, strict=True)
            ]
        else:
            rows.append(cells)
    header, body = rows[0], [r for r in rows[2:] if r]
    table = [header, ["---"] * len(spans), *body]
    return [indent + "| " + " | ".join(r) + " |" for r in table]


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)  # type: ignore[arg-type]


def _private(path: str) -> bool:
    return any(part.startswith("_") for part in path.split("."))


class SphinxRoles(griffe.Extension):
    """Convert every docstring of a loaded package (see the module docstring)."""

    def on_package(
        self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: object
    ) -> None:
        collection = loader.modules_collection
        for obj in _objects(pkg):
            if obj.docstring is None:
                continue

            def resolve(target: str, obj: griffe.Object = obj) -> str | None:
                path = _find(collection, obj, target)
                if path is None:
                    if target.startswith(".") or target.split(".")[0] in _OWN:
                        _logger.warning(f"{obj.path}: unresolved reference {target!r}")
                    return None
                return None if _private(path) else path

            obj.docstring.value = convert(obj.docstring.value, resolve)


def _lookup(collection: griffe.ModulesCollection, path: str) -> str | None:
    try:
        found = collection[path]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None
    try:
        return found.final_target.path if found.is_alias else found.path
    except (griffe.AliasResolutionError, griffe.CyclicAliasError):
        return None


def _find(
    collection: griffe.ModulesCollection, obj: griffe.Object, target: str
) -> str | None:
    module = obj.module
    if target.startswith("."):
        package = (
            module.path if module.is_init_module else module.path.rsplit(".", 1)[0]
        )
        return _lookup(collection, package + target)
    scopes: list[griffe.Object] = []
    scope: griffe.Object | None = obj
    while scope is not None:
        scopes.append(scope)
        scope = scope.parent
    root = target.split(".")[0]
    if root in _OWN and root not in collection.members:
        return target  # the other package is not loaded yet: autorefs checks the link
    candidates = [f"{s.path}.{target}" for s in scopes] + [target]
    for candidate in candidates:
        if candidate.split(".")[0] not in _OWN:
            continue
        found = _lookup(collection, candidate)
        if found is not None:
            return found
    return None
