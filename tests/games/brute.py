"""Brute-force checks shared by the game tests: seeded draws, L-BFGS minimisation."""

from __future__ import annotations

import torch

from gangames.random import Stream

F64 = torch.float64
SEEDS = [3, 5, 11]


def draw(tag: int, shape: tuple[int, ...], seeds=SEEDS, scale=1.0) -> torch.Tensor:
    """Test randomness: one fresh stream per draw."""
    return scale * Stream.from_seeds(seeds).fork(1000 + tag).normal(shape, dtype=F64)


def setup(game, seeds=SEEDS, dtype=F64):
    """``(instance, θ0, φ0)`` of ``game`` for ``seeds``, as a match would sample them."""
    stream = Stream.from_seeds(seeds)
    inst = game.sample_instance(stream.fork(1), dtype)
    theta, phi = game.init_params(inst, stream.fork(2))
    return inst, theta, phi


def minimise(fn, x0, to_feasible=lambda u: u, iters=500):
    """Brute force: L-BFGS from every start row, on ``fn(to_feasible(u))``.

    ``to_feasible`` maps ℝⁿ smoothly onto the (open) feasible set, so the search is
    unconstrained; rows are independent problems (the sum separates).
    """
    u = x0.clone().requires_grad_(True)
    opt = torch.optim.LBFGS(
        [u],
        max_iter=iters,
        tolerance_grad=1e-13,
        tolerance_change=1e-15,
        history_size=50,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = fn(to_feasible(u)).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return fn(to_feasible(u))


def ball(radius: float):
    """A smooth map of ℝⁿ onto the open ball ‖x‖ < radius."""

    def to_ball(u):
        n = u.norm(dim=-1, keepdim=True).clamp(min=1e-30)
        return radius * torch.tanh(n) / n * u

    return to_ball
