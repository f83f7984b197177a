"""Stackelberg, Follow-the-Ridge and unrolled GAN vs closed forms (docs/algorithms.md §3, §8 T4).

Closed forms come from quadratics ``V = ½θᵀPθ + θᵀAφ − ½φᵀQφ`` whose Hessian blocks are
known (``H_θθ = P``, ``H_θφ = A``, ``H_φφ = −Q``), and from T4 (``V = −3x² − y² + 4xy``):
the exact Stackelberg total gradient is ``2x``, the Follow-the-Ridge matrix is
``[[6, −4], [16, −10]]`` (double eigenvalue −2), simultaneous GDA's has the double
eigenvalue +2.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

import agents
import gangames
from agents.stackelberg import (
    adam_stackelberg_leader,
    follow_the_ridge,
    follow_the_ridge_rule,
    stackelberg,
    stackelberg_leader,
    unrolled,
    unrolled_rule,
)
from agents.transforms import scale
from gangames.engine import new_match
from gangames.errors import InvalidConfigError
from gangames.game import Game, ParamLayout
from gangames.random import Stream
from gangames.rules import Observation, Solver, rule_from
from gangames.testing import check_rule

F64 = torch.float64
D_THETA, D_PHI = 3, 4


@dataclass(frozen=True)
class _RandomQuadratic(Game):
    """``½θᵀPθ + θᵀAφ − ½φᵀQφ`` with random SPD ``P``, ``Q`` (eigenvalues in [1, 3])."""

    def layouts(self) -> dict:
        return {
            "generator": ParamLayout.vector("theta", D_THETA),
            "discriminator": ParamLayout.vector("phi", D_PHI),
        }

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> dict:
        def spd(n: int, s: Stream) -> torch.Tensor:
            q, _ = torch.linalg.qr(s.fork(1).normal((n, n), dtype=F64))
            eig = 1.0 + 2.0 * s.fork(2).uniform((n,), dtype=F64)
            return (q @ torch.diag_embed(eig) @ q.mT).to(dtype)

        return {
            "P": spd(D_THETA, stream.fork(1)),
            "A": stream.fork(2).normal((D_THETA, D_PHI), dtype=F64).to(dtype),
            "Q": spd(D_PHI, stream.fork(3)),
        }

    def init_params(self, instance: dict, stream: Stream) -> tuple:
        dtype = instance["A"].dtype
        return (
            stream.fork(1).normal((D_THETA,), dtype=dtype),
            stream.fork(2).normal((D_PHI,), dtype=dtype),
        )

    def value(self, instance, theta, phi, data=None):
        def quad(m, x):
            return (x * (m @ x.unsqueeze(-1)).squeeze(-1)).sum(-1)

        cross = (theta * (instance["A"] @ phi.unsqueeze(-1)).squeeze(-1)).sum(-1)
        return 0.5 * quad(instance["P"], theta) + cross - 0.5 * quad(instance["Q"], phi)


def _mv(m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return (m @ v.unsqueeze(-1)).squeeze(-1)


def _solve(m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.linalg.solve(m, v.unsqueeze(-1)).squeeze(-1)


def _observation(match, seat: str, theta=None, phi=None) -> Observation:
    theta = match.state.theta if theta is None else theta
    phi = match.state.phi if phi is None else phi
    grad, opp_grad, value = match.oracle.observe(seat, theta, phi)
    own, opp = (theta, phi) if seat == "generator" else (phi, theta)
    return Observation(own, opp, grad, opp_grad, value, torch.zeros_like(value), 0)


def _random_quadratic():
    m = new_match(_RandomQuadratic(), [0, 1, 2], dtype=F64)
    inst = m.instance
    return m, inst["P"], inst["A"], inst["Q"], m.state.theta, m.state.phi


def _t4(x: list[float], y: list[float]):
    game = gangames.make_game("gangames/NoNashQuadratic-v0")
    params = (torch.tensor(x, dtype=F64)[:, None], torch.tensor(y, dtype=F64)[:, None])
    return new_match(game, list(range(len(x))), dtype=F64, params=params)


def _step(rule, match, seat: str, **points) -> torch.Tensor:
    obs = _observation(match, seat, **points)
    state = rule.init(obs.own, Stream.from_seeds([0] * obs.own.shape[0]))
    delta, _ = rule.update(obs, state, match.oracle.view(seat))
    return delta


# ---- Stackelberg -------------------------------------------------------------------


@pytest.mark.parametrize("warm_start", [False, True])
def test_stackelberg_leader_is_the_closed_form_implicit_gradient(warm_start):
    m, P, A, Q, th, ph = _random_quadratic()
    lam, lr = 0.7, 0.1
    eye_phi = torch.eye(D_PHI, dtype=F64)
    eye_theta = torch.eye(D_THETA, dtype=F64)
    # generator leads: ∇_θV − H_θφ(H_φφ − λI)⁻¹∇_φV = Pθ + Aφ + A(Q + λI)⁻¹(Aᵀθ − Qφ)
    rule = stackelberg_leader(lr, lam, cg_iterations=D_PHI, warm_start=warm_start)
    g_phi = _mv(A.mT, th) - _mv(Q, ph)
    expect = _mv(P, th) + _mv(A, ph) + _mv(A, _solve(Q + lam * eye_phi, g_phi))
    torch.testing.assert_close(_step(rule, m, "generator"), -lr * expect)
    # discriminator leads on its loss −V: −∇_φV − Aᵀ(P + λI)⁻¹(−∇_θV)
    rule = stackelberg_leader(lr, lam, cg_iterations=D_THETA, warm_start=warm_start)
    g_theta = _mv(P, th) + _mv(A, ph)
    expect = -g_phi + _mv(A.mT, _solve(P + lam * eye_theta, g_theta))
    torch.testing.assert_close(_step(rule, m, "discriminator"), -lr * expect)


def test_stackelberg_total_gradient_on_t4_is_2x():
    # V = −3x² − y² + 4xy: dV(x, y*(x))/dx = 2x (y* = 2x); with λ_reg = 0 the implicit
    # gradient −6x + 4y + 4(4x − 2y)/2 equals 2x at every y.
    x, y = [0.3, -0.8, 0.5], [1.7, 0.2, -2.0]
    lr = 0.1
    exact = stackelberg_leader(lr, regularization=0.0, cg_iterations=1)
    delta = _step(exact, _t4(x, y), "generator")
    torch.testing.assert_close(delta[:, 0], -lr * 2 * torch.tensor(x, dtype=F64))
    # λ_reg = 1: (−6x + 4y) + 4(4x − 2y)/3, which is 2x on the ridge y = 2x
    reg = stackelberg_leader(lr, regularization=1.0, cg_iterations=1)
    xt, yt = torch.tensor(x, dtype=F64), torch.tensor(y, dtype=F64)
    delta = _step(reg, _t4(x, y), "generator")
    torch.testing.assert_close(
        delta[:, 0], -lr * ((-6 * xt + 4 * yt) + 4 * (4 * xt - 2 * yt) / 3)
    )
    delta = _step(reg, _t4(x, [2 * v for v in x]), "generator")
    torch.testing.assert_close(delta[:, 0], -lr * 2 * xt)


def test_stackelberg_warm_start_carries_the_previous_solution():
    m, _P, _A, Q, th, _ph = _random_quadratic()
    rule = stackelberg_leader(0.1, 0.5, cg_iterations=1, warm_start=True)
    obs = _observation(m, "generator")
    state = rule.init(th, Stream.from_seeds([0, 1, 2]))
    view = m.oracle.view("generator")
    solutions = []
    for _ in range(12):  # the same system each call: warm-started CG keeps improving
        _, state = rule.update(obs, state, view)
        solutions.append(state[0].solution)  # the total_derivative piece
    exact = _solve(Q + 0.5 * torch.eye(D_PHI, dtype=F64), -obs.opponent_gradient)
    errors = [(s - exact).norm() for s in solutions]
    assert errors[-1] < 1e-3 * errors[0]


def test_adam_leader_preconditions_the_total_derivative_of_the_plain_leader():
    # Adam's first step is m̂/(√v̂ + ε) = g/(|g| + ε) of the total derivative g
    m, *_ = _random_quadratic()
    plain = _step(stackelberg_leader(1.0, 0.5, cg_iterations=3), m, "generator")
    total = -plain  # Δ = −1 · g
    adam = adam_stackelberg_leader(0.01, regularization=0.5, cg_iterations=3)
    assert adam.cost(0) == stackelberg_leader(0.01, 0.5, cg_iterations=3).cost(0)
    torch.testing.assert_close(
        _step(adam, m, "generator"), -0.01 * total / (total.abs() + 1e-8)
    )
    check_rule(
        stackelberg(0.02, 0.2)._replace(generator=adam),
        "gangames/NoNashQuadratic-v0",
        steps=4,
    )


# ---- Follow-the-Ridge --------------------------------------------------------------


def test_follow_the_ridge_step_on_t4_is_the_ridge_matrix():
    # one FR step: z⁺ = z + η [[6, −4], [16, −10]] z (docs/algorithms.md §8 T4)
    x, y = [0.3, -0.8, 0.5], [1.7, 0.2, -2.0]
    lr = 0.1
    solver = follow_the_ridge(lr, lr, cg_iterations=1, damping=0.0)
    m = _t4(x, y)
    dx = _step(solver.generator, m, "generator")[:, 0]
    dy = _step(solver.discriminator, m, "discriminator")[:, 0]
    xt, yt = torch.tensor(x, dtype=F64), torch.tensor(y, dtype=F64)
    torch.testing.assert_close(dx, lr * (6 * xt - 4 * yt))
    torch.testing.assert_close(dy, lr * (16 * xt - 10 * yt))


@pytest.mark.parametrize("damping", [0.0, 0.5])
def test_follow_the_ridge_correction_matches_the_closed_form(damping):
    # follower loss g = −V: H_yy(g) = Q, H_yx(g) = −Aᵀ, so
    # Δφ = η_y(Aᵀθ − Qφ) + η_x Q(Q² + δI)⁻¹Q·Q⁻¹(−Aᵀ∇_θV)
    m, P, A, Q, th, ph = _random_quadratic()
    lr_x, lr_y = 0.05, 0.2
    rule = follow_the_ridge_rule(lr_y, lr_x, cg_iterations=D_PHI, damping=damping)
    e = -_mv(A.mT, _mv(P, th) + _mv(A, ph))
    eye = torch.eye(D_PHI, dtype=F64)
    w = _mv(Q, _solve(Q @ Q + damping * eye, e))
    expect = lr_y * (_mv(A.mT, th) - _mv(Q, ph)) + lr_x * w
    torch.testing.assert_close(
        _step(rule, m, "discriminator"), expect, rtol=1e-7, atol=1e-9
    )


# ---- unrolled ------------------------------------------------------------------------


@pytest.mark.parametrize("second_order", [True, False])
def test_unrolled_gradient_matches_the_closed_form_surrogate(second_order):
    # φ^{k+1} = Cφ^k + η_uAᵀθ, C = I − η_uQ: φ^K = C^Kφ + Jθ, J = Σ_{j<K} C^j η_u Aᵀ;
    # df_K/dθ = Pθ + Aφ^K + Jᵀ(Aᵀθ − Qφ^K) (first order: without the Jᵀ term)
    m, P, A, Q, th, ph = _random_quadratic()
    lr, eta_u, k = 0.1, 0.15, 4
    eye = torch.eye(D_PHI, dtype=F64)
    c = eye - eta_u * Q
    powers = [torch.linalg.matrix_power(c, j) for j in range(k + 1)]
    jac = sum(powers[j] for j in range(k)) @ (eta_u * A.mT)
    phi_k = _mv(powers[k], ph) + _mv(jac, th)
    expect = _mv(P, th) + _mv(A, phi_k)
    if second_order:
        expect = expect + _mv(jac.mT, _mv(A.mT, th) - _mv(Q, phi_k))
    rule = unrolled_rule(lr, k, eta_u, second_order)
    torch.testing.assert_close(_step(rule, m, "generator"), -lr * expect)


def test_unrolled_with_zero_steps_is_gradient_descent():
    m, *_ = _random_quadratic()
    obs = _observation(m, "generator")
    rule = unrolled_rule(0.1, 0)
    torch.testing.assert_close(_step(rule, m, "generator"), -0.1 * obs.gradient)
    assert rule.cost(0) == 0.0


# ---- dynamics on T4 and the rule contract ----------------------------------------------


def _t4_distance(solver: Solver, steps: int = 60) -> torch.Tensor:
    env = gangames.make(
        "gangames/NoNashQuadratic-v0",
        batch=3,
        dtype="float64",
        tensor=True,
        max_steps=steps,
        full_infos=True,
    )
    infos = agents.play(env, solver, seed=[0, 1, 2])
    assert infos[0]["distance"].min() > 0.5  # started away from (0, 0)
    return infos[-1]["distance"]


def test_on_t4_gda_diverges_while_the_sequential_family_converges():
    lr = 0.2
    gd = rule_from(scale(-lr), name="gd")
    assert (_t4_distance(Solver(gd, gd, "gda")) > 0.9).all()  # pinned to the box
    for solver in (
        stackelberg(lr, lr, regularization=0.0),
        follow_the_ridge(lr, lr),
        unrolled(lr, unroll_steps=5),
    ):
        assert (_t4_distance(solver) < 1e-6).all(), solver.name


@pytest.mark.parametrize(
    "solver, game, options",
    [
        (stackelberg(0.1, 0.1), "gangames/Quadratic-v0", {"dimension": 3}),
        (
            stackelberg(0.1, 0.1, leader="discriminator", warm_start=False),
            "gangames/Quadratic-v0",
            {"dimension": 3},
        ),
        (stackelberg(0.015, 0.015), "gangames/CovarianceGAN-v0", {}),  # Fiez's T7
        (
            follow_the_ridge(0.1, 0.1, cg_iterations=2),
            "gangames/NoNashQuadratic-v0",
            {},
        ),
        (unrolled(0.1, unroll_steps=3), "gangames/DiracGAN-v0", {}),
        (
            unrolled(0.1, unroll_steps=2, second_order=False),
            "gangames/Bilinear-v0",
            {"dimension": 2},
        ),
    ],
    ids=[
        "stackelberg",
        "stackelberg_dis",
        "stackelberg_t7",
        "ftr",
        "unrolled",
        "unrolled_fo",
    ],
)
def test_check_rule(solver, game, options):
    check_rule(solver, game, steps=4, **options)


def test_registered_and_bad_configs_refused():
    assert {"stackelberg", "follow_the_ridge", "unrolled"} <= set(agents.names())
    assert agents.make("stackelberg", leader="discriminator").generator.name == (
        "stackelberg_follower"
    )
    with pytest.raises(InvalidConfigError, match="leader"):
        stackelberg(leader="critic")
    with pytest.raises(InvalidConfigError, match="cg_iterations"):
        follow_the_ridge(cg_iterations=0)
    with pytest.raises(InvalidConfigError, match="unroll_steps"):
        unrolled(unroll_steps=-1)
    with pytest.raises(InvalidConfigError, match="regularization"):
        agents.make("stackelberg", regularization=-1.0)
