"""PNG plots of a tournament (matplotlib, Agg backend, reproducible bytes).

Plots draw what :mod:`~gangames.tournament.analysis` computes; they compute no
statistics themselves. Every figure is saved with ``metadata={"Software": None}`` (no
version stamp) from inputs in a fixed order, so regenerating a report gives
byte-identical files. Axes keep the range that carries information: a metric to lower
is drawn on a log scale clipped a decade below the target (values below it mean
"reached", not "better"), with the target as a dashed line.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

import gangames
from gangames.errors import InvalidConfigError
from gangames.tournament.analysis import (
    CrossPlay,
    Profile,
    Results,
    curves,
    interquartile_band,
)
from gangames.tournament.match import play_match
from gangames.tournament.progress import tracker
from gangames.tournament.schedule import Match

__all__ = [
    "cross_play_heatmaps",
    "metric_curves",
    "performance_profiles",
    "safe_name",
    "samples",
]

_SAVE = {"dpi": 100, "metadata": {"Software": None}}
GRID = 101  # points of the common grid of oracle calls


def safe_name(label: str) -> str:
    """``label`` as a file-name part, distinct for distinct labels.

    A label of letters, digits and ``-_.`` is kept as it is; any other has the rest
    replaced by ``_`` and ``+`` with 12 hex digits of its SHA-256 appended. A kept
    label has no ``+``, so ``"a b"`` (``a_b+…``) never meets ``"a_b"``.

    Example:
        >>> safe_name("a_b"), safe_name("a b")
        ('a_b', 'a_b+c8687a08aa5d')
    """
    kept = "".join(c if c.isalnum() or c in "-_." else "_" for c in label)
    if kept == label and label.strip("."):
        return label
    return f"{kept}+{hashlib.sha256(label.encode()).hexdigest()[:12]}"


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    """Lay out, write (reproducible PNG metadata) and close ``fig``."""
    fig.tight_layout()
    fig.savefig(path, **_SAVE)
    plt.close(fig)
    return path


def metric_curves(results: Results, ruleset: str, folder: Path) -> list[Path]:
    """Per game: the headline metric against oracle calls per seat, per entrant.

    Each self-play run's curve is interpolated onto a common grid of oracle calls
    (0 … budget) and summarised by its IQM with a 95 % bootstrap band. Metrics to
    lower are drawn on a log scale from a decade below the target (values below it
    are clipped: the target was reached) to the largest starting value.
    """
    plt = _plt()
    cfg = results.config
    out = []
    for g in [g.label for g in cfg.games]:
        preset = cfg.preset(g)
        target = preset.target
        head = target.conditions[0]
        by = curves(results, ruleset, g)
        if not by:
            continue
        grid = np.linspace(0.0, preset.budget, GRID)
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        floor = head.value / 10
        for k, e in enumerate([e.label for e in cfg.entrants]):
            runs = []
            for calls, curve in by.get(e, []):
                if target.lower_is_better:
                    y = np.log10(
                        np.clip(
                            np.nan_to_num(curve, nan=1e12, posinf=1e12), floor, 1e12
                        )
                    )
                else:
                    y = np.nan_to_num(curve, nan=0.0)
                runs += [np.interp(grid, calls, y[:, b]) for b in range(y.shape[1])]
            if not runs:
                continue
            point, low, high = interquartile_band(np.stack(runs))
            if target.lower_is_better:
                point, low, high = 10**point, 10**low, 10**high
            color = f"C{k % 10}"
            ax.plot(grid, point, color=color, label=e, lw=1.5)
            ax.fill_between(grid, low, high, color=color, alpha=0.2, lw=0)
        ax.axhline(head.value, color="k", ls="--", lw=1, label=f"target: {target}")
        if target.lower_is_better:
            ax.set_yscale("log")
            ax.set_ylim(bottom=floor)
        ax.set_xlabel("oracle calls per seat (gradient-equivalents of the base game)")
        ax.set_ylabel(f"{head.metric} (IQM over runs, 95 % CI)")
        ax.set_title(f"{g} — {preset.label} ({ruleset})")
        ax.legend(fontsize=7, ncol=2)
        out.append(
            _save(plt, fig, folder / ("curve_" + safe_name(f"{ruleset}_{g}") + ".png"))
        )
    return out


def cross_play_heatmaps(crosses: list[CrossPlay], folder: Path) -> list[Path]:
    """Cross-play heat maps per game, generator rule × discriminator rule.

    Left: the median final headline metric (log10 for gaps); right: the median payoff
    relative to the game value, ``V − V̂*``.
    """
    plt = _plt()
    out = []
    for cp in crosses:
        n = len(cp.entrants)
        log = cp.metric in ("duality_gap", "proximal_gap")
        with np.errstate(all="ignore"):
            z = (
                np.log10(
                    np.clip(np.nan_to_num(cp.final, nan=1e12, posinf=1e12), 1e-12, 1e12)
                )
                if log
                else cp.final
            )
        pay = np.asarray(cp.payoff, dtype=np.float64)
        lim = float(np.nanmax(np.abs(pay))) if np.isfinite(pay).any() else 1.0
        fig, axes = plt.subplots(
            1, 2, figsize=(max(9.0, 3.0 + 1.2 * n), max(4.5, 2.0 + 0.5 * n))
        )
        label = (
            f"log10 median final {cp.metric}" if log else f"median final {cp.metric}"
        )
        panels = (
            (z, "viridis_r" if log else "viridis", None, label),
            (pay, "coolwarm", (-lim or -1.0, lim or 1.0), "median V − V̂*"),
        )
        for ax, (data, cmap, limits, name) in zip(axes, panels, strict=True):
            vmin, vmax = limits if limits else (None, None)
            im = ax.imshow(data, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
            ax.set_xticks(range(n), cp.entrants, rotation=60, ha="right", fontsize=7)
            ax.set_yticks(range(n), cp.entrants, fontsize=7)
            ax.set_xlabel("discriminator rule")
            ax.set_ylabel("generator rule")
            for i in range(n):
                for j in range(n):
                    ax.text(
                        j, i, f"{data[i, j]:.2g}", ha="center", va="center", fontsize=6
                    )
            fig.colorbar(im, ax=ax, label=name)
        fig.suptitle(f"cross-play: {cp.game} ({cp.ruleset})")
        name = safe_name(f"{cp.ruleset}_{cp.game}")
        out.append(_save(plt, fig, folder / f"cross_play_{name}.png"))
    return out


def performance_profiles(profiles: dict[str, Profile], folder: Path) -> Path:
    """Dolan–Moré profiles of the cost to target, one panel per ruleset."""
    plt = _plt()
    fig, axes = plt.subplots(
        1, len(profiles), figsize=(6.4 * len(profiles), 4.2), squeeze=False
    )
    for ax, (ruleset, p) in zip(axes[0], profiles.items(), strict=True):
        for k, (e, rho) in enumerate(p.rho.items()):
            ax.step(
                p.taus,
                rho,
                where="post",
                color=f"C{k % 10}",
                label=f"{e} (area {p.area[e]:.2f})",
            )
        ax.set_xscale("log", base=2)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel("τ: cost within τ × the best entrant's cost")
        ax.set_ylabel(f"fraction of the {p.problems} problems solved")
        ax.set_title(f"ruleset {ruleset}")
        ax.legend(fontsize=7)
    return _save(plt, fig, folder / "performance_profile.png")


def samples(results: Results, folder: Path, *, progress: str = "none") -> list[Path]:
    """Generated samples per entrant for the games that draw themselves.

    Replays seed 0 of each self-play match of the last ruleset (exact: a match's seed
    depends only on its identity) with ``render_mode="rgb_array"``; each panel is
    titled with the entrant, the final round and the final quality metrics. Games
    that cannot render (no ``rgb_array``) are skipped. ``progress`` shows the
    replays (:func:`~gangames.tournament.progress.tracker`).
    """
    cfg = results.config
    ruleset = cfg.rulesets[-1]
    out: list[Path] = []
    replays = {
        g.label: [
            r
            for r in results.select("self_play", ruleset)
            if r["game"] == g.label
            and r["seed_index"] == 0
            and r["trajectory"] is not None
        ]
        for g in cfg.games
        if "rgb_array" in _render_modes(g.id)
    }
    bar = tracker(
        sum(map(len, replays.values())), f"{cfg.name}: sample replays", progress
    )
    for g in cfg.games:
        frames = []
        for r in replays.get(g.label, []):
            match = Match(
                r["match_id"],
                r["mode"],
                r["game"],
                r["generator"],
                r["discriminator"],
                r["seed_index"],
                r["seed"],
                r["ruleset"],
                r["hyperparameters"],
            )
            try:
                env, _ = play_match(cfg, match, render_mode="rgb_array")
                frame = env.render()
            except InvalidConfigError:
                break  # this version of the game cannot render: no sample plots
            bar.update()
            if frame is not None:
                m = r["metrics"]
                quality = "\n".join(
                    f"{k[len('final_') :]} {m[k][0]:.3g}"
                    for k in sorted(m)
                    if k.startswith("final_")
                    and k[len("final_") :] in _QUALITY
                    and isinstance(m[k], list)
                )
                title = f"{r['generator']} (round {m['steps']})\n{quality}"
                frames.append((title, np.asarray(frame)))
        if not frames:
            continue
        plt = _plt()
        from matplotlib.patches import Patch

        n = len(frames)
        cols = min(n, 4)
        rows = -(-n // cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(3.2 * cols, 3.9 * rows + 0.6), squeeze=False
        )
        for ax in axes.ravel():
            ax.axis("off")
        for ax, (title, img) in zip(axes.ravel(), frames, strict=False):
            ax.imshow(img)
            ax.set_title(title, fontsize=7)
        fig.legend(
            handles=[
                Patch(color="0.6", label="held-out data"),
                Patch(color="tab:blue", label="mode centres"),
                Patch(color="tab:red", label="generated samples"),
            ],
            loc="lower center",
            ncol=3,
            fontsize=8,
        )
        fig.suptitle(f"{g.label}: samples at the end of seed 0 ({ruleset})")
        out.append(_save(plt, fig, folder / f"samples_{safe_name(g.label)}.png"))
    bar.close()
    return out


_QUALITY = (
    "modes_covered",
    "high_quality_pct",
    "mode_kl",
    "classes_covered",
    "class_kl",
    "mmd2",
)


def _render_modes(game_id: str) -> tuple[str, ...]:
    return tuple(gangames.make_game(game_id).render_modes)
