"""Single-agent Gymnasium views (gangames/wrappers.py)."""

from __future__ import annotations

import dataclasses
import math
import warnings

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import agents
import gangames
from agents.control import MODES, RAW_LIMIT
from agents.transforms import scale
from gangames.errors import InvalidActionError, InvalidConfigError
from gangames.registration import register_views, view_id
from gangames.rules import Solver, rule_from
from gangames.wrappers import GameView


def _gd(lr: float, name: str = "test_gd") -> Solver:
    rule = rule_from(scale(-lr), name=name)
    return Solver(rule, rule, name)


@pytest.fixture
def registered_gd():
    agents.register("test_view_gd", lambda lr=0.1: _gd(lr, "test_view_gd"))
    yield "test_view_gd"
    agents.registry._REGISTRY.pop("test_view_gd")


@pytest.mark.parametrize("seat", ["generator", "discriminator"])
def test_every_view_passes_gymnasium_and_sb3_checkers(game_id, seat):
    vid = view_id(game_id, seat)
    assert vid in gymnasium.registry
    game = gangames.make_game(game_id)
    raw = game.dim("generator") + game.dim("discriminator") <= RAW_LIMIT
    if not raw:  # update mode is for small games: refused with a pointer
        with pytest.raises(InvalidConfigError, match="step_size"):
            gymnasium.make(vid, mode="update")
    for mode in MODES if raw else ("step_size", "mix"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            env = gymnasium.make(vid, mode=mode, max_steps=4)
            gym_check_env(env.unwrapped)
            sb3_check_env(gymnasium.make(vid, mode=mode, max_steps=4))
        assert not [str(w.message) for w in caught], (vid, mode)


def test_reward_defaults_to_the_gap_else_the_payoff():
    class NoBestResponse(gangames.games.Quadratic):
        def cloud_best_response_value(self, instance, responder, cloud):
            return None

        @property
        def capabilities(self):
            return dataclasses.replace(super().capabilities, best_responses=False)

    gangames.register("test/NoBR-v0", NoBestResponse)
    try:
        register_views(["test/NoBR-v0"])
        env = gymnasium.make("test/NoBR-generator-v0", max_steps=3).unwrapped
        assert env.env.config.reward == "payoff"
        env.reset(seed=0)
        _, reward, *_ = env.step(np.zeros(2, np.float32))
        assert reward == pytest.approx(
            -env.env.match.oracle.game.value(
                env.env.match.instance,
                env.env.match.state.theta,
                env.env.match.state.phi,
            ).item(),
            rel=1e-5,
        )
    finally:
        gangames.registration._REGISTRY.pop("test/NoBR-v0")
        for seat in ("generator", "discriminator"):
            gymnasium.registry.pop(f"test/NoBR-{seat}-v0")
    env = gymnasium.make("gangames/Quadratic-generator-v0").unwrapped
    assert env.env.config.reward == "gap"


def test_view_ids_follow_the_game_ids():
    assert view_id("gangames/DiracGAN-v0", "generator") == (
        "gangames/DiracGAN-generator-v0"
    )
    env = gymnasium.make(
        "gangames/DiracGAN-discriminator-v0", opponent="gradient", max_steps=3
    )
    assert isinstance(env.unwrapped, GameView)
    assert env.unwrapped.seat == "discriminator"


@pytest.mark.parametrize("seat", ["generator", "discriminator"])
def test_update_mode_replays_play_with_the_same_rules(seat, registered_gd):
    """Acting −lr·∇/max_update reproduces agents.play of GD against the same opponent."""
    lr, opp_lr, max_update = 0.05, 0.08, 0.5
    env = gymnasium.make(
        "gangames/Quadratic-" + seat + "-v0",
        opponent=registered_gd,
        opponent_kwargs={"lr": opp_lr},
        max_update=max_update,
        max_steps=12,
    ).unwrapped
    obs, _ = env.reset(seed=7)
    d = env.action_space.shape[0]
    rewards = []
    done = False
    while not done:
        grad = obs[2 * d : 3 * d]  # own (d), opponent (d), then gradient
        obs, r, term, done, info = env.step((-lr * grad / max_update).astype("float32"))
        rewards.append(r)
        assert not term
    me, them = rule_from(scale(-lr), name="me"), rule_from(scale(-opp_lr), name="them")
    solver = Solver(
        *((me, them) if seat == "generator" else (them, me)), name="reference"
    )
    ref = agents.play(
        gangames.make("gangames/Quadratic-v0", max_steps=12), solver, seed=7
    )
    key = f"exploitability_{seat}"
    expected = [-i[key] for i in ref[1:]]
    np.testing.assert_allclose(rewards, expected, rtol=1e-5, atol=1e-6)
    assert len(rewards) == 12 and info["step"] == 12


def _one_step(view, action):
    view.reset(seed=3)
    own = view.env.match.state.theta.clone()
    grad = view._obs.gradient.clone()
    view.step(np.asarray(action, dtype=np.float32))
    return view.env.match.state.theta - own, grad


def test_step_size_mode_multiplies_the_base_update():
    view = GameView(
        "gangames/Bilinear-v0",
        "generator",
        mode="step_size",
        base="gradient",
        base_lr=0.01,
        multiplier_range=10.0,
        max_steps=5,
    )
    for a in (-1.0, 0.0, 0.5, 1.0):
        delta, grad = _one_step(view, [a])
        expected = -(10.0**a) * 0.01 * grad
        torch.testing.assert_close(delta, expected, rtol=1e-5, atol=1e-7)


def test_step_size_per_layer_scales_each_layer():
    view = GameView(
        "gangames/GaussianWGAN-v0",
        "generator",
        mode="step_size",
        control="layer",
        base_lr=0.01,
        max_steps=5,
    )
    layout = view.env.game.layouts()["generator"]
    assert view.action_space.shape == (len(layout.names),) == (2,)
    assert view.observation_space.shape == (8 + 2 * 2,)
    delta, grad = _one_step(view, [1.0, -1.0])
    seg = layout.segment_ids()
    multiplier = torch.tensor([10.0, 0.1])[seg]
    torch.testing.assert_close(delta, -0.01 * multiplier * grad, rtol=1e-5, atol=1e-7)


def test_registered_agents_are_base_rules(registered_gd):
    view = GameView(
        "gangames/Bilinear-v0",
        "discriminator",
        mode="step_size",
        base=registered_gd,
        base_kwargs={registered_gd: {"lr": 0.03}},
        max_steps=5,
    )
    view.reset(seed=2)
    own, grad = view.env.match.state.phi.clone(), view._obs.gradient.clone()
    view.step(np.array([0.5], np.float32))
    expected = -(10.0**0.5) * 0.03 * grad  # the agent's own lr, rescaled
    torch.testing.assert_close(
        view.env.match.state.phi - own, expected, rtol=1e-5, atol=1e-7
    )


def test_mix_mode_weights_the_base_updates():
    view = GameView(
        "gangames/Bilinear-v0",
        "generator",
        mode="mix",
        bases=("gradient", "optimistic"),
        base_lr=0.02,
        temperature=3.0,
        max_steps=5,
    )
    # at the first step optimistic = 2∇ − ∇ = ∇: any weights give −η∇
    delta, grad = _one_step(view, [1.0, -1.0])
    torch.testing.assert_close(delta, -0.02 * grad, rtol=1e-5, atol=1e-7)
    # second step: softmax weights over (−η∇_1, −η(2∇_1 − ∇_0))
    view.reset(seed=3)
    g0 = view._obs.gradient.clone()
    view.step(np.zeros(2, dtype=np.float32))
    own, g1 = view.env.match.state.theta.clone(), view._obs.gradient.clone()
    view.step(np.array([1.0, 0.0], dtype=np.float32))
    w = torch.softmax(torch.tensor([3.0, 0.0]), 0)
    expected = w[0] * (-0.02 * g1) + w[1] * (-0.02 * (2 * g1 - g0))
    torch.testing.assert_close(
        view.env.match.state.theta - own, expected, rtol=1e-5, atol=1e-7
    )


def test_summary_features_are_the_documented_norms():
    view = GameView("gangames/Bilinear-v0", "discriminator", mode="step_size")
    x, _ = view.reset(seed=0)
    o = view._obs
    assert x.shape == (8,)
    assert x[0] == 0.0  # progress
    loss = -o.value[0]  # the discriminator's loss is −V
    assert x[1] == pytest.approx(math.copysign(math.log1p(abs(loss)), loss), rel=1e-5)
    assert x[2] == 0.0 and x[4] == 0.0  # no change at the first step
    assert x[3] == pytest.approx(math.log(o.gradient.norm()), rel=1e-4, abs=1e-5)
    assert x[6] == pytest.approx(math.log(o.own.norm()), rel=1e-4, abs=1e-5)
    x1, *_ = view.step(np.zeros(1, dtype=np.float32))
    assert x1[0] == pytest.approx(1 / 100)


def test_truncation_at_max_steps_and_budget():
    env = GameView("gangames/DiracGAN-v0", "generator", max_steps=3)
    env.reset(seed=0)
    flags = [env.step(np.zeros(1, np.float32))[3] for _ in range(3)]
    assert flags == [False, False, True]
    with pytest.raises(ValueError, match="reset"):
        env.step(np.zeros(1, np.float32))
    # each observation costs 1 gradient (the reset's too): budget 3 ends round two
    env = GameView("gangames/DiracGAN-v0", "generator", max_steps=50, budget=3)
    env.reset(seed=0)
    flags = [env.step(np.zeros(1, np.float32))[3] for _ in range(2)]
    assert flags == [False, True]


def test_opponents_by_name_kwargs_path_and_errors(registered_gd, tmp_path):
    env = GameView(
        "gangames/DiracGAN-v0",
        "generator",
        opponent=registered_gd,
        opponent_kwargs={"lr": 0.3},
    )
    _, info = env.reset(seed=0)
    assert info["opponent"] == "test_view_gd"
    with pytest.raises(InvalidConfigError, match="unknown opponent 'nope'"):
        GameView("gangames/DiracGAN-v0", "generator", opponent="nope")
    with pytest.raises(TypeError, match="unexpected keyword argument 'momentum'"):
        GameView(
            "gangames/DiracGAN-v0",
            "generator",
            opponent=registered_gd,
            opponent_kwargs={"momentum": 0.9},
        )
    with pytest.raises(InvalidConfigError, match=r"missing\.zip"):
        GameView(
            "gangames/DiracGAN-v0", "generator", opponent=str(tmp_path / "missing.zip")
        )
    sequential = _gd(0.1)._replace(order="sequential")
    with pytest.raises(InvalidConfigError, match="sequential"):
        GameView("gangames/DiracGAN-v0", "generator", opponent=sequential)


def test_opponent_pool_is_drawn_from_the_reset_seed():
    pool = [_gd(0.1, "a"), _gd(0.2, "b"), _gd(0.3, "c")]
    env = GameView("gangames/DiracGAN-v0", "generator", opponent=pool, max_steps=2)
    draws = [env.reset(seed=s)[1]["opponent"] for s in range(12)]
    again = [env.reset(seed=s)[1]["opponent"] for s in range(12)]
    assert draws == again and set(draws) == {"a", "b", "c"}


def test_bad_configurations_and_actions_are_refused():
    with pytest.raises(InvalidConfigError, match="step_size"):
        GameView("gangames/Bilinear-v0", "generator", dimension=40)  # 80 raw params
    with pytest.raises(InvalidConfigError, match="mode"):
        GameView("gangames/Bilinear-v0", "generator", mode="fast")
    with pytest.raises(InvalidConfigError, match="base rule 'sgdx'"):
        GameView("gangames/Bilinear-v0", "generator", mode="step_size", base="sgdx")
    with pytest.raises(InvalidConfigError, match="seat"):
        GameView("gangames/Bilinear-v0", "critic")
    env = GameView("gangames/Bilinear-v0", "generator", mode="step_size", dimension=40)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="shape"):
        env.step(np.zeros(3, np.float32))
    with pytest.raises(InvalidActionError, match="finite"):
        env.step(np.array([np.nan], np.float32))


def test_reset_options_start_from_given_parameters():
    env = GameView("gangames/DiracGAN-v0", "generator")
    params = {
        "generator": np.array([0.5], np.float32),
        "discriminator": np.array([-0.25], np.float32),
    }
    obs, _ = env.reset(
        seed=0, options={"params": {k: torch.from_numpy(v) for k, v in params.items()}}
    )
    assert obs[0] == pytest.approx(0.5) and obs[1] == pytest.approx(-0.25)
