"""Covariance estimation: a linear generator against a quadratic critic (WGAN, T7).

The WGAN covariance-learning example of Daskalakis et al. (2018), as run by Fiez,
Chasnov & Ratliff (ICML 2020) to compare Stackelberg and simultaneous learning
(docs/algorithms.md §8, T7). The data are ``x ~ N(0, S)``; the generator ``G_V(z) = Vz``,
``z ~ N(0, I)``, produces ``N(0, VVᵀ)``; the critic ``D_W(x) = xᵀWx`` sees the second
moments, so ``E D_W(x) − E D_W(G_V(z)) = ⟨W, S − VVᵀ⟩`` (``⟨·,·⟩`` the Frobenius inner
product).

Objective (generator V minimises, critic W maximises)::

    V(V, W) = ⟨W, S − VVᵀ⟩ − (ridge/2)‖W‖_F²

Mapping to the reference code: the Fiez et al. notebook minimises the follower cost
``−f(V, W) + (c/2)·tr(WᵀW)`` with ``f = ⟨W, S − VVᵀ⟩``; that is ``−V`` with
``ridge = c``. (docs/algorithms.md quotes the follower cost as ``−f + 2λ·tr(WᵀW)``, i.e.
``ridge = 4λ``; the notebook cell we read writes ``0.5·lam·tr(WᵀW)``, i.e.
``ridge = lam = 0.1`` for d = 3 — our default.)

The critic W is an unconstrained d × d matrix used as is. Only its symmetric part
``W_s = (W + Wᵀ)/2`` enters the payoff; the skew part feels only the ridge and decays
under gradient ascent. Analytic gradients: ``∇_V V = −(W + Wᵀ)V``,
``∇_W V = S − VVᵀ − ridge·W``.

Parameter layout:

=============  ==================  ================================================
seat           layout              feasible set
=============  ==================  ================================================
generator      ``V`` (d, d)        Frobenius ball ``‖V‖_F ≤ R`` (radial projection)
discriminator  ``W`` (d, d)        ℝ^{d×d} (no projection)
=============  ==================  ================================================

Why a ball on the generator: for fixed W, ``min_V ⟨W, S − VVᵀ⟩ = −∞`` as soon as
``W_s`` has a positive eigenvalue (V is a free matrix), so the unrestricted duality
gap is infinite almost everywhere. The generator's feasible set is therefore the
Frobenius ball of radius ``R`` (default ``2·√(d·eig_max)``, twice the largest possible
``‖S^{1/2}‖_F = √tr S``), enforced by :meth:`CovarianceGAN.project`; every gap below is
exact for this constrained game, and :attr:`CovarianceGAN.gap_estimator` says so
(``"restricted to ‖V‖_F ≤ R"``). The equilibrium lies strictly inside the ball, so the
constraint is inactive near it.

Instances: ``S = Q diag(e) Qᵀ`` with Q Haar-distributed orthogonal (QR of a Gaussian
matrix, signs fixed) and eigenvalues ``e_i ~ U[eig_min, eig_max]`` i.i.d. (Fiez et al.
use ``S = sqrtm(UUᵀ)``, U Gaussian, whose spectrum is not bounded away from 0; the
uniform spectrum keeps every instance well conditioned). Sampled in float64, then cast.

Closed forms (all exact):

* Critic best response ``W* = (S − VVᵀ)/ridge`` and ``Φ(V) = ‖S − VVᵀ‖_F²/(2·ridge)``;
  against a generator cloud, replace ``VVᵀ`` by the cloud mean ``E VVᵀ`` (V is affine
  in it).
* Generator best response on the ball against a critic cloud (mean W̄, affine)::

      Ψ = ⟨W̄, S⟩ − R²·max(λ_max(W̄_s), 0) − (ridge/2)·E‖W‖_F²

  since ``max_{‖V‖_F ≤ R} tr(Vᵀ W̄_s V) = R²·max(λ_max, 0)`` (batched ``eigvalsh``).
* Proximal objective (λ/2 convention, docs/algorithms.md §2.1), maximiser
  ``W̃ = (S − VVᵀ + λW)/(ridge + λ)``::

      V_prox^λ(V, W) = ‖S − VVᵀ + λW‖_F²/(2(ridge + λ)) − (λ/2)‖W‖_F²

* Proximal value ``min_{‖V‖_F ≤ R} V_prox^λ(V, W)``: with ``A = S + λW`` split into
  symmetric and skew parts, ``‖A − VVᵀ‖² = ‖A_skew‖² + ‖A_s − P‖²``, ``P = VVᵀ``, and
  ``{VVᵀ : ‖V‖_F ≤ R}`` is exactly ``{P ⪰ 0, tr P ≤ R²}`` (V is square). The minimum
  is the squared distance of ``A_s`` to that convex spectral set: project the
  eigenvalues of ``A_s`` onto ``{p ≥ 0, Σp ≤ R²}`` (sort-based; Duchi et al. 2008).

Equilibrium: ``VVᵀ = S`` (V determined up to a right orthogonal factor), ``W = 0``,
value 0; the Nash gap is 0 there. :meth:`CovarianceGAN.equilibrium_distance` is
``‖VVᵀ − S‖_F + ‖W‖_F`` (invariant to the orthogonal factor). Mixed equilibria
(:func:`~gangames.game.mixed`): any cloud with ``E VVᵀ = S`` against ``μ = δ₀`` (the
critic's best response is unique); :meth:`CovarianceGAN.cloud_equilibrium_distance` is
``‖E VVᵀ − S‖_F + √(E‖W‖_F²)``.

Expected dynamics (docs/algorithms.md T7): the generator Hessian is degenerate at the
equilibrium (the orthogonal symmetry), so it is not a strict Nash point, but it is a
differential Stackelberg point; Stackelberg (implicit-gradient) updates converge faster
than simultaneous gradient play [recalled claim of Fiez et al.].

Arguments:
    dimension: d, the data dimension (V and W are d × d). (Named ``dimension``, not
        ``dim``, because :meth:`Game.dim` is the per-seat parameter count.)
    ridge: critic ridge > 0 (coefficient of ``(ridge/2)‖W‖_F²``).
    init_scale: initial V and W have i.i.d. ``N(0, init_scale²/d)`` entries (so
        ``VVᵀ ≈ init_scale²·I``); V is then projected onto the ball.
    eig_min, eig_max: the spectrum of S is drawn uniformly from ``[eig_min, eig_max]``.
    radius: R, the generator's Frobenius radius; ``None`` means ``2·√(d·eig_max)``.
        Must satisfy ``R² ≥ d·eig_max`` so that every equilibrium is feasible.

Version history:
    v0: initial version.

References:
    C. Daskalakis, A. Ilyas, V. Syrgkanis, H. Zeng. "Training GANs with Optimism."
    ICLR 2018.
    T. Fiez, B. Chasnov, L. Ratliff. "Implicit Learning Dynamics in Stackelberg Games:
    Equilibria Characterization, Convergence Analysis, and Empirical Study." ICML 2020
    (code: github.com/fiezt/ICML-2020-Implicit-Stackelberg-Learning,
    covariance-estimation notebook).
    J. Duchi, S. Shalev-Shwartz, Y. Singer, T. Chandra. "Efficient Projections onto the
    l1-Ball for Learning in High Dimensions." ICML 2008.
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
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["CovarianceGAN"]


def _haar_orthogonal(stream: Stream, dim: int) -> torch.Tensor:
    """Haar-distributed orthogonal matrices, shape ``(B, dim, dim)``, float64.

    QR of a Gaussian matrix with the signs of R's diagonal moved into Q (Mezzadri,
    "How to generate random matrices from the classical compact groups", 2007).
    """
    g = stream.normal((dim, dim), dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    sign = torch.where(torch.diagonal(r, dim1=-2, dim2=-1) < 0, -1.0, 1.0)
    return q * sign.unsqueeze(-2)


def _sym(m: torch.Tensor) -> torch.Tensor:
    """Symmetric part ``(M + Mᵀ)/2`` of a batch of square matrices."""
    return 0.5 * (m + m.mT)


def _frob(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Frobenius inner product over the last two axes."""
    return (a * b).sum(dim=(-2, -1))


def _capped_spectral_residual(eigs: torch.Tensor, cap: float) -> torch.Tensor:
    """``min_{p ≥ 0, Σp ≤ cap} ‖eigs − p‖²`` along the last axis (exact, sort-based).

    The projection onto the capped simplex is ``p = max(eigs − τ, 0)`` with ``τ = 0`` if
    ``Σ max(eigs, 0) ≤ cap`` and otherwise the threshold of the Euclidean projection onto
    the simplex ``{p ≥ 0, Σp = cap}`` (Duchi et al. 2008), which is then positive.
    """
    n = eigs.shape[-1]
    u, _ = torch.sort(eigs, dim=-1, descending=True)
    css = torch.cumsum(u, dim=-1)
    k = torch.arange(1, n + 1, dtype=eigs.dtype, device=eigs.device)
    # The indices with u_j > (css_j − cap)/j form a prefix {1, …, ρ}; ρ ≥ 1 always.
    rho = (u - (css - cap) / k > 0).sum(dim=-1, keepdim=True).clamp(min=1)
    tau = (css.gather(-1, rho - 1) - cap) / rho.to(eigs.dtype)
    p = (eigs - tau.clamp(min=0)).clamp(min=0)
    return ((eigs - p) ** 2).sum(dim=-1)


@dataclass(frozen=True)
class CovarianceGAN(Game):
    """Covariance-estimation WGAN (T7): ``V = ⟨W, S − VVᵀ⟩ − (ridge/2)‖W‖_F²``.

    See the module docstring for the closed forms, the generator ball and the
    equilibria.

    Args:
        dimension: data dimension d.
        ridge: critic ridge > 0.
        init_scale: initial entries ~ ``N(0, init_scale²/d)``.
        eig_min: smallest possible eigenvalue of S (> 0).
        eig_max: largest possible eigenvalue of S (≥ eig_min).
        radius: generator Frobenius radius R (``None``: ``2·√(d·eig_max)``).

    Example:
        >>> from gangames.random import Stream
        >>> game = CovarianceGAN(dimension=2)
        >>> inst = game.sample_instance(Stream.from_seeds([0]), torch.float64)
        >>> root = torch.linalg.cholesky(inst["S"]).reshape(1, 4)  # VVᵀ = S
        >>> game.best_response_value(inst, "discriminator", root).abs().item() < 1e-12
        True
    """

    preset: ClassVar[Preset] = Preset(
        "nash_gap",
        Target((Condition("duality_gap", 1e-3),)),
        budget=2000,
        why=(
            "Equilibrium VVᵀ = S, W = 0 (docs/algorithms.md §8 T7); its generator Hessian is degenerate, "
            "so convergence is slower than on the quadratic: 1e-3 within 2000."
        ),
    )

    dimension: int = 2
    ridge: float = 0.1
    init_scale: float = 1.0
    eig_min: float = 0.5
    eig_max: float = 2.0
    radius: float | None = None

    def __post_init__(self) -> None:
        checks.positive("dimension", self.dimension, integer=True)
        if not self.ridge > 0.0:
            raise InvalidConfigError(f"ridge must be positive, got {self.ridge!r}")
        if not self.init_scale >= 0.0:
            raise InvalidConfigError(
                f"init_scale must be >= 0, got {self.init_scale!r}"
            )
        if not 0.0 < self.eig_min <= self.eig_max:
            raise InvalidConfigError(
                f"need 0 < eig_min <= eig_max, got {self.eig_min!r}, {self.eig_max!r}"
            )
        if self.radius is not None and not (
            math.isfinite(self.radius)
            and self.radius**2 >= self.dimension * self.eig_max
        ):
            raise InvalidConfigError(
                f"radius must be finite with radius² >= dimension·eig_max "
                f"= {self.dimension * self.eig_max:g} (so every equilibrium is feasible), "
                f"got {self.radius!r}"
            )

    @property
    def capabilities(self) -> Capabilities:
        """Every closed form; the generator is confined to its Frobenius ball."""
        return Capabilities(
            best_responses=True,
            proximal=True,
            distance=True,
            cloud_distance=True,
            constrained=("generator",),
        )

    @property
    def generator_radius(self) -> float:
        """R, the radius of the generator's Frobenius ball."""
        if self.radius is not None:
            return float(self.radius)
        return 2.0 * math.sqrt(self.dimension * self.eig_max)

    @property
    def gap_estimator(self) -> str:  # type: ignore[override]
        return f"restricted to ‖V‖_F ≤ {self.generator_radius:g}"

    # ---- helpers ----------------------------------------------------------------
    def _mat(self, flat: torch.Tensor) -> torch.Tensor:
        """``(..., d²)`` → ``(..., d, d)`` (row-major, the layout of both seats)."""
        return flat.reshape(*flat.shape[:-1], self.dimension, self.dimension)

    # ---- required ---------------------------------------------------------------
    def layouts(self) -> dict[Seat, ParamLayout]:
        d = self.dimension
        return {
            "generator": ParamLayout((("V", (d, d)),)),
            "discriminator": ParamLayout((("W", (d, d)),)),
        }

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        q = _haar_orthogonal(stream, self.dimension)
        u = stream.uniform((self.dimension,), dtype=torch.float64)
        eigs = self.eig_min + (self.eig_max - self.eig_min) * u
        s = _sym((q * eigs.unsqueeze(-2)) @ q.mT)
        return {"S": s.to(dtype)}

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        s = instance["S"]
        d2 = self.dimension * self.dimension
        z = stream.normal((2 * d2,), dtype=s.dtype).to(s.device)
        z = z * (self.init_scale / math.sqrt(self.dimension))
        theta, phi = z[:, :d2], z[:, d2:]
        return self.project("generator", instance, theta), phi

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        v, w = self._mat(theta), self._mat(phi)
        gap = instance["S"] - v @ v.mT
        return _frob(w, gap) - 0.5 * self.ridge * _frob(w, w)

    # ---- optional ---------------------------------------------------------------
    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        v, w = self._mat(theta), self._mat(phi)
        g_v = -(w + w.mT) @ v
        g_w = instance["S"] - v @ v.mT - self.ridge * w
        return g_v.flatten(-2), g_w.flatten(-2)

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        if seat == "generator":
            norm = params.norm(dim=-1, keepdim=True)
            return params * (self.generator_radius / norm).clamp(max=1.0)
        return params

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor | None:
        s = instance["S"]
        if responder == "discriminator":
            v = self._mat(cloud)  # (B, K, d, d)
            gap = s - (v @ v.mT).mean(dim=-3)
            return _frob(gap, gap) / (2 * self.ridge)
        w = self._mat(cloud)  # (B, K, d, d)
        w_bar = w.mean(dim=-3)
        ridge = 0.5 * self.ridge * _frob(w, w).mean(dim=-1)
        top = torch.linalg.eigvalsh(_sym(w_bar))[..., -1]
        r2 = self.generator_radius**2
        return _frob(w_bar, s) - r2 * top.clamp(min=0) - ridge

    def proximal_objective(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        if lam < 0:
            raise InvalidConfigError(f"lam must be >= 0, got {lam!r}")
        v, w = self._mat(theta), self._mat(phi)
        a = instance["S"] - v @ v.mT + lam * w
        return _frob(a, a) / (2 * (self.ridge + lam)) - 0.5 * lam * _frob(w, w)

    def proximal_value(
        self, instance: Instance, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        if lam < 0:
            raise InvalidConfigError(f"lam must be >= 0, got {lam!r}")
        w = self._mat(phi)
        a = instance["S"] + lam * w
        a_sym = _sym(a)
        skew = a - a_sym
        residual = _capped_spectral_residual(
            torch.linalg.eigvalsh(a_sym), self.generator_radius**2
        )
        best = (_frob(skew, skew) + residual) / (2 * (self.ridge + lam))
        return best - 0.5 * lam * _frob(w, w)

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor | None:
        v = self._mat(theta)
        err = torch.linalg.matrix_norm(v @ v.mT - instance["S"])
        return err + phi.norm(dim=-1)

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor | None:
        v = self._mat(theta_cloud)
        err = torch.linalg.matrix_norm((v @ v.mT).mean(dim=-3) - instance["S"])
        critic = torch.sqrt((phi_cloud * phi_cloud).sum(dim=-1).mean(dim=-1))
        return err + critic
