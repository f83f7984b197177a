"""Sample-quality metrics GAN papers report, as pure batched functions (uncharged).

Mixtures of Gaussians (docs/algorithms.md §8 T9, the VEEGAN definition [code/README]):
a generated sample is **high quality** if it lies within 3 standard deviations of its
nearest mode; a mode is **covered** if it is the nearest mode of at least one
high-quality sample (``min_count`` raises that bar: the stricter variant of §8 uses 20
of 2,500); the **KL to uniform** is ``KL(p ‖ U_M) = Σ_k p_k log(M p_k)`` of the mode
histogram ``p`` of the high-quality samples (``log M``, its maximum, when there is
none).

Digits (docs/algorithms.md §8 T10): a fixed classifier's predicted labels give the class
histogram — classes covered (of 10), KL to uniform and the fraction of confident
samples (top probability > 0.9) — and the kernel two-sample statistic ``MMD²``
(Gretton et al., 2012; the unbiased estimator with a Gaussian kernel) against held-out
real digits.

Every function takes tensors with a leading batch axis B (instances never mix) and
returns ``(B,)`` tensors.

References:
    A. Srivastava, L. Valkov, C. Russell, M. Gutmann, C. Sutton. "VEEGAN: Reducing
    Mode Collapse in GANs using Implicit Variational Learning." NeurIPS 2017.
    A. Gretton, K. Borgwardt, M. Rasch, B. Schölkopf, A. Smola. "A Kernel Two-Sample
    Test." JMLR 13, 2012.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

__all__ = [
    "ClassQuality",
    "ModeQuality",
    "class_quality",
    "kl_to_uniform",
    "mmd2",
    "mode_quality",
]


class ModeQuality(NamedTuple):
    """Mode metrics per instance, each ``(B,)``."""

    modes_covered: torch.Tensor  # number of modes hit by ≥ min_count good samples
    high_quality: torch.Tensor  # percentage of samples within 3 std of a mode
    mode_kl: torch.Tensor  # KL(mode histogram of good samples ‖ uniform)


class ClassQuality(NamedTuple):
    """Classifier metrics per instance, each ``(B,)``."""

    classes_covered: torch.Tensor  # classes predicted for ≥ min_count samples
    class_kl: torch.Tensor  # KL(predicted-class histogram ‖ uniform)
    confident: torch.Tensor  # fraction of samples with top probability > 0.9


def kl_to_uniform(counts: torch.Tensor) -> torch.Tensor:
    """``KL(p ‖ uniform)`` of histograms ``(B, M)``; ``log M`` where a histogram is empty."""
    m = counts.shape[-1]
    total = counts.sum(dim=-1, keepdim=True)
    p = counts / total.clamp_min(1)
    terms = torch.where(p > 0, p * torch.log(p.clamp_min(1e-300) * m), 0.0)
    return torch.where(total[..., 0] > 0, terms.sum(dim=-1), math.log(m))


def mode_quality(
    samples: torch.Tensor,
    means: torch.Tensor,
    std: float,
    *,
    threshold: float = 3.0,
    min_count: int = 1,
) -> ModeQuality:
    """VEEGAN's mode metrics of generated ``samples`` ``(B, n, D)`` against ``means`` ``(B, M, D)``.

    Example:
        >>> means = torch.tensor([[[0.0, 0.0], [4.0, 0.0]]])
        >>> samples = torch.tensor([[[0.01, 0.0], [0.0, 0.02], [2.0, 0.0]]])
        >>> q = mode_quality(samples, means, std=0.05)
        >>> q.modes_covered.item(), round(q.high_quality.item(), 1)
        (1, 66.7)
    """
    dist = torch.cdist(samples, means)  # (B, n, M)
    near, idx = dist.min(dim=-1)
    good = near <= threshold * std
    hits = torch.nn.functional.one_hot(idx, means.shape[-2]).to(samples.dtype)
    counts = (hits * good.unsqueeze(-1).to(samples.dtype)).sum(dim=-2)  # (B, M)
    return ModeQuality(
        modes_covered=(counts >= min_count).sum(dim=-1),
        high_quality=100.0 * good.to(samples.dtype).mean(dim=-1),
        mode_kl=kl_to_uniform(counts),
    )


def class_quality(
    probs: torch.Tensor, *, min_count: int = 1, confidence: float = 0.9
) -> ClassQuality:
    """Class metrics of classifier probabilities ``(B, n, C)`` of generated samples."""
    top, label = probs.max(dim=-1)
    counts = torch.nn.functional.one_hot(label, probs.shape[-1]).to(probs.dtype)
    counts = counts.sum(dim=-2)
    return ClassQuality(
        classes_covered=(counts >= min_count).sum(dim=-1),
        class_kl=kl_to_uniform(counts),
        confident=(top > confidence).to(probs.dtype).mean(dim=-1),
    )


def mmd2(x: torch.Tensor, y: torch.Tensor, bandwidth: float) -> torch.Tensor:
    """Unbiased ``MMD²`` between samples ``x`` ``(B, n, D)`` and ``y`` ``(B, m, D)``.

    Gaussian kernel ``k(a, b) = exp(−‖a − b‖² / (2 h²))`` with bandwidth ``h``;
    ``MMD²_u = mean_{i≠j} k(x_i, x_j) + mean_{i≠j} k(y_i, y_j) − 2 mean k(x_i, y_j)``
    (Gretton et al., 2012, Lemma 6). It is 0 in expectation when both samples come
    from the same law, and may be slightly negative.
    """
    n, m = x.shape[-2], y.shape[-2]

    def k(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth * bandwidth))

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    # drop the diagonals (k(a, a)) for the unbiased within-sample means
    sxx = (kxx.sum(dim=(-2, -1)) - kxx.diagonal(dim1=-2, dim2=-1).sum(-1)) / (
        n * (n - 1)
    )
    syy = (kyy.sum(dim=(-2, -1)) - kyy.diagonal(dim1=-2, dim2=-1).sum(-1)) / (
        m * (m - 1)
    )
    return sxx + syy - 2 * kxy.mean(dim=(-2, -1))
