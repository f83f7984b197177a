"""The batched match engine: state and step, independent of any RL API.

A match is B independent instances of one game played in lockstep. Its state is a
:class:`MatchState`; an update ``Δ`` of a seat is applied as

    θ ← Π_Θ(θ + Δθ),    φ ← Π_Φ(φ + Δφ)

(projection only where the game has a feasible set). Simultaneous play applies both
updates to the same state; sequential play applies one seat's update, after which the
other seat sees the new point.

Divergence is an outcome, not an error: an instance whose updated parameters are
non-finite, or whose norm exceeds the game's ``divergence_threshold``, is marked
diverged and frozen at its last finite state (its later updates are ignored), so the
other instances of the batch go on and a batch of B still equals B single runs up to
each instance's divergence.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from gangames.game import Game
from gangames.oracle import Oracle
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = [
    "Match",
    "MatchState",
    "apply_update",
    "freeze_diverged",
    "new_match",
    "proposed_state",
]


class MatchState(NamedTuple):
    """Parameters and bookkeeping of B instances in lockstep."""

    theta: torch.Tensor  # (B, d_G) generator parameters
    phi: torch.Tensor  # (B, d_D) discriminator parameters
    step: int  # completed rounds (both seats moved)
    diverged: torch.Tensor  # (B,) bool, frozen instances


class Match(NamedTuple):
    """Everything one match needs: the game, its instance, the oracle and the state."""

    game: Game
    instance: Instance
    oracle: Oracle
    state: MatchState


def new_match(
    game: Game,
    seeds: list[int],
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    params: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> Match:
    """Sample ``len(seeds)`` instances and their initial parameters.

    Instance ``b`` depends only on ``seeds[b]`` (keyed streams, see
    :mod:`gangames.random`): the problem data from fork 1, the initial parameters from
    fork 2, the oracle's minibatches and gradient noise from fork 3.

    Args:
        game: the game.
        seeds: one seed per instance.
        device: where every tensor lives.
        dtype: floating dtype of parameters and values.
        params: optional ``(θ0, φ0)`` of shapes ``(B, d)``; projected onto the feasible
            sets. Without it the game samples them.
    """
    stream = Stream.from_seeds(seeds, device=device)
    instance = game.sample_instance(stream.fork(1), dtype)
    if params is None:
        theta, phi = game.init_params(instance, stream.fork(2))
    else:
        theta, phi = params
    theta = game.project("generator", instance, theta.to(device=device, dtype=dtype))
    phi = game.project("discriminator", instance, phi.to(device=device, dtype=dtype))
    state = MatchState(
        theta=theta,
        phi=phi,
        step=0,
        diverged=torch.zeros(len(seeds), dtype=torch.bool, device=device),
    )
    return Match(game, instance, Oracle(game, instance, stream.fork(3)), state)


def apply_update(
    game: Game,
    instance: Instance,
    state: MatchState,
    deltas: dict[Seat, torch.Tensor],
) -> MatchState:
    """Apply the updates of one or both seats to the same state (projected, batched).

    Args:
        game: the game.
        instance: its instance.
        state: the current state.
        deltas: ``{"generator": Δθ, "discriminator": Δφ}`` or one of them.

    Returns:
        The new state (``step`` unchanged; the caller counts rounds). Instances whose
        new parameters explode are marked diverged and keep their old parameters:
        :func:`freeze_diverged` of :func:`proposed_state`.
    """
    return freeze_diverged(state, proposed_state(game, instance, state, deltas))


def proposed_state(
    game: Game,
    instance: Instance,
    state: MatchState,
    deltas: dict[Seat, torch.Tensor],
) -> MatchState:
    """The state after the updates, before diverged instances are frozen.

    Every instance gets its projected new parameters; ``diverged`` marks the instances
    that were diverged or whose new parameters are non-finite or have a norm beyond
    the game's ``divergence_threshold``. :func:`freeze_diverged` then puts their old
    parameters back. Where no instance is marked the freeze changes nothing, so a
    caller that reads ``diverged.any()`` anyway may skip it.

    Example:
        >>> import torch
        >>> from gangames.games.bilinear import Bilinear
        >>> m = new_match(Bilinear(dimension=1), [0, 1], dtype=torch.float64)
        >>> step = torch.tensor([[0.1], [float("inf")]], dtype=torch.float64)
        >>> proposed = proposed_state(m.game, m.instance, m.state, {"generator": step})
        >>> proposed.diverged.tolist()
        [False, True]
        >>> frozen = freeze_diverged(m.state, proposed)
        >>> bool(frozen.theta[1] == m.state.theta[1])
        True
    """
    new = {"generator": state.theta, "discriminator": state.phi}
    largest = None  # the largest new parameter norm per instance (NaN if any is)
    for seat, delta in deltas.items():
        new[seat] = game.project(seat, instance, new[seat] + delta)
        norm = torch.linalg.vector_norm(new[seat], dim=-1)
        largest = norm if largest is None else torch.maximum(largest, norm)
    if largest is None:
        return state
    # ``finite = largest <= t`` is False for NaN and inf entries too (NaN <= t is
    # False). An instance is diverged if it was, or if it is not finite now:
    # ``diverged | ~finite``, which on booleans is ``diverged >= finite`` (one kernel).
    bad = state.diverged >= (largest <= game.divergence_threshold)
    return MatchState(new["generator"], new["discriminator"], state.step, bad)


def freeze_diverged(old: MatchState, proposed: MatchState) -> MatchState:
    """``proposed`` with the instances it marks diverged back at ``old``'s parameters."""
    keep = proposed.diverged[:, None]
    theta, phi = proposed.theta, proposed.phi
    if theta is not old.theta:
        theta = torch.where(keep, old.theta, theta)
    if phi is not old.phi:
        phi = torch.where(keep, old.phi, phi)
    return MatchState(theta, phi, proposed.step, proposed.diverged)
