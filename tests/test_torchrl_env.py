"""The native batched TorchRL env: specs, layout, resets, seeding, the IPPO recipe."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchrl.envs.utils import check_env_specs

import gangames
from gangames.errors import InvalidActionError, InvalidConfigError
from gangames.flat import FIELDS
from gangames.torchrl_env import TorchRLEnv

ROOT = Path(__file__).resolve().parents[1]
NEURAL = {"gangames/MixtureGAN-v0", "gangames/DigitsGAN-v0"}
# small neural players; lean infos and the payoff reward (no budgeted gap estimates)
SMALL_NEURAL = {
    "width": 8,
    "minibatch": 8,
    "eval_size": 16,
    "max_update": 0.01,
    "reward": "payoff",
    "full_infos": False,
}


def _options(name: str) -> dict:
    return dict(SMALL_NEURAL) if name in NEURAL else {}


@pytest.mark.parametrize("name", gangames.names())
def test_check_env_specs_passes_on_every_game(name):
    env = TorchRLEnv(name, batch=3, max_steps=4, **_options(name))
    check_env_specs(env, seed=0)
    td = env.rollout(4)  # to the end of the episode: done at max_steps
    assert td.batch_size == (3, 4)
    assert td["next", "done"][:, -1].all() and not td["next", "done"][:, :-1].any()
    assert td["next", "truncated"][:, -1].all()
    assert not td["next", "terminated"].any()
    for seat in gangames.SEATS:
        assert td["next", seat, "done"].shape == (3, 4, 1, 1)
        assert td["next", seat, "done"][:, -1].all()


def _gangames_env(**kwargs):
    return gangames.make(
        "gangames/Bilinear-v0", batch=5, tensor=True, max_steps=10, **kwargs
    )


def test_observation_is_the_documented_concatenation():
    env = TorchRLEnv("gangames/Bilinear-v0", batch=5, dimension=3, max_steps=10)
    env.set_seed(7)
    td = env.reset()
    ref = _gangames_env(dimension=3, max_update=1.0)
    obs, _ = ref.reset(seed=7)
    for seat in gangames.SEATS:
        flat = td[seat, "observation"]
        assert flat.shape == (5, 1, 2 * 3 + 2 * 3 + 2)
        expected = torch.cat([obs[seat][k] for k in FIELDS], dim=-1)
        torch.testing.assert_close(flat[:, 0], expected, rtol=0, atol=0)
        # own parameters first, then the opponent's, as documented
        torch.testing.assert_close(flat[:, 0, :3], obs[seat]["own"], rtol=0, atol=0)


def test_actions_are_updates_and_rewards_the_gangames_rewards():
    env = TorchRLEnv(
        "gangames/Bilinear-v0", batch=5, dimension=3, max_steps=10, max_update=1.0
    )
    ref = _gangames_env(dimension=3, max_update=1.0)
    env.set_seed(3)
    td = env.reset()
    obs, _ = ref.reset(seed=3)
    gen = torch.linspace(-0.5, 0.5, 15).reshape(5, 1, 3)
    td["generator", "action"] = gen
    td["discriminator", "action"] = -gen
    out = env.step(td)["next"]
    _, rew, _, _, info = ref.step({"generator": gen[:, 0], "discriminator": -gen[:, 0]})
    torch.testing.assert_close(
        out["generator", "observation"][:, 0, :3], obs["generator"]["own"] + gen[:, 0]
    )
    for seat in gangames.SEATS:
        torch.testing.assert_close(out[seat, "reward"][:, 0, 0], rew[seat])
        torch.testing.assert_close(
            out[seat, "info", "duality_gap"][:, 0], info[seat]["duality_gap"]
        )


def test_infos_hold_only_numbers():
    env = TorchRLEnv("gangames/DiracGAN-v0", batch=2, max_steps=3)
    keys = set(env.observation_spec["generator", "info"].keys())
    assert {"duality_gap", "value", "diverged", "step"} <= keys
    assert "gap_estimator" not in keys  # a label, not data
    td = env.rollout(3)
    assert td["next", "generator", "info", "step"][:, :, 0].tolist() == [[1, 2, 3]] * 2
    assert td["next", "generator", "info", "diverged"].dtype == torch.bool


def test_a_metric_absent_from_a_round_is_nan():
    # lean infos carry the sample-quality metrics every second round only
    options = {**SMALL_NEURAL, "quality_every": 2}
    env = TorchRLEnv("gangames/MixtureGAN-v0", batch=2, max_steps=4, **options)
    td = env.rollout(4)
    covered = td["next", "generator", "info", "modes_covered"][0, :, 0]
    assert covered.dtype == torch.float32
    assert torch.isnan(covered[0::2]).all() and not torch.isnan(covered[1::2]).any()
    assert not td["next", "generator", "info", "diverged"].any()


def test_same_seed_same_rollout_and_reset_continues():
    def run():
        env = TorchRLEnv("gangames/Quadratic-v0", batch=4, max_steps=3)
        env.set_seed(11)
        first = env.reset()["generator", "observation"]
        second = env.reset()["generator", "observation"]  # the next episode's seeds
        return first, second

    (a1, a2), (b1, b2) = run(), run()
    torch.testing.assert_close(a1, b1, rtol=0, atol=0)
    torch.testing.assert_close(a2, b2, rtol=0, atol=0)
    assert not torch.equal(a1, a2)


def test_reset_is_all_or_nothing():
    env = TorchRLEnv("gangames/DiracGAN-v0", batch=4, max_steps=3)
    td = env.reset()
    td["_reset"] = torch.tensor([[True], [False], [True], [True]])
    with pytest.raises(InvalidConfigError, match=r"lockstep.*3 of 4"):
        env.reset(td)
    td["_reset"] = torch.ones(4, 1, dtype=torch.bool)
    assert env.reset(td)["generator", "observation"].shape == (4, 1, 6)


def test_the_action_bound():
    circle = TorchRLEnv("gangames/CirclePursuit-v0", batch=2)
    # the flat format's default: a tenth of the game's init_scale (π)
    assert circle.max_update == pytest.approx(0.1 * math.pi)
    assert circle.action_spec["generator", "action"].space.high.max() == pytest.approx(
        0.1 * math.pi
    )
    small = TorchRLEnv("gangames/DiracGAN-v0", batch=2, max_update=0.1)
    assert small.gangames_env.config.max_update == 0.1
    with pytest.raises(InvalidConfigError, match="max_update"):
        TorchRLEnv("gangames/MixtureGAN-v0", batch=2, width=8)
    with pytest.raises(InvalidConfigError, match="max_update"):
        TorchRLEnv("gangames/DiracGAN-v0", batch=2, init_scale=0.0)


def test_out_of_box_actions_are_clipped_or_refused():
    for clip in (True, False):
        env = TorchRLEnv(
            "gangames/DiracGAN-v0", batch=2, max_update=0.1, clip_actions=clip
        )
        td = env.reset()
        theta = td["generator", "observation"][:, 0, 0]
        td["generator", "action"] = torch.full((2, 1, 1), 5.0)
        td["discriminator", "action"] = torch.zeros(2, 1, 1)
        if clip:
            out = env.step(td)["next"]
            moved = out["generator", "observation"][:, 0, 0] - theta
            torch.testing.assert_close(moved, torch.full((2,), 0.1))
        else:
            with pytest.raises(InvalidActionError, match="generator"):
                env.step(td)


def test_bad_keywords():
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        TorchRLEnv("gangames/DiracGAN-v0", colour=1)
    with pytest.raises(TypeError, match="'tensor'"):
        TorchRLEnv("gangames/DiracGAN-v0", tensor=False)
    with pytest.raises(TypeError, match=r"'batch_size' \(use batch=B\)"):
        TorchRLEnv("gangames/DiracGAN-v0", batch_size=[4])
    with pytest.raises(InvalidConfigError, match="batch"):
        TorchRLEnv("gangames/DiracGAN-v0", batch=None)


@pytest.mark.slow  # a fresh interpreter imports torch and gangames
def test_a_missing_torchrl_names_the_extra():
    code = (
        "import sys; sys.modules['torchrl'] = None\n"
        "try:\n    import gangames.torchrl_env\n"
        "except ImportError as e:\n    print(e)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert 'pip install "gangames[rl]"' in out.stdout, out.stderr


def _example(monkeypatch):
    spec = importlib.util.spec_from_file_location(
        "torchrl_ippo", ROOT / "examples" / "torchrl_ippo.py"
    )
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "torchrl_ippo", module)  # for its dataclass
    spec.loader.exec_module(module)
    return module


def test_the_ippo_recipe_trains(monkeypatch):
    example = _example(monkeypatch)
    args = example.Args(
        batch=8, max_steps=10, iterations=3, epochs=2, minibatch=40, log_every=0
    )
    result = example.train(args)
    assert len(result.losses) == 3
    assert all(math.isfinite(x) for x in result.losses)
    for gap in (result.start_gap, result.untrained_gap, result.trained_gap):
        assert math.isfinite(gap) and gap >= 0.0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_keeps_everything_on_the_device():
    env = TorchRLEnv("gangames/DiracGAN-v0", batch=64, device="cuda", max_steps=5)
    assert env.device.type == "cuda"
    check_env_specs(env, seed=0)
    td = env.rollout(5)
    for key in td.keys(True, True):
        assert td.get(key).is_cuda, key
