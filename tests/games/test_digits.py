"""DigitsGAN (T10): bundled data, splits, classifier metrics, batching, play."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gangames
from gangames.engine import new_match
from gangames.games.digits import DigitsGAN, digit_classifier, digits
from gangames.random import Stream
from gangames.testing import check_game

SMALL = {"width": 8, "minibatch": 8, "eval_size": 16}


def test_the_bundled_digits_scaled_to_minus_one_one():
    x, y = digits()
    assert x.shape == (1797, 64) and y.shape == (1797,)
    assert x.min() == -1.0 and x.max() == 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def test_classifier_is_fitted_once_and_labels_real_digits():
    first = digit_classifier()
    assert digit_classifier() is first  # cached in-process
    coef, intercept = first
    x, y = digits()
    assert (np.argmax(x @ coef.T + intercept, axis=1) == y).mean() > 0.98


def test_splits_are_disjoint_and_minibatches_come_from_training_digits():
    game = DigitsGAN(**SMALL)
    inst = game.sample_instance(Stream.from_seeds([0, 1]), torch.float64)
    train, held = inst["train_rows"], inst["held_out_rows"]
    assert train.shape == (2, 1497) and held.shape == (2, 300)
    for b in range(2):
        rows = set(train[b].tolist())
        assert len(rows) == 1497 and not rows & set(held[b].tolist())
    assert not torch.equal(train[0], train[1])  # each instance its own split
    x = torch.tensor(digits()[0])
    batch = game.sample_data(inst, Stream.from_seeds([0, 1]))["x"]
    for b in range(2):
        # every real sample is a training digit of that instance
        d = torch.cdist(batch[b], x[train[b]])
        assert d.min(dim=-1).values.max() == 0
        e = torch.cdist(inst["eval_x"][b], x[held[b]])
        assert e.min(dim=-1).values.max() == 0


@pytest.mark.parametrize("loss", ["standard", "non_saturating", "wgan_clip", "wgan_gp"])
def test_check_game(loss):
    check_game(DigitsGAN(loss=loss, **SMALL))


def test_check_game_mixed():
    check_game(gangames.mixed(DigitsGAN(**SMALL), particles=2))


def test_generator_output_is_tanh_of_the_network():
    game = DigitsGAN(**SMALL)
    m = new_match(game, [0], dtype=torch.float64)
    z = torch.randn(1, 5, 16, dtype=torch.float64)
    named = game.layouts()["generator"].unflatten(m.state.theta)
    h = z
    for i in range(game.depth + 1):
        h = h @ named[f"layer{i}.weight"] + named[f"layer{i}.bias"].unsqueeze(1)
        h = torch.relu(h) if i < game.depth else torch.tanh(h)
    assert torch.allclose(game.generate(m.state.theta.unsqueeze(1), z), h, rtol=1e-12)


def test_quality_of_real_digits_and_of_noise():
    game = DigitsGAN(**SMALL)
    m = new_match(game, [0, 1], dtype=torch.float64)
    x = torch.tensor(digits()[0])
    real = x[m.instance["train_rows"][:, :500]]  # training digits vs held-out digits
    q = game.sample_quality(m.instance, real)
    assert q["classes_covered"].tolist() == [10, 10]
    assert (q["class_kl"] < 0.05).all() and (q["confident"] > 0.8).all()
    noise = torch.rand(
        2, 500, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0)
    )
    qn = game.sample_quality(m.instance, 2 * noise - 1)
    assert (q["mmd2"].abs() < 0.01).all()
    assert (qn["mmd2"] > 20 * q["mmd2"].abs().max()).all()
    # one digit repeated: one class, KL = log 10
    same = real[:, :1].expand(-1, 500, -1)
    q1 = game.sample_quality(m.instance, same)
    assert q1["classes_covered"].tolist() == [1, 1]
    assert torch.allclose(
        q1["class_kl"], torch.full((2,), math.log(10), dtype=torch.float64)
    )


def test_batch_equals_single_instances():
    game = DigitsGAN(loss="wgan_gp", **SMALL)
    seeds = [3, 4]
    m = new_match(game, seeds, dtype=torch.float64)
    data = game.sample_data(m.instance, Stream.from_seeds(seeds))
    full = game.value_and_loss_gradients(m.instance, m.state.theta, m.state.phi, data)
    q = game.quality(m.instance, m.state.theta)
    for row, seed in enumerate(seeds):
        one = new_match(game, [seed], dtype=torch.float64)
        d1 = game.sample_data(one.instance, Stream.from_seeds([seed]))
        single = game.value_and_loss_gradients(
            one.instance, one.state.theta, one.state.phi, d1
        )
        for a, b in zip(full, single, strict=True):
            assert torch.allclose(a[row : row + 1], b, rtol=1e-12, atol=1e-14)
        q1 = game.quality(one.instance, one.state.theta)
        for k in q:
            assert torch.allclose(
                q[k][row : row + 1].double(), q1[k].double(), rtol=1e-10
            )
