"""The sequential / Stackelberg family: implicit leader gradients, Follow-the-Ridge, unrolling.

Three ways to let one seat anticipate the other's response (docs/algorithms.md §3), all
played in the simultaneous env and all targeting local minimax / differential
Stackelberg points rather than local Nash points (§3.4):

* :func:`stackelberg` — the leader follows the total derivative of its loss along the
  follower's best-response curve, by the implicit function theorem (Fiez, Chasnov &
  Ratliff, 2020).
* :func:`follow_the_ridge` — the follower adds a correction that keeps it on the ridge
  ``y*(x)`` while the leader moves (Wang, Zhang & Ba, 2020).
* :func:`unrolled` — the generator differentiates through K simulated critic steps
  (Metz, Poole, Pfau & Sohl-Dickstein, 2017).

Each anticipation is a transform that queries the oracle and declares its cost
(:func:`total_derivative`, :func:`ridge_correction`, :func:`unrolled_gradient`); the
rules chain it with a step size, and other chains can reuse it
(:func:`adam_stackelberg_leader`).

Notation (seat-relative, as the oracle gives it): the anticipating seat ``x`` minimises
its own loss ``f₁``, the other seat ``y`` minimises its own loss ``f₂``. The oracle's
games are zero-sum (the generator's loss is ``V``, the discriminator's ``−V``), so
``f₂ = −f₁`` and the cross gradient the leader needs is ``∇_y f₁ = −∇_y f₂`` =
``−obs.opponent_gradient`` (free: it comes with the observed pass). Hessian blocks come
from :meth:`gangames.oracle.SeatOracle.hvp` (``∇_rows(∇_cols L · v)``, 2 grads each).

On T4 (``V = −3x² − y² + 4xy``, no Nash equilibrium, docs/algorithms.md §8) simultaneous GDA
diverges for every step size (double eigenvalue +2) while all three converge to the
minimax point ``(0, 0)``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from agents.linalg import conjugate_gradient_solve, normal_equations_solve
from agents.transforms import (
    Hyperparameter,
    positive_number,
    scale,
    scale_by_adam,
    seat_steps,
)
from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.oracle import SeatOracle
from gangames.random import Stream
from gangames.rules import (
    Observation,
    Solver,
    Transform,
    UpdateRule,
    constant_cost,
    rule_from,
    stateless,
)
from gangames.types import SEATS

__all__ = [
    "StackelbergState",
    "adam_stackelberg_leader",
    "follow_the_ridge",
    "follow_the_ridge_rule",
    "ridge_correction",
    "stackelberg",
    "stackelberg_leader",
    "total_derivative",
    "unrolled",
    "unrolled_gradient",
    "unrolled_rule",
]


def _gradient_descent(lr: Hyperparameter, name: str) -> UpdateRule:
    """``Δ = −lr · ∇ own loss`` (the observed gradient; no extra cost)."""
    return rule_from(scale(-lr), name=name)


# ---- Stackelberg (Fiez, Chasnov & Ratliff 2020) ----------------------------------------


class StackelbergState(NamedTuple):
    """The last implicit solve, the CG warm start."""

    solution: torch.Tensor | None  # (B, d_follower) last w; None at first


def stackelberg_leader(
    lr: Hyperparameter,
    regularization: Hyperparameter = 1.0,
    cg_iterations: int = 5,
    warm_start: bool = True,
) -> UpdateRule:
    """The Stackelberg leader's rule: descent along the implicit total derivative.

    Update (Fiez, Chasnov & Ratliff 2020, eq. for the leader; docs/algorithms.md §3.1)::

        w  = (∇²_{yy} f₂ + λ_reg I)⁻¹ ∇_y f₁          (CG, warm-started at the last w)
        x⁺ = x − η [ ∇_x f₁ − (∇²_{yx} f₂)ᵀ w ]

    with ``f₁`` the leader's own loss, ``f₂`` the follower's, ``∇_y f₁ =
    −obs.opponent_gradient`` (zero-sum), ``∇²_{yy} f₂ v`` =
    ``hvp(loss="opponent", rows="opponent", cols="opponent")`` and ``(∇²_{yx} f₂)ᵀ w``
    = ``∂²f₂/∂x∂y · w`` = ``hvp(loss="opponent", rows="own", cols="opponent")``. In
    zero-sum form this is ``∇_θV − H_θφ(H_φφ − λ_reg I)⁻¹∇_φV``. ``λ_reg = 0`` gives the
    exact total derivative ``dV(x, y*(x))/dx`` at the follower's best response.
    Built as ``rule_from(total_derivative(λ_reg, …), scale(−η))``.

    Args:
        lr: leader step size η.
        regularization: ``λ_reg ≥ 0`` added to the follower Hessian (Fiez's code: 1.0
            "big" or 0.5); keeps the CG system positive definite near (not only at) a
            strict local minimum of the follower.
        cg_iterations: fixed CG iteration count (Fiez's fast mode: 5).
        warm_start: start CG at the previous ``w`` (Fiez's code does).

    Oracle cost per step (beyond the observed gradient): ``cg_iterations + 1`` HVPs
    (CG matvecs and the mixed product), plus one HVP for the initial CG residual when
    ``warm_start`` — each HVP 2 gradient-equivalents.

    Example:
        >>> stackelberg_leader(0.1, cg_iterations=5).cost(0)  # 7 HVPs
        14.0

    References:
        Fiez, Chasnov & Ratliff, ICML 2020 (see :func:`stackelberg`).
    """
    positive_number("lr", lr)
    return rule_from(
        total_derivative(regularization, cg_iterations, warm_start),
        scale(-lr),
        name="stackelberg_leader",
    )


def total_derivative(
    regularization: Hyperparameter = 1.0,
    cg_iterations: int = 5,
    warm_start: bool = True,
) -> Transform:
    """Replace the own-loss gradient by the leader's implicit total derivative.

    ``g ↦ g − (∇²_{yx} f₂)ᵀ w`` with ``w = (∇²_{yy} f₂ + λ_reg I)⁻¹ ∇_y f₁`` solved by
    CG (see :func:`stackelberg_leader` for the oracle calls). A following
    ``scale(−η)`` makes Fiez et al.'s plain leader step; ``scale_by_adam()`` before it
    makes the Adam leader of their GAN experiments (:func:`adam_stackelberg_leader`).
    The state is the last ``w``, the CG warm start.

    Cost per step: ``2·(cg_iterations + 1 + warm_start)`` gradient-equivalents.
    """
    positive_number("regularization", regularization, allow_zero=True)
    checks.number("cg_iterations", cg_iterations, low=1, integer=True)
    hvps = cg_iterations + 1 + (1 if warm_start else 0)

    def init(params: torch.Tensor, stream: Stream) -> StackelbergState:
        return StackelbergState(None)

    def update(
        updates: torch.Tensor,
        state: StackelbergState,
        obs: Observation,
        oracle: SeatOracle,
    ) -> tuple[torch.Tensor, StackelbergState]:
        own, opp = obs.own, obs.opponent
        cross = -obs.opponent_gradient  # ∇_y f₁ = −∇_y f₂ (zero-sum)

        def follower_hessian(v: torch.Tensor) -> torch.Tensor:
            return oracle.hvp(
                own, opp, v, loss="opponent", rows="opponent", cols="opponent"
            )

        x0 = None
        if warm_start:
            x0 = torch.zeros_like(cross) if state.solution is None else state.solution
        w = conjugate_gradient_solve(
            follower_hessian, cross, x0, cg_iterations, regularization
        )
        mixed = oracle.hvp(own, opp, w, loss="opponent", rows="own", cols="opponent")
        return updates - mixed, StackelbergState(w)

    return Transform(init, update, constant_cost(2.0 * hvps))


def adam_stackelberg_leader(
    lr: Hyperparameter = 2e-4,
    b1: float = 0.5,
    b2: float = 0.999,
    eps: float = 1e-8,
    regularization: Hyperparameter = 1.0,
    cg_iterations: int = 5,
    warm_start: bool = True,
) -> UpdateRule:
    """A Stackelberg leader that runs Adam on its implicit total derivative.

    ``rule_from(total_derivative(λ_reg, …), scale_by_adam(b1, b2, eps), scale(−η))``:
    the leader of Fiez, Chasnov & Ratliff's GAN experiments (Adam, steps 1e-4 to 4e-4
    in their mixture-of-Gaussians code; the β defaults here are
    :func:`~agents.transforms.scale_by_adam`'s). Same oracle cost as
    :func:`stackelberg_leader`.

    Example:
        >>> import agents, gangames
        >>> leader = adam_stackelberg_leader(lr=0.02)
        >>> leader.cost(0)  # 7 HVPs, as the plain leader
        14.0
        >>> solver = stackelberg(lr_follower=0.2)._replace(generator=leader)
        >>> env = gangames.make("gangames/NoNashQuadratic-v0", max_steps=400)
        >>> infos = agents.play(env, solver, seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3)
        True

    References:
        Fiez, Chasnov & Ratliff, ICML 2020 (see :func:`stackelberg`).
    """
    positive_number("lr", lr)
    return rule_from(
        total_derivative(regularization, cg_iterations, warm_start),
        scale_by_adam(b1, b2, eps),
        scale(-lr),
        name="adam_stackelberg_leader",
    )


def stackelberg(
    lr_leader: Hyperparameter | None = None,
    lr_follower: Hyperparameter | None = None,
    regularization: Hyperparameter = 1.0,
    cg_iterations: int = 5,
    warm_start: bool = True,
    leader: str = "generator",
    lr: Hyperparameter = 0.05,
) -> Solver:
    """Stackelberg gradient dynamics: an implicit-gradient leader, a gradient follower.

    Update (Fiez, Chasnov & Ratliff 2020; docs/algorithms.md §3.1), leader ``x``, follower
    ``y``, both minimising their own losses ``f₁``, ``f₂``::

        x⁺ = x − η_x [ ∇_x f₁ − (∇²_{yx} f₂)ᵀ (∇²_{yy} f₂ + λ_reg I)⁻¹ ∇_y f₁ ]
        y⁺ = y − η_y ∇_y f₂

    played simultaneously. See :func:`stackelberg_leader` for the oracle calls.

    Args:
        lr_leader: η_x (default ``lr``; Fiez's MoG code: 1e-4 to 4e-4 with Adam;
            plain steps here).
        lr_follower: η_y (default ``lr``).
        regularization: λ_reg (Fiez's default 1.0).
        cg_iterations: CG iterations (Fiez's fast mode: 5).
        warm_start: warm-start CG at the previous solution.
        leader: ``"generator"`` (minimax, the usual GAN reading) or
            ``"discriminator"`` (maximin).
        lr: both steps, where ``lr_leader`` or ``lr_follower`` is not given (the
            name every rule accepts).

    Oracle cost per step: follower 0 extra; leader ``2·(cg_iterations + 1 +
    warm_start)`` gradient-equivalents (default 14: 7 HVPs), cf. docs/algorithms.md §10.

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/NoNashQuadratic-v0", max_steps=200)
        >>> infos = agents.play(env, stackelberg(lr_leader=0.2, lr_follower=0.2),
        ...                     seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3)
        True

    References:
        * Fiez, Chasnov & Ratliff, "Implicit learning dynamics in Stackelberg games:
          equilibria characterization, convergence analysis, and empirical study",
          ICML 2020; code github.com/fiezt/ICML-2020-Implicit-Stackelberg-Learning
          (``GAN-code/LeaderUpdateTools.py``).
    """
    if leader not in SEATS:
        raise InvalidConfigError(f"leader must be one of {SEATS}, got {leader!r}")
    positive_number("lr", lr)
    lr_leader = lr if lr_leader is None else lr_leader
    lr_follower = lr if lr_follower is None else lr_follower
    positive_number("lr_follower", lr_follower)
    lead = stackelberg_leader(lr_leader, regularization, cg_iterations, warm_start)
    follow = _gradient_descent(lr_follower, "stackelberg_follower")
    gen, dis = (lead, follow) if leader == "generator" else (follow, lead)
    return Solver(gen, dis, "stackelberg")


# ---- Follow-the-Ridge (Wang, Zhang & Ba 2020) ------------------------------------------


def follow_the_ridge_rule(
    lr: Hyperparameter,
    lr_leader: Hyperparameter,
    cg_iterations: int = 5,
    damping: Hyperparameter = 0.1,
) -> UpdateRule:
    """The Follow-the-Ridge follower: a gradient step plus the ridge correction.

    Update of the follower ``y`` (own loss ``g``) while the leader ``x`` (own loss
    ``f``) steps ``Δx = −η_x ∇_x f``::

        w  = H_yy(g)⁻¹ H_yx(g) ∇_x f        (normal equations: (H² + δI)w = H e)
        y⁺ = y − η_y ∇_y g + η_x w

    ``e = H_yx(g)∇_x f`` is one mixed HVP, ``hvp(loss="own", rows="own",
    cols="opponent")`` with ``∇_x f = obs.opponent_gradient``; ``H_yy(g)v`` is
    ``hvp(loss="own", rows="own", cols="own")``. See :func:`follow_the_ridge` for the
    sign algebra.

    Args:
        lr: the follower's step η_y.
        lr_leader: the leader's step η_x (the correction anticipates its move).
        cg_iterations: CG iterations on the normal equations (public code: 5).
        damping: δ of the normal equations (public code: adaptive, at most 1.0).

    Oracle cost per step: ``2·cg_iterations + 2`` HVPs (``4·cg_iterations + 4``
    gradient-equivalents).

    Example:
        >>> follow_the_ridge_rule(0.1, 0.1, cg_iterations=5).cost(0)
        24.0

    References:
        Wang, Zhang & Ba, ICLR 2020 (see :func:`follow_the_ridge`).
    """
    positive_number("lr", lr)
    return rule_from(
        scale(-lr),
        ridge_correction(lr_leader, cg_iterations, damping),
        name="follow_the_ridge",
    )


def ridge_correction(
    lr_leader: Hyperparameter, cg_iterations: int = 5, damping: Hyperparameter = 0.1
) -> Transform:
    """Add the follower's move along its ridge: ``u ↦ u + η_x H_yy(g)⁻¹H_yx(g)∇_x f``.

    Solved on the normal equations ``(H² + δI)w = H e`` (see
    :func:`follow_the_ridge_rule`). Cost per step: ``4·cg_iterations + 4``
    gradient-equivalents.
    """
    positive_number("lr_leader", lr_leader)
    checks.number("cg_iterations", cg_iterations, low=1, integer=True)
    positive_number("damping", damping, allow_zero=True)
    hvps = 2 * cg_iterations + 2

    def update(
        updates: torch.Tensor, state: tuple, obs: Observation, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        own, opp = obs.own, obs.opponent
        e = oracle.hvp(
            own, opp, obs.opponent_gradient, loss="own", rows="own", cols="opponent"
        )

        def own_hessian(v: torch.Tensor) -> torch.Tensor:
            return oracle.hvp(own, opp, v, loss="own", rows="own", cols="own")

        w = normal_equations_solve(own_hessian, e, None, cg_iterations, damping)
        return updates + lr_leader * w, state

    return Transform(stateless, update, constant_cost(2.0 * hvps))


def follow_the_ridge(
    lr_generator: Hyperparameter | None = None,
    lr_discriminator: Hyperparameter | None = None,
    cg_iterations: int = 5,
    damping: Hyperparameter = 0.1,
    lr: Hyperparameter = 0.05,
) -> Solver:
    """Follow-the-Ridge: gradient descent for the generator, ridge-following critic.

    Update (Wang, Zhang & Ba 2020; docs/algorithms.md §3.2) for ``min_x max_y f``::

        x⁺ = x − η_x ∇_x f
        y⁺ = y + η_y ∇_y f + η_x H_yy⁻¹ H_yx ∇_x f

    Sign algebra in the follower's own-loss terms ``g = −f`` (what its oracle gives):
    ``∇_y f = −∇_y g``, ``H_yy(f) = −H_yy(g)``, ``H_yx(f) = −H_yx(g)``, so the two signs
    cancel in ``H_yy(f)⁻¹H_yx(f) = H_yy(g)⁻¹H_yx(g)`` and
    ``y⁺ = y − η_y ∇_y g + η_x H_yy(g)⁻¹H_yx(g)∇_x f``, with ``∇_x f`` the generator's
    own-loss gradient (the follower's ``obs.opponent_gradient``). This is
    ``y⁺ = y − η_y∇_y g + (dy*/dx)·Δx`` with ``dy*/dx = −H_yy(g)⁻¹H_yx(g)`` (implicit
    function theorem on ``∇_y g(x, y*(x)) = 0``) and ``Δx = −η_x∇_x f``: the follower
    moves along its ridge as the leader moves.

    Departures from the public code (github.com/gd-zhang/Follow-the-Ridge,
    ``follow_ridge_2D.py``), each deliberate:
        * ``H_yx∇_x f`` is an exact mixed HVP, not a finite difference of two
          discriminator gradients;
        * no RMSProp preconditioning of either gradient (plain steps; compose with
          Adam outside if wanted);
        * fixed damping δ instead of the trust-region-adapted one (δ₀ = 1.0 there);
        * the discriminator gradient is taken at the current point, not at the
          extrapolated ``y + η_x w``; no weight decay on the discriminator.

    Args:
        lr_generator: η_x (default ``lr``).
        lr_discriminator: η_y (default ``lr``).
        cg_iterations: CG iterations on the normal equations (public code: 5).
        damping: δ (shrinks each eigen-component of the inverse by ``h²/(h² + δ)``).
        lr: both steps, where a seat's own one is not given (the name every rule
            accepts).

    Oracle cost per step: generator 0 extra; discriminator ``2·cg_iterations + 2``
    HVPs, i.e. ``4·cg_iterations + 4`` gradient-equivalents (default 24).

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/NoNashQuadratic-v0", max_steps=200)
        >>> infos = agents.play(env, follow_the_ridge(0.05, 0.05), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3)
        True

    References:
        * Wang, Zhang & Ba, "On solving minimax optimization locally: a
          follow-the-ridge approach", ICLR 2020.
    """
    steps = seat_steps(lr, lr_generator, lr_discriminator)
    follower = follow_the_ridge_rule(
        steps.discriminator, steps.generator, cg_iterations, damping
    )
    return Solver(
        _gradient_descent(steps.generator, "ftr_leader"), follower, "follow_the_ridge"
    )


# ---- Unrolled GAN (Metz et al. 2017) ---------------------------------------------------


def unrolled_rule(
    lr: Hyperparameter,
    unroll_steps: int = 5,
    unroll_lr: Hyperparameter | None = None,
    second_order: bool = True,
) -> UpdateRule:
    """Descent on the unrolled surrogate ``f_K(x, y) = f(x, y^K(x, y))``.

    Unroll (``g`` the opponent's own loss, ``y⁰ = y``)::

        y^{k+1} = y^k − η_u ∇_y g(x, y^k),   k < K
        x⁺ = x − η d f_K/dx

    Reverse accumulation of ``d f_K/dx`` (second order): ``a_K = ∇_y f(x, y^K)``,
    ``d = ∇_x f(x, y^K)``, then for ``k = K−1, …, 0``::

        d  ← d − η_u ∇²_{xy} g(x, y^k) a_{k+1}        (∂y^{k+1}/∂x = −η_u ∇²_{yx} g)
        a_k = a_{k+1} − η_u ∇²_{yy} g(x, y^k) a_{k+1}  (∂y^{k+1}/∂y^k = I − η_u ∇²_{yy} g)

    Both blocks at ``y^k`` come from one double-backward pass
    (:meth:`~gangames.oracle.SeatOracle.hvp_both`); at ``k = 0`` only the mixed block
    is needed (``y⁰`` does not depend on ``x``). ``∇_y f = −∇_y g`` (zero-sum). The
    first-order variant keeps only ``d = ∇_x f(x, y^K)``.

    The unrolled iterates are not projected onto the opponent's feasible set (the
    projection's Jacobian is not smooth; Metz et al. unroll unconstrained critics).

    Args:
        lr: step η.
        unroll_steps: K ≥ 0 (K = 0 is plain gradient descent).
        unroll_lr: η_u (default: ``lr``, the critic's own step).
        second_order: differentiate through the unrolled steps (else first order).

    Oracle cost per step (gradient-equivalents beyond the observed gradient), K ≥ 1:
        * second order: ``(K − 1)`` unroll grads (the first step uses the observed
          opponent gradient) + 2 grads at ``y^K`` + K HVPs = ``3K + 1``;
        * first order: ``(K − 1) + 1 = K``;
        * K = 0: 0.

    Example:
        >>> unrolled_rule(0.1, unroll_steps=5).cost(0), unrolled_rule(
        ...     0.1, unroll_steps=5, second_order=False).cost(0)
        (16.0, 5.0)

    References:
        Metz, Poole, Pfau & Sohl-Dickstein, ICLR 2017 (see :func:`unrolled`).
    """
    positive_number("lr", lr)
    name = "unrolled" if second_order else "unrolled_first_order"
    return rule_from(
        unrolled_gradient(
            unroll_steps, lr if unroll_lr is None else unroll_lr, second_order
        ),
        scale(-lr),
        name=name,
    )


def unrolled_gradient(
    unroll_steps: int, unroll_lr: Hyperparameter, second_order: bool = True
) -> Transform:
    """Replace the own-loss gradient by ``d f_K/dx``, the unrolled surrogate's gradient.

    See :func:`unrolled_rule` for the unroll, the reverse accumulation and the cost
    (``3K + 1``, ``K`` first order, 0 for ``K = 0``, where the gradient passes through).
    """
    checks.number("unroll_steps", unroll_steps, low=0, integer=True)
    eta_u = unroll_lr
    positive_number("unroll_lr", eta_u)
    k_steps = unroll_steps
    if k_steps == 0:
        cost = 0.0
    elif second_order:
        cost = 3.0 * k_steps + 1.0
    else:
        cost = float(k_steps)

    def update(
        updates: torch.Tensor, state: tuple, obs: Observation, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        if k_steps == 0:
            return updates, state
        own = obs.own
        path = [obs.opponent]  # y⁰ … y^K
        step_grad = obs.opponent_gradient
        for k in range(k_steps):
            if k > 0:
                step_grad = oracle.opponent_grad(own, path[-1])
            path.append(path[-1] - eta_u * step_grad)
        direction = oracle.grad(own, path[-1])
        if second_order:
            adjoint = -oracle.opponent_grad(own, path[-1])  # ∇_y f = −∇_y g
            for k in range(k_steps - 1, 0, -1):
                mixed, follower = oracle.hvp_both(
                    own, path[k], adjoint, loss="opponent", cols="opponent"
                )
                direction = direction - eta_u * mixed
                adjoint = adjoint - eta_u * follower
            mixed = oracle.hvp(
                own, path[0], adjoint, loss="opponent", rows="own", cols="opponent"
            )
            direction = direction - eta_u * mixed
        return direction, state

    return Transform(stateless, update, constant_cost(cost))


def unrolled(
    lr: Hyperparameter = 0.05,
    unroll_steps: int = 5,
    unroll_lr: Hyperparameter | None = None,
    second_order: bool = True,
) -> Solver:
    """Unrolled GAN: the generator descends through K simulated critic steps.

    Update (Metz et al. 2017; docs/algorithms.md §3.3)::

        φ^{k+1} = φ^k + η_u ∇_φV(θ, φ^k),  φ⁰ = φ,  k < K
        θ⁺ = θ − η d V(θ, φ^K(θ, φ))/dθ
        φ⁺ = φ + η ∇_φV(θ, φ)              (the real critic takes one plain step)

    See :func:`unrolled_rule` for the reverse accumulation by HVPs.

    Args:
        lr: η of both seats.
        unroll_steps: K (5 in the authors' reference implementation, per VEEGAN).
        unroll_lr: η_u of the simulated critic steps (default ``lr``).
        second_order: back-propagate through the unrolled steps; ``False`` is the
            cheap first-order variant ``∇_θV(θ, φ^K)``.

    Oracle cost per step: critic 0 extra; generator ``3K + 1``
    gradient-equivalents with second order (default 16: K − 1 + 2 grads, K HVPs),
    ``K`` first order. docs/algorithms.md §10's "≈ 2K + 2 grads" counts an HVP as one
    gradient; here an HVP is charged 2.

    Example:
        >>> import agents, gangames
        >>> env = gangames.make("gangames/NoNashQuadratic-v0", max_steps=200)
        >>> infos = agents.play(env, unrolled(lr=0.1, unroll_steps=5), seed=0)
        >>> bool(infos[-1]["distance"] < 1e-3)
        True

    References:
        * Metz, Poole, Pfau & Sohl-Dickstein, "Unrolled generative adversarial
          networks", ICLR 2017.
    """
    return Solver(
        unrolled_rule(lr, unroll_steps, unroll_lr, second_order),
        _gradient_descent(lr, "unrolled_critic"),
        "unrolled",
    )
