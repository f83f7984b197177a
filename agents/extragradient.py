"""Extragradient and optimistic gradient descent–ascent (docs/algorithms.md §1).

Both fix the rotation that makes gradient descent–ascent diverge on bilinear games by
looking one step ahead: extragradient queries the field at an extrapolated point,
optimistic GDA reuses the previous gradient as a free estimate of it. With the game
vector field ``F(z) = (∇_θV, −∇_φV)`` and step η::

    extragradient:   z̃ = Π(z − ηF(z)),   z⁺ = Π(z − ηF(z̃))
    optimistic GDA:  z⁺ = Π(z − 2ηF(z) + ηF(z⁻))

Known answers (docs/algorithms.md §8 T1): on ``V = θᵀAφ`` extragradient contracts the
distance to the equilibrium by ``√(1 − η²σ² + η⁴σ⁴) < 1`` per round for each singular
value σ of A (ησ < 1), optimistic GDA converges linearly as well.
"""

from __future__ import annotations

import torch

from agents.transforms import (
    Hyperparameter,
    projected_step,
    scale,
    scale_by_optimism,
    seat_steps,
)
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

__all__ = ["extragradient", "extrapolate", "optimistic_gda"]


def extrapolate(lr: Hyperparameter, opponent_lr: Hyperparameter) -> Transform:
    """Replace the direction by the own-loss gradient at the extrapolated point.

    Both points are extrapolated, each with its own step and projection — the own point
    with the observed gradient, the opponent's with ``obs.opponent_gradient`` (from the
    same pass, free)::

        x̃ = Π_X(x − η_x g_x(x, y)),   ỹ = Π_Y(y − η_y g_y(x, y)),   out = g_x(x̃, ỹ)

    Args:
        lr: this seat's step η_x.
        opponent_lr: the opponent's step η_y (so both seats extrapolate to the same z̃).

    Cost: 1 grad per step (``oracle.grad`` at ``(x̃, ỹ)``).
    """

    def update(
        updates: torch.Tensor, state: tuple, obs: Observation, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        own = projected_step(obs.own, updates, lr, oracle.project)
        opponent = projected_step(
            obs.opponent, obs.opponent_gradient, opponent_lr, oracle.project_opponent
        )
        return oracle.grad(own, opponent), state

    return Transform(stateless, update, constant_cost(1.0))


def extragradient(
    lr: Hyperparameter = 0.1,
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
) -> Solver:
    """Extragradient (Korpelevich, 1976), projected, with per-seat step sizes.

    Update, with ``F = (g_θ, g_φ)`` the seats' own-loss gradients and ``η = (η_θ, η_φ)``
    applied seat-wise::

        z̃ = Π(z − ηF(z)),     z⁺ = Π(z − ηF(z̃))

    Each seat computes the whole extrapolated point ``z̃`` itself (its own coordinates
    with its observed gradient, the opponent's with the opponent's observed gradient
    and step size), then queries its own gradient there.

    Args:
        lr: step size η of both seats.
        lr_generator: η_θ (default ``lr``).
        lr_discriminator: η_φ (default ``lr``).

    Oracle cost per step: 1 grad per seat beyond the observed gradient (4 grads a
    round, "2 oracle calls" in the variational-inequality literature).

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Bilinear-v0", max_steps=200)
        >>> infos = agents.play(env, extragradient(lr=0.3), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-2 * infos[0]["distance"])
        True

    References:
        * Korpelevich, "The extragradient method for finding saddle points and other
          problems", Ekonomika i Matematicheskie Metody 12, 1976.
        * Gidel, Berard, Vignoud, Vincent & Lacoste-Julien, "A variational inequality
          perspective on generative adversarial networks", ICLR 2019.
        * Mokhtari, Ozdaglar & Pattathil, "A unified analysis of extra-gradient and
          optimistic gradient methods for saddle point problems: proximal point
          approach", AISTATS 2020.
    """
    steps = seat_steps(lr, lr_generator, lr_discriminator)
    g, d = (
        rule_from(
            extrapolate(steps.own(seat), steps.opponent(seat)),
            scale(-steps.own(seat)),
            name="extragradient",
        )
        for seat in SEATS
    )
    return Solver(g, d, "extragradient")


def optimistic_gda(
    lr: Hyperparameter = 0.1,
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
) -> Solver:
    """Optimistic gradient descent–ascent (Popov's past extragradient).

    Update, per seat with its own-loss gradients ``g_n`` at the current point and
    ``g_{n−1}`` at the previous one (``g_{−1} = g_0``: the first step is plain GDA)::

        x⁺ = Π(x − 2η g_n + η g_{n−1})

    Args:
        lr: step size η of both seats.
        lr_generator: η_θ (default ``lr``).
        lr_discriminator: η_φ (default ``lr``).

    Oracle cost per step: 0 beyond the observed gradient (the previous gradient is
    kept in the state; 2 grads a round).

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/Bilinear-v0", max_steps=200)
        >>> infos = agents.play(env, optimistic_gda(lr=0.3), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-2 * infos[0]["distance"])
        True

    References:
        * Popov, "A modification of the Arrow–Hurwicz method for search of saddle
          points", Mathematical Notes 28, 1980.
        * Daskalakis, Ilyas, Syrgkanis & Zeng, "Training GANs with optimism", ICLR 2018.
        * Mokhtari, Ozdaglar & Pattathil, AISTATS 2020 (linear rate on bilinear games).
    """
    steps = seat_steps(lr, lr_generator, lr_discriminator)
    g, d = (
        rule_from(scale_by_optimism(), scale(-steps.own(seat)), name="optimistic_gda")
        for seat in SEATS
    )
    return Solver(g, d, "optimistic_gda")
