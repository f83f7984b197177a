from __future__ import annotations

import numpy as np
import pytest

from gangames.errors import InvalidConfigError
from gangames.tournament.stats import (
    bootstrap_ci,
    bootstrap_replicates,
    interquartile_mean,
    probability_of_improvement,
    ratio_profile,
)

# ---------------------------------------------------------------- interquartile mean


def test_iqm_of_known_arrays():
    # n = 8: drop 2 at each end, mean(3, 4, 5, 6) = 4.5 whatever the order.
    x = np.array([8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0])
    assert interquartile_mean(x) == pytest.approx(4.5)
    # An outlier in the top quarter does not move the IQM; it moves the mean.
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1e9])
    assert interquartile_mean(y) == pytest.approx(4.5)
    # Diverged runs scored +inf are trimmed while fewer than a quarter diverge.
    z = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, np.inf])
    assert interquartile_mean(z) == pytest.approx(4.5)
    # n = 10: floor(10/4) = 2 trimmed per end -> mean(3..8) = 5.5.
    assert interquartile_mean(np.arange(1.0, 11.0)) == pytest.approx(5.5)
    # n < 4: nothing trimmed.
    assert interquartile_mean(np.array([1.0, 2.0, 6.0])) == pytest.approx(3.0)


def test_iqm_along_axis_and_refusals():
    x = np.stack([np.arange(1.0, 9.0), 10 * np.arange(1.0, 9.0)])
    np.testing.assert_allclose(interquartile_mean(x, axis=-1), [4.5, 45.0])
    np.testing.assert_allclose(interquartile_mean(x.T, axis=0), [4.5, 45.0])
    with pytest.raises(InvalidConfigError, match="NaN"):
        interquartile_mean(np.array([1.0, np.nan]))
    with pytest.raises(InvalidConfigError, match="at least one"):
        interquartile_mean(np.array([]))


# ---------------------------------------------------------------- bootstrap


def _runs(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"a": rng.normal(0.0, 1.0, n), "b": rng.normal(3.0, 1.0, n)}


def test_bootstrap_ci_brackets_point_and_is_deterministic():
    runs = _runs(10, seed=1)
    ci = bootstrap_ci(runs, reps=500, seed=3)
    assert ci.low <= ci.point <= ci.high
    assert ci.low < ci.high
    pooled = np.concatenate(list(runs.values()))
    assert ci.point == pytest.approx(interquartile_mean(pooled))
    again = bootstrap_ci(runs, reps=500, seed=3)
    assert tuple(map(float, again)) == tuple(map(float, ci))
    other = bootstrap_ci(runs, reps=500, seed=4)
    assert (float(other.low), float(other.high)) != (float(ci.low), float(ci.high))
    # A list of tasks is the same as a dict in the same order.
    as_list = bootstrap_ci(list(runs.values()), reps=500, seed=3)
    assert tuple(map(float, as_list)) == tuple(map(float, ci))


def test_bootstrap_ci_shrinks_with_more_seeds():
    few = bootstrap_ci(_runs(5, seed=0), statistic=np.mean, reps=1000)
    many = bootstrap_ci(_runs(200, seed=0), statistic=np.mean, reps=1000)
    assert many.high - many.low < 0.4 * (few.high - few.low)


def test_bootstrap_mean_interval_matches_normal_theory():
    # Mean of 400 N(0, 1) draws: standard error 0.05, 95 % half-width ≈ 0.098.
    x = np.random.default_rng(0).normal(size=400)
    ci = bootstrap_ci([x], statistic=np.mean, reps=4000, seed=1)
    assert ci.high - ci.low == pytest.approx(2 * 1.96 * x.std() / 20, rel=0.1)


def test_stratification_keeps_per_task_counts():
    # Task a: three runs at 0, task b: one run at 1. Every stratified replicate
    # holds exactly three 0s and one 1, so its mean is exactly 1/4; pooled
    # (unstratified) resampling of the four runs would vary.
    runs = {"a": np.zeros(3), "b": np.ones(1)}
    reps = bootstrap_replicates(runs, np.mean, reps=300, seed=0)
    np.testing.assert_array_equal(reps, np.full(300, 0.25))
    ci = bootstrap_ci(runs, statistic=np.mean, reps=300)
    assert (float(ci.low), float(ci.point), float(ci.high)) == (0.25, 0.25, 0.25)
    # Count of each task's runs per replicate, via a statistic that reads them.
    tagged = {"a": np.zeros(5), "b": np.ones(2), "c": np.full(3, 2.0)}

    def counts(x: np.ndarray, axis: int) -> np.ndarray:
        return np.stack([(x == v).sum(axis=axis) for v in (0.0, 1.0, 2.0)], axis=-1)

    c = bootstrap_replicates(tagged, counts, reps=50, seed=0)
    assert c.shape == (50, 3)
    np.testing.assert_array_equal(c, np.tile([5, 2, 3], (50, 1)))


def test_bootstrap_over_curves():
    # Runs of shape (n_t, T): one interval per budget, bracketing the point.
    rng = np.random.default_rng(0)
    curves = [rng.normal(size=(6, 4)) + np.arange(4), rng.normal(size=(4, 4))]
    ci = bootstrap_ci(curves, reps=200)
    assert ci.point.shape == ci.low.shape == ci.high.shape == (4,)
    assert np.all(ci.low <= ci.point) and np.all(ci.point <= ci.high)


def test_bootstrap_refuses_bad_input():
    with pytest.raises(InvalidConfigError, match="confidence"):
        bootstrap_ci([np.ones(3)], confidence=1.5)
    with pytest.raises(InvalidConfigError, match="reps"):
        bootstrap_ci([np.ones(3)], reps=0)
    with pytest.raises(InvalidConfigError, match="at least one task"):
        bootstrap_ci({})
    with pytest.raises(InvalidConfigError, match="NaN"):
        bootstrap_ci([np.array([1.0, np.nan])])
    with pytest.raises(InvalidConfigError, match="trailing shape"):
        bootstrap_ci([np.ones((3, 2)), np.ones((3, 3))])


# ---------------------------------------------------------------- improvement


def test_probability_of_improvement_known_values():
    x = {"g1": np.array([5.0, 6.0, 7.0]), "g2": np.array([10.0, 11.0])}
    y = {"g1": np.array([1.0, 2.0]), "g2": np.array([0.0, 1.0, 2.0])}
    p = probability_of_improvement(x, y, reps=200)
    assert (float(p.low), float(p.point), float(p.high)) == (1.0, 1.0, 1.0)
    q = probability_of_improvement(y, x, reps=200)
    assert float(q.high) == 0.0
    # lower_is_better flips the direction.
    r = probability_of_improvement(y, x, reps=200, lower_is_better=True)
    assert float(r.point) == 1.0
    # Identical samples: every comparison is a tie or symmetric, P = 1/2.
    same = probability_of_improvement([np.arange(6.0)], [np.arange(6.0)], reps=200)
    assert float(same.point) == 0.5
    assert same.low < 0.5 < same.high


def test_probability_of_improvement_hand_counted():
    # x = (1, 3), y = (2, 3): pairs (1,2) lose, (1,3) lose, (3,2) win, (3,3) tie.
    # U/(nm) = (0 + 0 + 1 + 1/2)/4 = 3/8. A second task with P = 1 averages to 11/16.
    x = [np.array([1.0, 3.0]), np.array([4.0])]
    y = [np.array([2.0, 3.0]), np.array([0.0])]
    p = probability_of_improvement(x, y, reps=100)
    assert float(p.point) == pytest.approx(11 / 16)
    assert p.low <= p.point <= p.high
    # ±inf ties with itself.
    inf = probability_of_improvement([np.array([np.inf])], [np.array([np.inf])])
    assert float(inf.point) == 0.5


def test_probability_of_improvement_refusals():
    with pytest.raises(InvalidConfigError, match="same tasks"):
        probability_of_improvement({"a": np.ones(2)}, {"b": np.ones(2)})
    with pytest.raises(InvalidConfigError, match="as many tasks"):
        probability_of_improvement([np.ones(2)], [np.ones(2), np.ones(2)])


# ---------------------------------------------------------------- profiles


def test_ratio_profile_dolan_more():
    # Three problems. Best costs: 1, 4, 2 (problem 3 solved by b only).
    costs = {
        "a": np.array([1.0, 8.0, np.inf]),
        "b": np.array([2.0, 4.0, 2.0]),
    }
    taus = np.array([1.0, 2.0, 3.0, 100.0])
    prof = ratio_profile(costs, taus)
    # a: ratios (1, 2, inf); b: ratios (2, 1, 1).
    np.testing.assert_allclose(prof["a"], [1 / 3, 2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(prof["b"], [2 / 3, 1.0, 1.0, 1.0])
    # A problem nobody solves counts as unsolved for everyone.
    none = ratio_profile({"a": np.array([np.inf]), "b": np.array([np.inf])}, taus)
    np.testing.assert_array_equal(none["a"], np.zeros(4))
    with pytest.raises(InvalidConfigError, match="positive"):
        ratio_profile({"a": np.array([0.0])}, taus)
