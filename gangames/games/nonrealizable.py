"""Non-realisable GAN: a constant generator against a quadratic ridge critic (no pure Nash).

Our explicit construction of the mechanism behind Farnia & Ozdaglar's "GANs may have no
Nash equilibria" (docs/algorithms.md §8, T5): the generator class cannot represent the data
while the critic can see the mismatch. Data ``X ~ N(0, 1)`` (only ``E X = 0`` and
``E X² = 1`` matter), generator ``G_θ(z) = θ`` (a point mass), critic
``D_ψ(x) = ψ₁x + ψ₂x²`` with a ridge γ:

Objective (generator θ minimises, critic ψ maximises)::

    V(θ, ψ) = E D_ψ(X) − D_ψ(θ) − (γ/2)‖ψ‖² = ψ₂(1 − θ²) − ψ₁θ − (γ/2)‖ψ‖²
            = ⟨a(θ), ψ⟩ − (γ/2)‖ψ‖²,      a(θ) = (−θ, 1 − θ²)

Parameter layout:

=============  ========  ===================================
seat           layout    feasible set
=============  ========  ===================================
generator      θ ∈ ℝ¹    ``[−box, box]`` (clamp projection)
discriminator  ψ ∈ ℝ²    ℝ² (no projection)
=============  ========  ===================================

Closed forms (all exact):

* Critic best response ``ψ*(θ) = a(θ)/γ = (−θ, 1 − θ²)/γ`` and
  ``Φ(θ) = ‖a(θ)‖²/(2γ) = (θ² + (1 − θ²)²)/(2γ)``; against a generator cloud with
  moments ``m₁ = E θ``, ``m₂ = E θ²``: ``max_ψ E V = [m₁² + (1 − m₂)²]/(2γ)``.
* Generator best response against a critic cloud (mean ψ̄): minimise the quadratic
  ``ψ̄₂(1 − θ²) − ψ̄₁θ`` on ``[−box, box]`` — the smaller of the two ends and the
  clamped stationary point ``−ψ̄₁/(2ψ̄₂)``; then subtract ``(γ/2)E‖ψ‖²``.
* Proximal objective (λ/2 convention, docs/algorithms.md §2.1)
  ``V_prox^λ(θ, ψ) = ‖a(θ) + λψ‖²/(2(γ + λ)) − (λ/2)‖ψ‖²``; its minimum over θ' ∈
  ``[−box, box]`` (a quartic) is found on a 4097-point grid plus golden-section
  polish (exact to float precision unless two local minima tie within ≈ 1e-6).

Equilibria:

* **No pure Nash equilibrium** (not even local): the stationary points θ ∈ {0, ±1/√2}
  are local maxima of ``V(·, ψ*(θ))``. The minimum over pure pairs of the Nash gap
  ``Φ(θ) − Ψ(ψ)`` is ``3/(8γ)`` (0.375 at γ = 1), at ``θ = ±1/√2, ψ = 0``.
* Minimax (Stackelberg, generator first): ``θ* = ±1/√2``, ``ψ* = (∓1/√2, 1/2)/γ``, value
  ``3/(8γ)``. :meth:`NonRealizableGAN.equilibrium_distance` is the Euclidean distance of
  ``(θ, ψ)`` to this two-point minimax set (there is no Nash set to measure against).
* Proximal: θ* is a *local* λ-proximal equilibrium iff λ < 2γ (the θ-curvature of
  ``‖a(θ) + λψ*‖²`` at θ* is ``4 − 2λ/γ``) but not a global one for any λ > 0 (λ = 0.5,
  γ = 1: ``‖a(θ) + λψ*‖²`` is 1.69 at θ* and 0.48 at θ = −0.97).
* Mixed Nash (:func:`~gangames.game.mixed`): ν* = any law on ``[−box, box]`` with mean 0
  and second moment 1 (e.g. ½δ₋₁ + ½δ₊₁, uniform on [−√3, √3]), μ* = δ₀ (unique),
  value 0. :meth:`NonRealizableGAN.cloud_equilibrium_distance` is the moment error plus
  the critic's W₂ distance to δ₀: ``√(m₁² + (m₂ − 1)²) + √(E_μ‖ψ‖²)``.

Expected dynamics (docs/algorithms.md T5): every pure method keeps a Nash gap ≥ 0.375
forever; simultaneous GDA oscillates (θ ∈ [−1.31, 1.31] late in training); proximal
training (λ ∈ {0.5, 1, 1.5, 3}, 20 inner steps) converges to θ* = 1/√2,
ψ = (−0.707, 0.5); particle Langevin on the mixed lift reaches the mixed equilibrium.

Arguments:
    gamma: critic ridge γ > 0.
    box: the generator's feasible set is ``[−box, box]`` (must contain ±1 for the mixed
        equilibrium above, i.e. box ≥ 1).
    init_scale: initial θ ~ N(0, init_scale²) clamped to the box, ψ ~ N(0, init_scale² I₂).

Version history:
    v0: initial version.

References:
    F. Farnia, A. Ozdaglar. "Do GANs always have Nash equilibria?" ICML 2020.
    S. Sidheekh, A. Aimen, N. C. Krishnan. "On Characterizing GAN Convergence Through
    Proximal Duality Gap." ICML 2021.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from gangames import checks
from gangames.concepts import Condition, Preset, Target
from gangames.game import Capabilities, Game, ParamLayout
from gangames.games._solve1d import minimize_interval
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["NonRealizableGAN"]


@dataclass(frozen=True)
class NonRealizableGAN(Game):
    """Non-realisable GAN (T5): ``V = ψ₂(1 − θ²) − ψ₁θ − (γ/2)‖ψ‖²``, θ ∈ [−box, box].

    See the module docstring for the closed forms and equilibria.

    Args:
        gamma: critic ridge γ > 0.
        box: generator feasible set ``[−box, box]``, box ≥ 1.
        init_scale: standard deviation of the initial θ (then clamped) and ψ.

    Example:
        >>> game = NonRealizableGAN()
        >>> theta = torch.tensor([[2**-0.5]], dtype=torch.float64)
        >>> game.best_response_value({}, "discriminator", theta)
        tensor([0.3750], dtype=torch.float64)
    """

    preset: ClassVar[Preset] = Preset(
        "mixed_gap",
        Target((Condition("duality_gap", 1e-3),)),
        budget=4000,
        options={"particles": 8},
        why=(
            "No pure equilibrium: every pure pair keeps a Nash gap ≥ 3/(8γ) = 0.375 "
            "(docs/algorithms.md §8 T5). The mixed equilibrium is reachable by clouds of 8 particles "
            "(mean 0, second moment 1); 1e-3 is far below the pure floor. A "
            "gradient of the lifted game costs 8, so 4000 is 500 rounds."
        ),
    )

    gamma: float = 1.0
    box: float = 2.0
    init_scale: float = 1.0

    prox_grid: ClassVar[int] = 4097
    """Grid size of the proximal best response (a quartic in θ' on the box)."""

    def __post_init__(self) -> None:
        checks.positive("gamma", self.gamma)
        checks.number("box", self.box, low=1)
        checks.positive("init_scale", self.init_scale, allow_zero=True)

    @property
    def capabilities(self) -> Capabilities:
        """Every closed form; the generator is confined to ``[−box, box]``."""
        return Capabilities(
            best_responses=True,
            proximal=True,
            distance=True,
            cloud_distance=True,
            constrained=("generator",),
        )

    # ---- required ---------------------------------------------------------------
    def layouts(self) -> dict[Seat, ParamLayout]:
        return {
            "generator": ParamLayout.vector("theta", 1),
            "discriminator": ParamLayout.vector("psi", 2),
        }

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ref = next(iter(instance.values()))
        dtype, device = ref.dtype, ref.device
        z = self.init_scale * stream.normal((3,), dtype=dtype).to(device)
        theta, psi = z[:, :1], z[:, 1:]
        return self.project("generator", instance, theta), psi

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        t = theta[..., 0]
        p1, p2 = phi[..., 0], phi[..., 1]
        return p2 * (1 - t * t) - p1 * t - 0.5 * self.gamma * (p1 * p1 + p2 * p2)

    # ---- optional ---------------------------------------------------------------
    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        t = theta[..., :1]
        p1, p2 = phi[..., :1], phi[..., 1:2]
        g_theta = -2 * t * p2 - p1
        g_phi = torch.cat([-t - self.gamma * p1, 1 - t * t - self.gamma * p2], dim=-1)
        return g_theta, g_phi

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        if seat == "generator":
            return params.clamp(-self.box, self.box)
        return params

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor | None:
        if responder == "discriminator":
            t = cloud[..., 0]  # (B, K)
            m1, m2 = t.mean(dim=-1), (t * t).mean(dim=-1)
            return (m1 * m1 + (1 - m2) ** 2) / (2 * self.gamma)
        p1, p2 = cloud[..., 0].mean(dim=-1), cloud[..., 1].mean(dim=-1)
        ridge = 0.5 * self.gamma * (cloud * cloud).sum(dim=-1).mean(dim=-1)
        # q(θ) = ψ̄₂(1 − θ²) − ψ̄₁θ on [−box, box]: convex iff ψ̄₂ < 0, minimised at the
        # clamped stationary point; otherwise at an end. The clamped point is feasible,
        # so the minimum over the three candidates is exact in every case.
        safe = torch.where(p2 == 0, torch.ones_like(p2), p2)
        stat = (-p1 / (2 * safe)).clamp(-self.box, self.box)
        box = torch.full_like(p1, self.box)
        cand = torch.stack([-box, box, stat], dim=-1)
        q = p2.unsqueeze(-1) * (1 - cand * cand) - p1.unsqueeze(-1) * cand
        return q.amin(dim=-1) - ridge

    def proximal_objective(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        t = theta[..., 0]
        p1, p2 = phi[..., 0], phi[..., 1]
        u1, u2 = -t + lam * p1, 1 - t * t + lam * p2
        return (u1 * u1 + u2 * u2) / (2 * (self.gamma + lam)) - 0.5 * lam * (
            p1 * p1 + p2 * p2
        )

    def proximal_value(
        self, instance: Instance, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        p1, p2 = phi[..., 0:1], phi[..., 1:2]  # (B, 1): broadcast over grid points

        def quartic(t: torch.Tensor) -> torch.Tensor:  # (B, N) → (B, N)
            u1, u2 = -t + lam * p1, 1 - t * t + lam * p2
            return u1 * u1 + u2 * u2

        box = torch.full_like(phi[..., 0], self.box)
        best, _ = minimize_interval(quartic, -box, box, points=self.prox_grid)
        return best / (2 * (self.gamma + lam)) - 0.5 * lam * (phi * phi).sum(dim=-1)

    def minimax_points(
        self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """The two minimax points ``(θ*, ψ*₁, ψ*₂)``, shape ``(2, 3)``."""
        s = 1 / math.sqrt(2.0)
        g = self.gamma
        return torch.tensor(
            [[s, -s / g, 0.5 / g], [-s, s / g, 0.5 / g]], dtype=dtype, device=device
        )

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor | None:
        z = torch.cat([theta[..., :1], phi[..., :2]], dim=-1)  # (B, 3)
        pts = self.minimax_points(z.dtype, z.device)  # (2, 3)
        d = torch.sqrt(((z.unsqueeze(-2) - pts) ** 2).sum(dim=-1))  # (B, 2)
        return d.amin(dim=-1)

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor | None:
        t = theta_cloud[..., 0]
        m1, m2 = t.mean(dim=-1), (t * t).mean(dim=-1)
        moments = torch.sqrt(m1 * m1 + (m2 - 1) ** 2)
        critic = torch.sqrt((phi_cloud * phi_cloud).sum(dim=-1).mean(dim=-1))
        return moments + critic
