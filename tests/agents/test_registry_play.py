"""The agent registry, the seat adapter and play() (rules themselves: their own tests)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import agents
import gangames
from agents.transforms import scale
from gangames.errors import InvalidConfigError
from gangames.play import SeatAgent, env_for
from gangames.rules import Solver, UpdateRule, constant_cost, rule_from


def _gda(lr=0.1):
    rule = rule_from(scale(-lr), name="sgd")
    return Solver(rule, rule, "test_gda")


def test_play_parallel_and_sequential_return_one_info_per_round():
    for order in ("simultaneous", "sequential"):
        env = gangames.make("gangames/Quadratic-v0", order=order, max_steps=30)
        infos = agents.play(env, _gda(), seed=0)
        assert len(infos) == 31
        assert infos[-1]["duality_gap"] < 1e-2 * infos[0]["duality_gap"]


def test_seat_agent_in_a_plain_pettingzoo_loop_numpy_and_batched():
    env = gangames.make("gangames/Quadratic-v0", batch=4, max_steps=20)
    obs, _ = env.reset(seed=1)
    seats = {s: SeatAgent(_gda().rule(s), s) for s in env.possible_agents}
    for a in seats.values():
        a.reset(env)
    while env.agents:
        actions = {s: seats[s].act(obs[s]) for s in env.agents}
        assert actions["generator"].dtype == np.float32 and actions[
            "generator"
        ].shape == (4, 2)
        obs, _, _, _, info = env.step(actions)
    assert (info["generator"]["duality_gap"] < 0.5).all()


def test_act_before_reset_is_refused():
    with pytest.raises(RuntimeError, match="generator"):
        SeatAgent(_gda().generator, "generator").act({})


def test_non_finite_updates_become_recorded_divergence():
    def init(params, stream):
        return ()

    def update(obs, state, oracle):
        # instance 1 produces NaN, instance 0 a fine update
        delta = -0.1 * obs.gradient
        bad = torch.zeros_like(delta).index_fill_(0, torch.tensor([1]), float("nan"))
        return delta + bad, state

    rule = UpdateRule(init, update, "nan_rule", constant_cost(0.0))
    env = gangames.make("gangames/Quadratic-v0", batch=2, max_steps=5, dtype="float64")
    infos = agents.play(env, Solver(rule, rule, "nan"), seed=[1, 2])
    assert infos[-1]["diverged"].tolist() == [False, True]
    assert np.isfinite(env.match.state.theta.numpy()).all()


def test_registry_refuses_unknown_names_and_hyperparameters():
    agents.register("test_gda", lambda lr=0.1: _gda(lr))
    try:
        assert "test_gda" in agents.names()
        assert agents.make("test_gda", lr=0.2).name == "test_gda"
        with pytest.raises(
            TypeError, match=r"^make\(\) got an unexpected keyword argument 'momentum'"
        ):
            agents.make("test_gda", momentum=0.9)
        with pytest.raises(InvalidConfigError, match="test_gda"):
            agents.make("test_gdb")
        with pytest.raises(InvalidConfigError, match="import strings"):
            agents.register("other", "agents.gda:gda")
    finally:
        agents.registry._REGISTRY.pop("test_gda")


def test_entry_points_register_agents(monkeypatch):
    import importlib.metadata

    ep = importlib.metadata.EntryPoint(
        name="plugin_gda",
        value="tests.agents.test_registry_play:_gda",
        group="gangames.agents",
    )
    monkeypatch.setattr(
        agents.registry.importlib.metadata, "entry_points", lambda group: [ep]
    )
    monkeypatch.setattr(agents.registry, "_LOADED", False)
    try:
        assert agents.make("plugin_gda").name == "test_gda"
    finally:
        agents.registry._REGISTRY.pop("plugin_gda", None)


def test_sequential_solver_refuses_an_env_of_another_order():
    rule = rule_from(scale(-0.1), name="sgd")
    solver = Solver(
        rule, rule, "critic_first", order="sequential", first="discriminator"
    )
    for env in (
        gangames.make("gangames/Quadratic-v0"),
        gangames.make("gangames/Quadratic-v0", order="sequential"),
    ):
        with pytest.raises(InvalidConfigError, match=r"critic_first.*discriminator"):
            agents.play(env, solver, seed=0)
    env = gangames.make(
        "gangames/Quadratic-v0", order="sequential", first="discriminator", max_steps=3
    )
    assert len(agents.play(env, solver, seed=0)) == 4


def test_every_rule_accepts_lr():
    takes = {
        n: inspect.signature(agents.registry.factory(n)).parameters
        for n in agents.names()
    }
    assert [n for n, p in takes.items() if "lr" not in p] == ["sb3"]  # a policy file


@pytest.mark.parametrize(
    ("name", "own"),
    [
        ("stackelberg", ("lr_leader", "lr_follower")),
        ("follow_the_ridge", ("lr_generator", "lr_discriminator")),
        ("proximal", ("lr_generator",)),
    ],
)
def test_lr_sets_the_seat_steps_and_seat_names_override_it(name, own):
    def final(**hp):
        solver = agents.make(name, **hp)
        env = env_for("gangames/NoNashQuadratic-v0", solver, max_steps=20)
        agents.play(env, solver, seed=0)
        return env.match.state.theta, env.match.state.phi

    by_lr = final(lr=0.07)
    by_seat = final(**dict.fromkeys(own, 0.07))
    assert all(torch.equal(a, b) for a, b in zip(by_lr, by_seat, strict=True))
    mixed = final(lr=0.2, **dict.fromkeys(own, 0.07))
    assert all(torch.equal(a, b) for a, b in zip(mixed, by_seat, strict=True))
    assert not torch.equal(final(lr=0.2)[0], by_seat[0])
