"""PettingZoo's own checkers on every registered game (both APIs)."""

from __future__ import annotations

import types
import warnings

import pettingzoo
import pytest
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    seed_test,
)

import gangames
from gangames.errors import InvalidConfigError
from gangames.testing import check_env


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_parallel_api(game_id):
    parallel_api_test(gangames.make(game_id, max_steps=60), num_cycles=100)


def test_aec_api(game_id):
    api_test(gangames.make(game_id, order="sequential", max_steps=60), num_cycles=100)


def test_seeds(game_id):
    seed_test(
        lambda: gangames.make(game_id, order="sequential", max_steps=40), num_cycles=40
    )
    parallel_seed_test(lambda: gangames.make(game_id, max_steps=40), num_cycles=40)


def test_max_cycles(game_id):
    module = types.SimpleNamespace(
        parallel_env=lambda max_cycles: gangames.make(game_id, max_cycles=max_cycles),
        env=lambda max_cycles: gangames.make(
            game_id, order="sequential", max_cycles=max_cycles
        ),
    )
    max_cycles_test(module)


def test_pettingzoo_registries(game_id):
    par = pettingzoo.make("parallel", game_id, max_cycles=3)
    aec = pettingzoo.make("aec", game_id)
    assert isinstance(par, gangames.GameParallelEnv)
    assert isinstance(aec, gangames.GameAECEnv)
    assert par.config.max_steps == 3


def test_batched_aec_is_gangames_vector_api_and_pettingzoo_refuses_it():
    """The position on batched AEC: arrays in gangames.make, refused by PettingZoo's."""
    env = gangames.make("gangames/Bilinear-v0", order="sequential", batch=3)
    env.reset(seed=0)
    _, reward, terminated, truncated, _ = env.last()
    assert reward.shape == (3,) and terminated is False and truncated is False
    with pytest.raises(InvalidConfigError, match=r"parallel.*batch=\.\.\."):
        pettingzoo.make("aec", "gangames/Bilinear-v0", batch=3)
    assert isinstance(
        pettingzoo.make("parallel", "gangames/Bilinear-v0", batch=3),
        gangames.GameParallelEnv,
    )
    with pytest.raises(AssertionError, match="parallel env"):
        check_env(
            lambda: gangames.make("gangames/Bilinear-v0", order="sequential", batch=3)
        )
