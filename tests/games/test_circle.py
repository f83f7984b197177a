"""CirclePursuit (T6): pure and cloud best responses against brute force."""

from __future__ import annotations

import math

import pytest
import torch

from gangames.game import Game, mixed
from gangames.games.circle import CirclePursuit
from gangames.random import Stream

F64 = torch.float64


def _inst(b, dtype=F64):
    # No random problem data: the default instance only carries the batch size.
    return {"_batch": torch.zeros(b, dtype=dtype)}


def _rand(shape, seed, scale=math.pi):
    g = torch.Generator().manual_seed(seed)
    return scale * (2 * torch.rand(*shape, generator=g, dtype=F64) - 1)


def test_value_and_gradients():
    game = CirclePursuit()
    theta, phi = _rand((64, 1), 0, 20.0), _rand((64, 1), 1, 20.0)
    inst = _inst(64)
    v = game.value(inst, theta, phi)
    torch.testing.assert_close(v, torch.cos(theta - phi)[:, 0], rtol=0, atol=0)
    gt, gp = game.gradients(inst, theta, phi)
    at, ap = Game.gradients(game, inst, theta, phi)
    torch.testing.assert_close(gt, at, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(gp, ap, rtol=1e-12, atol=1e-15)
    # 2π-periodic in each angle.
    torch.testing.assert_close(
        game.value(inst, theta + 2 * math.pi, phi - 4 * math.pi), v
    )


def test_pure_best_responses_and_gap():
    game = CirclePursuit()
    theta, phi = _rand((32, 1), 2), _rand((32, 1), 3)
    inst = _inst(32)
    big = game.best_response_value(inst, "discriminator", theta)
    small = game.best_response_value(inst, "generator", phi)
    torch.testing.assert_close(big, torch.ones(32, dtype=F64))
    torch.testing.assert_close(small, -torch.ones(32, dtype=F64))
    torch.testing.assert_close(big - small, torch.full((32,), 2.0, dtype=F64))
    assert game.equilibrium_distance(inst, theta, phi) is None


def test_cloud_best_responses_match_grid():
    game = CirclePursuit()
    b, k = 12, 5
    tc, pc = _rand((b, k, 1), 4), _rand((b, k, 1), 5)
    tc[0, :, 0] = 0.3  # a collapsed cloud: |R| = 1
    pc[1, :, 0] = torch.tensor([0.0, 0.4, 0.8, 1.2, 1.6])
    inst = _inst(b)
    grid = torch.linspace(-math.pi, math.pi, 200001, dtype=F64)
    vals_d = torch.cos(tc[:, :, 0, None] - grid).mean(1)  # (B, N) over φ
    vals_g = torch.cos(grid - pc[:, :, 0, None]).mean(1)  # over θ
    d = game.cloud_best_response_value(inst, "discriminator", tc)
    g = game.cloud_best_response_value(inst, "generator", pc)
    assert (vals_d.amax(-1) <= d + 1e-14).all()
    assert (vals_g.amin(-1) >= g - 1e-14).all()
    torch.testing.assert_close(d, vals_d.amax(-1), rtol=0, atol=1e-9)
    torch.testing.assert_close(g, vals_g.amin(-1), rtol=0, atol=1e-9)
    # NI = |R_θ| + |R_φ| (closed form, via complex means).
    r = lambda c: torch.exp(1j * c[..., 0]).mean(-1).abs()  # noqa: E731
    torch.testing.assert_close(d - g, r(tc) + r(pc))
    torch.testing.assert_close(
        game.cloud_equilibrium_distance(inst, tc, pc), r(tc) + r(pc)
    )


@pytest.mark.parametrize("k", [2, 3, 8])
def test_mixed_equilibria_have_zero_gap(k):
    game = CirclePursuit()
    lifted = mixed(game, k)
    inst = _inst(1)
    spaced = 2 * math.pi * torch.arange(k, dtype=F64)[None] / k
    theta, phi = spaced + 0.3, spaced - 1.1  # equispaced clouds: R = 0
    ni = lifted.best_response_value(
        inst, "discriminator", theta
    ) - lifted.best_response_value(inst, "generator", phi)
    assert ni.abs().max() < 1e-14
    assert lifted.equilibrium_distance(inst, theta, phi).abs().max() < 1e-14
    assert lifted.value(inst, theta, phi).abs().max() < 1e-14
    # A collapsed cloud is fully exploitable.
    col = torch.zeros(1, k, dtype=F64)
    ni1 = lifted.best_response_value(
        inst, "discriminator", col
    ) - lifted.best_response_value(inst, "generator", col)
    torch.testing.assert_close(ni1, torch.full((1,), 2.0, dtype=F64))


def test_iid_uniform_baseline():
    k, b = 64, 2000
    lifted = mixed(CirclePursuit(), k)
    inst = _inst(b)
    theta, phi = lifted.init_params(inst, Stream.from_seeds(list(range(b))))
    ni = lifted.best_response_value(
        inst, "discriminator", theta
    ) - lifted.best_response_value(inst, "generator", phi)
    assert float(ni.mean()) == pytest.approx(math.sqrt(math.pi / k), abs=0.01)  # 0.22
    tc = lifted.cloud("generator", theta)
    assert tc.abs().max() <= math.pi
    # Uniform on the circle: first moments vanish on average.
    assert float(torch.cos(tc).mean()) == pytest.approx(0.0, abs=0.01)
    assert float((tc**2).mean()) == pytest.approx(math.pi**2 / 3, rel=0.02)


def test_mixed_lift_value_is_average_of_pairs():
    game = CirclePursuit()
    k = 4
    lifted = mixed(game, k)
    tc, pc = _rand((3, k, 1), 6), _rand((3, k, 1), 7)
    inst = _inst(3)
    v = lifted.value(
        inst, lifted.uncloud("generator", tc), lifted.uncloud("discriminator", pc)
    )
    ref = sum(
        game.value(inst, tc[:, i], pc[:, j]) for i in range(k) for j in range(k)
    ) / (k * k)
    torch.testing.assert_close(v, ref, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_init_batched_equals_rows(dtype):
    game = CirclePursuit(init_scale=1.0)
    seeds = [2, 7, 1, 8]
    inst = _inst(4, dtype)
    theta, phi = game.init_params(inst, Stream.from_seeds(seeds))
    assert theta.shape == (4, 1) and phi.shape == (4, 1)
    assert theta.dtype == dtype and phi.dtype == dtype
    assert theta.abs().max() <= 1.0 and phi.abs().max() <= 1.0
    for row, s in enumerate(seeds):
        t1, p1 = game.init_params(_inst(1, dtype), Stream.from_seeds([s]))
        assert torch.equal(t1, theta[row : row + 1])
        assert torch.equal(p1, phi[row : row + 1])


def test_projection_is_identity_and_idempotent():
    game = CirclePursuit()
    inst = _inst(8)
    x = _rand((8, 1), 8, 50.0)
    for seat in ("generator", "discriminator"):
        once = game.project(seat, inst, x)
        assert torch.equal(once, x)
        assert torch.equal(game.project(seat, inst, once), once)


def test_metrics_batched_equal_rows_and_float32():
    game = CirclePursuit()
    tc, pc = _rand((6, 5, 1), 9), _rand((6, 5, 1), 10)
    inst = _inst(6)
    full = [
        game.cloud_best_response_value(inst, "discriminator", tc),
        game.cloud_best_response_value(inst, "generator", pc),
        game.cloud_equilibrium_distance(inst, tc, pc),
    ]
    for r in range(6):
        sl, one = slice(r, r + 1), _inst(1)
        rows = [
            game.cloud_best_response_value(one, "discriminator", tc[sl]),
            game.cloud_best_response_value(one, "generator", pc[sl]),
            game.cloud_equilibrium_distance(one, tc[sl], pc[sl]),
        ]
        for f, x in zip(full, rows, strict=True):
            torch.testing.assert_close(f[sl], x, rtol=1e-12, atol=0)
    v32 = game.cloud_best_response_value(
        _inst(6, torch.float32), "generator", pc.float()
    )
    assert v32.dtype == torch.float32
    torch.testing.assert_close(v32.double(), full[1], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError):
        CirclePursuit(init_scale=-1.0)
    assert game.gap_estimator == "exact"
