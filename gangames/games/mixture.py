"""Mixture GAN: MLP generator and discriminator on a 2-D Gaussian mixture (T9).

The mode-collapse benchmark of the Unrolled-GAN and VEEGAN papers (docs/algorithms.md §8,
T9): the data are an equal-weight mixture of isotropic Gaussians in the plane,

* ``mixture="ring"``: 8 modes on the circle of radius 2, ``μ_k = 2(cos 2πk/8,
  sin 2πk/8)``, std 0.02;
* ``mixture="grid"``: 25 modes at ``{−4, −2, 0, 2, 4}²``, std 0.05.

Objective (generator θ minimises, discriminator φ maximises ``V``; the four losses of
:mod:`gangames.games._neural`)::

    standard / non_saturating:  V = E log σ(D(x)) + E log(1 − σ(D(G(z))))
    wgan_clip:                  V = E D(x) − E D(G(z)),  φ ∈ [−clip, clip]^d
    wgan_gp:                    V = E D(x) − E D(G(z)) − λ E(‖∇D(x̂)‖ − 1)²

with ``z ~ N(0, I_latent_dim)``; the non-saturating generator minimises
``−E log σ(D(G(z)))`` and the penalised WGAN generator ``E D(x) − E D(G(z))``
(non-zero-sum games: the oracle serves each seat its own loss, the gaps use ``V``).

Parameter layout (flat vectors pack, per layer i, ``layer{i}.weight`` (fan_in, fan_out)
then ``layer{i}.bias`` (fan_out,), row-major; :class:`~gangames.nets.MLP`):

=============  ==============================================  ===================
seat           network                                         feasible set
=============  ==============================================  ===================
generator      ``latent_dim → width^depth → 2`` (affine out)     ℝ^d
discriminator  ``2 → width^depth → 1`` (logit / critic value)    ℝ^d, or the clip box
=============  ==============================================  ===================

With the defaults (width 128, depth 2, latent 8) that is 17,922 generator and 17,025
discriminator parameters.

Equilibrium: the generator's law equals the mixture and the discriminator is constant
(``D ≡ 1/2`` for the log losses — value ``−log 4`` — ``D`` constant and ``V = 0`` for
the WGANs). A continuous MLP generator only approximates a mixture of separated modes,
and whether a pure equilibrium exists for finite networks is open (Farnia & Ozdaglar,
2020), so no closed form is known: the env estimates gaps with the budgeted estimator
of :mod:`gangames.estimators` (a lower bound, labelled in ``infos``), and reports the
VEEGAN quality metrics of :mod:`gangames.quality` (modes covered, % high-quality
samples, KL of the mode histogram to uniform).

Quality metrics (``infos``; :mod:`gangames.quality`, VEEGAN's definitions on 2,500
samples from fixed latents): ``modes_covered`` (modes that are the nearest mode of a
sample within 3 std), ``high_quality_pct`` (% of samples within 3 std of a mode) and
``mode_kl`` (KL of the high-quality samples' mode histogram to uniform).

Render: ``render_mode="rgb_array"`` draws instance 0's held-out data (grey), the mode
centres (blue) and 1,000 generated samples (red); ``env.save_png(path)`` writes it.

Instances: the mixture is fixed; an instance holds the means ``(B, M, 2)``, the held-out
evaluation set (``eval_size`` real samples, latents and interpolation weights) and the
2,500 latents of the quality metrics, all drawn from the instance's keyed stream.
Minibatches (``minibatch`` real samples and latents) come from the oracle's stream.

Expected dynamics (T9): simultaneous GDA / Adam mode-hop and cover few modes at a time;
unrolled, Stackelberg, Follow-the-Ridge and mixed (particle) methods cover most.

Arguments:
    mixture: ``"ring"`` (8 modes) or ``"grid"`` (25 modes).
    latent_dim: latent dimension.
    width: hidden width of both networks.
    depth: hidden layers of both networks.
    activation: ``"relu"``, ``"leaky_relu"`` (slope 0.2) or ``"tanh"``.
    loss: ``"standard"``, ``"non_saturating"`` (default), ``"wgan_clip"`` or
        ``"wgan_gp"``.
    clip: weight-clipping box of ``"wgan_clip"`` (default 0.01, Arjovsky et al.).
    gp_weight: λ of ``"wgan_gp"`` (default 10, Gulrajani et al.).
    minibatch: samples per oracle query (default 64).
    eval_size: samples of the held-out evaluation set that metrics and the gap
        estimator use (default 512).
    std: standard deviation of every mode (``None``: 0.02 ring, 0.05 grid).

Version history:
    v0: initial version.

References:
    L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein. "Unrolled Generative Adversarial
    Networks." ICLR 2017.
    A. Srivastava, L. Valkov, C. Russell, M. Gutmann, C. Sutton. "VEEGAN: Reducing
    Mode Collapse in GANs using Implicit Variational Learning." NeurIPS 2017.
    I. Goodfellow et al. "Generative Adversarial Nets." NeurIPS 2014.
    M. Arjovsky, S. Chintala, L. Bottou. "Wasserstein GAN." ICML 2017.
    I. Gulrajani et al. "Improved Training of Wasserstein GANs." NeurIPS 2017.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from gangames import checks
from gangames.concepts import Condition, Preset, Target
from gangames.errors import InvalidConfigError
from gangames.games._neural import NeuralGAN, uniform_index
from gangames.quality import mode_quality
from gangames.random import Stream
from gangames.render import scatter
from gangames.types import Instance

__all__ = ["MIXTURES", "MixtureGAN", "mixture_means"]

MIXTURES = ("ring", "grid")
_DEFAULT_STD = {"ring": 0.02, "grid": 0.05}


def mixture_means(mixture: str) -> torch.Tensor:
    """The mode centres ``(M, 2)`` in float64: ring of 8 (radius 2) or grid of 25."""
    if mixture == "ring":
        angle = 2.0 * math.pi * torch.arange(8, dtype=torch.float64) / 8
        return 2.0 * torch.stack([torch.cos(angle), torch.sin(angle)], dim=-1)
    if mixture == "grid":
        axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0], dtype=torch.float64)
        gx, gy = torch.meshgrid(axis, axis, indexing="ij")
        return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=-1)
    raise InvalidConfigError(f"mixture must be one of {MIXTURES}, got {mixture!r}")


@dataclass(frozen=True)
class MixtureGAN(NeuralGAN):
    """MLP GAN on a ring of 8 or a grid of 25 Gaussians (T9); see the module docstring.

    Example:
        >>> from gangames.engine import new_match
        >>> game = MixtureGAN(width=16, minibatch=32)
        >>> m = new_match(game, [0, 1])
        >>> m.state.theta.shape, game.value(m.instance, m.state.theta, m.state.phi).shape
        (torch.Size([2, 450]), torch.Size([2]))
    """

    preset: ClassVar[Preset] = Preset(
        "sample_quality",
        Target(
            (
                Condition("modes_covered", 8, at_least=True),
                Condition("high_quality_pct", 20.0, at_least=True),
            )
        ),
        budget=3000,
        why=(
            "No closed-form gap (its estimate is a lower bound, shown beside): the "
            "ring is solved when all 8 modes are covered and ≥ 20 % of samples lie "
            "within 3 std of a mode. Tuned Adam gets there in ~2000–3000 gradients at "
            "width 64; mode-hopping GDA does not."
        ),
        measure_every=100,
    )

    data_dim: ClassVar[int] = 2
    quality_samples: ClassVar[int] = 2500  # VEEGAN's sample count for the mode metrics
    real_noise_dim: ClassVar[int] = 2
    quality_metrics: ClassVar[tuple[str, ...]] = (
        "modes_covered",
        "high_quality_pct",
        "mode_kl",
    )

    mixture: str = "ring"
    std: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mixture not in MIXTURES:
            raise InvalidConfigError(
                f"mixture must be one of {MIXTURES}, got {self.mixture!r}"
            )
        checks.positive("std", self.std, allow_none=True)

    @property
    def mode_std(self) -> float:
        """Standard deviation of every mode."""
        return _DEFAULT_STD[self.mixture] if self.std is None else float(self.std)

    def data_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        means = mixture_means(self.mixture).to(device=stream.device, dtype=dtype)
        return {"means": means.expand(stream.batch, *means.shape).clone()}

    def real_samples(
        self,
        instance: Instance,
        u: torch.Tensor,
        noise: torch.Tensor,
        *,
        held_out: bool = False,
    ) -> torch.Tensor:
        means = instance["means"]  # (B, M, 2)
        count = means.shape[-2]
        idx = uniform_index(u, count)  # which mode
        centre = torch.gather(means, 1, idx.unsqueeze(-1).expand(-1, -1, 2))
        return centre + self.mode_std * noise

    def render_cloud_rgb(
        self, instance: Instance, theta_cloud: torch.Tensor, row: int = 0
    ) -> np.ndarray | None:
        """Held-out data (grey), mode centres (blue) and 1,000 generated samples (red)."""
        fake = self.fixed_samples(instance, theta_cloud, row, 1000)
        half = 3.0 if self.mixture == "ring" else 5.5
        return scatter(
            [
                (instance["eval_x"][row].cpu().numpy(), (170, 170, 170)),
                (fake, (214, 39, 40)),
                (instance["means"][row].cpu().numpy(), (31, 119, 180)),
            ],
            (-half, half, -half, half),
        )

    def sample_quality(
        self, instance: Instance, samples: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """VEEGAN's metrics (:func:`gangames.quality.mode_quality`) of 2,500 samples."""
        q = mode_quality(samples, instance["means"], self.mode_std)
        return {
            "modes_covered": q.modes_covered,
            "high_quality_pct": q.high_quality,
            "mode_kl": q.mode_kl,
        }
