"""Forward–backward methods for monotone games: SRFB and Tseng's FBF (docs/algorithms.md §5).

A GAN seen as a stochastic Nash equilibrium problem is the variational inequality
``VI(F, Ω)``: find ``z* ∈ Ω`` with ``⟨F(z*), z − z*⟩ ≥ 0`` for all ``z ∈ Ω``, where
``F(z) = (∇_θ f_G, ∇_φ f_D)`` is the game's vector field (each seat's own-loss gradient)
and ``Ω = Ω_θ × Ω_φ`` closed convex. A *forward* step follows −F; a *backward* step is
the projection onto Ω (the resolvent of its normal cone). Plain projected gradient play
(forward–backward) cycles on monotone games such as the bilinear one; the two methods
here converge when F is monotone:

* :func:`srfb` — stochastic relaxed forward–backward (Franci & Grammatico): projected
  gradient play from a *relaxed* point, an exponential average of the iterates
  (Malitsky's golden-ratio algorithm made stochastic), with variance reduction by
  averaging a growing number of gradient samples.
* :func:`fbf` — Tseng's forward–backward–forward: a projected extrapolation step, then
  a correction by the change of F; one extra gradient per seat.

Both act per seat: Ω is a product, so the projection, the relaxation and the
correction split into the seats' blocks. The backward step is the rule's own
projection (``"box"``: coordinate clamp, WGAN weight clipping; ``"ball"``: Euclidean
ball; ``"l1"``: ℓ1 ball) composed with the game's feasible set (``oracle.project``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch

from agents.transforms import (
    Hyperparameter,
    Projection,
    positive_number,
    project,
    scale,
    trace,
)
from agents.transforms import projection as make_projection
from gangames import checks
from gangames.oracle import SeatOracle
from gangames.random import Stream
from gangames.rules import (
    Observation,
    Solver,
    Transform,
    UpdateRule,
    constant_cost,
    rule_from,
    stateless,
)

__all__ = [
    "RelaxState",
    "average_samples",
    "fbf",
    "fbf_rule",
    "relax",
    "sample_schedule",
    "srfb",
    "srfb_rule",
]


def sample_schedule(
    samples: int = 1, growth: float | None = None, offset: int = 1
) -> Callable[[int], int]:
    """The number of gradient samples ``S_k`` at step k (0-based).

    ``S_k = samples`` (constant) if ``growth`` is ``None``; otherwise the growing
    schedule ``S_k = ⌈c (k + k₀)^{1+a}⌉`` with ``c = samples``, ``a = growth > 0``,
    ``k₀ = offset``, for which ``Σ_k 1/S_k < ∞`` (the condition of Franci & Grammatico's
    convergence to an exact solution; docs/algorithms.md §5).
    """
    samples = checks.positive("samples", samples, integer=True)
    offset = checks.positive("offset", offset, integer=True)
    if growth is None:
        return lambda k: samples
    # a > 0 so that Σ 1/S_k converges; S_k is a loop count, one for the whole batch
    a = positive_number("growth", growth, per_instance=False)
    return lambda k: math.ceil(samples * (k + offset) ** (1.0 + a))


def average_samples(schedule: Callable[[int], int]) -> Transform:
    """Replace the observed gradient by the mean of ``S_k = schedule(step)`` samples.

    The observed gradient is the first sample; the other ``S_k − 1`` are fresh oracle
    queries at the same point (each a new minibatch / noise draw in stochastic games).
    Cost: ``S_k − 1`` gradients.
    """

    def update(updates, state, obs, oracle):
        n = schedule(obs.step)
        total = updates
        for _ in range(n - 1):
            total = total + oracle.grad(obs.own, obs.opponent)
        return total / n, state

    return Transform(stateless, update, lambda step: float(schedule(step) - 1))


class RelaxState(NamedTuple):
    """The relaxed (averaged) point of the previous step."""

    bar: torch.Tensor  # (B, d) x̄_{k−1}


def relax(relaxation: Hyperparameter) -> Transform:
    """Move the step's base point from ``x_k`` to the relaxed point ``x̄_k``.

    ``x̄_k = (1 − δ) x_k + δ x̄_{k−1}`` (``x̄_0 = x_0``) and the direction ``u`` becomes
    ``u + x̄_k − x_k``, so a following step lands at ``x̄_k + u`` (the projection then
    makes it ``Π(x̄_k + u)``).
    """
    delta = positive_number("relaxation", relaxation, allow_zero=True, below=1.0)

    def init(params: torch.Tensor, stream: Stream) -> RelaxState:
        # x̄_{−1} := x_0 makes x̄_0 = (1 − δ)x_0 + δx_0 = x_0, the paper's start.
        return RelaxState(params.clone())

    def update(updates, state, obs, oracle):
        bar = (1 - delta) * obs.own + delta * state.bar
        return updates + (bar - obs.own), RelaxState(bar)

    return Transform(init, update)


def srfb_rule(
    lr: Hyperparameter,
    relaxation: Hyperparameter = 0.618,
    projection_kind: str | None = None,
    radius: float = 1.0,
    samples: int = 1,
    growth: float | None = None,
    offset: int = 1,
    momentum: float = 0.0,
) -> UpdateRule:
    """One seat's SRFB step (see :func:`srfb`); ``momentum > 0`` adds ``trace``.

    ``rule_from(average_samples(S), trace(β), scale(−λ), relax(δ), project(Π))``: the
    averaged gradient enters a heavy-ball buffer ``v ← βv + F̂`` before the step, and
    the relaxed point steps along ``−λv``. ``momentum = 0`` leaves ``trace`` out (the
    plain rule). Cost: as SRFB (momentum is free).

    Example:
        >>> import agents, gangames
        >>> from gangames.rules import Solver
        >>> rule = srfb_rule(0.4, momentum=0.2)
        >>> env = gangames.make("gangames/Bilinear-v0", box=1.0, max_steps=300)
        >>> infos = agents.play(env, Solver(rule, rule, "srfb_momentum"), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3)
        True
    """
    lr = positive_number("lr", lr)
    beta = positive_number(
        "momentum", momentum, allow_zero=True, below=1.0, per_instance=False
    )
    heavy_ball = (trace(beta),) if beta > 0 else ()
    return rule_from(
        average_samples(sample_schedule(samples, growth, offset)),
        *heavy_ball,
        scale(-lr),
        relax(relaxation),
        project(make_projection(projection_kind, radius)),
        name="srfb_momentum" if heavy_ball else "srfb",
    )


def srfb(
    lr: Hyperparameter = 0.1,
    relaxation: Hyperparameter = 0.618,
    projection: str | None = None,
    radius: float = 1.0,
    samples: int = 1,
    growth: float | None = None,
    offset: int = 1,
    momentum: float = 0.0,
) -> Solver:
    """Stochastic relaxed forward–backward (Franci & Grammatico; docs/algorithms.md §5).

    With relaxation δ, step λ and the joint point ``z = (θ, φ)``::

        z̄_k     = (1 − δ) z_k + δ z̄_{k−1}                 (z̄_0 = z_0)
        z_{k+1} = Π_Ω( z̄_k − λ F̂_k(z_k) )

    ``F̂_k`` averages ``S_k`` samples of the seat's own-loss gradient at ``z_k`` (the
    observed one and ``S_k − 1`` fresh queries); ``S_k = samples`` or, with ``growth =
    a``, ``S_k = ⌈samples · (k + offset)^{1+a}⌉`` (Σ 1/S_k < ∞: convergence to an exact
    solution for monotone F). ``Π_Ω`` is the rule's projection (``"box"``, ``"ball"``
    or ``"l1"`` of ``radius``, applied to each seat's whole vector) followed by the
    game's feasible set. On the box-constrained bilinear game its last iterate
    converges, where projected GDA's last iterate sticks to the boundary (T1).

    Built as ``rule_from(average_samples(S), scale(−λ), relax(δ), project(Π))``.

    Args:
        lr: step λ > 0; the deterministic golden-ratio bound is λ ≤ 1/(2δL), L the
            Lipschitz constant of F [recalled].
        relaxation: δ ∈ [0, 1); the theory asks δ ≥ 2/(1+√5) ≈ 0.618 (Malitsky's
            golden ratio); δ = 0 is plain projected gradient play.
        projection: ``None``, ``"box"``, ``"ball"`` or ``"l1"`` — the rule's own
            backward step (the game's feasible set is always applied after it).
        radius: size of that set (box half-width, ball radius).
        samples: S (constant schedule) or the factor c of the growing one.
        growth: a > 0 for the growing schedule, ``None`` for a constant S.
        offset: k₀ ≥ 1 of the growing schedule.
        momentum: β ∈ [0, 1): heavy-ball momentum on the averaged gradient (a
            ``trace`` piece before the step, :func:`srfb_rule`); 0 is the paper's rule.

    Oracle cost per step: ``S_k − 1`` gradients per seat beyond the observed one
    (2·S_k per round, docs/algorithms.md §10); projections are free.

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Bilinear-v0", box=1.0, max_steps=300)
        >>> infos = agents.play(env, srfb(lr=0.4), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3)
        True

    References:
        B. Franci, S. Grammatico. "Training generative adversarial networks via
        stochastic Nash games." IEEE TNNLS, 2021 (arXiv:2010.10013).
        Y. Malitsky. "Golden ratio algorithms for variational inequalities."
        Mathematical Programming 184, 2020.
    """
    rule = srfb_rule(
        lr, relaxation, projection, radius, samples, growth, offset, momentum
    )
    return Solver(rule, rule, rule.name)


def fbf_rule(
    lr: Hyperparameter,
    projection_kind: str | None = None,
    radius: float = 1.0,
    opponent_lr: Hyperparameter | None = None,
) -> UpdateRule:
    """One seat's forward–backward–forward step (see :func:`fbf`).

    ``opponent_lr`` is the step the opponent uses (default ``lr``): the seat rebuilds
    the opponent's extrapolated point from the observed opponent gradient, assuming
    the opponent plays FBF with that step and the same projection.
    """
    lr = positive_number("lr", lr)
    opp_lr = lr if opponent_lr is None else positive_number("opponent_lr", opponent_lr)
    fn: Projection | None = make_projection(projection_kind, radius)

    def backward(x: torch.Tensor, game_set: Callable) -> torch.Tensor:
        return game_set(x if fn is None else fn(x))

    def update(
        obs: Observation, state: tuple, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        own_hat = backward(obs.own - lr * obs.gradient, oracle.project)
        opp_hat = backward(
            obs.opponent - opp_lr * obs.opponent_gradient, oracle.project_opponent
        )
        grad_hat = oracle.grad(own_hat, opp_hat)
        new = own_hat - lr * (grad_hat - obs.gradient)
        return new - obs.own, state

    return UpdateRule(stateless, update, "fbf", constant_cost(1.0))


def fbf(
    lr: Hyperparameter = 0.1, projection: str | None = None, radius: float = 1.0
) -> Solver:
    """Tseng's forward–backward–forward splitting (docs/algorithms.md §5, "related variant").

    ::

        ẑ   = Π_Ω( z − λ F(z) )                 (forward, then backward)
        z⁺  = ẑ − λ ( F(ẑ) − F(z) )             (second forward: the correction)

    Each seat rebuilds the opponent's half of ẑ from the observed opponent gradient
    (free: same pass as its own) and the opponent's step, then queries its own
    gradient at ẑ. The environment projects z⁺ onto the game's feasible set, which is
    Tseng's variant with a final projection onto a set containing the solutions. It
    converges for monotone Lipschitz F with λ < 1/L; on the bilinear game ``V = xy``
    the update matrix ``(1 − λ²)I − λJ`` (J the rotation) has modulus
    ``√((1 − λ²)² + λ²) = √(1 − λ² + λ⁴) < 1``, the extragradient rate.

    Args:
        lr: step λ > 0 (both seats).
        projection: ``None``, ``"box"``, ``"ball"`` or ``"l1"``, the rule's backward
            step (the game's feasible set is always applied after it).
        radius: size of that set.

    Oracle cost per step: 1 gradient per seat beyond the observed one (4 per round,
    as extragradient).

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Bilinear-v0", max_steps=200)
        >>> infos = agents.play(env, fbf(lr=0.5), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3 * infos[0]["distance"])
        True

    References:
        P. Tseng. "A modified forward-backward splitting method for maximal monotone
        mappings." SIAM J. Control Optim. 38(2), 2000.
        A. Böhm, M. Sedlmayer, E. R. Csetnek, R. I. Boţ. "Two steps at a time — taking
        GAN training in stride with Tseng's method." SIAM J. Math. Data Sci., 2022
        (code: github.com/AxelBohm/FBF-GAN).
    """
    rule = fbf_rule(lr, projection, radius)
    return Solver(rule, rule, "fbf")
