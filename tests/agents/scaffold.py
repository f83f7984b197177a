"""What the agent tests share: float64 tensor envs, given starts, distance curves."""

from __future__ import annotations

import numpy as np
import torch

import gangames
from gangames.rules import Observation

F64 = torch.float64


def make_env(game_id: str, steps: int, **options):
    """A float64, tensor-mode env of ``steps`` rounds (``options`` go to the game/env)."""
    return gangames.make(
        game_id, max_steps=steps, dtype="float64", tensor=True, **options
    )


def start(theta: list[float], phi: list[float]) -> dict:
    """``reset`` options that start the match from the given parameters."""
    return {
        "params": {
            "generator": torch.tensor(theta, dtype=F64),
            "discriminator": torch.tensor(phi, dtype=F64),
        }
    }


def distances(infos: list[dict]) -> torch.Tensor:
    """The per-round distance to the equilibrium set, ``(rounds, B)``."""
    return torch.stack([torch.as_tensor(i["distance"]) for i in infos])


def series(infos: list[dict], key: str = "duality_gap") -> np.ndarray:
    """The per-round values of ``infos[·][key]`` as an array ``(rounds, B)``."""
    return np.array([np.asarray(i[key]) for i in infos])


def observation(own, opponent, gradient, opponent_gradient, step: int = 0):
    """A hand-made :class:`~gangames.rules.Observation` (zero value and progress)."""
    b = own.shape[0]
    return Observation(
        own=own,
        opponent=opponent,
        gradient=gradient,
        opponent_gradient=opponent_gradient,
        value=torch.zeros(b, dtype=own.dtype),
        progress=torch.zeros(b, dtype=own.dtype),
        step=step,
    )
