"""Keyed streams: laws of the draws, rows independent of the batch, draws ahead."""

from __future__ import annotations

import math

import pytest
import torch

from gangames.random import Stream

F64 = torch.float64


def test_normal_draws_have_the_standard_normal_moments():
    """Known answer: mean 0, variance 1, kurtosis 3, Box–Muller pairs uncorrelated."""
    n = 400_000
    z = Stream.from_seeds([0, 1]).normal((n,), dtype=F64)
    tol = 5 / math.sqrt(n)  # five standard errors of a unit-variance mean
    assert z.mean(dim=1).abs().max() < tol
    assert (z.var(dim=1) - 1).abs().max() < 5 * math.sqrt(2 / n)
    assert ((z**4).mean(dim=1) - 3).abs().max() < 5 * math.sqrt(96 / n)
    pairs = (z[:, 0::2] * z[:, 1::2]).mean(dim=1)  # the cos and sin of one hash
    assert pairs.abs().max() < 5 / math.sqrt(n / 2)
    assert z.abs().max() < 6.7  # 32-bit Box–Muller reaches √(64 log 2) at most


def test_uniform_draws_are_uniform_and_unrelated_across_counters():
    n = 400_000
    s = Stream.from_seeds([2, 3])
    u, v = s.uniform((n,), dtype=F64), s.uniform((n,), dtype=F64)
    assert ((u > 0) & (u < 1)).all()
    assert (u.mean(dim=1) - 0.5).abs().max() < 5 * math.sqrt(1 / 12 / n)
    # correlation of consecutive counters and of neighbouring entries: 0
    for a, b in ((u, v), (u[:, 1:], u[:, :-1])):
        corr = 12 * ((a - 0.5) * (b - 0.5)).mean(dim=1)
        assert corr.abs().max() < 5 / math.sqrt(a.shape[1])


def test_a_row_of_a_batch_is_its_single_stream():
    batch = Stream.from_seeds([5, 6, 7])
    single = Stream.from_seeds([6])
    for draw in ("uniform", "normal"):
        assert torch.equal(
            getattr(batch, draw)((4, 3))[1], getattr(single, draw)((4, 3))[0]
        )
    u, z = batch.uniform_and_normal((5, 1), (5, 3))
    u1, z1 = single.uniform_and_normal((5, 1), (5, 3))
    assert torch.equal(u[1], u1[0]) and torch.equal(z[1], z1[0])


@pytest.mark.parametrize("seeds", [[11], list(range(40))])
def test_draws_made_ahead_equal_draws_made_one_at_a_time(seeds):
    """Serving repeated minibatch draws from a block changes no number.

    Between them come other draws (which consume counters) and a rewound counter;
    each draw must equal the one a fresh stream makes at the same counter.
    """
    s = Stream.from_seeds(seeds)
    shapes = [((8, 1), (8, 10))] * 20 + [((4, 2), (4, 3))] + [((8, 1), (8, 10))] * 5
    for i, (us, ns) in enumerate(shapes):
        if i == 12:
            s.counter -= 5  # replaying earlier counters (as tests of the oracle do)
        at = s.counter
        got = s.uniform_and_normal(us, ns, dtype=F64)
        want = Stream(s.keys, at).uniform_and_normal(us, ns, dtype=F64)
        assert s.counter == at + 1
        for a, b in zip(got, want, strict=True):
            assert torch.equal(a, b)
        if i % 3 == 0:
            at = s.counter
            assert torch.equal(s.normal((5,)), Stream(s.keys, at).normal((5,)))
