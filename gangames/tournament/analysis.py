"""Analysis of a results store: targets, cost profiles, rankings and cross-play.

Pure functions of the store (and fixed bootstrap seeds): the report
(:mod:`~gangames.tournament.report`) writes what they return and the plots
(:mod:`~gangames.tournament.plots`) draw it; neither computes statistics itself. This
module is the only one that calls :mod:`~gangames.tournament.stats` and
:mod:`~gangames.tournament.rating`.

**Runs and problems.** Each instance of each evaluation match is a run (``batch``
instances × ``seeds`` per game); every entrant meets the same instances (common random
numbers), so runs pair up across entrants as *problems* ``(game, seed, instance)``.

**Primary score: oracle cost to the target.** A run's cost is the oracle budget per
seat (gradient-equivalents of the base game) spent when the game's target first held
(``inf`` if never; :mod:`~gangames.tournament.match`). Aggregated over problems by
Dolan–Moré performance profiles: ``ρ_s(τ)`` is the fraction of problems entrant ``s``
solves within ``τ`` times the cost of the best entrant on that problem; ``ρ_s(1)`` is
how often it is (jointly) fastest, ``ρ_s(∞)`` how often it solves at all. The
**profile area** is the mean of ``ρ_s`` over ``log2 τ ∈ [0, log2 τ_max]``
(``τ_max = 2^10``): 1 for an entrant fastest on every problem, 0 for one that never
reaches a target. Entrants rank by profile area (ties: fraction reached, then name).

**Second view: progress toward the target** (``[0, 1]``, 1 = reached; for gaps, the
orders of magnitude gained relative to those needed), summarised by its interquartile
mean (IQM) with a 95 % stratified bootstrap interval over runs (tasks = games; Agarwal
et al., NeurIPS 2021), the probability of improvement ``P(>next)`` of each entrant over
the next, and Elo / Nash-average ratings from head-to-head wins (a win: lower cost on
the same problem, ties broken by higher progress).

**Cross-play** (per game and ruleset): the matrix of median final headline metric and
of the median payoff relative to the game value, ``V − V̂*``, bracketed by the runs
themselves (``Ψ(φ) = V − e_G ≤ V* ≤ Φ(θ) = V + e_D``; ``V̂*`` the middle of the
tightest bracket on the instance; games without closed-form best responses use
``V̂* = 0``), and two-population α-Rank (Omidshafiei et al., Sci. Rep. 2019) on the
payoff scaled to ``[-1, 1]``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gangames.errors import InvalidConfigError
from gangames.tournament import rating, stats
from gangames.tournament.config import TournamentConfig, resolve_output
from gangames.tournament.match import decode_trajectory
from gangames.tournament.store import Store
from gangames.tournament.tuning import TrialSummary, trial_summaries

__all__ = [
    "LOG2_TAU_MAX",
    "CrossPlay",
    "Results",
    "SelfPlay",
    "cost_profile",
    "cross_play",
    "improvement_table",
    "leaderboard_table",
    "load_results",
    "per_game_table",
    "ratings_table",
    "self_play",
    "targets_table",
    "win_matrix",
]

REPS = 2000  # bootstrap replicates
SEED = 0  # bootstrap seed: fixed so that reports are reproducible
LOG2_TAU_MAX = 10.0  # profiles run over τ ∈ [1, 2^10]
GRID = 101  # points of the profile's τ grid


class Results(NamedTuple):
    """A store's records, arranged for statistics."""

    config: TournamentConfig
    records: list[dict[str, Any]]  # ordered by match id

    def select(self, mode: str, ruleset: str | None = None) -> list[dict[str, Any]]:
        """Records of one mode (and ruleset)."""
        return [
            r
            for r in self.records
            if r["mode"] == mode and (ruleset is None or r["ruleset"] == ruleset)
        ]


def load_results(out_dir: str | Path) -> Results:
    """Read the store of the tournament in ``out_dir``."""
    out = Path(out_dir)
    candidates = sorted(out.glob("*.sqlite")) + sorted(out.glob("*/**/*.sqlite"))
    if not candidates:
        raise InvalidConfigError(f"{out}: no results store (*.sqlite) in this folder")
    with Store(candidates[0]) as store:
        config = store.config()
        path = resolve_output(out, config.store, "store")
        if path != candidates[0].resolve():
            store.close()
            with Store(path) as other:
                return Results(config, list(other.records()))
        return Results(config, list(store.records()))


# ---- self-play runs --------------------------------------------------------------
class SelfPlay(NamedTuple):
    """Self-play runs of one ruleset: ``field[entrant][game]`` arrays over runs."""

    ruleset: str
    entrants: list[str]
    games: list[str]
    cost: dict[str, dict[str, np.ndarray]]  # cost to target (inf: never)
    progress: dict[str, dict[str, np.ndarray]]  # in [0, 1]
    final: dict[str, dict[str, np.ndarray]]  # final headline metric (nan: failed)
    estimated_gap: dict[str, dict[str, np.ndarray]]  # lower bound (nan: none)
    diverged: dict[str, dict[str, np.ndarray]]
    failed: dict[str, int]  # matches without scores, per entrant
    hyperparameters: dict[str, dict[str, dict[str, Any]]]  # [entrant][game]


def self_play(results: Results, ruleset: str) -> SelfPlay:
    """Arrange the self-play records of ``ruleset`` (runs ordered by seed, instance)."""
    cfg = results.config
    entrants = [e.label for e in cfg.entrants]
    games = [g.label for g in cfg.games]
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in results.select("self_play", ruleset):
        by[(r["generator"], r["game"])].append(r)
    fields: dict[str, dict[str, dict[str, np.ndarray]]] = {
        k: {e: {} for e in entrants}
        for k in ("cost", "progress", "final", "estimated_gap", "diverged")
    }
    failed = dict.fromkeys(entrants, 0)
    hps: dict[str, dict[str, dict[str, Any]]] = {e: {} for e in entrants}
    for e in entrants:
        for g in games:
            rows = sorted(by.get((e, g), []), key=lambda r: r["seed_index"])
            parts = [_runs(r, cfg.batch) for r in rows]
            failed[e] += sum(1 for r in rows if not r["metrics"])
            if rows:
                hps[e][g] = json.loads(rows[0]["hyperparameters"]).get("generator", {})
            for k in fields:
                fields[k][e][g] = (
                    np.concatenate([p[k] for p in parts]) if parts else np.zeros(0)
                )
    return SelfPlay(
        ruleset,
        entrants,
        games,
        fields["cost"],
        fields["progress"],
        fields["final"],
        fields["estimated_gap"],
        fields["diverged"],
        failed,
        hps,
    )


def _runs(rec: dict[str, Any], batch: int) -> dict[str, np.ndarray]:
    """Per-instance arrays of one match; a failed match gives the worst values."""
    m = rec["metrics"]
    if not m:
        return {
            "cost": np.full(batch, np.inf),
            "progress": np.zeros(batch),
            "final": np.full(batch, np.nan),
            "estimated_gap": np.full(batch, np.nan),
            "diverged": np.zeros(batch, dtype=bool),
        }
    final = np.asarray(m["final_metric"], dtype=np.float64)
    diverged = np.asarray(m["diverged"], dtype=bool)
    est = m.get("final_estimated_gap")
    return {
        "cost": np.asarray(m["cost_to_target"], dtype=np.float64),
        "progress": np.asarray(m["progress"], dtype=np.float64),
        "final": np.where(diverged, np.nan, final),
        "estimated_gap": np.asarray(est, dtype=np.float64)
        if est is not None
        else np.full(final.shape, np.nan),
        "diverged": diverged,
    }


def _complete(sp: SelfPlay, entrants: Iterable[str]) -> list[str]:
    """Games every one of ``entrants`` has runs on."""
    return [g for g in sp.games if all(sp.cost[e][g].size for e in entrants)]


def _present(sp: SelfPlay) -> list[str]:
    return [e for e in sp.entrants if any(sp.cost[e][g].size for g in sp.games)]


# ---- the primary score: cost to target ---------------------------------------------
class Profile(NamedTuple):
    """Dolan–Moré performance profiles over the problems of one ruleset."""

    taus: np.ndarray  # (GRID,) τ from 1 to 2^LOG2_TAU_MAX, log-spaced
    rho: dict[str, np.ndarray]  # entrant → ρ(τ)
    area: dict[str, float]  # entrant → mean of ρ over log2 τ
    problems: int


def cost_profile(sp: SelfPlay) -> Profile | None:
    """The cost-to-target profiles of the self-play entrants (``None``: no runs)."""
    entrants = _present(sp)
    games = _complete(sp, entrants)
    if not entrants or not games:
        return None
    costs = {
        e: np.maximum(np.concatenate([sp.cost[e][g] for g in games]), 1e-12)
        for e in entrants
    }
    taus = np.logspace(0.0, LOG2_TAU_MAX, GRID, base=2.0)
    rho = stats.ratio_profile(costs, taus)
    # trapezoid mean over the log2 τ grid (evenly spaced)
    area = {e: float(((r[1:] + r[:-1]) / 2).mean()) for e, r in rho.items()}
    return Profile(taus, rho, area, int(next(iter(costs.values())).size))


def leaderboard_table(sp: SelfPlay, profile: Profile | None) -> list[dict[str, Any]]:
    """One row per entrant, ranked by profile area (see the module docstring)."""
    entrants = _present(sp)
    games = _complete(sp, entrants)
    if not games or profile is None:
        return []
    rows: list[dict[str, Any]] = []
    for e in entrants:
        cost = np.concatenate([sp.cost[e][g] for g in games])
        reached = np.isfinite(cost)
        ci = stats.bootstrap_ci(
            {g: sp.progress[e][g] for g in games},
            stats.interquartile_mean,
            reps=REPS,
            seed=SEED,
        )
        div = np.concatenate([sp.diverged[e][g] for g in games])
        rows.append(
            {
                "ruleset": sp.ruleset,
                "entrant": e,
                "profile_area": profile.area[e],
                "fastest": float(profile.rho[e][0]),
                "fraction_reached": float(reached.mean()),
                "median_cost_to_target": float(np.median(cost[reached]))
                if reached.any()
                else math.inf,
                "iqm_progress": float(ci.point),
                "ci_low": float(ci.low),
                "ci_high": float(ci.high),
                "diverged": float(div.mean()) if div.size else 0.0,
                "failed_matches": sp.failed[e],
                "runs": int(cost.size),
            }
        )
    rows.sort(key=lambda r: (-r["profile_area"], -r["fraction_reached"], r["entrant"]))
    for i, r in enumerate(rows):
        r["rank"] = i + 1
        nxt = rows[i + 1]["entrant"] if i + 1 < len(rows) else None
        if nxt is None:
            r["p_better_next"] = math.nan
            continue
        p = stats.probability_of_improvement(
            {g: sp.progress[r["entrant"]][g] for g in games},
            {g: sp.progress[nxt][g] for g in games},
            reps=REPS,
            seed=SEED,
        )
        r["p_better_next"] = float(p.point)
    return rows


# ---- per game: who reaches the target, at what cost, with what --------------------
def targets_table(
    results: Results, summaries: list[TrialSummary] | None = None
) -> list[dict[str, Any]]:
    """One row per ``(ruleset, game, entrant)`` (``targets.csv``).

    Columns: the game's concept, target and budget; the fraction of evaluation runs
    that reached the target and their median cost; the hyperparameters played (JSON);
    the median final headline metric; the median budgeted gap estimate where the
    game has no closed form (a lower bound); under ``"tuned"``, the trials and the
    fraction of them whose median run reached the target (sensitivity).
    """
    cfg = results.config
    if summaries is None:
        summaries = trial_summaries(cfg, results.records)
    tried: dict[tuple[str, str], list[TrialSummary]] = defaultdict(list)
    for s in summaries:
        tried[(s.game, s.entrant)].append(s)
    rows = []
    for ruleset in cfg.rulesets:
        sp = self_play(results, ruleset)
        for g in sp.games:
            preset = cfg.preset(g)
            for e in sp.entrants:
                cost = sp.cost[e][g]
                if not cost.size:
                    continue
                reached = np.isfinite(cost)
                est = sp.estimated_gap[e][g]
                trials = tried.get((g, e), []) if ruleset == "tuned" else []
                rows.append(
                    {
                        "ruleset": ruleset,
                        "game": g,
                        "entrant": e,
                        "concept": preset.label,
                        "target": str(preset.target),
                        "budget": preset.budget,
                        "fraction_reached": float(reached.mean()),
                        "median_cost_to_target": float(np.median(cost[reached]))
                        if reached.any()
                        else math.inf,
                        "median_final": _nanmedian(sp.final[e][g]),
                        "median_estimated_gap": _nanmedian(est),
                        "trials": len(trials),
                        "trials_reached": float(
                            np.mean([np.isfinite(t.median_cost) for t in trials])
                        )
                        if trials
                        else math.nan,
                        "hyperparameters": sp.hyperparameters[e].get(g, {}),
                    }
                )
    return rows


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else math.nan


def trials_table(summaries: list[TrialSummary]) -> list[dict[str, Any]]:
    """Every tuning trial (``trials.csv``)."""
    return [s._asdict() for s in summaries]


# ---- second view: progress ---------------------------------------------------------
def per_game_table(sp: SelfPlay) -> list[dict[str, Any]]:
    """IQM of progress per game and entrant, with a bootstrap interval over runs."""
    rows = []
    for g in sp.games:
        for e in sp.entrants:
            x = sp.progress[e][g]
            if not x.size:
                continue
            ci = stats.bootstrap_ci(
                {g: x}, stats.interquartile_mean, reps=REPS, seed=SEED
            )
            rows.append(
                {
                    "ruleset": sp.ruleset,
                    "game": g,
                    "entrant": e,
                    "iqm_progress": float(ci.point),
                    "ci_low": float(ci.low),
                    "ci_high": float(ci.high),
                    "median_final": _nanmedian(sp.final[e][g]),
                    "runs": int(x.size),
                }
            )
    return rows


def improvement_table(sp: SelfPlay) -> list[dict[str, Any]]:
    """P(a run of X progresses further than a run of Y), every ordered pair."""
    present = _present(sp)
    games = _complete(sp, present)
    rows = []
    for x in present:
        for y in present:
            if x == y or not games:
                continue
            p = stats.probability_of_improvement(
                {g: sp.progress[x][g] for g in games},
                {g: sp.progress[y][g] for g in games},
                reps=REPS,
                seed=SEED,
            )
            rows.append(
                {
                    "ruleset": sp.ruleset,
                    "entrant": x,
                    "opponent": y,
                    "probability": float(p.point),
                    "ci_low": float(p.low),
                    "ci_high": float(p.high),
                }
            )
    return rows


def win_matrix(sp: SelfPlay) -> tuple[list[str], np.ndarray]:
    """Head-to-head wins on paired problems: lower cost, ties by higher progress."""
    entrants = _present(sp)
    games = _complete(sp, entrants)
    if len(entrants) < 2 or not games:
        return entrants, np.zeros((len(entrants), len(entrants)))
    cost = np.stack([np.concatenate([sp.cost[e][g] for g in games]) for e in entrants])
    prog = np.stack(
        [np.concatenate([sp.progress[e][g] for g in games]) for e in entrants]
    )
    # one number per run, lower better: finite costs beat every unreached run, which
    # order among themselves by progress (in [0, 1], below any cost ≥ 1 after the
    # shift)
    key = np.where(np.isfinite(cost), -1.0 / (1.0 + cost), 1.0 - prog)
    return entrants, rating.pairwise_wins(key, lower_is_better=True)


def ratings_table(sp: SelfPlay) -> list[dict[str, Any]]:
    """Elo and Nash-average ratings of the self-play entrants."""
    names, wins = win_matrix(sp)
    if len(names) < 2 or wins.sum() == 0:
        return []
    elo = rating.elo_ratings(wins, names)
    nash = rating.nash_averaging(rating.win_logits(wins), names)
    return [
        {
            "ruleset": sp.ruleset,
            "entrant": n,
            "elo": float(elo.ratings[i]),
            "nash_weight": float(nash.weights[i]),
            "nash_rating": float(nash.ratings[i]),
        }
        for i, n in enumerate(names)
    ]


# ---- cross-play ------------------------------------------------------------------
class CrossPlay(NamedTuple):
    """Cross-play matrices of one game (rows: generator rule, columns: discriminator)."""

    ruleset: str
    game: str
    metric: str  # the headline metric of the ``final`` matrix
    entrants: list[str]
    final: np.ndarray  # median final headline metric
    payoff: np.ndarray  # median V − V̂*
    bracket: float  # mean width of the game-value bracket (nan if unknown)
    generator_mass: np.ndarray  # α-Rank mass of each generator rule
    discriminator_mass: np.ndarray


def _value_reference(records: list[dict[str, Any]], batch: int) -> tuple[dict, dict]:
    """``V̂*`` and bracket width per ``(game, seed index)`` from every final point."""
    lo: dict[tuple, np.ndarray] = {}
    hi: dict[tuple, np.ndarray] = {}
    keys = (
        "final_value",
        "final_exploitability_generator",
        "final_exploitability_discriminator",
    )
    for r in records:
        m = r["metrics"]
        if r["mode"] == "tuning" or not m or not all(k in m for k in keys):
            continue
        v, eg, ed = (np.asarray(m[k], dtype=np.float64) for k in keys)
        key = (r["game"], r["seed_index"])
        low = np.where(np.isfinite(v - eg), v - eg, -np.inf)
        high = np.where(np.isfinite(v + ed), v + ed, np.inf)
        lo[key] = np.maximum(lo.get(key, np.full(batch, -np.inf)), low)
        hi[key] = np.minimum(hi.get(key, np.full(batch, np.inf)), high)
    mid = {
        k: np.where(np.isfinite(lo[k] + hi[k]), (lo[k] + hi[k]) / 2, 0.0) for k in lo
    }
    width = {k: hi[k] - lo[k] for k in lo}
    return mid, width


def cross_play(results: Results, ruleset: str) -> list[CrossPlay]:
    """The cross-play matrices and α-Rank masses of every game of ``ruleset``."""
    cfg = results.config
    recs = results.select("cross_play", ruleset)
    if not recs:
        return []
    mid, width = _value_reference(results.records, cfg.batch)
    entrants = [e.label for e in cfg.entrants]
    index = {e: i for i, e in enumerate(entrants)}
    n = len(entrants)
    out = []
    for g in [g.label for g in cfg.games]:
        preset = cfg.preset(g)
        worst = np.inf if preset.target.lower_is_better else -np.inf
        finals: list[list[list[float]]] = [[[] for _ in range(n)] for _ in range(n)]
        pays: list[list[list[float]]] = [[[] for _ in range(n)] for _ in range(n)]
        for r in recs:
            if r["game"] != g:
                continue
            i, j = index[r["generator"]], index[r["discriminator"]]
            m = r["metrics"]
            if not m:
                finals[i][j].extend([worst] * cfg.batch)
                pays[i][j].extend([np.nan] * cfg.batch)
                continue
            bad = np.asarray(m["diverged"], dtype=bool)
            finals[i][j].extend(np.where(bad, worst, m["final_metric"]).tolist())
            ref = mid.get((g, r["seed_index"]), np.zeros(cfg.batch))
            u = np.asarray(m.get("final_value", [np.nan] * cfg.batch), np.float64)
            u = u - ref
            pays[i][j].extend(np.where(bad | ~np.isfinite(u), np.nan, u).tolist())
        if not any(finals[i][j] for i in range(n) for j in range(n)):
            continue
        with np.errstate(all="ignore"):
            final = np.array(
                [[np.median(c) if c else np.nan for c in row] for row in finals]
            )
            pay = np.array(
                [
                    [np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in row]
                    for row in pays
                ]
            )
        widths = [width[k] for k in width if k[0] == g]
        bracket = float(np.mean(np.concatenate(widths))) if widths else math.nan
        scale = np.nanmax(np.abs(pay)) if np.isfinite(pay).any() else 0.0
        u = np.nan_to_num(pay / scale if scale > 0 else np.zeros_like(pay), nan=0.0)
        ar = rating.alpha_rank(-u, u)
        out.append(
            CrossPlay(
                ruleset,
                g,
                preset.target.metric,
                entrants,
                final,
                pay,
                bracket,
                ar.row_masses,
                ar.col_masses,
            )
        )
    return out


# ---- curves for the plots ------------------------------------------------------------
def curves(
    results: Results, ruleset: str, game: str
) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Per entrant, each self-play match's ``(calls (T,), metric (T, batch))``."""
    out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for r in results.select("self_play", ruleset):
        if r["game"] == game and r["trajectory"] is not None:
            out[r["generator"]].append(decode_trajectory(r["trajectory"]))
    return out


def interquartile_band(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM over runs (axis 0) of ``(n, T)`` curves, with a 95 % bootstrap interval."""
    ci = stats.bootstrap_ci([runs], stats.interquartile_mean, reps=500, seed=SEED)
    return ci.point, ci.low, ci.high
