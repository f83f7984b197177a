"""The shipped game checker over every registered game and variant."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

import gangames
from gangames.game import Game
from gangames.games._neural import NeuralGAN
from gangames.testing import check_game


def test_check_game(variant):
    name, options = variant
    check_game(gangames.make_game(name, **options))


def test_check_game_float32(variant):
    name, options = variant
    check_game(gangames.make_game(name, **options), dtype=torch.float32, tol=1e-3)


def test_a_game_without_its_required_methods_cannot_be_made():
    """The required hooks are abstract: a game lacking one fails at construction."""

    @dataclass(frozen=True)
    class NoValue(Game):
        def layouts(self):
            return {}

        def init_params(self, instance, stream):
            return None

    with pytest.raises(TypeError, match="value"):
        NoValue()
    with pytest.raises(TypeError, match="data_instance"):
        NeuralGAN()
