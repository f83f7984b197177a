"""Tournaments: solver comparisons under equal oracle budgets, statistics, ratings.

The package runs matches (self-play and cross-play) between registered solvers on
registered games, stores every match in a resumable store, and reports leaderboards.
Its statistics (:mod:`gangames.tournament.stats`: interquartile mean, stratified
bootstrap confidence intervals, probability of improvement, performance profiles) and
ratings (:mod:`gangames.tournament.rating`: Elo / Bradley–Terry, Nash averaging,
two-population α-Rank) are plain numpy/scipy functions of score arrays.
"""

from __future__ import annotations

__all__: list[str] = []
