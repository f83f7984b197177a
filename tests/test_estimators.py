"""Budgeted gap estimators: known answers, constructed equilibria, batching, the env."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import gangames
from gangames import metrics
from gangames.engine import new_match
from gangames.errors import InvalidConfigError
from gangames.estimators import EstimatorConfig, estimate_gaps
from gangames.games.mixture import MixtureGAN
from gangames.random import Stream


def test_matches_the_closed_form_gaps_of_a_strongly_monotone_game():
    # T2: V = (μ/2)‖θ‖² + θᵀAφ − (μ/2)‖φ‖², best responses in closed form.
    game = gangames.make_game("gangames/Quadratic-v0")
    m = new_match(game, [0, 1], dtype=torch.float64)
    th, ph = 2 * m.state.theta + 1, m.state.phi - 1
    exact = metrics.evaluate(game, m.instance, th, ph, prox_lambda=1.0)
    cfg = EstimatorConfig(
        steps=400, restarts=1, sigma=0.0, lr=0.05, prox_outer=150, prox_inner=20
    )
    est = estimate_gaps(game, m.instance, th, ph, Stream.from_seeds([0, 1]), cfg)
    for name in (
        "exploitability_generator",
        "exploitability_discriminator",
        "duality_gap",
        "proximal_gap",
    ):
        e, x = getattr(est, name), getattr(exact, name)
        assert (x > 0.1).all(), name
        assert (e <= x * (1 + 1e-6)).all(), f"{name}: {e} above the true {x}"
        assert (e >= 0.97 * x).all(), f"{name}: {e} far below the true {x}"


def test_budget_grows_the_estimate_towards_the_truth():
    game = gangames.make_game("gangames/Quadratic-v0")
    m = new_match(game, [3], dtype=torch.float64)
    th, ph = m.state.theta + 1, m.state.phi
    truth = metrics.duality_gap(game, m.instance, th, ph)
    gaps = [
        estimate_gaps(
            game,
            m.instance,
            th,
            ph,
            Stream.from_seeds([3]),
            EstimatorConfig(steps=s, restarts=1, sigma=0.0, lr=0.01),
            proximal=False,
        ).duality_gap
        for s in (5, 50, 500)
    ]
    assert gaps[0] < gaps[1] < gaps[2] <= truth * (1 + 1e-9)


@dataclass(frozen=True)
class _Reproducing(MixtureGAN):
    """Latents are the data: an identity generator reproduces every sample exactly."""

    def sample_data(self, instance, stream):
        data = super().sample_data(instance, stream)
        return {**data, "z": data["x"]}

    def sample_instance(self, stream, dtype):
        inst = super().sample_instance(stream, dtype)
        inst["eval_z"] = inst["eval_x"]
        return inst


def _identity_generator(game: MixtureGAN, b: int) -> torch.Tensor:
    """relu([x, −x]) then (h₁ − h₂, h₃ − h₄): an exact identity for width 4, depth 2."""
    eye = torch.eye(4, dtype=torch.float64)
    w0 = torch.tensor(
        [[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0]], dtype=torch.float64
    )
    w2 = torch.tensor(
        [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]], dtype=torch.float64
    )
    named = {
        "layer0.weight": w0,
        "layer0.bias": torch.zeros(4, dtype=torch.float64),
        "layer1.weight": eye,
        "layer1.bias": torch.zeros(4, dtype=torch.float64),
        "layer2.weight": w2,
        "layer2.bias": torch.zeros(2, dtype=torch.float64),
    }
    flat = game.layouts()["generator"].flatten(named)
    return flat.expand(b, -1).clone()


CFG = EstimatorConfig(
    steps=60, restarts=2, sigma=0.25, lr=5e-3, prox_outer=8, prox_inner=3
)


@pytest.mark.parametrize("loss", ["standard", "non_saturating", "wgan_clip"])
def test_zero_at_a_constructed_equilibrium_and_positive_away_from_it(loss):
    game = _Reproducing(
        latent_dim=2, width=4, depth=2, loss=loss, clip=1.0, minibatch=32, eval_size=256
    )
    m = new_match(game, [0, 1], dtype=torch.float64)
    theta = _identity_generator(game, 2)
    x = m.instance["eval_x"]
    assert torch.equal(game.generate(theta.unsqueeze(1), m.instance["eval_z"]), x)
    phi = torch.zeros_like(m.state.phi)  # D ≡ 0: logit 0 (D = 1/2), critic 0
    est = estimate_gaps(game, m.instance, theta, phi, Stream.from_seeds([0, 1]), CFG)
    for name in (
        "duality_gap",
        "exploitability_generator",
        "exploitability_discriminator",
        "proximal_gap",
    ):
        assert getattr(est, name).abs().max() < 1e-9, name
    expected = -math.log(4.0) if loss != "wgan_clip" else 0.0
    assert torch.allclose(est.value, torch.full_like(est.value, expected), atol=1e-12)

    # Shift every generated sample by (1, 0): the critic now has something to find.
    shifted = theta.clone()
    # unflatten gives views: writing the output bias writes the flat vector
    game.layouts()["generator"].unflatten(shifted)["layer2.bias"][:, 0] += 1.0
    off = estimate_gaps(game, m.instance, shifted, phi, Stream.from_seeds([0, 1]), CFG)
    assert (off.exploitability_discriminator > 1e-3).all()
    assert (off.duality_gap >= off.exploitability_discriminator).all()


def test_batch_equals_single_runs_and_same_seed_same_estimate():
    game = MixtureGAN(width=8, minibatch=16, eval_size=64)
    cfg = EstimatorConfig(steps=4, restarts=2, prox_outer=2, prox_inner=2)
    seeds = [4, 7]
    m = new_match(game, seeds, dtype=torch.float64)
    full = estimate_gaps(
        game, m.instance, m.state.theta, m.state.phi, Stream.from_seeds(seeds), cfg
    )
    again = estimate_gaps(
        game, m.instance, m.state.theta, m.state.phi, Stream.from_seeds(seeds), cfg
    )
    for a, b in zip(full, again, strict=True):
        assert torch.equal(a, b)
    for row, seed in enumerate(seeds):
        one = new_match(game, [seed], dtype=torch.float64)
        single = estimate_gaps(
            game,
            one.instance,
            one.state.theta,
            one.state.phi,
            Stream.from_seeds([seed]),
            cfg,
        )
        for a, b in zip(full, single, strict=True):
            assert torch.allclose(a[row : row + 1], b, rtol=1e-10, atol=1e-12)


def test_bad_settings_are_refused():
    for kw in (
        {"steps": 0},
        {"restarts": 1.5},
        {"sigma": -1.0},
        {"beta1": 1.0},
        {"lr": 0},
    ):
        with pytest.raises(InvalidConfigError):
            EstimatorConfig(**kw)
    with pytest.raises(InvalidConfigError):
        EstimatorConfig.of({"budget": 3})
    with pytest.raises(InvalidConfigError):
        gangames.make("gangames/MixtureGAN-v0", estimate_every=0)


SMALL = {"width": 8, "minibatch": 16, "eval_size": 64}
TINY = {"steps": 3, "restarts": 1, "prox_outer": 2, "prox_inner": 1}


def test_env_rewards_use_the_latest_estimate_every_k_rounds_and_charge_nobody():
    env = gangames.make(
        "gangames/MixtureGAN-v0", batch=2, estimator=TINY, estimate_every=3, **SMALL
    )
    obs, infos = env.reset(seed=0)
    info = infos["generator"]
    assert info["oracle_calls_generator"] == info["oracle_calls_discriminator"] == 1.0
    assert info["gap_estimate_step"] == 0 and info["gap_lower_bound"]
    assert env.gap_estimator == EstimatorConfig(**TINY).label
    assert "lower bound" in env.gap_estimator and "3-step Adam" in env.gap_estimator
    steps_seen = []
    for t in range(1, 8):
        obs, rew, _, _, infos = env.step(
            {s: -0.01 * obs[s]["gradient"] for s in env.agents}
        )
        info = infos["generator"]
        steps_seen.append(info["gap_estimate_step"])
        assert info["oracle_calls_generator"] == t + 1.0
        assert info["oracle_calls_discriminator"] == t + 1.0
        np.testing.assert_allclose(
            rew["generator"] + rew["discriminator"], -info["duality_gap"], rtol=1e-6
        )
        assert (info["duality_gap"] >= 0).all() and (info["proximal_gap"] >= 0).all()
    assert steps_seen == [0, 0, 3, 3, 3, 6, 6]


def test_estimates_are_the_same_batched_or_single_through_the_env():
    kw = dict(estimator=TINY, estimate_every=2, dtype="float64", **SMALL)
    env = gangames.make("gangames/MixtureGAN-v0", batch=2, **kw)
    _, infos = env.reset(seed=[5, 6])
    for row, seed in enumerate([5, 6]):
        one = gangames.make("gangames/MixtureGAN-v0", **kw)
        _, single = one.reset(seed=[seed])
        assert single["generator"]["duality_gap"] == pytest.approx(
            infos["generator"]["duality_gap"][row], rel=1e-10
        )


def test_games_without_closed_forms_opt_in_with_an_estimator():
    # Proximal gap: no closed form for the 2-D quadratic-critic Gaussian WGAN.
    opts = dict(dimension=2, critic="quadratic")
    with pytest.raises(InvalidConfigError, match="estimator"):
        gangames.make("gangames/GaussianWGAN-v0", reward="proximal_gap", **opts)
    env = gangames.make(
        "gangames/GaussianWGAN-v0", reward="proximal_gap", estimator=TINY, **opts
    )
    _, infos = env.reset(seed=0)
    assert infos["generator"]["proximal_gap"] >= 0
    assert infos["generator"]["gap_lower_bound"]
    assert "lower bound" in env.gap_estimator


def test_mixed_gap_matches_the_closed_form_nikaido_isoda_gap():
    # T6 lifted to 4 particles: NI = |R_θ| + |R_φ| in closed form; best responses to
    # a cloud are pure, which the estimator tries particle by particle.
    game = gangames.make_game("gangames/CirclePursuit-v0", particles=4)
    m = new_match(game, [0, 1, 2], dtype=torch.float64)
    th, ph = m.state.theta, m.state.phi
    exact = metrics.duality_gap(game, m.instance, th, ph)
    cfg = EstimatorConfig(steps=300, restarts=1, sigma=0.0, lr=0.05)
    est = estimate_gaps(
        game, m.instance, th, ph, Stream.from_seeds([0, 1, 2]), cfg, proximal=False
    )
    assert (exact > 0.1).all()
    assert (est.duality_gap <= exact + 1e-9).all()
    assert (est.duality_gap >= exact - 1e-4).all(), (est.duality_gap, exact)
