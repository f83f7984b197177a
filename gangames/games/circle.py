"""Circle pursuit: ``V(θ, φ) = cos(θ − φ)`` on the circle — no pure, a known mixed Nash.

A minimal game with no pure equilibrium whose mixed equilibrium is known in closed form
(docs/algorithms.md §8, T6). Both players choose an angle; the maximiser (φ) wants to match
the minimiser's angle (θ), the minimiser wants to be opposite.

Objective (generator θ minimises, discriminator φ maximises)::

    V(θ, φ) = cos(θ − φ)

Parameter layout:

=============  ========  ================================================
seat           layout    feasible set
=============  ========  ================================================
generator      θ ∈ ℝ¹    ℝ, read as an angle (V is 2π-periodic)
discriminator  φ ∈ ℝ¹    ℝ, read as an angle
=============  ========  ================================================

Angles are **not** wrapped: :meth:`CirclePursuit.project` is the identity. Parameters
live on the universal cover ℝ of the circle, where V and every metric are smooth and
2π-periodic; wrapping to ``(−π, π]`` would not be a Euclidean projection onto a convex
set and would make iterates jump by 2π, breaking update rules that difference or average
iterates (optimistic and extragradient steps, ergodic averages). The price: angles that
drift far (the chase below) lose float32 resolution as they grow (spacing ≈ 1e−3 rad at
``|angle| ≈ 1e4``); use float64 for very long runs.

Best responses and gaps (exact):

* Pure: ``Φ(θ) = max_φ cos(θ − φ) = 1``, ``Ψ(φ) = −1``: the pure duality gap is always
  2, there is no pure equilibrium (pure minimax 1, maximin −1).
* Clouds (:func:`~gangames.game.mixed`): with ``R = (1/K)Σ_k e^{i·angle_k}``,
  ``max_φ E_ν cos(θ − φ) = |R_θ|`` and ``min_θ E_μ cos(θ − φ) = −|R_φ|``, so the
  Nikaidô–Isoda gap is ``NI = |R_θ| + |R_φ|``.

Equilibrium: the mixed equilibria are exactly the pairs of laws with zero first circular
moment, ``R_θ = R_φ = 0`` — both uniform is the canonical one (so is ½δ₀ + ½δ_π);
value 0. :meth:`CirclePursuit.cloud_equilibrium_distance` is ``|R_θ| + |R_φ|`` (= NI);
pure points cannot be at equilibrium, so :meth:`CirclePursuit.equilibrium_distance` is
None. Reference level: K i.i.d. uniform particles per seat give
``E[NI] ≈ √(π/K)`` (``|R|`` is ≈ Rayleigh with scale ``1/√(2K)``): 0.23 at K = 64, 0.11
at K = 256.

Expected dynamics (docs/algorithms.md T6): gradient descent–ascent cycles — the minimiser
runs away, the maximiser chases, angles drift forever; noise-free particle GDA collapses
each cloud to a point; Langevin particles spread towards the uniform law.

Arguments:
    init_scale: initial angles are drawn uniformly from ``[−init_scale, init_scale]``
        (default π: uniform on the circle).

Version history:
    v0: initial version.

References:
    docs/algorithms.md §8 T6 (derived); for the mixed-strategy view: Y.-P. Hsieh, C. Liu,
    V. Cevher. "Finding Mixed Nash Equilibria of Generative Adversarial Networks."
    ICML 2019; C. Domingo-Enrich et al. "A mean-field analysis of two-player zero-sum
    games." NeurIPS 2020.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch

from gangames import checks
from gangames.concepts import Condition, Preset, Target
from gangames.game import Capabilities, Game, ParamLayout
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["CirclePursuit"]


def _resultant(angles: torch.Tensor) -> torch.Tensor:
    """``|(1/K)Σ_k e^{i·angle_k}|`` over the last axis."""
    c, s = torch.cos(angles).mean(dim=-1), torch.sin(angles).mean(dim=-1)
    return torch.sqrt(c * c + s * s)


@dataclass(frozen=True)
class CirclePursuit(Game):
    """Circle pursuit (T6): ``V(θ, φ) = cos(θ − φ)`` for two angles.

    See the module docstring for the best responses and the mixed equilibrium.

    Args:
        init_scale: initial angles uniform on ``[−init_scale, init_scale]``.

    Example:
        >>> from gangames.game import mixed
        >>> game = mixed(CirclePursuit(), particles=2)
        >>> theta = torch.tensor([[0.0, math.pi]])  # ½δ₀ + ½δ_π: an equilibrium
        >>> game.best_response_value({}, "discriminator", theta).abs() < 1e-6
        tensor([True])
    """

    preset: ClassVar[Preset] = Preset(
        "mixed_gap",
        Target((Condition("duality_gap", 0.05),)),
        budget=8000,
        options={"particles": 16},
        why=(
            "Pure strategies keep the gap at 2 (docs/algorithms.md §8 T6); 16 particles drawn uniformly "
            "give √(π/16) ≈ 0.44 on average, evenly spread ones 0. 0.05 asks for a "
            "cloud an order of magnitude better than chance; 8000 is 500 rounds."
        ),
    )

    init_scale: float = math.pi

    def __post_init__(self) -> None:
        checks.positive("init_scale", self.init_scale, allow_zero=True)

    @property
    def capabilities(self) -> Capabilities:
        """Best responses and the mixed equilibrium's distance (no pure equilibrium)."""
        return Capabilities(best_responses=True, cloud_distance=True)

    def layouts(self) -> dict[Seat, ParamLayout]:
        return {
            "generator": ParamLayout.vector("theta", 1),
            "discriminator": ParamLayout.vector("phi", 1),
        }

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        ref = next(iter(instance.values()))
        dtype, device = ref.dtype, ref.device
        s = self.init_scale
        z = s * (2 * stream.uniform((2,), dtype=dtype).to(device) - 1)
        return z[:, :1], z[:, 1:]

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        return torch.cos(theta[..., 0] - phi[..., 0])

    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        s = torch.sin(theta[..., :1] - phi[..., :1])
        return -s, s

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor | None:
        r = _resultant(cloud[..., 0])
        return r if responder == "discriminator" else -r

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor | None:
        return None  # no pure equilibrium exists

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor | None:
        return _resultant(theta_cloud[..., 0]) + _resultant(phi_cloud[..., 0])
