"""Particle Langevin and Mirror-GAN (docs/algorithms.md §4) against known answers (§8 T5, T6)."""

from __future__ import annotations

import math

import pytest
import torch

import agents
import gangames
from agents.langevin import langevin, langevin_rule, mirror_gan, mirror_gan_rule
from gangames.errors import InvalidConfigError
from gangames.game import mixed
from gangames.games.circle import CirclePursuit
from gangames.games.nonrealizable import NonRealizableGAN
from gangames.oracle import Oracle
from gangames.random import Stream
from gangames.testing import check_rule
from tests.agents.scaffold import observation, series

F64 = torch.float64


# ---- the update-rule contract -----------------------------------------------------


@pytest.mark.parametrize(
    ("solver", "env_id", "options"),
    [
        (langevin(lr=0.05, temperature=0.01), "gangames/NonRealizableGAN-v0", {}),
        (
            langevin(lr=0.05, temperature=0.01, prior_std=2.0),
            "gangames/NonRealizableGAN-v0",
            {"particles": 4},
        ),
        (
            langevin(lr=0.1, temperature=0.1),
            "gangames/CirclePursuit-v0",
            {"particles": 8},
        ),
        (
            mirror_gan(lr=0.05, noise=0.1, chain_length=4),
            "gangames/NonRealizableGAN-v0",
            {},
        ),
        (
            mirror_gan(lr=0.05, noise=0.1, chain_length=1),
            "gangames/Bilinear-v0",
            {"box": 1.0},
        ),
    ],
    ids=[
        "langevin-pure",
        "langevin-K4-prior",
        "langevin-circle-K8",
        "mirror4",
        "mirror1-box",
    ],
)
def test_check_rule(solver, env_id, options):
    check_rule(solver, env_id, **options)


def test_registered_and_bad_hyperparameters_refused():
    assert {"langevin", "mirror_gan"} <= set(agents.names())
    assert agents.make("langevin", lr=0.1, temperature=0.0).name == "langevin"
    for bad in (
        {"lr": 0.0, "temperature": 0.1},
        {"lr": 0.1, "temperature": -1.0},
        {"lr": 0.1, "temperature": 0.1, "prior_std": 0.0},
        {"lr": "0.1", "temperature": 0.1},
    ):
        with pytest.raises(InvalidConfigError):
            agents.make("langevin", **bad)
    for bad in (
        {"chain_length": 0},
        {"beta": 1.5},
        {"noise": -0.1},
        {"chain_length": 2.0},
    ):
        with pytest.raises(InvalidConfigError):
            agents.make("mirror_gan", **bad)


# ---- one step by hand --------------------------------------------------------------


def test_langevin_drift_is_the_particle_mean_field_gradient():
    """τ = 0 on CirclePursuit with K = 2: Δθ_i = −η (1/K) Σ_j sin(φ_j − θ_i) (by hand)."""
    game = mixed(CirclePursuit(), particles=2)
    theta = torch.tensor([[0.0, 1.0]], dtype=F64)
    phi = torch.tensor([[0.3, 2.5]], dtype=F64)
    oracle = Oracle(game, {"_batch": torch.zeros(1, dtype=F64)}, Stream.from_seeds([0]))
    own_grad, opp_grad, _ = oracle.observe("generator", theta, phi)
    lr = 0.1
    rule = langevin_rule(lr, temperature=0.0)
    state = rule.init(theta, Stream.from_seeds([1]))
    delta, _ = rule.update(
        observation(theta, phi, own_grad, opp_grad), state, oracle.view("generator")
    )
    # ∂/∂θ cos(θ − φ) = −sin(θ − φ); the generator descends.
    want = [-lr * sum(-math.sin(t - p) for p in (0.3, 2.5)) / 2 for t in (0.0, 1.0)]
    torch.testing.assert_close(delta[0], torch.tensor(want, dtype=F64))
    # The critic ascends with the same 1/K mean (its loss is −V).
    rule_d = langevin_rule(lr, temperature=0.0)
    delta_d, _ = rule_d.update(
        observation(phi, theta, opp_grad, own_grad),
        rule_d.init(phi, Stream.from_seeds([2])),
        oracle.view("discriminator"),
    )
    want_d = [lr * sum(math.sin(t - p) for t in (0.0, 1.0)) / 2 for p in (0.3, 2.5)]
    torch.testing.assert_close(delta_d[0], torch.tensor(want_d, dtype=F64))


def test_langevin_prior_drift_and_noise_variance():
    """Zero payoff gradient: Δ = −η(τ/σ₀²)x + √(2ητ)ξ, so mean and variance are known."""
    lr, tau, sigma0, d = 0.05, 0.2, 2.0, 40_000
    game = NonRealizableGAN()
    oracle = Oracle(game, {"_batch": torch.zeros(1, dtype=F64)}, Stream.from_seeds([0]))
    own = torch.full((1, d), 1.5, dtype=F64)
    rule = langevin_rule(lr, tau, prior_std=sigma0)
    state = rule.init(own, Stream.from_seeds([7]))
    zeros = torch.zeros_like(own)
    delta, state = rule.update(
        observation(own, zeros, zeros, zeros), state, oracle.view("generator")
    )
    mean = -lr * tau / sigma0**2 * 1.5
    std = math.sqrt(2 * lr * tau)
    assert abs(delta.mean().item() - mean) < 4 * std / math.sqrt(d)
    assert abs(delta.std().item() / std - 1) < 0.02
    # Fresh noise at the next step (the stream advances), same law.
    delta2, _ = rule.update(
        observation(own, zeros, zeros, zeros, step=1), state, oracle.view("generator")
    )
    assert abs(torch.corrcoef(torch.stack([delta[0], delta2[0]]))[0, 1].item()) < 0.03


def test_mirror_gan_chain_by_hand():
    """Noise-free chain on T5 (∂V/∂θ = −2θψ₂ − ψ₁) with K = 3, β = 0.5, projection."""
    lr, beta, k = 0.4, 0.5, 3
    game = NonRealizableGAN(box=1.0)
    oracle = Oracle(game, {"_batch": torch.zeros(1, dtype=F64)}, Stream.from_seeds([0]))
    theta0, psi = 0.6, (0.1, 1.5)
    x, mean = theta0, theta0
    for _ in range(k):
        g = -2 * x * psi[1] - psi[0]
        x = min(max(x - lr * g, -1.0), 1.0)  # the box projection
        mean = (1 - beta) * mean + beta * x
    want = beta * (mean - theta0)
    assert x == 1.0  # the chain did hit the box, so the projection was exercised
    theta = torch.tensor([[theta0]], dtype=F64)
    phi = torch.tensor([psi], dtype=F64)
    own_grad, opp_grad, _ = oracle.observe("generator", theta, phi)
    rule = mirror_gan_rule(lr, noise=0.0, chain_length=k, beta=beta)
    before = oracle.ledger.cost("generator")
    delta, _ = rule.update(
        observation(theta, phi, own_grad, opp_grad),
        rule.init(theta, Stream.from_seeds([3])),
        oracle.view("generator"),
    )
    torch.testing.assert_close(delta, torch.tensor([[want]], dtype=F64))
    assert oracle.ledger.cost("generator") - before == k - 1


# ---- known answers: T5 non-realisable GAN ----------------------------------------


def test_langevin_reaches_the_mixed_equilibrium_of_the_nonrealizable_gan():
    """T5: 64 particles reach an NI gap < 0.05 (the pure gap is ≥ 3/8 everywhere)."""
    env = gangames.make(
        "gangames/NonRealizableGAN-v0", particles=64, batch=4, max_steps=400
    )
    gaps = series(agents.play(env, langevin(lr=0.05, temperature=1e-3), seed=0))
    assert (gaps[0] > 0.5).all()  # starts far: the test can fail
    assert (gaps[-1] < 0.05).all(), gaps[-1]
    assert (gaps[-50:].mean(axis=0) < 0.05).all()


def test_mirror_gan_stays_pure_so_its_gap_stays_above_three_eighths():
    """T5: the minimum pure Nash gap is 3/(8γ); Mirror-GAN plays pure strategies."""
    env = gangames.make("gangames/NonRealizableGAN-v0", batch=4, max_steps=60)
    infos = agents.play(env, mirror_gan(lr=0.05, noise=0.05), seed=0)
    gaps = series(infos)
    assert gaps.min() >= 3 / 8 - 1e-6


# ---- known answers: T6 circle pursuit --------------------------------------------


def test_circle_pursuit_particle_gda_collapses_and_langevin_spreads():
    """T6: NI = |R_θ| + |R_φ|; collapsed clouds have NI ≈ 2, iid uniform ≈ √(π/K)."""
    k, steps = 64, 250
    baseline = math.sqrt(math.pi / k)

    def late_ni(temperature):
        env = gangames.make(
            "gangames/CirclePursuit-v0", particles=k, batch=8, max_steps=steps
        )
        solver = langevin(lr=0.5, temperature=temperature)
        return series(agents.play(env, solver, seed=1))[-50:].mean()

    gda, lang = late_ni(0.0), late_ni(0.3)
    assert gda > 1.5, gda  # the clouds have (nearly) collapsed to points
    assert lang < 1.5 * baseline, (lang, baseline)
