"""Batched MLPs: the hand-written reverse pass against autograd, batch against single."""

from __future__ import annotations

import pytest
import torch

from gangames.engine import new_match
from gangames.errors import InvalidConfigError
from gangames.game import Game, ParamLayout
from gangames.games.digits import DigitsGAN
from gangames.games.mixture import MixtureGAN
from gangames.nets import ACTIVATIONS, MLP, OUTPUTS
from gangames.random import Stream

F64 = torch.float64


def _net_and_params(sizes, activation, output, batch=3):
    net = MLP(sizes, activation, output=output)
    flat = net.init(Stream.from_seeds(range(batch)), F64)
    return net, ParamLayout(net.shapes()), flat


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [(3, 1), (2, 5, 1), (4, 6, 5, 3)])
def test_vjp_is_the_autograd_vector_jacobian_product(sizes, activation, output):
    """Known answer: ``vjp`` equals ``torch.autograd.grad`` of ``⟨g, net(x)⟩``."""
    net, layout, flat = _net_and_params(sizes, activation, output)
    x = Stream.from_seeds([7, 8, 9]).normal((11, sizes[0]), dtype=F64)
    g = Stream.from_seeds([1, 2, 3]).normal((11, sizes[-1]), dtype=F64)
    p = flat.clone().requires_grad_(True)
    xr = x.clone().requires_grad_(True)
    out = net(layout.unflatten(p), xr)
    want_p, want_x = torch.autograd.grad((out * g).sum(), (p, xr))
    params = layout.unflatten(flat)
    trace = net.trace(params, x)
    torch.testing.assert_close(trace.output, out.detach(), rtol=0, atol=0)
    got_p, got_x = net.vjp(params, trace, g, wrt_input=True)
    torch.testing.assert_close(got_p, want_p, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(got_x, want_x, rtol=1e-12, atol=1e-14)
    only_p, none = net.vjp(params, trace, g)
    assert none is None and torch.equal(only_p, got_p)
    none, only_x = net.vjp(params, trace, g, wrt_params=False, wrt_input=True)
    assert none is None and torch.equal(only_x, got_x)


@pytest.mark.parametrize("sizes", [(2, 8, 1), (3, 8, 8, 2)])
def test_vjp_of_a_batch_equals_single_runs(sizes):
    net = MLP(sizes, "leaky_relu")
    layout = ParamLayout(net.shapes())
    flat = net.init(Stream.from_seeds(range(4)), torch.float32)
    x = Stream.from_seeds(range(10, 14)).normal((16, sizes[0]))
    g = Stream.from_seeds(range(20, 24)).normal((16, sizes[-1]))
    params = layout.unflatten(flat)
    batch = net.vjp(params, net.trace(params, x), g, wrt_input=True)
    for b in range(4):
        one = layout.unflatten(flat[b : b + 1])
        single = net.vjp(
            one, net.trace(one, x[b : b + 1]), g[b : b + 1], wrt_input=True
        )
        for got, want in zip(single, batch, strict=True):
            assert torch.equal(got[0], want[b])  # type: ignore[index]


def test_unknown_output_map_is_refused():
    with pytest.raises(InvalidConfigError, match="output must be one of"):
        MLP((2, 3), output="sigmoid")


@pytest.mark.parametrize("loss", ["standard", "non_saturating", "wgan_clip"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("cls", [MixtureGAN, DigitsGAN])
def test_neural_observation_gradients_equal_autograd(cls, activation, loss):
    """Known answer: the hand-written pass equals autograd of ``(V, L_G, L_D)``."""
    for depth in (1, 3):
        game = cls(
            width=12,
            depth=depth,
            activation=activation,
            loss=loss,
            minibatch=8,
            eval_size=10,
        )
        m = new_match(game, [0, 1, 2], dtype=F64)
        th, ph = m.state.theta, m.state.phi
        for data in (game.sample_data(m.instance, m.oracle.stream), None):
            got = game.value_and_loss_gradients(m.instance, th, ph, data)
            want = Game.value_and_loss_gradients(game, m.instance, th, ph, data)
            for a, b in zip(got, want, strict=True):
                torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)
