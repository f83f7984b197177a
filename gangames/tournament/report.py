"""The report: a Markdown leaderboard, CSV tables and PNG plots from a results store.

This module only writes: the numbers come from :mod:`~gangames.tournament.analysis`
and the figures from :mod:`~gangames.tournament.plots`. Regenerating a report from the
same results writes the same files, and a report is written into a fresh folder and
swapped in whole (:mod:`~gangames.tournament.staging`), so a report killed part-way
leaves the previous one, never a mix.

Files (``report/``): ``leaderboard.md`` (what the CLI prints), ``targets.csv`` (one row
per ruleset, game and entrant: who reaches the target, at what cost, with which
hyperparameters), ``leaderboard.csv``, ``trials.csv`` (every tuning trial),
``per_game.csv``, ``probability_of_improvement.csv``, ``ratings.csv``,
``performance_profile.csv``, ``runs.csv`` (one row per run), ``cross_play_<game>.csv``;
with plots: ``curve_<game>.png``, ``performance_profile.png``,
``cross_play_<game>.png`` and ``samples_<game>.png``. Every column is explained in
``leaderboard.md`` under its table.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gangames.tournament import analysis, staging
from gangames.tournament import plots as plotting
from gangames.tournament.analysis import Results, load_results
from gangames.tournament.config import resolve_output
from gangames.tournament.plots import safe_name
from gangames.tournament.tuning import TrialSummary, trial_summaries

__all__ = ["Report", "leaderboard", "write_report"]


class Report(NamedTuple):
    """What :func:`write_report` wrote."""

    leaderboard: str  # the Markdown leaderboard
    files: list[Path]  # every file written, sorted


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1e4 else f"{x:.{digits}e}"
    return str(x)


def _pct(x: float) -> str:
    return "–" if math.isnan(x) else f"{100 * x:.0f} %"


def _zero(x: float, eps: float = 1e-6) -> float:
    return 0.0 if abs(x) < eps else x


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _hp(hp: dict[str, Any]) -> str:
    """Hyperparameters in a cell: ``lr=0.31, lr_discriminator=0.9``."""
    if not hp:
        return "defaults"
    return ", ".join(
        f"{k}={_fmt(v, 2) if isinstance(v, float) else v}"
        for k, v in sorted(hp.items())
    )


def _estimate(x: float) -> str:
    """A budgeted gap estimate: a lower bound; 0 is below its resolution."""
    if math.isnan(x):
        return ""
    return "≥ 0 (below the estimator's resolution)" if x <= 0 else f"≥ {_fmt(x)}"


class _Analyses(NamedTuple):
    """Every analysis of one ruleset (computed once, written twice: MD and CSV)."""

    sp: analysis.SelfPlay
    profile: analysis.Profile | None
    board: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    crosses: list[analysis.CrossPlay]


def _analyse(results: Results) -> dict[str, _Analyses]:
    out = {}
    for ruleset in results.config.rulesets:
        sp = analysis.self_play(results, ruleset)
        profile = analysis.cost_profile(sp)
        out[ruleset] = _Analyses(
            sp,
            profile,
            analysis.leaderboard_table(sp, profile),
            analysis.ratings_table(sp),
            analysis.cross_play(results, ruleset),
        )
    return out


_GAME_NOTE = (
    "*reached*: fraction of evaluation runs (seeds × instances) whose target held at "
    "some round; *cost*: median oracle cost per seat to the target over the runs that "
    "reached it, in gradient-equivalents of the base game (∞: none did); *final*: "
    "median final value of the headline metric; *hyperparameters*: what the entrant "
    "played with under this ruleset (under `tuned`: its best trial, and in brackets the "
    "fraction of its trials whose median run reached the target — its sensitivity to "
    "tuning). A budgeted gap estimate, where shown, is a lower bound, never a score."
)

_BOARD_NOTE = (
    "*profile area*: mean over log2 τ ∈ [0, 10] of the Dolan–Moré profile ρ(τ), the "
    "fraction of problems (game, seed, instance) solved within τ times the best "
    "entrant's cost — 1 is fastest everywhere, 0 never reaches a target; *fastest*: "
    "ρ(1); *reached*: fraction of runs that reached the target; *cost*: median cost "
    "to the target of those runs; *progress IQM*: interquartile mean of the progress "
    "toward the target (1 = reached; for gaps the orders of magnitude gained relative "
    "to those needed) with a 95 % stratified bootstrap interval; *P(>next)*: "
    "probability that a run progresses further than one of the next entrant; *Elo*, "
    "*Nash*: ratings from head-to-head wins (lower cost on the same problem, ties by "
    "progress); *diverged*: fraction of runs that diverged; *failed*: matches that "
    "produced no scores (agent error, timeout, crashed worker)."
)


def _game_section(
    results: Results, ruleset: str, rows: list[dict[str, Any]], game: str
) -> list[str]:
    preset = results.config.preset(game)
    mine = [r for r in rows if r["ruleset"] == ruleset and r["game"] == game]
    if not mine:
        return []
    mine.sort(
        key=lambda r: (
            -r["fraction_reached"],
            r["median_cost_to_target"],
            r["entrant"],
        )
    )
    estimates = any(not math.isnan(r["median_estimated_gap"]) for r in mine)
    header = ["entrant", "reached", "cost", "final", "hyperparameters"]
    if estimates:
        header.insert(4, "estimated gap")
    table = []
    for r in mine:
        hp = _hp(r["hyperparameters"])
        if not math.isnan(r["trials_reached"]):
            hp += f" [{_pct(r['trials_reached'])} of {r['trials']} trials]"
        row = [
            r["entrant"],
            _pct(r["fraction_reached"]),
            _fmt(r["median_cost_to_target"]),
            _fmt(r["median_final"]),
            hp,
        ]
        if estimates:
            row.insert(4, _estimate(r["median_estimated_gap"]))
        table.append(row)
    curve = "curve_" + safe_name(f"{ruleset}_{game}") + ".png"
    return [
        f"### {game} — {preset.label}: target {preset.target}, budget "
        f"{preset.budget:g}",
        "",
        preset.why,
        "",
        _table(header, table),
        "",
        f"Curves: [{curve}]({curve}).",
        "",
    ]


def _board_section(a: _Analyses) -> list[str]:
    if not a.board:
        return []
    rt = {r["entrant"]: r for r in a.ratings}
    rows = []
    for r in a.board:
        q = rt.get(r["entrant"], {})
        rows.append(
            [
                str(r["rank"]),
                r["entrant"],
                f"{r['profile_area']:.2f}",
                f"{r['fastest']:.2f}",
                _pct(r["fraction_reached"]),
                _fmt(r["median_cost_to_target"]),
                f"{r['iqm_progress']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]",
                _fmt(r["p_better_next"], 2),
                _fmt(q.get("elo", math.nan), 4),
                # the LP's round-off (≈1e-9) on the equilibrium support reads 0
                _fmt(_zero(q.get("nash_rating", math.nan)), 2),
                _pct(r["diverged"]),
                str(r["failed_matches"]),
            ]
        )
    problems = a.profile.problems if a.profile else 0
    return [
        f"### Aggregate ({problems} problems)",
        "",
        _table(
            [
                "rank",
                "entrant",
                "profile area",
                "fastest",
                "reached",
                "cost",
                "progress IQM [95 % CI]",
                "P(>next)",
                "Elo",
                "Nash",
                "diverged",
                "failed",
            ],
            rows,
        ),
        "",
        _BOARD_NOTE,
        "",
    ]


def _cross_section(cp: analysis.CrossPlay) -> list[str]:
    order = np.argsort(-cp.generator_mass, kind="stable")
    rows = [
        [
            cp.entrants[i],
            _fmt(float(cp.generator_mass[i])),
            _fmt(float(cp.discriminator_mass[i])),
        ]
        for i in order
    ]
    name = safe_name(f"{cp.ruleset}_{cp.game}")
    return [
        f"### Cross-play: {cp.game}",
        "",
        _table(["entrant", "as generator", "as discriminator"], rows),
        "",
        "α-Rank mass of each rule as generator and as discriminator (the long-run "
        "share of the evolutionary dynamics on the payoff matrix V − V̂*; V̂* "
        f"bracketed by the runs, mean bracket width {_fmt(cp.bracket)}). Matrices: "
        f"[cross_play_{name}.csv](cross_play_{name}.csv), "
        f"[cross_play_{name}.png](cross_play_{name}.png).",
        "",
    ]


def _leaderboard(
    results: Results, analyses: dict[str, _Analyses], targets: list[dict[str, Any]]
) -> str:
    cfg = results.config
    parts = [
        f"# {cfg.name}",
        "",
        f"{len(cfg.games)} games × {cfg.seeds} evaluation seeds × {cfg.batch} "
        f"instances; rulesets: {', '.join(cfg.rulesets)}"
        + (
            f" ({cfg.trials} quasi-random trials per entrant and game from each "
            f"agent's declared search space, on {cfg.tuning_seeds} tuning seed(s) "
            "distinct from the evaluation seeds)"
            if "tuned" in cfg.rulesets
            else ""
        )
        + ". Cost unit: gradient-equivalents per seat of the base game (an HVP "
        "counts 2, a value 0.5, a gradient of a K-particle game K). Each game is "
        "scored under its own solution concept; a lower-bound gap estimate never "
        "counts as reaching a target.",
        "",
    ]
    for ruleset, a in analyses.items():
        parts += [f"## Ruleset `{ruleset}`", ""]
        for g in a.sp.games:
            parts += _game_section(results, ruleset, targets, g)
        parts += [_GAME_NOTE, ""]
        parts += _board_section(a)
        for cp in a.crosses:
            parts += _cross_section(cp)
    statuses: dict[str, int] = defaultdict(int)
    for r in results.records:
        statuses[r["status"]] += 1
    parts += [
        "## Files",
        "",
        "[targets.csv](targets.csv) (per ruleset, game and entrant), "
        "[leaderboard.csv](leaderboard.csv), [trials.csv](trials.csv) (every tuning "
        "trial), [per_game.csv](per_game.csv), "
        "[probability_of_improvement.csv](probability_of_improvement.csv), "
        "[ratings.csv](ratings.csv), "
        "[performance_profile.csv](performance_profile.csv) and "
        "[performance_profile.png](performance_profile.png), [runs.csv](runs.csv) "
        "(one row per run).",
        "",
        "Matches: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + ".",
    ]
    return "\n".join(parts) + "\n"


def leaderboard(results: Results) -> str:
    """The Markdown leaderboard (per ruleset: per-game tables, aggregate, cross-play)."""
    return _leaderboard(results, _analyse(results), analysis.targets_table(results))


# ---- files -----------------------------------------------------------------------
def _csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def _cell(x: Any) -> str:
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, list | dict):
        return json.dumps(x, sort_keys=True)
    return "" if x is None else str(x)


def _runs_rows(results: Results) -> list[dict[str, Any]]:
    rows = []
    for r in results.records:
        m = r["metrics"]
        n = len(m.get("final_metric", [])) or results.config.batch
        for b in range(n):
            row = {
                "match_id": r["match_id"],
                "ruleset": r["ruleset"],
                "mode": r["mode"],
                "game": r["game"],
                "generator": r["generator"],
                "discriminator": r["discriminator"],
                "seed_index": r["seed_index"],
                "instance": b,
                "status": r["status"],
                "attempts": r["attempts"],
            }
            for k in sorted(m):
                if isinstance(m[k], list) and len(m[k]) == n:
                    row[k] = m[k][b]
            rows.append(row)
    return rows


TARGET_COLUMNS = [
    "ruleset",
    "game",
    "entrant",
    "concept",
    "target",
    "budget",
    "fraction_reached",
    "median_cost_to_target",
    "hyperparameters",
    "median_final",
    "median_estimated_gap",
    "trials",
    "trials_reached",
]


def write_report(
    out_dir: str | Path, *, plots: bool = True, progress: str = "none"
) -> Report:
    """Write the report of the tournament in ``out_dir`` into its report folder.

    See the module docstring for the files. Returns the leaderboard and the paths.
    ``progress`` shows the replays of the sample plots
    (:func:`~gangames.tournament.progress.tracker`).
    """
    results = load_results(out_dir)
    cfg = results.config
    final = resolve_output(Path(out_dir), cfg.report_dir, "report_dir")
    folder = staging.stage(final)  # written aside, swapped in whole at the end
    written: list[Path] = []

    def put(name: str, text: str) -> None:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)

    summaries = trial_summaries(cfg, results.records)
    targets = analysis.targets_table(results, summaries)
    analyses = _analyse(results)
    board = _leaderboard(results, analyses, targets)
    put("leaderboard.md", board)
    put("targets.csv", _csv(targets, TARGET_COLUMNS))
    put(
        "trials.csv",
        _csv(
            analysis.trials_table(summaries),
            list(TrialSummary._fields),
        ),
    )
    runs = _runs_rows(results)
    base = list(runs[0]) if runs else []
    extra = sorted({k for r in runs for k in r} - set(base))
    put("runs.csv", _csv(runs, base + extra))
    boards = [r for a in analyses.values() for r in a.board]
    put(
        "leaderboard.csv",
        _csv(
            boards,
            [
                "ruleset",
                "rank",
                "entrant",
                "profile_area",
                "fastest",
                "fraction_reached",
                "median_cost_to_target",
                "iqm_progress",
                "ci_low",
                "ci_high",
                "p_better_next",
                "diverged",
                "failed_matches",
                "runs",
            ],
        ),
    )
    put(
        "ratings.csv",
        _csv(
            [r for a in analyses.values() for r in a.ratings],
            ["ruleset", "entrant", "elo", "nash_weight", "nash_rating"],
        ),
    )
    put(
        "per_game.csv",
        _csv(
            [r for a in analyses.values() for r in analysis.per_game_table(a.sp)],
            [
                "ruleset",
                "game",
                "entrant",
                "iqm_progress",
                "ci_low",
                "ci_high",
                "median_final",
                "runs",
            ],
        ),
    )
    put(
        "probability_of_improvement.csv",
        _csv(
            [r for a in analyses.values() for r in analysis.improvement_table(a.sp)],
            ["ruleset", "entrant", "opponent", "probability", "ci_low", "ci_high"],
        ),
    )
    profile_rows = []
    for ruleset, a in analyses.items():
        if a.profile is None:
            continue
        for k, tau in enumerate(a.profile.taus):
            profile_rows += [
                {
                    "ruleset": ruleset,
                    "tau": float(tau),
                    "entrant": e,
                    "rho": float(r[k]),
                }
                for e, r in a.profile.rho.items()
            ]
    put(
        "performance_profile.csv",
        _csv(profile_rows, ["ruleset", "tau", "entrant", "rho"]),
    )
    for a in analyses.values():
        for cp in a.crosses:
            rows = [
                {
                    "generator": g,
                    "discriminator": d,
                    f"median_final_{cp.metric}": float(cp.final[i, j]),
                    "median_payoff_minus_value": float(cp.payoff[i, j]),
                    "alpha_rank_generator": float(cp.generator_mass[i]),
                    "alpha_rank_discriminator": float(cp.discriminator_mass[j]),
                }
                for i, g in enumerate(cp.entrants)
                for j, d in enumerate(cp.entrants)
            ]
            put(
                "cross_play_" + safe_name(f"{cp.ruleset}_{cp.game}") + ".csv",
                _csv(rows, list(rows[0])),
            )
    if plots:
        for ruleset, a in analyses.items():
            written += plotting.metric_curves(results, ruleset, folder)
            written += plotting.cross_play_heatmaps(a.crosses, folder)
        profiles = {r: a.profile for r, a in analyses.items() if a.profile is not None}
        if profiles:
            written.append(plotting.performance_profiles(profiles, folder))
        written += plotting.samples(results, folder, progress=progress)
    staging.commit(folder, final)
    return Report(board, sorted(final / p.relative_to(folder) for p in written))
