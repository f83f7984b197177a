"""Gaussian WGAN: an affine generator against a linear or quadratic critic (T8).

Data ``x ~ N(m, Σ)`` in dimension d ∈ {1, 2}; generator ``G(z) = Az + b``,
``z ~ N(0, I_d)``, so the generated law is ``N(b, AAᵀ)`` (docs/algorithms.md §8, T8). The
1-D linear-critic version is the Gaussian-mean example used by Daskalakis et al. (2018)
to motivate optimism.

Objective (generator (A, b) minimises, critic maximises)::

    V = E_data D(x) − E_z D(G(z)) − ridge term

* ``critic="linear"``: ``D(x) = wᵀx`` with weight clipping ``|w_i| ≤ clip``, no ridge::

      V = wᵀ(m − b)                      (bilinear in (b, w); A is unidentified)

* ``critic="quadratic"``: ``D(x) = xᵀWx + wᵀx`` with a ridge γ (``ridge``). For
  ``x ~ N(μ, C)``, ``E D(x) = ⟨W, C + μμᵀ⟩ + wᵀμ``, so with the second-moment mismatch
  ``G₂ = Σ + mmᵀ − AAᵀ − bbᵀ`` and the mean mismatch ``g₁ = m − b``::

      V = ⟨W, G₂⟩ + wᵀg₁ − (γ/2)(‖W‖_F² + ‖w‖²)

  In 1-D (W = w₂, w = w₁, A = a, Σ = s²) this is docs/algorithms.md's
  ``w₁(m − b) + w₂(s² + m² − a² − b²) − (γ/2)‖w‖²``, with flat critic vector
  ``φ = (w₂, w₁)`` and flat generator vector ``θ = (a, b)``. W is a full d × d matrix
  used as is; only its symmetric part enters D, the skew part feels only the ridge.
  Because ``G₂`` is symmetric, the critic's best response is symmetric anyway.

Parameter layout (flat vectors pack the named tensors in this order, row-major):

=============  ===========================================  ==========================
seat           layout                                       feasible set
=============  ===========================================  ==========================
generator      ``A`` (d, d), ``b`` (d,)                     ``‖A‖_F ≤ R``,
                                                            ``b ∈ [−R, R]^d``
discriminator  linear: ``w`` (d,)                           ``[−clip, clip]^d``
discriminator  quadratic: ``W`` (d, d), ``w`` (d,)          ℝ^{d×d} × ℝ^d
=============  ===========================================  ==========================

Why the generator is restricted: with an unconstrained generator the best response to
any non-zero linear critic is ``−∞`` (push b to infinity), and the same holds for the
quadratic critic as soon as ``W_s`` has a positive eigenvalue, so the unrestricted gap
is infinite almost everywhere. The generator's feasible set is the product of the
Frobenius ball ``‖A‖_F ≤ R`` (radial projection) and the box ``‖b‖_∞ ≤ R`` (clamp),
``R = radius`` (default ``2·max(mean_scale, std_max·√d)``, so the equilibrium lies
strictly inside); :meth:`GaussianWGAN.project` enforces it and every gap below is exact
for this constrained game (:attr:`GaussianWGAN.gap_estimator` says
``"restricted to ‖A‖_F ≤ R, ‖b‖_∞ ≤ R"``).

Instances: ``m ~ U[−mean_scale, mean_scale]^d``; ``Σ = L Lᵀ`` with ``L = Q diag(s)``,
``s_i ~ U[std_min, std_max]`` i.i.d. and Q Haar-orthogonal (Q = ±1 in 1-D, so
``Σ = s²``). Stored as ``mean`` (B, d), ``cov`` (B, d, d) and ``scale`` = L (B, d, d);
sampled in float64, then cast. ``mean_scale = 0`` and ``std_min = std_max = 1`` give
the fixed data law N(0, I).

Stochastic option: with ``minibatch = n``, :attr:`GaussianWGAN.stochastic` is True and
:meth:`GaussianWGAN.sample_data` draws real samples ``x ~ N(m, Σ)`` and latents
``z ~ N(0, I)``, each of shape (B, n, d); ``value(..., data)`` then replaces every
expectation by the sample average of D on the real and the generated samples (an
unbiased estimate of V). ``data=None`` is the exact expectation (used by metrics).

Closed forms (exact unless stated):

* Critic best response against a generator cloud (V is affine in the generated moments,
  so clouds enter through ``b̄ = E b`` and ``E[AAᵀ + bbᵀ]``):
  linear ``Φ = clip·‖m − b̄‖₁``; quadratic ``Φ = (‖G₂‖_F² + ‖g₁‖²)/(2γ)`` with the
  cloud's moments, maximiser ``(W, w) = (G₂, g₁)/γ``.
* Generator best response against a critic cloud (V is affine in the critic, so the mean
  critic enters, and the ridge contributes ``−(γ/2)E‖c‖²``):
  linear ``Ψ = w̄ᵀm − R‖w̄‖₁``;
  quadratic ``Ψ = ⟨W̄, Σ + mmᵀ⟩ + w̄ᵀm − R²·max(λ_max(W̄_s), 0)
  + min_{b ∈ box} [−bᵀW̄_s b − w̄ᵀb] − (γ/2)E‖c‖²``; the box quadratic programme
  (d ≤ 2, possibly non-convex) is solved exactly by enumerating the stationary point of
  every face of the box (3^d faces: interior, edges, corners).
* Proximal objective (λ/2 convention, docs/algorithms.md §2.1):
  linear: separable, ``w̃ = clamp(w + g₁/λ, −clip, clip)``,
  ``V_prox = w̃ᵀg₁ − (λ/2)‖w̃ − w‖²`` (``clip·‖g₁‖₁`` at λ = 0);
  quadratic: ``V_prox = (‖G₂ + λW‖_F² + ‖g₁ + λw‖²)/(2(γ + λ)) − (λ/2)(‖W‖² + ‖w‖²)``.
* Proximal value ``min_θ V_prox^λ(θ, φ)`` over the generator's feasible set:
  linear (any d): separable and convex in b, minimiser ``b = clamp(m + λw, −R, R)``;
  quadratic, d = 1: ``min_{|a|,|b| ≤ R} (C − a² − b²)² + (e − b)²`` with
  ``C = s² + m² + λW``, ``e = m + λw``: minimising over ``a²`` leaves a piecewise quartic
  in b whose stationary points are roots of two depressed cubics (closed form) or
  ``b = e``; the minimum over those candidates and the ends is exact;
  quadratic, d = 2: no exact form known (a non-convex quartic in b coupled to a
  PSD projection) — returns ``None``, so the proximal gap is left out.

Equilibria:

* Linear critic: ``b = m``, ``w = 0``, any feasible A (unidentified), value 0.
  :meth:`GaussianWGAN.equilibrium_distance` is ``‖b − m‖ + ‖w‖``. Mixed: any generator
  cloud with ``E b = m`` against any critic cloud with ``E w = 0``; cloud distance
  ``‖b̄ − m‖ + ‖w̄‖``.
* Quadratic critic (realisable): ``b = m``, ``AAᵀ = Σ`` (A up to a right orthogonal
  factor), critic 0, value 0. Distance ``‖b − m‖ + ‖AAᵀ − Σ‖_F + ‖φ‖``. Mixed: any
  generator cloud whose mixture has mean m and covariance Σ (``E AAᵀ + Cov(b) = Σ``)
  against ``μ = δ₀``; cloud distance
  ``‖b̄ − m‖ + ‖E AAᵀ + Cov(b) − Σ‖_F + √(E‖φ‖²)``.

Expected dynamics (docs/algorithms.md T8): the linear critic is a bilinear game in (b, w) —
T1 behaviour: simultaneous GDA spirals out to the clipping box (and the generator box),
alternating GDA cycles, EG/OGDA/SRFB converge to ``b = m, w = 0``; A never moves. The
quadratic critic is realisable: methods that converge on T2-like problems reach the
pure equilibrium.

Arguments:
    dimension: d ∈ {1, 2}. (Named ``dimension``, not ``dim``, because :meth:`Game.dim`
        is the per-seat parameter count.)
    critic: ``"linear"`` (clipped) or ``"quadratic"`` (ridge).
    clip: box of the linear critic, ``|w_i| ≤ clip`` (unused by the quadratic critic).
    ridge: γ > 0 of the quadratic critic (unused by the linear critic).
    mean_scale: data mean ``m ~ U[−mean_scale, mean_scale]^d`` (≥ 0).
    std_min, std_max: data standard deviations (eigenvalues of Σ^{1/2}) drawn from
        ``U[std_min, std_max]``, ``0 < std_min ≤ std_max``.
    radius: R of the generator's feasible set; ``None`` means
        ``2·max(mean_scale, std_max·√d)``. Must be ≥ both terms (equilibrium feasible).
    init_scale: every initial parameter is ``N(0, init_scale²)``, then projected.
    minibatch: ``None`` for the exact game, or the minibatch size n of the stochastic
        game.

Version history:
    v0: initial version.

References:
    C. Daskalakis, A. Ilyas, V. Syrgkanis, H. Zeng. "Training GANs with Optimism."
    ICLR 2018.
    M. Arjovsky, S. Chintala, L. Bottou. "Wasserstein GAN." ICML 2017.
    F. Farnia, A. Ozdaglar. "Do GANs always have Nash equilibria?" ICML 2020.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from gangames.concepts import Condition, Preset, Target
from gangames.errors import InvalidConfigError
from gangames.game import Capabilities, Game, ParamLayout
from gangames.games.covariance import _frob, _haar_orthogonal, _sym
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["GaussianWGAN"]

CRITICS = ("linear", "quadratic")


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num/den`` where ``den ≠ 0``, else 0 (any feasible point is a valid candidate)."""
    ok = den != 0
    return torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)), 0.0)


def _box_qp_min(q: torch.Tensor, c: torch.Tensor, r: float) -> torch.Tensor:
    """``min_{b ∈ [−r, r]^d} bᵀQb + cᵀb`` for d ∈ {1, 2}, Q symmetric; exact.

    The minimum of a continuous function on the box is attained on some face (the
    interior, an edge or a corner) at a point stationary on that face. Where the
    face's Hessian block is singular the objective is flat along a null direction, so a
    minimiser also lies on a smaller face. Hence the minimum over the stationary points
    of all 3^d faces (each clamped into the box, which keeps it feasible) is exact.

    Args:
        q: ``(B, d, d)`` symmetric.
        c: ``(B, d)``.
        r: half-width of the box.

    Returns:
        The minimum, shape ``(B,)``.
    """
    d = c.shape[-1]
    values = []
    for pattern in itertools.product((-1, 0, 1), repeat=d):  # 0: free coordinate
        fixed = [i for i, s in enumerate(pattern) if s != 0]
        free = [i for i, s in enumerate(pattern) if s == 0]
        b: list[torch.Tensor] = [torch.zeros_like(c[..., 0])] * d
        for i in fixed:
            b[i] = torch.full_like(c[..., 0], pattern[i] * r)
        # Stationarity on the face: Q_FF b_F = −c_F/2 − Q_FX b_X.
        rhs = {
            i: -0.5 * c[..., i] - sum((q[..., i, j] * b[j] for j in fixed), 0.0)
            for i in free
        }
        if len(free) == 1:
            (i,) = free
            b[i] = _safe_div(rhs[i], q[..., i, i])
        elif len(free) == 2:
            i, j = free
            det = q[..., i, i] * q[..., j, j] - q[..., i, j] * q[..., j, i]
            bi = _safe_div(q[..., j, j] * rhs[i] - q[..., i, j] * rhs[j], det)
            bj = _safe_div(q[..., i, i] * rhs[j] - q[..., j, i] * rhs[i], det)
            b[i], b[j] = bi, bj
        for i in free:
            b[i] = b[i].clamp(-r, r)
        vec = torch.stack(b, dim=-1)
        quad = (vec * (q @ vec.unsqueeze(-1)).squeeze(-1)).sum(dim=-1)
        values.append(quad + (c * vec).sum(dim=-1))
    return torch.stack(values, dim=-1).amin(dim=-1)


def _cbrt(x: torch.Tensor) -> torch.Tensor:
    """Real cube root."""
    return torch.sign(x) * x.abs().pow(1.0 / 3.0)


def _cubic_roots(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Candidates containing every real root of ``t³ + pt + q = 0``, shape ``(..., 8)``.

    Cardano's formula (exact when the cubic has one real root) and the trigonometric
    form with its cosine argument clamped to [−1, 1] (exact when it has three, double
    roots included, and robust to a discriminant rounded to the wrong sign). Both are
    always returned — spurious candidates are harmless, because callers evaluate their
    objective at every candidate — each as is and after two Newton steps (the polish
    sharpens simple roots; the raw values guard double roots, where Newton's step is
    ill-conditioned). Non-finite entries are set to 0.
    """
    hq, tp = 0.5 * q, p / 3.0
    sq = torch.sqrt((hq * hq + tp * tp * tp).clamp(min=0))
    cardano = _cbrt(-hq + sq) + _cbrt(-hq - sq)
    big = torch.where(tp < 0, -tp, torch.ones_like(tp))  # −p/3 > 0 where meaningful
    angle = torch.acos((-hq / (big * torch.sqrt(big))).clamp(-1.0, 1.0)) / 3.0
    k = torch.arange(3, dtype=p.dtype, device=p.device)
    trig = (
        2.0
        * torch.sqrt(big).unsqueeze(-1)
        * torch.cos(angle.unsqueeze(-1) - 2.0 * math.pi * k / 3.0)
    )
    raw = torch.cat([cardano.unsqueeze(-1), trig], dim=-1)
    pp, qq = p.unsqueeze(-1), q.unsqueeze(-1)
    t = raw
    for _ in range(2):
        t = t - _safe_div(t * t * t + pp * t + qq, 3.0 * t * t + pp)
    return torch.nan_to_num(torch.cat([raw, t], dim=-1), nan=0.0)


@dataclass(frozen=True)
class GaussianWGAN(Game):
    """Gaussian WGAN (T8): affine generator ``Az + b`` against a linear or quadratic critic.

    See the module docstring for the objective, the generator restriction, the closed
    forms and the equilibria.

    Args:
        dimension: data dimension d ∈ {1, 2}.
        critic: ``"linear"`` (weight-clipped) or ``"quadratic"`` (ridge).
        clip: linear critic box ``|w_i| ≤ clip``.
        ridge: quadratic critic ridge γ.
        mean_scale: data mean ~ ``U[−mean_scale, mean_scale]^d``.
        std_min: smallest data standard deviation.
        std_max: largest data standard deviation.
        radius: generator feasible set ``‖A‖_F ≤ R``, ``‖b‖_∞ ≤ R`` (``None``: default).
        init_scale: standard deviation of every initial parameter (then projected).
        minibatch: ``None`` (exact game) or the minibatch size of the stochastic game.

    Example:
        >>> from gangames.random import Stream
        >>> game = GaussianWGAN(critic="quadratic")
        >>> inst = game.sample_instance(Stream.from_seeds([0]), torch.float64)
        >>> theta = torch.cat([inst["scale"].flatten(1), inst["mean"]], dim=-1)
        >>> game.best_response_value(inst, "discriminator", theta).abs().item() < 1e-12
        True
    """

    preset: ClassVar[Preset] = Preset(
        "nash_gap",
        Target((Condition("duality_gap", 1e-3),)),
        budget=1000,
        why=(
            "With the default linear critic the mean part is bilinear (docs/algorithms.md §8 T8): GDA "
            "spirals, extragradient / optimistic GDA converge; 1e-3 as on Bilinear."
        ),
    )

    dimension: int = 1
    critic: str = "linear"
    clip: float = 1.0
    ridge: float = 1.0
    mean_scale: float = 1.0
    std_min: float = 0.5
    std_max: float = 2.0
    radius: float | None = None
    init_scale: float = 1.0
    minibatch: int | None = None

    def __post_init__(self) -> None:
        d = self.dimension
        if isinstance(d, bool) or not isinstance(d, int) or d not in (1, 2):
            raise InvalidConfigError(f"dimension must be 1 or 2, got {d!r}")
        if self.critic not in CRITICS:
            raise InvalidConfigError(
                f"critic must be one of {CRITICS}, got {self.critic!r}"
            )
        if not self.clip > 0.0:
            raise InvalidConfigError(f"clip must be positive, got {self.clip!r}")
        if not self.ridge > 0.0:
            raise InvalidConfigError(f"ridge must be positive, got {self.ridge!r}")
        if not self.mean_scale >= 0.0:
            raise InvalidConfigError(
                f"mean_scale must be >= 0, got {self.mean_scale!r}"
            )
        if not 0.0 < self.std_min <= self.std_max:
            raise InvalidConfigError(
                f"need 0 < std_min <= std_max, got {self.std_min!r}, {self.std_max!r}"
            )
        need = max(self.mean_scale, self.std_max * math.sqrt(self.dimension))
        if self.radius is not None and not (
            math.isfinite(self.radius) and self.radius >= need and self.radius > 0
        ):
            raise InvalidConfigError(
                f"radius must be finite and >= max(mean_scale, std_max·√dimension) = "
                f"{need:g} (so the equilibrium is feasible), got {self.radius!r}"
            )
        if not self.init_scale >= 0.0:
            raise InvalidConfigError(
                f"init_scale must be >= 0, got {self.init_scale!r}"
            )
        if self.minibatch is not None and (
            isinstance(self.minibatch, bool)
            or not isinstance(self.minibatch, int)
            or self.minibatch < 1
        ):
            raise InvalidConfigError(
                f"minibatch must be None or a positive int, got {self.minibatch!r}"
            )

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.minibatch is not None

    @property
    def capabilities(self) -> Capabilities:
        """Every closed form but the proximal value of the quadratic critic in 2-D.

        The generator's set is always bounded; the linear critic is clipped.
        """
        linear = self.critic == "linear"
        return Capabilities(
            best_responses=True,
            proximal=linear or self.dimension == 1,
            distance=True,
            cloud_distance=True,
            constrained=("generator", "discriminator") if linear else ("generator",),
        )

    @property
    def generator_radius(self) -> float:
        """R of the generator's feasible set ``‖A‖_F ≤ R``, ``‖b‖_∞ ≤ R``."""
        if self.radius is not None:
            return float(self.radius)
        return 2.0 * max(self.mean_scale, self.std_max * math.sqrt(self.dimension))

    @property
    def gap_estimator(self) -> str:  # type: ignore[override]
        r = self.generator_radius
        return f"restricted to ‖A‖_F ≤ {r:g}, ‖b‖_∞ ≤ {r:g}"

    # ---- helpers ----------------------------------------------------------------
    def _generator(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        parts = self.layouts()["generator"].unflatten(flat)
        return parts["A"], parts["b"]

    def _critic(self, flat: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        parts = self.layouts()["discriminator"].unflatten(flat)
        return parts.get("W"), parts["w"]

    def _payoff(
        self,
        big_w: torch.Tensor | None,
        w: torch.Tensor,
        mean_gap: torch.Tensor,
        second_gap: torch.Tensor,
        phi: torch.Tensor,
    ) -> torch.Tensor:
        """V from the moment mismatches ``E_data − E_gen`` of x and xxᵀ."""
        v = (w * mean_gap).sum(dim=-1)
        if big_w is None:
            return v
        return v + _frob(big_w, second_gap) - 0.5 * self.ridge * (phi * phi).sum(-1)

    # ---- required ---------------------------------------------------------------
    def layouts(self) -> dict[Seat, ParamLayout]:
        d = self.dimension
        gen = ParamLayout((("A", (d, d)), ("b", (d,))))
        if self.critic == "linear":
            return {"generator": gen, "discriminator": ParamLayout.vector("w", d)}
        return {
            "generator": gen,
            "discriminator": ParamLayout((("W", (d, d)), ("w", (d,)))),
        }

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        d = self.dimension
        q = _haar_orthogonal(stream, d)
        u = stream.uniform((2 * d,), dtype=torch.float64)
        mean = self.mean_scale * (2.0 * u[:, :d] - 1.0)
        std = self.std_min + (self.std_max - self.std_min) * u[:, d:]
        scale = q * std.unsqueeze(-2)  # Q diag(s)
        cov = _sym(scale @ scale.mT)
        return {"mean": mean.to(dtype), "cov": cov.to(dtype), "scale": scale.to(dtype)}

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ref = instance["mean"]
        d_g, d_d = self.dim("generator"), self.dim("discriminator")
        z = self.init_scale * stream.normal((d_g + d_d,), dtype=ref.dtype)
        z = z.to(ref.device)
        return (
            self.project("generator", instance, z[:, :d_g]),
            self.project("discriminator", instance, z[:, d_g:]),
        )

    def sample_data(self, instance: Instance, stream: Stream) -> Instance | None:
        if self.minibatch is None:
            return None
        mean, scale = instance["mean"], instance["scale"]
        # One draw for both: real-data noise eps and latents z.
        shape = (2, self.minibatch, self.dimension)
        noise = stream.normal(shape, dtype=mean.dtype).to(mean.device)
        eps, z = noise[:, 0], noise[:, 1]
        return {"x": mean.unsqueeze(-2) + eps @ scale.mT, "z": z}

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        a, b = self._generator(theta)
        big_w, w = self._critic(phi)
        if data is None:
            mean_gap = instance["mean"] - b
            second_gap = _second_moment(instance) - _gen_second_moment(a, b)
        else:
            x = data["x"]  # (B, n, d)
            g = data["z"] @ a.mT + b.unsqueeze(-2)  # generated samples (B, n, d)
            n = x.shape[-2]
            mean_gap = x.mean(dim=-2) - g.mean(dim=-2)
            second_gap = (x.mT @ x - g.mT @ g) / n
        return self._payoff(big_w, w, mean_gap, second_gap, phi)

    # ---- optional ---------------------------------------------------------------
    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if data is not None:
            return super().gradients(instance, theta, phi, data)
        a, b = self._generator(theta)
        big_w, w = self._critic(phi)
        m = instance["mean"]
        gen, crit = self.layouts()["generator"], self.layouts()["discriminator"]
        if big_w is None:
            g_theta = gen.flatten({"A": torch.zeros_like(a), "b": -w})
            return g_theta, m - b
        w_sym2 = big_w + big_w.mT
        g_a = -w_sym2 @ a
        g_b = -(w_sym2 @ b.unsqueeze(-1)).squeeze(-1) - w
        second_gap = _second_moment(instance) - _gen_second_moment(a, b)
        g_big_w = second_gap - self.ridge * big_w
        g_w = m - b - self.ridge * w
        return (
            gen.flatten({"A": g_a, "b": g_b}),
            crit.flatten({"W": g_big_w, "w": g_w}),
        )

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        if seat == "generator":
            r = self.generator_radius
            a, b = self._generator(params)
            norm = torch.linalg.matrix_norm(a).unsqueeze(-1).unsqueeze(-1)
            a = a * (r / norm).clamp(max=1.0)
            return self.layouts()["generator"].flatten({"A": a, "b": b.clamp(-r, r)})
        if self.critic == "linear":
            return params.clamp(-self.clip, self.clip)
        return params

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor | None:
        m = instance["mean"]
        if responder == "discriminator":
            a, b = self._generator(cloud)  # (B, K, d, d), (B, K, d)
            mean_gap = m - b.mean(dim=-2)
            if self.critic == "linear":
                return self.clip * mean_gap.abs().sum(dim=-1)
            second_gap = _second_moment(instance) - _gen_second_moment(a, b).mean(-3)
            total = _frob(second_gap, second_gap) + (mean_gap * mean_gap).sum(-1)
            return total / (2 * self.ridge)
        r = self.generator_radius
        big_w, w = self._critic(cloud)
        w_bar = w.mean(dim=-2)
        if big_w is None:
            return (w_bar * m).sum(dim=-1) - r * w_bar.abs().sum(dim=-1)
        ridge = 0.5 * self.ridge * (cloud * cloud).sum(dim=-1).mean(dim=-1)
        w_sym = _sym(big_w.mean(dim=-3))
        data_term = _frob(w_sym, _second_moment(instance)) + (w_bar * m).sum(-1)
        # min over ‖A‖_F ≤ R of −⟨W̄_s, AAᵀ⟩, then over the b box of −bᵀW̄_s b − w̄ᵀb.
        top = torch.linalg.eigvalsh(w_sym)[..., -1]
        a_term = -(r * r) * top.clamp(min=0)
        b_term = _box_qp_min(-w_sym, -w_bar, r)
        return data_term + a_term + b_term - ridge

    def proximal_objective(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        _check_lam(lam)
        a, b = self._generator(theta)
        big_w, w = self._critic(phi)
        mean_gap = instance["mean"] - b
        if big_w is None:
            return self._linear_prox(mean_gap, w, lam)
        second_gap = _second_moment(instance) - _gen_second_moment(a, b)
        u, v = second_gap + lam * big_w, mean_gap + lam * w
        total = _frob(u, u) + (v * v).sum(dim=-1)
        return total / (2 * (self.ridge + lam)) - 0.5 * lam * (phi * phi).sum(-1)

    def _linear_prox(
        self, mean_gap: torch.Tensor, w: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """``max_{|w̃_i| ≤ clip} w̃ᵀg − (λ/2)‖w̃ − w‖²`` (separable; exact)."""
        if lam == 0:
            return self.clip * mean_gap.abs().sum(dim=-1)
        best = (w + mean_gap / lam).clamp(-self.clip, self.clip)
        return (best * mean_gap).sum(-1) - 0.5 * lam * ((best - w) ** 2).sum(-1)

    def proximal_value(
        self, instance: Instance, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        _check_lam(lam)
        r = self.generator_radius
        m = instance["mean"]
        big_w, w = self._critic(phi)
        if big_w is None:
            # Convex and separable in b with unconstrained minimiser b = m + λw (where the
            # inner maximiser is w̃ = 0), so the box minimiser is its clamp.
            b = (m + lam * w).clamp(-r, r)
            return self._linear_prox(m - b, w, lam)
        if self.dimension != 1:
            return None
        c = (_second_moment(instance) + lam * big_w)[..., 0, 0]  # (B,)
        e = (m + lam * w)[..., 0]
        r2 = r * r

        def residual(bb: torch.Tensor) -> torch.Tensor:  # (B, N) → (B, N)
            # min over a² ∈ [0, R²] of (C − b² − a²)², plus (e − b)².
            gap = c.unsqueeze(-1) - bb * bb
            return (gap - gap.clamp(0.0, r2)) ** 2 + (e.unsqueeze(-1) - bb) ** 2

        # Stationary points: b = e where 0 ≤ C − b² ≤ R² (a² = C − b²); roots of
        # b³ + (½ − C)b − e/2 where C < b² (a = 0); roots of b³ + (½ − C + R²)b − e/2
        # where C − b² > R² (a² = R²). The residual is C¹, so these and the ends ±R
        # contain the global minimiser on [−R, R].
        half_e = -0.5 * e
        cands = torch.cat(
            [
                torch.stack([e, torch.full_like(e, -r), torch.full_like(e, r)], -1),
                _cubic_roots(0.5 - c, half_e),
                _cubic_roots(0.5 - c + r2, half_e),
            ],
            dim=-1,
        ).clamp(-r, r)
        best = residual(cands).amin(dim=-1)
        return best / (2 * (self.ridge + lam)) - 0.5 * lam * (phi * phi).sum(-1)

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor | None:
        a, b = self._generator(theta)
        mean_err = (b - instance["mean"]).norm(dim=-1)
        if self.critic == "linear":
            return mean_err + phi.norm(dim=-1)
        cov_err = torch.linalg.matrix_norm(a @ a.mT - instance["cov"])
        return mean_err + cov_err + phi.norm(dim=-1)

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor | None:
        a, b = self._generator(theta_cloud)  # (B, K, d, d), (B, K, d)
        b_bar = b.mean(dim=-2)
        mean_err = (b_bar - instance["mean"]).norm(dim=-1)
        if self.critic == "linear":
            return mean_err + phi_cloud.mean(dim=-2).norm(dim=-1)
        # Covariance of the mixture: E AAᵀ + E bbᵀ − b̄b̄ᵀ.
        mix_cov = _gen_second_moment(a, b).mean(dim=-3) - _outer(b_bar)
        cov_err = torch.linalg.matrix_norm(mix_cov - instance["cov"])
        critic = torch.sqrt((phi_cloud * phi_cloud).sum(dim=-1).mean(dim=-1))
        return mean_err + cov_err + critic


def _check_lam(lam: float) -> None:
    if not lam >= 0:
        raise InvalidConfigError(f"lam must be >= 0, got {lam!r}")


def _outer(v: torch.Tensor) -> torch.Tensor:
    """``vvᵀ`` for a batch of vectors ``(..., d)`` → ``(..., d, d)``."""
    return v.unsqueeze(-1) * v.unsqueeze(-2)


def _second_moment(instance: Instance) -> torch.Tensor:
    """``E_data xxᵀ = Σ + mmᵀ``, shape ``(B, d, d)``."""
    return instance["cov"] + _outer(instance["mean"])


def _gen_second_moment(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``E_z G(z)G(z)ᵀ = AAᵀ + bbᵀ``."""
    return a @ a.mT + _outer(b)
