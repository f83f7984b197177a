"""SRFB and Tseng FBF (docs/algorithms.md §5) and the projections, against known answers (§8 T1)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import agents
import gangames
from agents.forward_backward import fbf, fbf_rule, sample_schedule, srfb, srfb_rule
from agents.transforms import (
    project_ball,
    project_box,
    project_l1_ball,
    projection,
    scale,
    trace,
)
from gangames.errors import InvalidConfigError
from gangames.games.bilinear import Bilinear
from gangames.oracle import Oracle
from gangames.random import Stream
from gangames.rules import Solver, rule_from
from gangames.testing import check_rule
from tests.agents.scaffold import observation, series

F64 = torch.float64


def _scalar_bilinear(batch=1, noise=0.0):
    """``V = xy`` exactly: A = [[1]] (the game's random sign is overridden)."""
    game = Bilinear(dimension=1, gradient_noise=noise)
    instance = {"A": torch.ones(batch, 1, 1, dtype=F64)}
    return Oracle(game, instance, Stream.from_seeds(list(range(batch))))


def _t(*rows):
    return torch.tensor([list(rows)], dtype=F64)


# ---- the update-rule contract -----------------------------------------------------


@pytest.mark.parametrize(
    ("solver", "options"),
    [
        (srfb(lr=0.3), {}),
        (srfb(lr=0.3, projection="box", radius=0.5), {"box": 1.0, "dimension": 3}),
        (srfb(lr=0.2, samples=3), {"gradient_noise": 0.1, "dimension": 2}),
        (srfb(lr=0.2, growth=0.5, projection="ball"), {"gradient_noise": 0.1}),
        (fbf(lr=0.3), {}),
        (fbf(lr=0.3, projection="l1", radius=0.8), {"box": 1.0}),
        (fbf(lr=0.2), {"gradient_noise": 0.1}),
    ],
    ids=[
        "srfb",
        "srfb-box",
        "srfb-samples3-noisy",
        "srfb-growth-ball-noisy",
        "fbf",
        "fbf-l1",
        "fbf-noisy",
    ],
)
def test_check_rule(solver, options):
    check_rule(solver, "gangames/Bilinear-v0", **options)


def test_growing_sample_schedule_and_declared_cost():
    s = sample_schedule(2, growth=0.5, offset=1)
    assert [s(k) for k in range(4)] == [math.ceil(2 * (k + 1) ** 1.5) for k in range(4)]
    assert [s(k) for k in range(4)] == [2, 6, 11, 16]
    rule = srfb_rule(0.1, samples=2, growth=0.5)
    assert [rule.cost(k) for k in range(4)] == [1, 5, 10, 15]
    assert sample_schedule(4)(100) == 4


def test_registered_and_bad_hyperparameters_refused():
    assert {"srfb", "fbf"} <= set(agents.names())
    for name, bad in [
        ("srfb", {"lr": 0.0}),
        ("srfb", {"relaxation": 1.0}),
        ("srfb", {"relaxation": -0.1}),
        ("srfb", {"projection": "sphere"}),
        ("srfb", {"projection": "box", "radius": 0.0}),
        ("srfb", {"samples": 0}),
        ("srfb", {"growth": 0.0}),
        ("fbf", {"lr": -1.0}),
        ("fbf", {"projection": "ball", "radius": -1.0}),
    ]:
        with pytest.raises(InvalidConfigError):
            agents.make(name, **bad)


# ---- projections (closed forms) --------------------------------------------------


def test_projections_known_answers():
    x = torch.tensor([[3.0, -4.0], [0.3, 0.1], [0.0, 0.0]], dtype=F64)
    torch.testing.assert_close(
        project_box(1.0)(x),
        torch.tensor([[1.0, -1.0], [0.3, 0.1], [0.0, 0.0]], dtype=F64),
    )
    torch.testing.assert_close(
        project_ball(1.0)(x),
        torch.tensor([[0.6, -0.8], [0.3, 0.1], [0.0, 0.0]], dtype=F64),
    )
    # ℓ1 ball of radius 2: (3, −4) → soft-threshold by τ = 2.5 → (0.5, −1.5).
    torch.testing.assert_close(
        project_l1_ball(2.0)(x),
        torch.tensor([[0.5, -1.5], [0.3, 0.1], [0.0, 0.0]], dtype=F64),
    )
    # (3, 1) onto ‖·‖₁ ≤ 2: only the largest survives (τ = 1).
    torch.testing.assert_close(
        project_l1_ball(2.0)(torch.tensor([[3.0, 1.0]], dtype=F64)),
        torch.tensor([[2.0, 0.0]], dtype=F64),
    )
    assert projection(None) is None
    with pytest.raises(InvalidConfigError):
        projection("simplex")


def test_l1_projection_is_the_nearest_point_of_the_ball():
    """Optimality (variational inequality): ⟨x − p, q − p⟩ ≤ 0 for every q in the ball."""
    g = torch.Generator().manual_seed(0)
    x = 3 * torch.randn(64, 5, generator=g, dtype=F64)
    p = project_l1_ball(1.5)(x)
    assert (p.abs().sum(dim=-1) <= 1.5 + 1e-12).all()
    # The ball's extreme points ±r·e_i suffice (the VI is linear in q).
    verts = 1.5 * torch.cat([torch.eye(5, dtype=F64), -torch.eye(5, dtype=F64)])
    inner = ((x - p)[:, None, :] * (verts[None] - p[:, None, :])).sum(-1)
    assert (inner <= 1e-10).all()


# ---- one step by hand on V = xy ----------------------------------------------------


def test_srfb_relaxation_and_projection_by_hand():
    """δ = 0.5, λ = 0.1, box 0.5; gradient of xy for the generator is y."""
    oracle = _scalar_bilinear()
    rule = srfb_rule(0.1, relaxation=0.5, projection_kind="box", radius=0.5)
    gen = oracle.view("generator")
    state = rule.init(_t(0.4), Stream.from_seeds([0]))
    # k = 0: x̄₀ = x₀ = 0.4, x₁ = Π(0.4 − 0.1·0.3) = 0.37.
    delta, state = rule.update(
        observation(_t(0.4), _t(0.3), _t(0.3), _t(-0.4)), state, gen
    )
    torch.testing.assert_close(delta, _t(-0.03))
    # k = 1: x̄₁ = 0.5·0.37 + 0.5·0.4 = 0.385, x₂ = 0.385 − 0.1·0.6 = 0.325.
    delta, state = rule.update(
        observation(_t(0.37), _t(0.6), _t(0.6), _t(-0.37), step=1), state, gen
    )
    torch.testing.assert_close(delta, _t(0.325 - 0.37))
    # k = 2: x̄₂ = 0.5·0.325 + 0.5·0.385 = 0.355, 0.355 + 0.5 = 0.855 → box → 0.5.
    delta, state = rule.update(
        observation(_t(0.325), _t(-5.0), _t(-5.0), _t(-0.325), step=2), state, gen
    )
    torch.testing.assert_close(delta, _t(0.5 - 0.325))
    torch.testing.assert_close(state[2].bar, _t(0.355))
    # The critic minimises −xy: its gradient is −x, so y₁ = 0.3 + 0.1·0.4.
    d_rule = srfb_rule(0.1, relaxation=0.5)
    d_delta, _ = d_rule.update(
        observation(_t(0.3), _t(0.4), _t(-0.4), _t(0.3)),
        d_rule.init(_t(0.3), Stream.from_seeds([1])),
        oracle.view("discriminator"),
    )
    torch.testing.assert_close(d_delta, _t(0.04))


def test_fbf_correction_by_hand():
    """x = 0.5, y = 0.25, λ = 0.1: x̂ = 0.475, ŷ = 0.3, x⁺ = 0.47, y⁺ = 0.2975."""
    oracle = _scalar_bilinear()
    rule = fbf_rule(0.1)
    before = oracle.ledger.costs()
    d_gen, _ = rule.update(
        observation(_t(0.5), _t(0.25), _t(0.25), _t(-0.5)),
        rule.init(_t(0.5), Stream.from_seeds([0])),
        oracle.view("generator"),
    )
    d_dis, _ = rule.update(
        observation(_t(0.25), _t(0.5), _t(-0.5), _t(0.25)),
        rule.init(_t(0.25), Stream.from_seeds([1])),
        oracle.view("discriminator"),
    )
    torch.testing.assert_close(d_gen, _t(0.47 - 0.5))
    torch.testing.assert_close(d_dis, _t(0.2975 - 0.25))
    after = oracle.ledger.costs()
    assert after["generator"] - before["generator"] == 1.0
    assert after["discriminator"] - before["discriminator"] == 1.0


def test_fbf_extrapolation_uses_the_projection():
    """Box 0.45: x̂ = Π(0.475) = 0.45, ŷ = 0.3; x⁺ = 0.45 − 0.1(0.3 − 0.25) = 0.445."""
    oracle = _scalar_bilinear()
    rule = fbf_rule(0.1, projection_kind="box", radius=0.45)
    d_gen, _ = rule.update(
        observation(_t(0.5), _t(0.25), _t(0.25), _t(-0.5)),
        rule.init(_t(0.5), Stream.from_seeds([0])),
        oracle.view("generator"),
    )
    torch.testing.assert_close(d_gen, _t(0.445 - 0.5))


def test_averaging_divides_the_gradient_variance_by_the_sample_count():
    """Noisy V = xy (σ = 1) at a fixed point: Var(Δ/λ) = σ²/S for S samples."""
    b, s, lr = 4000, 4, 0.5
    oracle = _scalar_bilinear(batch=b, noise=1.0)
    x, y = torch.zeros(b, 1, dtype=F64), torch.full((b, 1), 0.2, dtype=F64)
    g, g_opp, _ = oracle.observe("generator", x, y)
    rule = srfb_rule(lr, relaxation=0.0, samples=s)
    delta, _ = rule.update(
        observation(x, y, g, g_opp),
        rule.init(x, Stream.from_seeds([0])),
        oracle.view("generator"),
    )
    est = -delta[:, 0] / lr  # the averaged gradient estimate of y = 0.2
    assert abs(est.mean().item() - 0.2) < 4 / math.sqrt(b * s)
    assert abs(est.var().item() * s - 1) < 0.1


# ---- known answers: T1 bilinear ----------------------------------------------------


def _play(solver, steps, **options):
    env = gangames.make("gangames/Bilinear-v0", batch=4, max_steps=steps, **options)
    return series(agents.play(env, solver, seed=0), "distance")


def test_box_bilinear_srfb_last_iterate_converges_projected_gda_does_not():
    """T1 with x, y ∈ [−1, 1]²: SRFB → 0; projected GDA sticks to the boundary."""
    d_srfb = _play(srfb(lr=0.4), 300, box=1.0)
    assert (d_srfb[0] > 0.5).all()
    assert (d_srfb[-1] < 1e-3).all(), d_srfb[-1]
    rule = rule_from(scale(-0.2), name="projected_gda")  # the env projects onto the box
    d_gda = _play(Solver(rule, rule, "projected_gda"), 300, box=1.0)
    assert (d_gda[-50:].min(axis=0) > 0.5).all(), d_gda[-50:].min(axis=0)


def test_srfb_with_momentum_is_heavy_ball_when_unrelaxed_and_converges_on_the_box():
    # δ = 0, S = 1, no constraint: SRFB + trace(β) is heavy-ball GDA, Δ = −λ(βv + g)
    heavy = rule_from(trace(0.5), scale(-0.1), name="heavy_ball")
    expect = _play(Solver(heavy, heavy, "heavy_ball"), 40, dtype="float64")
    got = _play(srfb(lr=0.1, relaxation=0.0, momentum=0.5), 40, dtype="float64")
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-15)
    # on the box game the relaxed, projected rule with momentum still converges
    solver = srfb(lr=0.4, momentum=0.2)
    assert solver.name == "srfb_momentum"
    assert (_play(solver, 300, box=1.0)[-1] < 1e-3).all()
    check_rule(solver, "gangames/Bilinear-v0", steps=4)


def test_srfb_momentum_must_be_in_the_unit_interval():
    with pytest.raises(InvalidConfigError, match="momentum"):
        srfb(momentum=1.0)


def test_fbf_contracts_the_unconstrained_bilinear_at_the_extragradient_rate():
    """κ = 1 (A orthogonal): every step multiplies ‖z‖ by exactly √(1 − λ² + λ⁴)."""
    lr = 0.5
    d = _play(fbf(lr=lr), 60)
    ratio = d[1:] / d[:-1]
    np.testing.assert_allclose(ratio, math.sqrt(1 - lr**2 + lr**4), rtol=1e-5)
    assert (d[-1] < 1e-2 * d[0]).all()
    d_cond = _play(fbf(lr=0.9), 300, condition_number=4.0, dimension=3)
    assert (d_cond[-1] < 1e-3 * d_cond[0]).all()
