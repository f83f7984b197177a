"""Hypothesis properties of the metrics and the engine (docs/algorithms.md §7–8)."""

from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gangames
from gangames import metrics
from gangames.engine import apply_update, new_match
from tests.conftest import VARIANTS

finite = st.floats(-3.0, 3.0, allow_nan=False)


def _game_and_match(index, seed):
    name, options = VARIANTS[index]
    game = gangames.make_game(name, **options)
    return game, new_match(game, [seed], dtype=torch.float64)


def _point(game, m, data):
    th = torch.tensor(
        [
            data.draw(
                st.lists(
                    finite,
                    min_size=game.dim("generator"),
                    max_size=game.dim("generator"),
                )
            )
        ],
        dtype=torch.float64,
    )
    ph = torch.tensor(
        [
            data.draw(
                st.lists(
                    finite,
                    min_size=game.dim("discriminator"),
                    max_size=game.dim("discriminator"),
                )
            )
        ],
        dtype=torch.float64,
    )
    return game.project("generator", m.instance, th), game.project(
        "discriminator", m.instance, ph
    )


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, len(VARIANTS) - 1), seed=st.integers(0, 2**31), data=st.data()
)
def test_gap_is_nonnegative_and_rewards_sum_to_minus_gap(index, seed, data):
    game, m = _game_and_match(index, seed)
    th, ph = _point(game, m, data)
    mt = metrics.evaluate(game, m.instance, th, ph)
    scale = 1e-9 * (1 + mt.value.abs())
    assert (mt.duality_gap >= -scale).all()
    assert (mt.exploitability_generator >= -scale).all()
    assert (mt.exploitability_discriminator >= -scale).all()
    torch.testing.assert_close(
        mt.exploitability_generator + mt.exploitability_discriminator, mt.duality_gap
    )


@settings(max_examples=60, deadline=None)
@given(
    index=st.integers(0, len(VARIANTS) - 1), seed=st.integers(0, 2**31), data=st.data()
)
def test_projection_is_idempotent(index, seed, data):
    game, m = _game_and_match(index, seed)
    th, ph = _point(game, m, data)
    for seat, x in (("generator", th), ("discriminator", ph)):
        torch.testing.assert_close(game.project(seat, m.instance, x), x)


@settings(max_examples=30, deadline=None)
@given(
    index=st.integers(0, len(VARIANTS) - 1),
    seeds=st.lists(st.integers(0, 2**31), min_size=2, max_size=5, unique=True),
    lr=st.floats(0.001, 0.3),
)
def test_batched_engine_equals_looped(index, seeds, lr):
    name, options = VARIANTS[index]
    game = gangames.make_game(name, **options)
    batch = new_match(game, seeds, dtype=torch.float64)
    singles = [new_match(game, [s], dtype=torch.float64) for s in seeds]
    for _ in range(5):
        gb = batch.oracle.joint(batch.state.theta, batch.state.phi)
        batch = batch._replace(
            state=apply_update(
                game,
                batch.instance,
                batch.state,
                {"generator": -lr * gb[0], "discriminator": -lr * gb[1]},
            )
        )
        for i, m in enumerate(singles):
            g = m.oracle.joint(m.state.theta, m.state.phi)
            singles[i] = m._replace(
                state=apply_update(
                    game,
                    m.instance,
                    m.state,
                    {"generator": -lr * g[0], "discriminator": -lr * g[1]},
                )
            )
    for i, m in enumerate(singles):
        torch.testing.assert_close(
            m.state.theta, batch.state.theta[i : i + 1], rtol=1e-12, atol=1e-14
        )
        torch.testing.assert_close(
            m.state.phi, batch.state.phi[i : i + 1], rtol=1e-12, atol=1e-14
        )


# ---- zero at the known equilibria ---------------------------------------------------
def _gap_at(name, theta, phi, **options):
    game = gangames.make_game(name, **options)
    m = new_match(game, [0], dtype=torch.float64)
    th = torch.as_tensor(theta, dtype=torch.float64).reshape(1, -1)
    ph = torch.as_tensor(phi, dtype=torch.float64).reshape(1, -1)
    return metrics.evaluate(game, m.instance, th, ph)


@settings(max_examples=20, deadline=None)
@given(dim=st.integers(1, 5), box=st.sampled_from([None, 1.0]))
def test_bilinear_gap_zero_at_origin(dim, box):
    mt = _gap_at(
        "gangames/Bilinear-v0", np.zeros(dim), np.zeros(dim), dimension=dim, box=box
    )
    assert mt.duality_gap.abs().max() < 1e-12


@settings(max_examples=20, deadline=None)
@given(dim=st.integers(1, 5), mu=st.floats(0.1, 3.0))
def test_quadratic_gap_zero_at_origin(dim, mu):
    mt = _gap_at(
        "gangames/Quadratic-v0", np.zeros(dim), np.zeros(dim), dimension=dim, mu=mu
    )
    assert mt.duality_gap.abs().max() < 1e-12
    assert mt.proximal_gap.abs().max() < 1e-12


@settings(max_examples=10, deadline=None)
@given(gamma=st.floats(0.1, 5.0))
def test_dirac_gap_zero_at_origin(gamma):
    mt = _gap_at("gangames/DiracGAN-v0", [0.0], [0.0], penalty="r1", gamma=gamma)
    assert mt.duality_gap.abs().max() < 1e-9


def test_no_nash_numbers():
    # docs/algorithms.md T4: DG(0,0) = 3; DG^λ(0,0) = 0 for λ ≤ 2/3, 3 − 8/(2+λ) above.
    for lam, expected in ((0.25, 0.0), (2 / 3, 0.0), (1.0, 1 / 3), (3.0, 3 - 8 / 5)):
        game = gangames.make_game("gangames/NoNashQuadratic-v0")
        m = new_match(game, [0], dtype=torch.float64)
        z = torch.zeros(1, 1, dtype=torch.float64)
        mt = metrics.evaluate(game, m.instance, z, z, prox_lambda=lam)
        assert math.isclose(mt.duality_gap.item(), 3.0, abs_tol=1e-12)
        assert math.isclose(mt.proximal_gap.item(), expected, abs_tol=1e-9)


def test_nonrealizable_pure_gap_never_below_three_eighths():
    game = gangames.make_game("gangames/NonRealizableGAN-v0")
    m = new_match(game, [0], dtype=torch.float64)
    grid = torch.linspace(-2, 2, 401, dtype=torch.float64)
    psi = torch.cartesian_prod(
        torch.linspace(-2, 2, 41, dtype=torch.float64),
        torch.linspace(-2, 2, 41, dtype=torch.float64),
    )
    th = grid.repeat_interleave(psi.shape[0])[:, None]
    ph = psi.repeat(grid.shape[0], 1)
    inst = {k: v.expand(th.shape[0], *v.shape[1:]) for k, v in m.instance.items()}
    gap = metrics.duality_gap(game, inst, th, ph)
    assert gap.min() >= 0.375 - 1e-9
    assert gap.min() < 0.376


def test_mixed_circle_gap_is_resultant_length():
    game = gangames.make_game("gangames/CirclePursuit-v0", particles=4)
    m = new_match(game, [0], dtype=torch.float64)
    uniform = torch.tensor(
        [[0.0, math.pi / 2, math.pi, -math.pi / 2]], dtype=torch.float64
    )
    mt = metrics.evaluate(game, m.instance, uniform, uniform)
    assert mt.duality_gap.abs().max() < 1e-12
    pure = torch.zeros(1, 4, dtype=torch.float64)
    assert math.isclose(
        metrics.duality_gap(game, m.instance, pure, pure).item(), 2.0, abs_tol=1e-12
    )
