"""NonRealizableGAN (T5): every number of docs/algorithms.md T5 against brute force."""

from __future__ import annotations

import math

import pytest
import torch

from gangames.game import Game, mixed
from gangames.games._solve1d import argmax_concave, minimize_interval
from gangames.games.nonrealizable import NonRealizableGAN
from gangames.random import Stream


def critic_best_response(game: NonRealizableGAN, theta: torch.Tensor) -> torch.Tensor:
    """``ψ*(θ) = (−θ, 1 − θ²)/γ`` (the module docstring), ``(B, 2)`` for θ ``(B, 1)``."""
    t = theta[..., :1]
    return torch.cat([-t, 1 - t * t], dim=-1) / game.gamma


F64 = torch.float64
S = 1 / math.sqrt(2.0)


def _inst(b, dtype=F64):
    # No random problem data: the default instance only carries the batch size.
    return {"_batch": torch.zeros(b, dtype=dtype)}


def _rand(shape, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=F64)


def _v(game, t, p1, p2):
    """V by the formula of docs/algorithms.md, broadcasting plain tensors."""
    return p2 * (1 - t**2) - p1 * t - game.gamma / 2 * (p1**2 + p2**2)


@pytest.mark.parametrize("gamma", [1.0, 0.5])
def test_value_and_gradients(gamma):
    game = NonRealizableGAN(gamma=gamma)
    theta, psi = _rand((32, 1), 0, 2.0), _rand((32, 2), 1, 2.0)
    inst = _inst(32)
    v = game.value(inst, theta, psi)
    torch.testing.assert_close(
        v, _v(game, theta[:, 0], psi[:, 0], psi[:, 1]), rtol=1e-14, atol=1e-14
    )
    gt, gp = game.gradients(inst, theta, psi)
    at, ap = Game.gradients(game, inst, theta, psi)
    torch.testing.assert_close(gt, at, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(gp, ap, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_critic_best_response_and_phi(gamma):
    game = NonRealizableGAN(gamma=gamma)
    theta = torch.linspace(-2, 2, 41, dtype=F64)[:, None]
    inst = _inst(41)
    star = critic_best_response(game, theta)
    # ∇_ψV = 0 at ψ*(θ), and V there equals Φ(θ) = (θ² + (1 − θ²)²)/(2γ).
    _, gp = game.gradients(inst, theta, star)
    assert gp.abs().max() < 1e-14
    t = theta[:, 0]
    phi_ref = (t**2 + (1 - t**2) ** 2) / (2 * gamma)
    torch.testing.assert_close(game.value(inst, theta, star), phi_ref)
    torch.testing.assert_close(
        game.best_response_value(inst, "discriminator", theta), phi_ref
    )
    # Brute force over a 2-D grid of critics (ψ* lies in [−2, 2] × [−3, 1] / γ).
    g1 = torch.linspace(-2.2 / gamma, 2.2 / gamma, 441, dtype=F64)
    g2 = torch.linspace(-3.2 / gamma, 1.2 / gamma, 441, dtype=F64)
    p1, p2 = torch.meshgrid(g1, g2, indexing="ij")
    brute = _v(game, t[:, None, None], p1, p2).amax(dim=(-1, -2))
    assert (brute <= phi_ref + 1e-14).all()
    torch.testing.assert_close(brute, phi_ref, rtol=0, atol=1e-4)


def test_cloud_best_responses_match_brute_force():
    game = NonRealizableGAN()
    b, k = 40, 5
    inst = _inst(b)
    tc = _rand((b, k, 1), 2).clamp(-2, 2)
    pc = _rand((b, k, 2), 3)
    pc[0] = 0.0
    pc[1, :, 1] = 0.0  # ψ̄₂ = 0: linear in θ
    pc[2, :, 1] = -1.0  # convex, interior minimiser
    pc[2, :, 0] = 0.3
    pc[3, :, 1] = -0.1  # convex, stationary point outside the box
    pc[3, :, 0] = 1.0
    # Discriminator: moments formula and brute force on a 2-D critic grid.
    m1, m2 = tc[..., 0].mean(-1), (tc[..., 0] ** 2).mean(-1)
    d = game.cloud_best_response_value(inst, "discriminator", tc)
    torch.testing.assert_close(d, (m1**2 + (1 - m2) ** 2) / 2)
    g1 = torch.linspace(-2.5, 2.5, 301, dtype=F64)
    g2 = torch.linspace(-3.5, 1.5, 301, dtype=F64)
    p1, p2 = torch.meshgrid(g1, g2, indexing="ij")
    vals = _v(game, tc[:, :, 0, None, None], p1[None, None], p2[None, None])
    brute_d = vals.mean(1).amax(dim=(-1, -2))
    assert (brute_d <= d + 1e-14).all()
    torch.testing.assert_close(brute_d, d, rtol=0, atol=2e-4)
    # Generator: brute force on a θ grid of the box (ends included).
    grid = torch.linspace(-2, 2, 40001, dtype=F64)
    vals = _v(game, grid[None, None, :], pc[:, :, 0, None], pc[:, :, 1, None])
    brute_g = vals.mean(1).amin(-1)
    gen = game.cloud_best_response_value(inst, "generator", pc)
    assert (gen <= brute_g + 1e-14).all()
    torch.testing.assert_close(gen, brute_g, rtol=0, atol=1e-8)
    # docs/algorithms.md's NI formula for clouds.
    pb = pc.mean(1)
    inner = (pb[:, None, 1] * (1 - grid**2) - pb[:, None, 0] * grid).amin(-1)
    ridge = 0.5 * (pc**2).sum(-1).mean(-1)
    ni_ref = (m1**2 + (1 - m2) ** 2) / 2 - inner + ridge
    torch.testing.assert_close(d - gen, ni_ref, rtol=0, atol=1e-8)


def test_min_pure_nash_gap_is_three_eighths():
    game = NonRealizableGAN()
    # Φ on a θ grid, Ψ on a ψ grid (both closed forms, checked against brute force
    # above); the pure Nash gap Φ(θ) − Ψ(ψ) is separable.
    theta = torch.linspace(-2, 2, 4001, dtype=F64)[:, None]
    phi_vals = game.best_response_value(_inst(4001), "discriminator", theta)
    g = torch.linspace(-2, 2, 201, dtype=F64)
    p1, p2 = torch.meshgrid(g, g, indexing="ij")
    psi = torch.stack([p1.reshape(-1), p2.reshape(-1)], dim=-1)
    psi_vals = game.best_response_value(_inst(psi.shape[0]), "generator", psi)
    gap = phi_vals.min() - psi_vals.max()
    torch.testing.assert_close(gap, torch.tensor(0.375, dtype=F64), rtol=0, atol=1e-6)
    # Attained at θ = ±1/√2 and ψ = 0.
    assert abs(abs(float(theta[phi_vals.argmin(), 0])) - S) < 1e-3
    assert psi[psi_vals.argmax()].abs().max() < 1e-12
    # Brute-force Ψ too: the generator's minimum over a θ grid at a few critics.
    few = psi[:: psi.shape[0] // 7]
    brute = _v(game, theta[None, :, 0], few[:, None, 0], few[:, None, 1]).amin(-1)
    torch.testing.assert_close(
        game.best_response_value(_inst(few.shape[0]), "generator", few), brute
    )


@pytest.mark.parametrize("gamma", [1.0, 2.0])
def test_minimax_and_no_pure_nash(gamma):
    game = NonRealizableGAN(gamma=gamma)
    inst = _inst(2)
    theta_star = torch.tensor([[S], [-S]], dtype=F64)
    phi = game.best_response_value(inst, "discriminator", theta_star)
    torch.testing.assert_close(phi, torch.full((2,), 3 / (8 * gamma), dtype=F64))
    star = critic_best_response(game, theta_star)
    torch.testing.assert_close(
        star, torch.tensor([[-S, 0.5], [S, 0.5]], dtype=F64) / gamma
    )
    # Minimax value: Φ is minimised at ±1/√2 over the box.
    grid = torch.linspace(-2, 2, 4001, dtype=F64)[:, None]
    phi_grid = game.best_response_value(_inst(4001), "discriminator", grid)
    assert phi_grid.min() >= 3 / (8 * gamma) - 1e-15
    # Stationary points θ ∈ {0, ±1/√2} are local maxima of V(·, ψ*(θ)).
    t0 = torch.tensor([[0.0], [S], [-S]], dtype=F64)
    ps = critic_best_response(game, t0)
    v0 = game.value(_inst(3), t0, ps)
    for h in (1e-3, -1e-3):
        assert (game.value(_inst(3), t0 + h, ps) < v0).all()
    # No pure Nash: the gap at (θ, ψ*(θ)) is at least 3/(8γ) on the whole box.
    ps = critic_best_response(game, grid)
    gap = phi_grid - game.best_response_value(_inst(4001), "generator", ps)
    assert gap.min() >= 3 / (8 * gamma) - 1e-12


def test_equilibrium_distance():
    game = NonRealizableGAN(gamma=2.0)
    inst = _inst(4)
    pts = game.minimax_points()
    theta = torch.stack([pts[0, :1], pts[1, :1], pts[0, :1], pts[0, :1]])
    psi = torch.stack([pts[0, 1:], pts[1, 1:], pts[1, 1:], pts[0, 1:] + 0.3])
    d = game.equilibrium_distance(inst, theta, psi)
    # Third point: (θ*₊, ψ*₋) — closer to the + point (distance ‖ψ*₊ − ψ*₋‖ = √2/γ
    # = √2/2) than to the − point (distance |θ*₊ − θ*₋| = √2).
    ref = torch.tensor([0.0, 0.0, math.sqrt(2) / 2, 0.3 * math.sqrt(2)], dtype=F64)
    torch.testing.assert_close(d, ref, rtol=1e-14, atol=1e-15)


def test_mixed_equilibrium():
    game = NonRealizableGAN()
    for theta in ([[-1.0, 1.0]], [[-math.sqrt(1.5), -S, S, math.sqrt(1.5)]]):
        t = torch.tensor(theta, dtype=F64)
        k = t.shape[1]
        lifted = mixed(game, k)
        inst = _inst(1)
        phi = torch.zeros(1, 2 * k, dtype=F64)
        ni = lifted.best_response_value(
            inst, "discriminator", t
        ) - lifted.best_response_value(inst, "generator", phi)
        assert ni.abs().max() < 1e-15
        assert lifted.value(inst, t, phi).abs().max() < 1e-15
        assert lifted.equilibrium_distance(inst, t, phi).abs().max() < 1e-15
        # A pure strategy is exploitable; off-equilibrium clouds have positive NI.
        phi2 = phi + 0.1
        ni2 = lifted.best_response_value(
            inst, "discriminator", t
        ) - lifted.best_response_value(inst, "generator", phi2)
        assert ni2 > 0
        assert lifted.equilibrium_distance(inst, t, phi2) > 0


def test_mixed_lift_value_is_average_of_pairs():
    game = NonRealizableGAN(gamma=0.7)
    k = 3
    lifted = mixed(game, k)
    tc, pc = _rand((4, k, 1), 5), _rand((4, k, 2), 6)
    inst = _inst(4)
    v = lifted.value(
        inst, lifted.uncloud("generator", tc), lifted.uncloud("discriminator", pc)
    )
    ref = sum(
        game.value(inst, tc[:, i], pc[:, j]) for i in range(k) for j in range(k)
    ) / (k * k)
    torch.testing.assert_close(v, ref, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0, 3.0])
def test_proximal_objective(lam):
    game = NonRealizableGAN(gamma=1.3)
    b = 32
    inst = _inst(b)
    theta, psi = _rand((b, 1), 7).clamp(-2, 2), _rand((b, 2), 8)
    vp = game.proximal_objective(inst, theta, psi, lam)
    # Direct: the inner maximiser of the strongly concave quadratic in ψ̃.
    a = torch.cat([-theta, 1 - theta**2], dim=-1)
    tilde = (a + lam * psi) / (game.gamma + lam)
    inner = game.value(inst, theta, tilde) - lam / 2 * ((tilde - psi) ** 2).sum(-1)
    torch.testing.assert_close(vp, inner, rtol=1e-13, atol=1e-13)
    _, gp = game.gradients(inst, theta, tilde)
    assert (gp - lam * (tilde - psi)).abs().max() < 1e-13  # stationarity
    for s in range(5):  # any other ψ̃ does worse
        other = tilde + 0.1 * _rand((b, 2), 100 + s)
        lower = game.value(inst, theta, other) - lam / 2 * ((other - psi) ** 2).sum(-1)
        assert (lower <= vp + 1e-14).all()
    # Fact 1 of docs/algorithms.md §2.1: V_prox ≥ V, with equality of the max at ψ*(θ).
    assert (vp >= game.value(inst, theta, psi) - 1e-14).all()
    at_br = game.proximal_objective(inst, theta, critic_best_response(game, theta), lam)
    torch.testing.assert_close(
        at_br, game.best_response_value(inst, "discriminator", theta)
    )


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0, 3.0])
def test_proximal_value_matches_dense_grid(lam):
    game = NonRealizableGAN()
    b = 24
    psi = _rand((b, 2), 9, 1.5)
    psi[0] = torch.tensor([-S, 0.5])
    psi[1] = torch.tensor([S, 0.5])
    psi[2] = 0.0
    got = game.proximal_value(_inst(b), psi, lam)
    grid = torch.linspace(-2, 2, 200001, dtype=F64)[:, None]
    ref = torch.stack(
        [
            game.proximal_objective(
                _inst(grid.shape[0]), grid, psi[i].expand(grid.shape[0], 2), lam
            ).min()
            for i in range(b)
        ]
    )
    assert (got <= ref + 1e-13).all()
    torch.testing.assert_close(got, ref, rtol=0, atol=1e-9)


def test_proximal_numbers_of_algorithms_md():
    game = NonRealizableGAN()
    lam = 0.5
    star = critic_best_response(game, torch.tensor([[S]], dtype=F64))

    def part(t):  # θ-dependent part ‖a(θ) + λψ*‖²
        th = torch.tensor([[t]], dtype=F64)
        return float(((torch.cat([-th, 1 - th**2], -1) + lam * star) ** 2).sum())

    assert part(S) == pytest.approx(1.6875, abs=1e-12)  # "1.69"
    assert part(-0.97) == pytest.approx(0.4755, abs=1e-4)  # "0.48"
    # θ* is not a global λ-proximal equilibrium: the proximal gap at (θ*, ψ*) > 0.
    inst = _inst(1)
    theta = torch.tensor([[S]], dtype=F64)
    best = game.best_response_value(inst, "discriminator", theta)
    low = game.proximal_value(inst, star, lam)
    assert best - low > 0.1
    # The global proximal best response is on the opposite side, near θ = −0.97.
    grid = torch.linspace(-2, 2, 40001, dtype=F64)[:, None]
    obj = game.proximal_objective(_inst(40001), grid, star.expand(40001, 2), lam)
    assert float(grid[obj.argmin(), 0]) == pytest.approx(-0.97, abs=0.02)


@pytest.mark.parametrize("gamma", [1.0, 2.0])
@pytest.mark.parametrize("lam", [0.5, 1.0, 3.0, 5.0])
def test_theta_star_local_proximal_iff_lambda_below_two_gamma(gamma, lam):
    game = NonRealizableGAN(gamma=gamma)
    theta = torch.tensor([[S]], dtype=F64)
    star = critic_best_response(game, theta)
    h = 1e-4

    def g(t):  # ‖a(θ) + λψ*‖², whose curvature at θ* is 4 − 2λ/γ
        th = torch.tensor([[t]], dtype=F64)
        return float(((torch.cat([-th, 1 - th**2], -1) + lam * star) ** 2).sum())

    curv = (g(S + h) - 2 * g(S) + g(S - h)) / h**2
    assert curv == pytest.approx(4 - 2 * lam / gamma, abs=1e-5)
    # θ* is stationary for the proximal objective at ψ*(θ*) (fact 2, first part).
    t = theta.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(
        game.proximal_objective(_inst(1), t, star, lam).sum(), t
    )
    assert grad.abs().max() < 1e-14
    is_local_min = curv > 0
    assert is_local_min == (lam < 2 * gamma)


def test_solvers():
    # argmax_concave: −(x − c)² on [−1, 1], c inside and outside the interval.
    c = torch.tensor([0.3, -2.0, 5.0, -1.0], dtype=F64)
    lo, hi = -torch.ones(4, dtype=F64), torch.ones(4, dtype=F64)
    x = argmax_concave(lambda p: -2 * (p - c[:, None]), lo, hi)
    torch.testing.assert_close(x, c.clamp(-1, 1), rtol=0, atol=1e-15)
    # minimize_interval: a double well with the global minimum near a grid point.
    shift = torch.tensor([0.1, -0.1, 0.0], dtype=F64)

    def well(p):
        return (p**2 - 1) ** 2 + shift[:, None] * p

    lo, hi = torch.full((3,), -2.0, dtype=F64), torch.full((3,), 2.0, dtype=F64)
    val, arg = minimize_interval(well, lo, hi, points=101)
    dense = torch.linspace(-2, 2, 400001, dtype=F64)
    ref = well(dense.expand(3, -1)).amin(-1)
    assert (val <= ref + 1e-15).all()
    torch.testing.assert_close(val, ref, rtol=0, atol=1e-10)
    torch.testing.assert_close(well(arg[:, None])[:, 0], val)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_init_batched_equals_rows_and_feasible(dtype):
    game = NonRealizableGAN(init_scale=2.0)
    seeds = [1, 4, 9, 16, 25, 36]
    inst = _inst(len(seeds), dtype)
    theta, psi = game.init_params(inst, Stream.from_seeds(seeds))
    assert theta.shape == (6, 1) and psi.shape == (6, 2)
    assert theta.dtype == dtype and psi.dtype == dtype
    assert theta.abs().max() <= 2.0
    assert torch.equal(game.project("generator", inst, theta), theta)
    for row, s in enumerate(seeds):
        t1, p1 = game.init_params(_inst(1, dtype), Stream.from_seeds([s]))
        assert torch.equal(t1, theta[row : row + 1])
        assert torch.equal(p1, psi[row : row + 1])


def test_projection_idempotent():
    game = NonRealizableGAN()
    inst = _inst(16)
    for seat, d in (("generator", 1), ("discriminator", 2)):
        x = _rand((16, d), 10, 3.0)
        once = game.project(seat, inst, x)
        assert torch.equal(game.project(seat, inst, once), once)
    assert game.project("generator", inst, _rand((16, 1), 11, 5.0)).abs().max() <= 2
    x = _rand((16, 2), 12, 5.0)
    assert torch.equal(game.project("discriminator", inst, x), x)


def test_metrics_batched_equal_rows():
    game = NonRealizableGAN()
    b = 5
    tc, pc = _rand((b, 3, 1), 13).clamp(-2, 2), _rand((b, 3, 2), 14)
    inst = _inst(b)
    full = [
        game.cloud_best_response_value(inst, "discriminator", tc),
        game.cloud_best_response_value(inst, "generator", pc),
        game.cloud_equilibrium_distance(inst, tc, pc),
        game.equilibrium_distance(inst, tc[:, 0], pc[:, 0]),
        game.proximal_value(inst, pc[:, 0], 0.5),
        game.proximal_objective(inst, tc[:, 0], pc[:, 0], 0.5),
    ]
    for r in range(b):
        sl = slice(r, r + 1)
        one = _inst(1)
        rows = [
            game.cloud_best_response_value(one, "discriminator", tc[sl]),
            game.cloud_best_response_value(one, "generator", pc[sl]),
            game.cloud_equilibrium_distance(one, tc[sl], pc[sl]),
            game.equilibrium_distance(one, tc[sl, 0], pc[sl, 0]),
            game.proximal_value(one, pc[sl, 0], 0.5),
            game.proximal_objective(one, tc[sl, 0], pc[sl, 0], 0.5),
        ]
        for f, x in zip(full, rows, strict=True):
            torch.testing.assert_close(f[sl], x, rtol=1e-12, atol=0)


def test_float32_and_invalid_configs():
    game = NonRealizableGAN()
    psi = _rand((8, 2), 15)
    v32 = game.proximal_value(_inst(8, torch.float32), psi.float(), 0.5)
    v64 = game.proximal_value(_inst(8), psi, 0.5)
    assert v32.dtype == torch.float32
    torch.testing.assert_close(v32.double(), v64, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        NonRealizableGAN(gamma=0.0)
    with pytest.raises(ValueError):
        NonRealizableGAN(box=0.5)
    assert game.gap_estimator == "exact"
