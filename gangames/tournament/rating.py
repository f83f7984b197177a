"""Ratings of entrants: Elo (Bradley–Terry), Nash averaging and two-population α-Rank.

**Win matrices.** ``wins[i, j]`` is the number of wins of entrant ``i`` over ``j``
(fractional: a draw adds ½ to both). :func:`pairwise_wins` builds it from
per-instance scores (entrants compared on the same game, seed and budget), and
:func:`win_logits` turns it into the antisymmetric payoff
``A_ij = log((w_ij + s) / (w_ji + s))`` used by Nash averaging.

**Elo / Bradley–Terry.** ``P(i beats j) = σ(r_i − r_j)`` with log-strengths ``r``
(Bradley & Terry 1952). The maximum-likelihood ``r`` maximises
``ℓ(r) = Σ_{i,j} w_ij log σ(r_i − r_j) − (λ/2)‖r‖²``; the small ridge ``λ`` (a
Gaussian prior) keeps ratings finite for undefeated entrants and fixes the additive
gauge: at the optimum ``Σ_i r_i = 0`` because ``Σ_k ∂ℓ/∂r_k = −λ Σ_k r_k``. The Elo
rating is ``R_i = base + (scale / ln 10) r_i``, so that
``P(i beats j) = 1 / (1 + 10^{−(R_i − R_j)/scale})`` (Elo 1978; OpenSpiel's
``algorithms/elo.py`` fits the same model by Hunter's MM iteration, with a
pseudo-count where this uses the ridge). With ``λ = 0`` the MLE exists iff the
"beat" graph is strongly connected (Zermelo 1929; Ford 1957); other records are
then refused.

**Nash averaging** (Balduzzi, Tuyls, Pérolat & Graepel, NeurIPS 2018, §3). For an
antisymmetric ``A`` (``A = −Aᵀ``, e.g. win logits) the symmetric zero-sum
meta-game "pick an entrant; receive ``pᵀ A q``" has value 0; its maxmin strategies
form the polytope ``{p ∈ Δ : Aᵀ p ≥ 0}``, and the *maximum-entropy* one ``p*`` is
unique. The Nash average rates entrant ``i`` by ``(A p*)_i`` — its payoff against
the max-entropy Nash mixture: 0 on the support of ``p*``, negative off it. Because
``p*`` maximises entropy, copies of an entrant split its weight equally and no
rating changes: Nash averaging is invariant to redundant entrants (their §3) —
exactly so when the game without the copies has a unique equilibrium, the generic
case (see :func:`nash_averaging` for the degenerate one).

**α-Rank** (Omidshafiei et al., Sci. Rep. 9, 9937, 2019), two populations. States
are pure profiles ``(i, j)``. From ``(i, j)`` one population ``k`` at a time adopts a
mutant strategy, chosen uniformly among its ``|S_k| − 1`` others
(``η = 1 / Σ_k (|S_k| − 1)``), which fixates with the Fermi-process probability
``ρ(u) = (1 − e^{−u}) / (1 − e^{−m u})``, ``u = α (f_mutant − f_resident)``,
``ρ(0) = 1/m`` (the paper's multi-population model; ``_get_rho_sr_multipop`` of
OpenSpiel's ``open_spiel/python/egt/alpharank.py``, whose formulas this follows).
The ranking is the stationary distribution ``π`` of this Markov chain; the
marginals of ``π`` rate each population's strategies.

References:
    Bradley & Terry, "Rank analysis of incomplete block designs", Biometrika 1952.
    Hunter, "MM algorithms for generalized Bradley–Terry models", Ann. Stat. 2004.
    Balduzzi, Tuyls, Pérolat & Graepel, "Re-evaluating evaluation", NeurIPS 2018.
    Omidshafiei, Papadimitriou, Piliouras, Tuyls, Rowland, Lespiau, Czarnecki,
    Lanctot, Pérolat & Munos, "α-Rank: Multi-agent evaluation by evolution",
    Scientific Reports 2019.
    Grassmann, Taksar & Heyman, "Regenerative analysis and steady state
    distributions for Markov chains", Operations Research 1985.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.optimize
import scipy.sparse.csgraph
from scipy.special import logsumexp

from gangames.errors import InvalidConfigError

__all__ = [
    "AlphaRank",
    "NashAverage",
    "Ratings",
    "alpha_rank",
    "elo_ratings",
    "nash_averaging",
    "pairwise_wins",
    "stationary_distribution",
    "win_logits",
]


class Ratings(NamedTuple):
    """Elo ratings from a Bradley–Terry fit."""

    names: tuple[str, ...]
    ratings: np.ndarray  # (n,) Elo scale, mean = base
    log_strengths: np.ndarray  # (n,) natural-log BT strengths r, mean 0


class NashAverage(NamedTuple):
    """Max-entropy Nash mixture of the entrants and their Nash-average ratings."""

    names: tuple[str, ...]
    weights: np.ndarray  # (n,) p*, on the simplex
    ratings: np.ndarray  # (n,) A p*: 0 on the support, negative off it
    value: float  # game value found by the LP (0 up to round-off)


class AlphaRank(NamedTuple):
    """α-Rank stationary masses of a two-population game."""

    row_masses: np.ndarray  # (n_row,) marginal of π over row strategies
    col_masses: np.ndarray  # (n_col,) marginal of π over column strategies
    joint: np.ndarray  # (n_row, n_col) stationary distribution π over profiles


# ---------------------------------------------------------------- win matrices


def pairwise_wins(scores: np.ndarray, *, lower_is_better: bool) -> np.ndarray:
    """Head-to-head wins from scores of every entrant on shared instances.

    ``wins[i, j] = Σ_k [s_ik better than s_jk] + ½ [s_ik = s_jk]`` over instances
    ``k`` (e.g. games × seeds, each played by every entrant under the same budget).

    Args:
        scores: ``(n_entrants, n_instances)``; failed runs scored ``±inf`` (worst).
        lower_is_better: Whether smaller scores are better (e.g. duality gaps).

    Returns:
        ``(n, n)`` wins with zero diagonal; ``wins + wins.T`` = ``n_instances``
        off the diagonal.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2 or np.isnan(s).any():
        raise InvalidConfigError(
            f"scores must be (n_entrants, n_instances) without NaN (score failures "
            f"±inf), got shape {s.shape}"
        )
    if lower_is_better:
        s = -s
    a, b = s[:, None, :], s[None, :, :]
    wins = ((a > b) + 0.5 * (a == b)).sum(axis=-1)
    np.fill_diagonal(wins, 0.0)
    return wins


def win_logits(wins: np.ndarray, smoothing: float = 0.5) -> np.ndarray:
    """Antisymmetric payoff ``A_ij = log((w_ij + s) / (w_ji + s))``.

    The logit of the smoothed win rate ``(w_ij + s) / (w_ij + w_ji + 2s)``
    (``s = ½`` is the Jeffreys / Haldane–Anscombe correction, finite for 0–n
    records); pairs that never met get 0. The input of :func:`nash_averaging`.
    """
    w = _check_wins(wins)
    if not smoothing > 0:
        raise InvalidConfigError(f"smoothing must be positive, got {smoothing}")
    logits = np.log(w + smoothing) - np.log(w.T + smoothing)
    np.fill_diagonal(logits, 0.0)
    return logits


# ---------------------------------------------------------------- Elo

_NEWTON_ITERS = 200


def elo_ratings(
    wins: np.ndarray,
    names: Sequence[str],
    base: float = 1500.0,
    scale: float = 400.0,
    prior: float = 1e-3,
) -> Ratings:
    """Bradley–Terry maximum-likelihood ratings on the Elo scale.

    Maximises ``ℓ(r) = Σ_{i,j} w_ij log σ(r_i − r_j) − (λ/2)‖r‖²`` (``λ = prior``),
    a strictly concave problem for ``λ > 0``, by damped Newton steps with gradient
    ``∂ℓ/∂r_k = Σ_j (w_kj σ(r_j − r_k) − w_jk σ(r_k − r_j)) − λ r_k`` and Hessian
    ``−(L + λI)``, ``L`` the Laplacian of ``c_ij = (w_ij + w_ji) σ_ij σ_ji``. A
    penalty ``½(Σ r)²``, zero at the optimum, makes the Hessian definite also for
    ``λ = 0``. Ratings are ``base + scale · r / ln 10`` (mean ``base``).

    Args:
        wins: ``(n, n)`` nonnegative wins, ``wins[i, j]`` of ``i`` over ``j``
            (draws ½ each way).
        names: The ``n`` entrant names.
        base: Mean rating.
        scale: Elo points per factor-10 in odds (400 by convention).
        prior: Ridge ``λ ≥ 0`` on log-strengths; ``0`` needs a strongly
            connected record.

    Returns:
        ``Ratings(names, ratings, log_strengths)``.

    Example:
        >>> w = np.array([[0.0, 2.0], [1.0, 0.0]])
        >>> r = elo_ratings(w, ["a", "b"], prior=0.0)
        >>> round(float(r.ratings[0] - r.ratings[1]), 1)  # 400 log10(2)
        120.4
    """
    w = _check_wins(wins)
    labels = _check_names(names, w.shape[0])
    if not (np.isfinite(prior) and prior >= 0):
        raise InvalidConfigError(f"prior must be finite and ≥ 0, got {prior}")
    if not (np.isfinite(scale) and scale > 0 and np.isfinite(base)):
        raise InvalidConfigError(
            f"scale must be positive, base finite: {scale}, {base}"
        )
    n = w.shape[0]
    if prior == 0 and n > 1:
        count, _ = scipy.sparse.csgraph.connected_components(
            w > 0, directed=True, connection="strong"
        )
        if count > 1:
            raise InvalidConfigError(
                "with prior=0 the Bradley–Terry MLE needs every entrant to have beaten "
                "and lost to the rest (a strongly connected record); use prior > 0"
            )

    def objective(r: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        d = r[:, None] - r[None, :]
        # −log σ(d) = log(1 + e^{−d}), overflow-free
        nll = float(np.sum(w * np.logaddexp(0.0, -d)))
        p_lose = 0.5 * (1.0 - np.tanh(0.5 * d))  # σ(r_j − r_i), overflow-free
        grad = -(w * p_lose).sum(axis=1) + (w.T * p_lose.T).sum(axis=1)
        c = (w + w.T) * p_lose * (1.0 - p_lose)
        hess = np.diag(c.sum(axis=1)) - c + prior * np.eye(n) + np.ones((n, n))
        total = float(r.sum())
        value = nll + 0.5 * prior * float(r @ r) + 0.5 * total**2
        return value, grad + prior * r + total, hess

    # Damped Newton (Boyd & Vandenberghe 2004, Alg. 9.5): Armijo backtracking on
    # the convex objective; stop once a step moves no log-strength by 1e-12.
    r = np.zeros(n)
    value, grad, hess = objective(r)
    for _ in range(_NEWTON_ITERS):
        step = -np.linalg.solve(hess, grad)
        decrement = float(-grad @ step)
        t = 1.0
        new = objective(r + step)
        while new[0] > value - 0.25 * t * decrement and t > 1e-12:
            t *= 0.5
            new = objective(r + t * step)
        if new[0] > value:
            break  # no decrease left above round-off
        r = r + t * step
        value, grad, hess = new
        if t * np.abs(step).max() < 1e-12:
            break
    r = r - r.mean()
    return Ratings(labels, base + scale * r / np.log(10.0), r)


# ---------------------------------------------------------------- Nash averaging

_HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
_SUPPORT_TOL = 1e-6


def nash_averaging(payoff: np.ndarray, names: Sequence[str]) -> NashAverage:
    """Nash average of an antisymmetric payoff matrix (Balduzzi et al. 2018).

    1. Game value by LP (``scipy.optimize.linprog``, HiGHS):
       ``v* = max_{p ∈ Δ} min_j (Aᵀ p)_j`` (0 for antisymmetric ``A``).
    2. Equilibrium polytope ``P = {p ∈ Δ : Aᵀ p ≥ v*}``. Its support: for each
       ``i`` an LP maximises ``p_i`` over ``P``; an ``i`` whose maximum is below
       ``1e-6`` is zero in every equilibrium and dropped.
    3. Its affine hull: for each constraint ``j`` an LP maximises the slack
       ``(Aᵀ p)_j − v*`` over ``P``; constraints that no equilibrium slackens are
       implicit equalities. With them and ``Σ p = 1`` as equations
       ``E p = e``, the hull is ``p = p₀ + N z`` (``N`` an orthonormal null-space
       basis of ``E`` by SVD). The mean of all the LP maximisers, projected on the
       hull, is a start that satisfies every remaining inequality strictly.
    4. SLSQP maximises the entropy ``−Σ p_i log p_i`` over ``z`` subject to the
       remaining inequalities only (strictly feasible, so the KKT conditions are
       regular even for degenerate games with many equilibria; the objective is
       strictly concave, so the optimum is unique).

    Ratings are ``A p*``. Duplicating an entrant leaves the ratings unchanged
    when the game without the copy has a unique equilibrium (the generic case);
    with a continuum of equilibria the max-entropy rule itself favours the
    duplicated entrant's share (by ``p_i log k`` for ``k`` copies), a property of
    the definition, not of this solver.

    Args:
        payoff: ``(n, n)`` antisymmetric ``A``, e.g. :func:`win_logits`.
        names: The ``n`` entrant names.

    Returns:
        ``NashAverage(names, weights, ratings, value)``.
    """
    a = np.asarray(payoff, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not np.all(np.isfinite(a)):
        raise InvalidConfigError(
            f"payoff must be a finite square matrix, got shape {a.shape}"
        )
    labels = _check_names(names, a.shape[0])
    size = 1.0 + np.abs(a).max()
    if np.abs(a + a.T).max() > 1e-9 * size:
        raise InvalidConfigError(
            "payoff must be antisymmetric (A = −Aᵀ), e.g. win_logits(wins); got "
            f"max |A + Aᵀ| = {np.abs(a + a.T).max():.3g}"
        )
    n = a.shape[0]
    # 1. value: variables (p, v); minimise −v s.t. v − (Aᵀp)_j ≤ 0, Σp = 1.
    lp = scipy.optimize.linprog(
        np.r_[np.zeros(n), -1.0],
        A_ub=np.c_[-a.T, np.ones(n)],
        b_ub=np.zeros(n),
        A_eq=np.r_[np.ones(n), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0.0, None)] * n + [(None, None)],
        method="highs",
        options=_HIGHS,
    )
    value = float(lp.x[-1])
    # Round-off slack on Aᵀp ≥ v*: keeps the LPs feasible; it admits an entrant
    # at weight ~ slack / (its payoff deficit), far below _SUPPORT_TOL.
    slack = 1e-9 * size
    # 2. support
    tops = [_maximise(np.eye(n)[i], a.T, value - slack) for i in range(n)]
    maxima = np.array([t[i] for i, t in enumerate(tops)])
    support = np.flatnonzero(maxima > _SUPPORT_TOL)
    p = np.zeros(n)
    if support.size == 1:
        p[support] = 1.0
        return NashAverage(labels, p, a @ p, value)
    # 3. affine hull of the polytope restricted to the support
    m_s = a[support].T  # (n, |S|): (Aᵀp)_j = Σ_{i∈S} A_ij p_i
    points = [t[support] / t[support].sum() for t in tops if t[support].sum() > 0]
    slack_max = np.empty(n)
    for j in range(n):
        x = _maximise(m_s[j], m_s, value - slack)
        slack_max[j] = m_s[j] @ x - value
        points.append(x)
    tight = slack_max <= 1e-7 * size
    eqs = np.vstack([np.ones(support.size), m_s[tight]])
    rhs = np.r_[1.0, np.full(int(tight.sum()), value)]
    start = np.mean(points, axis=0)
    start = start - np.linalg.lstsq(eqs, eqs @ start - rhs, rcond=None)[0]
    _, sv, vt = np.linalg.svd(eqs)
    rank = int(np.sum(sv > 1e-10 * size * sv[0]))
    basis = vt[rank:].T  # (|S|, d) orthonormal directions within the hull
    x = start
    if basis.shape[1] > 0:
        # 4. maximise entropy over z, x = start + basis z, inequalities only
        ineq = m_s[~tight]

        def neg_entropy(z: np.ndarray) -> tuple[float, np.ndarray]:
            xc = np.clip(start + basis @ z, 1e-300, None)
            return float(np.sum(xc * np.log(xc))), basis.T @ (np.log(xc) + 1.0)

        constraints = [
            {
                "type": "ineq",
                "fun": lambda z: start + basis @ z,
                "jac": lambda z: basis,
            }
        ]
        if ineq.shape[0]:
            constraints.append(
                {
                    "type": "ineq",
                    "fun": lambda z: ineq @ (start + basis @ z) - value,
                    "jac": lambda z: ineq @ basis,
                }
            )
        res = scipy.optimize.minimize(
            neg_entropy,
            np.zeros(basis.shape[1]),
            jac=True,
            method="SLSQP",
            constraints=constraints,
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        x = start + basis @ res.x
    p[support] = np.clip(x, 0.0, None)
    p /= p.sum()
    return NashAverage(labels, p, a @ p, value)


def _maximise(objective: np.ndarray, m: np.ndarray, bound: float) -> np.ndarray:
    """``argmax cᵀx`` over ``{x ≥ 0, Σx = 1, M x ≥ bound}`` by HiGHS."""
    k = m.shape[1]
    res = scipy.optimize.linprog(
        -objective,
        A_ub=-m,
        b_ub=np.full(m.shape[0], -bound),
        A_eq=np.ones((1, k)),
        b_eq=[1.0],
        bounds=[(0.0, None)] * k,
        method="highs",
        options=_HIGHS,
    )
    if res.status != 0:
        raise RuntimeError(f"equilibrium LP failed: {res.message}")
    return np.asarray(res.x)


# ---------------------------------------------------------------- α-Rank


def alpha_rank(
    payoffs_row: np.ndarray,
    payoffs_col: np.ndarray,
    alpha: float = 100.0,
    population_size: int = 50,
) -> AlphaRank:
    """Two-population α-Rank (Omidshafiei et al. 2019).

    The chain over profiles ``(i, j)`` moves to ``(i', j)``, ``i' ≠ i``, with
    probability ``η ρ(α (R[i', j] − R[i, j]))`` and to ``(i, j')`` with
    ``η ρ(α (C[i, j'] − C[i, j]))``, ``η = 1 / (n_row − 1 + n_col − 1)``, and
    stays otherwise; ``ρ(u) = (1 − e^{−u}) / (1 − e^{−m u})`` is the fixation
    probability of a mutant in a population of ``m`` (OpenSpiel
    ``alpharank._get_rho_sr_multipop``, ``use_fast_compute``).

    Large ``α``: ``ρ`` is computed in log space,
    ``log ρ(u) = (m − 1) min(u, 0) + log(1 − e^{−|u|}) − log(1 − e^{−m|u|})``, which
    is finite for every finite ``u`` (no overflow, no underflow to 0), and the
    stationary distribution by :func:`stationary_distribution` (log-space GTH
    elimination), so the chain stays irreducible and ``π`` exact even where
    ``ρ`` is far below the smallest double; unlike OpenSpiel's eigenvector solve
    it needs no ``α`` sweep. Payoffs set the scale of ``α``: only ``α·Δpayoff``
    matters.

    Args:
        payoffs_row: ``(n_row, n_col)`` payoff ``R`` of the row population.
        payoffs_col: ``(n_row, n_col)`` payoff ``C`` of the column population.
        alpha: Selection intensity ``α > 0`` (finite).
        population_size: Population size ``m ≥ 2``.

    Returns:
        ``AlphaRank(row_masses, col_masses, joint)``.
    """
    r = np.asarray(payoffs_row, dtype=np.float64)
    c = np.asarray(payoffs_col, dtype=np.float64)
    if r.ndim != 2 or r.shape != c.shape or r.size == 0:
        raise InvalidConfigError(
            f"payoffs_row and payoffs_col must be 2-D of one shape, got {r.shape} "
            f"and {c.shape}"
        )
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(c))):
        raise InvalidConfigError("payoffs must be finite")
    if not (np.isfinite(alpha) and alpha > 0):
        raise InvalidConfigError(f"alpha must be finite and positive, got {alpha}")
    m = population_size
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise InvalidConfigError(f"population_size must be an int ≥ 2, got {m!r}")
    n_row, n_col = r.shape
    count = n_row * n_col
    if count == 1:
        one = np.ones(1)
        return AlphaRank(one, one.copy(), np.ones((1, 1)))
    log_eta = -np.log(n_row - 1 + n_col - 1)
    log_t = np.full((n_row, n_col, n_row, n_col), -np.inf)
    i, j = np.arange(n_row), np.arange(n_col)
    # row deviation (i, j) -> (k, j): u[i, j, k] = α (R[k, j] − R[i, j])
    u_row = alpha * (r.T[None, :, :] - r[:, :, None])
    log_t[i[:, None, None], j[None, :, None], i[None, None, :], j[None, :, None]] = (
        log_eta + _log_fixation(u_row, m)
    )
    # column deviation (i, j) -> (i, l): u[i, j, l] = α (C[i, l] − C[i, j])
    u_col = alpha * (c[:, None, :] - c[:, :, None])
    log_t[i[:, None, None], j[None, :, None], i[:, None, None], j[None, None, :]] = (
        log_eta + _log_fixation(u_col, m)
    )
    pi = stationary_distribution(log_t.reshape(count, count), log=True)
    joint = pi.reshape(n_row, n_col)
    return AlphaRank(joint.sum(axis=1), joint.sum(axis=0), joint)


def stationary_distribution(
    transitions: np.ndarray, *, log: bool = False
) -> np.ndarray:
    """Stationary distribution of an irreducible Markov chain by GTH elimination.

    The Grassmann–Taksar–Heyman algorithm censors states ``N−1, …, 1`` in turn:
    with ``S_n = Σ_{j<n} P_nj`` it sets ``P_in ← P_in / S_n`` and
    ``P_ij ← P_ij + P_in P_nj`` for ``i, j < n``; then ``π_0 = 1``,
    ``π_j = Σ_{i<j} π_i P_ij``, normalised. Only off-diagonal entries are read
    and only sums, products and quotients of nonnegative numbers are formed (no
    subtraction), so ``π`` has small *relative* error however widely the
    probabilities range. With ``log=True`` the input is ``log P`` and all of it
    runs in log space (``logsumexp``), so entries below the smallest double
    (e.g. α-Rank's fixation probabilities for large ``α``) are exact too.

    Args:
        transitions: ``(N, N)`` transition matrix, or its elementwise log.
        log: Whether ``transitions`` holds ``log P`` (``−inf`` for 0).

    Returns:
        ``π``, shape ``(N,)``, summing to 1.

    Raises:
        InvalidConfigError: A reducible chain (some censored state cannot leave).
    """
    lp = np.array(transitions, dtype=np.float64)
    if not log:
        with np.errstate(divide="ignore"):
            lp = np.log(lp)
    size = lp.shape[0]
    np.fill_diagonal(lp, -np.inf)
    for n in range(size - 1, 0, -1):
        log_s = logsumexp(lp[n, :n])
        if not np.isfinite(log_s):
            raise InvalidConfigError(
                "the Markov chain is reducible: no unique stationary distribution"
            )
        lp[:n, n] -= log_s
        lp[:n, :n] = np.logaddexp(lp[:n, :n], lp[:n, n, None] + lp[None, n, :n])
    log_pi = np.full(size, -np.inf)
    log_pi[0] = 0.0
    for k in range(1, size):
        log_pi[k] = logsumexp(log_pi[:k] + lp[:k, k])
    return np.exp(log_pi - logsumexp(log_pi))


def _log_fixation(u: np.ndarray, m: int) -> np.ndarray:
    """``log ρ(u)``, ``ρ(u) = (1 − e^{−u}) / (1 − e^{−m u})``, ``ρ(0) = 1/m``."""
    a = np.abs(u)
    small = a < 1e-12
    safe = np.where(small, 1.0, a)  # a finite stand-in where the limit 1/m is used
    log_rho = (
        (m - 1) * np.minimum(u, 0.0)
        + np.log(-np.expm1(-safe))
        - np.log(-np.expm1(-m * safe))
    )
    return np.where(small, -np.log(m), log_rho)


def _check_wins(wins: np.ndarray) -> np.ndarray:
    w = np.asarray(wins, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise InvalidConfigError(f"wins must be a square matrix, got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise InvalidConfigError("wins must be finite and nonnegative")
    if np.any(np.diag(w) != 0):
        raise InvalidConfigError("wins must have a zero diagonal (no self-play wins)")
    return w


def _check_names(names: Sequence[str], n: int) -> tuple[str, ...]:
    labels = tuple(names)
    if len(labels) != n or len(set(labels)) != n:
        raise InvalidConfigError(
            f"names must be {n} distinct names, got {len(labels)}: {labels!r}"
        )
    return labels
