"""PNG plots of a tournament (matplotlib, Agg backend, reproducible bytes).

Every figure is saved with ``metadata={"Software": None}`` (no version stamp) from
inputs in a fixed order, so regenerating a report gives byte-identical files.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gangames.errors import InvalidConfigError
from gangames.tournament.match import decode_trajectory, play_match
from gangames.tournament.schedule import Match

__all__ = ["cross_play_heatmaps", "gap_curves", "performance_profile", "samples"]

_SAVE = {"dpi": 100, "metadata": {"Software": None}}
GRID = 101  # points of the common grids: oracle calls (gap plots) and profile τ


def _safe(label: str) -> str:
    """``label`` as a file-name part, distinct for distinct labels.

    A label of letters, digits and ``-_.`` is kept as it is; any other has the rest
    replaced by ``_`` and ``+`` with 12 hex digits of its SHA-256 appended. A kept
    label has no ``+``, so ``"a b"`` (``a_b+…``) never meets ``"a_b"``.

    Example:
        >>> _safe("a_b"), _safe("a b")
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


def gap_curves(
    results: Any,
    folder: Path,
    band: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> list[Path]:
    """Per game: a band of log10 gap against oracle calls per seat, per entrant.

    ``band(runs (n, T)) -> (point, low, high)`` (the report passes the IQM with its
    95 % bootstrap interval).

    Each self-play run's curve is interpolated onto a common grid of oracle calls
    (0 … budget). A diverged run's curve is what the env reported (its parameters
    frozen at divergence), capped to [1e-12, 1e12] so the log scale stays finite.
    """
    plt = _plt()
    cfg = results.config
    grid = np.linspace(0.0, cfg.budget, GRID)
    curves: dict[str, dict[str, list[np.ndarray]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for r in results.mode("self_play"):
        if r["trajectory"] is None:
            continue
        calls, curve = decode_trajectory(r["trajectory"])
        curve = np.clip(np.nan_to_num(curve, nan=1e12, posinf=1e12), 1e-12, 1e12)
        logs = np.log10(curve)
        for b in range(logs.shape[1]):
            curves[r["game"]][r["generator"]].append(np.interp(grid, calls, logs[:, b]))
    out = []
    for g in [g.label for g in cfg.games]:
        if g not in curves:
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        for k, e in enumerate([e.label for e in cfg.entrants]):
            runs = curves[g].get(e)
            if not runs:
                continue
            point, low, high = band(np.stack(runs))
            color = f"C{k % 10}"
            ax.plot(grid, 10**point, color=color, label=e, lw=1.5)
            ax.fill_between(grid, 10**low, 10**high, color=color, alpha=0.2, lw=0)
        ax.set_yscale("log")
        ax.set_xlabel("oracle calls per seat (gradient-equivalents)")
        ax.set_ylabel("duality gap (IQM, 95 % CI)")
        ax.set_title(g)
        ax.legend(fontsize=7, ncol=2)
        out.append(_save(plt, fig, folder / f"gap_{_safe(g)}.png"))
    return out


def cross_play_heatmaps(crosses: list[Any], folder: Path) -> list[Path]:
    """Cross-play heat maps per game, generator rule × discriminator rule.

    Left: log10 median final gap; right: median payoff relative to the game value,
    ``V − V̂*``.
    """
    plt = _plt()
    out = []
    for cp in crosses:
        n = len(cp.entrants)
        with np.errstate(all="ignore"):
            z = np.log10(
                np.clip(np.nan_to_num(cp.gap, nan=1e12, posinf=1e12), 1e-12, 1e12)
            )
        pay = np.asarray(cp.payoff, dtype=np.float64)
        lim = float(np.nanmax(np.abs(pay))) if np.isfinite(pay).any() else 1.0
        fig, axes = plt.subplots(
            1, 2, figsize=(max(9.0, 3.0 + 1.2 * n), max(4.5, 2.0 + 0.5 * n))
        )
        panels = (
            (z, "viridis_r", None, "log10 median gap"),
            (pay, "coolwarm", (-lim or -1.0, lim or 1.0), "median V − V̂*"),
        )
        for ax, (data, cmap, limits, label) in zip(axes, panels, strict=True):
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
            fig.colorbar(im, ax=ax, label=label)
        fig.suptitle(f"cross-play: {cp.game}")
        out.append(_save(plt, fig, folder / f"cross_play_{_safe(cp.game)}.png"))
    return out


def performance_profile(
    profile: dict[str, np.ndarray], taus: np.ndarray, folder: Path
) -> Path:
    """Fraction of runs with score ≤ τ, per entrant."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for k, (e, frac) in enumerate(profile.items()):
        ax.step(taus, frac, where="post", color=f"C{k % 10}", label=e)
    ax.set_xlabel("τ: log10(final gap / initial gap)")
    ax.set_ylabel("fraction of runs with score ≤ τ")
    ax.legend(fontsize=7, ncol=2)
    return _save(plt, fig, folder / "performance_profile.png")


def samples(results: Any, folder: Path) -> list[Path]:
    """MixtureGAN samples per solver: replays seed 0 of each self-play match and renders.

    Active only for games whose id is ``…/MixtureGAN-v0`` and whose env renders
    ``render_mode="rgb_array"`` frames; otherwise nothing is written. Replaying is
    exact because a match's seed depends only on its identity.
    """
    cfg = results.config
    out: list[Path] = []
    for g in cfg.games:
        if not g.id.endswith("MixtureGAN-v0"):
            continue
        frames = []
        for r in results.mode("self_play"):
            if r["game"] != g.label or r["seed_index"] != 0 or r["trajectory"] is None:
                continue
            match = Match(
                r["match_id"],
                r["mode"],
                r["game"],
                r["generator"],
                r["discriminator"],
                r["seed_index"],
                r["seed"],
            )
            try:
                env, _ = play_match(
                    cfg, match, render_mode="rgb_array"
                )  # it completed before
                frame = env.render()
            except InvalidConfigError:
                break  # this version of the game cannot render: no sample plots
            if frame is not None:
                frames.append((r["generator"], np.asarray(frame)))
        if not frames:
            continue
        plt = _plt()
        n = len(frames)
        cols = min(n, 4)
        rows = -(-n // cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(3 * cols, 3 * rows), squeeze=False
        )
        for ax in axes.ravel():
            ax.axis("off")
        for ax, (name, img) in zip(axes.ravel(), frames, strict=False):
            ax.imshow(img)
            ax.set_title(name, fontsize=8)
        out.append(_save(plt, fig, folder / f"samples_{_safe(g.label)}.png"))
    return out
