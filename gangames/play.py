"""Bind update rules to environment seats and play whole matches.

The match loop belongs to the game side: it needs only the rule protocol
(:mod:`gangames.rules`) and the envs, so :mod:`agents` re-exports it
(``agents.play``, ``agents.SeatAgent``, ``agents.env_for``) without a back-edge.

:class:`SeatAgent` makes a rule usable in a plain PettingZoo loop; :func:`play` does
exactly that (or the AEC loop for sequential envs) and returns the trajectory of infos,
one per round.

An update with non-finite entries in some instances is not sent to the env (which would
refuse it): those instances are declared diverged — the match records the divergence
as an outcome — and receive a zero update.

Example:
    >>> import agents, gangames
    >>> env = gangames.make("gangames/Bilinear-v0", max_steps=3)
    >>> solver = agents.make("extragradient", lr=0.1)
    >>> obs, infos = env.reset(seed=0)
    >>> seats = {s: SeatAgent(solver.rule(s), s) for s in env.possible_agents}
    >>> for agent in seats.values():
    ...     agent.reset(env)
    >>> while env.agents:
    ...     obs, *_ = env.step({s: seats[s].act(obs[s]) for s in env.agents})
    >>> env.match.state.step
    3
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gangames.envs import GameAECEnv, GameParallelEnv
from gangames.errors import InvalidConfigError
from gangames.random import Stream
from gangames.registration import make
from gangames.rules import Observation, Solver, UpdateRule
from gangames.types import SEATS, Seat

__all__ = [
    "SeatAgent",
    "check_order",
    "env_for",
    "guard_finite",
    "observation_of",
    "play",
    "seat_start",
]

_SEAT_TAG = {"generator": 101, "discriminator": 202}


def seat_start(
    env: GameParallelEnv | GameAECEnv, seat: Seat
) -> tuple[torch.Tensor, Stream]:
    """What a seat's rule starts from after ``env.reset``: its parameters and stream.

    The stream is the match's own fork for the seat, so a rule's randomness depends
    only on the instance seeds (and never on the oracle's draws).
    """
    m = env.match
    own = m.state.theta if seat == "generator" else m.state.phi
    return own.clone(), m.oracle.stream.fork(_SEAT_TAG[seat])


def observation_of(
    env: GameParallelEnv | GameAECEnv, raw: dict[str, Any]
) -> Observation:
    """The env's observation dict as batched tensors on the env's device."""
    cfg = env.config

    def tensor(x: Any) -> torch.Tensor:
        t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.asarray(x))
        t = t.to(device=cfg.device, dtype=cfg.dtype)
        return t.unsqueeze(0) if cfg.batch is None else t

    return Observation(
        own=tensor(raw["own"]),
        opponent=tensor(raw["opponent"]),
        gradient=tensor(raw["gradient"]),
        opponent_gradient=tensor(raw["opponent_gradient"]),
        value=tensor(raw["value"])[..., 0],
        progress=tensor(raw["progress"])[..., 0],
        step=env.match.state.step,
    )


def guard_finite(
    env: GameParallelEnv | GameAECEnv, delta: torch.Tensor
) -> torch.Tensor:
    """``delta`` with non-finite rows zeroed and their instances declared diverged.

    A diverging update is a recorded outcome, not a refused action. The adapter (not
    the rule) may synchronise: it is the boundary.
    """
    bad = ~torch.isfinite(delta).all(dim=-1)
    if bool(bad.any()):
        env.declare_diverged(bad)
        delta = torch.where(bad[:, None], torch.zeros_like(delta), delta)
    return delta


class SeatAgent:
    """A rule playing one seat of one environment.

    Args:
        rule: the update rule.
        seat: ``"generator"`` or ``"discriminator"``.
    """

    def __init__(self, rule: UpdateRule, seat: Seat) -> None:
        if seat not in SEATS:
            raise ValueError(f"unknown seat {seat!r}; expected one of {SEATS}")
        self.rule = rule
        self.seat = seat
        self.state: Any = None
        self._env: GameParallelEnv | GameAECEnv | None = None

    def reset(self, env: GameParallelEnv | GameAECEnv) -> None:
        """Initialise the rule's state from the env's current match (after ``env.reset``)."""
        self.state = self.rule.init(*seat_start(env, self.seat))
        self._env = env

    def observation(self, observation: dict[str, Any]) -> Observation:
        """The env's observation of this seat as batched tensors on the env's device."""
        return observation_of(self._require_env(), observation)

    def act(self, observation: dict[str, Any]) -> Any:
        """One update, as an action in the env's format (numpy or tensor)."""
        env = self._require_env()
        obs = self.observation(observation)
        delta, self.state = self.rule.update(obs, self.state, env.oracle(self.seat))
        delta = guard_finite(env, delta.detach().to(dtype=env.config.dtype))
        if env.config.max_update is not None:
            delta = delta.clamp(-env.config.max_update, env.config.max_update)
        if env.config.batch is None:
            delta = delta[0]
        return delta if env.config.tensor else delta.cpu().numpy()

    def _require_env(self) -> GameParallelEnv | GameAECEnv:
        if self._env is None:
            raise RuntimeError(
                f"{self.seat}: call reset(env) after env.reset() before act()"
            )
        return self._env


def env_for(
    game_id: str, solver: Solver, **options: Any
) -> GameParallelEnv | GameAECEnv:
    """The env of ``game_id`` in the move order ``solver`` is built for.

    Example:
        >>> import agents
        >>> env = env_for("gangames/Quadratic-v0", agents.make("proximal"))
        >>> env.possible_agents[0]
        'discriminator'
    """
    if solver.order == "sequential":
        options = {"order": "sequential", "first": solver.first, **options}
    return make(game_id, **options)


def check_order(env: GameParallelEnv | GameAECEnv, solver: Solver) -> None:
    """Refuse to play a sequential solver in an env of another move order.

    A sequential solver's rules rely on seeing the first mover's update (proximal
    training's generator reads the critic's inner solution off its move), so it must
    sit in the AEC env with its own first mover. Simultaneous solvers play anywhere:
    in the sequential env they become their alternating versions.

    Raises:
        InvalidConfigError: naming the solver, the order it needs and the env's.
    """
    if solver.order != "sequential":
        return
    if isinstance(env, GameAECEnv) and env.config.first == solver.first:
        return
    have = (
        "simultaneous"
        if isinstance(env, GameParallelEnv)
        else f"sequential, {env.config.first} first"
    )
    raise InvalidConfigError(
        f"solver {solver.name!r} plays the sequential env with the {solver.first} "
        f"first, got a {have} env; build it with "
        f'gangames.make(id, order="sequential", first="{solver.first}")'
    )


def play(
    env: GameParallelEnv | GameAECEnv,
    solver: Solver,
    *,
    seed: int | list[int] | None = None,
    options: dict | None = None,
) -> list[dict[str, Any]]:
    """Play one match of ``solver`` (one rule per seat) on ``env`` until it ends.

    Args:
        env: a gangames env (parallel or sequential).
        solver: the rules of both seats.
        seed: passed to ``env.reset``.
        options: passed to ``env.reset`` (e.g. initial parameters).

    Returns:
        The generator's info dict after reset and after every round (both seats moved).
    """
    check_order(env, solver)
    seats = {seat: SeatAgent(solver.rule(seat), seat) for seat in SEATS}
    if isinstance(env, GameParallelEnv):
        obs, infos = env.reset(seed=seed, options=options)
        for agent in seats.values():
            agent.reset(env)
        trajectory = [infos["generator"]]
        while env.agents:
            actions: dict[str, Any] = {
                s: seats[s].act(obs[s]) for s in SEATS if s in env.agents
            }
            obs, _, _, _, infos = env.step(actions)
            trajectory.append(infos["generator"])
        return trajectory
    env.reset(seed=seed, options=options)
    for agent in seats.values():
        agent.reset(env)
    trajectory = [dict(env.infos["generator"])]
    second = env.possible_agents[1]
    for agent in env.agent_iter():
        obs, _, terminated, truncated, _ = env.last()
        if terminated or truncated:
            env.step(None)
            continue
        env.step(seats[agent].act(obs))  # type: ignore[index]
        if agent == second:
            trajectory.append(dict(env.infos["generator"]))
    return trajectory
