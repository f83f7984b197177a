"""Dirac-GAN: the one-parameter GAN of Mescheder, Geiger & Nowozin (ICML 2018).

The smallest GAN that shows why plain gradient descent–ascent fails to converge
(docs/algorithms.md §8, T3). The data distribution is a point mass at 0, the generator is a
point mass at θ, and the critic is linear, ``D_ψ(x) = ψx``.

Objective (generator θ minimises, critic ψ maximises)::

    V(θ, ψ) = f(ψθ) + f(0) − P(ψ)

    f(t) = −log(1 + e^{−t})   (loss="standard", the original GAN loss; f'(0) = 1/2)
    f(t) = t                  (loss="wgan"; f'(0) = 1)

with an optional zero-centred gradient penalty P on the critic, part of the game value:
``R1 = (γ/2)E_data‖∇ₓD_ψ‖²`` (``penalty="r1"``) or the same on generated data
(``penalty="r2"``); both equal ``(γ/2)ψ²`` here because ``∇ₓD_ψ = ψ`` everywhere. The
logistic term is evaluated with :func:`torch.nn.functional.logsigmoid` (stable for any
``ψθ``, exact first derivative ``f'(t) = σ(−t)`` under autograd).

Parameter layout:

=============  ========  =========================================================
seat           layout    feasible set
=============  ========  =========================================================
generator      θ ∈ ℝ¹    ℝ (no projection)
discriminator  ψ ∈ ℝ¹    ℝ, or ``[−clip, clip]`` with WGAN weight clipping ``clip``
=============  ========  =========================================================

Equilibrium: ``(θ, ψ) = (0, 0)`` is the unique pure Nash equilibrium, value ``2f(0)``
(``−2 log 2`` for the standard loss, 0 for WGAN). :meth:`DiracGAN.equilibrium_distance`
is ``‖(θ, ψ)‖``. Mixed equilibria (:func:`~gangames.game.mixed`) are not unique: a
generator cloud ν with mean ``E_ν θ = 0`` against the critic ``μ = δ₀`` is one (for the
WGAN loss without penalty, any critic cloud with ``E_μ ψ = 0`` also is), because the
critic's best response to ν is ``ψ = 0`` exactly when ``E_ν θ = 0``.
:meth:`DiracGAN.cloud_equilibrium_distance` is ``|E_ν θ| + √(E_μ ψ²)`` (WGAN without
penalty: ``|E_ν θ| + |E_μ ψ|``).

Duality gap (restricted): the unrestricted gap is infinite — the generator's best
response to any ψ ≠ 0 is ``θ → ∓∞`` with ``V → −∞``, and without penalty the critic's
is ``ψ → ±∞``. Best responses are therefore taken over ``|θ| ≤ radius`` and
``|ψ| ≤ radius`` (intersected with the clipping box): Nesterov's restricted merit
function. It is ≥ 0 at every point (the box contains the saddle (0, 0)) and 0 only at
equilibria; ``gap_estimator`` names the box. The per-seat exploitabilities
``Φ_R(θ) − V`` and ``V − Ψ_R(ψ)`` are ≥ 0 only inside the box: at a point outside it
one of them can be negative (only their sum is sign-definite). Both best responses are exact:

* critic: ``max_{|ψ|≤r} (1/K)Σ_k f(ψθ_k) + f(0) − P(ψ)`` is concave in ψ — bisection on
  its derivative (80 halvings), plus the two ends of the interval;
* generator: ``min_{|θ|≤R} (1/K)Σ_k f(θψ_k)`` is concave in θ (f is concave and θ ↦ θψ_k
  is linear), so the minimum is at ``θ = ±R``.

Pure closed forms for checks: without penalty ``Φ_R(θ) = f(r|θ|) + f(0)`` and
``Ψ_R(ψ) = f(−R|ψ|) + f(0)`` (``r`` = radius ∩ clip, ``R`` = radius); for
comparison the unrestricted ``sup_ψ V(θ, ψ) = f(+∞) + f(0) = −log 2`` (not attained)
for θ ≠ 0 with the standard loss and no penalty.

Expected dynamics (docs/algorithms.md T3): the gradient vector field
``v(θ, ψ) = (−∇_θV, ∇_ψV)`` has Jacobian ``[[0, −f'(0)], [f'(0), −γ]]`` at the
equilibrium, eigenvalues ``±i f'(0)`` without penalty (``±i/2`` for the standard loss) and
``−γ/2 ± √(γ²/4 − f'(0)²)`` with an R1/R2 penalty γ > 0. Hence simultaneous gradient
descent–ascent (update eigenvalues ``1 ± ih f'(0)``, modulus > 1) spirals out,
alternating GDA cycles (modulus 1), WGAN with weight clipping and WGAN-GP do not
converge, while instance noise, consensus optimisation and zero-centred gradient
penalties R1/R2 converge locally (from (1, 1) with γ = 1 as well, see the tests).

Arguments:
    loss: ``"standard"`` (``f(t) = −log(1 + e^{−t})``) or ``"wgan"`` (``f(t) = t``).
    penalty: ``None``, ``"r1"`` or ``"r2"`` — zero-centred gradient penalty on the critic.
    gamma: penalty weight γ ≥ 0 (must be 0 when ``penalty`` is None); R1's usual image
        default is 10 [recalled].
    clip: WGAN weight clipping: ψ is projected onto ``[−clip, clip]``; None for none.
    radius: box ``|θ|, |ψ| ≤ radius`` of the restricted duality gap.
    init_scale: initial θ and ψ are drawn i.i.d. from ``N(0, init_scale²)`` (then ψ is
        clipped).
    init: a fixed start ``(θ₀, ψ₀)`` for every instance instead of random draws
        (e.g. ``(1.0, 1.0)``; ψ₀ is clipped).

Version history:
    v0: initial version.

References:
    L. Mescheder, A. Geiger, S. Nowozin. "Which Training Methods for GANs do actually
    Converge?" ICML 2018.
    Y. Nesterov. "Dual extrapolation and its applications to solving variational
    inequalities and related problems." Math. Programming 109, 2007 (restricted merit
    function).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from gangames import checks
from gangames.concepts import Condition, Preset, Target
from gangames.game import Capabilities, Game, ParamLayout
from gangames.games._solve1d import argmax_concave
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["DiracGAN"]


@functools.lru_cache(maxsize=64)
def _cached_scales(
    a: float, b: float, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    return torch.tensor([a, b], dtype=dtype, device=device)


def _scales(a: float, b: float, like: torch.Tensor) -> torch.Tensor:
    """The row ``(a, b)`` in ``like``'s dtype and device, made once.

    ``x * _scales(a, b, x)`` multiplies column 0 by ``a`` and column 1 by ``b`` with
    the bits of ``x[..., :1] * a`` and ``x[..., 1:] * b`` (float32 and float64: a Python
    scalar is rounded to the tensor's dtype before the product too).
    """
    return _cached_scales(a, b, like.dtype, like.device)


@dataclass(frozen=True)
class DiracGAN(Game):
    """Dirac-GAN (T3): ``V(θ, ψ) = f(ψθ) + f(0) − (γ/2)ψ²``, data δ₀, critic ``ψx``.

    See the module docstring for the objective, layout, equilibrium and dynamics.

    Args:
        loss: ``"standard"`` (logistic, ``f(t) = −log(1 + e^{−t})``) or ``"wgan"``
            (``f(t) = t``).
        penalty: zero-centred gradient penalty on the critic: ``None``, ``"r1"`` (data)
            or ``"r2"`` (generated data); both are ``(γ/2)ψ²`` for this game.
        gamma: penalty weight γ ≥ 0; must be 0 when ``penalty`` is None.
        clip: WGAN weight-clipping bound (ψ projected onto ``[−clip, clip]``), or None.
        radius: the restricted duality gap takes best responses over
            ``|θ|, |ψ| ≤ radius``.
        init_scale: standard deviation of the random initial θ and ψ.
        init: fixed initial ``(θ₀, ψ₀)`` for every instance, or None for random draws.

    Example:
        >>> from gangames.random import Stream
        >>> game = DiracGAN(penalty="r1", gamma=1.0)
        >>> inst = game.sample_instance(Stream.from_seeds([0]), torch.float64)
        >>> game.value(inst, torch.zeros(1, 1), torch.zeros(1, 1))
        tensor([-1.3863])
    """

    preset: ClassVar[Preset] = Preset(
        "nash_gap",
        Target((Condition("duality_gap", 1e-3),)),
        budget=1000,
        why=(
            "The unique equilibrium (0, 0) has a purely imaginary Jacobian (docs/algorithms.md §8 T3): "
            "GDA spirals out, alternating GDA cycles; extragradient and optimistic "
            "GDA contract and reach 1e-3 (from ~0.3) in ~40–500 gradients when tuned."
        ),
    )

    loss: str = "standard"
    penalty: str | None = None
    gamma: float = 0.0
    clip: float | None = None
    radius: float = 1.0
    init_scale: float = 1.0
    init: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.loss not in ("standard", "wgan"):
            raise ValueError(f"loss must be 'standard' or 'wgan', got {self.loss!r}")
        if self.penalty not in (None, "r1", "r2"):
            raise ValueError(
                f"penalty must be None, 'r1' or 'r2', got {self.penalty!r}"
            )
        checks.positive("gamma", self.gamma, allow_zero=True)
        if self.penalty is None and self.gamma != 0.0:
            raise ValueError("gamma > 0 needs penalty='r1' or 'r2'")
        checks.positive("clip", self.clip, allow_none=True)
        checks.positive("radius", self.radius)
        checks.positive("init_scale", self.init_scale, allow_zero=True)
        if self.init is not None:
            if len(self.init) != 2:
                raise ValueError(
                    f"init must be a pair (theta0, psi0), got {self.init!r}"
                )
            # Accept any pair (a list from a config file) but keep the config hashable.
            object.__setattr__(self, "init", (float(self.init[0]), float(self.init[1])))

    # ---- configuration helpers --------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        """Best responses and distances, no proximal gap; ``clip`` bounds the critic."""
        return Capabilities(
            best_responses=True,
            distance=True,
            cloud_distance=True,
            constrained=() if self.clip is None else ("discriminator",),
        )

    @property
    def gap_estimator(self) -> str:  # type: ignore[override]
        r = self._critic_radius
        if r == self.radius:
            return f"restricted to |θ|, |ψ| ≤ {self.radius}"
        return f"restricted to |θ| ≤ {self.radius}, |ψ| ≤ {r}"

    @functools.cached_property
    def _critic_radius(self) -> float:
        """Half-width of the critic's search interval: the box ∩ the clipping set."""
        return self.radius if self.clip is None else min(self.radius, self.clip)

    @functools.cached_property
    def _ridge(self) -> float:
        """Coefficient γ of ``−(γ/2)ψ²`` in V (0 without penalty)."""
        return self.gamma if self.penalty is not None else 0.0

    @functools.cached_property
    def _f0(self) -> float:
        return -math.log(2.0) if self.loss == "standard" else 0.0

    def _f(self, t: torch.Tensor) -> torch.Tensor:
        return F.logsigmoid(t) if self.loss == "standard" else t

    def _df(self, t: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(-t) if self.loss == "standard" else torch.ones_like(t)

    # ---- required ---------------------------------------------------------------
    def layouts(self) -> dict[Seat, ParamLayout]:
        return {
            "generator": ParamLayout.vector("theta", 1),
            "discriminator": ParamLayout.vector("psi", 1),
        }

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ref = next(iter(instance.values()))
        b, dtype, device = ref.shape[0], ref.dtype, ref.device
        if self.init is not None:
            theta = torch.full((b, 1), float(self.init[0]), dtype=dtype, device=device)
            psi = torch.full((b, 1), float(self.init[1]), dtype=dtype, device=device)
        else:
            z = self.init_scale * stream.normal((2,), dtype=dtype).to(device)
            theta, psi = z[:, :1], z[:, 1:]
        return theta, self.project("discriminator", instance, psi)

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        t, p = theta[..., 0], phi[..., 0]
        v = self._f(p * t) + self._f0
        return v if self._ridge == 0.0 else v - 0.5 * self._ridge * p * p

    # ---- optional ---------------------------------------------------------------
    def value_and_gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # One product ψθ for V and both gradients: the operations of value() and
        # gradients() on the same numbers, so the same bits, in fewer kernels (a
        # scalar on the right: c·x = x·c exactly, without Python's reflected call).
        # The parameters are (..., 1) already: no column to slice out.
        t, p = theta, phi
        s = p * t
        ridge = self._ridge
        v = self._f(s) + self._f0
        d = self._df(s)
        g_phi = t * d
        # Without a penalty its terms would add ±0: skipped (a zero's sign aside).
        if ridge != 0.0:
            v = v - p * (0.5 * ridge) * p
            g_phi = g_phi - p * ridge
        return v[..., 0].detach(), p * d, g_phi

    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        t, p = theta[..., :1], phi[..., :1]
        d = self._df(p * t)
        ridge = self._ridge
        return p * d, (t * d if ridge == 0.0 else t * d - ridge * p)

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        if seat == "discriminator" and self.clip is not None:
            return params.clamp(-self.clip, self.clip)
        return params

    def best_response_values(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        exact: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        if self._ridge != 0.0:
            return super().best_response_values(instance, theta, phi, exact)
        # Pure opponents without penalty: the closed forms of
        # cloud_best_response_value, read straight off the (B, 1) parameters, both
        # seats in one (B, 2) pass: f(|ψ|·(−R)) + f(0) and f(|θ|·r) + f(0), the
        # same operations on the same numbers in half the kernels.
        both = torch.cat([phi, theta], dim=-1).abs()  # (B, 1) each: no column slices
        both = (
            self._f(both * _scales(-self.radius, self._critic_radius, both)) + self._f0
        )
        return both[..., 0], both[..., 1]

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor | None:
        x = cloud[..., 0]  # (B, K) opponent scalars
        if x.shape[-1] == 1 and self._ridge == 0.0:
            # Pure opponent, no penalty: f is increasing, so the best response pushes
            # ψθ to its extreme (closed forms of the module docstring; no search).
            if responder == "discriminator":
                return self._f(self._critic_radius * x[..., 0].abs()) + self._f0
            return self._f(-self.radius * x[..., 0].abs()) + self._f0
        ones = torch.ones(x.shape[:-1], dtype=x.dtype, device=x.device)
        if responder == "discriminator":
            r = self._critic_radius * ones
            g = self._ridge

            def crit(psi: torch.Tensor) -> torch.Tensor:  # (B, N) → (B, N)
                v = self._f(psi.unsqueeze(-1) * x.unsqueeze(-2)).mean(dim=-1)
                return v + self._f0 - 0.5 * g * psi * psi

            def dcrit(psi: torch.Tensor) -> torch.Tensor:
                s = psi.unsqueeze(-1) * x.unsqueeze(-2)
                return (x.unsqueeze(-2) * self._df(s)).mean(dim=-1) - g * psi

            # Concave in ψ: bisection on the derivative, and the exact ends.
            star = argmax_concave(dcrit, -r, r)
            cand = torch.stack([-r, star, r], dim=-1)
            return crit(cand).amax(dim=-1)
        # Generator: θ ↦ mean_k f(θψ_k) is concave, so the minimum over |θ| ≤ R is
        # at an end of the interval.
        pen = 0.5 * self._ridge * (x * x).mean(dim=-1)
        ends = torch.stack([-self.radius * ones, self.radius * ones], dim=-1)
        v = self._f(ends.unsqueeze(-1) * x.unsqueeze(-2)).mean(dim=-1)
        return v.amin(dim=-1) + self._f0 - pen

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor | None:
        # x * x is what torch computes for x ** 2; the (B, 1) column read at the end
        return torch.sqrt(theta * theta + phi * phi)[..., 0]

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor | None:
        gen = theta_cloud[..., 0].mean(dim=-1).abs()
        p = phi_cloud[..., 0]
        if self.loss == "wgan" and self._ridge == 0.0:
            # Any critic law with mean 0 is an equilibrium strategy here.
            return gen + p.mean(dim=-1).abs()
        return gen + torch.sqrt((p * p).mean(dim=-1))
