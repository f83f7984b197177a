"""Policies trained with plain Stable-Baselines3 on a view enter gangames.

No gangames helper is used to train or save them: ``PPO("MlpPolicy", view)`` with
SB3's defaults, then ``model.save``. The loader infers their description from the
zip (never unpickling), or ``gangames.training.add_metadata`` records it;
``save_policy`` takes any SB3 ``policy_kwargs``, the defaults included.
"""

from __future__ import annotations

import json
import zipfile

import gymnasium
import numpy as np
import pytest
import torch
from stable_baselines3 import PPO, SAC

import agents
import gangames
from agents.learned import deterministic_action, load_policy
from gangames.errors import InvalidConfigError
from gangames.tournament import Store, TournamentConfig, run
from gangames.training import add_metadata, save_policy

VIEW = "gangames/DiracGAN-generator-v0"


def _ppo(**kwargs):
    env = gymnasium.make(VIEW, max_steps=8, **kwargs.pop("view", {}))
    return env, PPO("MlpPolicy", env, n_steps=32, batch_size=32, seed=0, **kwargs)


def _same_actions(model, loaded):
    obs = torch.as_tensor(
        np.stack([model.observation_space.sample() for _ in range(6)])
    )
    expected = np.stack([model.predict(o.numpy(), deterministic=True)[0] for o in obs])
    with torch.no_grad():
        got = deterministic_action(loaded.policy, obs).clamp(-1, 1).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "policy_kwargs",
    [
        None,  # SB3's defaults: {"pi": [64, 64], "vf": [64, 64]}, Tanh
        {"net_arch": {"pi": [16], "vf": [32, 8]}, "activation_fn": torch.nn.ReLU},
    ],
    ids=["defaults", "custom"],
)
def test_a_plain_ppo_zip_is_inferred_and_plays(tmp_path, policy_kwargs):
    _, model = _ppo(policy_kwargs=policy_kwargs)
    model.learn(32)
    path = tmp_path / "plain.zip"
    model.save(path)
    assert "gangames.json" not in zipfile.ZipFile(path).namelist()
    loaded = load_policy(path)
    assert loaded.meta["view"]["control"]["mode"] == "update"
    assert loaded.meta["view"]["game_id"] is None
    _same_actions(model, loaded)
    solver = agents.make("sb3", path=str(path))
    play = gangames.make("gangames/DiracGAN-v0", batch=3, max_steps=4)
    assert len(agents.play(play, solver, seed=[0, 1, 2])) == 5


def test_a_plain_sac_zip_with_defaults_is_inferred(tmp_path):
    env = gymnasium.make(VIEW, max_steps=8)
    model = SAC("MlpPolicy", env, buffer_size=64, learning_starts=0, seed=0)
    model.save(tmp_path / "sac.zip")
    loaded = load_policy(tmp_path / "sac.zip")
    assert loaded.meta["policy"] == {"net_arch": [256, 256], "activation": "relu"}
    _same_actions(model, loaded)


def test_other_modes_need_add_metadata_which_checks_the_view(tmp_path):
    env, model = _ppo(view={"mode": "step_size"})
    path = tmp_path / "step.zip"
    model.save(path)
    with pytest.raises(InvalidConfigError, match=r"step\.zip.*add_metadata"):
        agents.make("sb3", path=str(path))
    wrong = gymnasium.make("gangames/Bilinear-generator-v0")  # mode update, 10 → 2
    with pytest.raises(InvalidConfigError, match="maps 8 features to 1 actions"):
        add_metadata(path, wrong)
    add_metadata(path, env, note="trained in a notebook")
    loaded = load_policy(path)
    assert loaded.meta["view"]["control"]["mode"] == "step_size"
    assert loaded.meta["view"]["game_id"] == "gangames/DiracGAN-v0"
    assert loaded.meta["training"] == {"note": "trained in a notebook"}
    _same_actions(model, loaded)
    with pytest.raises(InvalidConfigError, match="already has"):
        add_metadata(path, env)


def test_a_zip_of_another_env_is_refused_naming_add_metadata(tmp_path):
    env = gymnasium.make("Pendulum-v1")  # Box(±8) observations of 3 numbers
    PPO("MlpPolicy", env, n_steps=32, batch_size=32).save(tmp_path / "pend.zip")
    with pytest.raises(InvalidConfigError, match=r"pend\.zip.*not those of a view"):
        load_policy(tmp_path / "pend.zip")


@pytest.mark.parametrize("algo", [PPO, SAC])
def test_save_policy_takes_sb3_default_policy_kwargs(tmp_path, algo):
    env = gymnasium.make(VIEW, max_steps=8)
    kwargs = {"n_steps": 32, "batch_size": 32} if algo is PPO else {"buffer_size": 64}
    model = algo("MlpPolicy", env, seed=0, **kwargs)
    assert model.policy_kwargs.get("activation_fn") is None  # the old KeyError
    path = save_policy(model, env, tmp_path / "saved.zip")
    meta = json.loads(zipfile.ZipFile(path).read("gangames.json"))
    assert meta["view"]["game_id"] == "gangames/DiracGAN-v0"
    _same_actions(model, load_policy(path))


def test_a_plain_policy_enters_a_tournament(tmp_path):
    _, model = _ppo()
    model.learn(32)
    model.save(tmp_path / "plain.zip")
    cfg = TournamentConfig.from_dict(
        {
            "games": [{"id": "gangames/DiracGAN-v0"}],
            "entrants": [
                {
                    "agent": "sb3",
                    "hyperparameters": {"path": str(tmp_path / "plain.zip")},
                },
                {"agent": "gda", "hyperparameters": {"lr": 0.05}},
            ],
            "seeds": 1,
            "batch": 2,
            "budget": 10,
            "modes": ["self_play", "cross_play"],
            "timeout": 60,
        }
    )
    summary = run(cfg, tmp_path / "out", backend="sequential", progress=False)
    assert summary.played >= 3
    with Store(tmp_path / "out" / "results.sqlite") as store:
        records = list(store.records())
    assert {r["status"] for r in records} == {"ok"}
    pairs = {(r["generator"], r["discriminator"]) for r in records}
    assert ("sb3[path=plain.zip]", "sb3[path=plain.zip]") in pairs
    assert ("sb3[path=plain.zip]", "gda[lr=0.05]") in pairs
