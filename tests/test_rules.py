"""The rule protocol: ``chain`` of transforms is a transform, ``rule_from`` makes a rule."""

from __future__ import annotations

import torch

import agents
import gangames
from agents.transforms import add_noise, constant, scale, scale_by_adam, trace
from gangames.random import Stream
from gangames.rules import Solver, Transform, chain, rule_from, stateless
from gangames.testing import check_rule
from tests.agents.scaffold import observation

F64 = torch.float64


def _charged(cost: float) -> Transform:
    """A piece that passes the direction through and declares ``cost + step``."""
    return Transform(stateless, lambda u, s, obs, oracle: (u, s), lambda n: cost + n)


def _deltas(rule, gradients):
    params = torch.zeros(2, 3, dtype=F64)
    state = rule.init(params, Stream.from_seeds([0, 1]))
    out = []
    for n, g in enumerate(gradients):
        delta, state = rule.update(observation(params, params, g, -g, n), state, None)
        out.append(delta)
    return out


def test_a_chain_inside_a_chain_plays_the_flat_chain_bit_for_bit():
    gradients = list(
        torch.randn(5, 2, 3, dtype=F64, generator=torch.Generator().manual_seed(0))
    )
    flat = rule_from(trace(0.9), scale_by_adam(), scale(-0.1), name="flat")
    nested = rule_from(trace(0.9), chain(scale_by_adam(), scale(-0.1)), name="nested")
    for a, b in zip(_deltas(flat, gradients), _deltas(nested, gradients), strict=True):
        assert torch.equal(a, b)


def test_a_chain_is_a_transform_whose_cost_is_the_sum_of_its_pieces():
    inner = chain(_charged(1.0), scale(2.0), _charged(2.0))
    assert isinstance(inner, Transform)
    assert inner.cost(3) == (1.0 + 3) + (2.0 + 3)
    outer = chain(inner, _charged(0.5))
    assert outer.cost(0) == 3.5
    rule = rule_from(outer, scale(-1.0), name="charged", order="sequential")
    assert (rule.name, rule.order, rule.cost(1)) == ("charged", "sequential", 6.5)
    assert chain().cost(0) == 0


def test_chain_state_is_one_state_per_piece_each_from_its_own_fork():
    params = torch.zeros(2, 3, dtype=F64)
    stream = Stream.from_seeds([4, 5])
    state = chain(trace(0.5), add_noise(constant(1.0))).init(params, stream)
    assert len(state) == 2
    assert torch.equal(state[0].velocity, params)
    assert torch.equal(state[1].stream.keys, stream.fork(2).keys)


def test_a_rule_from_a_nested_chain_keeps_the_rule_contract():
    rule = rule_from(chain(trace(0.5), scale(-0.05)), name="momentum_gda")
    check_rule(Solver(rule, rule, "momentum_gda"), "gangames/Quadratic-v0", steps=4)
    env = gangames.make("gangames/Quadratic-v0", max_steps=100)
    infos = agents.play(env, Solver(rule, rule, "momentum_gda"), seed=0)
    assert infos[-1]["distance"] < 1e-2 * infos[0]["distance"]
