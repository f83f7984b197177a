"""Proximal training (Farnia & Ozdaglar 2020): the critic solves a proximal inner problem.

The proximal objective penalises the discriminator's deviation from an anchor φ
(docs/algorithms.md §2.1, λ/2 convention)::

    V_prox^λ(θ, φ) = max_φ̃ [ V(θ, φ̃) − (λ/2)‖φ̃ − φ‖² ]

One outer iteration (§2.2), played in the **sequential** env with the **discriminator
first**:

1. The critic (anchor φ_t) runs K_in ascent steps on the proximal inner problem,
   ``φ̃^{k+1} = φ̃^k + α[∇_φV(θ_t, φ̃^k) − λ(φ̃^k − φ_t)]``, ``φ̃⁰ = φ_t``, and moves its
   anchor ``φ_{t+1} = φ_t + r(φ̃^{K_in} − φ_t)`` with ``r = η_φλ`` (``anchor_rate``;
   the envelope theorem gives ``∇_φV_prox = λ(φ̃* − φ)``).
2. The generator observes ``(θ_t, φ_{t+1})`` and steps along the Danskin gradient
   ``∇_θV_prox(θ_t, φ_t) = ∇_θV(θ_t, φ̃^{K_in})``. With ``r = 1`` the anchor *is* the
   inner solution, so the observed gradient is that gradient (no extra query); with
   ``r < 1`` the generator recovers ``φ̃ = φ_t + (φ_{t+1} − φ_t)/r`` from the anchor it
   saw the round before and pays one gradient there.

Convergence of this training does not certify a proximal equilibrium: on T4 with λ = 1
and fast anchors it converges to ``(0, 0)``, which is λ-proximal only for λ ≤ 2/3
(docs/algorithms.md §2.2 warning, §8 T4); report the proximal gap
(``infos["proximal_gap"]``, env option ``prox_lambda``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from agents.transforms import Hyperparameter, positive_number, scale
from gangames.errors import InvalidConfigError
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
    "METHODS",
    "ProximalGeneratorState",
    "danskin_gradient",
    "proximal",
    "proximal_best_response",
    "proximal_critic",
    "proximal_generator",
]

METHODS = ("gradient", "extragradient")
"""The inner-loop steps of :func:`proximal_best_response`."""


def _rate(anchor_rate: float) -> None:
    # r = η_φλ > 1 would overshoot the inner solution; r = 1 saves the generator a
    # gradient, so r decides the cost and is one float for the whole batch.
    positive_number("anchor_rate", anchor_rate, at_most=1.0, per_instance=False)


def proximal_critic(
    prox_lambda: Hyperparameter = 1.0,
    inner_steps: int = 10,
    inner_lr: Hyperparameter = 0.1,
    anchor_rate: float = 1.0,
    inner_method: str = "gradient",
) -> UpdateRule:
    """The critic's rule: K_in proximal ascent steps, then an anchor move.

    In the seat's own-loss terms (own loss ``g``; ``g = −V`` for the discriminator)::

        φ̃⁰ = φ_t
        φ̃^{k+1} = Π[ φ̃^k − α(∇_φ g(θ, φ̃^k) + λ(φ̃^k − φ_t)) ],   k < K_in
        Δ = r (φ̃^{K_in} − φ_t)

    ``Π`` is the seat's projection (free; the identity for unconstrained critics). The
    first inner gradient is the observed one (``φ̃⁰ = φ_t``, where the penalty's
    gradient vanishes). Built as ``rule_from(proximal_best_response(λ, K_in, α),
    scale(r))``; ``inner_method="extragradient"`` takes extragradient inner steps.

    Args:
        prox_lambda: λ > 0.
        inner_steps: K_in ≥ 1.
        inner_lr: α (docs/algorithms.md §2.2: ``α ≤ 1/(L_φ + λ)``).
        anchor_rate: r = η_φλ ∈ (0, 1]; 1 moves the anchor to the inner solution.
        inner_method: ``"gradient"`` or ``"extragradient"`` inner steps
            (:func:`proximal_best_response`).

    Oracle cost per step: ``K_in − 1`` gradients (``2·K_in − 1`` extragradient).

    Example:
        >>> proximal_critic(1.0, inner_steps=20).cost(0)
        19.0
        >>> proximal_critic(1.0, inner_steps=20, inner_method="extragradient").cost(0)
        39.0

    References:
        Farnia & Ozdaglar, ICML 2020 (see :func:`proximal`).
    """
    _rate(anchor_rate)
    return rule_from(
        proximal_best_response(prox_lambda, inner_steps, inner_lr, inner_method),
        scale(anchor_rate),
        name="proximal_critic",
        order="sequential",
    )


def proximal_best_response(
    prox_lambda: Hyperparameter = 1.0,
    inner_steps: int = 10,
    inner_lr: Hyperparameter = 0.1,
    method: str = "gradient",
) -> Transform:
    """Replace the direction by ``φ̃^{K_in} − φ_t``: K_in steps on the proximal problem.

    The inner problem is ``min_φ̃ g(θ, φ̃) + (λ/2)‖φ̃ − φ_t‖²`` (own loss ``g``, anchor
    ``φ_t = obs.own``), with the proximal field ``G(φ̃) = ∇_φ g(θ, φ̃) + λ(φ̃ − φ_t)``
    and ``φ̃⁰ = φ_t``; the incoming direction is taken as ``∇_φ g(θ, φ_t)`` (the
    observed gradient, where the penalty's gradient vanishes). One inner step:

    * ``method="gradient"``: ``φ̃^{k+1} = Π[φ̃^k − α G(φ̃^k)]``;
    * ``method="extragradient"``: ``φ̂ = Π[φ̃^k − α G(φ̃^k)]``,
      ``φ̃^{k+1} = Π[φ̃^k − α G(φ̂)]`` (Korpelevich's step on the inner problem, which
      is strongly monotone in φ̃ whenever λ exceeds g's weak-convexity modulus).

    ``Π`` is the seat's projection (free).

    Args:
        prox_lambda: λ > 0.
        inner_steps: K_in ≥ 1.
        inner_lr: α.
        method: ``"gradient"`` or ``"extragradient"``.

    Cost per step: ``K_in − 1`` gradients (gradient), ``2·K_in − 1`` (extragradient).

    Example:
        >>> proximal_best_response(inner_steps=5, method="extragradient").cost(0)
        9.0
    """
    positive_number("prox_lambda", prox_lambda)
    positive_number("inner_lr", inner_lr)
    if (
        isinstance(inner_steps, bool)
        or not isinstance(inner_steps, int)
        or inner_steps < 1
    ):
        raise InvalidConfigError(
            f"inner_steps must be an int >= 1, got {inner_steps!r}"
        )
    if method not in METHODS:
        raise InvalidConfigError(f"method must be one of {METHODS}, got {method!r}")
    extra = method == "extragradient"

    def update(
        updates: torch.Tensor, state: tuple, obs: Observation, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        anchor = obs.own
        inner = anchor
        grad = updates
        for k in range(inner_steps):
            if k > 0:
                grad = oracle.grad(inner, obs.opponent)
            step = oracle.project(
                inner - inner_lr * (grad + prox_lambda * (inner - anchor))
            )
            if extra:
                half_grad = oracle.grad(step, obs.opponent)
                step = oracle.project(
                    inner - inner_lr * (half_grad + prox_lambda * (step - anchor))
                )
            inner = step
        return inner - anchor, state

    per_step = 2.0 if extra else 1.0
    return Transform(stateless, update, constant_cost(per_step * inner_steps - 1.0))


class ProximalGeneratorState(NamedTuple):
    """The opponent (critic anchor) the generator saw last round."""

    previous: torch.Tensor | None  # (B, d_opp) φ_t; None before the first round


def proximal_generator(
    lr: Hyperparameter = 0.1, anchor_rate: float = 1.0
) -> UpdateRule:
    """The generator's rule: a Danskin step at the critic's inner solution.

    ``θ⁺ = θ − η ∇_θV(θ_t, φ̃)`` with ``φ̃`` the critic's inner solution:

    * ``anchor_rate = 1``: ``φ̃ = φ_{t+1}`` is the observed opponent, and the step
      uses the observed gradient (no extra query);
    * ``anchor_rate = r < 1``: ``φ̃ = φ_t + (φ_{t+1} − φ_t)/r`` from the previous
      opponent ``φ_t`` (kept in the state), one gradient at ``(θ_t, φ̃)``. In the very
      first round no previous anchor has been seen: the rule steps along the observed
      gradient at ``(θ_0, φ_1)`` (the partially moved anchor) and pays nothing extra.

    The reconstruction is exact when the env applies the critic's move unchanged (no
    projection of the anchor, no ``max_update`` clipping).

    Args:
        lr: η_θ.
        anchor_rate: the critic's r (must match :func:`proximal_critic`).

    Oracle cost per step: 0 if ``anchor_rate == 1`` or in the first round, else 1.

    Example:
        >>> rule = proximal_generator(0.1, anchor_rate=0.5)
        >>> rule.cost(0), rule.cost(1)
        (0.0, 1.0)

    References:
        Farnia & Ozdaglar, ICML 2020 (see :func:`proximal`).
    """
    positive_number("lr", lr)
    return rule_from(
        danskin_gradient(anchor_rate),
        scale(-lr),
        name="proximal_generator",
        order="sequential",
    )


def danskin_gradient(anchor_rate: float = 1.0) -> Transform:
    """Replace the direction by ``∇_θV(θ_t, φ̃)`` at the critic's inner solution φ̃.

    With ``anchor_rate = 1`` the observed direction passes through; otherwise ``φ̃ =
    φ_t + (φ_{t+1} − φ_t)/r`` from the anchor seen the round before (see
    :func:`proximal_generator`). Cost: 0 if ``anchor_rate == 1`` or in the first round,
    else 1 gradient.
    """
    _rate(anchor_rate)
    exact = anchor_rate == 1.0

    def init(params: torch.Tensor, stream: Stream) -> ProximalGeneratorState:
        return ProximalGeneratorState(None)

    def update(
        updates: torch.Tensor,
        state: ProximalGeneratorState,
        obs: Observation,
        oracle: SeatOracle,
    ) -> tuple[torch.Tensor, ProximalGeneratorState]:
        if exact or state.previous is None:
            direction = updates
        else:
            inner = state.previous + (obs.opponent - state.previous) / anchor_rate
            direction = oracle.grad(obs.own, inner)
        return direction, ProximalGeneratorState(obs.opponent)

    def cost(step: int) -> float:
        return 0.0 if exact or step == 0 else 1.0

    return Transform(init, update, cost)


def proximal(
    prox_lambda: Hyperparameter = 1.0,
    inner_steps: int = 10,
    inner_lr: Hyperparameter = 0.1,
    lr_generator: Hyperparameter | None = None,
    anchor_rate: float = 1.0,
    lr: Hyperparameter = 0.1,
    inner_method: str = "gradient",
) -> Solver:
    """Proximal training (Farnia & Ozdaglar 2020), critic first in the sequential env.

    One round (docs/algorithms.md §2.2, penalty ``(λ/2)‖φ̃ − φ‖²``)::

        φ̃⁰ = φ_t;  φ̃^{k+1} = φ̃^k + α[∇_φV(θ_t, φ̃^k) − λ(φ̃^k − φ_t)],  k < K_in
        φ_{t+1} = φ_t + r (φ̃^{K_in} − φ_t)                   (r = η_φλ = anchor_rate)
        θ_{t+1} = θ_t − η_θ ∇_θV(θ_t, φ̃^{K_in})             (Danskin)

    The discriminator moves first (its rule: :func:`proximal_critic`), the generator
    then observes ``(θ_t, φ_{t+1})`` (:func:`proximal_generator`). The λ/2 convention:
    a penalty written ``‖φ̃ − φ‖²`` is ``prox_lambda = 2``.

    Args:
        prox_lambda: λ > 0 (λ → ∞ recovers Nash, λ → 0 minimax; Danskin is exact when
            λ exceeds the critic's weak-concavity modulus). Paper values not
            retrieved; sweep {0.1, 1, 10} (docs/algorithms.md §2.2 [ours]).
        inner_steps: K_in (5–20).
        inner_lr: α ≤ 1/(L_φ + λ).
        lr_generator: η_θ (default ``lr``).
        anchor_rate: r = η_φλ ∈ (0, 1]; 1 = the anchor jumps to the inner solution
            ("K_in critic steps with a proximal regulariser, then one G step").
        lr: η_θ where ``lr_generator`` is not given (the name every rule accepts;
            the critic's steps are ``inner_lr`` and ``anchor_rate``).
        inner_method: ``"gradient"`` (the paper's) or ``"extragradient"`` inner steps
            (:func:`proximal_best_response`; 2 gradients per inner step).

    Oracle cost per round: critic ``K_in − 1`` beyond its observed gradient (K_in in
    all), generator 0 (``anchor_rate = 1``; 1 otherwise after the first round) beyond
    its observed gradient — ``K_in + 1`` gradients per round as in docs/algorithms.md §10.

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/NonRealizableGAN-v0", order="sequential",
        ...                     first="discriminator", max_steps=300)
        >>> infos = agents.play(env, proximal(prox_lambda=1.0, inner_steps=20,
        ...                                   inner_lr=0.3), seed=0)
        >>> bool(abs(abs(env.match.state.theta[0, 0]) - 2**-0.5) < 1e-3)
        True

        With extragradient inner steps (an inner loop that also handles rotational
        inner problems):

        >>> env = gangames.make("gangames/NonRealizableGAN-v0", order="sequential",
        ...                     first="discriminator", max_steps=300)
        >>> infos = agents.play(env, proximal(prox_lambda=1.0, inner_steps=10,
        ...                                   inner_lr=0.3,
        ...                                   inner_method="extragradient"), seed=0)
        >>> bool(abs(abs(env.match.state.theta[0, 0]) - 2**-0.5) < 1e-3)
        True

    References:
        * Farnia & Ozdaglar, "Do GANs always have Nash equilibria?", ICML 2020
          (arXiv 2002.09124).
        * Sidheekh, Aimen & Krishnan, "On characterizing GAN convergence through
          proximal duality gap", ICML 2021 — the proximal gap to monitor it with.
    """
    positive_number("lr", lr)
    return Solver(
        proximal_generator(lr if lr_generator is None else lr_generator, anchor_rate),
        proximal_critic(prox_lambda, inner_steps, inner_lr, anchor_rate, inner_method),
        "proximal",
        order="sequential",
        first="discriminator",
    )
