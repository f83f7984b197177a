"""The results store: one SQLite file in the output folder, a row per match.

Schema (``matches``): the match's identity (id, mode, game, generator, discriminator,
seed index, seed, ruleset, hyperparameters as JSON), the config hash, status, attempts, a short traceback, the scores
(JSON), the trajectory (gap against oracle calls, zlib-compressed float32 — see
:func:`~gangames.tournament.match.encode_trajectory`), the package versions, the device
and the wall time. ``meta`` holds the config (canonical JSON) and its hash.

Every write is one SQLite transaction, and only the coordinating process writes, so a
SIGKILL at any moment leaves each match either fully recorded or absent: resuming
plays exactly the absent ones (0 lost, 0 duplicated — the match id is the primary
key). A store made by another config refuses to be resumed and says which fields
changed.

One writer at a time: a store opened with ``writer=True`` (what a tournament run does)
holds an exclusive ``flock`` on ``<store>.lock``, which holds the writer's pid. A second
writer is refused at once with :class:`StoreLockedError` naming that pid; the operating
system drops the lock when its holder exits, even by SIGKILL, so a crashed run never
leaves a stale lock behind. Readers (reports) take no lock. (Without ``fcntl``, on
Windows, there is no lock.) A file that is not an SQLite database is refused with
:class:`~gangames.errors.InvalidConfigError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gangames.errors import InvalidConfigError
from gangames.tournament.config import TournamentConfig, config_diff

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no writer lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["SCHEMA_VERSION", "ResumeError", "Store", "StoreLockedError"]

SCHEMA_VERSION = 2

_COLUMNS = (
    "match_id",
    "config_hash",
    "mode",
    "game",
    "generator",
    "discriminator",
    "seed_index",
    "seed",
    "ruleset",
    "hyperparameters",
    "status",
    "attempts",
    "error",
    "metrics",
    "trajectory",
    "versions",
    "device",
    "wall_s",
)


class ResumeError(InvalidConfigError):
    """The output folder holds results of another config, or resuming was not asked."""


class StoreLockedError(InvalidConfigError):
    """Another process is writing the store."""


class Store:
    """The SQLite results file of one tournament.

    Args:
        path: the ``.sqlite`` file (created with its folder if missing).
        writer: take the store's writer lock (refused while another process holds it).

    Raises:
        StoreLockedError: ``writer`` and another process is writing the store.
        InvalidConfigError: ``path`` is not an SQLite database.
    """

    def __init__(self, path: str | Path, *, writer: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _writer_lock(self.path) if writer else None
        # isolation_level=None: we open transactions explicitly (BEGIN IMMEDIATE)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=60)
        try:
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.execute("PRAGMA synchronous=FULL")
            self._create()
        except sqlite3.DatabaseError as err:
            self.close()
            raise InvalidConfigError(
                f"{self.path} is not a gangames results store ({err}); move it away "
                "or use another output folder"
            ) from None

    def _create(self) -> None:
        with self.transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            self._db.execute(
                """CREATE TABLE IF NOT EXISTS matches (
                    match_id TEXT PRIMARY KEY, config_hash TEXT NOT NULL,
                    mode TEXT NOT NULL, game TEXT NOT NULL, generator TEXT NOT NULL,
                    discriminator TEXT NOT NULL, seed_index INTEGER NOT NULL,
                    seed INTEGER NOT NULL, ruleset TEXT NOT NULL,
                    hyperparameters TEXT NOT NULL, status TEXT NOT NULL,
                    attempts INTEGER NOT NULL, error TEXT NOT NULL,
                    metrics TEXT NOT NULL, trajectory BLOB, versions TEXT NOT NULL,
                    device TEXT NOT NULL, wall_s REAL NOT NULL)"""
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE … COMMIT`` transaction (rolled back on an error)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ---- config ------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """The ``meta`` table as a dict (refused if another schema version wrote it)."""
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        version = meta.get("schema_version", str(SCHEMA_VERSION))
        if version != str(SCHEMA_VERSION):
            raise InvalidConfigError(
                f"{self.path} was written with store schema {version} (this gangames "
                f"writes schema {SCHEMA_VERSION}); use a new output folder"
            )
        return meta

    def attach(self, config: TournamentConfig, *, resume: bool) -> None:
        """Bind the store to ``config``: a new store records it; an old one must match.

        Raises:
            ResumeError: the store has results and ``resume`` is false, or they come
                from another config (the message names the changed fields).
        """
        meta = self.meta()
        if "config_hash" not in meta:
            with self.transaction() as db:
                db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("config_hash", config.hash()),
                        ("config", config.canonical_json()),
                    ],
                )
            return
        if meta["config_hash"] != config.hash():
            changed = config_diff(json.loads(meta["config"]), config.to_dict())
            raise ResumeError(
                f"{self.path} holds results of another config (changed: "
                f"{', '.join(changed) or 'hash only'}); refusing to mix them — use a "
                "new output folder, or restore the old config to resume"
            )
        if not resume:
            raise ResumeError(
                f"{self.path} already holds results of this config; pass --resume "
                "(resume=True) to complete it, or use a new output folder"
            )

    def config(self) -> TournamentConfig:
        """The config the store was made with."""
        meta = self.meta()
        if "config" not in meta:
            raise InvalidConfigError(f"{self.path} holds no tournament")
        return TournamentConfig.from_dict(json.loads(meta["config"]), check_names=False)

    # ---- matches -----------------------------------------------------------------
    def done(self) -> set[str]:
        """Ids of the recorded matches."""
        return {r[0] for r in self._db.execute("SELECT match_id FROM matches")}

    def write(self, record: dict[str, Any], config_hash: str) -> None:
        """Record one match in one transaction (an id already present is an error)."""
        row = (
            record["id"],
            config_hash,
            record["mode"],
            record["game"],
            record["generator"],
            record["discriminator"],
            int(record["seed_index"]),
            int(record["seed"]),
            record.get("ruleset", "defaults"),
            record.get("hyperparameters", "{}"),
            record["status"],
            int(record.get("attempts", 1)),
            record.get("error", ""),
            json.dumps(record.get("metrics", {}), sort_keys=True),
            record.get("trajectory"),
            json.dumps(record.get("versions", {}), sort_keys=True),
            record.get("device", ""),
            float(record.get("wall_s", 0.0)),
        )
        with self.transaction() as db:
            db.execute(
                f"INSERT INTO matches ({', '.join(_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(_COLUMNS))})",
                row,
            )

    def records(self) -> Iterator[dict[str, Any]]:
        """Every recorded match, ordered by id, with JSON fields decoded."""
        cur = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM matches ORDER BY match_id"
        )
        for row in cur:
            rec = dict(zip(_COLUMNS, row, strict=True))
            rec["metrics"] = json.loads(rec["metrics"])
            rec["versions"] = json.loads(rec["versions"])
            yield rec

    def counts(self) -> dict[str, int]:
        """Matches per status."""
        return dict(
            self._db.execute(
                "SELECT status, COUNT(*) FROM matches GROUP BY status"
            ).fetchall()
        )

    def close(self) -> None:
        """Close the connection and release the writer lock."""
        self._db.close()
        if self._lock is not None:
            self._lock.close()  # closing the descriptor drops the flock
            self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _writer_lock(path: Path) -> Any:
    """The open ``<path>.lock`` file, exclusively locked and holding this pid."""
    if fcntl is None:  # pragma: no cover
        return None
    lock = open(path.with_name(path.name + ".lock"), "a+", encoding="utf-8")  # noqa: SIM115
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        lock.close()
        raise StoreLockedError(
            f"{path} is being written by another gangames process (pid {holder}); "
            "wait for it to finish or stop it, then resume"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock
