"""Batched CG, CG on the normal equations and the Neumann series vs dense solves."""

from __future__ import annotations

import pytest
import torch

from agents.linalg import (
    conjugate_gradient_solve,
    neumann_solve,
    normal_equations_solve,
)
from gangames.errors import InvalidConfigError
from gangames.testing import _NoHostSync

B, D = 5, 6


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _symmetric(eigenvalues: torch.Tensor, seed: int) -> torch.Tensor:
    """``U diag(eigenvalues) Uᵀ`` with random orthogonal U, batched ``(B, D, D)``."""
    g = _gen(seed)
    q, _ = torch.linalg.qr(torch.randn(B, D, D, dtype=torch.float64, generator=g))
    return q @ torch.diag_embed(eigenvalues) @ q.mT


def _spd(seed: int, low: float = 0.5, high: float = 5.0) -> torch.Tensor:
    g = _gen(seed + 100)
    eig = low + (high - low) * torch.rand(B, D, dtype=torch.float64, generator=g)
    return _symmetric(eig, seed)


class _Counted:
    """``v ↦ A v`` counting its calls."""

    def __init__(self, a: torch.Tensor) -> None:
        self.a = a
        self.calls = 0

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return (self.a @ v.unsqueeze(-1)).squeeze(-1)


def _rhs(seed: int) -> torch.Tensor:
    return torch.randn(B, D, dtype=torch.float64, generator=_gen(seed + 7))


def _solve(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.linalg.solve(a, b.unsqueeze(-1)).squeeze(-1)


@pytest.mark.parametrize("damping", [0.0, 0.3])
def test_cg_matches_dense_solve_on_random_spd_batches(damping):
    for seed in range(3):
        a, b = _spd(seed), _rhs(seed)
        matvec = _Counted(a)
        x = conjugate_gradient_solve(matvec, b, iterations=D, damping=damping)
        eye = torch.eye(D, dtype=torch.float64)
        torch.testing.assert_close(
            x, _solve(a + damping * eye, b), rtol=1e-8, atol=1e-10
        )
        assert matvec.calls == D  # fixed count, no residual matvec without x0


def test_cg_warm_start_costs_one_more_matvec_and_starts_at_x0():
    a, b = _spd(4), _rhs(4)
    exact = _solve(a, b)
    matvec = _Counted(a)
    x = conjugate_gradient_solve(matvec, b, x0=exact, iterations=3)
    assert matvec.calls == 4
    torch.testing.assert_close(x, exact, rtol=1e-10, atol=1e-12)
    # few iterations from 0 are inexact, from a good warm start better
    far = conjugate_gradient_solve(_Counted(a), b, iterations=2)
    near = conjugate_gradient_solve(_Counted(a), b, x0=exact + 1e-3, iterations=2)
    assert (near - exact).norm() < (far - exact).norm()


def test_cg_rows_are_independent_and_zero_rhs_gives_zero_without_nan():
    a, b = _spd(5), _rhs(5)
    b[2] = 0.0  # converged from the start: every denominator of row 2 is 0
    with _NoHostSync():  # batched and free of host synchronisation
        x = conjugate_gradient_solve(_Counted(a), b, iterations=2 * D)
    assert torch.isfinite(x).all()
    assert torch.equal(x[2], torch.zeros(D, dtype=torch.float64))
    for row in (0, 3):
        single = conjugate_gradient_solve(
            _Counted(a[row : row + 1]), b[row : row + 1], iterations=2 * D
        )
        torch.testing.assert_close(x[row : row + 1], single, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(x[1], _solve(a, b)[1], rtol=1e-8, atol=1e-10)


def test_normal_equations_invert_indefinite_matrices():
    g = _gen(11)
    magnitude = 0.5 + 2.0 * torch.rand(B, D, dtype=torch.float64, generator=g)
    sign = torch.where(torch.rand(B, D, generator=g) < 0.5, -1.0, 1.0)
    eig = (magnitude * sign).to(torch.float64)
    a, b = _symmetric(eig, 11), _rhs(11)
    matvec = _Counted(a)
    w = normal_equations_solve(matvec, b, iterations=D)
    assert matvec.calls == 2 * D + 1
    torch.testing.assert_close(w, _solve(a, b), rtol=1e-7, atol=1e-9)
    delta = 0.4
    w = normal_equations_solve(_Counted(a), b, iterations=D, damping=delta)
    eye = torch.eye(D, dtype=torch.float64)
    expect = (a @ torch.linalg.solve(a @ a + delta * eye, b.unsqueeze(-1))).squeeze(-1)
    torch.testing.assert_close(w, expect, rtol=1e-7, atol=1e-9)


def test_neumann_series_is_the_truncated_sum_and_converges():
    a, b = _spd(6, low=1.0, high=2.0), _rhs(6)
    step, k = 0.5, 4
    eye = torch.eye(D, dtype=torch.float64)
    c = eye - step * a
    expect = sum(torch.linalg.matrix_power(c, j) for j in range(k + 1))
    expect = step * (expect @ b.unsqueeze(-1)).squeeze(-1)
    matvec = _Counted(a)
    x = neumann_solve(matvec, b, iterations=k, step=step)
    assert matvec.calls == k
    torch.testing.assert_close(x, expect, rtol=1e-10, atol=1e-12)
    # contraction ≤ 0.5 per term: 60 terms reach the solve
    x = neumann_solve(_Counted(a), b, iterations=60, step=step, damping=0.1)
    torch.testing.assert_close(x, _solve(a + 0.1 * eye, b), rtol=1e-8, atol=1e-10)


def test_bad_arguments_are_refused():
    a, b = _spd(0), _rhs(0)
    with pytest.raises(InvalidConfigError, match="iterations"):
        conjugate_gradient_solve(_Counted(a), b, iterations=-1)
    with pytest.raises(InvalidConfigError, match="damping"):
        normal_equations_solve(_Counted(a), b, damping=-1.0)
    with pytest.raises(InvalidConfigError, match="x0"):
        conjugate_gradient_solve(_Counted(a), b, x0=b[:, :2])
    with pytest.raises(InvalidConfigError, match="step"):
        neumann_solve(_Counted(a), b, step=0.0)
    assert issubclass(InvalidConfigError, ValueError)
