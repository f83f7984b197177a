"""Reusable chain pieces: step sizes, schedules, momentum, Adam, noise, projection.

Each factory returns a :class:`~agents.base.Transform`; compose them with
:func:`~agents.base.chain`. All are batched over ``(B, d)`` and free of host syncs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from agents.base import Observation, Transform
from gangames.errors import InvalidConfigError
from gangames.oracle import SeatOracle
from gangames.random import Stream

__all__ = [
    "OptimismState",
    "Schedule",
    "SeatSteps",
    "add_noise",
    "constant",
    "inverse_sqrt",
    "polynomial",
    "positive_number",
    "projected_step",
    "scale",
    "scale_by_adam",
    "scale_by_optimism",
    "scale_by_schedule",
    "seat_steps",
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


# ---- Classical baselines (agents-baselines): per-seat step sizes, optimism, projection


class SeatSteps(NamedTuple):
    """Step sizes of both seats (two-timescale GDA: ``discriminator ≫ generator``)."""

    generator: float
    discriminator: float

    def own(self, seat: str) -> float:
        """The step size of ``seat``."""
        return self.generator if seat == "generator" else self.discriminator

    def opponent(self, seat: str) -> float:
        """The step size of ``seat``'s opponent."""
        return self.discriminator if seat == "generator" else self.generator


def seat_steps(
    lr: float, lr_generator: float | None = None, lr_discriminator: float | None = None
) -> SeatSteps:
    """Resolve per-seat step sizes: a seat's own ``lr_<seat>`` if given, else ``lr``.

    Raises:
        InvalidConfigError: a step size that is not a finite positive number.
    """
    steps = SeatSteps(
        lr if lr_generator is None else lr_generator,
        lr if lr_discriminator is None else lr_discriminator,
    )
    for name, value in (
        ("lr", lr),
        ("lr_generator", steps.generator),
        ("lr_discriminator", steps.discriminator),
    ):
        positive_number(name, value)
    return steps


def positive_number(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a float if it is a finite number > 0 (≥ 0 with ``allow_zero``).

    Raises:
        InvalidConfigError: naming the argument, what was expected and what came.
    """
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        v = float(value)  # type: ignore[arg-type]
        ok = math.isfinite(v) and (v >= 0.0 if allow_zero else v > 0.0)
    if not ok:
        want = "a finite number ≥ 0" if allow_zero else "a finite number > 0"
        raise InvalidConfigError(f"{name} must be {want}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def projected_step(
    params: torch.Tensor,
    direction: torch.Tensor,
    lr: float,
    project: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """``Π(params − lr · direction)``: a projected gradient step (free: no query of V)."""
    return project(params - lr * direction)


class OptimismState(NamedTuple):
    """The previous direction of :func:`scale_by_optimism`."""

    previous: torch.Tensor  # (B, d) g_{n−1} (unused before the first step)
    steps: int  # directions seen so far


def scale_by_optimism() -> Transform:
    """Optimistic extrapolation of the direction: ``g_n ↦ 2g_n − g_{n−1}``.

    Followed by ``scale(−η)`` this is optimistic gradient descent,
    ``z⁺ = z − 2ηF(z) + ηF(z⁻)`` (Popov, 1980; Daskalakis et al., ICLR 2018). The first
    step takes ``g_{−1} = g_0`` (a plain gradient step). Cost: 0.
    """

    def init(params, stream):
        return OptimismState(torch.zeros_like(params), 0)

    def update(updates, state, obs, oracle):
        previous = updates if state.steps == 0 else state.previous
        return 2.0 * updates - previous, OptimismState(updates, state.steps + 1)

    return Transform(init, update)
