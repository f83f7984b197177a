"""The oracle: costs, seat-relative signs, Hessian-vector products, metrics are free."""

from __future__ import annotations

import torch

import gangames
from gangames import metrics
from gangames.engine import new_match
from gangames.oracle import COSTS


def _quadratic(mu=0.7):
    game = gangames.make_game("gangames/Quadratic-v0", dimension=3, mu=mu)
    return game, new_match(game, [4, 5], dtype=torch.float64)


def test_costs_in_gradient_equivalents():
    _game, m = _quadratic()
    view = m.oracle.view("generator")
    th, ph = m.state.theta, m.state.phi
    view.loss(th, ph)
    view.grad(th, ph)
    view.hvp(th, ph, torch.ones_like(th))
    assert (
        m.oracle.ledger.cost("generator")
        == COSTS["value"] + COSTS["grad"] + COSTS["hvp"]
        == 3.5
    )
    assert m.oracle.ledger.cost("discriminator") == 0.0


def test_seat_relative_view_minimises_own_loss():
    game, m = _quadratic()
    th, ph = m.state.theta, m.state.phi
    g_theta, g_phi = game.gradients(m.instance, th, ph)
    torch.testing.assert_close(m.oracle.view("generator").grad(th, ph), g_theta)
    torch.testing.assert_close(m.oracle.view("discriminator").grad(ph, th), -g_phi)
    torch.testing.assert_close(
        m.oracle.view("discriminator").loss(ph, th), -game.value(m.instance, th, ph)
    )
    torch.testing.assert_close(m.oracle.view("generator").opponent_grad(th, ph), -g_phi)


def test_hvp_blocks_match_the_quadratic():
    # V = (μ/2)‖θ‖² + θᵀAφ − (μ/2)‖φ‖²: H_θθ = μI, H_θφ = A, H_φφ = −μI.
    mu = 0.7
    _game, m = _quadratic(mu)
    th, ph = m.state.theta, m.state.phi
    v = torch.randn(
        2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    A = m.instance["A"]
    gen = m.oracle.view("generator")
    dis = m.oracle.view("discriminator")
    torch.testing.assert_close(gen.hvp(th, ph, v), mu * v)
    torch.testing.assert_close(
        gen.hvp(th, ph, v, rows="own", cols="opponent"),
        torch.einsum("bij,bj->bi", A, v),
    )
    # discriminator's own loss is −V: H = +μI
    torch.testing.assert_close(dis.hvp(ph, th, v), mu * v)
    # follower Hessian seen by the leader: ∇²_φφ(−V) = μI
    torch.testing.assert_close(
        gen.hvp(th, ph, v, loss="opponent", rows="opponent", cols="opponent"), mu * v
    )


def test_hvp_both_returns_both_row_blocks_for_one_hvp():
    # −V for the discriminator: ∇_θ(∇_φ(−V)·v) = −Av, ∇_φ(∇_φ(−V)·v) = μv.
    mu = 0.7
    _game, m = _quadratic(mu)
    th, ph = m.state.theta, m.state.phi
    v = torch.randn(
        2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    A = m.instance["A"]
    for seat, own, opp in (("generator", th, ph), ("discriminator", ph, th)):
        view = m.oracle.view(seat)
        before = m.oracle.ledger.cost(seat)
        cols = "opponent" if seat == "generator" else "own"
        h_own, h_opp = view.hvp_both(own, opp, v, loss="opponent", cols=cols)
        assert m.oracle.ledger.cost(seat) - before == COSTS["hvp"]
        h_theta, h_phi = (h_own, h_opp) if seat == "generator" else (h_opp, h_own)
        expect_theta = -torch.einsum("bij,bj->bi", A, v)
        if seat == "discriminator":  # its opponent's loss is V
            expect_theta, expect_phi = -expect_theta, -mu * v
        else:
            expect_phi = mu * v
        torch.testing.assert_close(h_theta, expect_theta)
        torch.testing.assert_close(h_phi, expect_phi)
        torch.testing.assert_close(
            h_own, view.hvp(own, opp, v, loss="opponent", rows="own", cols=cols)
        )


def test_metrics_never_touch_the_ledger():
    game, m = _quadratic()
    before = m.oracle.ledger.copy()
    metrics.evaluate(game, m.instance, m.state.theta, m.state.phi)
    assert m.oracle.ledger == before


def test_gradient_noise_is_seeded_and_per_query():
    game = gangames.make_game("gangames/Bilinear-v0", dimension=2, gradient_noise=0.5)
    m1 = new_match(game, [1], dtype=torch.float64)
    m2 = new_match(game, [1], dtype=torch.float64)
    v1 = m1.oracle.view("generator")
    a, b = v1.grad(m1.state.theta, m1.state.phi), v1.grad(m1.state.theta, m1.state.phi)
    assert not torch.equal(a, b)  # a fresh draw per query
    torch.testing.assert_close(
        m2.oracle.view("generator").grad(m2.state.theta, m2.state.phi), a
    )
