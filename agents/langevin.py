"""Mixed strategies: particle Langevin descent–ascent and Mirror-GAN (docs/algorithms.md §4).

Two ways to chase a *mixed* equilibrium — the one a GAN has when no pure equilibrium
exists (Hsieh, Liu & Cevher, 2019):

* :func:`langevin` moves a cloud of K particles per seat, played on the mixed lift
  ``gangames.make(id, particles=K)`` (:func:`gangames.game.mixed`). Each particle
  follows its mean-field drift against the opponent's whole cloud, plus a Gaussian
  prior and Langevin noise. This is the agent that reaches mixed equilibria (§4.4).
* :func:`mirror_gan` is Hsieh et al.'s "mean approximation": each seat keeps one
  parameter vector (the mean of its measure) and moves it towards the running average
  of a short SGLD chain against the opponent's current mean (§4.3). It plays pure
  strategies and therefore cannot reach a small gap in games with no pure equilibrium
  (docs/algorithms.md T5: the pure Nash gap stays ≥ 3/8).

Example:
    >>> import agents, gangames
    >>> from agents.langevin import langevin
    >>> env = gangames.make("gangames/CirclePursuit-v0", particles=16, max_steps=20)
    >>> infos = agents.play(env, langevin(lr=0.1, temperature=0.05), seed=0)
    >>> len(infos)
    21
"""

from __future__ import annotations

import torch

from agents.transforms import (
    Hyperparameter,
    NoiseState,
    add_decayed_weights,
    add_noise,
    constant,
    positive_number,
    scale,
    scale_by_particles,
    sqrt,
)
from gangames.errors import InvalidConfigError
from gangames.oracle import SeatOracle
from gangames.rules import Observation, Solver, UpdateRule, constant_cost, rule_from

__all__ = ["MirrorState", "langevin", "langevin_rule", "mirror_gan", "mirror_gan_rule"]


def langevin_rule(
    lr: Hyperparameter, temperature: Hyperparameter, prior_std: float | None = None
) -> UpdateRule:
    """One seat's particle Langevin step (see :func:`langevin`)."""
    lr = positive_number("lr", lr)
    temperature = positive_number("temperature", temperature, allow_zero=True)
    pieces = [scale_by_particles()]
    if prior_std is not None:
        prior_std = positive_number("prior_std", prior_std, per_instance=False)
        pieces.append(add_decayed_weights(temperature / prior_std**2))
    pieces += [scale(-lr), add_noise(constant(sqrt(2.0 * lr * temperature)))]
    return rule_from(*pieces, name="langevin")


def langevin(
    lr: Hyperparameter = 0.05,
    temperature: Hyperparameter = 0.01,
    prior_std: float | None = None,
) -> Solver:
    """Particle Langevin descent–ascent on a mixed lift (Hsieh et al. 2019, §4.4).

    Each seat holds K particles (the flat parameters of ``mixed(game, K)``); both seats
    minimise their own loss, so for the generator (the critic is symmetric, with −V)::

        θ_i ← θ_i − η [ (1/K) Σ_j ∇_θV(θ_i, φ_j) + (τ/σ₀²) θ_i ] + √(2ητ) ξ_i,
        ξ_i ~ N(0, I)

    The observed gradient of the lift with respect to particle i is
    ``(1/K²) Σ_j ∇_θV(θ_i, φ_j)``; the rule multiplies it by K (read off the seat's
    game if it is a :class:`gangames.game.Mixed`, else K = 1) to get the mean-field
    drift. The stationary law is the equilibrium of the entropy-regularised game
    ``V + τ KL(ν‖prior) − τ KL(μ‖prior)``, whose Nikaidô–Isoda gap shrinks as τ → 0
    (plus a Monte-Carlo error ~ 1/√K). ``temperature = 0`` is noise-free particle GDA,
    which collapses each cloud in games such as CirclePursuit (docs/algorithms.md T6).
    The noise comes from the rule's keyed stream, so a batch equals single runs.

    Built as ``rule_from(scale_by_particles(), add_decayed_weights(τ/σ₀²), scale(−η),
    add_noise(√(2ητ)))``. On a pure (unlifted) game it is stochastic gradient Langevin
    descent–ascent with K = 1.

    Args:
        lr: step size η > 0.
        temperature: τ ≥ 0 (the noise variance per step is 2ητ).
        prior_std: σ₀ of the Gaussian prior N(0, σ₀²I); ``None`` means a flat prior
            (no weight decay).

    Oracle cost per step: nothing beyond the observed gradient (one gradient of the
    lift per seat; docs/algorithms.md §10 counts it as K pooled passes in a GAN).

    Example:
        >>> import agents, gangames
        >>> env = gangames.make(
        ...     "gangames/NonRealizableGAN-v0", particles=32, max_steps=300
        ... )
        >>> infos = agents.play(env, langevin(lr=0.05, temperature=1e-3), seed=0)
        >>> bool(infos[-1]["duality_gap"] < infos[0]["duality_gap"])
        True

    References:
        Y.-P. Hsieh, C. Liu, V. Cevher. "Finding Mixed Nash Equilibria of Generative
        Adversarial Networks." ICML 2019.
        C. Domingo-Enrich, S. Jelassi, A. Mensch, G. Rotskoff, J. Bruna. "A mean-field
        analysis of two-player zero-sum games." NeurIPS 2020.
    """
    rule = langevin_rule(lr, temperature, prior_std)
    return Solver(rule, rule, "langevin")


MirrorState = NoiseState
"""The keyed stream the chain's Langevin noise is drawn from."""


def mirror_gan_rule(
    lr: Hyperparameter,
    noise: Hyperparameter,
    chain_length: int = 10,
    beta: Hyperparameter = 0.1,
) -> UpdateRule:
    """One seat's Mirror-GAN step (see :func:`mirror_gan`)."""
    lr = positive_number("lr", lr)
    noise = positive_number("noise", noise, allow_zero=True)
    beta = positive_number("beta", beta, at_most=1.0)
    if (
        isinstance(chain_length, bool)
        or not isinstance(chain_length, int)
        or chain_length < 1
    ):
        raise InvalidConfigError(
            f"chain_length must be a positive int, got {chain_length!r}"
        )
    std = sqrt(2.0 * lr) * noise

    def update(
        obs: Observation, state: MirrorState, oracle: SeatOracle
    ) -> tuple[torch.Tensor, MirrorState]:
        s = state.resume()
        x, mean, grad = obs.own, obs.own, obs.gradient
        for k in range(chain_length):
            if k > 0:  # the chain's first gradient is the observed one
                grad = oracle.grad(x, obs.opponent)
            xi = s.normal(tuple(x.shape[1:]), dtype=x.dtype).to(x.device)
            # Chain iterates stay feasible (free projection), so every gradient is
            # queried inside the game's domain.
            x = oracle.project(x - lr * grad + std * xi)
            mean = (1 - beta) * mean + beta * x
        return beta * (mean - obs.own), MirrorState(s)

    return UpdateRule(
        NoiseState.start, update, "mirror_gan", constant_cost(chain_length - 1.0)
    )


def mirror_gan(
    lr: Hyperparameter = 0.05,
    noise: Hyperparameter = 0.01,
    chain_length: int = 10,
    beta: Hyperparameter = 0.1,
) -> Solver:
    """Mirror-GAN: entropic mirror descent with the mean approximation (§4.3).

    Each seat stores one vector x_t, the mean of its measure, and per outer step runs
    an SGLD chain of K = ``chain_length`` steps against the opponent's *current mean*
    y_t (the opponent is frozen during the chain)::

        x⁽¹⁾ = x̄ = x_t
        for k = 1..K:
            x⁽ᵏ⁺¹⁾ = Π( x⁽ᵏ⁾ − γ ∇_x f(x⁽ᵏ⁾, y_t) + √(2γ) ε ξ_k )
            x̄ ← (1 − β) x̄ + β x⁽ᵏ⁺¹⁾                 (running mean of the chain)
        x_{t+1} = (1 − β) x_t + β x̄                    (damped update)

    with f the seat's own loss (V for the generator, −V for the critic), Π the seat's
    feasible set (free) and ξ_k ~ N(0, I) from the rule's keyed stream. It stays a
    *pure* strategy: in games without a pure equilibrium (NonRealizableGAN, T5) its
    pure Nash gap never drops below 3/(8γ).

    Args:
        lr: SGLD step γ > 0.
        noise: thermal noise ε ≥ 0 (temperature ε²; ε = 1 is exact Langevin).
        chain_length: K ≥ 1, SGLD steps per outer step (no burn-in).
        beta: damping/averaging factor β ∈ (0, 1].

    Oracle cost per step: ``chain_length − 1`` gradients per seat beyond the observed
    one (the chain's first gradient is the observation), i.e. 2K per round in all, as
    in docs/algorithms.md §10.

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/NonRealizableGAN-v0", max_steps=20)
        >>> infos = agents.play(env, mirror_gan(lr=0.05), seed=0)
        >>> min(float(i["duality_gap"]) for i in infos) >= 0.375 - 1e-6
        True

    References:
        Y.-P. Hsieh, C. Liu, V. Cevher. "Finding Mixed Nash Equilibria of Generative
        Adversarial Networks." ICML 2019 (Algorithm "Mirror-GAN"; defaults here are
        ours, docs/algorithms.md §4.3 [recalled]).
    """
    rule = mirror_gan_rule(lr, noise, chain_length, beta)
    return Solver(rule, rule, "mirror_gan")
