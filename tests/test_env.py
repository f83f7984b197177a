"""Environment behaviour: rewards, infos, budgets, divergence, bad input, sequential play."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gangames
from gangames.errors import (
    InvalidActionError,
    InvalidConfigError,
    ResetNeededError,
    UnknownAgentError,
)
from gangames.testing import check_env


def test_check_env_parallel(game_id):
    check_env(lambda: gangames.make(game_id, max_steps=20), num_cycles=20)


def test_check_env_sequential(game_id):
    check_env(
        lambda: gangames.make(game_id, order="sequential", max_steps=20), num_cycles=20
    )


def test_rewards_sum_to_minus_gap(variant, gda):
    name, options = variant
    env = gangames.make(name, batch=5, dtype="float64", **options)
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, rew, _, _, info = env.step(gda(obs))
        np.testing.assert_allclose(
            rew["generator"] + rew["discriminator"],
            -info["generator"]["duality_gap"],
            rtol=1e-9,
            atol=1e-12,
        )
        assert (info["generator"]["duality_gap"] >= -1e-9).all()


def test_payoff_reward_is_zero_sum():
    env = gangames.make("gangames/DiracGAN-v0", reward="payoff")
    _obs, _ = env.reset(seed=0)
    _, rew, _, _, info = env.step({s: np.zeros(1, np.float32) for s in env.agents})
    assert rew["generator"] == pytest.approx(-info["generator"]["value"])
    assert rew["discriminator"] == pytest.approx(info["generator"]["value"])


def test_proximal_reward_sums_to_minus_proximal_gap():
    env = gangames.make(
        "gangames/NoNashQuadratic-v0",
        reward="proximal_gap",
        prox_lambda=1.0,
        dtype="float64",
    )
    env.reset(
        seed=0,
        options={"params": {"generator": np.zeros(1), "discriminator": np.zeros(1)}},
    )
    _, rew, _, _, info = env.step({s: np.zeros(1) for s in env.agents})
    # docs/algorithms.md T4: DG^λ(0, 0) = 3 − 8/(2 + λ) = 1/3 at λ = 1; plain DG(0, 0) = 3.
    assert rew["generator"] + rew["discriminator"] == pytest.approx(-1 / 3)
    assert info["generator"]["proximal_gap"] == pytest.approx(1 / 3)
    assert info["generator"]["duality_gap"] == pytest.approx(3.0)


def test_infos_carry_every_metric_and_costs():
    env = gangames.make("gangames/Quadratic-v0")
    _obs, info = env.reset(seed=0)
    for key in (
        "value",
        "duality_gap",
        "exploitability_generator",
        "exploitability_discriminator",
        "proximal_gap",
        "grad_norm",
        "distance",
        "oracle_calls_generator",
        "oracle_calls_discriminator",
        "gap_lower_bound",
        "diverged",
    ):
        assert key in info["generator"], key
    assert env.gap_estimator == "exact" and not info["generator"]["gap_lower_bound"]
    assert info["generator"]["oracle_calls_generator"] == 1.0
    assert info["generator"]["oracle_calls_discriminator"] == 1.0
    _, _, _, _, info = env.step({s: np.zeros(2, np.float32) for s in env.agents})
    assert info["generator"]["oracle_calls_generator"] == 2.0
    assert info["generator"]["oracle_calls_discriminator"] == 2.0


def test_infos_hold_numbers_only(game_id):
    """RL clients (TorchRL specs, SB3 loggers) read infos as numbers or arrays."""
    env = gangames.make(game_id, batch=2, max_steps=2)
    _, infos = env.reset(seed=0)
    _, _, _, _, stepped = env.step(
        {s: env.action_space(s).sample() * 0 for s in env.agents}
    )
    for info in (*infos.values(), *stepped.values()):
        for key, value in info.items():
            assert isinstance(value, (bool, int, float, np.ndarray)), (key, value)
            assert np.asarray(value).dtype.kind in "biuf", key


def test_gradient_observation_matches_game():
    env = gangames.make("gangames/Quadratic-v0", dtype="float64", tensor=True)
    obs, _ = env.reset(seed=1)
    m = env.match
    g_theta, g_phi = m.game.gradients(m.instance, m.state.theta, m.state.phi)
    torch.testing.assert_close(obs["generator"]["gradient"], g_theta[0])
    torch.testing.assert_close(
        obs["discriminator"]["gradient"], -g_phi[0]
    )  # own loss is −V
    # each seat also sees the opponent's own-loss gradient from the same pass, free
    torch.testing.assert_close(obs["generator"]["opponent_gradient"], -g_phi[0])
    torch.testing.assert_close(obs["discriminator"]["opponent_gradient"], g_theta[0])
    assert env.ledger.costs() == {"generator": 1.0, "discriminator": 1.0}


def test_budget_truncates():
    env = gangames.make("gangames/Quadratic-v0", budget=5, max_steps=100)
    obs, _ = env.reset(seed=0)
    steps = 0
    while env.agents:
        obs, _, _, trunc, info = env.step(
            {s: -0.1 * o["gradient"] for s, o in obs.items()}
        )
        steps += 1
    assert trunc["generator"] and steps == 4  # 1 grad at reset + 1 per round
    assert info["generator"]["oracle_calls_generator"] >= 5


def test_divergence_is_an_outcome_not_an_error():
    env = gangames.make("gangames/Bilinear-v0", max_steps=10_000)
    obs, _ = env.reset(seed=0)
    while env.agents:
        obs, _, term, trunc, info = env.step(
            {s: -1.5 * o["gradient"] for s, o in obs.items()}
        )
    assert trunc["generator"] and not term["generator"]
    assert info["generator"]["diverged"] is True
    assert info["generator"]["step"] < 10_000
    assert np.isfinite(obs["generator"]["own"]).all()


def test_batched_divergence_freezes_only_that_instance():
    env = gangames.make("gangames/Bilinear-v0", batch=2, dtype="float64", max_steps=300)
    obs, _ = env.reset(seed=0)
    lr = np.array([[1.5], [0.01]])
    while env.agents:
        obs["generator"]["own"].copy()
        obs, _, _, _trunc, info = env.step(
            {s: -lr * o["gradient"] for s, o in obs.items()}
        )
    diverged = info["generator"]["diverged"]
    assert diverged.tolist() == [True, False]
    assert info["generator"]["step"] == 300


def test_bad_inputs_leave_state_untouched():
    env = gangames.make("gangames/Bilinear-v0", dimension=3)
    _obs, _ = env.reset(seed=0)
    theta = env.match.state.theta.clone()
    good = np.zeros(3, np.float32)
    cases = [
        (
            {"generator": np.zeros(2, np.float32), "discriminator": good},
            InvalidActionError,
            "(3,)",
        ),
        (
            {"generator": np.zeros(3, np.int64), "discriminator": good},
            InvalidActionError,
            "floating dtype",
        ),
        (
            {"generator": np.full(3, 1e300), "discriminator": good},  # inf as float32
            InvalidActionError,
            "generator: action contains NaN or Inf",
        ),
        (
            {"generator": good, "discriminator": np.array([np.nan, 0, 0], np.float32)},
            InvalidActionError,
            "NaN",
        ),
        ({"generator": good}, UnknownAgentError, "discriminator"),
        (
            {"generator": good, "discriminator": good, "referee": good},
            UnknownAgentError,
            "referee",
        ),
        (
            {"generator": torch.zeros(3), "discriminator": good},
            InvalidActionError,
            "numpy",
        ),
    ]
    for actions, error, text in cases:
        with pytest.raises(error, match=None) as info:
            env.step(actions)
        assert text in str(info.value), str(info.value)
        assert torch.equal(env.match.state.theta, theta)
        assert env.match.state.step == 0


@pytest.mark.parametrize(
    ("gid", "options", "seat"),
    [
        # a projection would clamp an Inf into the feasible set
        ("gangames/DiracGAN-v0", {"clip": 0.5}, "discriminator"),
        # clip_actions would clamp it into the action box
        (
            "gangames/Quadratic-v0",
            {"max_update": 0.5, "clip_actions": True},
            "generator",
        ),
        # unconstrained: the divergence guard finds it in the new parameters
        ("gangames/Bilinear-v0", {"dimension": 2}, "discriminator"),
    ],
)
@pytest.mark.parametrize("order", ["simultaneous", "sequential"])
def test_an_inf_action_is_refused_wherever_it_could_hide(gid, options, seat, order):
    env = gangames.make(gid, batch=3, tensor=True, order=order, **options)
    env.reset(seed=0)
    before = (env.match.state.theta.clone(), env.match.state.phi.clone())
    costs = env.ledger.costs()
    dims = {s: env.action_space(s).shape for s in ("generator", "discriminator")}
    actions = {s: torch.zeros(dims[s]) for s in dims}
    actions[seat][1, 0] = float("inf")
    with pytest.raises(InvalidActionError, match=f"{seat}: action contains NaN or Inf"):
        if order == "simultaneous":
            env.step(actions)
        else:
            if seat == "discriminator":
                env.step(actions["generator"])
                before = (env.match.state.theta.clone(), env.match.state.phi.clone())
                costs = env.ledger.costs()
            env.step(actions[seat])
    assert torch.equal(env.match.state.theta, before[0])
    assert torch.equal(env.match.state.phi, before[1])
    assert env.ledger.costs() == costs


def test_a_nan_action_is_refused_once_an_instance_has_diverged():
    env = gangames.make("gangames/Bilinear-v0", dimension=2, batch=2, tensor=True)
    env.reset(seed=0)
    env.declare_diverged(torch.tensor([True, False]))
    theta = env.match.state.theta.clone()
    nan = torch.tensor([[0.0, 0.0], [float("nan"), 0.0]])
    with pytest.raises(InvalidActionError, match="generator: action contains NaN"):
        env.step({"generator": nan, "discriminator": torch.zeros(2, 2)})
    assert torch.equal(env.match.state.theta, theta)
    # finite actions play on; the diverged instance stays frozen
    _, _, _, _, info = env.step(
        {"generator": torch.ones(2, 2), "discriminator": torch.zeros(2, 2)}
    )
    assert info["generator"]["diverged"].tolist() == [True, False]
    assert torch.equal(env.match.state.theta[0], theta[0])


def test_a_finite_update_that_overflows_is_a_divergence_not_an_error():
    env = gangames.make("gangames/Quadratic-v0", tensor=True)  # float32
    env.reset(seed=0)
    huge = torch.full((2,), 3e38)
    _, _, _, trunc, info = env.step({"generator": huge, "discriminator": huge})
    assert info["generator"]["diverged"] is True or bool(info["generator"]["diverged"])
    assert trunc["generator"]


def test_a_nan_is_named_before_another_seats_bound():
    env = gangames.make("gangames/Quadratic-v0", max_update=0.5)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match="discriminator: action contains NaN"):
        env.step(
            {
                "generator": np.ones(2, np.float32),  # out of bounds
                "discriminator": np.array([np.nan, 0.0], np.float32),
            }
        )


def test_tensor_mode_refuses_wrong_device_and_dtype():
    env = gangames.make("gangames/Quadratic-v0", tensor=True)
    env.reset(seed=0)
    with pytest.raises(InvalidActionError, match=r"generator.*floating dtype"):
        env.step(
            {
                "generator": torch.zeros(2, dtype=torch.int64),
                "discriminator": torch.zeros(2),
            }
        )
    with pytest.raises(InvalidActionError, match="discriminator"):
        env.step(
            {"generator": torch.zeros(2), "discriminator": np.zeros(2, np.float32)}
        )


def test_step_before_reset_and_after_end():
    env = gangames.make("gangames/Quadratic-v0", max_steps=1)
    with pytest.raises(ResetNeededError):
        env.step(
            {
                "generator": np.zeros(2, np.float32),
                "discriminator": np.zeros(2, np.float32),
            }
        )
    env.reset(seed=0)
    env.step(
        {"generator": np.zeros(2, np.float32), "discriminator": np.zeros(2, np.float32)}
    )
    assert env.agents == []
    with pytest.raises(ResetNeededError):
        env.step(
            {
                "generator": np.zeros(2, np.float32),
                "discriminator": np.zeros(2, np.float32),
            }
        )


def test_max_update_bounds_the_action_space():
    env = gangames.make("gangames/Quadratic-v0", max_update=0.5)
    env.reset(seed=0)
    space = env.action_space("generator")
    assert np.all(space.high == 0.5) and np.all(space.low == -0.5)
    with pytest.raises(InvalidActionError, match=r"\[-0.5, 0.5\]"):
        env.step(
            {
                "generator": np.ones(2, np.float32),
                "discriminator": np.zeros(2, np.float32),
            }
        )


def test_reset_from_given_params_refuses_infeasible_points():
    env = gangames.make("gangames/Bilinear-v0", dimension=2, box=1.0)
    inside = np.array([1.0, -0.5], np.float32)
    zeros = np.zeros(2, np.float32)
    obs, _ = env.reset(
        seed=0, options={"params": {"generator": inside, "discriminator": zeros}}
    )
    np.testing.assert_array_equal(obs["generator"]["own"], [1.0, -0.5])
    outside = {"generator": np.array([3.0, -0.5], np.float32), "discriminator": zeros}
    with pytest.raises(InvalidConfigError, match=r"\['generator'\].*2 outside"):
        env.reset(seed=0, options={"params": outside})
    assert env.match.state.theta.tolist() == [[1.0, -0.5]]  # state untouched
    with pytest.raises(UnknownAgentError):
        env.reset(seed=0, options={"params": {"generator": np.zeros(2, np.float32)}})
    nan = {"generator": zeros, "discriminator": np.array([np.nan, 0], np.float32)}
    with pytest.raises(
        InvalidActionError, match="discriminator: initial parameters contains NaN"
    ):
        env.reset(seed=0, options={"params": nan})
    assert env.match.state.theta.tolist() == [[1.0, -0.5]]  # state untouched


@pytest.mark.parametrize("seed", [-1, [0, -5], 2**63, 1.5])
def test_bad_seeds_are_refused_naming_seed(seed):
    env = gangames.make("gangames/Bilinear-v0", dimension=2, batch=2)
    with pytest.raises(InvalidConfigError, match=r"^seed must be an int"):
        env.reset(seed=seed)


@pytest.mark.parametrize(
    "options, field",
    [
        ({"batch": 0}, "batch"),
        ({"max_steps": -1}, "max_steps"),
        ({"budget": float("nan")}, "budget"),
        ({"reward": "fun"}, "reward"),
        ({"dtype": "int8"}, "dtype"),
        ({"first": "referee"}, "first"),
    ],
)
def test_bad_env_options(options, field):
    with pytest.raises(InvalidConfigError, match=field):
        gangames.make("gangames/Quadratic-v0", **options)


def test_sequential_second_mover_sees_first_move():
    env = gangames.make(
        "gangames/NoNashQuadratic-v0", order="sequential", dtype="float64"
    )
    env.reset(
        seed=0,
        options={
            "params": {"generator": np.array([0.5]), "discriminator": np.array([0.0])}
        },
    )
    assert env.agent_selection == "generator"
    env.step(np.array([-0.25]))  # θ: 0.5 → 0.25
    assert env.agent_selection == "discriminator"
    obs = env.observe("discriminator")
    assert obs["opponent"][0] == pytest.approx(0.25)
    # own-loss gradient of the discriminator: −∂V/∂y = 2y − 4x at (x, y) = (0.25, 0)
    assert obs["gradient"][0] == pytest.approx(-1.0)
    # the generator's at the same point: ∂V/∂x = −6x + 4y = −1.5, one pass, one charge
    assert obs["opponent_gradient"][0] == pytest.approx(-1.5)
    assert env.ledger.costs()["discriminator"] == 1.0
    assert env.rewards["generator"] == 0.0  # rewards arrive at the end of the round
    env.step(np.array([0.5]))
    assert env.rewards["generator"] + env.rewards["discriminator"] == pytest.approx(
        -env.infos["generator"]["duality_gap"]
    )


def test_sequential_discriminator_first():
    env = gangames.make(
        "gangames/Quadratic-v0", order="sequential", first="discriminator"
    )
    env.reset(seed=0)
    assert env.possible_agents == ["discriminator", "generator"]
    assert env.agent_selection == "discriminator"


def test_sequential_costs_one_gradient_per_observation():
    env = gangames.make("gangames/Quadratic-v0", order="sequential", max_steps=3)
    env.reset(seed=0)
    for agent in env.agent_iter():
        obs, *_ = env.last()
        env.last()  # asking twice for the same state is not charged twice
        done = env.terminations[agent] or env.truncations[agent]
        env.step(None if done else -0.1 * obs["gradient"])
    # 3 rounds: each seat observed 3 states (+1 final state when it was removed)
    assert env.infos == {} and env._session.match.oracle.ledger.costs() == {
        "generator": 4.0,
        "discriminator": 4.0,
    }


def test_render_ansi():
    env = gangames.make("gangames/Quadratic-v0", render_mode="ansi")
    env.reset(seed=0)
    assert "duality_gap" in env.render()


def test_lean_infos_keep_the_reward_and_skip_the_rest():
    full = gangames.make("gangames/Bilinear-v0", dtype="float64")
    lean = gangames.make("gangames/Bilinear-v0", dtype="float64", full_infos=False)
    fo, _ = full.reset(seed=3)
    lo, _ = lean.reset(seed=3)
    for _ in range(5):
        fo, fr, _, _, fi = full.step({s: -0.1 * o["gradient"] for s, o in fo.items()})
        lo, lr, _, _, li = lean.step({s: -0.1 * o["gradient"] for s, o in lo.items()})
    assert fr == lr
    assert "duality_gap" in li["generator"] and "proximal_gap" not in li["generator"]
    assert "grad_norm" not in li["generator"] and "grad_norm" in fi["generator"]


def _play_to_the_end(env):
    """Plain GDA until the env ends the episode; returns (rounds, final infos)."""
    if isinstance(env, gangames.envs.GameParallelEnv):
        obs, infos = env.reset(seed=0)
        rounds = 0
        while env.agents:
            obs, _, _, _, infos = env.step(
                {a: -0.1 * obs[a]["gradient"] for a in env.agents}
            )
            rounds += 1
        return rounds, infos["generator"]
    env.reset(seed=0)
    rounds = 0
    for agent in env.agent_iter():
        obs, _, term, trunc, info = env.last()  # the final last() included
        env.step(None if term or trunc else -0.1 * obs["gradient"])
        rounds += agent == env.possible_agents[1] and not (term or trunc)
    return rounds, info


@pytest.mark.parametrize(
    ("limits", "rounds", "calls"),
    [({"max_steps": 10}, 10, 11.0), ({"budget": 10, "max_steps": 100}, 9, 10.0)],
)
def test_sequential_and_parallel_accounting_agree(limits, rounds, calls):
    both = {"generator": calls, "discriminator": calls}
    for order in ("simultaneous", "sequential"):
        env = gangames.make("gangames/Bilinear-v0", dimension=2, order=order, **limits)
        played, info = _play_to_the_end(env)
        assert played == rounds, order
        said = {s: info[f"oracle_calls_{s}"] for s in both}
        assert said == both, order  # what infos say
        assert env.ledger.costs() == both, order  # what was charged


@pytest.mark.parametrize("tensor", [False, True])
def test_castable_float_actions_are_cast_to_the_space_dtype(tensor):
    """Gymnasium's convention: a float64 action on a float32 space is accepted."""
    runs = {}
    for wide in (False, True):
        env = gangames.make("gangames/Bilinear-v0", dimension=3, tensor=tensor)
        env.reset(seed=0)
        dtype = np.float64 if wide else np.float32
        step = np.linspace(-0.1, 0.1, 3).astype(dtype)
        action = torch.from_numpy(step) if tensor else step
        env.step({"generator": action, "discriminator": action})
        runs[wide] = env.match.state.theta.clone()
        assert runs[wide].dtype == torch.float32
    assert torch.equal(runs[False], runs[True])


def test_clip_actions_clips_into_the_box_and_is_off_by_default():
    step = {"generator": np.full(2, 3.0), "discriminator": np.full(2, -3.0)}
    clipped = gangames.make("gangames/Quadratic-v0", max_update=0.5, clip_actions=True)
    clipped.reset(seed=0)
    bounded = gangames.make("gangames/Quadratic-v0", max_update=0.5)
    bounded.reset(seed=0)
    start = clipped.match.state.theta.clone()
    clipped.step(step)
    bounded.step(
        {"generator": np.full(2, 0.5), "discriminator": np.full(2, -0.5, np.float32)}
    )
    assert torch.equal(clipped.match.state.theta, bounded.match.state.theta)
    assert not torch.equal(clipped.match.state.theta, start)
    with pytest.raises(InvalidActionError, match=r"generator.*\[-0.5, 0.5\]"):
        bounded.step(step)
    with pytest.raises(InvalidActionError, match=r"discriminator.*NaN"):
        clipped.step({"generator": np.zeros(2), "discriminator": np.full(2, np.nan)})
    with pytest.raises(InvalidConfigError, match="clip_actions must be True or False"):
        gangames.make("gangames/Quadratic-v0", clip_actions="yes")


@pytest.mark.parametrize(
    ("options", "inside"),
    [
        ({"batch": 64}, 1),  # the README's snippet: small, on one thread
        ({"batch": 1024, "dimension": 16}, 2),  # 1024 · 32 entries > SMALL
    ],
)
def test_small_envs_compute_on_one_thread_and_restore_the_count(
    options, inside, monkeypatch
):
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        env = gangames.make("gangames/Bilinear-v0", **options)
        seen = []
        apply = env._session.apply

        def spy(*args, **kwargs):
            seen.append(torch.get_num_threads())
            return apply(*args, **kwargs)

        monkeypatch.setattr(env._session, "apply", spy)
        obs, _ = env.reset(seed=0)
        env.step({s: -0.1 * obs[s]["gradient"] for s in env.agents})
        assert seen == [inside] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(threads)
