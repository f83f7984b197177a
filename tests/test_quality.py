"""Sample-quality metrics against hand-computed and closed-form answers."""

from __future__ import annotations

import math

import torch

from gangames.games.mixture import mixture_means
from gangames.quality import class_quality, kl_to_uniform, mmd2, mode_quality


def test_mode_quality_counts_modes_good_samples_and_kl():
    means = mixture_means("ring").unsqueeze(0)  # (1, 8, 2)
    std = 0.02
    everywhere = means.repeat(1, 10, 1) + 0.5 * std  # 80 samples, 10 per mode, all good
    q = mode_quality(everywhere, means, std)
    assert q.modes_covered.item() == 8
    assert q.high_quality.item() == 100.0
    assert abs(q.mode_kl.item()) < 1e-12
    # collapsed on mode 0 plus 20 samples at the origin (2 away from every mode)
    collapsed = torch.cat(
        [means[:, :1].repeat(1, 60, 1), torch.zeros(1, 20, 2, dtype=means.dtype)], dim=1
    )
    q = mode_quality(collapsed, means, std)
    assert q.modes_covered.item() == 1
    assert q.high_quality.item() == 75.0
    assert math.isclose(q.mode_kl.item(), math.log(8), rel_tol=1e-12)
    # 3 std is the edge: just inside counts, just outside does not
    edge = means[:, :2] + torch.tensor([[[2.99 * std, 0.0], [3.01 * std, 0.0]]])
    q = mode_quality(edge, means, std)
    assert q.modes_covered.item() == 1 and q.high_quality.item() == 50.0
    # stricter variant: at least 20 samples per mode
    q = mode_quality(everywhere, means, std, min_count=20)
    assert q.modes_covered.item() == 0


def test_kl_to_uniform_known_values():
    counts = torch.tensor(
        [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0, 0.0]]
    )
    kl = kl_to_uniform(counts)
    assert math.isclose(kl[0].item(), math.log(2), rel_tol=1e-6)
    assert math.isclose(kl[1].item(), math.log(4), rel_tol=1e-6)
    expected = 0.75 * math.log(3) + 0.25 * math.log(1)
    assert math.isclose(kl[2].item(), expected, rel_tol=1e-6)


def test_class_quality():
    probs = torch.tensor(
        [[[0.95, 0.05, 0.0], [0.6, 0.4, 0.0], [0.0, 0.05, 0.95], [0.0, 0.0, 1.0]]]
    )
    q = class_quality(probs)
    assert q.classes_covered.item() == 2
    assert math.isclose(q.confident.item(), 0.75)
    assert math.isclose(q.class_kl.item(), math.log(3 / 2), rel_tol=1e-6)


def test_mmd2_matches_the_gaussian_closed_form():
    # N(0, s²I) vs N(μ, s²I) in D dims, Gaussian kernel of bandwidth h:
    # MMD² = 2 (h²/(h² + 2s²))^{D/2} (1 − exp(−‖μ‖² / (2(h² + 2s²)))).
    g = torch.Generator().manual_seed(0)
    d, s, h, n = 2, 1.0, 1.5, 2000
    mu = torch.tensor([1.0, 0.5], dtype=torch.float64)
    x = s * torch.randn(4, n, d, generator=g, dtype=torch.float64)
    y = mu + s * torch.randn(4, n, d, generator=g, dtype=torch.float64)
    c = h * h + 2 * s * s
    truth = 2 * (h * h / c) ** (d / 2) * (1 - math.exp(-(mu @ mu).item() / (2 * c)))
    est = mmd2(x, y, h)  # 4 independent estimates: their mean is within 5%
    assert abs(est.mean().item() / truth - 1) < 0.05
    assert (est - truth).abs().max() < 0.2 * truth
    same = mmd2(x, s * torch.randn(4, n, d, generator=g, dtype=torch.float64), h)
    assert same.abs().max() < 0.05 * truth
