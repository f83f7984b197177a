"""What the two PettingZoo adapters share: spaces, the match, render, small-env threads."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gymnasium
import numpy as np
import torch

from gangames.engine import Match
from gangames.envs.config import RENDER_MODES, EnvConfig
from gangames.envs.session import Session
from gangames.errors import UnknownAgentError
from gangames.estimators import EstimatorConfig
from gangames.game import Game
from gangames.oracle import Ledger, SeatOracle
from gangames.render import save_png as write_png
from gangames.types import SEATS, Seat

__all__ = ["SMALL", "EnvBase", "as_seat", "metadata", "one_thread_if_small"]

# Entries per round (B · (d_θ + d_φ)) up to which a CPU env computes on one thread:
# torch's intra-op threads only add overhead at this size (the README's DiracGAN
# snippet, B = 64, runs 1.6–5× faster on one thread on 2 cores), and tensors this
# small are below torch's parallel grain, so results are the same bit for bit.
SMALL = 1 << 14
_F = TypeVar("_F", bound=Callable[..., Any])


def one_thread_if_small(method: _F) -> _F:
    """Run ``method`` on one torch thread when the env is small (restored after)."""

    @functools.wraps(method)
    def wrapper(self: EnvBase, *args: Any, **kwargs: Any) -> Any:
        threads = torch.get_num_threads()
        if not self._one_thread or threads == 1:
            return method(self, *args, **kwargs)
        torch.set_num_threads(1)
        try:
            return method(self, *args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper  # type: ignore[return-value]


def as_seat(agent: Any) -> Seat:
    """``agent`` as a seat, or :class:`~gangames.errors.UnknownAgentError`."""
    if agent not in SEATS:
        raise UnknownAgentError(
            f"unknown agent {agent!r}; the agents are {list(SEATS)}"
        )
    return agent


def metadata(game: Game) -> dict[str, Any]:
    """An env's metadata: its game's render modes (``None`` aside) and its name."""
    return {
        **EnvBase.metadata,
        "render_modes": list(game.render_modes),
        "name": f"gangames_{type(game).__name__}",
    }


class EnvBase:
    """Methods both adapters share; the session does the work.

    Args:
        game: the game played.
        config: the env's options (defaults if ``None``).
    """

    # every mode some game draws; an instance lists its own game's (Gymnasium reads
    # the class's before it builds an env, PettingZoo's checkers the instance's)
    metadata: dict[str, Any] = {  # noqa: RUF012
        "render_modes": [m for m in RENDER_MODES if m is not None],
        "is_parallelizable": True,
    }

    def __init__(self, game: Game, config: EnvConfig | None = None) -> None:
        self._session = Session(game, config or EnvConfig())
        cfg = self._session.config
        entries = (cfg.batch or 1) * sum(game.dim(s) for s in SEATS)
        self._one_thread = torch.device(cfg.device).type == "cpu" and entries <= SMALL
        self.metadata = metadata(game)

    @property
    def game(self) -> Game:
        """The game being played."""
        return self._session.game

    @property
    def config(self) -> EnvConfig:
        """The environment options."""
        return self._session.config

    @property
    def render_mode(self) -> str | None:
        return self._session.config.render_mode

    def observation_space(self, agent: str) -> gymnasium.spaces.Dict:
        """The (cached) observation space of ``agent``."""
        return self._session.boundary.observation_spaces[as_seat(agent)]

    def action_space(self, agent: str) -> gymnasium.spaces.Box:
        """The (cached) action space of ``agent``."""
        return self._session.boundary.action_spaces[as_seat(agent)]

    def oracle(self, seat: str) -> SeatOracle:
        """The seat-relative oracle of the current match (queries are charged)."""
        return self._session.require_match().oracle.view(as_seat(seat))

    @property
    def ledger(self) -> Ledger:
        """Oracle query counts of the current match."""
        return self._session.require_match().oracle.ledger

    @property
    def match(self) -> Match:
        """The current match (game, instance, oracle, state)."""
        return self._session.require_match()

    @property
    def estimator_config(self) -> EstimatorConfig | None:
        """Settings of the budgeted gap estimator (``None``: closed forms only)."""
        return self._session.estimator

    @property
    def gap_estimator(self) -> str:
        """How the gaps in the latest infos were obtained: ``"exact"``, or a label.

        Infos hold numbers only (``gap_lower_bound`` says whether the gaps are a
        budgeted estimate); this attribute carries the words.
        """
        return self._session.gap_estimator

    def declare_diverged(self, rows: torch.Tensor) -> None:
        """Mark instances ``rows`` (bool ``(B,)``) diverged: frozen, reported, truncated.

        For agents whose update became non-finite in some instances: the match records
        the divergence as an outcome instead of refusing the whole batched action.
        """
        self._session.declare_diverged(rows)

    def render(self) -> str | np.ndarray | None:
        """``"ansi"``: a line of metrics; ``"rgb_array"``: the game's image (H, W, 3).

        The image shows instance 0 (``uint8``); games list it in ``render_modes``.
        """
        return self._session.render()

    def save_png(self, path: str) -> Path:
        """Write the game's image of instance 0 (as ``rgb_array`` renders it) as PNG."""
        return write_png(self._session.render_rgb(), path)

    def close(self) -> None:
        """Nothing to release."""
