"""Single-agent Gymnasium views of one seat, for single-agent RL libraries.

Stable-Baselines3 and most RL libraries are single-agent, so a learned agent trains on a
*view*: a Gymnasium env that plays one seat of a gangames game while the other seat is
played by a fixed opponent (any registered agent, a built-in direction rule, or a saved
policy). Views are registered for both seats of every registered game on
``import gangames``::

    env = gymnasium.make("gangames/DiracGAN-generator-v0", opponent="extragradient")
    env = gymnasium.make(
        "gangames/Bilinear-discriminator-v0",
        opponent="gda",
        opponent_kwargs={"lr": 0.05},
        mode="step_size",
        max_steps=200,
    )

The view plays the simultaneous (parallel) env with ``batch=None`` (one instance),
steps the opponent's rule itself (as :class:`gangames.play.SeatAgent` does) and returns
the seat's reward (by default minus its exploitability, :mod:`gangames.envs`; the
payoff ``∓V`` for games without closed-form best responses). Episodes
truncate at ``max_steps`` rounds, at the oracle ``budget``, or on divergence; they never
terminate. ``reset(seed=s)`` seeds the game instance, the initial point and (with a pool
of opponents) the opponent drawn for the episode.

**Spaces.** The observation is a flat ``Box`` of the controller's features, each
within ``±clip``; the ``progress`` feature's bounds are ``[0, 1]`` (the last feature in
mode ``update``, the first in the summary modes, which is how a plain SB3 zip tells its
mode to :func:`agents.learned.infer_metadata`). The action is a ``Box(−1, 1)``.

**Control modes and base rules** — what an action means, what the policy observes,
and which rules its action rescales or mixes — are :class:`~agents.control.ControlConfig`'s
options, documented in :mod:`agents.control`. For *opponents* a registered agent wins
over a built-in direction of the same name (``opponent="adam"`` is the registered Adam
if there is one).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
import torch

import agents
from agents.control import (
    DIRECTIONS,
    ControlConfig,
    Controller,
    ControlState,
    base_rule,
)
from agents.learned import sb3
from gangames.envs import EnvConfig, GameParallelEnv
from gangames.errors import (
    InvalidActionError,
    InvalidConfigError,
    ResetNeededError,
    UnexpectedKeywordError,
)
from gangames.play import SeatAgent, guard_finite, observation_of, seat_start
from gangames.registration import make, make_game
from gangames.rules import Observation, Solver, UpdateRule
from gangames.types import SEATS, Seat, other

__all__ = ["GameView", "resolve_opponent"]

_ENV_OPTIONS = frozenset(f.name for f in dataclasses.fields(EnvConfig)) | {"max_cycles"}


# ---- opponents ---------------------------------------------------------------------
def resolve_opponent(
    opponent: Any,
    seat: Seat,
    kwargs: Mapping[str, Any] | None = None,
    *,
    root: str | None = None,
    config: ControlConfig | None = None,
) -> UpdateRule:
    """The rule that plays ``seat`` for an opponent spec.

    Args:
        opponent: a registered agent name, a built-in direction name, the path of a
            saved policy (``.zip``), a :class:`~agents.Solver` or an
            :class:`~agents.UpdateRule`.
        seat: the seat the opponent plays.
        kwargs: the agent's hyperparameters (or the sb3 agent's options).
        root: saved policies must lie inside this folder, if given.
        config: options of built-in directions (their ``base_lr``).

    Raises:
        InvalidConfigError: unknown names, sequential solvers, refused files.
    """
    kwargs = dict(kwargs or {})
    if isinstance(opponent, UpdateRule):
        rule = opponent
    elif isinstance(opponent, Solver):
        if opponent.order != "simultaneous":
            raise InvalidConfigError(
                f"opponent {opponent.name!r} is a sequential solver; views play "
                "simultaneous moves"
            )
        rule = opponent.rule(seat)
    elif not isinstance(opponent, str) or not opponent:
        raise InvalidConfigError(
            f"opponent must be an agent name, a saved policy path, a Solver or an "
            f"UpdateRule, got {opponent!r:.80}"
        )
    elif opponent in agents.names():
        solver = agents.make(opponent, **kwargs)
        return resolve_opponent(solver, seat, root=root)
    elif opponent in DIRECTIONS:
        base = config or ControlConfig()
        lr = kwargs.pop("lr", base.base_lr)
        if kwargs:
            raise UnexpectedKeywordError.of(
                opponent, list(kwargs), "a built-in opponent takes only 'lr'"
            )
        cfg = ControlConfig(base_lr=lr)
        rule = base_rule(opponent, seat, cfg)
    elif opponent.endswith(".zip") or "/" in opponent or "\\" in opponent:
        opts = {"root": root, **kwargs}
        return resolve_opponent(sb3(opponent, **opts), seat)
    else:
        raise InvalidConfigError(
            f"unknown opponent {opponent!r}: expected a registered agent "
            f"{agents.names()}, a built-in direction {DIRECTIONS}, or the path of a "
            "saved policy (.zip)"
        )
    if rule.order != "simultaneous":
        raise InvalidConfigError(
            f"opponent rule {rule.name!r} is sequential; views play simultaneous moves"
        )
    return rule


# ---- the view ------------------------------------------------------------------------
class GameView(gymnasium.Env):
    """One seat of a gangames game as a single-agent Gymnasium env.

    Args:
        game_id: a registered game id (``"gangames/DiracGAN-v0"``).
        seat: ``"generator"`` or ``"discriminator"``.
        opponent: the other seat's player (see :func:`resolve_opponent`), or a
            non-empty list of them — a pool: each episode draws one uniformly with
            the env's seeded generator.
        opponent_kwargs: the opponent agent's hyperparameters.
        max_steps: rounds per episode.
        budget: oracle budget per seat (gradient-equivalents), ``None`` for none.
        reward: the env's reward (``"gap"``, ``"payoff"``, ``"proximal_gap"``);
            default ``"gap"`` where the game has closed-form best responses, else
            ``"payoff"``.
        device: torch device of the game.
        dtype: the game's floating dtype.
        root: saved-policy opponents must lie inside this folder, if given.
        render_mode: ``None`` or one of the game's ``render_modes`` (``"ansi"``: a
            line of metrics; ``"rgb_array"``: the game's image, where it draws
            itself). Another mode raises :class:`~gangames.errors.RenderModeError`,
            a ``TypeError`` too, on which SB3's ``make_vec_env`` builds the view
            without one.
        flat: accepted for symmetry with ``gangames.make(..., flat=True)``: a view
            always observes a flat, bounded ``Box`` (the controller's features, in
            ``update`` mode ``own``, ``opponent``, ``gradient``,
            ``opponent_gradient``, the own loss and ``progress``, each clipped to
            ``±clip``) and acts in ``Box(−1, 1)``; ``flat=False`` is refused.
        **game_kwargs: the game's own options (and ``particles``).

    The control options ``mode``, ``max_update``, ``control``, ``base``, ``bases``,
    ``base_kwargs``, ``base_lr``, ``multiplier_range``, ``temperature`` and ``clip``
    are the fields of :class:`ControlConfig`.
    """

    # every mode some game draws (Gymnasium reads it before building a view); an
    # instance lists its own game's
    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        game_id: str,
        seat: Seat,
        opponent: Any = "gradient",
        opponent_kwargs: Mapping[str, Any] | None = None,
        *,
        mode: str = "update",
        max_update: float = 0.1,
        control: str = "seat",
        base: str = "gradient",
        bases: Sequence[str] = ("gradient", "adam", "optimistic"),
        base_kwargs: Mapping[str, dict[str, Any]] | None = None,
        base_lr: float = 0.05,
        multiplier_range: float = 10.0,
        temperature: float = 3.0,
        clip: float = 100.0,
        max_steps: int = 100,
        budget: float | None = None,
        reward: str | None = None,
        device: str | torch.device = "cpu",
        dtype: Any = torch.float32,
        root: str | None = None,
        render_mode: str | None = None,
        flat: bool = True,
        **game_kwargs: Any,
    ) -> None:
        if flat is not True:
            raise InvalidConfigError(
                f"views always observe a flat Box (flat=True); got flat={flat!r}: "
                "for the Dict observation use gangames.make(game_id) instead"
            )
        if seat not in SEATS:
            raise InvalidConfigError(f"seat must be one of {SEATS}, got {seat!r}")
        self.game_id = game_id
        self.seat: Seat = seat
        self.render_mode = render_mode
        self.control = ControlConfig(
            mode=mode,
            max_update=max_update,
            control=control,
            base=base,
            bases=tuple(bases),
            base_kwargs=dict(base_kwargs or {}),
            base_lr=base_lr,
            multiplier_range=multiplier_range,
            temperature=temperature,
            clip=clip,
        )
        options = {
            "batch": None,
            "tensor": True,
            "device": device,
            "dtype": dtype,
            "max_steps": max_steps,
            "budget": budget,
            "full_infos": False,
            "render_mode": render_mode,
            **game_kwargs,
        }
        self.env: GameParallelEnv = make(  # type: ignore[assignment]
            game_id, reward=reward or _default_reward(game_id, game_kwargs), **options
        )
        self.metadata = {
            **GameView.metadata,
            "render_modes": list(self.env.game.render_modes),
        }
        layout = self.env.game.layouts()[seat]
        self.controller = Controller(
            self.control,
            seat,
            (len(layout.names), layout.size, self.env.game.dim(other(seat))),
        )
        self.opponents: list[UpdateRule] = []
        self._opponent_kwargs = dict(opponent_kwargs or {})
        self._root = root
        self.set_opponents(opponent)
        c = self.control.clip
        low = np.full(self.controller.observation_dim, -c, dtype=np.float32)
        high = np.full(self.controller.observation_dim, c, dtype=np.float32)
        # progress lies in [0, 1]: last in mode "update", first in the summary modes
        # (its place in a saved policy's space tells agents.learned the mode)
        at = -1 if self.control.mode == "update" else 0
        low[at], high[at] = 0.0, 1.0
        self.observation_space = gymnasium.spaces.Box(low, high, dtype=np.float32)
        self.action_space = gymnasium.spaces.Box(
            -1.0, 1.0, shape=(self.controller.action_dim,), dtype=np.float32
        )
        self._obs: Observation | None = None
        self._state: ControlState | None = None
        self._opponent_agent: Any = None

    def set_opponents(self, opponent: Any) -> None:
        """Replace the opponent (or the pool of opponents) from the next reset on."""
        # Solvers and rules are named tuples themselves: only plain sequences are pools
        pool = list(opponent) if type(opponent) in (list, tuple) else [opponent]
        if not pool:
            raise InvalidConfigError("the opponent pool is empty")
        self.opponents = [
            resolve_opponent(
                o,
                other(self.seat),
                self._opponent_kwargs,
                root=self._root,
                config=self.control,
            )
            for o in pool
        ]

    # ---- Gymnasium API ---------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``options`` are passed to the game env (``params``)."""
        super().reset(seed=seed)
        obs, infos = self.env.reset(seed=seed, options=options)
        pick = int(self.np_random.integers(len(self.opponents)))
        self._opponent_agent = SeatAgent(self.opponents[pick], other(self.seat))
        self._opponent_agent.reset(self.env)
        self._state = self.controller.init(*seat_start(self.env, self.seat))
        self._raw = obs
        self._obs = self._observation(obs[self.seat])
        info = self._info(infos[self.seat])
        info["opponent"] = self.opponents[pick].name
        return self._features(), info

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Play one round: this seat's decoded action and the opponent's update."""
        if self._obs is None or self._state is None or not self.env.agents:
            raise ResetNeededError(
                "call reset() before step()"
                if self._obs is None
                else "the episode has ended; call reset()"
            )
        a = np.asarray(action, dtype=np.float32)
        if a.shape != self.action_space.shape or not np.isfinite(a).all():
            raise InvalidActionError(
                f"{self.seat}: expected a finite action of shape "
                f"{self.action_space.shape}, got {a.shape}"
            )
        cfg = self.env.config
        oracle = self.env.oracle(self.seat)
        delta, self._state = self.controller.decode(
            torch.from_numpy(a)[None], self._obs, self._state, oracle
        )
        delta = guard_finite(self.env, delta.detach().to(dtype=cfg.dtype))
        opponent_delta = self._opponent_agent.act(self._raw[other(self.seat)])
        actions: dict[str, Any] = {
            self.seat: delta[0],
            other(self.seat): opponent_delta,
        }
        obs, rewards, _, truncations, infos = self.env.step(actions)
        self._raw = obs
        self._obs = self._observation(obs[self.seat])
        reward = float(rewards[self.seat])
        return (
            self._features(),
            reward,
            False,
            bool(truncations[self.seat]),
            self._info(infos[self.seat]),
        )

    def render(self) -> str | np.ndarray | None:
        """The game env's rendering (``None`` before the first reset or without a mode).

        ``"ansi"``: a line of metrics; ``"rgb_array"``: the game's image.
        """
        return self.env.render()

    # ---- helpers ---------------------------------------------------------------------
    def _observation(self, raw: Mapping[str, torch.Tensor]) -> Observation:
        return observation_of(self.env, dict(raw))

    def _features(self) -> np.ndarray:
        assert self._obs is not None and self._state is not None
        x = self.controller.features(self._obs, self._state, self.env.oracle(self.seat))
        return x[0].detach().cpu().numpy().astype(np.float32)

    @staticmethod
    def _info(info: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in info.items():
            if isinstance(v, torch.Tensor):
                out[k] = v.item() if v.dtype != torch.bool else bool(v)
            else:
                out[k] = v
        return out

    def metadata_json(self) -> dict[str, Any]:
        """What a saved policy needs to replay this view's controller."""
        return {
            "game_id": self.game_id,
            "seat": self.seat,
            "control": self.control.to_json(),
            "observation_dim": self.controller.observation_dim,
            "action_dim": self.controller.action_dim,
        }


def _default_reward(game_id: str, game_kwargs: Mapping[str, Any]) -> str:
    """``"gap"`` if the game declares closed-form best responses, else ``"payoff"``."""
    options = {
        k: v for k, v in game_kwargs.items() if k not in _ENV_OPTIONS | {"order"}
    }
    game = make_game(game_id, **options)
    return "gap" if game.capabilities.duality_gap else "payoff"
