"""Reusable chain pieces: step sizes, schedules, momentum, Adam, noise, projection.

Each factory returns a :class:`~gangames.rules.Transform`; compose them with
:func:`~gangames.rules.chain`. All are batched over ``(B, d)`` and free of host syncs.

Per-instance hyperparameters: a number a rule multiplies, adds or divides by (a step
size, a temperature, a regulariser) may be a :data:`Hyperparameter` — a float, or a
``(B, 1)`` tensor holding one value per instance of the batch, on the env's device and
dtype. Row b then plays exactly the rule built with the float ``value[b, 0]``, which
is how :func:`agents.sweep.sweep` plays many tuning trials as one batched match. The
``(B, 1)`` shape broadcasts against ``(B, d)`` rows; a ``(B,)`` tensor would broadcast
to ``(B, B)``, so :func:`positive_number` refuses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, NamedTuple, overload

import torch

from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.game import Mixed
from gangames.oracle import SeatOracle
from gangames.random import Stream
from gangames.rules import Observation, Transform, stateless

__all__ = [
    "Hyperparameter",
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
    "sqrt",
    "trace",
]

Hyperparameter = float | torch.Tensor
"""A float, or one value per instance: a ``(B, 1)`` tensor on the env's device and dtype."""

Schedule = Callable[[int], Hyperparameter]
"""A step size as a function of the step count n (0-based)."""


def constant(value: Hyperparameter) -> Schedule:
    """``a_n = value``."""
    return lambda n: value


def inverse_sqrt(value: Hyperparameter) -> Schedule:
    """``a_n = value / √(n + 1)`` (Naganuma & Iiduka's diminishing rule)."""
    return lambda n: value / (n + 1) ** 0.5


def polynomial(value: Hyperparameter, power: float) -> Schedule:
    """``a_n = value · (n + 1)^(−power)`` (two-timescale rules use power 0.75)."""
    return lambda n: value * (n + 1) ** (-power)


def scale(factor: Hyperparameter) -> Transform:
    """Multiply the direction by a constant (``scale(-lr)`` turns a gradient into Δ)."""

    def update(updates, state, obs, oracle):
        return factor * updates, state

    return Transform(stateless, update)


def scale_by_schedule(schedule: Schedule, sign: float = -1.0) -> Transform:
    """Multiply the direction by ``sign · schedule(step)`` (the step is the round count)."""

    def update(updates, state, obs, oracle):
        return sign * schedule(obs.step) * updates, state

    return Transform(stateless, update)


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
    """The keyed stream a rule's noise is drawn from."""

    stream: Stream

    @classmethod
    def start(cls, params: torch.Tensor, stream: Stream) -> NoiseState:
        """An ``init``: the rule's own copy of its stream."""
        return cls(Stream(stream.keys.clone(), stream.counter))

    def resume(self) -> Stream:
        """A stream at the state's counter; drawing from it leaves the state as it was."""
        return Stream(self.stream.keys, self.stream.counter)


def add_noise(std: Schedule) -> Transform:
    """Add ``std(step) · ξ``, ξ ~ N(0, I), drawn from the rule's keyed stream."""

    def update(updates, state, obs: Observation, oracle: SeatOracle):
        s = state.resume()
        noise = s.normal(tuple(updates.shape[1:]), dtype=updates.dtype)
        return updates + std(obs.step) * noise.to(updates.device), NoiseState(s)

    return Transform(NoiseState.start, update)


# ---- Classical baselines (agents-baselines): per-seat step sizes, optimism, projection


class SeatSteps(NamedTuple):
    """Step sizes of both seats (two-timescale GDA: ``discriminator ≫ generator``)."""

    generator: Hyperparameter
    discriminator: Hyperparameter

    def own(self, seat: str) -> Hyperparameter:
        """The step size of ``seat``."""
        return self.generator if seat == "generator" else self.discriminator

    def opponent(self, seat: str) -> Hyperparameter:
        """The step size of ``seat``'s opponent."""
        return self.discriminator if seat == "generator" else self.generator


def seat_steps(
    lr: Hyperparameter,
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
) -> SeatSteps:
    """Resolve per-seat step sizes: a seat's own ``lr_<seat>`` if given, else ``lr``.

    Each may be a float or a per-instance ``(B, 1)`` tensor (see :func:`positive_number`).

    Raises:
        InvalidConfigError: a step size that is not a finite positive number.
    """
    lr = positive_number("lr", lr)
    return SeatSteps(
        lr if lr_generator is None else positive_number("lr_generator", lr_generator),
        lr
        if lr_discriminator is None
        else positive_number("lr_discriminator", lr_discriminator),
    )


@overload
def positive_number(
    name: str,
    value: object,
    *,
    allow_zero: bool = ...,
    below: float | None = ...,
    at_most: float | None = ...,
    per_instance: Literal[False],
) -> float: ...


@overload
def positive_number(
    name: str,
    value: object,
    *,
    allow_zero: bool = ...,
    below: float | None = ...,
    at_most: float | None = ...,
    per_instance: bool = ...,
) -> Hyperparameter: ...


def positive_number(
    name: str,
    value: object,
    *,
    allow_zero: bool = False,
    below: float | None = None,
    at_most: float | None = None,
    per_instance: bool = True,
) -> Hyperparameter:
    """``value`` if it is a finite number > 0 (≥ 0 with ``allow_zero``), else an error.

    A float comes back as a float. With ``per_instance`` (the default) a floating
    ``(B, 1)`` tensor of such numbers, one per instance, comes back as it is (checked
    here, once, at build time: the check synchronises with the device).

    Args:
        name: the hyperparameter's name, for the error message.
        value: the number or the ``(B, 1)`` tensor.
        allow_zero: accept 0.
        below: an exclusive upper bound (``b1 < 1``), if any.
        at_most: an inclusive upper bound (``anchor_rate ≤ 1``), if any.
        per_instance: accept a per-instance tensor (``False`` for numbers that change
            the rule's cost or control flow, which must be one float for the batch).

    Raises:
        InvalidConfigError: naming the argument, what was expected and what came.

    Example:
        >>> import torch
        >>> positive_number("lr", 0.1)
        0.1
        >>> positive_number("lr", torch.tensor([[0.1], [0.2]])).shape
        torch.Size([2, 1])
    """
    low = "≥ 0" if allow_zero else "> 0"
    if below is not None or at_most is not None:
        bound = f"{below})" if below is not None else f"{at_most}]"
        low = f"in [0, {bound}" if allow_zero else f"in (0, {bound}"
    want = f"a finite number {low}"

    def ok(v: float | torch.Tensor) -> bool | torch.Tensor:
        return (
            (v >= 0.0 if allow_zero else v > 0.0)
            & (True if below is None else v < below)
            & (True if at_most is None else v <= at_most)
        )

    if isinstance(value, torch.Tensor) and per_instance:
        shaped = value.dim() == 2 and value.shape[1] == 1 and value.shape[0] >= 1
        if not (shaped and value.is_floating_point()):
            raise InvalidConfigError(
                f"{name} must be {want} or a (B, 1) floating tensor of them (one per "
                f"instance), got a {value.dtype} tensor of shape {tuple(value.shape)}"
            )
        bad = ~(torch.isfinite(value) & ok(value))  # type: ignore[operator]
        if bool(bad.any()):
            raise InvalidConfigError(
                f"{name} must be {want} in every row, got {value[bad][0].item()!r} in "
                f"row {int(bad.nonzero()[0, 0])} of a {tuple(value.shape)} tensor"
            )
        return value
    if isinstance(value, torch.Tensor):
        raise InvalidConfigError(
            f"{name} must be {want} (one float for the whole batch), got a tensor"
        )
    high = below if below is not None else at_most
    return checks.number(
        name,
        value,
        low=0,
        open_low=not allow_zero,
        high=high,
        open_high=below is not None,
    )


def sqrt(value: Hyperparameter) -> Hyperparameter:
    """``√value`` by ``math.sqrt``, row by row for a per-instance tensor.

    For a build-time constant (a noise scale): torch's vectorised square root is not
    always correctly rounded on CPU, so it would make a batched trial differ from the
    same trial with a float in the last bit.
    """
    if isinstance(value, torch.Tensor):
        rows = [
            [math.sqrt(v)] for v in value.detach().cpu().double().flatten().tolist()
        ]
        return torch.tensor(rows, dtype=value.dtype, device=value.device)
    return math.sqrt(value)


def projected_step(
    params: torch.Tensor,
    direction: torch.Tensor,
    lr: Hyperparameter,
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
        # the direction may be a view of a live buffer: keep a copy as history
        return 2.0 * updates - previous, OptimismState(updates.clone(), state.steps + 1)

    return Transform(init, update)


# ---- Projections, weight decay and particle scaling (docs/algorithms.md §4.4, §5) ------

Projection = Callable[[torch.Tensor], torch.Tensor]
"""A Euclidean projection of ``(B, d)`` points, row by row (a backward step)."""


def _positive_radius(radius: float) -> float:
    if isinstance(radius, bool) or not isinstance(radius, (int, float)):
        raise InvalidConfigError(f"radius must be a number, got {radius!r}")
    if not radius > 0:
        raise InvalidConfigError(f"radius must be positive, got {radius!r}")
    return float(radius)


def project_box(radius: float) -> Projection:
    """Projection onto the box ``[−r, r]^d``: a coordinate clamp (WGAN weight clipping)."""
    r = _positive_radius(radius)
    return lambda x: x.clamp(-r, r)


def project_ball(radius: float) -> Projection:
    """Projection onto the Euclidean ball ``‖x‖₂ ≤ r``: ``x · min(1, r/‖x‖)``."""
    r = _positive_radius(radius)

    def fn(x: torch.Tensor) -> torch.Tensor:
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
        # r / max(‖x‖, r) = min(1, r/‖x‖) and never divides by zero.
        return x * (r / torch.maximum(norm, torch.full_like(norm, r)))

    return fn


def project_l1_ball(radius: float) -> Projection:
    """Projection onto the ℓ1 ball ``‖x‖₁ ≤ r`` by sorting (Duchi et al., ICML 2008).

    With ``u = |x|`` sorted decreasingly, ``ρ = max{j : u_j > (Σ_{i≤j} u_i − r)/j}`` and
    ``τ = (Σ_{i≤ρ} u_i − r)/ρ``, the projection is ``sign(x)·max(|x| − τ, 0)``; points
    already inside are returned unchanged. Batched over rows, no host sync.

    References:
        J. Duchi, S. Shalev-Shwartz, Y. Singer, T. Chandra. "Efficient projections onto
        the ℓ1-ball for learning in high dimensions." ICML 2008.
    """
    r = _positive_radius(radius)

    def fn(x: torch.Tensor) -> torch.Tensor:
        a = x.abs()
        u, _ = a.sort(dim=-1, descending=True)
        css = u.cumsum(dim=-1) - r
        j = torch.arange(1, x.shape[-1] + 1, device=x.device, dtype=x.dtype)
        # The condition holds for j = 1..ρ and fails after it, so ρ = its count (≥ 1
        # whenever ‖x‖₁ > r, the only case where the result is used).
        rho = (u - css / j > 0).sum(dim=-1, keepdim=True).clamp(min=1)
        tau = css.gather(-1, rho - 1) / rho.to(x.dtype)
        shrunk = x.sign() * (a - tau).clamp(min=0)
        inside = a.sum(dim=-1, keepdim=True) <= r
        return torch.where(inside, x, shrunk)

    return fn


def projection(kind: str | None, radius: float = 1.0) -> Projection | None:
    """The projection named ``kind``: ``None``, ``"box"``, ``"ball"`` or ``"l1"``."""
    checks.positive("radius", radius)  # checked even when unused: a typo is a typo
    makers = {"box": project_box, "ball": project_ball, "l1": project_l1_ball}
    if kind is None:
        return None
    if kind not in makers:
        raise InvalidConfigError(
            f"projection must be None, 'box', 'ball' or 'l1', got {kind!r}"
        )
    return makers[kind](radius)


def project(fn: Projection | None = None) -> Transform:
    """Backward step: turn a proposed update Δ into ``Π(x + Δ) − x``.

    ``Π = Π_game ∘ fn``: the rule's own projection ``fn`` (if any) followed by the
    seat's feasible set (``oracle.project``, free), so the result is always feasible
    for the game. The composition is the projection onto the intersection when one set
    contains the other or both are boxes (the cases in docs/algorithms.md §5).
    """

    def update(updates, state, obs, oracle):
        target = obs.own + updates
        if fn is not None:
            target = fn(target)
        return oracle.project(target) - obs.own, state

    return Transform(stateless, update)


def add_decayed_weights(weight: Hyperparameter) -> Transform:
    """Add ``weight · x`` to the direction (the gradient of ``(weight/2)‖x‖²``).

    A Gaussian prior ``N(0, σ₀²I)`` at temperature τ is ``weight = τ/σ₀²``.
    """

    def update(updates, state, obs, oracle):
        return updates + weight * obs.own, state

    return Transform(stateless, update)


def particle_count(oracle: SeatOracle) -> int:
    """K of the seat's game if it is a mixed lift (:class:`gangames.game.Mixed`), else 1."""
    game = oracle.game
    return game.particles if isinstance(game, Mixed) else 1


def scale_by_particles() -> Transform:
    """Multiply by K, the number of particles of a mixed game (1 for a pure game).

    In the lift ``V(ν, μ) = (1/K²) Σ_{i,j} V(θ_i, φ_j)`` the gradient with respect to
    particle ``θ_i`` is ``(1/K²) Σ_j ∇_θV(θ_i, φ_j)``; times K it is the particle's
    mean-field drift ``(1/K) Σ_j ∇_θV(θ_i, φ_j)`` (docs/algorithms.md §4.4), so the step
    size means the same thing whatever K is.
    """

    def update(updates, state, obs, oracle):
        return particle_count(oracle) * updates, state

    return Transform(stateless, update)


__all__ += [
    "Projection",
    "add_decayed_weights",
    "particle_count",
    "project",
    "project_ball",
    "project_box",
    "project_l1_ball",
    "projection",
    "scale_by_particles",
]
