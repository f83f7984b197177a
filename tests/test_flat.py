"""The RL-facing flat format (gangames/flat.py): spaces, layout, bounds, both APIs."""

from __future__ import annotations

import math
import warnings

import gymnasium
import numpy as np
import pettingzoo
import pytest
import torch
from pettingzoo.test import api_test, parallel_api_test

import gangames
from gangames.errors import InvalidActionError, InvalidConfigError
from gangames.flat import FIELDS, FlatAECEnv, FlatParallelEnv, unflatten

SMALL = [
    g for g in gangames.names() if "Digits" not in g and "Mixture" not in g
]  # games with a natural scale (init_scale)


@pytest.mark.parametrize("small_id", SMALL)
def test_flat_observation_is_the_dict_concatenated_in_the_stated_layout(small_id):
    game_id = small_id
    plain = gangames.make(game_id, max_steps=3, max_update=1.0)
    flat = gangames.make(game_id, flat=True, max_steps=3, max_update=1.0)
    obs, _ = plain.reset(seed=4)
    fobs, _ = flat.reset(seed=4)
    game = plain.game
    n = 2 * (game.dim("generator") + game.dim("discriminator")) + 2
    for seat in gangames.SEATS:
        space = flat.observation_space(seat)
        assert space.shape == (n,) and space.dtype == np.float32
        assert space.contains(fobs[seat])
        parts = unflatten(fobs[seat], flat.layout[seat])
        assert list(parts) == list(FIELDS)
        for name in FIELDS:
            np.testing.assert_array_equal(parts[name], obs[seat][name])
    # equal seat observation spaces (PettingZoo's SB3 recipe needs them)
    assert flat.observation_space("generator") == flat.observation_space(
        "discriminator"
    )
    actions = {s: flat.action_space(s).sample() for s in gangames.SEATS}
    o1, r1, *_ = plain.step(actions)
    o2, r2, *_ = flat.step(actions)
    assert r1 == r2
    for seat in gangames.SEATS:
        np.testing.assert_array_equal(
            o2[seat][flat.layout[seat]["own"]], o1[seat]["own"]
        )


def test_layout_offsets_per_seat():
    env = gangames.make("gangames/GaussianWGAN-v0", flat=True)  # d_θ = 2, d_φ = 1
    assert env.layout["generator"] == {
        "own": slice(0, 2),
        "opponent": slice(2, 3),
        "gradient": slice(3, 5),
        "opponent_gradient": slice(5, 6),
        "value": slice(6, 7),
        "progress": slice(7, 8),
    }
    assert env.layout["discriminator"]["gradient"] == slice(3, 4)
    space = env.observation_space("generator")
    assert (space.low[7], space.high[7]) == (0.0, 1.0)
    assert np.isinf(space.low[:7]).all()


@pytest.mark.parametrize("small_id", SMALL)
def test_default_bound_is_a_tenth_of_the_games_init_scale(small_id):
    game_id = small_id
    env = gangames.make(game_id, flat=True)
    scale = env.game.init_scale
    for seat in gangames.SEATS:
        space = env.action_space(seat)
        assert np.isfinite(space.high).all()
        np.testing.assert_allclose(space.high, 0.1 * scale, rtol=1e-6)
        np.testing.assert_allclose(space.low, -0.1 * scale, rtol=1e-6)
    assert math.isclose(env.config.max_update, 0.1 * scale)
    # an explicit bound wins; a mixed game uses its base game's scale
    assert gangames.make(game_id, flat=True, max_update=0.5).config.max_update == 0.5
    lifted = gangames.make("gangames/CirclePursuit-v0", flat=True, particles=4)
    assert math.isclose(lifted.config.max_update, 0.1 * math.pi)


def test_a_game_without_a_scale_needs_max_update():
    with pytest.raises(InvalidConfigError, match=r"MixtureGAN.*max_update="):
        gangames.make("gangames/MixtureGAN-v0", flat=True, width=8)
    env = gangames.make("gangames/MixtureGAN-v0", flat=True, width=8, max_update=0.01)
    assert env.action_space("generator").high.max() == np.float32(0.01)


def test_out_of_box_actions_are_refused_or_clipped_and_floats_cast():
    env = gangames.make("gangames/Bilinear-v0", flat=True, max_steps=4)
    env.reset(seed=0)
    big = {s: np.full(2, 0.5) for s in gangames.SEATS}  # float64, outside ±0.1
    with pytest.raises(InvalidActionError, match=r"\[-0.1, 0.1\]"):
        env.step(big)
    clip = gangames.make("gangames/Bilinear-v0", flat=True, clip_actions=True)
    obs, _ = clip.reset(seed=0)
    own = obs["generator"][clip.layout["generator"]["own"]]
    new, *_ = clip.step(big)
    moved = new["generator"][clip.layout["generator"]["own"]] - own
    np.testing.assert_allclose(moved, 0.1, rtol=1e-5)


def test_both_apis_pass_pettingzoos_checkers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # api_test's advice on agent names and ±inf
        parallel_api_test(
            gangames.make("gangames/GaussianWGAN-v0", flat=True, max_steps=5),
            num_cycles=12,
        )
        aec = pettingzoo.make("aec", "gangames/GaussianWGAN-v0", flat=True, max_steps=5)
        assert isinstance(aec, FlatAECEnv)
        api_test(aec, num_cycles=12)
    par = pettingzoo.make("parallel", "gangames/Bilinear-v0", flat=True, batch=3)
    assert isinstance(par, FlatParallelEnv)
    obs, _ = par.reset(seed=0)
    assert obs["generator"].shape == (3, 10)
    assert par.observation_space("generator").shape == (3, 10)


def test_batched_aec_stays_refused_by_pettingzoo_and_flattens_in_gangames():
    with pytest.raises(InvalidConfigError, match="parallel"):
        pettingzoo.make("aec", "gangames/Bilinear-v0", flat=True, batch=3)
    vector = gangames.make(
        "gangames/Bilinear-v0", order="sequential", flat=True, batch=3
    )
    vector.reset(seed=0)
    obs, reward, *_ = vector.last()
    assert obs.shape == (3, 10) and reward.shape == (3,)


def test_aec_observations_are_flat_and_agree_with_the_dict_env():
    plain = gangames.make("gangames/Quadratic-v0", order="sequential", max_update=1.0)
    flat = gangames.make(
        "gangames/Quadratic-v0", order="sequential", flat=True, max_update=1.0
    )
    plain.reset(seed=2)
    flat.reset(seed=2)
    for _ in range(4):
        agent = flat.agent_selection
        obs, reward, *_ = flat.last()
        ref, ref_reward, *_ = plain.last()
        assert reward == ref_reward
        np.testing.assert_array_equal(
            obs[flat.layout[agent]["gradient"]], ref["gradient"]
        )
        action = np.full(2, 0.05, dtype=np.float32)
        flat.step(action)
        plain.step(action)


def test_tensor_mode_stays_on_torch():
    env = gangames.make("gangames/Bilinear-v0", flat=True, tensor=True, batch=2)
    obs, _ = env.reset(seed=0)
    assert isinstance(obs["generator"], torch.Tensor)
    assert obs["generator"].shape == (2, 10)


def test_clip_observations_gives_finite_bounds():
    env = gangames.make(
        "gangames/Bilinear-v0", flat=True, clip_observations=2.0, max_steps=3
    )
    space = env.observation_space("generator")
    assert (space.high[:-1] == 2.0).all() and space.high[-1] == 1.0
    assert (space.low[:-1] == -2.0).all() and space.low[-1] == 0.0
    obs, _ = env.reset(seed=0)
    assert all(space.contains(o) for o in obs.values())
    with pytest.raises(InvalidConfigError, match="flat=True"):
        gangames.make("gangames/Bilinear-v0", clip_observations=1.0)
    with pytest.raises(InvalidConfigError, match="clip_observations"):
        gangames.make("gangames/Bilinear-v0", flat=True, clip_observations=-1.0)
    with pytest.raises(InvalidConfigError, match="flat must be"):
        gangames.make("gangames/Bilinear-v0", flat="yes")


def test_views_are_flat_already():
    view = gymnasium.make("gangames/DiracGAN-generator-v0", flat=True, max_steps=3)
    assert isinstance(view.observation_space, gymnasium.spaces.Box)
    assert np.isfinite(view.action_space.high).all()
    with pytest.raises(InvalidConfigError, match="flat"):
        gymnasium.make("gangames/DiracGAN-generator-v0", flat=False)


def test_wrapped_env_attributes_pass_through():
    env = gangames.make("gangames/DiracGAN-v0", flat=True, max_steps=2)
    env.reset(seed=0)
    assert env.gap_estimator == env.unwrapped.gap_estimator == env.game.gap_estimator
    assert env.unwrapped.game is env.game
    *_, infos = env.step({s: np.zeros(1, np.float32) for s in gangames.SEATS})
    assert (
        env.ledger.costs()["generator"] == infos["generator"]["oracle_calls_generator"]
    )
    assert env.agents == ["generator", "discriminator"]
    env.step({s: np.zeros(1, np.float32) for s in gangames.SEATS})
    assert env.agents == []
