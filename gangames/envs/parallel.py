"""The simultaneous-move PettingZoo adapter: both updates at once, one record a round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pettingzoo import ParallelEnv

from gangames.envs.adapter import EnvBase, one_thread_if_small
from gangames.envs.config import EnvConfig
from gangames.errors import InvalidActionError, ResetNeededError, UnknownAgentError
from gangames.game import Game
from gangames.types import SEATS

__all__ = ["GameParallelEnv"]


class GameParallelEnv(EnvBase, ParallelEnv):
    """Simultaneous-move PettingZoo environment of a :class:`~gangames.game.Game`.

    Build it with :func:`gangames.make`. See :mod:`gangames.envs` for spaces,
    rewards and infos.
    """

    def __init__(self, game: Game, config: EnvConfig | None = None) -> None:
        EnvBase.__init__(self, game, config)
        self.possible_agents = list(SEATS)
        self.agents: list[str] = []

    @one_thread_if_small
    def reset(
        self, seed: int | Sequence[int] | None = None, options: dict | None = None
    ):
        """Sample instances and initial parameters; returns ``(observations, infos)``."""
        s = self._session
        s.reset(seed, options)
        self.agents = list(SEATS)
        obs = s.observe_both()
        info = s.info(s.metrics())
        return (
            s.boundary.export_observations(obs),
            {seat: dict(info) for seat in SEATS},
        )

    @one_thread_if_small
    def step(self, actions: Mapping[str, Any]):
        """Apply both updates at once; returns the five PettingZoo dicts."""
        s = self._session
        if s.match is None or not self.agents:
            raise ResetNeededError(
                "call reset() before step(); the episode has ended"
                if s.match
                else "call reset() before step()"
            )
        if not isinstance(actions, Mapping):
            raise InvalidActionError(
                f"actions must be a dict keyed by agent, got {type(actions).__name__}"
            )
        if len(actions) != 2 or set(actions) != set(SEATS):
            unknown = set(actions) - set(SEATS)
            if unknown:
                raise UnknownAgentError(
                    f"unknown agent(s) {sorted(unknown)}; the agents are {list(SEATS)}"
                )
            raise UnknownAgentError(
                f"missing action for {sorted(set(SEATS) - set(actions))}; "
                "simultaneous play needs both seats"
            )
        b = s.boundary
        s.apply(b.to_tensors(actions), round_done=True)
        obs = s.observe_both()
        out = s.close_round()
        result = (
            b.export_observations(obs),
            {seat: b.export(out.rewards[seat]) for seat in SEATS},
            dict.fromkeys(SEATS, False),
            dict.fromkeys(SEATS, out.done),
            {seat: dict(out.info) for seat in SEATS},
        )
        if out.done:
            self.agents = []
        return result
