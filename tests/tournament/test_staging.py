"""Folders swapped in whole: a killed writer leaves the old folder or the new one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gangames.tournament import staging

ROOT = Path(__file__).resolve().parents[2]

_WRITER = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from gangames.tournament import staging
target = Path({target!r})
for generation in range(10**6):
    folder = staging.stage(target)
    for k in range(20):
        (folder / f"f{{k}}.txt").write_text(str(generation))
    staging.commit(folder, target)
"""


def generations(target: Path) -> set[str]:
    return {p.read_text() for p in target.iterdir()}


def test_sigkilled_writer_leaves_one_whole_version(tmp_path):
    target = tmp_path / "report"
    script = _WRITER.format(root=str(ROOT), target=str(target))
    rng = random.Random(7)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", script])
        deadline = time.monotonic() + 60  # past the imports: it is writing
        while not target.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        staging.stage(target).rmdir()  # what the next writer does first
        if target.exists():
            assert len(list(target.iterdir())) == 20
            assert len(generations(target)) == 1  # never a mix
    assert target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # nothing left over


def test_a_failing_writer_keeps_the_old_folder(tmp_path):
    target = tmp_path / "report"
    first = staging.stage(target)
    (first / "a.txt").write_text("old")
    staging.commit(first, target)
    second = staging.stage(target)
    (second / "b.txt").write_text("new, unfinished")
    # the writer dies here, before commit
    assert [p.name for p in target.iterdir()] == ["a.txt"]
    third = staging.stage(target)  # the next writer clears the unfinished stage
    assert not second.exists() and third.exists()


def test_killed_between_the_two_renames_restores_the_old_folder(tmp_path, monkeypatch):
    target = tmp_path / "report"
    first = staging.stage(target)
    (first / "a.txt").write_text("old")
    staging.commit(first, target)
    monkeypatch.setattr(staging, "_exchange", lambda a, b: False)  # no renameat2
    second = staging.stage(target)
    real_rename = os.rename

    def die(src, dst):
        if Path(src) == second:
            raise KeyboardInterrupt("killed between the renames")
        real_rename(src, dst)

    monkeypatch.setattr(staging.os, "rename", die)
    with pytest.raises(KeyboardInterrupt):
        staging.commit(second, target)
    monkeypatch.setattr(staging.os, "rename", real_rename)
    assert not target.exists()  # the old version sits aside, whole
    staging.stage(target)
    assert (target / "a.txt").read_text() == "old"


def test_the_fallback_swap_replaces_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(staging, "_exchange", lambda a, b: False)
    target = tmp_path / "report"
    for text in ("old", "new"):
        folder = staging.stage(target)
        (folder / "a.txt").write_text(text)
        staging.commit(folder, target)
    assert (target / "a.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_the_folder_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    target = tmp_path / "report"
    staging.commit(staging.stage(target), target)
    assert target.stat().st_mode & 0o777 == 0o777 & ~umask
