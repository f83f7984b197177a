"""Conjugate-gradient GAN optimiser (Naganuma & Iiduka, AISTATS 2023; docs/algorithms.md §6).

Each seat runs nonlinear conjugate gradient on its own loss, independently of the other
(the textbook recursion; the paper's public toy code departs from it, see §6)::

    d_0 = −g_0,    d_n = −g_n + γ_n d_{n−1},    x_{n+1} = Π(x_n + a_n d_n)
    γ_n = c · clip(β_n, lo, hi)

with ``y = g_n − g_{n−1}`` and the β rules

=====================  ===================================================
``fletcher_reeves``    ``‖g_n‖² / ‖g_{n−1}‖²``
``polak_ribiere``      ``g_nᵀy / ‖g_{n−1}‖²``
``hestenes_stiefel``   ``g_nᵀy / d_{n−1}ᵀy``
``dai_yuan``           ``‖g_n‖² / d_{n−1}ᵀy``
``hager_zhang``        ``β^HS − 2‖y‖² (g_nᵀd_{n−1}) / (d_{n−1}ᵀy)²``
``hs_dy``              ``max(0, min(β^HS, β^DY))``
``fr_prp``             ``max(0, min(β^FR, β^PRP))``
=====================  ===================================================

Inner products are taken per parameter tensor of the seat's
:class:`~gangames.game.ParamLayout` (layer-wise, as in the paper's code) — sums over
the layout's contiguous slices — or over the whole vector with ``per_layer=False``. A
zero denominator gives β = 0 (a restart along −g_n), chosen with ``torch.where``.

Expected behaviour. The convergence theory of nonlinear CG is for minimisation; in a
min-max game no β rule carries a guarantee, and the step size decides. With γ_n = 0
the recursion is gradient descent–ascent, which converges on a strongly-convex–
strongly-concave game when ``a < 2μ/L²`` (on T2, ``L² = μ² + σ²``). A positive γ_n
adds heavy-ball momentum ``γ_n d_{n−1}`` (γ_n ≤ hi = 1/2 by default), and the step
must then be smaller still, by an amount that depends on the rule: Polak–Ribière,
Hestenes–Stiefel and their hybrids, whose β vanishes as g_n stops changing, behave
like GDA; Fletcher–Reeves and Hager–Zhang keep β near its cap and can stall; Dai–Yuan,
whose denominator ``d_{n−1}ᵀy`` rotation makes small, can diverge. On Quadratic with
μ = 0.3, σ = 1 (seed 0; GDA converges for ``a < 0.55``), after 2000 rounds at
``a = 0.1`` Polak–Ribière is at distance 6e-23 from it while Fletcher–Reeves stalls at
distance 1.43 and Dai–Yuan blows up to 9.9e4; at ``a = 0.05`` every rule but Dai–Yuan
converges, and Dai–Yuan had not at ``a = 0.02`` either. On bilinear games (T1, pure
rotation) a positive β is momentum against rotation and the iterates diverge.

The same game for 1000 rounds at a = 0.1, as a check:

Example:
    >>> import agents, gangames
    >>> env = gangames.make("gangames/Quadratic-v0", mu=0.3, max_steps=1000)
    >>> final = {
    ...     b: float(agents.play(env, conjugate_gradient(lr=0.1, beta=b), seed=0)[-1]["distance"])
    ...     for b in ("polak_ribiere", "fletcher_reeves", "dai_yuan")
    ... }
    >>> final["polak_ribiere"] < 1e-9, 0.5 < final["fletcher_reeves"] < 2, final["dai_yuan"] > 100
    (True, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch

from agents.linalg import safe_div
from agents.transforms import (
    Hyperparameter,
    Schedule,
    constant,
    inverse_sqrt,
    polynomial,
    positive_number,
    scale_by_schedule,
    seat_steps,
)
from gangames.errors import InvalidConfigError
from gangames.oracle import SeatOracle
from gangames.random import Stream
from gangames.rules import Observation, Solver, Transform, rule_from
from gangames.types import SEATS

__all__ = [
    "BETA_RULES",
    "SCHEDULES",
    "ConjugateState",
    "conjugate_beta",
    "conjugate_direction",
    "conjugate_gradient",
]

BETA_RULES = (
    "fletcher_reeves",
    "polak_ribiere",
    "hestenes_stiefel",
    "dai_yuan",
    "hager_zhang",
    "hs_dy",
    "fr_prp",
)
"""The β rules of Naganuma & Iiduka (2023), Table 2 (docs/algorithms.md §6)."""

SCHEDULES = ("constant", "inverse_sqrt", "two_timescale")
"""Step-size rules of the paper's Table 1: ``a``, ``a/√(n+1)``, ``a·(n+1)^(−e)``."""

_HZ_MU = 2.0  # Hager & Zhang (2005), μ = 2 in β^HZ


def conjugate_beta(
    rule: str,
    gradient: torch.Tensor,
    previous_gradient: torch.Tensor,
    previous_direction: torch.Tensor,
    sizes: Sequence[int],
) -> torch.Tensor:
    """The unclipped β of ``rule``, one per instance and segment (layer).

    Args:
        rule: one of :data:`BETA_RULES`.
        gradient: g_n, ``(B, d)``.
        previous_gradient: g_{n−1}, ``(B, d)``.
        previous_direction: d_{n−1}, ``(B, d)``.
        sizes: lengths of the L contiguous segments (layers) of the flat vector, in
            packing order (summing to d).

    Returns:
        β, shape ``(B, L)``; 0 where a denominator is 0.
    """
    if rule not in BETA_RULES:
        raise InvalidConfigError(f"beta must be one of {BETA_RULES}, got {rule!r}")
    g, d = gradient, previous_direction
    y = g - previous_gradient
    sizes = list(sizes)

    def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        # Per-layer inner products over contiguous slices (a loop over layers, not
        # instances). Not index_add_ over segment ids: on CUDA it accumulates with
        # atomics, which breaks bit-for-bit determinism.
        parts = torch.split(a * b, sizes, dim=-1)
        return torch.stack([p.sum(dim=-1) for p in parts], dim=-1)

    # Only the ratios the rule needs (FR and PRP share ‖g_{n−1}‖², HS and DY dᵀy).
    if rule in ("fletcher_reeves", "polak_ribiere", "fr_prp"):
        old = dot(previous_gradient, previous_gradient)
        if rule == "fletcher_reeves":
            return safe_div(dot(g, g), old)
        prp = safe_div(dot(g, y), old)
        if rule == "polak_ribiere":
            return prp
        return torch.minimum(safe_div(dot(g, g), old), prp).clamp(min=0.0)
    dy = dot(d, y)
    if rule == "dai_yuan":
        return safe_div(dot(g, g), dy)
    hs = safe_div(dot(g, y), dy)
    if rule == "hestenes_stiefel":
        return hs
    if rule == "hager_zhang":
        return hs - _HZ_MU * safe_div(dot(y, y) * dot(g, d), dy * dy)
    return torch.minimum(hs, safe_div(dot(g, g), dy)).clamp(min=0.0)  # hs_dy


class ConjugateState(NamedTuple):
    """Memory of the recursion (2 vectors per seat, docs/algorithms.md §10)."""

    gradient: torch.Tensor  # (B, d) g_{n−1}
    direction: torch.Tensor  # (B, d) d_{n−1}
    segments: torch.Tensor | None  # (d,) layer index per coordinate, set at step 0
    steps: int  # directions produced so far


def conjugate_direction(
    beta: str = "fletcher_reeves",
    bounds: tuple[float, float] = (0.0, 0.5),
    coefficient: Hyperparameter = 1.0,
    per_layer: bool = True,
) -> Transform:
    """Turn the gradient g_n into the conjugate direction d_n (a descent direction).

    ``d_0 = −g_0``; ``d_n = −g_n + c·clip(β_n, lo, hi)·d_{n−1}``, β per layer. Follow it
    with a positive step (``scale_by_schedule(a, sign=+1)``). Cost: 0.

    Args:
        beta: one of :data:`BETA_RULES`.
        bounds: ``(lo, hi)`` clip of β (docs/algorithms.md §6 recommends ``[0, 1/2]``; the
            paper's code uses ``(−∞, 1/2]`` for the single rules).
        coefficient: c ≥ 0, the paper's ``beta_momentum_coeff``.
        per_layer: β per parameter tensor of the seat's layout (else one β per
            instance over the flat vector).
    """
    if beta not in BETA_RULES:
        raise InvalidConfigError(f"beta must be one of {BETA_RULES}, got {beta!r}")
    lo, hi = bounds

    def init(params: torch.Tensor, stream: Stream) -> ConjugateState:
        zero = torch.zeros_like(params)
        return ConjugateState(zero, zero, None, 0)

    def update(
        updates: torch.Tensor,
        state: ConjugateState,
        obs: Observation,
        oracle: SeatOracle,
    ) -> tuple[torch.Tensor, ConjugateState]:
        layout = oracle.layout
        if state.steps == 0:
            ids = (
                layout.segment_ids(updates.device)
                if per_layer
                else torch.zeros(layout.size, dtype=torch.long, device=updates.device)
            )
            return -updates, ConjugateState(updates, -updates, ids, 1)
        segments = state.segments
        assert segments is not None  # set at step 0 (a Python None check, no sync)
        sizes = list(layout.sizes) if per_layer else [layout.size]
        b = conjugate_beta(beta, updates, state.gradient, state.direction, sizes)
        gamma = coefficient * b.clamp(lo, hi)
        direction = -updates + gamma[:, segments] * state.direction
        return direction, ConjugateState(updates, direction, segments, state.steps + 1)

    return Transform(init, update)


def _schedule(kind: str, lr: Hyperparameter, exponent: float) -> Schedule:
    if kind == "constant":
        return constant(lr)
    if kind == "inverse_sqrt":
        return inverse_sqrt(lr)
    return polynomial(lr, exponent)


def conjugate_gradient(
    lr: Hyperparameter = 0.05,
    beta: str = "fletcher_reeves",
    beta_bounds: tuple[float, float] = (0.0, 0.5),
    coefficient: Hyperparameter = 1.0,
    schedule: str = "constant",
    exponents: tuple[float, float] = (0.75, 0.75),
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
    per_layer: bool = True,
) -> Solver:
    """Conjugate-gradient GAN training (Naganuma & Iiduka, AISTATS 2023).

    Each seat, on its own-loss gradient g_n (n = round count)::

        d_0 = −g_0,   d_n = −g_n + γ_n d_{n−1},   x_{n+1} = Π(x_n + a_n d_n)
        γ_n = c · clip(β_n, lo, hi)   (β per layer; see the module table)

    Step sizes ``a_n`` (paper Table 1): ``"constant"`` ``a``; ``"inverse_sqrt"``
    ``a/√(n+1)``; ``"two_timescale"`` ``a_θ(n+1)^(−e_θ)`` and ``a_φ(n+1)^(−e_φ)``.

    Args:
        lr: base step size a of both seats.
        beta: β rule, one of :data:`BETA_RULES`.
        beta_bounds: ``(lo, hi)`` clip of β; default ``[0, 1/2]`` (docs/algorithms.md §6: the
            paper's code caps at 1/2; the floor at 0 keeps DY/HS/HZ from blowing up).
        coefficient: c ≥ 0 (the paper sweeps {0.5, 0.75, 1.0}).
        schedule: one of :data:`SCHEDULES`.
        exponents: ``(e_θ, e_φ)`` of the two-timescale rule (paper code: 0.75, 0.75).
        lr_generator: a_θ (default ``lr``).
        lr_discriminator: a_φ (default ``lr``).
        per_layer: β per parameter tensor (as in the paper's code) or over the whole
            flat vector.

    Oracle cost per step: 0 beyond the observed gradient (1 grad per seat); memory
    g_{n−1} and d_{n−1} per seat.

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Quadratic-v0", max_steps=200)
        >>> solver = conjugate_gradient(lr=0.1, beta="polak_ribiere")
        >>> infos = agents.play(env, solver, seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3 * infos[0]["distance"])
        True

    References:
        * Naganuma & Iiduka, "Conjugate gradient method for generative adversarial
          networks", AISTATS 2023.
        * Hager & Zhang, "A survey of nonlinear conjugate gradient methods", Pacific
          Journal of Optimization 2, 2006 (the β rules and hybrids).
    """
    steps = seat_steps(lr, lr_generator, lr_discriminator)
    if schedule not in SCHEDULES:
        raise InvalidConfigError(
            f"schedule must be one of {SCHEDULES}, got {schedule!r}"
        )
    try:
        lo, hi = (float(b) for b in beta_bounds)
    except (TypeError, ValueError):
        raise InvalidConfigError(
            f"beta_bounds must be a pair (lo, hi), got {beta_bounds!r}"
        ) from None
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise InvalidConfigError(f"beta_bounds must have lo ≤ hi, got {beta_bounds!r}")
    positive_number("coefficient", coefficient, allow_zero=True)
    if not isinstance(exponents, (tuple, list)) or len(exponents) != 2:
        raise InvalidConfigError(
            f"exponents must be a pair (e_generator, e_discriminator), got {exponents!r}"
        )
    e_gen, e_dis = (
        positive_number("exponents", e, per_instance=False) for e in exponents
    )
    exponent = {"generator": e_gen, "discriminator": e_dis}
    g, d = (
        rule_from(
            conjugate_direction(beta, (lo, hi), coefficient, per_layer),
            scale_by_schedule(
                _schedule(schedule, steps.own(seat), exponent[seat]), sign=1.0
            ),
            name="conjugate_gradient",
        )
        for seat in SEATS
    )
    return Solver(g, d, "conjugate_gradient")
