"""The RL-facing format: one flat, bounded ``Box`` per seat (``flat=True``).

The envs observe a ``Dict`` of fields and act on an update ``Box`` that is unbounded
unless ``max_update`` is set (:mod:`gangames.envs`). Most RL clients need less
structure and more bounds: Stable-Baselines3's ``MlpPolicy`` and SuperSuit's wrappers
(``flatten_v0``, ``dtype_v0``, ``normalize_obs_v0``, ``frame_stack_v1``,
``pad_observations_v0``) refuse a ``Dict``, and SB3 and TorchRL's ``TanhNormal`` need
finite action bounds. ``gangames.make(id, flat=True)`` (and
``pettingzoo.make("parallel" | "aec", id, flat=True)``) wraps the env in
:class:`FlatParallelEnv` or :class:`FlatAECEnv`:

=====================  ==========================================================
Observation            ``Box(n)`` (``(B, n)`` batched), ``n = 2·(d_own + d_opp) + 2``,
                       the Dict's fields concatenated in this order:
                       ``own`` (d_own), ``opponent`` (d_opp), ``gradient`` (d_own),
                       ``opponent_gradient`` (d_opp), ``value`` (1, V itself, not
                       seat-relative), ``progress`` (1, in ``[0, 1]``); unbounded but
                       for ``progress``, or clipped to ``±clip_observations`` when
                       that is given (NaN becomes 0), with those finite bounds.
                       ``env.layout[seat]`` maps each field to its ``slice``;
                       :func:`unflatten` rebuilds the Dict
Action                 ``Box(−max_update, max_update, (d_own,))``: the update Δ, as in
                       the Dict env; out-of-box actions are refused unless
                       ``clip_actions=True``
Rewards, infos         unchanged (infos hold numbers only)
=====================  ==========================================================

Both seats observe ``n = 2·(d_θ + d_φ) + 2`` numbers with the same bounds, so their
observation spaces are equal, as PettingZoo's SB3 recipe
(``supersuit.pettingzoo_env_to_vec_env_v1``) requires. Their action spaces differ where
``d_θ ≠ d_φ`` (GaussianWGAN, NonRealizableGAN, the neural games): pad them with
SuperSuit's ``pad_action_space_v0``, which drops the padding before the env sees it.
SuperSuit's ``normalize_obs_v0`` rescales by the bounds, so it needs
``clip_observations=`` (e.g. ``100.0``, the views' ``clip``); its other wrappers take the
unbounded box. A policy shared by both seats (that recipe trains one) tells them apart by the sign
conventions of ``gradient`` (each seat's own loss) or by SuperSuit's
``agent_indicator_v0``.

**The default bound.** ``max_update`` defaults to a tenth of the game's natural scale,
the ``init_scale`` its initial parameters are drawn at (the scale of a mixed game's base
game): an update moves a parameter by at most a tenth of its typical size, as the
views' ``max_update = 0.1`` does on unit-scale games. Built-in games:

=======================================  ===========  =============================
game                                     init_scale   default ``max_update``
=======================================  ===========  =============================
Bilinear, Quadratic, NoNashQuadratic,    1            0.1
NonRealizableGAN, DiracGAN,
CovarianceGAN, GaussianWGAN
CirclePursuit                            π            0.1·π ≈ 0.314
DigitsGAN, MixtureGAN                    none         required: pass ``max_update``
=======================================  ===========  =============================

A game without an ``init_scale`` (the neural games, whose weights have no single
scale; third-party games) needs ``max_update=`` and is refused with a message saying so.

Example:
    >>> import gangames
    >>> env = gangames.make("gangames/GaussianWGAN-v0", flat=True, max_steps=3)
    >>> obs, infos = env.reset(seed=0)
    >>> obs["generator"].shape, env.observation_space("discriminator").shape
    ((8,), (8,))
    >>> env.layout["generator"]["gradient"], env.action_space("generator").high
    (slice(3, 5, None), array([0.1, 0.1], dtype=float32))
    >>> sorted(unflatten(obs["generator"], env.layout["generator"]))[:2]
    ['gradient', 'opponent']
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import BaseParallelWrapper, BaseWrapper

from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.game import Game, Mixed
from gangames.types import SEATS, Seat, other

__all__ = [
    "FIELDS",
    "MAX_UPDATE_FRACTION",
    "FlatAECEnv",
    "FlatParallelEnv",
    "default_max_update",
    "flatten",
    "layout",
    "unflatten",
    "wrap",
]

FIELDS = ("own", "opponent", "gradient", "opponent_gradient", "value", "progress")
MAX_UPDATE_FRACTION = 0.1  # the default bound, as a fraction of the game's init_scale


def default_max_update(game: Game) -> float | None:
    """The default action bound: ``0.1·init_scale`` (``None``: the game has no scale).

    Example:
        >>> import gangames
        >>> round(default_max_update(gangames.make_game("gangames/CirclePursuit-v0")), 4)
        0.3142
    """
    base = game.base if isinstance(game, Mixed) else game
    scale = getattr(base, "init_scale", None)
    if (
        isinstance(scale, (int, float))
        and not isinstance(scale, bool)
        and math.isfinite(scale)
        and scale > 0
    ):
        return MAX_UPDATE_FRACTION * float(scale)
    return None


def require_max_update(game_id: str, game: Game) -> float:
    """:func:`default_max_update`, or a clear error asking for ``max_update``."""
    bound = default_max_update(game)
    if bound is None:
        raise InvalidConfigError(
            f"{game_id}: flat=True needs a finite action bound, and "
            f"{type(game).__name__} has no natural scale (no init_scale field): "
            "pass max_update=<largest update per entry>, e.g. max_update=0.01"
        )
    return bound


def layout(game: Game, seat: Seat) -> dict[str, slice]:
    """Where each field lies in ``seat``'s flat observation (:data:`FIELDS` order).

    Example:
        >>> import gangames
        >>> game = gangames.make_game("gangames/NonRealizableGAN-v0")  # d = 1, 2
        >>> layout(game, "discriminator")["opponent"]
        slice(2, 3, None)
    """
    d_own, d_opp = game.dim(seat), game.dim(other(seat))
    sizes = (d_own, d_opp, d_own, d_opp, 1, 1)
    out, start = {}, 0
    for name, size in zip(FIELDS, sizes, strict=True):
        out[name] = slice(start, start + size)
        start += size
    return out


def flatten(obs: Mapping[str, Any]) -> Any:
    """Concatenate a Dict observation's fields along the last axis (numpy or torch)."""
    parts = [obs[name] for name in FIELDS]
    if isinstance(parts[0], torch.Tensor):
        return torch.cat(parts, dim=-1)
    return np.concatenate(parts, axis=-1)


def unflatten(x: Any, slices: Mapping[str, slice]) -> dict[str, Any]:
    """The Dict observation of a flat one (views of ``x``, no copies)."""
    return {name: x[..., s] for name, s in slices.items()}


def _observation_space(
    space: gymnasium.spaces.Dict, clip: float | None
) -> gymnasium.spaces.Box:
    boxes: list[gymnasium.spaces.Box] = [space[name] for name in FIELDS]  # type: ignore[misc]
    low = np.concatenate([b.low for b in boxes], axis=-1)
    high = np.concatenate([b.high for b in boxes], axis=-1)
    if clip is not None:
        low, high = np.maximum(low, -clip), np.minimum(high, clip)
    return gymnasium.spaces.Box(low, high, dtype=boxes[0].dtype)  # type: ignore[arg-type]


def _clip(x: Any, bound: float) -> Any:
    if isinstance(x, torch.Tensor):
        return torch.nan_to_num(x, nan=0.0, posinf=bound, neginf=-bound).clamp(
            -bound, bound
        )
    return np.clip(
        np.nan_to_num(x, nan=0.0, posinf=bound, neginf=-bound), -bound, bound
    )


def _check(env: Any) -> None:
    cfg = env.config
    if cfg.max_update is None:
        raise InvalidConfigError(
            "the flat format needs a finite action bound: build the env with "
            "max_update=… (gangames.make(..., flat=True) sets a default where the "
            "game has a natural scale)"
        )


class _Flat:
    """What both flat wrappers share: spaces, the layout and the conversion."""

    env: Any

    def _setup(self, clip_observations: float | None) -> None:
        _check(self.env)
        checks.positive("clip_observations", clip_observations, allow_none=True)
        self.clip_observations = clip_observations
        game = self.env.game
        self.observation_spaces = {
            seat: _observation_space(
                self.env.observation_space(seat), clip_observations
            )
            for seat in SEATS
        }
        self.layout: dict[Seat, dict[str, slice]] = {
            seat: layout(game, seat) for seat in SEATS
        }

    def _flat(self, obs: Mapping[str, Any]) -> Any:
        x = flatten(obs)
        bound = self.clip_observations
        return x if bound is None else _clip(x, bound)

    def observation_space(self, agent: str) -> gymnasium.spaces.Box:
        """The flat observation ``Box`` of ``agent``."""
        self.env.observation_space(agent)  # validates the name
        return self.observation_spaces[agent]  # type: ignore[index]

    def action_space(self, agent: str) -> gymnasium.spaces.Box:
        """The bounded update ``Box`` of ``agent``."""
        return self.env.action_space(agent)


class FlatParallelEnv(_Flat, BaseParallelWrapper):
    """A parallel env with flat observations and bounded actions (see module doc).

    Attributes and methods not listed here (``game``, ``config``, ``oracle``,
    ``ledger``, ``gap_estimator``, ``agents``, …) are the wrapped env's.
    """

    def __init__(
        self, env: ParallelEnv, *, clip_observations: float | None = None
    ) -> None:
        super().__init__(env)
        self._setup(clip_observations)
        self.possible_agents = list(env.possible_agents)
        self.metadata = env.metadata

    @property
    def agents(self) -> list[str]:  # type: ignore[override]
        return self.env.agents

    @property
    def render_mode(self) -> str | None:  # type: ignore[override]
        return self.env.render_mode

    def reset(self, seed: Any = None, options: dict | None = None):  # type: ignore[override]
        """As the wrapped env's, with flat observations."""
        obs, infos = self.env.reset(seed=seed, options=options)
        return {a: self._flat(o) for a, o in obs.items()}, infos

    def step(self, actions: Mapping[str, Any]):  # type: ignore[override]
        """As the wrapped env's, with flat observations."""
        obs, rewards, terminations, truncations, infos = self.env.step(actions)
        flat = {a: self._flat(o) for a, o in obs.items()}
        return flat, rewards, terminations, truncations, infos


class FlatAECEnv(_Flat, BaseWrapper):
    """An AEC env with flat observations and bounded actions (see module doc).

    Attributes and methods not listed here (``game``, ``config``, ``oracle``,
    ``rewards``, ``agent_selection``, …) are the wrapped env's.
    """

    def __init__(self, env: AECEnv, *, clip_observations: float | None = None) -> None:
        super().__init__(env)
        self._setup(clip_observations)
        self.possible_agents = list(env.possible_agents)
        self.metadata = env.metadata

    @property
    def render_mode(self) -> str | None:  # type: ignore[override]
        return self.env.render_mode

    def observe(self, agent: str) -> Any:
        """The flat observation of ``agent`` (its gradient is charged to it)."""
        return self._flat(self.env.observe(agent))


def wrap(
    env: Any, *, clip_observations: float | None = None
) -> FlatParallelEnv | FlatAECEnv:
    """The flat form of a gangames env (parallel or AEC).

    Args:
        env: an env of :func:`gangames.make` with a finite ``max_update``.
        clip_observations: clip observations to ``±clip_observations`` and give the
            box these finite bounds (``None``: unbounded, unclipped).
    """
    if isinstance(env, ParallelEnv):
        return FlatParallelEnv(env, clip_observations=clip_observations)
    if isinstance(env, AECEnv):
        return FlatAECEnv(env, clip_observations=clip_observations)
    raise InvalidConfigError(
        f"expected a gangames parallel or AEC env, got {type(env).__name__}"
    )
