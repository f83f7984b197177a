"""Options of an environment, shared by both APIs (game options live on the game)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gangames import checks
from gangames.errors import InvalidConfigError, RenderModeError
from gangames.estimators import EstimatorConfig
from gangames.types import SEATS, Seat

__all__ = ["RENDER_MODES", "REWARDS", "EnvConfig"]

REWARDS = ("gap", "payoff", "proximal_gap")
RENDER_MODES = (None, "ansi", "rgb_array")
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class EnvConfig:
    """Options of an environment, shared by both APIs (game options live on the game).

    Args:
        batch: number of instances played in lockstep, at most
            :data:`~gangames.checks.MAX_BATCH`; ``None`` for one unbatched instance.
        device: torch device of every tensor (one this machine has).
        dtype: ``torch.float32`` (default) or ``torch.float64`` (also as strings).
        max_steps: rounds before truncation (``max_cycles`` is accepted as an alias,
            as PettingZoo's registry passes it).
        budget: oracle budget per seat in gradient-equivalents; ``None`` for none.
        reward: ``"gap"``, ``"payoff"`` or ``"proximal_gap"``.
        prox_lambda: λ of the proximal gap (penalty ``(λ/2)‖φ̃ − φ‖²``).
        tensor: observations, rewards and infos as torch tensors on ``device``.
        max_update: finite bound of the action boxes (``None``: unbounded).
        clip_actions: clip actions outside the action box into it (for clients that
            send unscaled actions: Tianshou, SuperSuit's ``clip_actions_v0``);
            ``False`` (default) refuses them. NaN and Inf are refused either way.
        first: first mover of the sequential (AEC) env.
        render_mode: ``None``, ``"ansi"`` (a line of metrics) or ``"rgb_array"`` (an
            image, for games that draw themselves: ``game.render_rgb``).
        full_infos: compute every metric for ``infos`` each round; ``False`` computes
            only what the reward needs (plus the value, the oracle counts and the
            divergence flags) — for long tournaments where speed matters. In
            stochastic games the full ``value`` is V on the held-out evaluation set;
            the lean one is the observation pass's minibatch value (no extra pass).
        estimator: settings of the budgeted gap estimator
            (:class:`~gangames.estimators.EstimatorConfig` or a dict of its fields);
            ``None`` uses the defaults for games that estimate by default
            (``game.estimate_gaps``) and no estimator for the others.
        estimate_every: rounds between two gap estimates.
        quality_every: with lean infos, add the game's sample-quality metrics
            (``game.quality``: modes covered, classes covered, …) every
            ``quality_every`` rounds (and after reset); rounds in between carry none.
            ``None``: only full infos carry them.
    """

    batch: int | None = None
    device: str | torch.device = "cpu"
    dtype: Any = torch.float32
    max_steps: int = 1000
    budget: float | None = None
    reward: str = "gap"
    prox_lambda: float = 1.0
    tensor: bool = False
    max_update: float | None = None
    clip_actions: bool = False
    first: Seat = "generator"
    render_mode: str | None = None
    full_infos: bool = True
    estimator: Any = None
    estimate_every: int = 100
    quality_every: int | None = None

    def __post_init__(self) -> None:
        checks.batch("batch", self.batch, allow_none=True)
        checks.positive("max_steps", self.max_steps, integer=True)
        checks.positive("budget", self.budget, allow_none=True)
        checks.positive("prox_lambda", self.prox_lambda)
        checks.positive("max_update", self.max_update, allow_none=True)
        dtype = (
            _DTYPES.get(self.dtype, self.dtype)
            if isinstance(self.dtype, str)
            else self.dtype
        )
        if dtype not in (torch.float32, torch.float64):
            raise InvalidConfigError(
                f"dtype must be float32 or float64, got {self.dtype!r}"
            )
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "device", checks.device("device", self.device))
        if self.reward not in REWARDS:
            raise InvalidConfigError(
                f"reward must be one of {REWARDS}, got {self.reward!r}"
            )
        if not isinstance(self.clip_actions, bool):
            raise InvalidConfigError(
                f"clip_actions must be True or False, got {self.clip_actions!r}"
            )
        if self.first not in SEATS:
            raise InvalidConfigError(
                f"first must be one of {SEATS}, got {self.first!r}"
            )
        if self.render_mode not in RENDER_MODES:
            raise RenderModeError(
                f"render_mode must be one of {RENDER_MODES}, got {self.render_mode!r}"
            )
        checks.positive("estimate_every", self.estimate_every, integer=True)
        checks.positive(
            "quality_every", self.quality_every, integer=True, allow_none=True
        )
        if self.estimator is not None:
            object.__setattr__(self, "estimator", EstimatorConfig.of(self.estimator))

    @property
    def numpy_dtype(self) -> type:
        """NumPy dtype of the spaces."""
        return np.float32 if self.dtype == torch.float32 else np.float64
