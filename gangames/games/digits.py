"""Digits GAN: MLP generator and discriminator on scikit-learn's bundled 8×8 digits (T10).

The data are the 1,797 images of ``sklearn.datasets.load_digits`` (shipped with
scikit-learn: nothing is downloaded), 64 pixels each, values 0–16 scaled to
``[−1, 1]`` (docs/algorithms.md §8, T10). Each instance splits them at random (from its
keyed stream; an instance holds the row indices, the images are shared) into 1,497
training digits, which minibatches are drawn from, and 300
held-out digits, which the evaluation set and the MMD² use.

Objective: the GAN losses of :mod:`gangames.games._neural` (``standard``,
``non_saturating`` (default), ``wgan_clip``, ``wgan_gp``) with a generator
``G(z) = tanh(MLP(z))`` in ``[−1, 1]^64``, ``z ~ N(0, I_16)``, and a discriminator
``MLP: ℝ^64 → ℝ`` (logit or critic value).

Parameter layout (flat vectors pack, per layer i, ``layer{i}.weight`` (fan_in, fan_out)
then ``layer{i}.bias`` (fan_out,), row-major; :class:`~gangames.nets.MLP`):

=============  ==============================================  ===================
seat           network                                         feasible set
=============  ==============================================  ===================
generator      ``latent_dim → width^depth → 64``, then tanh      ℝ^d
discriminator  ``64 → width^depth → 1``                          ℝ^d, or the clip box
=============  ==============================================  ===================

Equilibrium: the generator's law equals the (empirical) digit distribution and the
discriminator is constant. No closed form is known for finite networks, so the env
estimates the gaps with :mod:`gangames.estimators` (a labelled lower bound).

Quality metrics (``infos``; docs/algorithms.md T10, :mod:`gangames.quality`) on 500
generated digits from fixed latents: a multinomial logistic regression fitted once on
all real digits (scikit-learn, L-BFGS, deterministic; cached in-process) labels them —
``classes_covered`` (of 10), ``class_kl`` (KL of the label histogram to uniform),
``confident`` (fraction with top probability > 0.9) — and ``mmd2`` is the unbiased
Gaussian-kernel MMD² to the 300 held-out real digits, bandwidth the median pairwise
distance of the real digits.

Render: ``render_mode="rgb_array"`` draws 64 generated digits of instance 0 (fixed
latents) as an 8×8 grid; ``env.save_png(path)`` writes it.

Arguments:
    latent_dim: latent dimension (default 16).
    width: hidden width of both networks.
    depth: hidden layers of both networks.
    activation: ``"relu"``, ``"leaky_relu"`` (slope 0.2) or ``"tanh"``.
    loss: ``"standard"``, ``"non_saturating"``, ``"wgan_clip"`` or ``"wgan_gp"``.
    clip: weight-clipping box of ``"wgan_clip"``.
    gp_weight: λ of ``"wgan_gp"``.
    minibatch: samples per oracle query.
    eval_size: samples of the held-out evaluation set (drawn from the 300 held-out
        digits, with replacement).

Version history:
    v0: initial version.

References:
    F. Pedregosa et al. "Scikit-learn: Machine Learning in Python." JMLR 12, 2011
    (``load_digits``: the UCI optical recognition of handwritten digits test set).
    A. Gretton et al. "A Kernel Two-Sample Test." JMLR 13, 2012.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from gangames.concepts import Condition, Preset, Target
from gangames.games._neural import NeuralGAN, uniform_index
from gangames.quality import class_quality, mmd2
from gangames.random import Stream
from gangames.render import tile
from gangames.types import Instance

__all__ = ["DigitsGAN", "digit_classifier", "digits"]

TRAIN, HELD_OUT = 1497, 300


@functools.cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 digits ``(1797, 64)`` scaled to ``[−1, 1]`` (float64) and their labels."""
    # scikit-learn takes seconds to import and only this game needs it: load on use
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = bunch.data.astype(np.float64) / 8.0 - 1.0
    images.setflags(write=False)
    return images, np.asarray(bunch.target)


@functools.cache
def digit_classifier() -> tuple[np.ndarray, np.ndarray]:
    """``(coef (10, 64), intercept (10,))`` of a logistic regression fitted on every digit.

    Fitted once per process (L-BFGS from zero: deterministic) and cached.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x, y = digits()
    # One BLAS thread: on a shared machine oversubscribed threads made the fit ~100×
    # slower, and a single thread keeps the result independent of the core count.
    with threadpool_limits(1):
        clf = LogisticRegression(max_iter=2000, C=1.0).fit(x, y)
    return clf.coef_.astype(np.float64), clf.intercept_.astype(np.float64)


@functools.cache
def _digits_tensor() -> torch.Tensor:
    return torch.tensor(digits()[0])  # a copy: torch wants writable memory


@functools.cache
def _digits_on(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The digits ``(1797, 64)`` on a device in a dtype, cached.

    Instances hold row indices only, so B instances (B·K under ``mixed``) share it.
    """
    return _digits_tensor().to(device=device, dtype=dtype)


@functools.cache
def _bandwidth() -> float:
    """Median pairwise Euclidean distance of the real digits (the MMD bandwidth)."""
    x = _digits_tensor()
    d = torch.cdist(x, x)
    return float(d[torch.triu(torch.ones_like(d, dtype=torch.bool), 1)].median())


@dataclass(frozen=True)
class DigitsGAN(NeuralGAN):
    """MLP GAN on the 8×8 digits (T10); see the module docstring.

    Example:
        >>> from gangames.engine import new_match
        >>> game = DigitsGAN(width=16, minibatch=8, eval_size=16)
        >>> m = new_match(game, [0])
        >>> game.generate(m.state.theta.unsqueeze(1), torch.zeros(1, 3, 16)).shape
        torch.Size([1, 3, 64])
    """

    preset: ClassVar[Preset] = Preset(
        "sample_quality",
        Target(
            (
                Condition("classes_covered", 10, at_least=True),
                Condition("class_kl", 0.1),
            )
        ),
        budget=5000,
        why=(
            "No closed-form gap (its estimate is a lower bound, shown beside): the "
            "digits are solved when all 10 classes are generated with a class "
            "histogram within KL 0.1 of uniform (a collapsed generator scores log 10)."
        ),
        measure_every=100,
    )

    data_dim: ClassVar[int] = 64
    quality_samples: ClassVar[int] = 500
    quality_metrics: ClassVar[tuple[str, ...]] = (
        "classes_covered",
        "class_kl",
        "confident",
        "mmd2",
    )

    generator_output: ClassVar[str] = "tanh"  # pixels live in [−1, 1]

    latent_dim: int = 16

    def data_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        count = _digits_tensor().shape[0]
        perm = torch.argsort(stream.uniform((count,), dtype=torch.float64))
        return {
            "train_rows": perm[:, :TRAIN],
            "held_out_rows": perm[:, TRAIN:],
        }

    def _rows(self, instance: Instance, rows: torch.Tensor) -> torch.Tensor:
        """The digits of ``rows`` ``(B, n)`` as ``(B, n, 64)``."""
        ref = instance["_batch"]
        return _digits_on(ref.device, ref.dtype)[rows]

    def real_samples(
        self,
        instance: Instance,
        u: torch.Tensor,
        noise: torch.Tensor,
        *,
        held_out: bool = False,
    ) -> torch.Tensor:
        split = instance["held_out_rows" if held_out else "train_rows"]
        pos = uniform_index(u, split.shape[-1])
        return self._rows(instance, torch.gather(split, 1, pos))

    def render_cloud_rgb(
        self, instance: Instance, theta_cloud: torch.Tensor, row: int = 0
    ) -> np.ndarray | None:
        """An 8×8 grid of generated digits (fixed latents) of instance ``row``."""
        fake = self.fixed_samples(instance, theta_cloud, row, 64)
        return tile(fake.reshape(-1, 8, 8), cols=8)

    def sample_quality(
        self, instance: Instance, samples: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        coef, intercept = digit_classifier()
        w = torch.from_numpy(coef).to(samples)
        b = torch.from_numpy(intercept).to(samples)
        probs = torch.softmax(samples @ w.T + b, dim=-1)
        q = class_quality(probs)
        real = self._rows(instance, instance["held_out_rows"])
        return {
            "classes_covered": q.classes_covered,
            "class_kl": q.class_kl,
            "confident": q.confident,
            "mmd2": mmd2(samples, real, _bandwidth()),
        }
