"""The report: Markdown leaderboard, CSV tables and PNG plots from a results store.

Everything here is a pure function of the store (and fixed bootstrap seeds), so
regenerating a report from the same results writes byte-identical files. This is the
only module that calls :mod:`~gangames.tournament.stats` and
:mod:`~gangames.tournament.rating`.

**Runs.** Each instance of each match is a run (``batch`` instances × ``seeds`` per
game); every entrant meets the same instances (common random numbers), so runs pair
up across entrants by ``(game, seed, instance)``.

**Self-play score** (lower is better), comparable across games:
``s = log10(final gap / initial gap)`` clipped to ``[-8, 2]`` — orders of magnitude
gained on the starting point's gap, which every entrant shares. A diverged run, or a
run of a failed match (agent error, timeout, crashed worker), scores the worst value
``2``. The leaderboard ranks by the interquartile mean (IQM) of ``s`` over all runs,
with a 95 % stratified bootstrap interval (tasks = games; Agarwal et al., NeurIPS
2021). ``P(>next)`` is the probability of improvement of each entrant over the next
one. ``AUC / initial gap`` is the median over runs of the mean gap over the budget
(area under the gap-vs-oracle-calls curve divided by the calls) relative to the
starting gap. Elo (Bradley–Terry) comes from the win matrix — a win is a lower final
gap on the same game, seed and instance, diverged and failed runs losing to every
finite gap — and the Nash average (Balduzzi et al., NeurIPS 2018) from its win logits.

**Cross-play** (per game): the matrix of median final gaps, and of the median payoff
relative to the game value, ``V − V̂*``. The value is bracketed by the runs
themselves — every final point gives ``Ψ(φ) = V − e_G ≤ V_lower ≤ V_upper ≤ Φ(θ) =
V + e_D`` — and ``V̂*`` is the middle of the tightest bracket over all matches on the
instance (the report states the mean bracket width; games without closed-form best
responses use ``V̂* = 0``). Two-population α-Rank (Omidshafiei et al., Sci. Rep.
2019) ranks generator and discriminator rules on the payoff matrix scaled to
``[-1, 1]`` (the generator's payoff is ``−(V − V̂*)``, the discriminator's ``V − V̂*``).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from gangames.errors import InvalidConfigError
from gangames.tournament import plots as plotting
from gangames.tournament import rating, staging, stats
from gangames.tournament.config import TournamentConfig, resolve_output
from gangames.tournament.plots import GRID, _safe
from gangames.tournament.store import Store

__all__ = [
    "FLOOR",
    "WORST",
    "Report",
    "Results",
    "leaderboard",
    "load_results",
    "write_report",
]

FLOOR, WORST = -8.0, 2.0  # clip range of the self-play score log10(gap / initial gap)
REPS = 2000  # bootstrap replicates
SEED = 0  # bootstrap seed: fixed so that reports are reproducible


class Results(NamedTuple):
    """A store's records, arranged for statistics."""

    config: TournamentConfig
    records: list[dict[str, Any]]  # ordered by match id

    def mode(self, mode: str) -> list[dict[str, Any]]:
        """Records of one mode."""
        return [r for r in self.records if r["mode"] == mode]


class Report(NamedTuple):
    """What :func:`write_report` wrote."""

    leaderboard: str  # the Markdown leaderboard
    files: list[Path]  # every file written, sorted


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


# ---- self-play tables ------------------------------------------------------------
def _run_scores(rec: dict[str, Any], batch: int) -> tuple[np.ndarray, np.ndarray]:
    """``(score, final gap)`` per instance; failures are worst / ``inf``."""
    m = rec["metrics"]
    if not m:
        return np.full(batch, WORST), np.full(batch, np.inf)
    final = np.asarray(m["final_gap"], dtype=np.float64)
    initial = np.asarray(m["initial_gap"], dtype=np.float64)
    bad = np.asarray(m["diverged"], dtype=bool) | ~np.isfinite(final)
    with np.errstate(all="ignore"):
        s = np.log10(np.maximum(final, 1e-300) / np.maximum(initial, 1e-300))
    s = np.clip(np.where(np.isfinite(s), s, WORST), FLOOR, WORST)
    return np.where(bad, WORST, s), np.where(bad, np.inf, final)


class SelfPlay(NamedTuple):
    """Self-play runs: ``scores[entrant][game]`` arrays over (seed, instance)."""

    entrants: list[str]
    games: list[str]
    scores: dict[str, dict[str, np.ndarray]]
    gaps: dict[str, dict[str, np.ndarray]]
    records: dict[str, list[dict[str, Any]]]  # per entrant


def self_play(results: Results) -> SelfPlay:
    """Arrange the self-play records."""
    cfg = results.config
    entrants = [e.label for e in cfg.entrants]
    games = [g.label for g in cfg.games]
    by = defaultdict(list)
    for r in results.mode("self_play"):
        by[(r["generator"], r["game"])].append(r)
    scores: dict[str, dict[str, np.ndarray]] = {e: {} for e in entrants}
    gaps: dict[str, dict[str, np.ndarray]] = {e: {} for e in entrants}
    recs: dict[str, list[dict[str, Any]]] = {e: [] for e in entrants}
    for e in entrants:
        for g in games:
            rows = sorted(by.get((e, g), []), key=lambda r: r["seed_index"])
            recs[e].extend(rows)
            pairs = [_run_scores(r, cfg.batch) for r in rows]
            scores[e][g] = (
                np.concatenate([p[0] for p in pairs]) if pairs else np.zeros(0)
            )
            gaps[e][g] = np.concatenate([p[1] for p in pairs]) if pairs else np.zeros(0)
    return SelfPlay(entrants, games, scores, gaps, recs)


def _fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:.{digits}g}" if abs(x) < 1e4 else f"{x:.{digits}e}"


def _zero(x: float, eps: float = 1e-6) -> float:
    return 0.0 if abs(x) < eps else x


def _complete(sp: SelfPlay, entrants: Iterable[str]) -> list[str]:
    """Games every one of ``entrants`` has runs on."""
    return [g for g in sp.games if all(sp.scores[e][g].size for e in entrants)]


def self_play_table(sp: SelfPlay, tolerance: float) -> list[dict[str, Any]]:
    """One row per entrant, ranked by the IQM of the score (ties by name)."""
    rows: list[dict[str, Any]] = []
    present = [e for e in sp.entrants if any(sp.scores[e][g].size for g in sp.games)]
    games = _complete(sp, present)
    if not games:
        return []
    for e in present:
        by_task = {g: sp.scores[e][g] for g in games}
        ci = stats.bootstrap_ci(by_task, stats.interquartile_mean, reps=REPS, seed=SEED)
        div = np.concatenate(
            [
                np.asarray(r["metrics"].get("diverged", []), dtype=bool)
                for r in sp.records[e]
            ]
            or [np.zeros(0, bool)]
        )
        to_tol = np.concatenate(
            [
                np.asarray(r["metrics"].get("calls_to_tol", []), dtype=np.float64)
                for r in sp.records[e]
            ]
            or [np.zeros(0)]
        )
        # area under the gap curve per unit of budget, relative to the starting gap
        # (comparable across games, like the score); failed matches contribute none
        auc = np.concatenate(
            [
                np.asarray(r["metrics"]["auc"], dtype=np.float64)
                / np.maximum(
                    np.asarray(r["metrics"]["initial_gap"], np.float64), 1e-300
                )
                for r in sp.records[e]
                if r["metrics"]
            ]
            or [np.zeros(0)]
        )
        failed = sum(1 for r in sp.records[e] if not r["metrics"])
        n_runs = sum(sp.scores[e][g].size for g in games)
        reached = np.isfinite(to_tol)
        rows.append(
            {
                "entrant": e,
                "iqm": float(ci.point),
                "ci_low": float(ci.low),
                "ci_high": float(ci.high),
                "reached_tol": float(reached.sum() / n_runs) if n_runs else 0.0,
                "median_calls_to_tol": float(np.median(to_tol[reached]))
                if reached.any()
                else math.inf,
                "median_auc": float(np.median(auc)) if auc.size else math.nan,
                "diverged": float(div.sum() / n_runs) if n_runs else 0.0,
                "failed_matches": failed,
                "runs": n_runs,
            }
        )
    rows.sort(key=lambda r: (r["iqm"], r["entrant"]))
    for i, r in enumerate(rows):
        r["rank"] = i + 1
        nxt: str | None = rows[i + 1]["entrant"] if i + 1 < len(rows) else None
        this: str = r["entrant"]
        if nxt is None:
            r["p_better_next"] = math.nan
            continue
        p = stats.probability_of_improvement(
            {g: sp.scores[this][g] for g in games},
            {g: sp.scores[nxt][g] for g in games},
            reps=REPS,
            seed=SEED,
            lower_is_better=True,
        )
        r["p_better_next"] = float(p.point)
    return rows


def per_game_table(sp: SelfPlay) -> list[dict[str, Any]]:
    """IQM of the score per game and entrant, with a bootstrap interval over runs."""
    rows = []
    for g in sp.games:
        for e in sp.entrants:
            x = sp.scores[e][g]
            if not x.size:
                continue
            ci = stats.bootstrap_ci(
                {g: x}, stats.interquartile_mean, reps=REPS, seed=SEED
            )
            rows.append(
                {
                    "game": g,
                    "entrant": e,
                    "iqm": float(ci.point),
                    "ci_low": float(ci.low),
                    "ci_high": float(ci.high),
                    "median_final_gap": float(np.median(sp.gaps[e][g])),
                    "runs": int(x.size),
                }
            )
    return rows


def improvement_table(sp: SelfPlay) -> list[dict[str, Any]]:
    """P(a run of X scores lower than a run of Y), every ordered pair, over games."""
    present = [e for e in sp.entrants if any(sp.scores[e][g].size for g in sp.games)]
    games = _complete(sp, present)
    rows = []
    for x in present:
        for y in present:
            if x == y or not games:
                continue
            p = stats.probability_of_improvement(
                {g: sp.scores[x][g] for g in games},
                {g: sp.scores[y][g] for g in games},
                reps=REPS,
                seed=SEED,
                lower_is_better=True,
            )
            rows.append(
                {
                    "entrant": x,
                    "opponent": y,
                    "probability": float(p.point),
                    "ci_low": float(p.low),
                    "ci_high": float(p.high),
                }
            )
    return rows


def win_matrix(sp: SelfPlay) -> tuple[list[str], np.ndarray]:
    """Head-to-head wins over paired runs: lower final gap on the same instance."""
    entrants = [e for e in sp.entrants if any(sp.gaps[e][g].size for g in sp.games)]
    games = _complete(sp, entrants)
    if len(entrants) < 2 or not games:
        return entrants, np.zeros((len(entrants), len(entrants)))
    finals = np.stack(
        [np.concatenate([sp.gaps[e][g] for g in games]) for e in entrants]
    )
    finals = np.where(np.isnan(finals), np.inf, finals)
    return entrants, rating.pairwise_wins(finals, lower_is_better=True)


def ratings_table(sp: SelfPlay) -> list[dict[str, Any]]:
    """Elo and Nash-average ratings of the self-play entrants."""
    names, wins = win_matrix(sp)
    if len(names) < 2 or wins.sum() == 0:
        return []
    elo = rating.elo_ratings(wins, names)
    nash = rating.nash_averaging(rating.win_logits(wins), names)
    return [
        {
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

    game: str
    entrants: list[str]
    gap: np.ndarray  # median final gap
    payoff: np.ndarray  # median V − V̂*
    bracket: float  # mean width of the game-value bracket (nan if unknown)
    generator_mass: np.ndarray  # α-Rank mass of each generator rule
    discriminator_mass: np.ndarray


def _value_reference(records: list[dict[str, Any]], batch: int) -> tuple[dict, dict]:
    """``V̂*`` and bracket width per ``(game, seed index)`` from every final point."""
    lo: dict[tuple, np.ndarray] = {}
    hi: dict[tuple, np.ndarray] = {}
    for r in records:
        m = r["metrics"]
        keys = (
            "final_value",
            "final_exploitability_generator",
            "final_exploitability_discriminator",
        )
        if not m or not all(k in m for k in keys):
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


def cross_play(results: Results) -> list[CrossPlay]:
    """The cross-play matrices and α-Rank masses of every game."""
    cfg = results.config
    recs = results.mode("cross_play")
    if not recs:
        return []
    mid, width = _value_reference(results.records, cfg.batch)
    entrants = [e.label for e in cfg.entrants]
    index = {e: i for i, e in enumerate(entrants)}
    out = []
    for g in [g.label for g in cfg.games]:
        n = len(entrants)
        gaps: list[list[list[float]]] = [[[] for _ in range(n)] for _ in range(n)]
        pays: list[list[list[float]]] = [[[] for _ in range(n)] for _ in range(n)]
        for r in recs:
            if r["game"] != g:
                continue
            i, j = index[r["generator"]], index[r["discriminator"]]
            m = r["metrics"]
            if not m:
                gaps[i][j].extend([np.inf] * cfg.batch)
                pays[i][j].extend([np.nan] * cfg.batch)
                continue
            bad = np.asarray(m["diverged"], dtype=bool)
            gaps[i][j].extend(np.where(bad, np.inf, m["final_gap"]).tolist())
            ref = mid.get((g, r["seed_index"]), np.zeros(cfg.batch))
            u = np.asarray(m["final_value"], dtype=np.float64) - ref
            pays[i][j].extend(np.where(bad | ~np.isfinite(u), np.nan, u).tolist())
        if not any(gaps[i][j] for i in range(n) for j in range(n)):
            continue
        with np.errstate(all="ignore"):
            gap = np.array(
                [[np.median(c) if c else np.nan for c in row] for row in gaps]
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
            CrossPlay(g, entrants, gap, pay, bracket, ar.row_masses, ar.col_masses)
        )
    return out


# ---- Markdown --------------------------------------------------------------------
def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def leaderboard(results: Results) -> str:
    """The Markdown leaderboard (self-play ranking, ratings, cross-play α-Rank)."""
    sp = self_play(results)
    return _leaderboard(
        results,
        sp,
        self_play_table(sp, results.config.tolerance),
        ratings_table(sp),
        cross_play(results),
    )


def _leaderboard(
    results: Results,
    sp: SelfPlay,
    table: list[dict[str, Any]],
    ratings: list[dict[str, Any]],
    crosses: list[CrossPlay],
) -> str:
    """:func:`leaderboard` from the analyses :func:`write_report` also writes out."""
    cfg = results.config
    parts = [
        f"# {cfg.name}: leaderboard",
        "",
        f"{len(cfg.games)} games × {cfg.seeds} seeds × {cfg.batch} instances, "
        f"budget {cfg.budget:g} gradient-equivalents per seat. Score: "
        "log10(final gap / initial gap), clipped to [-8, 2], diverged or failed = 2; "
        "lower is better. IQM with a 95 % stratified bootstrap interval over runs.",
        "",
    ]
    if table:
        rt = {r["entrant"]: r for r in ratings}
        rows = []
        for r in table:
            q = rt.get(r["entrant"], {})
            rows.append(
                [
                    str(r["rank"]),
                    r["entrant"],
                    f"{r['iqm']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]",
                    _fmt(r["p_better_next"], 2),
                    _fmt(q.get("elo", math.nan), 4),
                    # the LP's round-off (≈1e-9) on the equilibrium support reads 0
                    _fmt(_zero(q.get("nash_rating", math.nan)), 2),
                    f"{100 * r['reached_tol']:.0f} %",
                    _fmt(r["median_calls_to_tol"]),
                    _fmt(r["median_auc"]),
                    f"{100 * r['diverged']:.0f} %",
                    str(r["failed_matches"]),
                ]
            )
        parts += [
            "## Self-play",
            "",
            _table(
                [
                    "rank",
                    "entrant",
                    "IQM score [95 % CI]",
                    "P(>next)",
                    "Elo",
                    "Nash",
                    f"gap ≤ {cfg.tolerance:g}",
                    "calls to tol",
                    "AUC / initial gap",
                    "diverged",
                    "failed",
                ],
                rows,
            ),
            "",
        ]
        per_game = []
        for g in sp.games:
            row = [g]
            for r in table:
                gaps = sp.gaps[r["entrant"]][g]
                row.append(_fmt(float(np.median(gaps))) if gaps.size else "–")
            per_game.append(row)
        parts += [
            "### Median final gap per game",
            "",
            _table(["game", *[r["entrant"] for r in table]], per_game),
            "",
        ]
    for cp in crosses:
        order = np.argsort(-cp.generator_mass, kind="stable")
        rows = [
            [
                cp.entrants[i],
                _fmt(float(cp.generator_mass[i])),
                _fmt(float(cp.discriminator_mass[i])),
            ]
            for i in order
        ]
        parts += [
            f"## Cross-play: {cp.game}",
            "",
            f"α-Rank masses (generator rule vs discriminator rule; game-value bracket "
            f"width {_fmt(cp.bracket)}).",
            "",
            _table(["entrant", "as generator", "as discriminator"], rows),
            "",
        ]
    statuses: dict[str, int] = defaultdict(int)
    for r in results.records:
        statuses[r["status"]] += 1
    parts.append(
        "Matches: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + "."
    )
    return "\n".join(parts) + "\n"


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
        n = len(m.get("final_gap", [])) or results.config.batch
        for b in range(n):
            row = {
                "match_id": r["match_id"],
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


def write_report(out_dir: str | Path, *, plots: bool = True) -> Report:
    """Write the report of the tournament in ``out_dir`` into its report folder.

    The report is written into a fresh folder and swapped in whole
    (:mod:`~gangames.tournament.staging`): a report killed part-way leaves the
    previous report, never a mix of old and new files.

    Files: ``leaderboard.md``; ``runs.csv`` (one row per run), ``self_play.csv``,
    ``per_game.csv``, ``probability_of_improvement.csv``, ``ratings.csv``,
    ``wins.csv``, ``performance_profile.csv``,
    ``cross_play_<game>.csv``; with ``plots``: ``gap_<game>.png``,
    ``cross_play_<game>.png``, ``performance_profile.png``.
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

    # each analysis once: the leaderboard and the CSVs below share them
    sp = self_play(results)
    table = self_play_table(sp, cfg.tolerance)
    ratings = ratings_table(sp)
    crosses = cross_play(results)
    board = _leaderboard(results, sp, table, ratings, crosses)
    put("leaderboard.md", board)
    runs = _runs_rows(results)
    base = list(runs[0]) if runs else []
    extra = sorted({k for r in runs for k in r} - set(base))
    put("runs.csv", _csv(runs, base + extra))
    put(
        "self_play.csv",
        _csv(
            table,
            [
                "rank",
                "entrant",
                "iqm",
                "ci_low",
                "ci_high",
                "p_better_next",
                "reached_tol",
                "median_calls_to_tol",
                "median_auc",
                "diverged",
                "failed_matches",
                "runs",
            ],
        ),
    )
    put(
        "ratings.csv",
        _csv(ratings, ["entrant", "elo", "nash_weight", "nash_rating"]),
    )
    put(
        "per_game.csv",
        _csv(
            per_game_table(sp),
            ["game", "entrant", "iqm", "ci_low", "ci_high", "median_final_gap", "runs"],
        ),
    )
    put(
        "probability_of_improvement.csv",
        _csv(
            improvement_table(sp),
            ["entrant", "opponent", "probability", "ci_low", "ci_high"],
        ),
    )
    names, wins = win_matrix(sp)
    put(
        "wins.csv",
        _csv(
            [
                {"entrant": n, **{m: float(wins[i, j]) for j, m in enumerate(names)}}
                for i, n in enumerate(names)
            ],
            ["entrant", *names],
        ),
    )
    taus = np.linspace(FLOOR, WORST, GRID)
    pooled = {
        e: np.concatenate([sp.scores[e][g] for g in sp.games]) for e in sp.entrants
    }
    pooled = {e: v for e, v in pooled.items() if v.size}
    profile = (
        stats.performance_profile(pooled, taus, lower_is_better=True) if pooled else {}
    )
    put(
        "performance_profile.csv",
        _csv(
            [
                {"tau": float(t), **{e: float(profile[e][k]) for e in profile}}
                for k, t in enumerate(taus)
            ],
            ["tau", *profile],
        ),
    )
    for cp in crosses:
        rows = []
        for i, a in enumerate(cp.entrants):
            for j, b in enumerate(cp.entrants):
                rows.append(
                    {
                        "generator": a,
                        "discriminator": b,
                        "median_final_gap": float(cp.gap[i, j]),
                        "median_payoff_minus_value": float(cp.payoff[i, j]),
                        "alpha_rank_generator": float(cp.generator_mass[i]),
                        "alpha_rank_discriminator": float(cp.discriminator_mass[j]),
                    }
                )
        put(
            f"cross_play_{_safe(cp.game)}.csv",
            _csv(
                rows,
                [
                    "generator",
                    "discriminator",
                    "median_final_gap",
                    "median_payoff_minus_value",
                    "alpha_rank_generator",
                    "alpha_rank_discriminator",
                ],
            ),
        )
    if plots:
        written += plotting.gap_curves(results, folder, _iqm_band)
        written += plotting.cross_play_heatmaps(crosses, folder)
        if profile:
            written.append(plotting.performance_profile(profile, taus, folder))
        written += plotting.samples(results, folder)
    staging.commit(folder, final)
    return Report(board, sorted(final / p.relative_to(folder) for p in written))


def _iqm_band(runs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IQM over runs (axis 0) of ``(n, T)`` curves, with a 95 % bootstrap interval."""
    ci = stats.bootstrap_ci([runs], stats.interquartile_mean, reps=500, seed=SEED)
    return ci.point, ci.low, ci.high
