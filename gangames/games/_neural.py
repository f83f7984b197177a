"""The shared machinery of neural GANs: MLP players, GAN losses, minibatches, clouds.

:class:`NeuralGAN` is the base of :class:`~gangames.games.mixture.MixtureGAN` and
:class:`~gangames.games.digits.DigitsGAN`; a subclass supplies the data (its instance
and a sampler of real minibatches) and the generator's output map. Everything else —
layouts, initialisation, the four losses, minibatches drawn from the keyed stream, the
held-out evaluation set, weight clipping, and the O(K) evaluation of particle clouds
under :func:`~gangames.game.mixed` — lives here.

Losses, with ``ℓ = D_φ(·)`` the discriminator's logit (critic value for WGANs), real
``x ~ p_data``, generated ``G_θ(z)``, ``z ~ N(0, I)``, ``s = softplus``:

====================  =========================================  =====================
``loss``              ``V(θ, φ)`` (gaps use it)                    ``L_G`` (generator)
====================  =========================================  =====================
``"standard"``        ``−E s(−ℓ(x)) − E s(ℓ(G(z)))``               ``V`` (zero-sum)
                      (``E log D(x) + E log(1 − D(G(z)))``)
``"non_saturating"``  same ``V``                                   ``E s(−ℓ(G(z)))``
                                                                   (``−E log D(G(z))``)
``"wgan_clip"``       ``E ℓ(x) − E ℓ(G(z))``, φ clipped to          ``V`` (zero-sum)
                      ``[−clip, clip]``
``"wgan_gp"``         ``E ℓ(x) − E ℓ(G(z)) − λ E(‖∇ℓ(x̂)‖ − 1)²``    ``E ℓ(x) − E ℓ(G(z))``
                      with ``x̂ = εx + (1 − ε)G(z)``, ``ε ~ U(0,1)``
====================  =========================================  =====================

The discriminator always minimises ``L_D = −V``. Goodfellow et al. (2014) introduced
the standard and non-saturating losses, Arjovsky et al. (2017) the clipped WGAN and
Gulrajani et al. (2017) the gradient penalty (the generator does not differentiate the
penalty, hence the non-zero-sum ``L_G``). Every gap is measured on ``V``; ``V`` is
bounded above in φ for every loss (``≤ 0`` for the log losses; the clip box and the
penalty bound the critics), so the exploitabilities are finite.

Minibatches: :meth:`NeuralGAN.sample_data` draws ``minibatch`` real samples, as many
latents (and ε for the penalty) from the oracle's keyed stream (one draw of
uniforms and normals), so instance ``b`` of a
batch sees the same numbers as a single run. ``data=None`` (the metrics' "exact"
value) is the instance's fixed held-out evaluation set of ``eval_size`` samples.

Mixed strategies (docs/design.md §4, docs/algorithms.md §4.1): :meth:`NeuralGAN.cloud_objectives`
evaluates K generator and K discriminator particles in O(K) network passes. A mixed
generator draws each sample from one particle — sample ``s`` of a minibatch of n comes
from particle ``⌊s/⌈n/K⌉⌋``, an exactly uniform mixture when K divides n — and each
discriminator particle scores the real and the mixed generated samples; the losses
are averaged over the discriminator particles (per-pair losses averaged, never outputs
averaged). This is an unbiased minibatch estimate of the lifted objectives
``E_{θ∼ν} E_{φ∼μ}``; with identical particles it equals the pure game exactly.
"""

from __future__ import annotations

import abc
import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.game import Capabilities, Game, ParamLayout
from gangames.nets import ACTIVATIONS, MLP
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["LOSSES", "NeuralGAN"]

LOSSES = ("standard", "non_saturating", "wgan_clip", "wgan_gp")
_GP_EPS = 1e-12  # inside the penalty's square root: keeps its gradient finite at ∇ℓ = 0


@functools.lru_cache(maxsize=32)
def _sides(
    n_real: int, n_fake: int, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(sign, weight)`` over real then generated samples: ``(−1, 1/n_real)``, ``(+1, 1/n_fake)``.

    Built on the host and cached per shape, dtype and device (no per-call work).
    """
    sizes = torch.tensor([n_real, n_fake])
    sign = torch.repeat_interleave(torch.tensor([-1.0, 1.0], dtype=dtype), sizes)
    weight = torch.repeat_interleave(1.0 / sizes.to(dtype), sizes)
    return sign.to(device), weight.to(device)


def uniform_index(u: torch.Tensor, count: int) -> torch.Tensor:
    """Indices in ``[0, count)``, each equally likely, from uniforms ``u`` on (0, 1)."""
    return (u * count).long().clamp(max=count - 1)


@dataclass(frozen=True)
class NeuralGAN(Game):
    """MLP generator against MLP discriminator on a data set given by the subclass.

    Args:
        latent_dim: dimension of the generator's input ``z ~ N(0, I)``.
        width: hidden width of both networks.
        depth: hidden layers of both networks.
        activation: ``"relu"``, ``"leaky_relu"`` or ``"tanh"``.
        loss: one of :data:`LOSSES`.
        clip: weight-clipping box of ``"wgan_clip"``.
        gp_weight: penalty weight λ of ``"wgan_gp"``.
        minibatch: real (and generated) samples per oracle query.
        eval_size: samples of the held-out evaluation set (``data=None``).
    """

    stochastic: ClassVar[bool] = True
    estimate_gaps: ClassVar[bool] = True
    render_modes: ClassVar[tuple[str, ...]] = ("ansi", "rgb_array")
    gap_estimator: ClassVar[str] = "none (no closed form; the env's budgeted estimator)"
    data_dim: ClassVar[int] = 2
    quality_samples: ClassVar[int] = 2500
    real_noise_dim: ClassVar[int] = 0
    generator_output: ClassVar[str] = "identity"  # or "tanh": the generator's last map
    quality_metrics: ClassVar[tuple[str, ...]] = ()  # names sample_quality returns

    latent_dim: int = 8
    width: int = 128
    depth: int = 2
    activation: str = "relu"
    loss: str = "non_saturating"
    clip: float = 0.01
    gp_weight: float = 10.0
    minibatch: int = 64
    eval_size: int = 512

    def __post_init__(self) -> None:
        for name in ("latent_dim", "width", "depth", "minibatch", "eval_size"):
            checks.positive(name, getattr(self, name), integer=True)
        if self.activation not in ACTIVATIONS:
            raise InvalidConfigError(
                f"activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )
        if self.loss not in LOSSES:
            raise InvalidConfigError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        for name in ("clip", "gp_weight"):
            checks.positive(name, getattr(self, name))

    @property
    def capabilities(self) -> Capabilities:
        """No closed-form gaps; the data set's quality metrics; ``wgan_clip`` clips φ."""
        return Capabilities(
            quality=self.quality_metrics,
            constrained=("discriminator",) if self.loss == "wgan_clip" else (),
        )

    # ---- networks ------------------------------------------------------------------
    @property
    def zero_sum(self) -> bool:  # type: ignore[override]
        return self.loss in ("standard", "wgan_clip")

    @functools.cached_property
    def generator_net(self) -> MLP:
        """``latent_dim → width^depth → data_dim``."""
        hidden = (self.width,) * self.depth
        return MLP(
            (self.latent_dim, *hidden, self.data_dim),
            self.activation,
            "layer",
            self.generator_output,
        )

    @functools.cached_property
    def discriminator_net(self) -> MLP:
        """``data_dim → width^depth → 1``."""
        hidden = (self.width,) * self.depth
        return MLP((self.data_dim, *hidden, 1), self.activation, "layer")

    def layouts(self) -> dict[Seat, ParamLayout]:
        return dict(self._layouts)

    @functools.cached_property
    def _layouts(self) -> dict[Seat, ParamLayout]:
        # built once per game: every oracle query unflattens both seats
        return {
            "generator": ParamLayout(self.generator_net.shapes()),
            "discriminator": ParamLayout(self.discriminator_net.shapes()),
        }

    # ---- data ------------------------------------------------------------------------
    @abc.abstractmethod
    def real_samples(
        self,
        instance: Instance,
        u: torch.Tensor,
        noise: torch.Tensor,
        *,
        held_out: bool = False,
    ) -> torch.Tensor:
        """Real samples ``(B, n, data_dim)`` from uniforms and normals.

        ``u`` ``(B, n)`` are float64 uniforms, ``noise`` ``(B, n, real_noise_dim)``
        standard normals (the subclass decides what they pick). ``held_out=True``
        draws the evaluation set (from a held-out split where the data set is finite).
        """

    @abc.abstractmethod
    def data_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        """The data-set part of an instance (e.g. mixture means)."""

    def _draw(
        self, instance: Instance, stream: Stream, n: int, held_out: bool = False
    ) -> Instance:
        # One keyed draw per minibatch (uniforms and normals), split by column: each
        # draw costs a hash pass, so one wide draw is fastest.
        dtype = instance["_batch"].dtype
        gp = self.loss == "wgan_gp"
        k = self.real_noise_dim
        u, g = stream.uniform_and_normal(
            (n, 2 if gp else 1), (n, k + self.latent_dim), dtype=torch.float64
        )
        g = g.to(dtype)
        x = self.real_samples(instance, u[..., 0], g[..., :k], held_out=held_out)
        data = {"x": x, "z": g[..., k:]}
        if gp:
            data["eps"] = u[..., 1:2].to(dtype)
        return data

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        inst = self.data_instance(stream.fork(1), dtype)
        inst["_batch"] = torch.zeros(stream.batch, dtype=dtype, device=stream.device)
        held_out = self._draw(inst, stream.fork(2), self.eval_size, held_out=True)
        inst.update({f"eval_{k}": v for k, v in held_out.items()})
        inst["quality_z"] = stream.fork(3).normal(
            (self.quality_samples, self.latent_dim), dtype=dtype
        )
        return inst

    def sample_data(self, instance: Instance, stream: Stream) -> Instance | None:
        return self._draw(instance, stream, self.minibatch)

    def eval_data(self, instance: Instance) -> Instance:
        """The held-out evaluation set (what ``data=None`` means)."""
        return {
            k: instance[f"eval_{k}"]
            for k in ("x", "z", "eps")
            if f"eval_{k}" in instance
        }

    # ---- quality -----------------------------------------------------------------------
    def cloud_quality(
        self, instance: Instance, theta_cloud: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Quality metrics of ``quality_samples`` generated samples (fixed latents)."""
        with torch.no_grad():
            samples = self.generate(theta_cloud, instance["quality_z"])
            return self.sample_quality(instance, samples)

    def fixed_samples(
        self, instance: Instance, theta_cloud: torch.Tensor, row: int, n: int
    ) -> np.ndarray:
        """``n`` samples ``(n, data_dim)`` of instance ``row`` from its fixed latents.

        What the renderers draw (the quality metrics' first ``n`` latents).
        """
        with torch.no_grad():
            fake = self.generate(
                theta_cloud[row : row + 1], instance["quality_z"][row : row + 1, :n]
            )
        return fake[0].cpu().numpy()

    def sample_quality(
        self, instance: Instance, samples: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Quality metrics of generated ``samples`` ``(B, n, data_dim)`` (none here)."""
        return {}

    # ---- parameters ------------------------------------------------------------------
    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = instance["eval_x"].dtype
        theta = self.generator_net.init(stream, dtype)
        phi = self.discriminator_net.init(stream, dtype)
        return theta, self.project("discriminator", instance, phi)

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        if seat == "discriminator" and self.loss == "wgan_clip":
            # Arjovsky et al. clip every critic parameter, biases included.
            return params.clamp(-self.clip, self.clip)
        return params

    # ---- objectives ------------------------------------------------------------------
    def generate(self, theta_cloud: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Samples of a generator cloud ``(B, K, d_G)`` from latents ``(B, n, L)``.

        Sample ``s`` comes from particle ``⌊s/⌈n/K⌉⌋`` (K = 1: the pure generator).

        Returns:
            ``(B, n, data_dim)``.
        """
        b, k, d = theta_cloud.shape
        n = z.shape[-2]
        m = -(-n // k)  # samples per particle
        if m * k != n:
            z = F.pad(z, (0, 0, 0, m * k - n))
        params = self._layouts["generator"].unflatten(theta_cloud.reshape(b * k, d))
        out = self.generator_net(params, z.reshape(b * k, m, -1))
        return out.reshape(b, k * m, -1)[:, :n]

    def cloud_objectives(
        self,
        instance: Instance,
        theta_cloud: torch.Tensor,
        phi_cloud: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(V, L_G, L_D)`` of clouds ``(B, K_G, d_G)``, ``(B, K_D, d_D)`` (O(K) passes)."""
        data = self.eval_data(instance) if data is None else data
        x, z = data["x"], data["z"]
        fake = self.generate(theta_cloud, z)  # (B, n, D)
        b, k, d = phi_cloud.shape
        n = x.shape[-2]
        net = self.discriminator_net
        params = self._layouts["discriminator"].unflatten(phi_cloud.reshape(b * k, d))

        def per_particle(t: torch.Tensor) -> torch.Tensor:  # (B, n', D) → (B·K, n', D)
            return (
                t.unsqueeze(1).expand(b, k, *t.shape[1:]).reshape(b * k, *t.shape[1:])
            )

        # Real and generated samples in separate passes (not one concatenated batch):
        # the generator's backward then runs through D on the generated half only.
        real = net(params, per_particle(x))[..., 0].reshape(b, k, n)
        gen = net(params, per_particle(fake))[..., 0].reshape(b, k, fake.shape[-2])
        if self.loss in ("standard", "non_saturating"):
            v = -(F.softplus(-real).mean(dim=-1) + F.softplus(gen).mean(dim=-1))
            v = v.mean(dim=-1)
            if self.loss == "standard":
                return v, v, -v
            l_g = F.softplus(-gen).mean(dim=-1).mean(dim=-1)
            return v, l_g, -v
        w = (real.mean(dim=-1) - gen.mean(dim=-1)).mean(dim=-1)
        if self.loss == "wgan_clip":
            return w, w, -w
        eps = data["eps"]
        mix = eps * x + (1.0 - eps) * fake
        _, grad = net.value_and_input_grad(params, per_particle(mix))
        norm = torch.sqrt((grad * grad).sum(dim=-1) + _GP_EPS)
        penalty = ((norm - 1.0) ** 2).reshape(b, k, n).mean(dim=-1).mean(dim=-1)
        v = w - self.gp_weight * penalty
        return v, w, -v

    def objectives(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.cloud_objectives(
            instance, theta.unsqueeze(1), phi.unsqueeze(1), data
        )

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        return self.objectives(instance, theta, phi, data)[0]

    def value_and_loss_gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(V, ∇_θ L_G, ∇_φ L_D)`` by a hand-written reverse pass (no autograd graph).

        One generator pass, one discriminator pass over the real and generated
        samples together, and three reverse passes (:meth:`~gangames.nets.MLP.vjp`):
        ``L_D``'s over the discriminator's parameters, ``L_G``'s through the
        discriminator to the generated samples, then on into the generator's
        parameters. The losses' derivatives in the logits ``ℓ`` are closed forms —
        ``∂ s(−ℓ)/∂ℓ = −σ(−ℓ)``, ``∂ s(ℓ)/∂ℓ = σ(ℓ)`` for the log losses, ``±1`` for
        the clipped WGAN. The penalised WGAN (a gradient of a gradient) uses autograd.
        """
        if self.loss == "wgan_gp":
            return super().value_and_loss_gradients(instance, theta, phi, data)
        data = self.eval_data(instance) if data is None else data
        x, z = data["x"], data["z"]
        n_real, n_fake = x.shape[-2], z.shape[-2]
        gen, dis = self.generator_net, self.discriminator_net
        g_params = self._layouts["generator"].unflatten(theta)
        d_params = self._layouts["discriminator"].unflatten(phi)
        with torch.no_grad():
            g_trace = gen.trace(g_params, z)
            d_trace = dis.trace(d_params, torch.cat([x, g_trace.output], dim=-2))
            logits = d_trace.output[..., 0]  # real samples, then generated ones
            sign, weight = _sides(n_real, n_fake, logits.dtype, logits.device)
            if self.loss == "wgan_clip":
                # V = Σ −sign·w·ℓ (mean real − mean generated), ∂L_D/∂ℓ = sign·w
                cotangent = sign * weight
                v = -(logits * cotangent).sum(dim=-1)
                g_fake = -cotangent[n_real:].expand(logits.shape[0], n_fake)
            else:
                # t = −ℓ (real), +ℓ (generated): V = −Σ w·s(t), ∂L_D/∂ℓ = ±w·σ(t)
                t = logits * sign
                v = -(F.softplus(t) * weight).sum(dim=-1)
                cotangent = torch.sigmoid(t) * (sign * weight)
                fake = logits[:, n_real:]
                g_fake = (
                    -cotangent[:, n_real:]
                    if self.loss == "standard"
                    else torch.sigmoid(-fake) / -n_fake
                )
            cotangent = cotangent.expand_as(logits).unsqueeze(-1)
            g_phi, _ = dis.vjp(d_params, d_trace, cotangent)
            _, g_samples = dis.vjp(
                d_params,
                d_trace.rows(slice(n_real, None)),
                g_fake.unsqueeze(-1),
                wrt_params=False,
                wrt_input=True,
            )
            g_theta, _ = gen.vjp(g_params, g_trace, g_samples)  # type: ignore[arg-type]
        return v, g_theta, g_phi  # type: ignore[return-value]
