"""The one-metric functions of gangames.metrics agree with metrics.evaluate."""

from __future__ import annotations

import torch

import gangames
from gangames import metrics
from gangames.engine import new_match


def _same(a: torch.Tensor | None, b: torch.Tensor | None) -> None:
    assert (a is None) == (b is None)
    if a is not None:
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_each_metric_function_is_its_field_of_evaluate(variant):
    name, options = variant
    game = gangames.make_game(name, **options)
    m = new_match(game, [0, 1], dtype=torch.float64)
    args = (game, m.instance, m.state.theta, m.state.phi)
    every = metrics.evaluate(*args, prox_lambda=0.5)
    e = metrics.exploitability(*args)
    _same(None if e is None else e[0], every.exploitability_generator)
    _same(None if e is None else e[1], every.exploitability_discriminator)
    _same(metrics.duality_gap(*args), every.duality_gap)
    p = metrics.proximal_exploitability(*args, 0.5)
    _same(None if p is None else p[0], every.proximal_exploitability_generator)
    _same(None if p is None else p[1], every.proximal_exploitability_discriminator)
    _same(metrics.proximal_gap(*args, 0.5), every.proximal_gap)
    _same(metrics.gradient_norm(*args), every.grad_norm)
    _same(metrics.distance(*args), every.distance)
