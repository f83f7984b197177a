"""Extragradient and optimistic GDA against docs/algorithms.md §1 and §8 T1.

On ``V = θᵀAφ`` with every singular value of A equal to 1 the field ``F(z) = Mz`` has a
normal M with eigenvalues ±i, so any update that is a polynomial in M scales ‖z‖ by
the modulus of the same polynomial at λ = i: the expected distances below are those
scalar moduli (never the rules' own earlier output).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import agents
from gangames.testing import check_rule
from tests.agents.scaffold import distances, make_env, start

F64 = torch.float64


@pytest.mark.parametrize(
    ("name", "hp", "game", "options"),
    [
        ("extragradient", {}, "gangames/Bilinear-v0", {}),
        (
            "extragradient",
            {"lr_discriminator": 0.3},
            "gangames/Bilinear-v0",
            {"box": 0.5},
        ),
        ("extragradient", {}, "gangames/Quadratic-v0", {}),
        ("extragradient", {"lr": 0.5}, "gangames/DiracGAN-v0", {"clip": 0.3}),
        ("extragradient", {}, "gangames/GaussianWGAN-v0", {}),
        ("optimistic_gda", {}, "gangames/Bilinear-v0", {}),
        ("optimistic_gda", {"lr_generator": 0.05}, "gangames/Quadratic-v0", {}),
        ("optimistic_gda", {}, "gangames/DiracGAN-v0", {"penalty": "r2", "gamma": 1.0}),
    ],
    ids=lambda x: str(x) if not isinstance(x, dict) else "-".join(map(str, x.values())),
)
def test_check_rule(name, hp, game, options):
    check_rule(agents.make(name, **hp), game, **options)


def test_extragradient_plays_the_sequential_env_too():
    check_rule(agents.make("extragradient"), "gangames/Bilinear-v0", order="sequential")


# ---- one step, by hand ---------------------------------------------------------------


def test_extragradient_first_step_is_the_closed_form():
    # V = aθφ: F(z) = Mz, M = [[0, a], [−a, 0]]; z⁺ = z − ηM(z − ηMz).
    eta = 0.3
    env = make_env("gangames/Bilinear-v0", 1, dimension=1)
    agents.play(
        env, agents.make("extragradient", lr=eta), seed=0, options=start([0.7], [-1.2])
    )
    a = float(env.match.instance["A"][0, 0, 0])
    m = np.array([[0.0, a], [-a, 0.0]])
    z = np.array([0.7, -1.2])
    expected = z - eta * m @ (z - eta * m @ z)
    got = [float(env.match.state.theta[0, 0]), float(env.match.state.phi[0, 0])]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_extragradient_two_timescale_and_projected_first_step():
    # Box [−b, b]: z̃ = Π(z − DF(z)), z⁺ = Π(z − DF(z̃)), D = diag(η_θ, η_φ).
    b, eta_t, eta_p = 0.5, 0.4, 1.0
    theta, phi = 0.45, -0.3
    env = make_env("gangames/Bilinear-v0", 1, dimension=1, box=b)
    solver = agents.make("extragradient", lr=eta_t, lr_discriminator=eta_p)
    agents.play(env, solver, seed=0, options=start([theta], [phi]))
    a = float(env.match.instance["A"][0, 0, 0])

    def clip(x: float) -> float:
        return min(max(x, -b), b)

    theta_x = clip(theta - eta_t * a * phi)  # ∇_θV = aφ
    phi_x = clip(phi + eta_p * a * theta)  # ascent on V: ∇_φV = aθ
    assert abs(phi + eta_p * a * theta) > b  # the extrapolation did hit the box
    expected = [clip(theta - eta_t * a * phi_x), clip(phi + eta_p * a * theta_x)]
    got = [float(env.match.state.theta[0, 0]), float(env.match.state.phi[0, 0])]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_optimistic_gda_first_two_steps():
    # z1 = z0 − ηMz0 (F(z⁻) = F(z) at the start); z2 = z1 − 2ηMz1 + ηMz0.
    eta = 0.2
    env = make_env("gangames/Bilinear-v0", 2, dimension=1)
    agents.play(
        env, agents.make("optimistic_gda", lr=eta), seed=0, options=start([1.0], [0.5])
    )
    a = float(env.match.instance["A"][0, 0, 0])
    m = np.array([[0.0, a], [-a, 0.0]])
    z0 = np.array([1.0, 0.5])
    z1 = z0 - eta * m @ z0
    z2 = z1 - 2 * eta * m @ z1 + eta * m @ z0
    got = [float(env.match.state.theta[0, 0]), float(env.match.state.phi[0, 0])]
    np.testing.assert_allclose(got, z2, rtol=1e-12)


def test_extragradient_costs_two_gradients_a_seat_four_a_round():
    env = make_env("gangames/Bilinear-v0", 7)
    infos = agents.play(env, agents.make("extragradient"), seed=0)
    for seat in ("generator", "discriminator"):
        key = f"oracle_calls_{seat}"
        assert infos[-1][key] - infos[0][key] == 14.0


# ---- known dynamics: T1 bilinear ----------------------------------------------------


def test_extragradient_converges_on_bilinear_at_the_predicted_rate():
    # |1 − iη + (iη)²| = √(1 − η² + η⁴) per step (§8 T1).
    eta, steps = 0.5, 50
    env = make_env("gangames/Bilinear-v0", steps, batch=3, dimension=3)
    d = distances(agents.play(env, agents.make("extragradient", lr=eta), seed=0))
    t = torch.arange(steps + 1, dtype=F64)[:, None]
    rate = math.sqrt(1 - eta**2 + eta**4)
    assert rate < 1
    assert torch.allclose(d, d[0] * rate**t, rtol=1e-9)


def test_extragradient_converges_on_ill_conditioned_bilinear_within_the_band():
    # σ ∈ [1/κ, 1] and ησ < 1/√2: per-step contraction in [√f(1), √f(1/κ)],
    # f(σ) = 1 − η²σ² + η⁴σ⁴ (decreasing in σ there).
    eta, kappa, steps = 0.5, 3.0, 120
    env = make_env(
        "gangames/Bilinear-v0", steps, batch=2, dimension=3, condition_number=kappa
    )
    d = distances(agents.play(env, agents.make("extragradient", lr=eta), seed=2))

    def f(s: float) -> float:
        return 1 - (eta * s) ** 2 + (eta * s) ** 4

    ratio = d[1:] / d[:-1]
    assert (ratio >= math.sqrt(f(1.0)) - 1e-12).all()
    assert (ratio <= math.sqrt(f(1 / kappa)) + 1e-12).all()
    assert (d[-1] < 0.2 * d[0]).all()


def test_optimistic_gda_converges_on_bilinear_as_its_scalar_recursion():
    # Per eigenvalue λ = i of M: x_{n+1} = (1 − 2ηλ)x_n + ηλx_{n−1}, x_1 = (1 − ηλ)x_0,
    # so ‖z_n‖ = |x_n|‖z_0‖; the rate is the larger root of r² − (1 − 2ηλ)r − ηλ.
    eta, steps = 0.3, 80
    env = make_env("gangames/Bilinear-v0", steps, batch=3, dimension=2)
    d = distances(agents.play(env, agents.make("optimistic_gda", lr=eta), seed=0))
    lam = 1j
    x = [1.0 + 0j, 1 - eta * lam]
    for _ in range(steps - 1):
        x.append((1 - 2 * eta * lam) * x[-1] + eta * lam * x[-2])
    expected = torch.tensor([abs(v) for v in x], dtype=F64)[:, None] * d[0]
    assert torch.allclose(d, expected, rtol=1e-9)
    rho = max(abs(r) for r in np.roots([1, -(1 - 2 * eta * lam), -eta * lam]))
    assert rho < 1
    assert torch.allclose(d[-1] / d[-21], torch.tensor(rho**20, dtype=F64), rtol=1e-6)


def test_gradient_descent_ascent_diverges_where_they_converge():
    # The comparator of T1: same game, same step, GDA grows by √(1 + η²) per step.
    eta, steps = 0.3, 30
    out = {}
    for name in ("gda", "extragradient", "optimistic_gda"):
        env = make_env("gangames/Bilinear-v0", steps, batch=2, dimension=2)
        d = distances(agents.play(env, agents.make(name, lr=eta), seed=4))
        out[name] = d[-1] / d[0]
    assert (out["gda"] > 1).all()
    assert (out["extragradient"] < 1).all() and (out["optimistic_gda"] < 1).all()
