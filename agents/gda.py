"""Gradient descent–ascent: simultaneous, two-timescale, alternating, and with Adam.

The classical baselines of docs/algorithms.md §1. Each seat minimises its own loss (the
generator ``V``, the discriminator ``−V``), so descent on the own-loss gradient ``g`` is
ascent on ``V`` for the discriminator and one rule sits in either seat:

=====================  ========================================================  ==========
solver                 update (per seat, step η_seat)                            cost/round
=====================  ========================================================  ==========
``gda``                ``x⁺ = Π(x − η g(z))`` for both seats at the same z        2 grads
``alternating_gda``    first mover steps, the second observes the moved point;     n_D + 1
                       the discriminator takes ``n_critic`` projected steps
``adam``               ``x⁺ = Π(x − η m̂/(√v̂ + ε))`` on the GDA direction          2 grads
=====================  ========================================================  ==========

Two-timescale GDA (Heusel et al., 2017) is ``gda`` with ``lr_discriminator ≫
lr_generator``. The environment applies ``x ← Π(x + Δ)``, so a rule returns the step Δ.

Known answers (docs/algorithms.md §8): on the bilinear game with singular value σ simultaneous
GDA multiplies the distance to the equilibrium by ``√(1 + η²σ²)`` per round (geometric
divergence), alternating GDA has an update matrix of determinant 1 and cycles (bounded,
no convergence) for ``ησ < 2``; on Dirac-GAN GDA spirals out and alternating GDA
cycles, and both converge with a zero-centred R1/R2 penalty (Mescheder et al., 2018).
"""

from __future__ import annotations

import torch

from agents.transforms import (
    Hyperparameter,
    positive_number,
    projected_step,
    scale,
    scale_by_adam,
    seat_steps,
)
from gangames.errors import InvalidConfigError
from gangames.oracle import SeatOracle
from gangames.rules import (
    Observation,
    Solver,
    Transform,
    constant_cost,
    rule_from,
    stateless,
)
from gangames.types import SEATS

__all__ = ["adam", "alternating_gda", "critic_steps", "gda"]


def gda(
    lr: Hyperparameter = 0.1,
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
) -> Solver:
    """Simultaneous gradient descent–ascent (two-timescale with per-seat step sizes).

    Update, both seats at the same point ``z = (θ, φ)``::

        θ⁺ = Π_Θ(θ − η_θ ∇_θV(z)),     φ⁺ = Π_Φ(φ + η_φ ∇_φV(z))

    Args:
        lr: step size η of both seats.
        lr_generator: η_θ (default ``lr``).
        lr_discriminator: η_φ (default ``lr``); ``η_φ/η_θ ≫ 1`` is two-timescale GDA.

    Oracle cost per step: 0 beyond the observed gradient (1 grad per seat, 2 a round).

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Quadratic-v0", max_steps=100)
        >>> infos = agents.play(env, gda(lr=0.1), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-2 * infos[0]["distance"])
        True

    References:
        * Arrow, Hurwicz & Uzawa, "Studies in linear and non-linear programming", 1958.
        * Heusel, Ramsauer, Unterthiner, Nessler & Hochreiter, "GANs trained by a two
          time-scale update rule converge to a local Nash equilibrium", NeurIPS 2017.
        * Mescheder, Geiger & Nowozin, "Which training methods for GANs do actually
          converge?", ICML 2018 (divergence on Dirac-GAN).
    """
    steps = seat_steps(lr, lr_generator, lr_discriminator)
    g, d = (rule_from(scale(-steps.own(seat)), name="gda") for seat in SEATS)
    return Solver(g, d, "gda")


def critic_steps(lr: Hyperparameter, n: int) -> Transform:
    """``n`` projected gradient steps from the observed point; the result is the Δ.

    ``x_0 = x``, ``x_{k+1} = Π(x_k − η g(x_k, y))`` with ``g(x_0, y)`` the observed gradient
    and each later one an ``oracle.grad`` at the moved own point (opponent fixed), so
    the chain ends with ``Δ = x_n − x``. Cost: ``n − 1`` grads per step.

    Args:
        lr: step size η.
        n: number of steps (≥ 1).
    """

    def update(
        updates: torch.Tensor, state: tuple, obs: Observation, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        x = projected_step(obs.own, updates, lr, oracle.project)
        for _ in range(n - 1):  # a Python int loop over inner steps, not instances
            x = projected_step(x, oracle.grad(x, obs.opponent), lr, oracle.project)
        return x - obs.own, state

    return Transform(stateless, update, constant_cost(float(n - 1)))


def alternating_gda(
    lr: Hyperparameter = 0.1,
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
    n_critic: int = 1,
    first: str = "generator",
) -> Solver:
    """Alternating gradient descent–ascent with ``n_critic`` critic steps per round.

    Plays the sequential (AEC) env: the first mover steps, then the second observes the
    moved point. With the generator first (the default)::

        θ⁺ = Π_Θ(θ − η_θ ∇_θV(θ, φ))
        φ_0 = φ,  φ_{k+1} = Π_Φ(φ_k + η_φ ∇_φV(θ⁺, φ_k)),  φ⁺ = φ_{n_critic}

    and with ``first="discriminator"`` the critic's steps come before the generator's
    (docs/algorithms.md §1; the WGAN schedule is ``n_critic = 5``, discriminator first).

    Args:
        lr: step size η of both seats.
        lr_generator: η_θ (default ``lr``).
        lr_discriminator: η_φ (default ``lr``).
        n_critic: discriminator steps per round (≥ 1).
        first: the first mover, ``"generator"`` or ``"discriminator"``.

    Oracle cost per step: generator 0, discriminator ``n_critic − 1`` grads beyond the
    observed gradient (``n_critic + 1`` grads a round).

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Bilinear-v0", order="sequential", max_steps=50)
        >>> infos = agents.play(env, alternating_gda(lr=0.1), seed=0)
        >>> len(infos)
        51

    References:
        * Gidel, Hemmat, Pezeshki, Le Priol, Huang, Lacoste-Julien & Mitliagkas,
          "Negative momentum for improved game dynamics", AISTATS 2019 (alternating
          GDA is bounded on bilinear games).
        * Arjovsky, Chintala & Bottou, "Wasserstein GAN", ICML 2017 (``n_critic``).
        * Mescheder, Geiger & Nowozin, ICML 2018 (alternating GD cycles on Dirac-GAN).
    """
    steps = seat_steps(lr, lr_generator, lr_discriminator)
    if isinstance(n_critic, bool) or not isinstance(n_critic, int) or n_critic < 1:
        raise InvalidConfigError(f"n_critic must be an int ≥ 1, got {n_critic!r}")
    if first not in SEATS:
        raise InvalidConfigError(f"first must be one of {SEATS}, got {first!r}")
    g = rule_from(scale(-steps.generator), name="alternating_gda", order="sequential")
    d = rule_from(
        critic_steps(steps.discriminator, n_critic),
        name="alternating_gda",
        order="sequential",
    )
    return Solver(g, d, "alternating_gda", order="sequential", first=first)


def adam(
    lr: Hyperparameter = 2e-4,
    b1: float = 0.5,
    b2: float = 0.999,
    eps: float = 1e-8,
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
) -> Solver:
    """Simultaneous GDA with per-seat Adam preconditioning (GAN defaults).

    Per seat, with its own-loss gradient ``g_n`` and step count ``n ≥ 1``::

        m_n = β₁ m_{n−1} + (1 − β₁) g_n,     v_n = β₂ v_{n−1} + (1 − β₂) g_n²
        x⁺ = Π(x − η (m_n/(1 − β₁ⁿ)) / (√(v_n/(1 − β₂ⁿ)) + ε))

    Args:
        lr: step size η of both seats (DCGAN default 2e-4).
        b1: β₁ ∈ [0, 1) (GAN default 0.5).
        b2: β₂ ∈ [0, 1).
        eps: ε > 0.
        lr_generator: η_θ (default ``lr``).
        lr_discriminator: η_φ (default ``lr``).

    Oracle cost per step: 0 beyond the observed gradient.

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Quadratic-v0", max_steps=300)
        >>> infos = agents.play(env, adam(lr=0.05), seed=0)
        >>> bool(infos[-1]["distance"] < 0.1 * infos[0]["distance"])
        True

    References:
        * Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015.
        * Radford, Metz & Chintala, "Unsupervised representation learning with deep
          convolutional GANs", ICLR 2016 (η = 2e-4, β₁ = 0.5).
    """
    steps = seat_steps(lr, lr_generator, lr_discriminator)
    # β₁, β₂, ε enter through Python powers in the bias correction (torch's pow is not
    # Python's in the last bit), so they are one float for the whole batch.
    for name, value in (("b1", b1), ("b2", b2)):
        positive_number(name, value, allow_zero=True, below=1.0, per_instance=False)
    positive_number("eps", eps, per_instance=False)
    g, d = (
        rule_from(scale_by_adam(b1, b2, eps), scale(-steps.own(seat)), name="adam")
        for seat in SEATS
    )
    return Solver(g, d, "adam")
