"""CovarianceGAN (T7): closed forms against autograd, brute force and known answers."""

from __future__ import annotations

import math

import pytest
import torch

from gangames.errors import InvalidConfigError
from gangames.game import Game, expand_instance, mixed
from gangames.games.covariance import CovarianceGAN
from gangames.random import Stream
from tests.games.brute import F64, SEEDS, ball, draw, minimise, setup


def sqrtm(s: torch.Tensor) -> torch.Tensor:
    e, q = torch.linalg.eigh(s)
    return (q * e.sqrt().unsqueeze(-2)) @ q.mT


def multistart(inst, starts: int, dim: int, tag: int, scale: float = 1.0):
    """Instance repeated ``starts`` times per row and random starting points."""
    big = expand_instance(inst, starts)
    x0 = draw(tag, (starts * dim,), scale=scale).reshape(len(SEEDS) * starts, dim)
    return big, x0


def test_instances_are_spd_with_spectrum_in_range():
    game = CovarianceGAN(dimension=3)
    inst, _, _ = setup(game)
    s = inst["S"]
    torch.testing.assert_close(s, s.mT, rtol=0, atol=0)
    eig = torch.linalg.eigvalsh(s)
    assert (eig >= game.eig_min - 1e-12).all() and (eig <= game.eig_max + 1e-12).all()


def test_value_is_the_trace_formula():
    game = CovarianceGAN(dimension=3, ridge=0.3)
    inst, _, _ = setup(game)
    theta, phi = draw(1, (9,)), draw(2, (9,))
    v = theta.reshape(-1, 3, 3)
    w = phi.reshape(-1, 3, 3)
    expect = torch.stack(
        [
            torch.trace(w[i].T @ (inst["S"][i] - v[i] @ v[i].T))
            - 0.15 * torch.trace(w[i].T @ w[i])
            for i in range(len(SEEDS))
        ]
    )
    torch.testing.assert_close(game.value(inst, theta, phi), expect, rtol=1e-12, atol=0)


def test_analytic_gradients_match_autograd():
    game = CovarianceGAN(dimension=3, ridge=0.3)
    inst, _, _ = setup(game)
    theta, phi = draw(1, (9,)), draw(2, (9,))
    got = game.gradients(inst, theta, phi)
    want = Game.gradients(game, inst, theta, phi)
    for g, a in zip(got, want, strict=True):
        torch.testing.assert_close(g, a, rtol=1e-12, atol=1e-12)


def test_equilibrium_has_zero_gaps_and_distance():
    game = CovarianceGAN(dimension=3)
    inst, _, _ = setup(game)
    # V = S^{1/2} U for a random orthogonal U: VVᵀ = S.
    u, _ = torch.linalg.qr(draw(1, (3, 3)))
    theta = (sqrtm(inst["S"]) @ u).flatten(1)
    phi = torch.zeros_like(theta)
    zero = torch.zeros(len(SEEDS), dtype=F64)
    tol = {"rtol": 0, "atol": 1e-12}
    torch.testing.assert_close(game.value(inst, theta, phi), zero, **tol)
    phi_val = game.best_response_value(inst, "discriminator", theta)
    psi_val = game.best_response_value(inst, "generator", phi)
    torch.testing.assert_close(phi_val, zero, **tol)
    torch.testing.assert_close(psi_val, zero, **tol)
    torch.testing.assert_close(game.equilibrium_distance(inst, theta, phi), zero, **tol)
    for lam in (0.0, 0.5, 3.0):
        torch.testing.assert_close(game.proximal_value(inst, phi, lam), zero, **tol)
    g_theta, g_phi = game.gradients(inst, theta, phi)
    torch.testing.assert_close(g_theta, torch.zeros_like(g_theta), **tol)
    torch.testing.assert_close(g_phi, torch.zeros_like(g_phi), **tol)


@pytest.mark.parametrize("particles", [1, 3])
def test_critic_best_response_is_the_brute_force_maximum(particles):
    game = CovarianceGAN(dimension=2, ridge=0.5)
    inst, _, _ = setup(game)
    cloud = draw(1, (particles, 4))
    closed = game.cloud_best_response_value(inst, "discriminator", cloud)
    starts = 4
    big, w0 = multistart(inst, starts, 4, tag=2, scale=1.0)
    big_cloud = cloud.repeat_interleave(starts, dim=0)

    def neg(w):
        vals = [game.value(big, big_cloud[:, k], w) for k in range(particles)]
        return -torch.stack(vals, dim=-1).mean(dim=-1)

    brute = (-minimise(neg, w0)).reshape(len(SEEDS), starts).amax(dim=-1)
    assert (brute <= closed + 1e-9).all()
    torch.testing.assert_close(brute, closed, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("particles", [1, 3])
@pytest.mark.parametrize("kind", ["random", "negative_definite"])
def test_generator_best_response_is_the_brute_force_minimum(particles, kind):
    game = CovarianceGAN(dimension=2, ridge=0.5)
    inst, _, _ = setup(game)
    cloud = draw(1, (particles, 4))
    if kind == "negative_definite":
        x = cloud.reshape(len(SEEDS), particles, 2, 2)
        cloud = (-(x @ x.mT) - 0.1 * torch.eye(2, dtype=F64)).flatten(-2)
    closed = game.cloud_best_response_value(inst, "generator", cloud)
    starts = 6
    big, v0 = multistart(inst, starts, 4, tag=2, scale=1.0)
    big_cloud = cloud.repeat_interleave(starts, dim=0)

    def fn(v):
        vals = [game.value(big, v, big_cloud[:, k]) for k in range(particles)]
        return torch.stack(vals, dim=-1).mean(dim=-1)

    to_ball = ball(game.generator_radius)
    brute = minimise(fn, v0, to_ball).reshape(len(SEEDS), starts).amin(dim=-1)
    scale = 1 + closed.abs()
    assert (brute >= closed - 1e-9 * scale).all()
    assert (brute <= closed + 1e-9 * scale).all(), (brute, closed)


@pytest.mark.parametrize("lam", [0.0, 0.7, 4.0])
def test_proximal_objective_is_the_brute_force_inner_maximum(lam):
    game = CovarianceGAN(dimension=2, ridge=0.3)
    inst, _, _ = setup(game)
    theta, phi = draw(1, (4,)), draw(2, (4,))
    closed = game.proximal_objective(inst, theta, phi, lam)

    def neg(w):
        return -(game.value(inst, theta, w) - 0.5 * lam * ((w - phi) ** 2).sum(-1))

    brute = -minimise(neg, draw(3, (4,)))
    assert (brute <= closed + 1e-9).all()
    torch.testing.assert_close(brute, closed, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 0.7, 4.0])
@pytest.mark.parametrize("critic", ["random", "large_psd"])
def test_proximal_value_is_the_brute_force_minimum(lam, critic):
    game = CovarianceGAN(dimension=2, ridge=0.3)
    inst, _, _ = setup(game)
    phi = draw(1, (4,))
    if critic == "large_psd" and lam > 0:  # the trace cap ‖V‖_F² ≤ R² is active
        x = phi.reshape(-1, 2, 2)
        phi = (5 * x @ x.mT + 20 * torch.eye(2, dtype=F64)).flatten(-2)
        eig = torch.linalg.eigvalsh(inst["S"] + lam * phi.reshape(-1, 2, 2))
        assert (eig.clamp(min=0).sum(-1) > game.generator_radius**2).all()
    closed = game.proximal_value(inst, phi, lam)
    starts = 6
    big, v0 = multistart(inst, starts, 4, tag=2, scale=1.0)
    big_phi = phi.repeat_interleave(starts, dim=0)

    def fn(v):
        return game.proximal_objective(big, v, big_phi, lam)

    to_ball = ball(game.generator_radius)
    brute = minimise(fn, v0, to_ball).reshape(len(SEEDS), starts)
    brute = brute.amin(dim=-1)
    scale = 1 + closed.abs()
    assert (brute >= closed - 1e-9 * scale).all()
    assert (brute <= closed + 1e-9 * scale).all(), (brute, closed)


def test_gaps_are_nonnegative_and_ordered():
    game = CovarianceGAN(dimension=3)
    inst, _, _ = setup(game)
    for tag in range(4):
        theta = game.project("generator", inst, draw(10 + tag, (9,), scale=tag))
        phi = draw(20 + tag, (9,), scale=tag)
        v = game.value(inst, theta, phi)
        phi_val = game.best_response_value(inst, "discriminator", theta)
        psi_val = game.best_response_value(inst, "generator", phi)
        slack = 1e-10 * (1 + v.abs())
        assert (phi_val >= v - slack).all() and (v >= psi_val - slack).all()
        for lam in (0.1, 1.0):
            here = game.proximal_objective(inst, theta, phi, lam)
            low = game.proximal_value(inst, phi, lam)
            assert (here >= v - slack).all()  # V_prox ≥ V
            assert (phi_val >= here - slack).all()  # max_φ V_prox = Φ
            assert (here >= low - slack).all()
            assert (low >= psi_val - slack).all()  # DG^λ ≤ DG


def test_mixed_equilibrium_of_rank_one_particles():
    d = 3
    game = CovarianceGAN(dimension=d)
    inst, _, _ = setup(game)
    root = sqrtm(inst["S"])
    # V_k = √d·S^{1/2}E_kk: each particle has rank one, yet E V_kV_kᵀ = S.
    eye = torch.eye(d, dtype=F64)
    parts = [math.sqrt(d) * root * eye[k] for k in range(d)]  # column k only
    cloud = torch.stack([p.flatten(-2) for p in parts], dim=1)  # (B, d, d²)
    lifted = mixed(game, particles=d)
    theta = lifted.uncloud("generator", cloud)
    assert torch.allclose(lifted.project("generator", inst, theta), theta)
    phi = torch.zeros(len(SEEDS), d * d * d, dtype=F64)
    zero = torch.zeros(len(SEEDS), dtype=F64)
    tol = {"rtol": 0, "atol": 1e-12}
    torch.testing.assert_close(
        lifted.best_response_value(inst, "discriminator", theta), zero, **tol
    )
    torch.testing.assert_close(
        lifted.best_response_value(inst, "generator", phi), zero, **tol
    )
    torch.testing.assert_close(
        lifted.equilibrium_distance(inst, theta, phi), zero, **tol
    )
    # No single particle is an equilibrium.
    single = game.equilibrium_distance(inst, cloud[:, 0], phi[:, : d * d])
    assert (single > 0.1).all()


def test_batched_equals_rowwise():
    game = CovarianceGAN(dimension=3, ridge=0.2)
    inst, theta, phi = setup(game)
    theta = game.project("generator", inst, theta + draw(1, (9,)))
    phi = phi + draw(2, (9,))
    outputs = {
        "value": lambda i, t, p: game.value(i, t, p),
        "grad_theta": lambda i, t, p: game.gradients(i, t, p)[0],
        "grad_phi": lambda i, t, p: game.gradients(i, t, p)[1],
        "phi_val": lambda i, t, p: game.best_response_value(i, "discriminator", t),
        "psi_val": lambda i, t, p: game.best_response_value(i, "generator", p),
        "prox": lambda i, t, p: game.proximal_objective(i, t, p, 0.5),
        "prox_value": lambda i, t, p: game.proximal_value(i, p, 0.5),
        "distance": lambda i, t, p: game.equilibrium_distance(i, t, p),
    }
    full = {k: f(inst, theta, phi) for k, f in outputs.items()}
    for row, seed in enumerate(SEEDS):
        one_inst, one_theta, one_phi = setup(game, seeds=[seed])
        torch.testing.assert_close(
            one_inst["S"], inst["S"][row : row + 1], rtol=0, atol=0
        )
        t0, p0 = game.init_params(inst, Stream.from_seeds(SEEDS).fork(2))
        torch.testing.assert_close(one_theta, t0[row : row + 1], rtol=0, atol=0)
        torch.testing.assert_close(one_phi, p0[row : row + 1], rtol=0, atol=0)
        for name, f in outputs.items():
            got = f(one_inst, theta[row : row + 1], phi[row : row + 1])
            torch.testing.assert_close(
                got, full[name][row : row + 1], rtol=1e-12, atol=1e-12, msg=name
            )


def test_float32_matches_float64():
    game = CovarianceGAN(dimension=3)
    inst64, theta64, phi64 = setup(game)
    inst32, theta32, phi32 = setup(game, dtype=torch.float32)
    assert theta32.dtype == phi32.dtype == inst32["S"].dtype == torch.float32
    torch.testing.assert_close(theta32, theta64.float())
    for f in (
        lambda i, t, p: game.value(i, t, p),
        lambda i, t, p: game.best_response_value(i, "generator", p),
        lambda i, t, p: game.proximal_value(i, p, 1.0),
    ):
        out = f(inst32, theta32, phi32)
        assert out.dtype == torch.float32
        torch.testing.assert_close(
            out.double(), f(inst64, theta64, phi64), rtol=1e-4, atol=1e-4
        )


def test_projection_is_the_ball_projection_and_idempotent():
    game = CovarianceGAN(dimension=2)
    inst, _, _ = setup(game)
    r = game.generator_radius
    assert r == pytest.approx(2 * math.sqrt(2 * 2.0))
    far = draw(1, (4,), scale=10.0)
    once = game.project("generator", inst, far)
    torch.testing.assert_close(once.norm(dim=-1), torch.full((3,), r, dtype=F64))
    torch.testing.assert_close(game.project("generator", inst, once), once)
    near = 0.1 * far
    torch.testing.assert_close(
        game.project("generator", inst, near), near, rtol=0, atol=0
    )
    torch.testing.assert_close(game.project("discriminator", inst, far), far)
    assert game.gap_estimator == f"restricted to ‖V‖_F ≤ {r:g}"


def test_invalid_configuration_is_refused():
    for bad in (
        {"dimension": 0},
        {"ridge": 0.0},
        {"eig_min": 0.0},
        {"eig_min": 3.0},
        {"radius": 1.0},
        {"init_scale": -1.0},
    ):
        with pytest.raises(InvalidConfigError):
            CovarianceGAN(**bad)
    game = CovarianceGAN()
    inst, _, phi = setup(game)
    with pytest.raises(InvalidConfigError):
        game.proximal_value(inst, phi, -1.0)
