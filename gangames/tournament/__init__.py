"""Tournaments: a benchmark of min-max solvers under equal oracle budgets.

``run(config, out_dir)`` schedules every match of a config — the ``"tuned"`` ruleset's
trials (each entrant's quasi-random search-space trials, batched), then self-play and
cross-play between registered solvers on registered games, each game under its
benchmark preset (solution concept, budget, target) — plays them on a backend
(processes, sequential, Ray), and records each in a SQLite store that resumes after a
crash; :func:`write_report` turns the store into a Markdown report (per game: who
reaches the target, at what cost, with which hyperparameters; the aggregate
Dolan–Moré cost profiles), CSV tables and PNG plots. Its statistics (:mod:`gangames.tournament.stats`: interquartile mean,
stratified bootstrap confidence intervals, probability of improvement, performance
profiles) and ratings (:mod:`gangames.tournament.rating`: Elo / Bradley–Terry, Nash
averaging, two-population α-Rank) are plain numpy/scipy functions of score arrays.

Modules: :mod:`.config` (TOML / dict → validated config), :mod:`.schedule` (matches
and their seeds), :mod:`.match` (play and score one match), :mod:`.backends`,
:mod:`.store`, :mod:`.tuning` (the tuned ruleset's choice), :mod:`.runner`,
:mod:`.analysis` (every statistic), :mod:`.report` (writing) and :mod:`.plots`
(drawing); imports run config → schedule → match → tuning → analysis → plots →
report.

Example (skipped in the doctests: the main config plays for minutes):
    >>> from gangames.tournament import load_config, run, write_report
    >>> summary = run(load_config("configs/main.toml"), "runs/main", workers=2)  # doctest: +SKIP
    >>> print(write_report("runs/main").leaderboard)  # doctest: +SKIP
"""

from __future__ import annotations

from gangames.tournament.config import (
    MODES,
    RULESETS,
    Entrant,
    GameEntry,
    TournamentConfig,
    load_config,
)
from gangames.tournament.match import STATUSES, decode_trajectory
from gangames.tournament.report import write_report
from gangames.tournament.runner import RunSummary, run
from gangames.tournament.schedule import Match, match_seed, schedule
from gangames.tournament.store import ResumeError, Store, StoreLockedError

__all__ = [
    "MODES",
    "RULESETS",
    "STATUSES",
    "Entrant",
    "GameEntry",
    "Match",
    "ResumeError",
    "RunSummary",
    "Store",
    "StoreLockedError",
    "TournamentConfig",
    "decode_trajectory",
    "load_config",
    "match_seed",
    "run",
    "schedule",
    "write_report",
]
