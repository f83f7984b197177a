"""Folders written aside and swapped in whole: a reader sees the old one or the new one.

:func:`stage` makes a fresh hidden sibling of the target (``.report.new-<random suffix>``) to write
into; :func:`commit` puts it in the target's place. On Linux the swap is one
``renameat2(RENAME_EXCHANGE)`` system call, atomic: at every instant the target is the
complete old folder or the complete new one. Elsewhere (or on a file system without
the exchange) it is two renames — the old folder to ``.report.old-<random suffix>``, the new one to
the target — and a process killed between them leaves the old folder intact under
that name, which the next :func:`stage` puts back. :func:`stage` also deletes the
leftovers of writers killed before their commit.

Example:
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> folder = stage(root / "report")
    >>> _ = (folder / "a.txt").write_text("new")
    >>> commit(folder, root / "report")
    >>> sorted(p.name for p in root.iterdir()), (root / "report" / "a.txt").read_text()
    (['report'], 'new')
"""

from __future__ import annotations

import ctypes
import os
import secrets
import shutil
from pathlib import Path

__all__ = ["commit", "stage"]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def stage(target: Path) -> Path:
    """A new empty folder beside ``target`` to write its next version into.

    First puts back an old version a killed :func:`commit` left aside (if ``target`` is
    missing) and deletes unfinished stages.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for old in sorted(target.parent.glob(f".{target.name}.old-*")):
        if not target.exists():
            os.rename(old, target)
        else:
            _remove(old)
    for unfinished in target.parent.glob(f".{target.name}.new-*"):
        _remove(unfinished)
    return _fresh(target, "new")


def commit(staged: Path, target: Path) -> None:
    """Put the folder ``staged`` in the place of ``target`` (see the module docstring)."""
    staged, target = Path(staged), Path(target)
    if not target.exists():
        os.rename(staged, target)
    elif _exchange(staged, target):
        _remove(staged)  # now the old version
    else:
        old = _fresh(target, "old")
        os.replace(target, old)  # onto the empty folder _fresh reserved for it
        os.rename(staged, target)
        _remove(old)


def _fresh(target: Path, kind: str) -> Path:
    """A new empty hidden sibling of ``target`` (``os.mkdir``: the umask's mode)."""
    while True:
        path = target.with_name(f".{target.name}.{kind}-{secrets.token_hex(4)}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def _exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` in one system call; False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    rc = renameat2(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
    )
    return rc == 0


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
