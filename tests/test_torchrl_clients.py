"""TorchRL on gangames: PettingZooWrapper (parallel and AEC) and GymEnv on the views."""

from __future__ import annotations

import gymnasium
import pytest
import torch
from torchrl.envs.libs.gym import GymEnv, GymWrapper
from torchrl.envs.libs.pettingzoo import PettingZooWrapper
from torchrl.envs.utils import check_env_specs

import gangames

# TorchRL names the PettingZoo version it was tested with; ours is newer
pytestmark = pytest.mark.filterwarnings("ignore:PettingZoo in TorchRL is tested")


@pytest.mark.parametrize("order", ["simultaneous", "sequential"])
@pytest.mark.parametrize(
    "trl_game", ["gangames/Bilinear-v0", "gangames/GaussianWGAN-v0"]
)
def test_pettingzoo_wrapper_passes_check_env_specs(order, trl_game):
    env = gangames.make(trl_game, flat=True, max_steps=6, order=order)
    wrapped = PettingZooWrapper(
        env,
        return_state=False,
        use_mask=order == "sequential",  # TorchRL's setting for AEC envs
        categorical_actions=False,
        seed=0,
    )
    check_env_specs(wrapped)
    rollout = wrapped.rollout(4)
    assert rollout.batch_size == torch.Size([4])
    for group in wrapped.group_map:
        obs = rollout[group, "observation"]
        assert obs.dtype == torch.float32 and torch.isfinite(obs).all()
        # infos are numbers: the gap of both seats arrives as a tensor
        assert rollout["next", group, "info", "duality_gap"].shape[0] == 4
    action = wrapped.full_action_spec[wrapped.group_map["generator"][0], "action"]
    high = env.action_space("generator").high
    assert torch.equal(action.space.high[0], torch.as_tensor(high))


@pytest.mark.parametrize(
    "make",
    [
        lambda: GymEnv("gangames/DiracGAN-generator-v0", opponent="gda", max_steps=5),
        lambda: GymWrapper(
            gymnasium.make("gangames/Bilinear-discriminator-v0", max_steps=5)
        ),
    ],
    ids=["GymEnv", "GymWrapper"],
)
def test_gym_env_and_wrapper_on_the_views(make):
    env = make()
    check_env_specs(env)
    rollout = env.rollout(5)
    assert rollout["next", "reward"].shape == (5, 1)
    assert bool(rollout["next", "truncated"][-1])
