"""RL libraries on the flat format: SB3, SuperSuit (PettingZoo's SB3 recipe), Tianshou.

Each client is driven as its documentation shows, unchanged; TorchRL is in
tests/test_torchrl_clients.py.
"""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from stable_baselines3 import PPO

# names, not the module: doctest collection probes module attributes, and
# supersuit's module __getattr__ raises ImportError where AttributeError is due
from supersuit import (
    clip_actions_v0,
    concat_vec_envs_v1,
    dtype_v0,
    flatten_v0,
    frame_stack_v1,
    normalize_obs_v0,
    pad_action_space_v0,
    pad_observations_v0,
    pettingzoo_env_to_vec_env_v1,
)
from tianshou.env import PettingZooEnv

import gangames


def _flat(game_id="gangames/Bilinear-v0", **kwargs):
    return gangames.make(game_id, flat=True, **{"max_steps": 8, **kwargs})


@pytest.mark.parametrize(
    "wrap",
    [
        flatten_v0,
        lambda env: dtype_v0(env, np.float64),
        frame_stack_v1,
        pad_observations_v0,
        pad_action_space_v0,
        clip_actions_v0,
    ],
    ids=["flatten", "dtype", "frame_stack", "pad_obs", "pad_action", "clip_actions"],
)
@pytest.mark.parametrize("order", ["simultaneous", "sequential"])
def test_supersuit_wrappers_work_on_the_flat_env(wrap, order):
    env = wrap(_flat("gangames/GaussianWGAN-v0", order=order))
    if order == "simultaneous":
        obs, _ = env.reset(seed=0)
        for _ in range(3):
            # clip_actions_v0 clips (and casts to float64) what lies outside the box
            actions = {a: 3 * env.action_space(a).sample() for a in env.agents}
            if "clip" not in str(env):
                actions = {a: env.action_space(a).sample() for a in env.agents}
            obs, rewards, *_ = env.step(actions)
        for agent, o in obs.items():
            assert env.observation_space(agent).contains(o)
            assert np.isfinite(rewards[agent])
    else:
        env.reset(seed=0)
        for agent in env.agent_iter(6):
            obs, _, term, trunc, _ = env.last()
            assert env.observation_space(agent).contains(obs)
            env.step(None if term or trunc else env.action_space(agent).sample())


def test_normalize_obs_needs_and_gets_finite_bounds():
    with pytest.raises(AssertionError, match="infinite bounds"):
        normalize_obs_v0(_flat())
    env = normalize_obs_v0(_flat(clip_observations=100.0))
    obs, _ = env.reset(seed=0)
    assert all(((o >= 0) & (o <= 1)).all() for o in obs.values())


@pytest.mark.slow  # 4–8 s each on 2 busy cores (two worker processes)
@pytest.mark.parametrize(
    "recipe_game", ["gangames/Bilinear-v0", "gangames/GaussianWGAN-v0"]
)  # equal, then unequal action sizes (padded)
def test_pettingzoo_sb3_recipe_trains_ppo(recipe_game):
    """PettingZoo's SB3 tutorial: SuperSuit vector envs, two worker processes, PPO."""
    env = pad_action_space_v0(_flat(recipe_game, max_steps=16))
    vec = pettingzoo_env_to_vec_env_v1(env)
    vec = concat_vec_envs_v1(vec, 2, num_cpus=2, base_class="stable_baselines3")
    try:
        model = PPO("MlpPolicy", vec, n_steps=32, batch_size=64, n_epochs=1)
        model.learn(256)
        assert model.num_timesteps >= 256
        obs = vec.reset()
        action, _ = model.predict(obs, deterministic=True)
        assert action.shape == (vec.num_envs, *vec.action_space.shape)
    finally:
        vec.close()


def test_sb3_ppo_mlp_policy_on_a_view():
    """A view is a flat, bounded single-agent env: plain SB3, no gangames helper."""
    env = gymnasium.make("gangames/Bilinear-generator-v0", max_steps=16)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, seed=0)
    model.learn(128)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)


@pytest.mark.parametrize("ts_game", ["gangames/Bilinear-v0", "gangames/DiracGAN-v0"])
def test_tianshou_pettingzoo_env_plays_the_flat_aec_env(ts_game):
    """Tianshou needs equal seat spaces and sends unscaled actions (clip them)."""
    env = PettingZooEnv(
        _flat(ts_game, order="sequential", clip_actions=True, max_steps=4)
    )
    obs, info = env.reset(seed=0)
    assert set(obs) == {"agent_id", "obs"} and obs["agent_id"] == "generator"
    assert isinstance(info["duality_gap"], float)
    steps, done = 0, False
    while not done:
        action = 5 * env.action_space.sample()  # out of the box: clipped
        obs, reward, term, trunc, info = env.step(action)
        assert env.observation_space.contains(obs["obs"])
        done = term or trunc
        steps += 1
    assert steps == 8 and len(reward) == 2 and np.isfinite(reward).all()


def test_tianshou_refuses_unequal_seats_unless_padded():
    raw = _flat("gangames/GaussianWGAN-v0", order="sequential")
    with warnings.catch_warnings(), pytest.raises(AssertionError):
        warnings.simplefilter("ignore")
        PettingZooEnv(raw)
    env = PettingZooEnv(pad_action_space_v0(raw))
    env.reset(seed=0)
    env.step(env.action_space.sample())
