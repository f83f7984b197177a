"""Batched one-dimensional solvers for closed-form best responses (private).

Every solver works on B independent scalar problems at once: interval ends are tensors
of shape ``(B,)``, the objective is a callable mapping points ``x`` of shape ``(B, N)``
to values ``(B, N)`` (row ``b`` of ``x`` belongs to problem ``b``), iteration counts are
fixed and every choice is a :func:`torch.where`, so there is no host synchronisation,
no Python branching on tensor values and a batch equals its rows run one at a time.

* :func:`argmax_concave` — bisection on the (non-increasing) derivative of a concave
  function.
* :func:`minimize_interval` — global minimum of a smooth function on an interval: a dense
  grid, then golden-section refinement inside the two grid cells around the best grid
  point.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

__all__ = ["argmax_concave", "minimize_interval"]

Fn = Callable[[torch.Tensor], torch.Tensor]
"""A batched scalar function: points ``(B, N)`` → values ``(B, N)``."""

_INV_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def argmax_concave(
    deriv: Fn, lo: torch.Tensor, hi: torch.Tensor, iters: int = 80
) -> torch.Tensor:
    """Maximiser of a concave function on ``[lo, hi]`` by bisection on its derivative.

    The derivative of a concave function is non-increasing, so the maximiser is ``hi``
    where ``deriv > 0`` on the whole interval, ``lo`` where ``deriv < 0`` on it, and the
    root of ``deriv`` otherwise; bisection converges to it in every case. After
    ``iters`` halvings the point is within ``(hi − lo)·2^−iters`` of a maximiser (or at
    the float resolution of the interval). Callers should also compare the values at
    ``lo`` and ``hi`` when the maximum is at an end and must be exact.

    Args:
        deriv: derivative, points ``(B, 1)`` → ``(B, 1)``.
        lo: lower ends, shape ``(B,)``.
        hi: upper ends, shape ``(B,)``, ``hi ≥ lo``.
        iters: number of halvings (80 reaches float64 resolution on any interval).

    Returns:
        The maximiser, shape ``(B,)``.
    """
    a, b = lo, hi
    for _ in range(iters):
        mid = 0.5 * (a + b)
        up = deriv(mid.unsqueeze(-1)).squeeze(-1) > 0
        a = torch.where(up, mid, a)
        b = torch.where(up, b, mid)
    return 0.5 * (a + b)


def minimize_interval(
    fn: Fn,
    lo: torch.Tensor,
    hi: torch.Tensor,
    points: int = 2049,
    polish: int = 60,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Global minimum of a smooth scalar function on ``[lo, hi]``: grid plus polish.

    The function is evaluated on ``points`` equispaced points (ends included); the best
    grid point ``x_i`` brackets a local minimiser in ``[x_{i−1}, x_{i+1}]``, which
    ``polish`` golden-section steps refine (bracket shrinks by 0.618 per step). The
    returned value is the smaller of the refined value and the best grid value, so it
    is never worse than the grid and is exact at the ends.

    Exactness: the result is the global minimum to float precision whenever the grid
    resolves the function's competing local minima — i.e. no other local minimum lies
    within the grid's interpolation error (``≈ ½·max|f''|·h²``, ``h = (hi − lo)/(points
    − 1)``) of the global one; otherwise it is within that error of it.

    Args:
        fn: objective, points ``(B, N)`` → values ``(B, N)``.
        lo: lower ends, shape ``(B,)``.
        hi: upper ends, shape ``(B,)``, ``hi ≥ lo``.
        points: grid size (≥ 2).
        polish: golden-section steps.

    Returns:
        ``(value, argmin)``, each of shape ``(B,)``.
    """
    t = torch.linspace(0.0, 1.0, points, dtype=lo.dtype, device=lo.device)
    span = (hi - lo).unsqueeze(-1)
    x = lo.unsqueeze(-1) + span * t  # (B, N)
    vals = fn(x)
    best, idx = vals.min(dim=-1)
    a = x.gather(-1, (idx - 1).clamp(min=0).unsqueeze(-1)).squeeze(-1)
    b = x.gather(-1, (idx + 1).clamp(max=points - 1).unsqueeze(-1)).squeeze(-1)
    for _ in range(polish):
        c = b - _INV_GOLDEN * (b - a)
        d = a + _INV_GOLDEN * (b - a)
        fc = fn(c.unsqueeze(-1)).squeeze(-1)
        fd = fn(d.unsqueeze(-1)).squeeze(-1)
        left = fc <= fd  # a minimiser lies in [a, d]
        b = torch.where(left, d, b)
        a = torch.where(left, a, c)
    xr = 0.5 * (a + b)
    vr = fn(xr.unsqueeze(-1)).squeeze(-1)
    grid_x = x.gather(-1, idx.unsqueeze(-1)).squeeze(-1)
    better = vr < best
    return torch.where(better, vr, best), torch.where(better, xr, grid_x)
