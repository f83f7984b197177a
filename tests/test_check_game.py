"""The shipped game checker over every registered game and variant."""

from __future__ import annotations

import torch

import gangames
from gangames.testing import check_game


def test_check_game(variant):
    name, options = variant
    check_game(gangames.make_game(name, **options))


def test_check_game_float32(variant):
    name, options = variant
    check_game(gangames.make_game(name, **options), dtype=torch.float32, tol=1e-3)
