"""The sb3 agent: safe loading of saved policies and playing them as update rules."""

from __future__ import annotations

import builtins
import io
import json
import zipfile

import gymnasium
import numpy as np
import pytest
import torch

import agents
import gangames
from agents.control import ControlConfig, base_rule
from agents.learned import deterministic_action, load_policy, policy_rule
from gangames.errors import InvalidConfigError
from gangames.testing import check_rule
from gangames.training import make_model, save_policy
from gangames.wrappers import GameView


def _save(tmp_path, view_id="gangames/DiracGAN-generator-v0", algo="ppo", **kwargs):
    env = gymnasium.make(view_id, max_steps=8, **kwargs)
    model = make_model(env, algo, seed=3, net_arch=(16, 8))
    path = save_policy(model, env.unwrapped, tmp_path / f"{algo}.zip")
    return model, path


def _rewrite(src, dst, **entries):
    """Copy a zip, replacing (or with ``None`` dropping) some entries."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for name in a.namelist():
            if name in entries:
                continue
            b.writestr(name, a.read(name))
        for name, data in entries.items():
            if data is not None:
                b.writestr(name, data)
    return dst


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_loading_rebuilds_the_same_network_without_unpickling(tmp_path, algo):
    model, path = _save(tmp_path, algo=algo, mode="step_size")
    loaded = load_policy(path)
    saved = model.policy.state_dict()
    rebuilt = loaded.policy.state_dict()
    assert saved.keys() == rebuilt.keys()
    for k in saved:
        torch.testing.assert_close(rebuilt[k], saved[k], rtol=0, atol=0)
    obs = torch.randn(5, model.observation_space.shape[0])
    expected = np.stack([model.predict(o.numpy(), deterministic=True)[0] for o in obs])
    with torch.no_grad():
        got = deterministic_action(loaded.policy, obs).clamp(-1, 1).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert loaded.meta["view"]["control"]["mode"] == "step_size"


def test_the_rule_passes_check_rule_batched_and_in_both_seats(tmp_path):
    _, update = _save(tmp_path)
    check_rule(agents.make("sb3", path=str(update)), "gangames/DiracGAN-v0")
    (tmp_path / "s").mkdir()
    _, step = _save(tmp_path / "s", "gangames/Bilinear-discriminator-v0", mode="mix")
    check_rule(agents.make("sb3", path=str(step)), "gangames/Quadratic-v0")


def test_rule_reproduces_the_view_it_was_trained_on(tmp_path):
    """The deployed rule's updates are the view's decoded deterministic actions."""
    model, path = _save(tmp_path, "gangames/Bilinear-generator-v0", mode="step_size")
    view = GameView("gangames/Bilinear-v0", "generator", mode="step_size", max_steps=8)
    obs, _ = view.reset(seed=5)
    thetas = []
    done = False
    while not done:
        obs, _, _, done, _ = view.step(model.predict(obs, deterministic=True)[0])
        thetas.append(view.env.match.state.theta.clone())
    solver = agents.make("sb3", path=str(path))
    opponent = base_rule("gradient", "discriminator", ControlConfig())
    env = gangames.make("gangames/Bilinear-v0", max_steps=8)
    agents.play(
        env,
        agents.Solver(solver.generator, opponent, "pair"),
        seed=[gangames.random.derive_seeds(5, 1)[0]],
    )
    torch.testing.assert_close(env.match.state.theta, thetas[-1], rtol=1e-5, atol=1e-6)


def test_summary_policies_play_other_games_raw_ones_must_fit(tmp_path):
    _, step = _save(tmp_path, mode="step_size")
    infos = agents.play(
        gangames.make("gangames/Bilinear-v0", dimension=6, batch=3, max_steps=4),
        agents.make("sb3", path=str(step)),
        seed=0,
    )
    assert infos[-1]["duality_gap"].shape == (3,)
    with pytest.raises(InvalidConfigError, match=r"step_size\.zip|ppo\.zip"):
        # GaussianWGAN's generator has two layers: 12 summary features, not 8
        agents.play(
            gangames.make("gangames/GaussianWGAN-v0", max_steps=2),
            agents.make("sb3", path=str(step)),
            seed=0,
        )
    (tmp_path / "u").mkdir()
    _, raw = _save(tmp_path / "u")
    with pytest.raises(InvalidConfigError, match="features"):
        agents.play(
            gangames.make("gangames/Bilinear-v0", max_steps=2),
            agents.make("sb3", path=str(raw)),
            seed=0,
        )


def test_a_saved_policy_is_an_opponent_in_views(tmp_path):
    _, path = _save(tmp_path, "gangames/DiracGAN-discriminator-v0")
    view = GameView(
        "gangames/DiracGAN-v0", "generator", opponent=str(path), root=str(tmp_path)
    )
    _, info = view.reset(seed=0)
    assert info["opponent"] == "sb3"
    view.step(np.zeros(1, np.float32))
    with pytest.raises(InvalidConfigError, match="allowed folder"):
        GameView(
            "gangames/DiracGAN-v0",
            "generator",
            opponent=str(path),
            root=str(tmp_path / "sub"),
        )


def test_corrupt_and_foreign_files_are_refused_naming_them(tmp_path):
    _, good = _save(tmp_path)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"\x00not a zip at all" * 10)
    with pytest.raises(InvalidConfigError, match=r"junk\.zip"):
        agents.make("sb3", path=str(junk))
    foreign = _rewrite(good, tmp_path / "no_data.zip", **{"gangames.json": None})
    with zipfile.ZipFile(foreign) as archive:
        assert "data" in archive.namelist()
    foreign = _rewrite(foreign, tmp_path / "plain_sb3.zip", data=None)
    with pytest.raises(InvalidConfigError, match=r"plain_sb3\.zip.*missing.*data"):
        agents.make("sb3", path=str(foreign))
    meta = json.loads(zipfile.ZipFile(good).read("gangames.json"))
    cases = {
        "format": {**meta, "format": "other/9"},
        "activation": {**meta, "policy": {**meta["policy"], "activation": "os.system"}},
        "fit": {**meta, "policy": {**meta["policy"], "net_arch": [16, 9]}},
        "incomplete": {k: v for k, v in meta.items() if k != "view"},
    }
    for label, data in cases.items():
        bad = _rewrite(
            good, tmp_path / f"{label}.zip", **{"gangames.json": json.dumps(data)}
        )
        with pytest.raises(InvalidConfigError, match=rf"{label}\.zip"):
            agents.make("sb3", path=str(bad))
    with pytest.raises(InvalidConfigError, match="no such"):
        agents.make("sb3", path=str(tmp_path / "missing.zip"))


def test_oversized_entries_are_refused_before_reading(tmp_path, monkeypatch):
    _, good = _save(tmp_path)
    monkeypatch.setattr(agents.learned, "_MAX_WEIGHTS", 100)
    with pytest.raises(InvalidConfigError, match="too large"):
        load_policy(good)


def test_pickled_code_in_the_weights_never_runs(tmp_path):
    _, good = _save(tmp_path)

    class Payload:
        def __reduce__(self):
            return (exec, ("import builtins; builtins._gangames_pwned = True",))

    buffer = io.BytesIO()
    torch.save({"w": Payload()}, buffer)
    evil = _rewrite(good, tmp_path / "evil.zip", **{"policy.pth": buffer.getvalue()})
    with pytest.raises(InvalidConfigError, match=r"evil\.zip") as caught:
        agents.make("sb3", path=str(evil))
    assert not hasattr(builtins, "_gangames_pwned")
    message = str(caught.value)
    assert "'exec'" in message and "never unpickled" in message
    # torch's advice to retry unsafely is not repeated
    assert "weights_only" not in message and "trusted source" not in message


def test_root_confines_paths(tmp_path):
    (tmp_path / "inside").mkdir()
    _, path = _save(tmp_path / "inside")
    assert (
        agents.make("sb3", path="ppo.zip", root=str(tmp_path / "inside")).name == "sb3"
    )
    with pytest.raises(InvalidConfigError, match="allowed folder"):
        agents.make(
            "sb3", path="../inside/../../etc/passwd", root=str(tmp_path / "inside")
        )
    with pytest.raises(InvalidConfigError, match="allowed folder"):
        load_policy(path, root=tmp_path / "elsewhere")


def test_policy_rule_cost_is_the_base_rules_cost(tmp_path):
    _, path = _save(tmp_path, mode="mix")
    rule = policy_rule(load_policy(path), "generator")
    assert rule.cost(0) == 0.0 and rule.name == "sb3"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_policy_rule_on_cuda_matches_cpu(tmp_path):
    _, path = _save(tmp_path, mode="step_size")
    solver = agents.make("sb3", path=str(path))
    final = {}
    for device in ("cpu", "cuda"):
        env = gangames.make(
            "gangames/Bilinear-v0",
            batch=8,
            device=device,
            dtype="float64",
            tensor=True,
            max_steps=10,
        )
        agents.play(env, solver, seed=list(range(8)))
        assert env.match.state.theta.device.type == device
        final[device] = env.match.state.theta.cpu()
    torch.testing.assert_close(final["cuda"], final["cpu"], rtol=1e-9, atol=1e-9)
