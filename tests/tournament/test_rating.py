from __future__ import annotations

import numpy as np
import pytest

from gangames.errors import InvalidConfigError
from gangames.tournament.rating import (
    alpha_rank,
    elo_ratings,
    nash_averaging,
    pairwise_wins,
    stationary_distribution,
    win_logits,
)

ELO_PER_LN = 400.0 / np.log(10.0)

# ---------------------------------------------------------------- win matrices


def test_pairwise_wins():
    # Entrant 0 has the smallest gap on instances 0 and 1; instance 2 is a tie.
    gaps = np.array([[0.1, 0.2, 1.0], [0.5, 0.1, 1.0], [np.inf, 0.3, 1.0]])
    w = pairwise_wins(gaps, lower_is_better=True)
    np.testing.assert_array_equal(
        w, [[0.0, 1.5, 2.5], [1.5, 0.0, 2.5], [0.5, 0.5, 0.0]]
    )
    np.testing.assert_array_equal(pairwise_wins(gaps, lower_is_better=False), w.T)
    with pytest.raises(InvalidConfigError, match="NaN"):
        pairwise_wins(np.array([[np.nan, 1.0]]), lower_is_better=True)


def test_win_logits_antisymmetric():
    w = np.array([[0.0, 3.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    a = win_logits(w)
    np.testing.assert_allclose(a, -a.T)
    assert a[0, 1] == pytest.approx(np.log(3.5 / 1.5))
    assert a[0, 2] == 0.0  # never met


# ---------------------------------------------------------------- Elo


def test_elo_transitive_three_players_known_solution():
    # Strengths (4, 2, 1) reproduce these records exactly: 2–1, 2–1, 4–1, so the
    # BT likelihood equations hold at r = (ln 4, ln 2, 0) and the MLE has
    # successive gaps 400 log10(2) ≈ 120.41 Elo.
    w = np.array([[0.0, 2.0, 4.0], [1.0, 0.0, 2.0], [1.0, 1.0, 0.0]])
    r = elo_ratings(w, ["a", "b", "c"], prior=0.0)
    gap = 400 * np.log10(2.0)
    np.testing.assert_allclose(np.diff(r.ratings), [-gap, -gap], atol=1e-6)
    assert r.ratings.mean() == pytest.approx(1500.0)
    np.testing.assert_allclose(
        r.log_strengths, np.log([4, 2, 1]) - np.log(8) / 3, atol=1e-9
    )
    # A tiny prior barely moves it.
    tiny = elo_ratings(w, ["a", "b", "c"], prior=1e-6)
    np.testing.assert_allclose(tiny.ratings, r.ratings, atol=1e-3)


def test_elo_symmetry_and_equal_records():
    w = np.array([[0.0, 3.0, 1.0], [1.0, 0.0, 2.5], [2.0, 0.5, 0.0]])
    r = elo_ratings(w, ["a", "b", "c"])
    perm = [2, 0, 1]
    swapped = elo_ratings(w[np.ix_(perm, perm)], ["c", "a", "b"])
    np.testing.assert_allclose(swapped.ratings, r.ratings[perm], atol=1e-8)
    # Two players: swapping the record swaps the ratings about the base.
    two = elo_ratings(np.array([[0.0, 5.0], [2.0, 0.0]]), ["x", "y"])
    flipped = elo_ratings(np.array([[0.0, 2.0], [5.0, 0.0]]), ["x", "y"])
    np.testing.assert_allclose(flipped.ratings, two.ratings[::-1], atol=1e-8)
    assert two.ratings[0] - 1500 == pytest.approx(1500 - two.ratings[1])
    # Equal records (a cycle, and all draws) give equal ratings.
    cycle = np.array([[0.0, 2.0, 1.0], [1.0, 0.0, 2.0], [2.0, 1.0, 0.0]])
    np.testing.assert_allclose(elo_ratings(cycle, "abc").ratings, 1500.0, atol=1e-8)
    draws = np.full((3, 3), 0.5) - 0.5 * np.eye(3)
    np.testing.assert_allclose(elo_ratings(draws, "abc").ratings, 1500.0, atol=1e-8)


def test_elo_undefeated_is_finite_with_prior_and_refused_without():
    w = np.array([[0.0, 10.0], [0.0, 0.0]])
    r = elo_ratings(w, ["best", "worst"], prior=1e-3)
    assert np.all(np.isfinite(r.ratings)) and r.ratings[0] > r.ratings[1] + 400
    # Stationarity with the ridge: 10 σ(−d) = λ r_0 with d = 2 r_0.
    r0 = r.log_strengths[0]
    assert 10 / (1 + np.exp(2 * r0)) == pytest.approx(1e-3 * r0, rel=1e-6)
    with pytest.raises(InvalidConfigError, match="strongly connected"):
        elo_ratings(w, ["best", "worst"], prior=0.0)
    with pytest.raises(InvalidConfigError, match="names"):
        elo_ratings(w, ["a"])
    with pytest.raises(InvalidConfigError, match="nonnegative"):
        elo_ratings(-w, ["a", "b"])


# ---------------------------------------------------------------- Nash averaging

RPS = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])


def test_nash_averaging_rock_paper_scissors_uniform():
    nash = nash_averaging(RPS, ["rock", "paper", "scissors"])
    np.testing.assert_allclose(nash.weights, 1 / 3, atol=1e-7)
    np.testing.assert_allclose(nash.ratings, 0.0, atol=1e-7)
    assert nash.value == pytest.approx(0.0, abs=1e-9)


def test_nash_averaging_transitive_all_weight_on_best():
    skill = np.array([0.3, 2.0, -1.0, 0.7])
    a = skill[:, None] - skill[None, :]
    nash = nash_averaging(a, ["a", "b", "c", "d"])
    np.testing.assert_allclose(nash.weights, [0.0, 1.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(nash.ratings, skill - 2.0, atol=1e-9)


def test_nash_averaging_invariant_to_duplicated_entrant():
    # Rock duplicated: the copies split rock's 1/3 and no rating moves.
    dup = [0, 1, 2, 0]
    a = RPS[np.ix_(dup, dup)]
    nash = nash_averaging(a, ["rock", "paper", "scissors", "rock2"])
    np.testing.assert_allclose(nash.weights, [1 / 6, 1 / 3, 1 / 3, 1 / 6], atol=1e-6)
    np.testing.assert_allclose(nash.ratings, 0.0, atol=1e-6)
    # RPS plus a dominated entrant (loses to everyone), then duplicate paper twice.
    b = np.zeros((4, 4))
    b[:3, :3] = RPS
    b[:3, 3], b[3, :3] = 1.0, -1.0
    base = nash_averaging(b, "rpsx")
    np.testing.assert_allclose(base.weights, [1 / 3, 1 / 3, 1 / 3, 0.0], atol=1e-6)
    np.testing.assert_allclose(base.ratings, [0.0, 0.0, 0.0, -1.0], atol=1e-6)
    idx = [0, 1, 2, 3, 1, 1]
    more = nash_averaging(b[np.ix_(idx, idx)], ["r", "p", "s", "x", "p2", "p3"])
    np.testing.assert_allclose(more.ratings, base.ratings[idx], atol=1e-6)
    np.testing.assert_allclose(
        more.weights, [1 / 3, 1 / 9, 1 / 3, 0.0, 1 / 9, 1 / 9], atol=1e-6
    )


def test_nash_averaging_degenerate_game_by_hand():
    # a beats b, c ties everyone. (A p)_a = p_b ≤ 0 forces p_b = 0, so the
    # equilibria are {p_a + p_c = 1}; max entropy is (1/2, 0, 1/2).
    a = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    nash = nash_averaging(a, "abc")
    np.testing.assert_allclose(nash.weights, [0.5, 0.0, 0.5], atol=1e-7)
    np.testing.assert_allclose(nash.ratings, [0.0, -0.5, 0.0], atol=1e-7)
    # With a continuum of equilibria, a copy of a gains weight: max entropy over
    # {p_a + p_a' + p_c = 1} is uniform (the documented limit of the invariance).
    dup = nash_averaging(a[np.ix_([0, 1, 2, 0], [0, 1, 2, 0])], "abcd")
    np.testing.assert_allclose(dup.weights, [1 / 3, 0.0, 1 / 3, 1 / 3], atol=1e-7)


def test_nash_averaging_max_entropy_among_many_equilibria():
    # All-zero payoff: every mixture is an equilibrium; max entropy is uniform.
    nash = nash_averaging(np.zeros((5, 5)), "abcde")
    np.testing.assert_allclose(nash.weights, 0.2, atol=1e-7)
    with pytest.raises(InvalidConfigError, match="antisymmetric"):
        nash_averaging(np.ones((2, 2)), "ab")


# ---------------------------------------------------------------- α-Rank


def _rho(u: float, m: int) -> float:
    return 1 / m if u == 0 else (1 - np.exp(-u)) / (1 - np.exp(-m * u))


def _alpha_rank_dense(r: np.ndarray, c: np.ndarray, alpha: float, m: int) -> np.ndarray:
    """Reference: transition matrix entry by entry, left eigenvector for 1."""
    n1, n2 = r.shape
    eta = 1 / (n1 - 1 + n2 - 1)
    t = np.zeros((n1 * n2, n1 * n2))
    for i in range(n1):
        for j in range(n2):
            for k in range(n1):
                if k != i:
                    t[i * n2 + j, k * n2 + j] = eta * _rho(
                        alpha * (r[k, j] - r[i, j]), m
                    )
            for h in range(n2):
                if h != j:
                    t[i * n2 + j, i * n2 + h] = eta * _rho(
                        alpha * (c[i, h] - c[i, j]), m
                    )
            t[i * n2 + j, i * n2 + j] = 1 - t[i * n2 + j].sum()
    vals, vecs = np.linalg.eig(t.T)
    v = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return (v / v.sum()).reshape(n1, n2)


def test_alpha_rank_two_state_closed_form():
    # One column strategy: the chain (0,0) <-> (1,0) has
    # π1/π0 = ρ(αd)/ρ(−αd) = e^{(m−1)αd}.
    alpha, m, d = 0.1, 50, 0.5
    res = alpha_rank(np.array([[0.0], [d]]), np.zeros((2, 1)), alpha, m)
    assert res.joint[1, 0] / res.joint[0, 0] == pytest.approx(
        np.exp((m - 1) * alpha * d)
    )
    np.testing.assert_allclose(res.col_masses, [1.0])


@pytest.mark.filterwarnings("error")
def test_alpha_rank_dominant_profile_takes_all_mass_for_large_alpha():
    # Prisoner's dilemma: defect (1) strictly dominates for both populations.
    r = np.array([[3.0, 0.0], [5.0, 1.0]])
    for alpha in (10.0, 1e3, 1e8):
        res = alpha_rank(r, r.T, alpha=alpha)
        assert np.all(np.isfinite(res.joint))
        assert res.joint[1, 1] == pytest.approx(1.0, abs=1e-12)
        np.testing.assert_allclose(res.row_masses, [0.0, 1.0], atol=1e-12)
        np.testing.assert_allclose(res.col_masses, [0.0, 1.0], atol=1e-12)


@pytest.mark.filterwarnings("error")
def test_alpha_rank_matching_pennies_uniform():
    r = np.array([[1.0, -1.0], [-1.0, 1.0]])
    for alpha in (0.5, 100.0, 1e6):
        res = alpha_rank(r, -r, alpha=alpha)
        np.testing.assert_allclose(res.joint, 0.25, atol=1e-12)
        np.testing.assert_allclose(res.row_masses, 0.5, atol=1e-12)
        np.testing.assert_allclose(res.col_masses, 0.5, atol=1e-12)


@pytest.mark.filterwarnings("error")
def test_alpha_rank_two_strict_equilibria_large_alpha():
    # Coordination game: (0,0) and (1,1) are strict equilibria, symmetric under
    # relabelling. The fixation probabilities out of them underflow in linear
    # space (an eigenvector solve sees two absorbing states); in log space the
    # chain stays irreducible and symmetry splits the mass 1/2, 1/2.
    r = np.eye(2)
    for alpha in (1e2, 1e6):
        res = alpha_rank(r, r, alpha=alpha)
        np.testing.assert_allclose(res.joint, np.diag([0.5, 0.5]), atol=1e-12)


def test_alpha_rank_matches_dense_eigenvector():
    rng = np.random.default_rng(0)
    r, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    for alpha in (0.0 + 1e-3, 0.3, 2.0):
        res = alpha_rank(r, c, alpha=alpha, population_size=20)
        np.testing.assert_allclose(
            res.joint, _alpha_rank_dense(r, c, alpha, 20), atol=1e-10
        )
    # α → 0: neutral drift, every profile equally likely.
    flat = alpha_rank(r, c, alpha=1e-14)
    np.testing.assert_allclose(flat.joint, 1 / 12, atol=1e-12)


def test_alpha_rank_refusals():
    with pytest.raises(InvalidConfigError, match="alpha"):
        alpha_rank(np.zeros((2, 2)), np.zeros((2, 2)), alpha=np.inf)
    with pytest.raises(InvalidConfigError, match="one shape"):
        alpha_rank(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(InvalidConfigError, match="population_size"):
        alpha_rank(np.zeros((2, 2)), np.zeros((2, 2)), population_size=1)


def test_stationary_distribution_gth():
    p = np.array([[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]])
    np.testing.assert_allclose(stationary_distribution(p), [0.25, 0.5, 0.25])
    # Probabilities far below the smallest double, in log space: a birth–death
    # chain with ratio e^{−1000} per step.
    log_p = np.full((3, 3), -np.inf)
    log_p[0, 1] = log_p[1, 2] = -1000.0
    log_p[1, 0] = log_p[2, 1] = 0.0
    pi = stationary_distribution(log_p, log=True)
    np.testing.assert_allclose(pi, [1.0, 0.0, 0.0])
    with pytest.raises(InvalidConfigError, match="reducible"):
        stationary_distribution(np.eye(2))
