"""gangames: GAN min-max problems as two-player PettingZoo games.

Each registered game is a PettingZoo environment whose players are the generator
(θ, minimises V) and the discriminator (φ, maximises V); actions are parameter updates
and rewards are equilibrium gaps.

``import gangames`` loads the core only (games, oracle, engine, envs, metrics, the rule
protocol and the checkers), never :mod:`agents`. The layers that join games and
agents are imported by name: ``gangames.wrappers`` (Gymnasium views),
``gangames.training``, ``gangames.tournament`` and ``gangames.cli``.

Example:
    >>> import gangames
    >>> env = gangames.make("gangames/DiracGAN-v0", max_steps=5)
    >>> obs, infos = env.reset(seed=0)
    >>> sorted(obs)
    ['discriminator', 'generator']
"""

from __future__ import annotations

from gangames import forking as _forking  # noqa: F401  (one torch thread after fork)
from gangames import games as _games  # noqa: F401  (registers the built-in games)
from gangames import metrics, testing
from gangames.engine import Match, MatchState, apply_update, new_match
from gangames.envs import EnvConfig, GameAECEnv, GameParallelEnv
from gangames.errors import (
    InvalidActionError,
    InvalidConfigError,
    ResetNeededError,
    UnknownAgentError,
)
from gangames.game import Game, Mixed, ParamLayout, mixed
from gangames.oracle import Ledger, Oracle, SeatOracle
from gangames.registration import (
    make,
    make_game,
    names,
    preset,
    register,
    register_views,
    spec,
)
from gangames.types import SEATS, Seat

__version__ = "0.1.0"

__all__ = [
    "SEATS",
    "EnvConfig",
    "Game",
    "GameAECEnv",
    "GameParallelEnv",
    "InvalidActionError",
    "InvalidConfigError",
    "Ledger",
    "Match",
    "MatchState",
    "Mixed",
    "Oracle",
    "ParamLayout",
    "ResetNeededError",
    "Seat",
    "SeatOracle",
    "UnknownAgentError",
    "__version__",
    "apply_update",
    "make",
    "make_game",
    "metrics",
    "mixed",
    "names",
    "new_match",
    "preset",
    "register",
    "register_views",
    "spec",
    "testing",
]

# Single-agent Gymnasium views of every registered game's seats, registered by import
# string: gangames.wrappers (and the agents it plays against) loads on gymnasium.make.
register_views()
