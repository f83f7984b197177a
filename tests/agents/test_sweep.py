"""Per-instance hyperparameters and batched trials: a trial in a sweep equals it alone."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import agents
from agents.transforms import positive_number, seat_steps, sqrt
from gangames.errors import InvalidConfigError
from gangames.random import derive_seeds

F64 = torch.float64
INSTANCES = 2
ROUNDS = 30
MATCH_SEED = 11

# A small game each agent is built for (the particle lift for the mixed-strategy rules).
GAMES = {
    "gda": ("gangames/Quadratic-v0", {}),
    "alternating_gda": ("gangames/Quadratic-v0", {}),
    "adam": ("gangames/Quadratic-v0", {}),
    "conjugate_gradient": ("gangames/Quadratic-v0", {}),
    "extragradient": ("gangames/Bilinear-v0", {}),
    "optimistic_gda": ("gangames/Bilinear-v0", {}),
    "srfb": ("gangames/Bilinear-v0", {"box": 1.0}),
    "fbf": ("gangames/Bilinear-v0", {}),
    "proximal": ("gangames/NoNashQuadratic-v0", {}),
    "stackelberg": ("gangames/NoNashQuadratic-v0", {}),
    "follow_the_ridge": ("gangames/NoNashQuadratic-v0", {}),
    "unrolled": ("gangames/NoNashQuadratic-v0", {}),
    "langevin": ("gangames/NonRealizableGAN-v0", {"particles": 4}),
    "mirror_gan": ("gangames/CirclePursuit-v0", {"particles": 4}),
}


def test_every_playable_agent_has_a_sweep_game():
    assert set(GAMES) == set(agents.names()) - {"sb3"}


def _trials(name: str) -> list[dict]:
    """Three trials; the second shares the first's structural values (one group of 2)."""
    space = agents.search_space(name)
    trials = space.sample(3, seed=5)
    trials[1].update({n: trials[0][n] for n in space.structural})
    return trials


def _play(name, solver, batch, seeds):
    game, options = GAMES[name]
    env = agents.env_for(
        game, solver, batch=batch, max_steps=ROUNDS, dtype="float64", **options
    )
    infos = agents.play(env, solver, seed=seeds)
    return infos, env.match.state


def _assert_rows_equal(name, trial, sweep, alone, rows):
    """Every info of every round alone equals the sweep's rows ``rows``, bit for bit."""
    assert len(sweep) >= len(alone)  # a sweep ends when all of its instances do
    for t, (mine, one) in enumerate(zip(sweep, alone, strict=False)):
        assert mine.keys() == one.keys()
        for key, value in one.items():
            got = mine[key]
            if isinstance(value, np.ndarray):
                np.testing.assert_array_equal(
                    got[rows], value, err_msg=f"{name} trial {trial} round {t} {key}"
                )
            else:
                assert got == value, (name, trial, t, key)


@pytest.mark.parametrize("name", sorted(GAMES))
def test_a_trial_inside_a_sweep_equals_the_trial_played_alone(name):
    trials = _trials(name)
    seeds = derive_seeds(MATCH_SEED, INSTANCES)
    groups = agents.sweep(
        name, trials, instances=INSTANCES, device="cpu", dtype=torch.float64
    )
    assert sorted(k for g in groups for k in g.trials) == [0, 1, 2]
    assert any(len(g.trials) > 1 for g in groups)  # batching across trials happened
    for group in groups:
        batch = len(group.trials) * INSTANCES
        infos, state = _play(name, group.solver, batch, seeds * len(group.trials))
        for k, trial in enumerate(group.trials):
            alone_infos, alone = _play(
                name, agents.make(name, **trials[trial]), INSTANCES, seeds
            )
            rows = slice(k * INSTANCES, (k + 1) * INSTANCES)
            _assert_rows_equal(name, trial, infos, alone_infos, rows)
            assert torch.equal(state.theta[rows], alone.theta), (name, trial)
            assert torch.equal(state.phi[rows], alone.phi), (name, trial)


def test_structural_values_split_the_trials_into_groups():
    trials = [
        {"lr": 0.1, "lr_discriminator": 0.2, "n_critic": 1},
        {"lr": 0.3, "lr_discriminator": 0.2, "n_critic": 2},
        {"lr": 0.05, "lr_discriminator": 0.1, "n_critic": 1},
        {"lr": 0.01, "n_critic": 1},  # another set of batched names: its own group
    ]
    groups = agents.sweep(
        "alternating_gda", trials, instances=3, device="cpu", dtype="float32"
    )
    assert [g.trials for g in groups] == [(0, 2), (1,), (3,)]
    # no per-instance dimension (sb3-like): one group per trial, even when equal
    agents.register("toy_no_space", lambda lr=0.1: agents.make("gda", lr=lr))
    try:
        groups = agents.sweep(
            "toy_no_space", [{"lr": 0.1}] * 2, instances=1, device="cpu", dtype=F64
        )
        assert [g.trials for g in groups] == [(0,), (1,)]
    finally:
        agents.registry._REGISTRY.pop("toy_no_space")
        agents.registry._SPACES.pop("toy_no_space")


def test_sweep_rows_are_trial_major_tensors_on_the_device_and_dtype():
    trials = [{"lr_leader": 0.1 * (k + 1), "lr_follower": 0.2} for k in range(3)]
    (group,) = agents.sweep(
        "stackelberg", trials, instances=2, device="cpu", dtype=torch.float32
    )
    env = agents.env_for("gangames/NoNashQuadratic-v0", group.solver, batch=6)
    assert group.trials == (0, 1, 2)
    infos = agents.play(env, group.solver, seed=derive_seeds(0, 2) * 3)
    assert infos[-1]["distance"].shape == (6,)
    # trial-major rows: rows 0-1 trial 0, 2-3 trial 1, 4-5 trial 2
    lr = torch.tensor([[0.1], [0.1], [0.2], [0.2], [0.3], [0.3]], dtype=torch.float32)
    solver = agents.make("stackelberg", lr_leader=lr, lr_follower=0.2)
    env2 = agents.env_for("gangames/NoNashQuadratic-v0", solver, batch=6)
    infos2 = agents.play(env2, solver, seed=derive_seeds(0, 2) * 3)
    np.testing.assert_array_equal(infos[-1]["distance"], infos2[-1]["distance"])


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"instances": 0}, "instances"),
        ({"dtype": torch.int64}, "dtype"),
        ({"dtype": "int64"}, "dtype"),
        ({"dtype": "no_such_dtype"}, "dtype"),
        ({"trials": {"lr": 0.1}}, "trials"),
        ({"trials": [{"lr": -0.1}]}, r"trial 0: extragradient: lr"),
        ({"trials": [{"lr": 0.1}, {"lr": 0.2, "lr_generator": "x"}]}, "trial 1"),
        ({"name": "extragradeint"}, "did you mean"),
    ],
)
def test_sweep_refuses_bad_requests(kwargs, word):
    args = {
        "name": "extragradient",
        "trials": [{"lr": 0.1}],
        "instances": 2,
        "device": "cpu",
        "dtype": F64,
    }
    args.update(kwargs)
    name, trials = args.pop("name"), args.pop("trials")
    with pytest.raises(InvalidConfigError, match=word):
        agents.sweep(name, trials, **args)


# ---- per-instance validation -----------------------------------------------------------


def test_validation_accepts_a_column_of_finite_positive_values():
    lr = torch.tensor([[0.1], [0.5]], dtype=F64)
    assert positive_number("lr", lr) is lr
    steps = seat_steps(0.1, lr_discriminator=lr)
    assert steps.generator == 0.1 and steps.discriminator is lr
    assert positive_number("b1", torch.zeros(3, 1), allow_zero=True, below=1.0).shape


def test_sqrt_of_a_column_is_math_sqrt_row_by_row():
    """A noise scale √(2ητ) per instance must equal the float rule's ``math.sqrt``."""
    generator = torch.Generator().manual_seed(0)
    values = 10.0 * torch.rand(4096, 1, dtype=F64, generator=generator)
    root = sqrt(values)
    assert root.dtype == F64 and root.shape == (4096, 1)
    assert root.tolist() == [[math.sqrt(v)] for (v,) in values.tolist()]


@pytest.mark.parametrize(
    ("value", "options", "words"),
    [
        (torch.tensor([0.1, 0.2]), {}, r"lr must be .*\(B, 1\).*shape \(2,\)"),
        (torch.tensor([[0.1, 0.2]]), {}, r"shape \(1, 2\)"),
        (torch.tensor([[1]]), {}, "torch.int64"),
        (torch.tensor([[0.1], [float("nan")]]), {}, r"got nan in row 1"),
        (torch.tensor([[0.1], [float("inf")]]), {}, r"got inf in row 1"),
        (torch.tensor([[0.1], [0.0]]), {}, r"> 0 in every row, got 0.0 in row 1"),
        (torch.tensor([[0.5], [1.0]]), {"below": 1.0}, r"in \(0, 1.0\) in every row"),
        (torch.tensor([[0.1]]), {"per_instance": False}, "one float for the whole"),
        (
            1.5,
            {"at_most": 1.0},
            r"lr must be a finite number in \(0, 1(\.0)?\], got 1.5",
        ),
        (True, {}, "got True"),
    ],
)
def test_validation_names_the_hyperparameter_and_what_came(value, options, words):
    with pytest.raises(InvalidConfigError, match=words):
        positive_number("lr", value, **options)


def test_factories_refuse_tensors_for_structural_numbers():
    lr = torch.full((2, 1), 0.1)
    with pytest.raises(InvalidConfigError, match=r"anchor_rate.*one float"):
        agents.make("proximal", anchor_rate=lr)
    with pytest.raises(InvalidConfigError, match=r"b1.*one float"):
        agents.make("adam", b1=lr)
    with pytest.raises(InvalidConfigError, match=r"lr_discriminator.*row 1"):
        agents.make("gda", lr_discriminator=torch.tensor([[0.1], [-1.0]]))
