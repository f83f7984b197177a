"""Tests of the quadratic games T2 (Quadratic) and T4 (NoNashQuadratic)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import optimize

from gangames.errors import InvalidConfigError
from gangames.game import Game, mixed
from gangames.games.quadratic import NoNashQuadratic, Quadratic
from gangames.random import Stream
from tests.games import brute

F64 = torch.float64
SEEDS = [3, 14, 15, 92]


def setup(game, seeds=SEEDS, dtype=F64):
    """The shared :func:`tests.games.brute.setup` with this file's seeds."""
    return brute.setup(game, seeds, dtype)


B = len(SEEDS)

T2 = {
    "default": Quadratic(),
    "d3": Quadratic(dimension=3, mu=0.5, coupling=2.0, init_scale=2.0),
    "shared": Quadratic(dimension=4, mu=2.0, coupling=0.7, shared_coupling=True),
}
T4 = {"box1": NoNashQuadratic(), "box2": NoNashQuadratic(box=2.0, init_scale=3.0)}
GAMES = {
    **{f"T2-{k}": g for k, g in T2.items()},
    **{f"T4-{k}": g for k, g in T4.items()},
}


def rand(shape, seed, scale=1.5):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=F64)


def feasible_x(game: NoNashQuadratic, shape, seed):
    return rand(shape, seed, scale=game.box).clamp(-game.box, game.box)


def mean_value(game, inst, cloud, point, responder):
    """E_k V over a cloud (B, K, d) against one point (B, d) of the responder."""
    k = cloud.shape[1]
    rep = {n: v.repeat_interleave(k, dim=0) for n, v in inst.items()}
    c = cloud.reshape(-1, cloud.shape[-1])
    p = point.repeat_interleave(k, dim=0)
    v = game.value(rep, c, p) if responder == "discriminator" else game.value(rep, p, c)
    return v.reshape(-1, k).mean(-1)


# ---- (1) analytic gradients ------------------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_gradients_equal_autograd(name):
    game = GAMES[name]
    inst, theta, phi = setup(game)
    for a, b in zip(
        game.gradients(inst, theta, phi),
        Game.gradients(game, inst, theta, phi),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_values_match_the_written_objectives():
    game = T2["d3"]
    inst, theta, phi = setup(game)
    a = inst["A"]
    expected = (
        0.5 * game.mu * theta.square().sum(-1)
        + torch.einsum("bi,bij,bj->b", theta, a, phi)
        - 0.5 * game.mu * phi.square().sum(-1)
    )
    torch.testing.assert_close(game.value(inst, theta, phi), expected)
    t4 = T4["box2"]
    inst4, x, y = setup(t4)
    torch.testing.assert_close(
        t4.value(inst4, x, y), (-3 * x**2 - y**2 + 4 * x * y)[:, 0]
    )


# ---- (2) best responses against brute force --------------------------------------------
@pytest.mark.parametrize("name", list(T2))
@pytest.mark.parametrize("k", [1, 4])
def test_t2_best_responses_against_scipy(name, k):
    game = T2[name]
    inst, _, _ = setup(game)
    d = game.dimension
    cloud_t, cloud_p = rand((B, k, d), 1), rand((B, k, d), 2)
    br_d = game.cloud_best_response_value(inst, "discriminator", cloud_t)
    br_g = game.cloud_best_response_value(inst, "generator", cloud_p)
    for b in range(B):
        row = {n: v[b : b + 1] for n, v in inst.items()}

        def neg_d(x, row=row, b=b):
            p = torch.as_tensor(x, dtype=F64)[None]
            return -float(
                mean_value(game, row, cloud_t[b : b + 1], p, "discriminator")[0]
            )

        def pos_g(x, row=row, b=b):
            t = torch.as_tensor(x, dtype=F64)[None]
            return float(mean_value(game, row, cloud_p[b : b + 1], t, "generator")[0])

        res_d = optimize.minimize(neg_d, np.zeros(d), method="BFGS", tol=1e-13)
        res_g = optimize.minimize(pos_g, np.zeros(d), method="BFGS", tol=1e-13)
        assert -res_d.fun == pytest.approx(float(br_d[b]), rel=1e-7, abs=1e-9)
        assert res_g.fun == pytest.approx(float(br_g[b]), rel=1e-7, abs=1e-9)
    # random responses never beat the closed forms
    for seed in range(30):
        p = rand((B, d), 50 + seed, scale=3.0)
        assert (
            mean_value(game, inst, cloud_t, p, "discriminator") <= br_d + 1e-12
        ).all()
        assert (mean_value(game, inst, cloud_p, p, "generator") >= br_g - 1e-12).all()


def test_t2_specialised_closed_forms():
    game = T2["d3"]
    inst, theta, phi = setup(game)
    mu, s2 = game.mu, game.coupling**2
    # A = σU, so ‖Aᵀθ‖ = σ‖θ‖: Φ = (μ/2 + σ²/(2μ))‖θ‖², Ψ = −(σ²/(2μ) + μ/2)‖φ‖².
    c = 0.5 * mu + 0.5 * s2 / mu
    torch.testing.assert_close(
        game.best_response_value(inst, "discriminator", theta),
        c * theta.square().sum(-1),
    )
    torch.testing.assert_close(
        game.best_response_value(inst, "generator", phi), -c * phi.square().sum(-1)
    )
    for lam in (0.1, 1.0, 7.0):
        expected = (
            -0.5 * lam * phi.square().sum(-1) * (mu**2 + s2) / (mu**2 + lam * mu + s2)
        )
        torch.testing.assert_close(game.proximal_value(inst, phi, lam), expected)


@pytest.mark.parametrize("name", list(T4))
@pytest.mark.parametrize("k", [1, 3])
def test_t4_best_responses_on_dense_grids(name, k):
    game = T4[name]
    inst, _, _ = setup(game)
    cloud_x = feasible_x(game, (B, k, 1), 3)
    cloud_y = rand((B, k, 1), 4)
    br_d = game.cloud_best_response_value(inst, "discriminator", cloud_x)
    br_g = game.cloud_best_response_value(inst, "generator", cloud_y)
    ys = torch.linspace(-10, 10, 200001, dtype=F64)  # step 1e-4, y* = 2x̄ ∈ [−4, 4]
    xs = torch.linspace(-game.box, game.box, 20001, dtype=F64)  # ends included
    # E_k V(x_k, y) = −3E[x²] − y² + 4x̄y, and E_k V(x, y_k) = −3x² − E[y²] + 4xȳ
    m1x, m2x = cloud_x.mean((1, 2)), cloud_x.square().mean((1, 2))
    m1y, m2y = cloud_y.mean((1, 2)), cloud_y.square().mean((1, 2))
    grid_d = (-3 * m2x[:, None] - ys**2 + 4 * m1x[:, None] * ys).amax(-1)
    grid_g = (-3 * xs**2 - m2y[:, None] + 4 * xs * m1y[:, None]).amin(-1)
    torch.testing.assert_close(br_d, grid_d, rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(br_g, grid_g, rtol=1e-12, atol=1e-12)
    # the same through game.value on a coarser grid
    for i, y in enumerate(torch.linspace(-5, 5, 41, dtype=F64)):
        v = mean_value(game, inst, cloud_x, y.expand(B, 1), "discriminator")
        assert (v <= br_d + 1e-12).all(), i


# ---- (3) the duality gap ---------------------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_gap_nonnegative(name):
    game = GAMES[name]
    inst, _, _ = setup(game)
    d = game.dim("generator")
    for seed in range(20):
        theta = rand((B, d), seed)
        phi = rand((B, game.dim("discriminator")), 1000 + seed)
        theta = game.project("generator", inst, theta)
        gap = game.best_response_value(
            inst, "discriminator", theta
        ) - game.best_response_value(inst, "generator", phi)
        assert (gap >= 0).all()
        for lam in (0.2, 1.0, 5.0):
            prox = game.best_response_value(
                inst, "discriminator", theta
            ) - game.proximal_value(inst, phi, lam)
            assert (prox >= -1e-12).all() and (prox <= gap + 1e-12).all()
            here = game.proximal_objective(inst, theta, phi, lam)
            v = game.value(inst, theta, phi)
            assert (here >= v - 1e-12).all()


@pytest.mark.parametrize("name", list(T2))
def test_t2_gap_zero_at_nash(name):
    game = T2[name]
    inst, _, _ = setup(game)
    zero = torch.zeros(B, game.dimension, dtype=F64)
    assert (game.best_response_value(inst, "discriminator", zero) == 0).all()
    assert (game.best_response_value(inst, "generator", zero) == 0).all()
    for lam in (0.1, 1.0, 10.0):
        assert (game.proximal_value(inst, zero, lam) == 0).all()
    assert (game.equilibrium_distance(inst, zero, zero) == 0).all()


# ---- (4) T4 known answers --------------------------------------------------------------
@pytest.mark.parametrize(
    ("lam", "expected"),
    [(0.25, 0.0), (2.0 / 3.0, 0.0), (1.0, 1.0 / 3.0), (3.0, 3.0 - 8.0 / 5.0)],
)
@pytest.mark.parametrize("box", [1.0, 2.0])
def test_t4_known_gaps_at_origin(lam, expected, box):
    game = NoNashQuadratic(box=box)
    inst, _, _ = setup(game)
    zero = torch.zeros(B, 1, dtype=F64)
    phi_val = game.best_response_value(inst, "discriminator", zero)
    psi_val = game.best_response_value(inst, "generator", zero)
    torch.testing.assert_close(
        phi_val - psi_val, torch.full((B,), 3.0 * box**2, dtype=F64)
    )
    prox_gap = phi_val - game.proximal_value(inst, zero, lam)
    torch.testing.assert_close(
        prox_gap, torch.full((B,), expected * box**2, dtype=F64), rtol=1e-12, atol=1e-12
    )
    assert (game.equilibrium_distance(inst, zero, zero) == 0).all()


def test_t4_pure_best_responses_closed_forms():
    game = T4["box1"]
    inst, _, _ = setup(game)
    x = feasible_x(game, (B, 1), 9)
    y = rand((B, 1), 10)
    torch.testing.assert_close(
        game.best_response_value(inst, "discriminator", x), x[:, 0] ** 2
    )
    torch.testing.assert_close(
        game.best_response_value(inst, "generator", y),
        -3 - 4 * y[:, 0].abs() - y[:, 0] ** 2,
    )


@pytest.mark.parametrize("lam", [0.25, 2.0 / 3.0, 1.0, 3.0])
def test_t4_proximal_objective_formula_and_min(lam):
    game = T4["box1"]
    inst, _, _ = setup(game)
    x, y = feasible_x(game, (B, 1), 11), rand((B, 1), 12)
    got = game.proximal_objective(inst, x, y, lam)
    expected = (
        (8 / (2 + lam) - 3) * x**2
        + (4 * lam / (2 + lam)) * x * y
        - (lam / (2 + lam)) * y**2
    )[:, 0]
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-14)
    # direct maximisation over φ̃ on a grid: V(x, ỹ) − (λ/2)(ỹ − y)²
    yt = torch.linspace(-12, 12, 240001, dtype=F64)
    grid = (-3 * x**2 - yt**2 + 4 * x * yt - 0.5 * lam * (yt - y) ** 2).amax(-1)
    torch.testing.assert_close(got, grid, rtol=1e-8, atol=1e-8)
    # min over x ∈ [−1, 1] on a grid that includes the ends
    xs = torch.linspace(-1, 1, 20001, dtype=F64)
    ones = torch.ones(B, 1, dtype=F64)
    vals = torch.stack(
        [game.proximal_objective(inst, xv * ones, y, lam) for xv in xs[::100]], -1
    )
    dense = (
        (8 / (2 + lam) - 3) * xs**2
        + (4 * lam / (2 + lam)) * xs * y
        - (lam / (2 + lam)) * y**2
    ).amin(-1)
    best = game.proximal_value(inst, y, lam)
    assert (vals >= best[:, None] - 1e-12).all()
    torch.testing.assert_close(best, dense, rtol=1e-7, atol=1e-8)
    assert (best <= dense + 1e-12).all()


@pytest.mark.parametrize("name", list(GAMES))
def test_max_of_proximal_objective_is_phi(name):
    """Fact 1 of docs/algorithms.md §2.1: max_φ V_prox^λ(θ, φ) = Φ(θ)."""
    game = GAMES[name]
    inst, theta, _ = setup(game)
    d = game.dim("discriminator")
    for lam in (0.5, 2.0):
        for b in range(B):
            row = {n: v[b : b + 1] for n, v in inst.items()}

            def neg(x, row=row, b=b, lam=lam):
                p = torch.as_tensor(x, dtype=F64)[None]
                return -float(game.proximal_objective(row, theta[b : b + 1], p, lam)[0])

            res = optimize.minimize(neg, np.zeros(d), method="BFGS", tol=1e-13)
            phi_b = game.best_response_value(row, "discriminator", theta[b : b + 1])
            assert -res.fun == pytest.approx(float(phi_b[0]), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", list(T2))
@pytest.mark.parametrize("lam", [0.3, 4.0])
def test_t2_proximal_value_against_scipy(name, lam):
    game = T2[name]
    inst, _, phi = setup(game)
    got = game.proximal_value(inst, phi, lam)
    for b in range(B):
        row = {n: v[b : b + 1] for n, v in inst.items()}

        def fn(x, row=row, b=b):
            t = torch.as_tensor(x, dtype=F64)[None]
            return float(game.proximal_objective(row, t, phi[b : b + 1], lam)[0])

        res = optimize.minimize(fn, np.zeros(game.dimension), method="BFGS", tol=1e-13)
        assert res.fun == pytest.approx(float(got[b]), rel=1e-7, abs=1e-9)


# ---- (5) batched equals row by row -----------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_batch_equals_rows(name):
    game = GAMES[name]

    def outputs(inst, theta, phi):
        return [
            *inst.values(),
            theta,
            phi,
            game.value(inst, theta, phi),
            *game.gradients(inst, theta, phi),
            game.best_response_value(inst, "discriminator", theta),
            game.best_response_value(inst, "generator", phi),
            game.proximal_objective(inst, theta, phi, 1.0),
            game.proximal_value(inst, phi, 0.5),
            game.equilibrium_distance(inst, theta, phi),
        ]

    batched = outputs(*setup(game))
    for b, seed in enumerate(SEEDS):
        single = outputs(*setup(game, [seed]))
        for x, y in zip(batched, single, strict=True):
            torch.testing.assert_close(x[b : b + 1], y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(GAMES))
def test_float32(name):
    game = GAMES[name]
    i32, t32, p32 = setup(game, dtype=torch.float32)
    i64, t64, p64 = setup(game)
    for x in (*i32.values(), t32, p32, game.proximal_value(i32, p32, 1.0)):
        assert x.dtype == torch.float32
    torch.testing.assert_close(t32, t64.float())
    torch.testing.assert_close(
        game.best_response_value(i32, "generator", p32),
        game.best_response_value(i64, "generator", p64).float(),
    )


# ---- (6) projection --------------------------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_projection_idempotent(name):
    game = GAMES[name]
    inst, theta, phi = setup(game)
    for seat, params in (("generator", theta), ("discriminator", phi)):
        big = rand(params.shape, 20, scale=10.0)
        once = game.project(seat, inst, big)
        torch.testing.assert_close(game.project(seat, inst, once), once, rtol=0, atol=0)
        torch.testing.assert_close(
            game.project(seat, inst, params), params, rtol=0, atol=0
        )
    if name.startswith("T4"):
        x = game.project("generator", inst, rand((B, 1), 21, scale=10.0))
        assert (x.abs() <= game.box).all() and (x.abs() == game.box).any()
        y = rand((B, 1), 22, scale=10.0)
        assert torch.equal(game.project("discriminator", inst, y), y)


# ---- (7) mixed lift --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["T2-d3", "T4-box1", "T4-box2"])
def test_mixed_lift_best_responses(name):
    game = GAMES[name]
    k = 5
    lifted = mixed(game, particles=k)
    stream = Stream.from_seeds(SEEDS)
    inst = lifted.sample_instance(stream.fork(1), F64)
    theta_f, phi_f = lifted.init_params(inst, stream.fork(2))
    ct, cp = lifted.cloud("generator", theta_f), lifted.cloud("discriminator", phi_f)
    br_d = lifted.best_response_value(inst, "discriminator", theta_f)
    br_g = lifted.best_response_value(inst, "generator", phi_f)
    # pure best responses written out here
    if name.startswith("T2"):
        a, mu = inst["A"], game.mu
        phi_star = torch.einsum("bij,bi->bj", a, ct.mean(1)) / mu
        theta_star = -torch.einsum("bij,bj->bi", a, cp.mean(1)) / mu
    else:
        phi_star = 2 * ct.mean(1)
        theta_star = -game.box * torch.where(cp.mean(1) >= 0, 1.0, -1.0).to(F64)

    def rep(x):
        return x[:, None, :].expand(-1, k, -1)

    v_d = lifted.value(inst, theta_f, lifted.uncloud("discriminator", rep(phi_star)))
    v_g = lifted.value(inst, lifted.uncloud("generator", rep(theta_star)), phi_f)
    torch.testing.assert_close(v_d, br_d, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(v_g, br_g, rtol=1e-12, atol=1e-12)
    for seed in range(20):
        other_p = rand(cp.shape, 200 + seed)
        other_t = lifted.cloud(
            "generator",
            lifted.project(
                "generator",
                inst,
                lifted.uncloud("generator", rand(ct.shape, 300 + seed)),
            ),
        )
        assert (
            lifted.value(inst, theta_f, lifted.uncloud("discriminator", other_p))
            <= br_d + 1e-12
        ).all()
        assert (
            lifted.value(inst, lifted.uncloud("generator", other_t), phi_f)
            >= br_g - 1e-12
        ).all()


def test_t4_mixed_nash_and_cloud_distance():
    game = T4["box2"]
    b = game.box
    inst, _, _ = setup(game)
    nu = torch.tensor([-b, b, -b, b], dtype=F64).expand(B, -1)[..., None]
    mu = torch.zeros(B, 4, 1, dtype=F64)
    ni = game.cloud_best_response_value(
        inst, "discriminator", nu
    ) - game.cloud_best_response_value(inst, "generator", mu)
    torch.testing.assert_close(ni, torch.zeros(B, dtype=F64), rtol=0, atol=1e-12)
    torch.testing.assert_close(
        game.cloud_equilibrium_distance(inst, nu, mu), torch.zeros(B, dtype=F64)
    )
    # a pure point at the origin is at W₂ distance b from ½δ₋b + ½δ_b
    zero = torch.zeros(B, 1, 1, dtype=F64)
    torch.testing.assert_close(
        game.cloud_equilibrium_distance(inst, zero, zero),
        torch.full((B,), b, dtype=F64),
    )
    # even clouds: W₂ equals the optimal assignment to K/2 atoms at −b and K/2 at +b
    k = 6
    x, y = feasible_x(game, (B, k, 1), 30), rand((B, k, 1), 31)
    got = game.cloud_equilibrium_distance(inst, x, y)
    target = np.array([-b] * (k // 2) + [b] * (k // 2))
    for i in range(B):
        cost = (x[i, :, 0].numpy()[:, None] - target[None, :]) ** 2
        r, c = optimize.linear_sum_assignment(cost)
        w2 = cost[r, c].mean() + float(y[i].square().mean())
        assert float(got[i]) == pytest.approx(np.sqrt(w2), rel=1e-12)
    # odd clouds: the middle particle splits; for the cloud (−b, 0.3, b) the ends stay
    # put and half of the middle mass 1/3 goes to each atom
    odd = torch.tensor([-b, 0.3, b], dtype=F64).expand(B, 3)[..., None]
    expected = torch.tensor(((0.3 + b) ** 2 + (0.3 - b) ** 2) / 6, dtype=F64).sqrt()
    torch.testing.assert_close(
        game.cloud_equilibrium_distance(inst, odd, torch.zeros(B, 3, 1, dtype=F64)),
        expected.expand(B),
    )


# ---- (8) sampled matrices and configuration --------------------------------------------
@pytest.mark.parametrize("name", list(T2))
def test_t2_coupling_singular_values(name):
    game = T2[name]
    inst, _, _ = setup(game)
    sv = torch.linalg.svdvals(inst["A"])
    torch.testing.assert_close(
        sv, torch.full_like(sv, game.coupling), rtol=1e-12, atol=1e-12
    )
    torch.testing.assert_close(
        torch.linalg.cond(inst["A"]), torch.ones(B, dtype=F64), rtol=1e-10, atol=0
    )


def test_t2_shared_coupling():
    game = T2["shared"]
    a = setup(game)[0]["A"]
    torch.testing.assert_close(a, a[:1].expand_as(a), rtol=0, atol=0)
    torch.testing.assert_close(setup(game, [123])[0]["A"], a[:1], rtol=0, atol=0)
    private = setup(Quadratic(dimension=4))[0]["A"]
    assert not torch.allclose(private[0], private[1])


def test_validation_and_layouts():
    assert Quadratic(dimension=3).dim("generator") == 3
    with pytest.raises(TypeError):
        Quadratic(3)  # configuration is keyword-only
    assert NoNashQuadratic().layouts()["generator"].names == ("x",)
    assert NoNashQuadratic().layouts()["discriminator"].names == ("y",)
    for cls, bad in (
        (Quadratic, {"dimension": 0}),
        (Quadratic, {"mu": 0.0}),
        (Quadratic, {"coupling": -1.0}),
        (Quadratic, {"init_scale": -1.0}),
        (NoNashQuadratic, {"box": 0.0}),
    ):
        with pytest.raises(InvalidConfigError):
            cls(**bad)
    inst, _theta, phi = setup(Quadratic())
    with pytest.raises(ValueError):
        Quadratic().proximal_value(inst, phi, -1.0)
