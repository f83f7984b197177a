"""One writer per store: a second coordinator is refused, naming the first one's pid."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gangames.errors import InvalidConfigError
from gangames.tournament import Store, StoreLockedError, TournamentConfig, run
from tests.tournament.conftest import tiny

ROOT = Path(__file__).resolve().parents[2]

_HOLDER = """
import sys, time
sys.path.insert(0, {root!r})
from gangames.tournament import Store
store = Store({path!r}, writer=True)
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def held(tmp_path):
    """A live process holding the writer lock of ``tmp_path/results.sqlite``."""
    path = tmp_path / "results.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER.format(root=str(ROOT), path=str(path))],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "locked"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_writer_is_refused_naming_the_pid(tmp_path, held):
    with pytest.raises(
        StoreLockedError, match=rf"another gangames process \(pid {held.pid}\)"
    ):
        Store(tmp_path / "results.sqlite", writer=True)
    with Store(tmp_path / "results.sqlite") as reader:  # readers take no lock
        assert reader.done() == set()


def test_a_second_resume_on_a_live_folder_is_refused_cleanly(tmp_path, held):
    cfg = TournamentConfig.from_dict(tiny(seeds=1))
    with pytest.raises(StoreLockedError, match=str(held.pid)):
        run(cfg, tmp_path, resume=True, backend="sequential", progress=False)


def test_the_lock_dies_with_its_holder(tmp_path, held):
    held.send_signal(signal.SIGKILL)
    held.wait()
    with Store(tmp_path / "results.sqlite", writer=True) as store:
        assert store.done() == set()


def test_a_file_that_is_not_a_store_is_named(tmp_path):
    path = tmp_path / "results.sqlite"
    path.write_bytes(b"this is not an SQLite database" * 10)
    with pytest.raises(InvalidConfigError, match=r"not a gangames results store"):
        Store(path, writer=True)
    path.unlink()
    with Store(path, writer=True):  # the lock was released with the failure
        pass
