"""GDA, two-timescale GDA, alternating GDA and Adam against docs/algorithms.md §1 and §8.

Expected values come from the update equations and the known dynamics of T1 (bilinear),
T2 (quadratic) and T3 (Dirac-GAN), never from the rules' own earlier output.
"""

from __future__ import annotations

import math

import pytest
import torch

import agents
import gangames
from gangames.errors import InvalidConfigError
from gangames.testing import check_rule
from tests.agents.scaffold import distances, make_env, start

F64 = torch.float64


# ---- the update-rule contract --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hp", "game", "options"),
    [
        ("gda", {}, "gangames/Quadratic-v0", {}),
        ("gda", {"lr_discriminator": 0.3}, "gangames/Bilinear-v0", {"box": 1.0}),
        ("gda", {}, "gangames/DiracGAN-v0", {"penalty": "r1", "gamma": 1.0}),
        ("adam", {"lr": 0.05}, "gangames/Quadratic-v0", {}),
        ("adam", {"lr": 0.05}, "gangames/DiracGAN-v0", {}),
        ("alternating_gda", {}, "gangames/Bilinear-v0", {}),
        ("alternating_gda", {"n_critic": 3}, "gangames/Quadratic-v0", {}),
        (
            "alternating_gda",
            {"n_critic": 2, "first": "discriminator"},
            "gangames/DiracGAN-v0",
            {"clip": 0.5, "loss": "wgan", "first": "discriminator"},
        ),
    ],
    ids=lambda x: str(x) if not isinstance(x, dict) else "-".join(map(str, x.values())),
)
def test_check_rule(name, hp, game, options):
    check_rule(agents.make(name, **hp), game, **options)


def test_bad_hyperparameters_are_refused_with_a_clear_error():
    with pytest.raises(InvalidConfigError, match="lr_discriminator"):
        agents.make("gda", lr_discriminator=-1.0)
    with pytest.raises(InvalidConfigError, match="n_critic"):
        agents.make("alternating_gda", n_critic=0)
    with pytest.raises(InvalidConfigError, match="first"):
        agents.make("alternating_gda", first="critic")
    with pytest.raises(InvalidConfigError, match="b1"):
        agents.make("adam", b1=1.0)


def test_alternating_gda_refuses_the_simultaneous_env():
    env = make_env("gangames/Bilinear-v0", 3)
    with pytest.raises(InvalidConfigError, match="sequential"):
        agents.play(env, agents.make("alternating_gda"), seed=0)


# ---- one step, by hand ---------------------------------------------------------------


def test_gda_one_step_two_timescale_on_scalar_bilinear():
    # V = aθφ (a = ±1): θ⁺ = θ − η_θ a φ, φ⁺ = φ + η_φ a θ.
    env = make_env("gangames/Bilinear-v0", 1, dimension=1)
    solver = agents.make("gda", lr=0.1, lr_discriminator=0.4)
    agents.play(env, solver, seed=0, options=start([0.7], [-1.3]))
    a = env.match.instance["A"][0, 0, 0]
    assert torch.allclose(env.match.state.theta[0, 0], 0.7 - 0.1 * a * -1.3)
    assert torch.allclose(env.match.state.phi[0, 0], -1.3 + 0.4 * a * 0.7)


def test_alternating_gda_one_round_with_three_critic_steps_on_scalar_quadratic():
    # V = (μ/2)θ² + aθφ − (μ/2)φ²: ∇_θV = μθ + aφ, ∇_φV = aθ − μφ.
    mu, eta = 0.5, 0.2
    env = make_env("gangames/Quadratic-v0", 1, order="sequential", dimension=1, mu=mu)
    solver = agents.make("alternating_gda", lr=eta, n_critic=3)
    agents.play(env, solver, seed=0, options=start([1.0], [2.0]))
    a = env.match.instance["A"][0, 0, 0]
    theta = 1.0 - eta * (mu * 1.0 + a * 2.0)  # generator first
    phi = torch.tensor(2.0, dtype=F64)
    for _ in range(3):  # the critic ascends against the moved generator
        phi = phi + eta * (a * theta - mu * phi)
    assert torch.allclose(env.match.state.theta[0, 0], theta)
    assert torch.allclose(env.match.state.phi[0, 0], phi)


def test_alternating_gda_critic_first():
    mu, eta = 1.0, 0.1
    env = gangames.make(
        "gangames/Quadratic-v0",
        max_steps=1,
        dtype="float64",
        tensor=True,
        order="sequential",
        first="discriminator",
        dimension=1,
        mu=mu,
    )
    solver = agents.make("alternating_gda", lr=eta, n_critic=2, first="discriminator")
    agents.play(env, solver, seed=0, options=start([1.0], [2.0]))
    a = env.match.instance["A"][0, 0, 0]
    phi = torch.tensor(2.0, dtype=F64)
    for _ in range(2):
        phi = phi + eta * (a * 1.0 - mu * phi)
    theta = 1.0 - eta * (mu * 1.0 + a * phi)
    assert torch.allclose(env.match.state.phi[0, 0], phi)
    assert torch.allclose(env.match.state.theta[0, 0], theta)


def test_alternating_gda_costs_n_critic_plus_one_gradients_a_round():
    env = make_env("gangames/Bilinear-v0", 10, order="sequential")
    infos = agents.play(env, agents.make("alternating_gda", n_critic=4), seed=0)
    per_round = {
        s: infos[-2][f"oracle_calls_{s}"] - infos[-3][f"oracle_calls_{s}"]
        for s in ("generator", "discriminator")
    }
    assert per_round == {"generator": 1.0, "discriminator": 4.0}
    # 10 rounds, plus each seat's final observation, charged in the last round
    assert infos[-1]["oracle_calls_generator"] == 11.0
    assert infos[-1]["oracle_calls_discriminator"] == 41.0


def test_adam_first_step_is_a_sign_step():
    # Bias-corrected Adam at n = 1: m̂ = g, v̂ = g², so Δ = −η g/(|g| + ε).
    eta, eps = 0.01, 1e-8
    env = make_env("gangames/Bilinear-v0", 1, dimension=1)
    agents.play(
        env, agents.make("adam", lr=eta, eps=eps), seed=0, options=start([3.0], [-0.5])
    )
    a = env.match.instance["A"][0, 0, 0]
    g_theta, g_phi = a * -0.5, -a * 3.0  # own-loss gradients (discriminator: −∇_φV)
    assert torch.allclose(
        env.match.state.theta[0, 0], 3.0 - eta * g_theta / (g_theta.abs() + eps)
    )
    assert torch.allclose(
        env.match.state.phi[0, 0], -0.5 - eta * g_phi / (g_phi.abs() + eps)
    )


# ---- known dynamics: T1 bilinear ----------------------------------------------------


def test_gda_diverges_on_bilinear_at_the_predicted_rate():
    # Every singular value 1 (κ = 1): ‖z_{t+1}‖² = (1 + η²)‖z_t‖² exactly (§8 T1).
    eta, steps = 0.2, 40
    env = make_env("gangames/Bilinear-v0", steps, batch=3, dimension=3)
    d = distances(agents.play(env, agents.make("gda", lr=eta), seed=0))
    t = torch.arange(steps + 1, dtype=F64)[:, None]
    assert torch.allclose(d, d[0] * (1 + eta**2) ** (t / 2), rtol=1e-9)


def test_gda_diverges_on_ill_conditioned_bilinear_within_the_singular_value_band():
    # σ ∈ [1/κ, 1]: the growth per step lies in [√(1 + η²/κ²), √(1 + η²)].
    eta, kappa, steps = 0.3, 4.0, 60
    env = make_env(
        "gangames/Bilinear-v0", steps, batch=3, dimension=4, condition_number=kappa
    )
    d = distances(agents.play(env, agents.make("gda", lr=eta), seed=1))
    ratio = d[1:] / d[:-1]
    assert (ratio >= math.sqrt(1 + (eta / kappa) ** 2) - 1e-12).all()
    assert (ratio <= math.sqrt(1 + eta**2) + 1e-12).all()
    assert (d[-1] > 1.5 * d[0]).all()


def test_alternating_gda_cycles_on_bilinear_in_the_invariant_band():
    # Generator first: H = ‖θ‖² + ‖φ‖² − η θᵀAφ is conserved (determinant-1 update,
    # §8 T1), and |η θᵀAφ| ≤ (η/2)‖z‖² (σ_max = 1), so
    # H/(1 + η/2) ≤ ‖z_t‖² ≤ H/(1 − η/2) for every t: bounded, never converging.
    eta, steps = 0.5, 200
    env = make_env(
        "gangames/Bilinear-v0", steps, order="sequential", batch=3, dimension=2
    )
    solver = agents.make("alternating_gda", lr=eta)
    env.reset(seed=0)
    m = env.match
    th0, ph0, a = m.state.theta.clone(), m.state.phi.clone(), m.instance["A"]

    def energy(th, ph):
        return (
            (th * th).sum(-1)
            + (ph * ph).sum(-1)
            - eta * (th * (a @ ph[..., None])[..., 0]).sum(-1)
        )

    h = energy(th0, ph0)
    infos = agents.play(
        env,
        solver,
        seed=0,
        options={"params": {"generator": th0, "discriminator": ph0}},
    )
    d2 = distances(infos) ** 2
    assert torch.allclose(energy(env.match.state.theta, env.match.state.phi), h)
    assert (d2 >= h / (1 + eta / 2) - 1e-9).all()
    assert (d2 <= h / (1 - eta / 2) + 1e-9).all()


# ---- known dynamics: T3 Dirac-GAN ---------------------------------------------------


def test_gda_spirals_out_on_dirac_gan():
    # θ⁺ = θ − hψf'(θψ), ψ⁺ = ψ + hθf'(θψ) ⇒ ‖z⁺‖² = (1 + h²f'(θψ)²)‖z‖² > ‖z‖².
    h = 0.5
    env = make_env("gangames/DiracGAN-v0", 1)
    agents.play(env, agents.make("gda", lr=h), seed=0, options=start([0.8], [-0.6]))
    fprime = torch.sigmoid(torch.tensor(0.8 * 0.6, dtype=F64))  # f'(t) = σ(−t)
    after = env.match.state.theta[0, 0] ** 2 + env.match.state.phi[0, 0] ** 2
    assert torch.allclose(after, (1 + h**2 * fprime**2) * 1.0)

    env = make_env("gangames/DiracGAN-v0", 40, batch=2)
    d = distances(agents.play(env, agents.make("gda", lr=h), seed=0))
    assert (d[1:] > d[:-1]).all()


def test_alternating_gda_cycles_on_dirac_gan():
    # |λ| = 1 for the linearised alternating update (§8 T3): neither in nor out.
    env = make_env("gangames/DiracGAN-v0", 150, order="sequential", batch=2)
    d = distances(agents.play(env, agents.make("alternating_gda", lr=0.1), seed=0))
    assert ((d > 0.9 * d[0]) & (d < 1.1 * d[0])).all()


@pytest.mark.parametrize("name", ["gda", "alternating_gda"])
def test_r1_penalty_makes_gda_converge_on_dirac_gan(name):
    # With R1, γ = 1: Jacobian eigenvalues −γ/2 ± √(γ²/4 − f'(0)²) = −1/2 (§8 T3).
    order = "sequential" if name == "alternating_gda" else "simultaneous"
    env = make_env(
        "gangames/DiracGAN-v0", 60, order=order, batch=2, penalty="r1", gamma=1.0
    )
    d = distances(agents.play(env, agents.make(name, lr=0.5), seed=0))
    assert (d[-1] < 1e-3 * d[0]).all()


def test_gda_and_adam_converge_on_quadratic():
    for solver in (agents.make("gda", lr=0.2), agents.make("adam", lr=0.02)):
        env = make_env("gangames/Quadratic-v0", 150, batch=2, coupling=0.5)
        d = distances(agents.play(env, solver, seed=0))
        assert (d[-1] < 0.05 * d[0]).all(), solver.name


def test_baselines_are_registered_with_their_defaults():
    ids = {
        "gda": "simultaneous",
        "alternating_gda": "sequential",
        "adam": "simultaneous",
        "extragradient": "simultaneous",
        "optimistic_gda": "simultaneous",
        "conjugate_gradient": "simultaneous",
    }
    for name, order in ids.items():
        solver = agents.make(name)
        assert solver.name == name and solver.order == order
        assert solver.generator.order == solver.discriminator.order == order
