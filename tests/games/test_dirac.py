"""DiracGAN (T3): closed forms against brute force and the theory of Mescheder et al."""

from __future__ import annotations

import math

import pytest
import torch

from gangames.game import Game, mixed
from gangames.games.dirac import DiracGAN
from gangames.random import Stream

F64 = torch.float64

CONFIGS = [
    DiracGAN(),
    DiracGAN(loss="wgan"),
    DiracGAN(penalty="r1", gamma=1.0),
    DiracGAN(penalty="r2", gamma=3.0, radius=2.0),
    DiracGAN(loss="wgan", penalty="r1", gamma=0.5),
    DiracGAN(loss="wgan", clip=0.3),
    DiracGAN(penalty="r1", gamma=10.0, clip=0.5, radius=1.5),
]
IDS = [
    "standard",
    "wgan",
    "standard-r1",
    "standard-r2-R2",
    "wgan-r1",
    "wgan-clip",
    "standard-r1-clip",
]


def _inst(game, b, dtype=F64):
    # No random problem data: the default instance only carries the batch size.
    return {"_batch": torch.zeros(b, dtype=dtype)}


def _f(game, t):
    """f by the textbook formula, in float64 Python math (independent of the game)."""
    if game.loss == "wgan":
        return t
    return -math.log1p(math.exp(-t)) if t > -30 else t - math.log1p(math.exp(t))


def _value_ref(game, theta, psi):
    ridge = game.gamma if game.penalty else 0.0
    return _f(game, psi * theta) + _f(game, 0.0) - 0.5 * ridge * psi * psi


def _points(b=64, scale=3.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    z = scale * torch.randn(b, 2, generator=g, dtype=F64)
    z[0] = 0.0
    z[1, 0] = 0.0
    z[2, 1] = 0.0
    z[3] = torch.tensor([40.0, 30.0])  # |ψθ| large: stable logistic
    z[4] = torch.tensor([-40.0, 30.0])
    return z[:, :1].clone(), z[:, 1:].clone()


@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_value_matches_formula(game):
    theta, psi = _points()
    v = game.value(_inst(game, 64), theta, psi)
    ref = torch.tensor(
        [_value_ref(game, t, p) for t, p in zip(theta[:, 0], psi[:, 0], strict=True)],
        dtype=F64,
    )
    torch.testing.assert_close(v, ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_gradients_match_autograd(game):
    theta, psi = _points()
    inst = _inst(game, 64)
    gt, gp = game.gradients(inst, theta, psi)
    at, ap = Game.gradients(game, inst, theta, psi)  # the autograd default
    torch.testing.assert_close(gt, at, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(gp, ap, rtol=1e-12, atol=1e-14)


def _grid_br(game, responder, cloud, n=20001):
    """Brute force: best response over a dense grid of the (restricted) interval."""
    if responder == "discriminator":
        r = game.radius if game.clip is None else min(game.radius, game.clip)
    else:
        r = game.radius
    grid = torch.linspace(-r, r, n, dtype=F64)[:, None]
    out = []
    for row in cloud:  # (K, 1)
        k = row.shape[0]
        vals = torch.zeros(n, dtype=F64)
        for j in range(k):
            opp = row[j].expand(n, 1)
            if responder == "discriminator":
                vals += game.value(_inst(game, n), opp, grid)
            else:
                vals += game.value(_inst(game, n), grid, opp)
        vals /= k
        out.append(vals.max() if responder == "discriminator" else vals.min())
    return torch.stack(out)


@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
@pytest.mark.parametrize("responder", ["discriminator", "generator"])
def test_cloud_best_response_matches_grid(game, responder):
    g = torch.Generator().manual_seed(1)
    cloud = 2.0 * torch.randn(6, 3, 1, generator=g, dtype=F64)
    cloud[0] = 0.0
    cloud[1, :, 0] = torch.tensor([-0.5, 0.0, 0.5])  # mean zero
    cloud[2, :, 0] = 0.05
    br = game.cloud_best_response_value(_inst(game, 6), responder, cloud)
    ref = _grid_br(game, responder, cloud)
    # The closed form is exact: never beaten by the grid, and within its resolution.
    if responder == "discriminator":
        assert (br >= ref - 1e-13).all()
    else:
        assert (br <= ref + 1e-13).all()
    torch.testing.assert_close(br, ref, rtol=0, atol=1e-7)


@pytest.mark.parametrize("r", [0.5, 1.0, 2.5])
def test_pure_closed_forms_without_penalty(r):
    theta, psi = _points()
    for loss in ("standard", "wgan"):
        game = DiracGAN(loss=loss, radius=r)
        inst = _inst(game, 64)
        phi_r = game.best_response_value(inst, "discriminator", theta)
        psi_r = game.best_response_value(inst, "generator", psi)
        f0 = _f(game, 0.0)
        ref_phi = [_f(game, r * abs(float(t))) + f0 for t in theta[:, 0]]
        ref_psi = [_f(game, -r * abs(float(p))) + f0 for p in psi[:, 0]]
        torch.testing.assert_close(phi_r, torch.tensor(ref_phi, dtype=F64))
        torch.testing.assert_close(psi_r, torch.tensor(ref_psi, dtype=F64))


@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_gap_nonnegative_and_zero_only_at_equilibrium(game):
    theta, psi = _points(256, scale=2.0)
    inst = _inst(game, 256)
    phi_v = game.best_response_value(inst, "discriminator", theta)
    psi_v = game.best_response_value(inst, "generator", psi)
    gap = phi_v - psi_v
    assert (gap >= -1e-12).all()  # even outside the box: it contains the saddle (0, 0)
    assert gap[0].abs() < 1e-15
    assert (gap[1:] > 0).all()
    # Inside the box the best responses bracket V.
    inside = (theta.abs() <= game.radius).squeeze(-1) & (
        psi.abs() <= game._critic_radius
    ).squeeze(-1)
    v = game.value(inst, theta, psi)
    assert inside.sum() >= 10
    assert (psi_v[inside] <= v[inside] + 1e-12).all()
    assert (v[inside] <= phi_v[inside] + 1e-12).all()
    assert game.gap_estimator.startswith("restricted to")


def test_standard_unrestricted_sup_is_minus_log2():
    # For θ ≠ 0 the unrestricted critic value tends to −log 2 as the box grows.
    theta = torch.tensor([[0.7], [-1.3]], dtype=F64)
    big = DiracGAN(radius=60.0)
    v = big.best_response_value(_inst(big, 2), "discriminator", theta)
    torch.testing.assert_close(v, torch.full((2,), -math.log(2.0), dtype=F64))


def test_equilibrium_and_distance():
    for game in CONFIGS:
        inst = _inst(game, 3)
        theta = torch.tensor([[0.0], [3.0], [0.0]], dtype=F64)
        psi = torch.tensor([[0.0], [4.0], [-0.2]], dtype=F64)
        d = game.equilibrium_distance(inst, theta, psi)
        torch.testing.assert_close(d, torch.tensor([0.0, 5.0, 0.2], dtype=F64))
        gt, gp = game.gradients(inst, theta[:1], psi[:1])
        assert gt.abs().max() == 0 and gp.abs().max() == 0


@pytest.mark.parametrize("loss, fprime", [("standard", 0.5), ("wgan", 1.0)])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 3.0])
def test_jacobian_eigenvalues_at_equilibrium(loss, fprime, gamma):
    game = DiracGAN(loss=loss, penalty="r1" if gamma else None, gamma=gamma)
    inst = _inst(game, 1)

    def value(z):
        return game.value(inst, z[None, :1], z[None, 1:]).sum()

    # Gradient dynamics v = (−∇_θV, ∇_ψV): Jacobian = diag(−1, 1) · Hessian of V.
    hess = torch.autograd.functional.hessian(value, torch.zeros(2, dtype=F64))
    jac = torch.diag(torch.tensor([-1.0, 1.0], dtype=F64)) @ hess
    eig = torch.linalg.eigvals(jac)
    disc = complex(gamma**2 / 4 - fprime**2) ** 0.5
    ref = torch.tensor([-gamma / 2 + disc, -gamma / 2 - disc], dtype=torch.complex128)
    key = lambda c: (round(c.real, 9), round(c.imag, 9))  # noqa: E731
    got = sorted((complex(e) for e in eig), key=key)
    want = sorted((complex(e) for e in ref), key=key)
    for a, b in zip(got, want, strict=True):
        assert abs(a - b) < 1e-12


def test_expected_dynamics():
    """Sim-GDA spirals out, alternating GDA stays bounded, R1 converges."""

    def run(game, steps=400, lr=0.1, alternating=False):
        inst = _inst(game, 1)
        t = torch.tensor([[1.0]], dtype=F64)
        p = torch.tensor([[1.0]], dtype=F64)
        for _ in range(steps):
            gt, gp = game.gradients(inst, t, p)
            if alternating:
                p = p + lr * gp
                gt, _ = game.gradients(inst, t, p)
                t = t - lr * gt
            else:
                t, p = t - lr * gt, p + lr * gp
        return float(torch.cat([t, p], dim=-1).norm())

    assert run(DiracGAN(loss="wgan")) > 2.0  # |1 ± ih| > 1 per step
    assert 0.3 < run(DiracGAN(loss="wgan"), alternating=True) < 3.0
    assert run(DiracGAN(penalty="r1", gamma=1.0), steps=2000) < 1e-3


def test_mixed_lift_value_is_average_of_pairs():
    game = DiracGAN(penalty="r1", gamma=2.0)
    k = 3
    lifted = mixed(game, k)
    g = torch.Generator().manual_seed(2)
    tc = torch.randn(4, k, 1, generator=g, dtype=F64)
    pc = torch.randn(4, k, 1, generator=g, dtype=F64)
    inst = _inst(game, 4)
    v = lifted.value(
        inst, lifted.uncloud("generator", tc), lifted.uncloud("discriminator", pc)
    )
    ref = torch.zeros(4, dtype=F64)
    for i in range(k):
        for j in range(k):
            ref += game.value(inst, tc[:, i], pc[:, j]) / k**2
    torch.testing.assert_close(v, ref, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_mixed_equilibrium_has_zero_gap(game):
    lifted = mixed(game, 2)
    inst = _inst(game, 1)
    theta = torch.tensor([[-0.7, 0.7]], dtype=F64)  # E_ν θ = 0
    phi = torch.zeros(1, 2, dtype=F64)  # μ = δ₀
    ni = lifted.best_response_value(
        inst, "discriminator", theta
    ) - lifted.best_response_value(inst, "generator", phi)
    assert ni.abs().max() < 1e-14
    assert lifted.equilibrium_distance(inst, theta, phi).abs().max() < 1e-15
    torch.testing.assert_close(
        lifted.value(inst, theta, phi), torch.full((1,), 2 * _f(game, 0.0), dtype=F64)
    )
    # Off the equilibrium set the gap and the distance are positive.
    theta2 = torch.tensor([[-0.2, 0.7]], dtype=F64)
    phi2 = torch.tensor([[0.1, 0.1]], dtype=F64)
    assert lifted.equilibrium_distance(inst, theta2, phi2) > 0
    ni2 = lifted.best_response_value(
        inst, "discriminator", theta2
    ) - lifted.best_response_value(inst, "generator", phi2)
    assert ni2 > 0


def test_wgan_without_penalty_mixed_critic_mean_zero():
    game = DiracGAN(loss="wgan")
    lifted = mixed(game, 2)
    inst = _inst(game, 1)
    theta = torch.tensor([[-0.5, 0.5]], dtype=F64)
    phi = torch.tensor([[-0.3, 0.3]], dtype=F64)
    ni = lifted.best_response_value(
        inst, "discriminator", theta
    ) - lifted.best_response_value(inst, "generator", phi)
    assert ni.abs().max() < 1e-15
    assert lifted.equilibrium_distance(inst, theta, phi).abs().max() < 1e-15


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_init_batched_equals_rows(game, dtype):
    seeds = [3, 5, 8, 13]
    inst = _inst(game, len(seeds), dtype)
    theta, psi = game.init_params(inst, Stream.from_seeds(seeds))
    assert theta.shape == (4, 1) and psi.shape == (4, 1)
    assert theta.dtype == dtype and psi.dtype == dtype
    torch.testing.assert_close(game.project("discriminator", inst, psi), psi)
    assert len({float(x) for x in theta[:, 0]}) == 4
    for row, s in enumerate(seeds):
        t1, p1 = game.init_params(_inst(game, 1, dtype), Stream.from_seeds([s]))
        assert torch.equal(t1, theta[row : row + 1])
        assert torch.equal(p1, psi[row : row + 1])


def test_fixed_init_and_clipping():
    game = DiracGAN(loss="wgan", clip=0.5, init=(1.0, 1.0))
    inst = _inst(game, 3)
    theta, psi = game.init_params(inst, Stream.from_seeds([0, 1, 2]))
    assert torch.equal(theta, torch.ones(3, 1, dtype=F64))
    assert torch.equal(psi, torch.full((3, 1), 0.5, dtype=F64))
    assert DiracGAN(init=[1, 2]).init == (1.0, 2.0)
    with pytest.raises(ValueError):
        DiracGAN(init=(1.0,))


@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_projection_idempotent(game):
    theta, psi = _points()
    inst = _inst(game, 64)
    for seat, x in (("generator", theta), ("discriminator", psi)):
        once = game.project(seat, inst, x)
        assert torch.equal(game.project(seat, inst, once), once)
    assert torch.equal(game.project("generator", inst, theta), theta)
    if game.clip is not None:
        assert game.project("discriminator", inst, psi).abs().max() <= game.clip


@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_metrics_batched_equal_rows(game):
    g = torch.Generator().manual_seed(4)
    tc = torch.randn(5, 4, 1, generator=g, dtype=F64)
    pc = torch.randn(5, 4, 1, generator=g, dtype=F64)
    inst = _inst(game, 5)
    full = [
        game.cloud_best_response_value(inst, "discriminator", tc),
        game.cloud_best_response_value(inst, "generator", pc),
        game.cloud_equilibrium_distance(inst, tc, pc),
        game.value(inst, tc[:, 0], pc[:, 0]),
    ]
    for b in range(5):
        one = _inst(game, 1)
        rows = [
            game.cloud_best_response_value(one, "discriminator", tc[b : b + 1]),
            game.cloud_best_response_value(one, "generator", pc[b : b + 1]),
            game.cloud_equilibrium_distance(one, tc[b : b + 1], pc[b : b + 1]),
            game.value(one, tc[b : b + 1, 0], pc[b : b + 1, 0]),
        ]
        for f, r in zip(full, rows, strict=True):
            torch.testing.assert_close(f[b : b + 1], r, rtol=1e-12, atol=0)


def test_float32_best_responses():
    game = DiracGAN(penalty="r1", gamma=1.0)
    theta, psi = _points(16)
    inst32 = _inst(game, 16, torch.float32)
    inst64 = _inst(game, 16)
    for seat, x in (("discriminator", theta), ("generator", psi)):
        v32 = game.best_response_value(inst32, seat, x.float())
        v64 = game.best_response_value(inst64, seat, x)
        assert v32.dtype == torch.float32
        torch.testing.assert_close(v32.double(), v64, rtol=1e-5, atol=1e-5)


def test_invalid_configs():
    with pytest.raises(ValueError):
        DiracGAN(loss="hinge")
    with pytest.raises(ValueError):
        DiracGAN(penalty="gp")
    with pytest.raises(ValueError):
        DiracGAN(gamma=1.0)  # gamma without a penalty
    with pytest.raises(ValueError):
        DiracGAN(penalty="r1", gamma=-1.0)
    with pytest.raises(ValueError):
        DiracGAN(clip=0.0)
    with pytest.raises(ValueError):
        DiracGAN(radius=0.0)
    assert DiracGAN(clip=0.5).gap_estimator == "restricted to |θ| ≤ 1.0, |ψ| ≤ 0.5"
    assert DiracGAN().gap_estimator == "restricted to |θ|, |ψ| ≤ 1.0"
    assert mixed(DiracGAN(), 2).gap_estimator == DiracGAN().gap_estimator


def _bits(x: torch.Tensor) -> bytes:
    return x.contiguous().numpy().tobytes()


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("game", CONFIGS, ids=IDS)
def test_fused_pass_and_best_responses_are_the_generic_bits(game, dtype):
    # The env's per-round path (one ψθ for V and both gradients; best responses read
    # off the parameters) must give the very bits of value()/gradients() and of the
    # per-seat closed forms, including at ±0, huge, infinite and NaN points.
    theta, psi = _points(b=64)
    special = torch.tensor([0.0, -0.0, 1e30, -1e30, math.inf, -math.inf, math.nan])
    theta = torch.cat([theta[:, 0], special, special.flip(0)])[:, None].to(dtype)
    psi = torch.cat([psi[:, 0], special.flip(0), special])[:, None].to(dtype)
    inst = _inst(game, theta.shape[0], dtype)
    fused = game.value_and_gradients(inst, theta, psi)
    generic = Game.value_and_gradients(game, inst, theta, psi)
    assert [_bits(x) for x in fused] == [_bits(x) for x in generic]
    assert fused[0].shape == generic[0].shape == (theta.shape[0],)
    brs = game.best_response_values(inst, theta, psi)
    generic_brs = Game.best_response_values(game, inst, theta, psi)
    assert [_bits(x) for x in brs] == [_bits(x) for x in generic_brs]
    t, p = theta[..., 0], psi[..., 0]
    assert _bits(game.equilibrium_distance(inst, theta, psi)) == _bits(
        torch.sqrt(t**2 + p**2)
    )
