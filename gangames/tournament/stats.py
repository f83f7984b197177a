"""Statistics over seeds: IQM, stratified bootstrap intervals, improvement, profiles.

Following Agarwal et al. (2021), a handful of seeds per game calls for robust
aggregates with interval estimates rather than point means:

* **Interquartile mean** (IQM): the mean of the middle 50 % of the pooled runs, i.e.
  the 25 %-trimmed mean ``scipy.stats.trim_mean(x, 0.25)``. With ``n`` runs it drops
  ``⌊n/4⌋`` runs at each end and averages the rest. It is robust to a minority of
  outliers (fewer than a quarter of diverged runs scored ``±inf`` are trimmed away)
  yet, unlike the median, uses half of the data.
* **Stratified bootstrap** confidence intervals: each replicate resamples, with
  replacement, the ``n_t`` runs *within* each task (game) ``t`` independently, pools
  the resampled runs of all tasks (concatenation, as rliable does), and applies the
  statistic to the pool. The interval is the percentile interval of the replicates:
  ``[q_{(1−c)/2}, q_{(1+c)/2}]`` at confidence ``c``. Stratification keeps every
  replicate's task composition equal to the data's (``n_t`` runs of task ``t``),
  so the interval reflects seed-to-seed variability, not task mixing.
* **Probability of improvement** ``P(X > Y)``: for each task, the Mann–Whitney
  statistic ``U / (n·m) = (1/(n·m)) Σ_i Σ_j ([x_i > y_j] + ½[x_i = y_j])``, i.e. the
  probability that a random run of X beats a random run of Y (ties count ½),
  averaged over tasks with equal weight, with a stratified bootstrap interval
  (X and Y runs resampled independently within each task).
* **Performance profiles**: Dolan–Moré ratio profiles
  ``ρ_s(τ) = |{p : t_{p,s} ≤ τ·min_s' t_{p,s'}}| / |P|`` — the fraction of problems
  ``p`` a method ``s`` solves within a factor ``τ`` of the best method's cost (an
  infinite cost means "not solved").

Scores are compared across tasks as given: pooling tasks is meaningful only when
their scores are on a common scale (normalise per game first if they are not).
NaN is refused everywhere; score a failed run ``±inf`` (the worst value) instead.

References:
    Agarwal, Schwarzer, Castro, Courville & Bellemare, "Deep Reinforcement Learning
    at the Edge of the Statistical Precipice", NeurIPS 2021 (rliable).
    Efron & Tibshirani, "An Introduction to the Bootstrap", Chapman & Hall 1993.
    Mann & Whitney, "On a test of whether one of two random variables is
    stochastically larger than the other", Ann. Math. Statist. 18 (1947).
    Dolan & Moré, "Benchmarking optimization software with performance profiles",
    Math. Programming 91 (2002).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import scipy.stats

from gangames.errors import InvalidConfigError

__all__ = [
    "Interval",
    "bootstrap_ci",
    "bootstrap_replicates",
    "interquartile_mean",
    "probability_of_improvement",
    "ratio_profile",
]

ScoresByTask = Mapping[str, np.ndarray] | Sequence[np.ndarray]
"""Runs per task: ``{task: array of shape (n_t, *rest)}`` or a list of such arrays."""

Statistic = Callable[..., np.ndarray]
"""``statistic(x, axis=k)`` reducing axis ``k`` of ``x`` (e.g. ``np.mean``)."""


class Interval(NamedTuple):
    """A point estimate with its confidence interval (scalars or arrays alike)."""

    point: np.ndarray  # shape rest (a 0-d array for scalar scores)
    low: np.ndarray  # lower percentile of the bootstrap replicates
    high: np.ndarray  # upper percentile of the bootstrap replicates


def interquartile_mean(scores: np.ndarray, axis: int | None = -1) -> np.ndarray:
    """Interquartile mean: the 25 %-trimmed mean along ``axis``.

    ``IQM(x) = mean(x_(k+1), …, x_(n−k))`` with ``x_(i)`` the sorted values and
    ``k = ⌊n/4⌋`` (``scipy.stats.trim_mean(x, 0.25)``, as in Agarwal et al. 2021).
    For ``n < 4`` nothing is trimmed and the IQM is the mean.

    Args:
        scores: Array of scores; NaN is refused (score failed runs ``±inf``).
        axis: Axis to reduce; ``None`` pools all entries.

    Returns:
        The IQM, with ``axis`` removed.

    Raises:
        InvalidConfigError: Empty input or NaN entries.
    """
    x = _finite_or_inf(scores, "scores")
    if x.size == 0 or (axis is not None and x.shape[axis] == 0):
        raise InvalidConfigError("scores must hold at least one run, got none")
    return np.asarray(scipy.stats.trim_mean(x, 0.25, axis=axis))


def bootstrap_replicates(
    scores_by_task: ScoresByTask,
    statistic: Statistic = interquartile_mean,
    *,
    reps: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """Statistic of ``reps`` stratified bootstrap resamples of the pooled runs.

    Replicate ``b`` draws, for every task ``t``, ``n_t`` indices uniformly with
    replacement from that task's ``n_t`` runs, concatenates the resampled runs of
    all tasks (in task order) along axis 0, and applies ``statistic`` over that axis.

    Args:
        scores_by_task: Runs per task, arrays of shape ``(n_t, *rest)`` with a common
            ``rest`` (e.g. ``rest = (T,)`` for curves over ``T`` budgets).
        statistic: ``statistic(x, axis=k)`` reducing axis ``k``; may append
            trailing dimensions (e.g. one per threshold).
        reps: Number of bootstrap replicates.
        seed: Seed of ``np.random.default_rng``; same seed, same replicates.

    Returns:
        Array of shape ``(reps, *statistic_shape)``. Memory is
        ``O(reps · Σ_t n_t · |rest|)``.
    """
    tasks = _tasks(scores_by_task, "scores_by_task")
    _check_positive_int(reps, "reps")
    rng = np.random.default_rng(seed)
    resampled = [x[rng.integers(0, x.shape[0], size=(reps, x.shape[0]))] for x in tasks]
    return np.asarray(statistic(np.concatenate(resampled, axis=1), axis=1))


def bootstrap_ci(
    scores_by_task: ScoresByTask,
    statistic: Statistic = interquartile_mean,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Stratified-bootstrap percentile interval of an aggregate over tasks.

    The point estimate is ``statistic`` of the concatenation of all tasks' runs;
    the interval is ``[q_{(1−c)/2}, q_{(1+c)/2}]`` of the statistic over
    :func:`bootstrap_replicates` (Efron & Tibshirani 1993, §13; stratified over
    tasks as in Agarwal et al. 2021).

    Args:
        scores_by_task: Runs per task (a dict by task name or a list), arrays of
            shape ``(n_t,)`` or ``(n_t, *rest)``.
        statistic: ``statistic(x, axis=k)``; default the interquartile mean.
        reps: Number of bootstrap replicates.
        confidence: Coverage ``c`` in ``(0, 1)``.
        seed: Seed of ``np.random.default_rng``; the result is a pure function of
            the inputs and the seed.

    Returns:
        ``Interval(point, low, high)``, each of the statistic's shape.

    Example:
        >>> ci = bootstrap_ci({"a": np.arange(8.0), "b": np.arange(8.0)})
        >>> bool(ci.low <= ci.point <= ci.high)
        True
    """
    _check_confidence(confidence)
    tasks = _tasks(scores_by_task, "scores_by_task")
    point = np.asarray(statistic(np.concatenate(tasks, axis=0), axis=0))
    replicates = bootstrap_replicates(tasks, statistic, reps=reps, seed=seed)
    return _percentile_interval(point, replicates, confidence)


def probability_of_improvement(
    x_by_task: ScoresByTask,
    y_by_task: ScoresByTask,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    *,
    lower_is_better: bool = False,
) -> Interval:
    """Probability that a run of X improves on a run of Y, averaged over tasks.

    Per task ``t`` with runs ``x_1..x_n`` and ``y_1..y_m``:
    ``P_t(X > Y) = (1/(n·m)) Σ_i Σ_j ([x_i > y_j] + ½[x_i = y_j])`` — the
    Mann–Whitney ``U`` statistic over ``n·m``; the result is ``(1/T) Σ_t P_t``.
    With ``lower_is_better=True`` "improves" means smaller: ``P(X < Y)`` (ties ½).
    The interval resamples X's and Y's runs independently within each task
    (stratified bootstrap, Agarwal et al. 2021, §4).

    Args:
        x_by_task: Runs of method X per task (dict or list), 1-D arrays.
        y_by_task: Runs of method Y for the same tasks (same keys or length).
        reps: Number of bootstrap replicates; memory ``O(reps · n · m)`` per task.
        confidence: Coverage in ``(0, 1)``.
        seed: Seed of ``np.random.default_rng``.
        lower_is_better: Whether smaller scores are better (e.g. duality gaps).

    Returns:
        ``Interval(point, low, high)`` of the probability, in ``[0, 1]``.

    Raises:
        InvalidConfigError: Mismatched tasks, empty tasks, NaN entries.
    """
    _check_confidence(confidence)
    _check_positive_int(reps, "reps")
    xs, ys = _paired_tasks(x_by_task, y_by_task)
    sign = -1.0 if lower_is_better else 1.0
    rng = np.random.default_rng(seed)
    point = np.zeros(())
    replicates = np.zeros(reps)
    for x, y in zip(xs, ys, strict=True):
        x, y = sign * x, sign * y
        point = point + _mann_whitney(x[None, :], y[None, :])[0]
        xr = x[rng.integers(0, x.size, size=(reps, x.size))]
        yr = y[rng.integers(0, y.size, size=(reps, y.size))]
        replicates += _mann_whitney(xr, yr)
    return _percentile_interval(point / len(xs), replicates / len(xs), confidence)


def ratio_profile(
    costs: Mapping[str, np.ndarray], taus: np.ndarray
) -> dict[str, np.ndarray]:
    """Dolan–Moré performance profiles of costs (lower is better by definition).

    For problems ``p`` and methods ``s`` with costs ``t_{p,s} > 0`` (e.g. oracle
    calls to reach a tolerance; ``inf`` = not solved), the performance ratio is
    ``r_{p,s} = t_{p,s} / min_{s'} t_{p,s'}`` (``inf`` if ``s`` failed, or if every
    method failed on ``p``), and ``ρ_s(τ) = |{p : r_{p,s} ≤ τ}| / |P|``. So
    ``ρ_s(1)`` is the fraction of problems where ``s`` is (jointly) fastest and
    ``lim_{τ→∞} ρ_s(τ)`` the fraction it solves (Dolan & Moré 2002, eq. 1–2).

    Args:
        costs: ``{method: array of shape (P,)}``, the same problems in the same
            order for every method; entries positive or ``inf``.
        taus: Ratios ``τ ≥ 1``, shape ``(K,)``.

    Returns:
        ``{method: array of shape (K,)}``, nondecreasing in ``τ``.
    """
    t = _taus(taus)
    if not costs:
        raise InvalidConfigError("costs must name at least one method, got none")
    names = list(costs)
    table = np.stack(
        [_finite_or_inf(costs[n], f"costs[{n!r}]").reshape(-1) for n in names]
    )
    if table.shape[1] == 0:
        raise InvalidConfigError("costs must cover at least one problem, got none")
    if np.any(table <= 0):
        raise InvalidConfigError("costs must be positive (inf = not solved)")
    best = table.min(axis=0)
    with np.errstate(invalid="ignore"):
        ratios = np.where(np.isfinite(table), table / best, np.inf)
    return {
        n: (ratios[k][:, None] <= t[None, :]).mean(axis=0) for k, n in enumerate(names)
    }


def _mann_whitney(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``U/(n·m)`` per row of ``x`` ``(R, n)`` against ``y`` ``(R, m)``; ties ½."""
    a, b = x[:, :, None], y[:, None, :]
    # Comparisons, not differences: +inf against +inf is a tie, not NaN.
    return ((a > b) + 0.5 * (a == b)).mean(axis=(1, 2))


def _percentile_interval(
    point: np.ndarray, replicates: np.ndarray, confidence: float
) -> Interval:
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=0)
    return Interval(np.asarray(point), np.asarray(low), np.asarray(high))


def _finite_or_inf(scores: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(scores, dtype=np.float64)
    if np.isnan(x).any():
        raise InvalidConfigError(
            f"{what} must not contain NaN (score failed runs ±inf), got "
            f"{int(np.isnan(x).sum())} NaN entries"
        )
    return x


def _tasks(scores_by_task: ScoresByTask, what: str) -> list[np.ndarray]:
    items = (
        list(scores_by_task.values())
        if isinstance(scores_by_task, Mapping)
        else list(scores_by_task)
    )
    if not items:
        raise InvalidConfigError(f"{what} must hold at least one task, got none")
    tasks = [_finite_or_inf(x, f"{what}[{k}]") for k, x in enumerate(items)]
    for k, x in enumerate(tasks):
        if x.ndim == 0 or x.shape[0] == 0:
            raise InvalidConfigError(
                f"{what}[{k}] must be an array of runs (n_t ≥ 1), got shape {x.shape}"
            )
        if x.shape[1:] != tasks[0].shape[1:]:
            raise InvalidConfigError(
                f"{what}: every task needs the same trailing shape, got "
                f"{tasks[0].shape[1:]} and {x.shape[1:]}"
            )
    return tasks


def _paired_tasks(
    x_by_task: ScoresByTask, y_by_task: ScoresByTask
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if isinstance(x_by_task, Mapping) != isinstance(y_by_task, Mapping):
        raise InvalidConfigError("x_by_task and y_by_task must both be dicts or lists")
    if isinstance(x_by_task, Mapping) and isinstance(y_by_task, Mapping):
        if set(x_by_task) != set(y_by_task):
            raise InvalidConfigError(
                f"x_by_task and y_by_task must name the same tasks, got "
                f"{sorted(x_by_task)} and {sorted(y_by_task)}"
            )
        y_by_task = [y_by_task[k] for k in x_by_task]
    xs, ys = _tasks(x_by_task, "x_by_task"), _tasks(y_by_task, "y_by_task")
    if len(xs) != len(ys):
        raise InvalidConfigError(
            f"x_by_task and y_by_task must have as many tasks, got {len(xs)} and "
            f"{len(ys)}"
        )
    if any(x.ndim != 1 for x in xs + ys):
        raise InvalidConfigError("probability_of_improvement takes 1-D runs per task")
    return xs, ys


def _taus(taus: np.ndarray) -> np.ndarray:
    t = np.asarray(taus, dtype=np.float64)
    if t.ndim != 1 or np.isnan(t).any():
        raise InvalidConfigError(f"taus must be a 1-D array without NaN, got {t!r}")
    return t


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InvalidConfigError(f"confidence must lie in (0, 1), got {confidence}")


def _check_positive_int(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidConfigError(f"{what} must be a positive int, got {value!r}")
