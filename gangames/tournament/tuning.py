"""The ``"tuned"`` ruleset's choice: each entrant's best trial on each game.

Every entrant gets the same number of quasi-random trials from its own declared search
space (:func:`agents.search_space`) on every game, played on tuning seeds that the
evaluation never uses (AlgoPerf's external-tuning ruleset; Lucic et al. 2018 showed
that equal search budgets change GAN rankings). A trial's runs are its instances on
every tuning seed; it is summarised by

* ``fraction_reached`` — the fraction of its runs that reached the game's target;
* ``median_cost`` — the median oracle cost to the target over its runs (``inf`` when
  fewer than half reached it);
* ``median_final`` — the median final headline metric (diverged runs count as the
  worst value).

The best trial has the lowest median cost, then the best median final metric, then
the lowest index (deterministic). Its hyperparameters are what the entrant plays with
on the evaluation seeds; the fraction of the entrant's trials that reached the target
at all is its *sensitivity* to tuning (1: any setting works; small: a needle).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np

from gangames.tournament.config import TournamentConfig

__all__ = ["TrialSummary", "choices", "trial_summaries"]


class TrialSummary(NamedTuple):
    """One trial of one entrant on one game, over its tuning runs."""

    game: str
    entrant: str
    trial: int
    hyperparameters: dict[str, Any]
    runs: int
    fraction_reached: float
    median_cost: float
    median_final: float
    failed: bool  # no run produced scores (agent error, timeout, crash)


def trial_summaries(
    config: TournamentConfig, records: Iterable[Mapping[str, Any]]
) -> list[TrialSummary]:
    """Summaries of every recorded trial, ordered by game, entrant and trial."""
    costs: dict[tuple[str, str, int], list[np.ndarray]] = defaultdict(list)
    finals: dict[tuple[str, str, int], list[np.ndarray]] = defaultdict(list)
    values: dict[tuple[str, str, int], dict[str, Any]] = {}
    failed: set[tuple[str, str, int]] = set()
    for r in records:
        if r["mode"] != "tuning":
            continue
        setting = _setting(r)
        lower = config.preset(r["game"]).target.lower_is_better
        worst = math.inf if lower else -math.inf
        m = r["metrics"]
        for k, (trial, hp) in enumerate(
            zip(setting["trials"], setting["values"], strict=True)
        ):
            key = (r["game"], r["generator"], int(trial))
            values[key] = hp
            if not m:
                failed.add(key)
                continue
            rows = slice(k * config.batch, (k + 1) * config.batch)
            cost = np.asarray(m["cost_to_target"], dtype=np.float64)[rows]
            final = np.asarray(m["final_metric"], dtype=np.float64)[rows]
            bad = np.asarray(m["diverged"], dtype=bool)[rows] | ~np.isfinite(final)
            costs[key].append(cost)
            finals[key].append(np.where(bad, worst, final))
    out = []
    for key in sorted(values):
        game, entrant, trial = key
        c = np.concatenate(costs[key]) if costs[key] else np.zeros(0)
        f = np.concatenate(finals[key]) if finals[key] else np.zeros(0)
        lower = config.preset(game).target.lower_is_better
        out.append(
            TrialSummary(
                game,
                entrant,
                trial,
                values[key],
                int(c.size),
                float(np.isfinite(c).mean()) if c.size else 0.0,
                float(np.median(c)) if c.size else math.inf,
                float(np.median(f)) if f.size else (math.inf if lower else -math.inf),
                key in failed and not c.size,
            )
        )
    return out


def _setting(record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(record["hyperparameters"])
    return out


def choices(
    config: TournamentConfig, summaries: Iterable[TrialSummary]
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The ``"tuned"`` hyperparameters of every ``(game, entrant)`` with trials.

    Keyed ``("tuned", game, entrant)``; call it once every tuning match is recorded.
    """
    by: dict[tuple[str, str], list[TrialSummary]] = defaultdict(list)
    for s in summaries:
        by[(s.game, s.entrant)].append(s)
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (game, entrant), trials in by.items():
        lower = config.preset(game).target.lower_is_better
        best = min(
            trials,
            key=lambda t: (
                t.failed,
                t.median_cost,
                t.median_final if lower else -t.median_final,
                t.trial,
            ),
        )
        out[("tuned", game, entrant)] = dict(best.hyperparameters)
    return out
