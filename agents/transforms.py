"""Reusable chain pieces: step sizes, schedules, momentum, Adam, noise, projection.

Each factory returns a :class:`~agents.base.Transform`; compose them with
:func:`~agents.base.chain`. All are batched over ``(B, d)`` and free of host syncs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from agents.base import Observation, Transform
from gangames.oracle import SeatOracle
from gangames.random import Stream

__all__ = [
    "Schedule",
    "add_noise",
    "constant",
    "inverse_sqrt",
    "polynomial",
    "scale",
    "scale_by_adam",
    "scale_by_schedule",
    "trace",
]

Schedule = Callable[[int], float]
"""A step size as a function of the step count n (0-based)."""


def constant(value: float) -> Schedule:
    """``a_n = value``."""
    return lambda n: value


def inverse_sqrt(value: float) -> Schedule:
    """``a_n = value / √(n + 1)`` (Naganuma & Iiduka's diminishing rule)."""
    return lambda n: value / (n + 1) ** 0.5


def polynomial(value: float, power: float) -> Schedule:
    """``a_n = value · (n + 1)^(−power)`` (two-timescale rules use power 0.75)."""
    return lambda n: value * (n + 1) ** (-power)


def _stateless(params: torch.Tensor, stream: Stream) -> tuple:
    return ()


def scale(factor: float) -> Transform:
    """Multiply the direction by a constant (``scale(-lr)`` turns a gradient into Δ)."""

    def update(updates, state, obs, oracle):
        return factor * updates, state

    return Transform(_stateless, update)


def scale_by_schedule(schedule: Schedule, sign: float = -1.0) -> Transform:
    """Multiply the direction by ``sign · schedule(step)`` (the step is the round count)."""

    def update(updates, state, obs, oracle):
        return sign * schedule(obs.step) * updates, state

    return Transform(_stateless, update)


class TraceState(NamedTuple):
    """Momentum buffer."""

    velocity: torch.Tensor  # (B, d)


def trace(decay: float, nesterov: bool = False) -> Transform:
    """Heavy-ball momentum ``v ← decay·v + g`` (Nesterov: ``g + decay·v``)."""

    def init(params, stream):
        return TraceState(torch.zeros_like(params))

    def update(updates, state, obs, oracle):
        v = decay * state.velocity + updates
        return (updates + decay * v if nesterov else v), TraceState(v)

    return Transform(init, update)


class AdamState(NamedTuple):
    """Adam moments and step count."""

    mu: torch.Tensor  # (B, d) first moment
    nu: torch.Tensor  # (B, d) second moment
    steps: int


def scale_by_adam(b1: float = 0.5, b2: float = 0.999, eps: float = 1e-8) -> Transform:
    """Adam preconditioning (Kingma & Ba, 2015), bias-corrected; GAN default β1 = 0.5."""

    def init(params, stream):
        return AdamState(torch.zeros_like(params), torch.zeros_like(params), 0)

    def update(updates, state, obs, oracle):
        mu = b1 * state.mu + (1 - b1) * updates
        nu = b2 * state.nu + (1 - b2) * updates * updates
        count = state.steps + 1
        mu_hat = mu / (1 - b1**count)
        nu_hat = nu / (1 - b2**count)
        return mu_hat / (nu_hat.sqrt() + eps), AdamState(mu, nu, count)

    return Transform(init, update)


class NoiseState(NamedTuple):
    """The keyed stream the noise is drawn from."""

    stream: Stream


def add_noise(std: Schedule) -> Transform:
    """Add ``std(step) · ξ``, ξ ~ N(0, I), drawn from the rule's keyed stream."""

    def init(params, stream):
        return NoiseState(Stream(stream.keys.clone(), stream.counter))

    def update(updates, state, obs: Observation, oracle: SeatOracle):
        s = Stream(state.stream.keys, state.stream.counter)
        noise = s.normal(tuple(updates.shape[1:]), dtype=updates.dtype)
        return updates + std(obs.step) * noise.to(updates.device), NoiseState(s)

    return Transform(init, update)
