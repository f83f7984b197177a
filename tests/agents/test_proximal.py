"""Proximal training vs docs/algorithms.md §2 and the known answers of §8 (T4, T5).

* T4 (``V = −3x² − y² + 4xy``): the proximal maximiser is ``ỹ* = (4x + λy)/(2 + λ)``
  and K inner steps of size α leave the error ``(1 − α(2 + λ))^K (y − ỹ*)``; training
  with λ = 1 converges for ``anchor_rate ≥ 0.5`` (not for 0.05) although ``(0, 0)`` is
  λ-proximal only for λ ≤ 2/3: the proximal gap there is 0 for λ = 0.5 and
  ``3 − 8/(2 + λ) = 1/3`` for λ = 1.
* T5 (non-realisable GAN): training converges to ``θ* = ±1/√2``,
  ``ψ = (∓1/√2, 1/2)``, while the pure Nash gap never drops below 3/8.
"""

from __future__ import annotations

import math

import pytest
import torch

import agents
import gangames
from agents.proximal import proximal, proximal_critic, proximal_generator
from gangames.engine import new_match
from gangames.errors import InvalidConfigError
from gangames.random import Stream
from gangames.rules import Observation
from gangames.testing import check_rule

F64 = torch.float64
X = [0.3, -0.8, 0.5]
Y = [1.7, 0.2, -2.0]


def _t4():
    game = gangames.make_game("gangames/NoNashQuadratic-v0")
    params = (torch.tensor(X, dtype=F64)[:, None], torch.tensor(Y, dtype=F64)[:, None])
    return new_match(game, [0, 1, 2], dtype=F64, params=params)


def _act(rule, match, seat, theta, phi, state=None):
    grad, opp_grad, value = match.oracle.observe(seat, theta, phi)
    own, opp = (theta, phi) if seat == "generator" else (phi, theta)
    obs = Observation(own, opp, grad, opp_grad, value, torch.zeros_like(value), 0)
    if state is None:
        state = rule.init(own, Stream.from_seeds([0, 1, 2]))
    return rule.update(obs, state, match.oracle.view(seat))


@pytest.mark.parametrize(
    "lam, alpha, k", [(1.0, 0.2, 3), (0.5, 0.1, 7), (2.0, 0.3, 40)]
)
def test_inner_loop_matches_the_closed_form_proximal_maximiser(lam, alpha, k):
    m = _t4()
    x, y = m.state.theta, m.state.phi
    critic = proximal_critic(lam, inner_steps=k, inner_lr=alpha, anchor_rate=1.0)
    ledger = m.oracle.ledger.copy()
    delta, _ = _act(critic, m, "discriminator", x, y)
    assert m.oracle.ledger.cost("discriminator") - ledger.cost("discriminator") == k
    star = (4 * x + lam * y) / (2 + lam)
    expect = star + (1 - alpha * (2 + lam)) ** k * (y - star)
    torch.testing.assert_close(y + delta, expect)
    if k == 40:  # the contraction 0.5⁴⁰ reaches the maximiser itself
        torch.testing.assert_close(y + delta, star)


@pytest.mark.parametrize("lam, alpha, k", [(1.0, 0.2, 3), (0.5, 0.3, 6)])
def test_extragradient_inner_loop_contracts_at_the_extragradient_rate(lam, alpha, k):
    # T4's proximal field is G(y) = c(y − ỹ*), c = 2 + λ: one extragradient step maps
    # y − ỹ* to (1 − αc + α²c²)(y − ỹ*), and pays 2 gradients (the first is observed)
    m = _t4()
    x, y = m.state.theta, m.state.phi
    critic = proximal_critic(lam, k, alpha, inner_method="extragradient")
    assert critic.cost(0) == 2 * k - 1
    ledger = m.oracle.ledger.copy()
    delta, _ = _act(critic, m, "discriminator", x, y)
    assert m.oracle.ledger.cost("discriminator") - ledger.cost("discriminator") == 2 * k
    star, c = (4 * x + lam * y) / (2 + lam), 2 + lam
    torch.testing.assert_close(
        y + delta, star + (1 - alpha * c + (alpha * c) ** 2) ** k * (y - star)
    )
    check_rule(
        proximal(lam, k, alpha, inner_method="extragradient"),
        "gangames/Quadratic-v0",
        steps=4,
    )


def test_inner_method_must_be_known():
    with pytest.raises(InvalidConfigError, match="method must be one of"):
        proximal(inner_method="adam")


def test_slow_anchor_generator_steps_at_the_reconstructed_inner_solution():
    m = _t4()
    x, y = m.state.theta, m.state.phi
    lam, alpha, k, rate, lr = 1.0, 0.1, 60, 0.5, 0.05
    critic = proximal_critic(lam, inner_steps=k, inner_lr=alpha, anchor_rate=rate)
    gen = proximal_generator(lr, anchor_rate=rate)
    # round 0: no previous anchor seen, the observed gradient at (x, y₁) is used
    delta_y, _ = _act(critic, m, "discriminator", x, y)
    y1 = y + delta_y
    dx, state = _act(gen, m, "generator", x, y1)
    torch.testing.assert_close(dx, -lr * (-6 * x + 4 * y1))
    # round 1: ỹ = y₁ + (y₂ − y₁)/r is the inner maximiser; the step is −η ∂V/∂x there
    delta_y, _ = _act(critic, m, "discriminator", x, y1)
    y2 = y1 + delta_y
    before = m.oracle.ledger.cost("generator")
    dx, _ = _act(gen, m, "generator", x, y2, state)
    assert m.oracle.ledger.cost("generator") - before == 2  # observed + 1 extra
    star = (4 * x + lam * y1) / (2 + lam)
    torch.testing.assert_close(dx, -lr * (-6 * x + 4 * star))


def _play(game_id, solver, steps, lam, batch=3, **options):
    env = gangames.make(
        game_id,
        order="sequential",
        first="discriminator",
        batch=batch,
        dtype="float64",
        tensor=True,
        max_steps=steps,
        prox_lambda=lam,
        **options,
    )
    infos = agents.play(env, solver, seed=list(range(batch)))
    return env, infos


@pytest.mark.parametrize("lam", [0.5, 1.0, 1.5])
def test_t5_converges_to_the_minimax_generator_with_nash_gap_at_least_3_8(lam):
    solver = proximal(lam, inner_steps=20, inner_lr=0.3, lr_generator=0.1)
    env, infos = _play("gangames/NonRealizableGAN-v0", solver, 150, lam, batch=4)
    theta, psi = env.match.state.theta[:, 0], env.match.state.phi
    root = 1 / math.sqrt(2)
    torch.testing.assert_close(theta.abs(), torch.full_like(theta, root))
    torch.testing.assert_close(psi[:, 0], -theta)
    torch.testing.assert_close(psi[:, 1], torch.full_like(theta, 0.5))
    gaps = torch.stack([info["duality_gap"] for info in infos])
    assert (gaps >= 3 / 8 - 1e-9).all()
    # at (θ*, ψ*): Φ(θ*) = 3/8, and the generator's best response to ψ* is the box end
    # θ = ∓2: Ψ(ψ*) = ½(1 − 4) − 2/√2 − ½(½ + ¼), so DG = 9/4 + √2 (γ = 1, box 2)
    expect = torch.full_like(theta, 9 / 4 + math.sqrt(2))
    torch.testing.assert_close(infos[-1]["duality_gap"], expect)


@pytest.mark.parametrize("rate, converges", [(1.0, True), (0.5, True), (0.05, False)])
def test_t4_lambda_1_converges_only_with_fast_anchors(rate, converges):
    solver = proximal(1.0, 20, 0.2, lr_generator=0.05, anchor_rate=rate)
    _, infos = _play("gangames/NoNashQuadratic-v0", solver, 150, 1.0)
    distance = infos[-1]["distance"]
    if converges:
        assert (distance < 1e-6).all()
        # converged, yet (0, 0) is not 1-proximal: DG^1(0, 0) = 3 − 8/3 = 1/3
        gap = infos[-1]["proximal_gap"]
        torch.testing.assert_close(gap, torch.full_like(gap, 1 / 3))
    else:
        assert (distance > 0.5).all()


def test_t4_proximal_gap_vanishes_at_the_limit_only_for_small_lambda():
    solver = proximal(0.5, 20, 0.2, lr_generator=0.1)
    _, infos = _play("gangames/NoNashQuadratic-v0", solver, 120, 0.5)
    assert (infos[-1]["distance"] < 1e-6).all()
    assert (infos[-1]["proximal_gap"].abs() < 1e-9).all()
    assert (infos[-1]["duality_gap"] > 2.99).all()  # still no Nash: DG(0, 0) = 3


@pytest.mark.parametrize("rate", [1.0, 0.5])
@pytest.mark.parametrize(
    "game", ["gangames/NoNashQuadratic-v0", "gangames/NonRealizableGAN-v0"]
)
def test_check_rule(game, rate):
    solver = proximal(1.0, inner_steps=3, inner_lr=0.2, anchor_rate=rate)
    check_rule(solver, game, steps=4, first="discriminator")


def test_registered_sequential_and_bad_configs_refused():
    solver = agents.make("proximal", prox_lambda=2.0)
    assert (solver.order, solver.first) == ("sequential", "discriminator")
    with pytest.raises(InvalidConfigError, match="discriminator"):
        agents.play(gangames.make("gangames/NoNashQuadratic-v0"), solver, seed=0)
    with pytest.raises(InvalidConfigError, match="prox_lambda"):
        proximal(prox_lambda=0.0)
    with pytest.raises(InvalidConfigError, match="inner_steps"):
        proximal(inner_steps=0)
    with pytest.raises(InvalidConfigError, match="anchor_rate"):
        proximal(anchor_rate=-1.0)
    with pytest.raises(InvalidConfigError, match="anchor_rate"):
        proximal(anchor_rate=1.5)
