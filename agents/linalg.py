"""Batched matrix-free linear solvers for second-order game dynamics.

Stackelberg leaders and Follow-the-Ridge followers need ``A⁻¹b`` where ``A`` is a
Hessian block known only through Hessian-vector products (one oracle query each). The
solvers here take a ``matvec`` callable ``v (B, d) ↦ A v (B, d)`` and solve the B
systems of a batch in lockstep:

* :func:`conjugate_gradient_solve` — CG for symmetric positive-definite ``A + δI``
  (Hestenes & Stiefel, 1952), as ``torchopt.linalg.cg`` but batched over instances.
* :func:`normal_equations_solve` — CG on ``(A² + δI) w = A b`` for symmetric but
  *indefinite* ``A`` (the Follow-the-Ridge code of Wang, Zhang & Ba, 2020): ``A²`` is
  positive semi-definite whatever the signs of ``A``'s eigenvalues, and ``w → A⁻¹b`` as
  ``δ → 0`` when ``A`` is invertible.
* :func:`neumann_solve` — truncated Neumann series ``α Σ_k (I − αA)^k b`` for
  ``A ≻ 0``, ``α < 2/λ_max(A)`` (docs/algorithms.md §3.1, the cheap alternative).

Every solver runs a **fixed** number of iterations (no early exit: an exit test would
need ``bool(tensor)``, a host synchronisation, and would let one instance of the batch
decide for the others). Zero denominators (an instance that has already converged
exactly, or a zero right-hand side) are guarded with ``torch.where``, so such an
instance simply stops moving.

Costs, in ``matvec`` calls: CG ``iterations`` (+1 with ``x0``, for the initial
residual); normal equations ``2·iterations + 1`` (+2 with ``x0``); Neumann
``iterations``.

References:
    * Hestenes & Stiefel, "Methods of conjugate gradients for solving linear systems",
      J. Res. NBS 49(6), 1952.
    * Nocedal & Wright, *Numerical Optimization*, 2nd ed., Alg. 5.2 (CG).
    * Wang, Zhang & Ba, "On solving minimax optimization locally: a follow-the-ridge
      approach", ICLR 2020 — CG on the normal equations (public code,
      ``utils/misc.py``).
    * Fiez, Chasnov & Ratliff, "Implicit learning dynamics in Stackelberg games",
      ICML 2020 — CG with ``maxiter = 5`` for the leader's implicit gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from agents.transforms import Hyperparameter, positive_number
from gangames.errors import InvalidConfigError

__all__ = [
    "MatVec",
    "conjugate_gradient_solve",
    "neumann_solve",
    "normal_equations_solve",
    "safe_div",
]

MatVec = Callable[[torch.Tensor], torch.Tensor]
"""``v (B, d) ↦ A v (B, d)``, one matrix per instance of the batch."""


def _check_iterations(iterations: int) -> None:
    if isinstance(iterations, bool) or not isinstance(iterations, int):
        raise InvalidConfigError(f"iterations must be an int, got {iterations!r}")
    if iterations < 0:
        raise InvalidConfigError(f"iterations must be >= 0, got {iterations!r}")


def _check_damping(damping: Hyperparameter) -> bool:
    """Whether the damping term is there (a per-instance ``(B, 1)`` δ always is)."""
    positive_number("damping", damping, allow_zero=True)
    return isinstance(damping, torch.Tensor) or damping != 0


def _dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x * y).sum(dim=-1, keepdim=True)


def safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den`` where ``den ≠ 0``, else 0 (no host sync, no NaN)."""
    nonzero = den != 0
    return torch.where(nonzero, num / torch.where(nonzero, den, 1.0), 0.0)


def conjugate_gradient_solve(
    matvec: MatVec,
    b: torch.Tensor,
    x0: torch.Tensor | None = None,
    iterations: int = 5,
    damping: Hyperparameter = 0.0,
) -> torch.Tensor:
    """Solve ``(A + δI) x = b`` for B symmetric positive-definite systems by CG.

    Iteration (Nocedal & Wright, Alg. 5.2), per instance, with ``M = A + δI``::

        r₀ = b − M x₀,  p₀ = r₀
        α_k = r_kᵀr_k / p_kᵀM p_k
        x_{k+1} = x_k + α_k p_k,   r_{k+1} = r_k − α_k M p_k
        β_k = r_{k+1}ᵀr_{k+1} / r_kᵀr_k,   p_{k+1} = r_{k+1} + β_k p_k

    In exact arithmetic CG is exact after ``d`` iterations; fewer iterations give the
    best approximation in the Krylov space of ``b``.

    Args:
        matvec: ``v ↦ A v`` on ``(B, d)`` tensors.
        b: right-hand sides ``(B, d)``.
        x0: initial guess ``(B, d)`` (warm start); ``None`` starts at 0 and saves the
            matvec of the initial residual.
        iterations: fixed iteration count (no early exit).
        damping: ``δ ≥ 0`` added to the diagonal (Tikhonov regularisation), a float
            or one per instance, ``(B, 1)``.

    Returns:
        The approximate solution ``(B, d)``.

    Cost: ``iterations`` matvecs, plus one for the initial residual when ``x0`` is
    given.

    Example:
        >>> a = torch.tensor([[[4.0, 1.0], [1.0, 3.0]]])
        >>> x = conjugate_gradient_solve(
        ...     lambda v: (a @ v.unsqueeze(-1)).squeeze(-1), torch.tensor([[1.0, 2.0]]),
        ...     iterations=2)
        >>> torch.allclose(x, torch.tensor([[1 / 11, 7 / 11]]))
        True
    """
    _check_iterations(iterations)
    damped = _check_damping(damping)

    def op(v: torch.Tensor) -> torch.Tensor:
        return matvec(v) + damping * v if damped else matvec(v)

    if x0 is None:
        x = torch.zeros_like(b)
        r = b
    else:
        if x0.shape != b.shape:
            raise InvalidConfigError(
                f"x0 must have the shape of b {tuple(b.shape)}, got {tuple(x0.shape)}"
            )
        x = x0
        r = b - op(x0)
    p = r
    rr = _dot(r, r)
    for _ in range(iterations):
        mp = op(p)
        alpha = safe_div(rr, _dot(p, mp))
        x = x + alpha * p
        r = r - alpha * mp
        rr_new = _dot(r, r)
        p = r + safe_div(rr_new, rr) * p
        rr = rr_new
    return x


def normal_equations_solve(
    matvec: MatVec,
    b: torch.Tensor,
    x0: torch.Tensor | None = None,
    iterations: int = 5,
    damping: Hyperparameter = 0.0,
) -> torch.Tensor:
    """Solve ``(A² + δI) w = A b`` by CG: ``A⁻¹b`` for symmetric, possibly indefinite A.

    ``A²`` is positive semi-definite for any symmetric ``A``, so CG applies; with
    ``δ > 0`` the system is positive definite and ``w = A(A² + δI)⁻¹ b`` is the
    Tikhonov-damped inverse (each eigen-component ``b_i/a_i`` is shrunk by
    ``a_i²/(a_i² + δ)``). This is the inverse used by Follow-the-Ridge (Wang, Zhang &
    Ba, 2020, ``utils/misc.py``), robust where ``H_yy`` is indefinite away from a
    local maximum of the follower.

    Args:
        matvec: ``v ↦ A v`` (symmetric ``A``) on ``(B, d)`` tensors.
        b: right-hand sides ``(B, d)``.
        x0: optional warm start ``(B, d)``.
        iterations: CG iterations on the normal equations.
        damping: ``δ ≥ 0``, a float or one per instance, ``(B, 1)``.

    Returns:
        The approximate ``w`` ``(B, d)``.

    Cost: ``2·iterations + 1`` matvecs (two per ``A²p``, one for ``Ab``), plus two for
    the initial residual when ``x0`` is given.

    Example:
        >>> a = torch.tensor([[[2.0, 0.0], [0.0, -1.0]]])  # indefinite
        >>> w = normal_equations_solve(
        ...     lambda v: (a @ v.unsqueeze(-1)).squeeze(-1), torch.tensor([[2.0, 3.0]]),
        ...     iterations=2)
        >>> torch.allclose(w, torch.tensor([[1.0, -3.0]]))
        True
    """
    return conjugate_gradient_solve(
        lambda v: matvec(matvec(v)), matvec(b), x0, iterations, damping
    )


def neumann_solve(
    matvec: MatVec,
    b: torch.Tensor,
    iterations: int = 5,
    step: float = 0.1,
    damping: float = 0.0,
) -> torch.Tensor:
    """Approximate ``(A + δI)⁻¹ b`` by the truncated Neumann series.

    ``M⁻¹ = α Σ_{k≥0} (I − αM)^k`` for ``M = A + δI ≻ 0`` and ``0 < α < 2/λ_max(M)``;
    the sum is truncated after ``iterations + 1`` terms, evaluated by the recursion
    ``t₀ = b``, ``t_{k+1} = t_k − α M t_k``, result ``α Σ_k t_k``. The error contracts
    like ``max_i |1 − α m_i|^{iterations+1}`` (docs/algorithms.md §3.1, Neumann alternative).

    Args:
        matvec: ``v ↦ A v`` on ``(B, d)`` tensors.
        b: right-hand sides ``(B, d)``.
        iterations: matvecs (terms of the series beyond the first).
        step: ``α``.
        damping: ``δ ≥ 0``.

    Returns:
        The approximate solution ``(B, d)``.

    Cost: ``iterations`` matvecs.

    Example:
        >>> x = neumann_solve(lambda v: 2.0 * v, torch.ones(1, 3), iterations=30,
        ...                   step=0.25)
        >>> torch.allclose(x, torch.full((1, 3), 0.5))
        True
    """
    _check_iterations(iterations)
    _check_damping(damping)
    if not (isinstance(step, (int, float)) and step > 0):
        raise InvalidConfigError(f"step must be a positive number, got {step!r}")
    term = b
    total = b
    for _ in range(iterations):
        term = term - step * (matvec(term) + damping * term)
        total = total + term
    return step * total
