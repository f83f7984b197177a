"""The record of one round: a point of play and everything computed there, once.

Every change of the match's state opens a new :class:`Round` (in simultaneous play one
per round; in sequential play the first mover's update opens the record of the point
the second mover sees, and the second update the record of the next round). What the
env derives from that point is computed at most once and kept on the record:

* ``observations`` — each seat's observation, made (and charged) when first asked for;
  a joint pass makes both from one backward pass;
* ``value`` — V of the latest observation pass here (in stochastic games the minibatch
  estimate: the payoff the round realized), the ``value`` column of both observations;
* ``exact`` — ``(V, ∇_θL_G, ∇_φL_D)`` of the exact game when that pass was exact (a
  deterministic game without gradient noise), which the metrics reuse;
* ``metrics`` — every gap and distance, shared by the rewards, the infos and the ansi
  render;
* ``costs`` — each seat's oracle cost when the round closed, shared by the infos and
  the budget;
* ``any_diverged`` — whether any instance is diverged at this point, read once when
  the updates were applied (the round's one host read), which the end-of-episode
  check reuses.

A new state means a new record, so nothing computed at an old point can leak into a
new one: there is no cache to invalidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from gangames.engine import MatchState
from gangames.metrics import Metrics
from gangames.types import Seat

__all__ = ["Observation", "Round", "observation"]

Observation = dict[str, torch.Tensor]
"""One seat's observation tensors, each ``(B, ·)``: see :mod:`gangames.envs`."""


@dataclass(slots=True)
class Round:
    """A point of play and what the env computed there (see the module docstring)."""

    state: MatchState
    observations: dict[Seat, Observation] = field(default_factory=dict)
    value: torch.Tensor | None = None  # (B,) V of the latest observation pass here
    exact: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
    metrics: Metrics | None = None
    costs: dict[Seat, float] | None = None
    any_diverged: bool | None = None  # read from the state's flags; None: not read


def observation(
    own: torch.Tensor,
    opponent: torch.Tensor,
    gradient: torch.Tensor,
    opponent_gradient: torch.Tensor,
    value: torch.Tensor,
    progress: torch.Tensor,
) -> Observation:
    """One seat's observation; gradients in the parameters' dtype.

    ``value`` and ``progress`` are the ``(B, 1)`` columns, the same tensors for both
    seats.
    """
    dtype = own.dtype
    return {
        "own": own,
        "opponent": opponent,
        "gradient": gradient if gradient.dtype == dtype else gradient.to(dtype),
        "opponent_gradient": opponent_gradient
        if opponent_gradient.dtype == dtype
        else opponent_gradient.to(dtype),
        "value": value,
        "progress": progress,
    }
