"""Tournaments: solver comparisons at equal oracle budgets, from one command.

``run(config, out_dir)`` schedules every match of a config (self-play and cross-play),
plays them on a backend (sequential, local processes, Ray), records each in a SQLite
store (resumable after a crash), and :func:`write_report` turns the store into a
Markdown leaderboard, CSV tables and PNG plots with interquartile means, stratified
bootstrap confidence intervals and ratings (Elo, Nash averaging, α-Rank).

Example:
    >>> from gangames.tournament import load_config, run, write_report
    >>> summary = run(load_config("configs/main.toml"), "runs/main", workers=2)  # doctest: +SKIP
    >>> print(write_report("runs/main").leaderboard)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from gangames.tournament.config import (
    MODES,
    Entrant,
    GameEntry,
    TournamentConfig,
    load_config,
)
from gangames.tournament.match import STATUSES, decode_trajectory
from gangames.tournament.runner import RunSummary, run
from gangames.tournament.schedule import Match, match_seed, schedule
from gangames.tournament.store import ResumeError, Store

__all__ = [
    "MODES",
    "STATUSES",
    "Entrant",
    "GameEntry",
    "Match",
    "ResumeError",
    "RunSummary",
    "Store",
    "TournamentConfig",
    "decode_trajectory",
    "load_config",
    "match_seed",
    "run",
    "schedule",
    "write_report",
]


def write_report(out_dir: Any, **kwargs: Any) -> Any:
    """Write the report of the tournament in ``out_dir`` (see :mod:`.report`)."""
    from gangames.tournament.report import write_report as _write

    return _write(out_dir, **kwargs)
