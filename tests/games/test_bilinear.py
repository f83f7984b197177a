"""Tests of the bilinear game (T1) against analytic values and brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import optimize

import gangames
from gangames.errors import InvalidConfigError
from gangames.game import Game, mixed
from gangames.games.bilinear import Bilinear
from gangames.random import Stream
from tests.games import brute

F64 = torch.float64
SEEDS = [3, 14, 15, 92]


def setup(game, seeds=SEEDS, dtype=F64):
    """The shared :func:`tests.games.brute.setup` with this file's seeds."""
    return brute.setup(game, seeds, dtype)


GAMES = {
    "free-2": Bilinear(),
    "free-3-kappa10": Bilinear(dimension=3, condition_number=10.0, radius=2.5),
    "box-3-kappa5": Bilinear(dimension=3, condition_number=5.0, box=0.5),
    "box-1": Bilinear(dimension=1, box=2.0, init_scale=3.0),
    "shared-4": Bilinear(dimension=4, condition_number=3.0, shared_coupling=True),
}
BOXED = {k: g for k, g in GAMES.items() if g.box is not None}
FREE = {k: g for k, g in GAMES.items() if g.box is None}


def random_points(game: Bilinear, n: int, seed: int = 0, scale: float = 2.0):
    """n random feasible points per instance, shape (B, n, d), float64."""
    g = torch.Generator().manual_seed(seed)
    pts = scale * torch.randn(len(SEEDS), n, game.dimension, generator=g, dtype=F64)
    if game.box is not None:
        pts = pts.clamp(-game.box, game.box)
    return pts


def values_against(game, inst, fixed, candidates, seat):
    """V(fixed, c) (seat='discriminator' varies φ) for candidates (B, N, d) → (B, N)."""
    b, n, d = candidates.shape
    rep = {k: v.repeat_interleave(n, dim=0) for k, v in inst.items()}
    fixed = fixed.repeat_interleave(n, dim=0)
    cand = candidates.reshape(b * n, d)
    if seat == "discriminator":
        return game.value(rep, fixed, cand).reshape(b, n)
    return game.value(rep, cand, fixed).reshape(b, n)


# ---- (1) analytic gradients ------------------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_gradients_equal_autograd(name):
    game = GAMES[name]
    inst, theta, phi = setup(game)
    analytic = game.gradients(inst, theta, phi)
    auto = Game.gradients(game, inst, theta, phi)
    for a, b in zip(analytic, auto, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    v, gt, _gp = game.value_and_gradients(inst, theta, phi)
    torch.testing.assert_close(v, game.value(inst, theta, phi))
    torch.testing.assert_close(gt, analytic[0])


def test_value_is_theta_A_phi():
    game = GAMES["free-3-kappa10"]
    inst, theta, phi = setup(game)
    expected = torch.stack(
        [theta[b] @ inst["A"][b] @ phi[b] for b in range(len(SEEDS))]
    )
    torch.testing.assert_close(game.value(inst, theta, phi), expected)


# ---- (2) best responses against brute force --------------------------------------------
@pytest.mark.parametrize("name", list(BOXED))
@pytest.mark.parametrize("k", [1, 5])
def test_box_best_response_is_max_over_vertices(name, k):
    game = GAMES[name]
    inst, _, _ = setup(game)
    cloud_t = random_points(game, k, seed=1)
    cloud_p = random_points(game, k, seed=2)
    d = game.dimension
    vertices = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=d)), dtype=F64)
    vertices = game.box * vertices.expand(len(SEEDS), -1, -1)
    # A linear function of the responder's point is extremal at a vertex of the box.
    v_d = torch.stack(
        [
            values_against(game, inst, cloud_t[:, i], vertices, "discriminator")
            for i in range(k)
        ]
    ).mean(0)
    v_g = torch.stack(
        [
            values_against(game, inst, cloud_p[:, i], vertices, "generator")
            for i in range(k)
        ]
    ).mean(0)
    br_d = game.cloud_best_response_value(inst, "discriminator", cloud_t)
    br_g = game.cloud_best_response_value(inst, "generator", cloud_p)
    torch.testing.assert_close(br_d, v_d.amax(-1), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(br_g, v_g.amin(-1), rtol=1e-12, atol=1e-14)
    # random feasible responses never beat the closed form
    rand = random_points(game, 2000, seed=3)
    theta_bar = cloud_t.mean(1)
    assert (
        values_against(game, inst, theta_bar, rand, "discriminator")
        <= br_d[:, None] + 1e-12
    ).all()


def test_restricted_best_response_dense_circle():
    game = GAMES["free-2"]
    inst, theta, phi = setup(game)
    t = torch.linspace(0, 2 * math.pi, 20001, dtype=F64)
    circle = game.radius * torch.stack([t.cos(), t.sin()], -1).expand(
        len(SEEDS), -1, -1
    )
    br_d = game.best_response_value(inst, "discriminator", theta)
    br_g = game.best_response_value(inst, "generator", phi)
    grid_d = values_against(game, inst, theta, circle, "discriminator").amax(-1)
    grid_g = values_against(game, inst, phi, circle, "generator").amin(-1)
    torch.testing.assert_close(br_d, grid_d, rtol=1e-7, atol=1e-12)
    torch.testing.assert_close(br_g, grid_g, rtol=1e-7, atol=1e-12)
    assert (grid_d <= br_d + 1e-12).all() and (grid_g >= br_g - 1e-12).all()


def test_restricted_best_response_random_search_in_ball():
    game = GAMES["free-3-kappa10"]
    inst, theta, _phi = setup(game)
    pts = random_points(game, 4000, seed=5)
    norms = pts.norm(dim=-1, keepdim=True)
    ball = pts * (game.radius / norms.clamp(min=game.radius))  # inside the ball
    sphere = pts * (game.radius / norms)
    br_d = game.best_response_value(inst, "discriminator", theta)
    for cand in (ball, sphere):
        vals = values_against(game, inst, theta, cand, "discriminator")
        assert (vals <= br_d[:, None] + 1e-12).all()
    # the sphere search comes close (3-D: within a few per cent)
    best = values_against(game, inst, theta, sphere, "discriminator").amax(-1)
    assert (best >= 0.97 * br_d).all()


# ---- (3) the duality gap ---------------------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_gap_nonnegative_and_zero_at_equilibrium(name):
    game = GAMES[name]
    inst, _, _ = setup(game)
    pts_t = random_points(game, 50, seed=7)
    pts_p = random_points(game, 50, seed=8)
    for i in range(50):
        gap = game.best_response_value(
            inst, "discriminator", pts_t[:, i]
        ) - game.best_response_value(inst, "generator", pts_p[:, i])
        assert (gap >= 0).all()
    zero = torch.zeros(len(SEEDS), game.dimension, dtype=F64)
    assert (game.best_response_value(inst, "discriminator", zero) == 0).all()
    assert (game.best_response_value(inst, "generator", zero) == 0).all()
    assert (game.equilibrium_distance(inst, zero, zero) == 0).all()
    if game.box is None:
        prox = game.best_response_value(
            inst, "discriminator", zero
        ) - game.proximal_value(inst, zero, 1.0)
        assert (prox == 0).all()


def test_box_gap_is_l1_formula():
    game = GAMES["box-3-kappa5"]
    inst, theta, phi = setup(game)
    a = inst["A"]
    expected = game.box * (
        torch.einsum("bij,bi->bj", a, theta).abs().sum(-1)
        + torch.einsum("bij,bj->bi", a, phi).abs().sum(-1)
    )
    gap = game.best_response_value(
        inst, "discriminator", theta
    ) - game.best_response_value(inst, "generator", phi)
    torch.testing.assert_close(gap, expected, rtol=1e-12, atol=1e-14)


# ---- proximal objective and value ------------------------------------------------------
@pytest.mark.parametrize("name", ["free-2", "free-3-kappa10", "box-3-kappa5"])
@pytest.mark.parametrize("lam", [0.3, 2.0])
def test_proximal_objective_against_numerical_max(name, lam):
    game = GAMES[name]
    inst, theta, phi = setup(game)
    got = game.proximal_objective(inst, theta, phi, lam)
    bounds = None if game.box is None else [(-game.box, game.box)] * game.dimension
    for b in range(len(SEEDS)):
        a = inst["A"][b].numpy()
        t, p = theta[b].numpy(), phi[b].numpy()

        def neg(x, a=a, t=t, p=p):
            return -(t @ a @ x - 0.5 * lam * np.sum((x - p) ** 2))

        res = optimize.minimize(neg, p, bounds=bounds, tol=1e-14)
        assert -res.fun == pytest.approx(float(got[b]), rel=1e-7, abs=1e-9)
    # V_prox ≥ V (take φ̃ = φ)
    assert (got >= game.value(inst, theta, phi) - 1e-12).all()


@pytest.mark.parametrize("name", ["free-2", "free-3-kappa10", "shared-4"])
@pytest.mark.parametrize("lam", [0.5, 3.0])
def test_proximal_value_against_numerical_min(name, lam):
    game = GAMES[name]
    inst, _, phi = setup(game)
    got = game.proximal_value(inst, phi, lam)
    for b in range(len(SEEDS)):
        row = {k: v[b : b + 1] for k, v in inst.items()}

        def fn(x, row=row, b=b):
            t = torch.as_tensor(x, dtype=F64)[None]
            return float(game.proximal_objective(row, t, phi[b : b + 1], lam)[0])

        res = optimize.minimize(fn, np.zeros(game.dimension), method="BFGS", tol=1e-13)
        assert res.fun == pytest.approx(float(got[b]), rel=1e-6, abs=1e-9)


def test_proximal_value_none_with_box_and_lambda_checked():
    game = GAMES["box-3-kappa5"]
    inst, theta, phi = setup(game)
    assert game.proximal_value(inst, phi, 1.0) is None
    with pytest.raises(ValueError):
        game.proximal_objective(inst, theta, phi, 0.0)


# ---- (5) batched equals row by row -----------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_batch_equals_rows(name):
    game = GAMES[name]
    inst, theta, phi = setup(game)
    outputs = [
        inst["A"],
        theta,
        phi,
        game.value(inst, theta, phi),
        *game.gradients(inst, theta, phi),
        game.best_response_value(inst, "discriminator", theta),
        game.best_response_value(inst, "generator", phi),
        game.proximal_objective(inst, theta, phi, 1.0),
    ]
    for b, seed in enumerate(SEEDS):
        i1, t1, p1 = setup(game, [seed])
        row = [
            i1["A"],
            t1,
            p1,
            game.value(i1, t1, p1),
            *game.gradients(i1, t1, p1),
            game.best_response_value(i1, "discriminator", t1),
            game.best_response_value(i1, "generator", p1),
            game.proximal_objective(i1, t1, p1, 1.0),
        ]
        for batched, single in zip(outputs, row, strict=True):
            torch.testing.assert_close(
                batched[b : b + 1], single, rtol=1e-12, atol=1e-14
            )


def test_float32_matches_float64():
    game = GAMES["box-3-kappa5"]
    i64, t64, _p64 = setup(game)
    i32, t32, p32 = setup(game, dtype=torch.float32)
    assert i32["A"].dtype == t32.dtype == p32.dtype == torch.float32
    torch.testing.assert_close(i32["A"], i64["A"].float())
    torch.testing.assert_close(t32, t64.float())
    br = game.best_response_value(i32, "discriminator", t32)
    assert br.dtype == torch.float32
    torch.testing.assert_close(
        br, game.best_response_value(i64, "discriminator", t64).float()
    )


# ---- (6) projection --------------------------------------------------------------------
@pytest.mark.parametrize("name", list(GAMES))
def test_projection_idempotent_and_feasible(name):
    game = GAMES[name]
    inst, theta, phi = setup(game)
    big = 10.0 * torch.randn(len(SEEDS), game.dimension, dtype=F64)
    for seat in ("generator", "discriminator"):
        once = game.project(seat, inst, big)
        torch.testing.assert_close(game.project(seat, inst, once), once, rtol=0, atol=0)
        if game.box is None:
            torch.testing.assert_close(once, big, rtol=0, atol=0)
        else:
            assert (once.abs() <= game.box).all()
    # initial parameters are feasible
    for params, seat in ((theta, "generator"), (phi, "discriminator")):
        torch.testing.assert_close(
            game.project(seat, inst, params), params, rtol=0, atol=0
        )


# ---- (7) mixed lift --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["free-3-kappa10", "box-3-kappa5"])
def test_mixed_lift_best_responses(name):
    game = GAMES[name]
    k = 6
    lifted = mixed(game, particles=k)
    stream = Stream.from_seeds(SEEDS)
    inst = lifted.sample_instance(stream.fork(1), F64)
    theta_f, phi_f = lifted.init_params(inst, stream.fork(2))
    cloud_t = lifted.cloud("generator", theta_f)
    cloud_p = lifted.cloud("discriminator", phi_f)
    if game.box is not None:
        assert (cloud_t.abs() <= game.box).all()
    br_d = lifted.best_response_value(inst, "discriminator", theta_f)
    br_g = lifted.best_response_value(inst, "generator", phi_f)
    torch.testing.assert_close(
        br_d, game.cloud_best_response_value(inst, "discriminator", cloud_t)
    )
    # the pure best response, written out here, attains the value in the lifted game
    a = inst["A"]
    u = torch.einsum("bij,bi->bj", a, cloud_t.mean(1))  # Aᵀθ̄
    w = torch.einsum("bij,bj->bi", a, cloud_p.mean(1))  # Aφ̄
    if game.box is None:
        phi_star = game.radius * u / u.norm(dim=-1, keepdim=True)
        theta_star = -game.radius * w / w.norm(dim=-1, keepdim=True)
    else:
        phi_star, theta_star = game.box * u.sign(), -game.box * w.sign()

    def rep(x):
        return x[:, None, :].expand(-1, k, -1)

    v_d = lifted.value(inst, theta_f, lifted.uncloud("discriminator", rep(phi_star)))
    v_g = lifted.value(inst, lifted.uncloud("generator", rep(theta_star)), phi_f)
    torch.testing.assert_close(v_d, br_d, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(v_g, br_g, rtol=1e-12, atol=1e-14)
    # no random mixed response beats them (the lifted value is linear in each measure)
    for seed in range(20):
        other = random_points(game, k, seed=100 + seed, scale=1.0)
        if game.box is None:
            other = other * (game.radius / other.norm(dim=-1, keepdim=True))
        assert (
            lifted.value(inst, theta_f, lifted.uncloud("discriminator", other))
            <= br_d + 1e-12
        ).all()
        assert (
            lifted.value(inst, lifted.uncloud("generator", other), phi_f)
            >= br_g - 1e-12
        ).all()
    # cloud distance: zero for mean-zero clouds, the norm of the means otherwise
    centred_t = cloud_t - cloud_t.mean(1, keepdim=True)
    centred_p = cloud_p - cloud_p.mean(1, keepdim=True)
    dist = game.cloud_equilibrium_distance(inst, centred_t, centred_p)
    torch.testing.assert_close(dist, torch.zeros_like(dist), rtol=0, atol=1e-14)


# ---- (8) sampled matrices --------------------------------------------------------------
@pytest.mark.parametrize("kappa", [1.0, 4.0, 100.0])
@pytest.mark.parametrize("d", [1, 2, 5])
def test_condition_number_and_singular_values(kappa, d):
    game = Bilinear(dimension=d, condition_number=kappa)
    inst, _, _ = setup(game)
    sv = torch.linalg.svdvals(inst["A"])  # descending
    expected_kappa = 1.0 if d == 1 else kappa
    torch.testing.assert_close(
        torch.linalg.cond(inst["A"]),
        torch.full((len(SEEDS),), expected_kappa, dtype=F64),
        rtol=1e-10,
        atol=0,
    )
    expected = torch.tensor(
        [expected_kappa ** (-i / max(d - 1, 1)) for i in range(d)], dtype=F64
    )
    torch.testing.assert_close(
        sv, expected.expand(len(SEEDS), -1), rtol=1e-10, atol=1e-12
    )


def test_shared_coupling_same_matrix_everywhere():
    game = GAMES["shared-4"]
    a1 = setup(game)[0]["A"]
    a2 = setup(game, [1, 2])[0]["A"]
    torch.testing.assert_close(a1, a1[:1].expand_as(a1), rtol=0, atol=0)
    torch.testing.assert_close(a2, a1[:2], rtol=0, atol=0)
    private = setup(Bilinear(dimension=4, condition_number=3.0))[0]["A"]
    assert not torch.allclose(private[0], private[1])


def test_labels_stochastic_and_validation():
    assert Bilinear().gap_estimator == "restricted to ‖·‖ ≤ 1.0"
    assert Bilinear(box=1.0).gap_estimator == "exact"
    assert not Bilinear().stochastic
    assert Bilinear(gradient_noise=0.1).stochastic
    assert Bilinear().dim("generator") == 2  # Game.dim still works
    with pytest.raises(TypeError):
        Bilinear(3)  # keyword-only: the inherited gradient_noise field sorts first
    assert mixed(Bilinear(gradient_noise=0.1), particles=2).stochastic
    for bad in (
        {"dimension": 0},
        {"condition_number": 0.5},
        {"condition_number": math.inf},
        {"box": -1.0},
        {"gradient_noise": -0.1},
        {"radius": 0.0},
    ):
        with pytest.raises(InvalidConfigError):
            Bilinear(**bad)


@pytest.mark.parametrize("box", [None, 1.0])
def test_best_responses_from_the_observed_gradients_equal_the_closed_form(box):
    game = gangames.make_game("gangames/Bilinear-v0", dimension=4, box=box)
    match = gangames.new_match(game, [1, 2, 3], dtype=torch.float64)
    theta, phi = match.state.theta, match.state.phi
    exact = game.value_and_gradients(match.instance, theta, phi)
    reused = game.best_response_values(match.instance, theta, phi, exact)
    direct = (
        game.best_response_value(match.instance, "generator", phi),
        game.best_response_value(match.instance, "discriminator", theta),
    )
    for a, b in zip(reused, direct, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
