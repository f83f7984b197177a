"""Declared search spaces: quasi-random trials, dimensions, and the registry's spaces."""

from __future__ import annotations

import inspect
import math
import warnings

import pytest

import agents
from agents.registry import register
from agents.search import Choice, IntUniform, LogUniform, SearchSpace, Uniform
from gangames.errors import InvalidConfigError

SPACE = SearchSpace(
    {
        "lr": LogUniform(1e-3, 1.0),
        "mix": Uniform(-1.0, 2.0),
        "steps": IntUniform(1, 5),
        "rule": Choice(("a", "b", "c")),
    }
)


def test_sampling_is_deterministic_for_a_seed_and_differs_across_seeds():
    assert SPACE.sample(10, seed=3) == SPACE.sample(10, seed=3)
    assert SPACE.sample(10, seed=3) != SPACE.sample(10, seed=4)
    # the first trials do not depend on how many are drawn
    assert SPACE.sample(5, seed=3) == SPACE.sample(10, seed=3)[:5]


def test_trials_lie_inside_the_bounds_with_the_declared_types():
    for trial in SPACE.sample(64, seed=0):
        assert set(trial) == {"lr", "mix", "steps", "rule"}
        assert isinstance(trial["lr"], float) and 1e-3 <= trial["lr"] <= 1.0
        assert isinstance(trial["mix"], float) and -1.0 <= trial["mix"] <= 2.0
        assert type(trial["steps"]) is int and 1 <= trial["steps"] <= 5
        assert trial["rule"] in ("a", "b", "c")


def test_trials_are_stratified_in_every_dimension():
    """Sobol' nets: of 2^m points, each half (and quarter) of each axis gets its share."""
    space = SearchSpace({"a": LogUniform(1e-4, 1.0), "b": LogUniform(1e-2, 1e2)})
    trials = space.sample(16, seed=7)
    for name, dim in space.items():
        lo, hi = math.log(dim.low), math.log(dim.high)
        u = [(math.log(t[name]) - lo) / (hi - lo) for t in trials]
        for parts in (2, 4):
            counts = [sum(int(x * parts) == j for x in u) for j in range(parts)]
            assert counts == [16 // parts] * parts, (name, parts, counts)


def test_any_trial_count_samples_without_a_balance_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in (1, 3, 5, 7, 12):
            assert len(SPACE.sample(n, seed=0)) == n


def test_an_empty_space_has_one_trial_the_defaults():
    assert SearchSpace().sample(16, seed=0) == [{}]
    assert SearchSpace().per_instance == () and len(SearchSpace()) == 0


def test_dimension_maps():
    assert LogUniform(1e-2, 1.0).value(0.5) == pytest.approx(0.1)
    assert Uniform(2.0, 4.0).value(0.25) == 2.5
    assert [IntUniform(1, 3).value(u) for u in (0.0, 0.34, 0.67, 0.999)] == [1, 2, 3, 3]
    # log-spaced: 1 takes the first half of u for 1..3 ([1, 4) in log)
    assert [IntUniform(1, 3, log=True).value(u) for u in (0.0, 0.49, 0.51, 0.99)] == [
        1,
        1,
        2,
        3,
    ]
    assert [Choice(("x", "y")).value(u) for u in (0.0, 0.49, 0.5)] == ["x", "x", "y"]
    with pytest.raises(InvalidConfigError, match=r"\[0, 1\)"):
        Uniform(0.0, 1.0).value(1.0)


def test_per_instance_and_structural_names():
    space = SearchSpace(
        {
            "b": Uniform(0.0, 1.0),
            "a": LogUniform(0.1, 1.0),
            "c": LogUniform(0.1, 1.0, per_instance=False),
            "d": IntUniform(1, 2),
        }
    )
    assert space.per_instance == ("a", "b")
    assert space.structural == ("c", "d")
    assert list(space) == ["a", "b", "c", "d"]  # ordered by name
    assert space == SearchSpace(dict(reversed(list(space.items()))))


@pytest.mark.parametrize(
    ("make_bad", "word"),
    [
        (lambda: LogUniform(0.0, 1.0), "LogUniform"),
        (lambda: LogUniform(1.0, 0.1), "low < high"),
        (lambda: Uniform(1.0, float("nan")), "Uniform"),
        (lambda: Uniform(True, 2.0), "Uniform"),
        (lambda: IntUniform(3, 2), "IntUniform"),
        (lambda: IntUniform(0, 4, log=True), "1 ≤ low"),
        (lambda: IntUniform(1.0, 4), "IntUniform"),
        (lambda: Choice(()), "Choice"),
        (lambda: Choice("abc"), "sequence"),
        (lambda: Choice((1, 1)), "distinct"),
        (lambda: Choice(([1],)), "Choice"),
        (lambda: SearchSpace({"lr": (1e-3, 1.0)}), "'lr'"),
        (lambda: SearchSpace({"not a name": Uniform(0, 1)}), "keyword"),
        (lambda: SPACE.sample(0, seed=0), "n must"),
        (lambda: SPACE.sample(2, seed=-1), "seed must"),
    ],
)
def test_bad_spaces_and_requests_are_refused(make_bad, word):
    with pytest.raises(InvalidConfigError, match=word):
        make_bad()


# ---- the registry's spaces ------------------------------------------------------------


@pytest.mark.parametrize("name", agents.names())
def test_every_registered_agent_declares_a_space_its_factory_takes(name):
    space = agents.search_space(name)
    assert isinstance(space, SearchSpace)
    params = inspect.signature(agents.factory(name)).parameters
    assert set(space) <= set(params)
    if name == "sb3":  # needs a saved policy to build; nothing to tune
        assert space == SearchSpace()
        return
    for trial in space.sample(4, seed=0):
        agents.make(name, **trial)  # every trial builds
    assert space.per_instance, f"{name}: nothing to play as per-instance tensors"


def test_step_sizes_of_the_main_entrants_are_per_instance():
    steps = {
        "gda": {"lr", "lr_discriminator"},
        "alternating_gda": {"lr", "lr_discriminator"},
        "adam": {"lr", "lr_discriminator"},
        "extragradient": {"lr"},
        "optimistic_gda": {"lr"},
        "proximal": {"prox_lambda", "inner_lr", "lr_generator"},
        "stackelberg": {"lr_leader", "lr_follower", "regularization"},
        "langevin": {"lr", "temperature"},
        "srfb": {"lr", "relaxation"},
        "conjugate_gradient": {"lr", "coefficient"},
    }
    for name, names in steps.items():
        assert names <= set(agents.search_space(name).per_instance), name
    assert agents.search_space("sb3") == SearchSpace()


def test_register_takes_a_space_and_refuses_bad_ones():
    def toy(lr: float = 0.1, n: int = 1):
        return agents.make("gda", lr=lr)

    with pytest.raises(InvalidConfigError, match=r"\['momentum'\]"):
        register("toy_space", toy, SearchSpace({"momentum": Uniform(0.0, 1.0)}))
    with pytest.raises(InvalidConfigError, match="SearchSpace"):
        register("toy_space", toy, {"lr": LogUniform(1e-3, 1.0)})  # type: ignore[arg-type]
    with pytest.raises(InvalidConfigError, match="unknown agent"):
        agents.search_space("toy_space")
    try:
        register("toy_space", toy)  # no space: the empty one, a single trial
        assert agents.search_space("toy_space") == SearchSpace()
        space = SearchSpace({"lr": LogUniform(1e-3, 1.0), "n": IntUniform(1, 3)})
        with pytest.warns(UserWarning, match="overriding"):
            register("toy_space", toy, space)
        assert agents.search_space("toy_space") is space
    finally:
        from agents import registry

        registry._REGISTRY.pop("toy_space", None)
        registry._SPACES.pop("toy_space", None)
