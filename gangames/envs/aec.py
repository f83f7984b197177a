"""The sequential-move PettingZoo adapter: the first mover's update, then the other's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from pettingzoo import AECEnv

from gangames.envs.adapter import EnvBase, as_seat, one_thread_if_small
from gangames.envs.config import EnvConfig
from gangames.errors import ResetNeededError
from gangames.game import Game
from gangames.types import SEATS, other

__all__ = ["GameAECEnv"]


class GameAECEnv(EnvBase, AECEnv):
    """Sequential-move PettingZoo environment of a :class:`~gangames.game.Game`.

    The first mover (``first``, the generator by default) moves; its update is
    applied at once, and the other seat then observes the new point and moves. A round
    is both moves; rewards are given at the end of each round (zero after the first
    move), so the cumulative rewards match the parallel env's. In stochastic games the
    first mover's next observation is made (and charged) at the end of the round, as
    the parallel env makes both: its minibatch value is the round's realized payoff.
    """

    def __init__(self, game: Game, config: EnvConfig | None = None) -> None:
        AECEnv.__init__(self)
        EnvBase.__init__(self, game, config)
        first = self._session.config.first
        self.possible_agents = [first, other(first)]
        self.agents: list[str] = []

    @one_thread_if_small
    def reset(
        self, seed: int | Sequence[int] | None = None, options: dict | None = None
    ) -> None:
        """Sample instances and initial parameters; the first mover is selected."""
        s = self._session
        s.reset(seed, options)
        self.agents = list(self.possible_agents)
        self.agent_selection = self.agents[0]
        self._skip_agent_selection = None
        zero = s.boundary.export(
            torch.zeros(
                s.config.batch or 1, dtype=s.config.dtype, device=s.config.device
            )
        )
        self.rewards = dict.fromkeys(self.agents, zero)
        self._cumulative_rewards = dict.fromkeys(self.agents, zero)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        info = s.info(s.metrics())
        self.infos = {a: dict(info) for a in self.agents}

    @one_thread_if_small
    def observe(self, agent: str) -> dict[str, Any]:
        """Observation of ``agent`` at the current point (its gradient is charged to it)."""
        s = self._session
        return s.boundary.export_obs(s.observe(as_seat(agent)))

    @one_thread_if_small
    def step(self, action: Any) -> None:
        """Apply the selected agent's update; the other seat moves next."""
        s = self._session
        if s.match is None or not self.agents:
            raise ResetNeededError(
                "call reset() before step()"
                if s.match is None
                else "the episode has ended; call reset()"
            )
        agent = as_seat(self.agent_selection)
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        delta = s.boundary.to_tensors({agent: action})[agent]
        second = agent == self.possible_agents[1]
        s.apply({agent: delta}, round_done=second)
        self._cumulative_rewards[agent] = self.rewards[agent] * 0
        if second:
            if s.game.stochastic:
                # The first mover's next observation, made now (and charged now, as
                # the parallel env charges both at the end of its round): its value
                # is the round's realized payoff.
                s.observe(as_seat(self.possible_agents[0]))
            # The final observations (what last() hands out once the episode ends) are
            # made and charged in the round that ends it, and the budget counts them,
            # as in the parallel env: infos, env.ledger and the parallel env agree.
            pending = [p for p in SEATS if not s.observed(p)]
            done = s.truncated(pending)
            if done:
                for owed in pending:
                    s.observe(owed)
            mt = s.metrics()
            rew = s.rewards(mt)
            info = s.info(mt)
            for agent_ in self.agents:
                self.rewards[agent_] = s.boundary.export(rew[as_seat(agent_)])
                self.infos[agent_] = dict(info)
                self.truncations[agent_] = done
        else:
            for agent_ in self.agents:
                self.rewards[agent_] = self.rewards[agent_] * 0
        self.agent_selection = (
            self.possible_agents[1] if not second else self.possible_agents[0]
        )
        self._accumulate_rewards()
