"""Bilinear game ``V(θ, φ) = θᵀAφ`` (docs/algorithms.md §8 T1), free or box-constrained.

The simplest game on which gradient descent–ascent fails: the vector field is a pure
rotation. With ``A`` invertible the unique Nash equilibrium is ``(0, 0)`` (value 0),
with or without the box.

**Objective.** ``min_θ max_φ θᵀAφ`` with ``θ, φ ∈ ℝ^d``, or both in ``[−b, b]^d`` when
``box = b`` is set (projection = coordinate clamp). ``A = U diag(σ) Vᵀ`` with ``U, V``
Haar-random orthogonal (QR of Gaussian draws with the sign correction of Mezzadri, 2007)
and singular values spread geometrically from 1 down to ``1/κ``:
``σ_i = κ^{−i/(d−1)}``, ``i = 0, …, d−1`` (``σ = 1`` when ``d = 1``), so the condition
number of ``A`` is exactly κ = ``condition_number``.

**Parameter layout.** Generator ``"theta"`` ``(d,)``; discriminator ``"phi"`` ``(d,)``.

**Best responses and the duality gap** (exact; the value is linear in each seat, so
against a cloud of K particles only the cloud mean θ̄ or φ̄ matters):

* with a box: ``Φ(θ̄) = max_φ θ̄ᵀAφ = b‖Aᵀθ̄‖₁`` and ``Ψ(φ̄) = −b‖Aφ̄‖₁`` (vertices of the
  box); the gap is exact (``gap_estimator == "exact"``).
* without a box the gap is ``+∞`` away from the equilibrium, so the game reports the
  *restricted* gap (Nesterov, 2007) over the ball ``‖·‖ ≤ R`` (``R`` = ``radius``):
  ``Φ_R(θ̄) = R‖Aᵀθ̄‖₂`` and ``Ψ_R(φ̄) = −R‖Aφ̄‖₂``, labelled by ``gap_estimator ==
  "restricted to ‖·‖ ≤ R"``. The restricted gap ``R(‖Aᵀθ‖ + ‖Aφ‖)`` is ≥ 0 and zero only
  at the equilibrium, but the per-seat exploitabilities ``Φ_R − V`` and ``V − Ψ_R`` can
  be negative at points outside the ball.

**Proximal objective** (docs/algorithms.md §2.1, penalty ``(λ/2)‖φ̃ − φ‖²``):

* without a box ``V_prox^λ(θ, φ) = θᵀAφ + ‖Aᵀθ‖²/(2λ)`` (``φ̃* = φ + Aᵀθ/λ``) and
  ``min_θ V_prox^λ(θ, φ) = −(λ/2) φᵀAᵀ(AAᵀ)⁻¹Aφ = −(λ/2)‖φ‖²`` (``A`` is square and
  invertible by construction, so ``Aᵀ(AAᵀ)⁻¹A = I``; minimiser ``θ* = −λ(AAᵀ)⁻¹Aφ``).
  These are *not* restricted to the ball: with the restricted Φ_R the proximal gap
  ``R‖Aᵀθ‖ + (λ/2)‖φ‖²`` is ≥ 0 and zero only at 0, but it is not bounded by the
  restricted Nash gap.
* with a box the inner maximisation is separable, ``φ̃* = clamp(φ + Aᵀθ/λ, −b, b)``, so
  the proximal objective is exact; its minimum over θ in the box has no closed form and
  :meth:`Bilinear.proximal_value` returns ``None``.

**Equilibrium distance.** ``‖(θ, φ)‖``. For particle clouds the mixed equilibria are all
the pairs of mean-zero laws, and ``‖(θ̄, φ̄)‖`` is the Wasserstein-2 distance to that set
without a box (translate each cloud by its mean; Jensen gives the lower bound) and a
lower bound of it with a box.

**Expected dynamics** (docs/algorithms.md §8 T1; per singular value σ of A, step η):
simultaneous GDA multiplies the distance to 0 by ``√(1 + η²σ²) > 1`` per step
(geometric divergence); alternating GDA has determinant 1 and cycles for ``ησ < 2``;
extragradient contracts by ``√(1 − η²σ² + η⁴σ⁴) < 1`` (linear convergence), as do
optimistic GDA and the proximal point method, in ``O(κ² log 1/ε)`` iterations, where
``κ² = λ_max(AᵀA)/λ_min(AᵀA)`` for κ = ``condition_number`` (Mokhtari, Ozdaglar &
Pattathil, 2020). Conjugate-gradient
momentum (β ≥ 0) accelerates the divergence. In the box, the last iterate of projected
GDA sticks to the boundary while its ergodic average converges (``O(1/√T)``), and the
last iterate of SRFB converges.

**Stochastic oracle.** With ``gradient_noise = s > 0`` the oracle adds ``N(0, s² I)``
noise to every gradient query (the game's own methods stay exact);
``Bilinear.stochastic`` is then true.

Arguments: see the ``Args:`` section of :class:`Bilinear`.

Version history:
    v0: initial version.

References:
    * Daskalakis, Ilyas, Syrgkanis & Zeng, "Training GANs with optimism", ICLR 2018 —
      GDA cycles/diverges on bilinear games, optimism converges.
    * Mokhtari, Ozdaglar & Pattathil, "A unified analysis of extra-gradient and
      optimistic gradient methods for saddle point problems: proximal point approach",
      AISTATS 2020.
    * Nesterov, "Dual extrapolation and its applications to solving variational
      inequalities and related problems", Mathematical Programming 109, 2007 — the
      restricted merit function (restricted gap).
    * Gidel, Berard, Vignoud, Vincent & Lacoste-Julien, "A variational inequality
      perspective on generative adversarial networks", ICLR 2019.
    * Farnia & Ozdaglar, "Do GANs always have Nash equilibria?", ICML 2020 — the
      proximal objective.
    * Mezzadri, "How to generate random matrices from the classical compact groups",
      Notices of the AMS 54(5), 2007.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from gangames import checks
from gangames.concepts import Condition, Preset, Target
from gangames.errors import InvalidConfigError
from gangames.game import Capabilities, Game, ParamLayout
from gangames.games.quadratic import (
    _check_lambda,
    _coupling_stream,
    _random_orthogonal,
)
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["Bilinear"]


@dataclass(frozen=True, kw_only=True)
class Bilinear(Game):
    """Bilinear game ``θᵀAφ`` (T1): unique Nash equilibrium 0; GDA diverges, EG converges.

    Every field is keyword-only.

    Args:
        dimension: d, the size of θ and of φ (``A`` is d × d). (Named ``dimension``,
            not ``dim``, because :meth:`Game.dim` is the per-seat parameter count.)
        condition_number: κ ≥ 1, the condition number of ``A``; the singular values are
            ``κ^{−i/(d−1)}``, from 1 down to ``1/κ``.
        shared_coupling: if true, every instance (every seed) gets the same ``A``, drawn
            from a fixed key; otherwise each instance draws its own from its stream.
        box: if set to b > 0, both seats are constrained to ``[−b, b]^d`` (projection =
            clamp) and the duality gap is exact; if ``None`` both seats are free and the
            gap is restricted to the ball of radius ``radius``.
        gradient_noise: standard deviation of the Gaussian noise the oracle adds to
            every gradient query (0: exact gradients).
        init_scale: initial θ and φ are drawn from ``N(0, init_scale² I)`` without a box,
            uniformly from ``[−s, s]^d`` with ``s = min(init_scale, box)`` with one.
        radius: R > 0, radius of the ball of the restricted gap (used without a box).

    Example:
        >>> game = Bilinear(dimension=3, condition_number=10.0)
        >>> inst = game.sample_instance(Stream.from_seeds([7]), torch.float64)
        >>> round(float(torch.linalg.cond(inst["A"])[0]), 9)
        10.0
        >>> game.gap_estimator
        'restricted to ‖·‖ ≤ 1.0'
    """

    preset: ClassVar[Preset] = Preset(
        "nash_gap",
        Target((Condition("duality_gap", 1e-3),)),
        budget=1000,
        why=(
            "A gap of 1e-3 is about 1/2000 of the starting gap (~2): well past the "
            "plateau where GDA spirals out; tuned extragradient and optimistic GDA "
            "reach it in ~150–400 gradients (linear rate, docs/algorithms.md §8 T1), so 1000 leaves room."
        ),
    )

    dimension: int = 2
    condition_number: float = 1.0
    shared_coupling: bool = False
    box: float | None = None
    gradient_noise: float = 0.0  # type: ignore[misc]
    init_scale: float = 1.0
    radius: float = 1.0

    def __post_init__(self) -> None:
        checks.positive("dimension", self.dimension, integer=True)
        if (
            isinstance(self.condition_number, bool)
            or not isinstance(self.condition_number, (int, float))
            or not 1.0 <= self.condition_number < math.inf
        ):
            raise InvalidConfigError(
                f"condition_number must be finite and ≥ 1, got {self.condition_number!r}"
            )
        if self.box is not None:
            checks.positive("box", self.box)
        checks.positive("gradient_noise", self.gradient_noise, allow_zero=True)
        checks.positive("init_scale", self.init_scale, allow_zero=True)
        checks.positive("radius", self.radius)

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        """True when the oracle adds gradient noise."""
        return self.gradient_noise > 0

    @property
    def gap_estimator(self) -> str:  # type: ignore[override]
        """``"exact"`` with a box, ``"restricted to ‖·‖ ≤ R"`` without."""
        if self.box is not None:
            return "exact"
        return f"restricted to ‖·‖ ≤ {self.radius}"

    @property
    def capabilities(self) -> Capabilities:
        """Every closed form but the proximal value with a box; a box bounds both seats."""
        return Capabilities(
            best_responses=True,
            proximal=self.box is None,
            distance=True,
            cloud_distance=True,
            constrained=() if self.box is None else ("generator", "discriminator"),
        )

    def layouts(self) -> dict[Seat, ParamLayout]:
        return {
            "generator": ParamLayout.vector("theta", self.dimension),
            "discriminator": ParamLayout.vector("phi", self.dimension),
        }

    def singular_values(
        self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """``σ_i = κ^{−i/(d−1)}``, shape ``(d,)``, from 1 down to ``1/κ``."""
        d = self.dimension
        i = torch.arange(d, dtype=torch.float64, device=device)
        frac = i / (d - 1) if d > 1 else torch.zeros_like(i)
        return torch.exp(-math.log(self.condition_number) * frac).to(dtype)

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        """``{"A": U diag(σ) Vᵀ}``, shape ``(B, d, d)``; drawn in float64, cast to ``dtype``."""
        source = _coupling_stream(stream, self.shared_coupling, tag=1)
        if (
            self.shared_coupling
        ):  # one matrix for every row: draw it once, view it B times
            source = source.take(slice(0, 1))
        u = _random_orthogonal(source.fork(1), self.dimension)
        v = _random_orthogonal(source.fork(2), self.dimension)
        sigma = self.singular_values(device=stream.device)
        a = ((u * sigma) @ v.mT).to(dtype)
        return {"A": a.expand(stream.batch, -1, -1)}

    def _times(
        self, a: torch.Tensor, x: torch.Tensor, *, transpose: bool = False
    ) -> torch.Tensor:
        """``Ax`` (or ``Aᵀx``) row by row for ``x`` of shape ``(B, d)``.

        With a shared coupling every row of ``a`` is the same matrix, so one plain
        matrix product replaces B matrix-vector products (about 1.85x faster at
        B = 1024, d = 100 on 2 CPU cores).
        """
        if self.shared_coupling:
            m = a[0] if a.dim() == 3 else a
            return x @ (m if transpose else m.mT)
        return ((a.mT if transpose else a) @ x.unsqueeze(-1)).squeeze(-1)

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = instance["A"].dtype
        shape = (self.dimension,)
        draws = stream.fork(1), stream.fork(2)  # one sub-stream per seat
        if self.box is None:
            theta, phi = (self.init_scale * s.normal(shape, dtype=dtype) for s in draws)
            return theta, phi
        half = min(self.init_scale, self.box)
        theta, phi = (half * (2.0 * s.uniform(shape, dtype=dtype) - 1.0) for s in draws)
        return theta, phi

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        return (theta * self._times(instance["A"], phi)).sum(dim=-1)

    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Aφ, Aᵀθ)``."""
        a = instance["A"]
        return self._times(a, phi), self._times(a, theta, transpose=True)

    def value_and_gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(θᵀAφ, Aφ, Aᵀθ)`` from two matrix products (V reuses ``Aφ``)."""
        g_theta, g_phi = self.gradients(instance, theta, phi, data)
        return (theta * g_theta).sum(dim=-1), g_theta, g_phi

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        if self.box is None:
            return params
        return params.clamp(-self.box, self.box)

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor:
        """``b‖Aᵀθ̄‖₁`` / ``−b‖Aφ̄‖₁`` with a box, ``R‖Aᵀθ̄‖₂`` / ``−R‖Aφ̄‖₂`` without."""
        a = instance["A"]
        mean = cloud.mean(dim=-2)  # (B, d)
        if responder == "discriminator":
            return self._support(self._times(a, mean, transpose=True))
        return -self._support(self._times(a, mean))

    def _support(self, direction: torch.Tensor) -> torch.Tensor:
        """``max ⟨x, direction⟩`` over the feasible set: ``R‖·‖₂``, or ``b‖·‖₁`` (box)."""
        if self.box is None:
            return self.radius * direction.norm(dim=-1)
        return self.box * direction.abs().sum(dim=-1)

    def best_response_values(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        exact: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``(Ψ(φ), Φ(θ))`` from the gradients ``∇_θV = Aφ`` and ``∇_φV = Aᵀθ`` when given.

        The best responses only need ``Aφ`` and ``Aᵀθ``, which the observation pass has
        already computed: reusing them halves the matrix products of a round.
        """
        if exact is None:
            return super().best_response_values(instance, theta, phi)
        # own-loss gradients ∇_θV = Aφ and ∇_φ L_D = −Aᵀθ (the support ignores sign)
        _, a_phi, minus_at_theta = exact
        return -self._support(a_phi), self._support(minus_at_theta)

    def proximal_objective(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """``θᵀAφ + ‖Aᵀθ‖²/(2λ)``; with a box, at ``φ̃* = clamp(φ + Aᵀθ/λ, −b, b)``."""
        _check_lambda(lam)
        at_theta = self._times(instance["A"], theta, transpose=True)
        if self.box is None:
            return (at_theta * phi).sum(dim=-1) + at_theta.square().sum(dim=-1) / (
                2.0 * lam
            )
        best = (phi + at_theta / lam).clamp(-self.box, self.box)
        return (at_theta * best).sum(dim=-1) - 0.5 * lam * (best - phi).square().sum(
            dim=-1
        )

    def proximal_value(
        self, instance: Instance, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        """``−(λ/2)‖φ‖²`` without a box (A invertible); ``None`` with one."""
        _check_lambda(lam)
        if self.box is not None:
            return None
        return -0.5 * lam * phi.square().sum(dim=-1)

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor:
        """``‖(θ, φ)‖``, the distance to the unique Nash equilibrium 0."""
        return torch.cat([theta, phi], dim=-1).norm(dim=-1)

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor:
        """``‖(θ̄, φ̄)‖``: W₂ distance to the mean-zero laws (a lower bound with a box)."""
        means = torch.cat([theta_cloud.mean(dim=-2), phi_cloud.mean(dim=-2)], dim=-1)
        return means.norm(dim=-1)
