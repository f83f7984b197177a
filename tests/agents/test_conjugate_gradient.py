"""Conjugate-gradient GAN optimiser against docs/algorithms.md §6 and §8 (T1, T2).

β values are hand computations on small vectors (written as fractions below), the
recursion is replayed by hand on the scalar quadratic, and the dynamics are the §8
facts: every rule converges on the strongly-convex–strongly-concave quadratic, none
fixes the rotation of the bilinear game.
"""

from __future__ import annotations

import math
from fractions import Fraction as Fr
from types import SimpleNamespace

import pytest
import torch

import agents
import gangames
from agents.conjugate_gradient import (
    BETA_RULES,
    ConjugateState,
    conjugate_beta,
    conjugate_direction,
)
from gangames.errors import InvalidConfigError
from gangames.game import ParamLayout
from gangames.testing import check_rule
from tests.agents.scaffold import distances, make_env

F64 = torch.float64

# Two layers: "w" (2 coordinates) and "b" (1 coordinate).
LAYOUT = ParamLayout((("w", (2,)), ("b", (1,))))
SEGMENTS = torch.tensor([0, 0, 1])
# Row 0: g = (1, 2 | 3), g⁻ = (2, 0 | 1), d⁻ = (−1, 1 | −2), y = g − g⁻ = (−1, 2 | 2).
#   layer w: ‖g‖² = 5, ‖g⁻‖² = 4, gᵀy = 3, d⁻ᵀy = 3, ‖y‖² = 5, gᵀd⁻ = 1
#   layer b: ‖g‖² = 9, ‖g⁻‖² = 1, gᵀy = 6, d⁻ᵀy = −4, ‖y‖² = 4, gᵀd⁻ = −6
#   flat:    ‖g‖² = 14, ‖g⁻‖² = 5, gᵀy = 9, d⁻ᵀy = −1, ‖y‖² = 9, gᵀd⁻ = −5
# Row 1: layer w as row 0; layer b has g⁻ = 0 and d⁻ = 0: every denominator is 0.
G = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]], dtype=F64)
G_PREV = torch.tensor([[2.0, 0.0, 1.0], [2.0, 0.0, 0.0]], dtype=F64)
D_PREV = torch.tensor([[-1.0, 1.0, -2.0], [-1.0, 1.0, 0.0]], dtype=F64)

# HZ = HS − 2‖y‖²(gᵀd⁻)/(d⁻ᵀy)²; hybrids max(0, min(·, ·)).
PER_LAYER = {
    "fletcher_reeves": (Fr(5, 4), Fr(9)),
    "polak_ribiere": (Fr(3, 4), Fr(6)),
    "hestenes_stiefel": (Fr(1), Fr(-3, 2)),
    "dai_yuan": (Fr(5, 3), Fr(-9, 4)),
    "hager_zhang": (Fr(1) - Fr(10, 9), Fr(-3, 2) + Fr(3)),
    "hs_dy": (Fr(1), Fr(0)),
    "fr_prp": (Fr(3, 4), Fr(6)),
}
FLAT = {
    "fletcher_reeves": Fr(14, 5),
    "polak_ribiere": Fr(9, 5),
    "hestenes_stiefel": Fr(-9),
    "dai_yuan": Fr(-14),
    "hager_zhang": Fr(-9) + Fr(90),
    "hs_dy": Fr(0),
    "fr_prp": Fr(9, 5),
}


def _t(values) -> torch.Tensor:
    return torch.tensor([[float(v) for v in row] for row in values], dtype=F64)


@pytest.mark.parametrize("rule", BETA_RULES)
def test_beta_per_layer_matches_the_hand_computation(rule):
    w, b = PER_LAYER[rule]
    expected = _t([(w, b), (w, 0)])  # row 1, layer b: zero denominators → restart
    got = conjugate_beta(rule, G, G_PREV, D_PREV, (2, 1))
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rule", BETA_RULES)
def test_beta_on_the_flat_vector_matches_the_hand_computation(rule):
    got = conjugate_beta(rule, G[:1], G_PREV[:1], D_PREV[:1], (3,))
    torch.testing.assert_close(got, _t([(FLAT[rule],)]), rtol=1e-12, atol=1e-12)


def _direction(rule: str, bounds, coefficient: float, per_layer: bool = True):
    t = conjugate_direction(rule, bounds, coefficient, per_layer)
    oracle = SimpleNamespace(layout=LAYOUT)
    segments = SEGMENTS if per_layer else torch.zeros(3).long()
    state = ConjugateState(G_PREV, D_PREV, segments, 1)
    direction, new = t.update(G, state, None, oracle)  # type: ignore[arg-type]
    assert torch.equal(new.gradient, G) and torch.equal(new.direction, direction)
    assert new.steps == 2
    return direction


@pytest.mark.parametrize("rule", BETA_RULES)
def test_direction_clips_beta_to_zero_half_per_layer(rule):
    # d = −g + c·clip(β, 0, 1/2)·d⁻, the clip and c applied per layer.
    c = 0.75
    w, b = (min(max(float(x), 0.0), 0.5) for x in PER_LAYER[rule])
    gamma = torch.tensor([[w, w, b], [w, w, 0.0]], dtype=F64) * c
    got = _direction(rule, (0.0, 0.5), c)
    torch.testing.assert_close(got, -G + gamma * D_PREV, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rule", BETA_RULES)
def test_direction_without_bounds_uses_the_raw_beta(rule):
    w, b = (float(x) for x in PER_LAYER[rule])
    gamma = torch.tensor([[w, w, b], [w, w, 0.0]], dtype=F64)
    got = _direction(rule, (-math.inf, math.inf), 1.0)
    torch.testing.assert_close(got, -G + gamma * D_PREV, rtol=1e-12, atol=1e-12)


def test_direction_with_one_beta_over_the_flat_vector():
    got = _direction("polak_ribiere", (-math.inf, math.inf), 1.0, per_layer=False)
    torch.testing.assert_close(
        got[:1], -G[:1] + float(FLAT["polak_ribiere"]) * D_PREV[:1], rtol=1e-12, atol=0
    )


def test_first_direction_is_minus_the_gradient():
    t = conjugate_direction("dai_yuan")
    state = t.init(G, None)  # type: ignore[arg-type]
    direction, new = t.update(G, state, None, SimpleNamespace(layout=LAYOUT))  # type: ignore[arg-type]
    assert torch.equal(direction, -G) and torch.equal(new.direction, -G)
    assert new.segments is not None and new.segments.tolist() == [0, 0, 1]


def test_recursion_and_two_timescale_schedule_replayed_by_hand():
    # Scalar quadratic V = (μ/2)θ² + aθφ − (μ/2)φ²; own-loss gradients
    # g_θ = μθ + aφ, g_φ = μφ − aθ; a_n = a(n + 1)^(−e) per seat; FR, clip [0, 1/2].
    mu, steps = 0.5, 4
    lr_g, lr_d, e_g, e_d = 0.1, 0.2, 0.5, 0.75
    env = gangames.make(
        "gangames/Quadratic-v0",
        max_steps=steps,
        dtype="float64",
        tensor=True,
        dimension=1,
        mu=mu,
    )
    solver = agents.make(
        "conjugate_gradient",
        beta="fletcher_reeves",
        schedule="two_timescale",
        lr_generator=lr_g,
        lr_discriminator=lr_d,
        exponents=(e_g, e_d),
    )
    start = {
        "generator": torch.tensor([1.0], dtype=F64),
        "discriminator": torch.tensor([-0.5], dtype=F64),
    }
    agents.play(env, solver, seed=0, options={"params": start})
    a = float(env.match.instance["A"][0, 0, 0])
    th, ph = 1.0, -0.5
    prev = None
    for n in range(steps):
        gt, gp = mu * th + a * ph, mu * ph - a * th
        if prev is None:
            dt, dp = -gt, -gp
        else:
            (gt0, dt0), (gp0, dp0) = prev
            dt = -gt + min(max(gt**2 / gt0**2, 0.0), 0.5) * dt0
            dp = -gp + min(max(gp**2 / gp0**2, 0.0), 0.5) * dp0
        th, ph = th + lr_g * (n + 1) ** -e_g * dt, ph + lr_d * (n + 1) ** -e_d * dp
        prev = ((gt, dt), (gp, dp))
    assert math.isclose(float(env.match.state.theta[0, 0]), th, rel_tol=1e-12)
    assert math.isclose(float(env.match.state.phi[0, 0]), ph, rel_tol=1e-12)


def test_inverse_sqrt_schedule_with_zero_coefficient_is_gda_with_that_schedule():
    # c = 0: d_n = −g_n, x⁺ = x − (a/√(n+1)) g_n on V = aθφ.
    steps, lr = 3, 0.3
    env = gangames.make(
        "gangames/Bilinear-v0",
        max_steps=steps,
        dtype="float64",
        tensor=True,
        dimension=1,
    )
    solver = agents.make(
        "conjugate_gradient", lr=lr, coefficient=0.0, schedule="inverse_sqrt"
    )
    start = {
        "generator": torch.tensor([1.0], dtype=F64),
        "discriminator": torch.tensor([2.0], dtype=F64),
    }
    agents.play(env, solver, seed=0, options={"params": start})
    a = float(env.match.instance["A"][0, 0, 0])
    th, ph = 1.0, 2.0
    for n in range(steps):
        step = lr / math.sqrt(n + 1)
        th, ph = th - step * a * ph, ph + step * a * th
    assert math.isclose(float(env.match.state.theta[0, 0]), th, rel_tol=1e-12)
    assert math.isclose(float(env.match.state.phi[0, 0]), ph, rel_tol=1e-12)


# ---- the update-rule contract --------------------------------------------------------


@pytest.mark.parametrize("rule", BETA_RULES)
def test_check_rule_every_beta(rule):
    check_rule(agents.make("conjugate_gradient", beta=rule), "gangames/Quadratic-v0")


@pytest.mark.parametrize(
    ("hp", "game", "options"),
    [
        ({"schedule": "two_timescale"}, "gangames/GaussianWGAN-v0", {}),
        ({"beta": "hager_zhang", "per_layer": False}, "gangames/GaussianWGAN-v0", {}),
        ({"schedule": "inverse_sqrt"}, "gangames/Bilinear-v0", {"box": 0.5}),
        ({"beta": "polak_ribiere"}, "gangames/DiracGAN-v0", {}),
        ({"beta": "hs_dy"}, "gangames/NonRealizableGAN-v0", {"particles": 3}),
    ],
    ids=str,
)
def test_check_rule_layouts_and_schedules(hp, game, options):
    check_rule(agents.make("conjugate_gradient", **hp), game, **options)


def test_bad_hyperparameters_are_refused_with_a_clear_error():
    cases = [
        ({"beta": "fletcher-reeves"}, "beta"),
        ({"schedule": "ttscale"}, "schedule"),
        ({"beta_bounds": (0.5, 0.0)}, "beta_bounds"),
        ({"beta_bounds": 0.5}, "beta_bounds"),
        ({"coefficient": -1.0}, "coefficient"),
        ({"exponents": (0.75,)}, "exponents"),
        ({"lr": 0.0}, "lr"),
    ]
    for hp, word in cases:
        with pytest.raises(InvalidConfigError, match=word):
            agents.make("conjugate_gradient", **hp)


# ---- known dynamics ------------------------------------------------------------------


def _distances(game: str, steps: int, solver, **options) -> torch.Tensor:
    env = make_env(game, steps, batch=3, **options)
    return distances(agents.play(env, solver, seed=0))


@pytest.mark.parametrize("rule", BETA_RULES)
def test_every_rule_converges_on_the_quadratic(rule):
    # T2: strongly convex–strongly concave, unique Nash 0 — every method converges.
    d = _distances(
        "gangames/Quadratic-v0",
        150,
        agents.make("conjugate_gradient", lr=0.1, beta=rule),
        dimension=3,
    )
    assert (d[-1] < 1e-5 * d[0]).all()


@pytest.mark.parametrize("rule", BETA_RULES)
def test_no_rule_fixes_the_rotation_of_the_bilinear_game(rule):
    # T1: CG with β ≥ 0 does not converge (the distance ends above where it started).
    d = _distances(
        "gangames/Bilinear-v0",
        60,
        agents.make("conjugate_gradient", lr=0.1, beta=rule),
        dimension=2,
    )
    assert (d[-1] > d[0]).all()


def test_fletcher_reeves_momentum_accelerates_the_bilinear_divergence():
    # §6: a positive β acts as heavy-ball momentum; FR's β = ‖g_n‖²/‖g_{n−1}‖² > 0.
    fr = _distances(
        "gangames/Bilinear-v0", 60, agents.make("conjugate_gradient", lr=0.1)
    )
    gda = _distances("gangames/Bilinear-v0", 60, agents.make("gda", lr=0.1))
    assert torch.allclose(gda[-1], gda[0] * (1 + 0.1**2) ** 30, rtol=1e-9)
    assert (fr[-1] > 2 * gda[-1]).all()
