"""Equilibrium-gap metrics: pure functions of ``(game, instance, θ, φ)``, never charged.

Notation (docs/algorithms.md §7): best-response values ``Φ(θ) = max_φ V(θ, φ)`` and
``Ψ(φ) = min_θ V(θ, φ)``, read from the game's closed forms
(:meth:`~gangames.game.Game.best_response_value`).

* Exploitability of each seat — how much it loses by not best-responding:
  ``e_G = V(θ, φ) − Ψ(φ)`` and ``e_D = Φ(θ) − V(θ, φ)``, both ``≥ 0``.
* Nash duality gap ``DG = Φ(θ) − Ψ(φ) = e_G + e_D``; zero exactly at a (global) Nash
  equilibrium. For a game lifted by :func:`~gangames.game.mixed` the same formulas give
  the Nikaidô–Isoda gap of the particle clouds (best responses to mixtures are pure).
* Proximal duality gap (Sidheekh, Aimen & Krishnan, ICML 2021, after Farnia & Ozdaglar,
  ICML 2020): ``DG^λ = Φ(θ) − min_θ' V_prox^λ(θ', φ)`` with
  ``V_prox^λ(θ, φ) = max_φ̃ V(θ, φ̃) − (λ/2)‖φ̃ − φ‖²``; ``0 ≤ DG^λ ≤ DG`` and zero
  exactly at a λ-proximal equilibrium. It splits at ``V_prox^λ(θ, φ)`` into
  ``e_G^λ = V_prox(θ, φ) − min_θ' V_prox(θ', φ)`` and ``e_D^λ = Φ(θ) − V_prox(θ, φ)``.
* Gradient-field norm ``‖F(z)‖ = ‖(∇_θ L_G, ∇_φ L_D)‖`` of each player's own loss
  (``‖(∇_θV, −∇_φV)‖`` in zero-sum games; docs/algorithms.md §7) at the exact (noise-free,
  full-data) point; games without an exact expectation (neural GANs) evaluate it on
  their fixed held-out evaluation set (``data=None``).
* Distance to the game's known equilibrium set, where the game knows it.

A metric the game cannot compute in closed form is ``None`` (never a guess).

Restricted gaps. Where the true gap is infinite (unconstrained bilinear-type games) the
game restricts best responses to a bounded set (Nesterov's restricted merit function;
``game.gap_estimator`` names the set). A point outside that set could then
"out-respond" its own best response, so each seat's best response ranges over the set
*and its current point*: ``e_D = max(Φ_R(θ), V) − V ≥ 0`` and
``e_G = V − min(Ψ_R(φ), V) ≥ 0``. For exact gaps this changes nothing but rounding;
the proximal parts are treated the same way.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from gangames.game import Capabilities, Game
from gangames.types import Instance

__all__ = [
    "Metrics",
    "distance",
    "duality_gap",
    "evaluate",
    "exploitability",
    "gradient_norm",
    "proximal_exploitability",
    "proximal_gap",
]


class Metrics(NamedTuple):
    """Every metric of one point, each of shape ``(B,)`` or ``None`` if unavailable."""

    value: torch.Tensor
    exploitability_generator: torch.Tensor | None
    exploitability_discriminator: torch.Tensor | None
    duality_gap: torch.Tensor | None
    proximal_gap: torch.Tensor | None
    proximal_exploitability_generator: torch.Tensor | None
    proximal_exploitability_discriminator: torch.Tensor | None
    grad_norm: torch.Tensor | None
    distance: torch.Tensor | None


def exploitability(
    game: Game, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(e_G, e_D) = (V − Ψ(φ), Φ(θ) − V)``, or ``None`` without closed-form best responses."""
    with torch.no_grad():
        psi = game.best_response_value(instance, "generator", phi)
        phi_val = game.best_response_value(instance, "discriminator", theta)
        if psi is None or phi_val is None:
            return None
        v = game.value(instance, theta, phi)
        return (v - psi).clamp_min(0.0), (phi_val - v).clamp_min(0.0)


def duality_gap(
    game: Game, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
) -> torch.Tensor | None:
    """Nash duality gap ``Φ(θ) − Ψ(φ)``, shape ``(B,)``."""
    e = exploitability(game, instance, theta, phi)
    return None if e is None else e[0] + e[1]


def proximal_exploitability(
    game: Game, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(e_G^λ, e_D^λ)``: the proximal gap split at ``V_prox^λ(θ, φ)``."""
    with torch.no_grad():
        best = game.best_response_value(instance, "discriminator", theta)
        here = game.proximal_objective(instance, theta, phi, lam)
        low = game.proximal_value(instance, phi, lam)
        if best is None or here is None or low is None:
            return None
        return (here - low).clamp_min(0.0), (best - here).clamp_min(0.0)


def proximal_gap(
    game: Game, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
) -> torch.Tensor | None:
    """Proximal duality gap ``DG^λ = Φ(θ) − min_θ' V_prox^λ(θ', φ)``."""
    parts = proximal_exploitability(game, instance, theta, phi, lam)
    return None if parts is None else parts[0] + parts[1]


def gradient_norm(
    game: Game, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
) -> torch.Tensor:
    """``‖F(z)‖`` of the own-loss gradients (no minibatch, no gradient noise)."""
    _, g_theta, g_phi = game.value_and_loss_gradients(instance, theta, phi, None)
    return torch.cat([g_theta, g_phi], dim=-1).norm(dim=-1)


def distance(
    game: Game, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
) -> torch.Tensor | None:
    """Distance to the known equilibrium set, or ``None``."""
    with torch.no_grad():
        return game.equilibrium_distance(instance, theta, phi)


def evaluate(
    game: Game,
    instance: Instance,
    theta: torch.Tensor,
    phi: torch.Tensor,
    *,
    prox_lambda: float = 1.0,
    exact: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    value: torch.Tensor | None = None,
    proximal: bool = True,
    extras: bool = True,
    capabilities: Capabilities | None = None,
) -> Metrics:
    """Every metric at ``(θ, φ)`` in one call (closed forms only; uncharged).

    Args:
        game: the game.
        instance: its instance.
        theta: generator parameters ``(B, d_G)``.
        phi: discriminator parameters ``(B, d_D)``.
        prox_lambda: λ of the proximal gap.
        exact: ``(V, ∇_θ L_G, ∇_φ L_D)`` of the exact game at this point, if already
            known (the env passes its observation pass in deterministic games), to
            avoid computing them twice.
        value: ``V`` at this point if already known and no gradients are wanted (the
            env passes the minibatch value of its observation pass in lean stochastic
            games); used for every metric that needs ``V``.
        proximal: compute the proximal gap and its parts (else ``None``).
        extras: compute the gradient norm and the distance (else ``None``).
        capabilities: the game's :attr:`~gangames.game.Game.capabilities`, if the
            caller holds them: the methods it declares it lacks (which return
            ``None``) are then not called. ``None``: call every method.
    """
    if capabilities is not None:
        proximal = proximal and capabilities.proximal_gap
        best_responses, has_distance = (
            capabilities.best_responses,
            capabilities.distance,
        )
    else:
        best_responses = has_distance = True
    with torch.no_grad():
        grads: tuple[torch.Tensor, torch.Tensor] | None = None
        if exact is not None:
            v, grads = exact[0], (exact[1], exact[2])
        elif extras:
            v, g_t, g_p = game.value_and_loss_gradients(instance, theta, phi, None)
            grads = (g_t, g_p)
        elif value is not None:
            v = value
        else:  # only the value is needed: no backward pass (lean envs, neural games)
            v = game.value(instance, theta, phi, None)
        psi, best = (
            game.best_response_values(instance, theta, phi, exact)
            if best_responses
            else (None, None)
        )
        e_g = None if psi is None else (v - psi).clamp_min(0.0)
        e_d = None if best is None else (best - v).clamp_min(0.0)
        here = (
            game.proximal_objective(instance, theta, phi, prox_lambda)
            if proximal
            else None
        )
        low = game.proximal_value(instance, phi, prox_lambda) if proximal else None
        # The proximal gap and its two parts are known together or not at all.
        pe_g: torch.Tensor | None = None
        pe_d: torch.Tensor | None = None
        prox: torch.Tensor | None = None
        if here is not None and low is not None and best is not None:
            pe_g, pe_d = (here - low).clamp_min(0.0), (best - here).clamp_min(0.0)
            prox = pe_g + pe_d
        return Metrics(
            value=v,
            exploitability_generator=e_g,
            exploitability_discriminator=e_d,
            duality_gap=None if e_g is None or e_d is None else e_g + e_d,
            proximal_gap=prox,
            proximal_exploitability_generator=pe_g,
            proximal_exploitability_discriminator=pe_d,
            grad_norm=torch.linalg.vector_norm(torch.cat(grads, dim=-1), dim=-1)
            if extras and grads is not None
            else None,
            distance=game.equilibrium_distance(instance, theta, phi)
            if extras and has_distance
            else None,
        )
