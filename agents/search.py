"""Declared hyperparameter search spaces and their quasi-random trials.

A tuned comparison of solvers is fair only if every entrant is tuned the same way. The
external-tuning ruleset of AlgoPerf (Dahl et al., 2023) fixes the way: each submission
declares **one workload-agnostic search space**, and every workload gives it the same
number of quasi-random trials from that space; the best trial, re-run on held-out
seeds, is its result. gangames does the same for min-max solvers: every registered
agent declares a :class:`SearchSpace` beside its factory
(``agents.register(name, factory, space)``, read back by ``agents.search_space(name)``),
with ranges set by the method's literature rather than by any one game, and
:meth:`SearchSpace.sample` draws the trials.

Why quasi-random: random search beats a grid when only a few dimensions matter, since
every trial tries a new value of each (Bergstra & Bengio, 2012); a scrambled Sobol'
sequence keeps that and spreads the trials more evenly than independent draws — of
``2^m`` points, each half, quarter, … of every coordinate receives exactly its share
(every coordinate of a Sobol' sequence is a (0, m, 1)-net in base 2; Sobol', 1967).
The scrambling of ``scipy.stats.qmc.Sobol`` (a random linear matrix scramble and a
digital shift) keeps that property and makes the points random, so a seed picks one
of many equally good designs. AlgoPerf draws its trials the same way.

A dimension maps a unit coordinate ``u ∈ [0, 1)`` to a value:

=====================  ======================================================
``LogUniform(a, b)``   ``a·(b/a)^u`` — step sizes, regularisers, temperatures
``Uniform(a, b)``      ``a + (b − a)·u`` — averaging weights, relaxations
``IntUniform(a, b)``   integers ``a … b`` inclusive, equally likely (or
                       log-spaced with ``log=True``) — loop counts
``Choice(options)``    one of ``options``, equally likely — β rules, β₁ values
=====================  ======================================================

Continuous dimensions are **per-instance** unless declared otherwise
(``per_instance=False``): the agent's rule accepts them as ``(B, 1)`` tensors
(:data:`agents.transforms.Hyperparameter`), so trials that differ only there play as
one batched match (:func:`agents.sweep.sweep`). The others are **structural**: they
change shapes, loop counts or control flow, and trials that differ there play apart.

Example:
    >>> space = SearchSpace({"lr": LogUniform(1e-3, 1.0), "n_critic": IntUniform(1, 5)})
    >>> trials = space.sample(4, seed=0)
    >>> len(trials), sorted(trials[0])
    (4, ['lr', 'n_critic'])
    >>> all(1e-3 <= t["lr"] <= 1.0 and 1 <= t["n_critic"] <= 5 for t in trials)
    True
    >>> space.sample(4, seed=0) == trials  # deterministic for a seed
    True
    >>> space.per_instance, space.structural
    (('lr',), ('n_critic',))
    >>> SearchSpace().sample(8, seed=0)  # no hyperparameters: one trial, the defaults
    [{}]

References:
    * J. Bergstra, Y. Bengio. "Random search for hyper-parameter optimization." JMLR
      13, 2012.
    * I. M. Sobol'. "On the distribution of points in a cube and the approximate
      evaluation of integrals." USSR Comput. Math. Math. Phys. 7(4), 1967.
    * G. E. Dahl, F. Schneider, Z. Nado, et al. "Benchmarking neural network training
      algorithms." arXiv:2306.07179, 2023 (AlgoPerf: external tuning, quasi-random
      search over declared spaces).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from gangames.errors import InvalidConfigError

__all__ = [
    "Choice",
    "Dimension",
    "IntUniform",
    "LogUniform",
    "SearchSpace",
    "Uniform",
]


def _unit(u: float) -> float:
    if not 0.0 <= u < 1.0:
        raise InvalidConfigError(f"a unit coordinate must lie in [0, 1), got {u!r}")
    return u


@dataclass(frozen=True)
class _Interval:
    """A continuous range ``[low, high]``; per-instance unless declared otherwise.

    Attributes:
        low: the smallest value.
        high: the largest value.
        per_instance: the rule takes it as a ``(B, 1)`` tensor (else structural).
    """

    low: float
    high: float
    per_instance: bool = True
    positive: ClassVar[bool] = False  # the range must lie above 0

    def __post_init__(self) -> None:
        low, high = self.low, self.high
        numbers = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in (low, high)
        )
        if not numbers or not low < high or (self.positive and not low > 0):
            want = "0 < low < high" if self.positive else "low < high"
            raise InvalidConfigError(
                f"{type(self).__name__} needs finite numbers with {want}, got "
                f"low={low!r}, high={high!r}"
            )


@dataclass(frozen=True)
class LogUniform(_Interval):
    """Log-uniform on ``[low, high]``: ``low·(high/low)^u`` (needs 0 < low < high)."""

    positive: ClassVar[bool] = True

    def value(self, u: float) -> float:
        """The value at unit coordinate ``u ∈ [0, 1)``."""
        lo, hi = math.log(self.low), math.log(self.high)
        return min(self.high, max(self.low, math.exp(lo + _unit(u) * (hi - lo))))


@dataclass(frozen=True)
class Uniform(_Interval):
    """Uniform on ``[low, high]``: ``low + (high − low)·u``."""

    def value(self, u: float) -> float:
        """The value at unit coordinate ``u ∈ [0, 1)``."""
        return min(self.high, self.low + _unit(u) * (self.high - self.low))


@dataclass(frozen=True)
class IntUniform:
    """Integers ``low … high`` inclusive; equally likely, or log-spaced.

    With ``log=True`` the integer is ``⌊low·((high + 1)/low)^u⌋``, so each factor of
    the range gets an equal share (1–2 as often as 8–16); it needs ``low ≥ 1``.
    Structural: an integer hyperparameter is a loop count.

    Attributes:
        low: the smallest value.
        high: the largest value (≥ low).
        log: log-spaced instead of equally likely.
    """

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        ints = all(
            isinstance(v, int) and not isinstance(v, bool)
            for v in (self.low, self.high)
        )
        if not ints or self.low > self.high or (self.log and self.low < 1):
            want = "1 ≤ low ≤ high" if self.log else "low ≤ high"
            raise InvalidConfigError(
                f"IntUniform needs ints with {want}, got low={self.low!r}, "
                f"high={self.high!r}"
            )

    def value(self, u: float) -> int:
        """The value at unit coordinate ``u ∈ [0, 1)``."""
        u = _unit(u)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high + 1)
            return min(
                self.high, max(self.low, math.floor(math.exp(lo + u * (hi - lo))))
            )
        return self.low + min(int(u * (self.high - self.low + 1)), self.high - self.low)


@dataclass(frozen=True)
class Choice:
    """One of ``options``, equally likely (structural).

    Attributes:
        options: distinct plain values (str, int, float, bool or None), so a trial can
            be written to a report as JSON.
    """

    options: tuple[Any, ...]

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes)) or not hasattr(
            self.options, "__iter__"
        ):
            raise InvalidConfigError(
                f"Choice needs a sequence of options, got {self.options!r}"
            )
        options = tuple(self.options)
        plain = all(isinstance(o, (str, int, float, bool, type(None))) for o in options)
        distinct = (
            len({(type(o), o) for o in options}) == len(options) if plain else False
        )
        if not options or not plain or not distinct:
            raise InvalidConfigError(
                "Choice needs at least one distinct option, each a str, int, float, "
                f"bool or None, got {self.options!r}"
            )
        object.__setattr__(self, "options", options)

    def value(self, u: float) -> Any:
        """The option at unit coordinate ``u ∈ [0, 1)``."""
        n = len(self.options)
        return self.options[min(int(_unit(u) * n), n - 1)]


Dimension = LogUniform | Uniform | IntUniform | Choice
"""One hyperparameter's range."""


@dataclass(frozen=True, init=False, repr=False)
class SearchSpace(Mapping[str, Dimension]):
    """An agent's declared search space: hyperparameter name → :data:`Dimension`.

    Names are the factory's keyword arguments; a hyperparameter left out keeps the
    factory's default. The space is frozen and ordered by name, so the trials do not
    depend on the order of declaration. An empty space (an agent with nothing to tune,
    or a third-party agent registered without one) has a single point, the defaults.

    Args:
        dimensions: name → dimension (default: empty).

    Raises:
        InvalidConfigError: a name that is not an identifier or a value that is not a
            dimension.
    """

    dimensions: tuple[tuple[str, Dimension], ...]

    def __init__(self, dimensions: Mapping[str, Dimension] | None = None) -> None:
        given = dict(dimensions or {})
        for name, dim in given.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise InvalidConfigError(
                    f"search space names must be keyword names, got {name!r}"
                )
            if not isinstance(dim, (LogUniform, Uniform, IntUniform, Choice)):
                raise InvalidConfigError(
                    f"search space {name!r}: expected LogUniform, Uniform, IntUniform "
                    f"or Choice, got {dim!r}"
                )
        object.__setattr__(self, "dimensions", tuple(sorted(given.items())))

    def __getitem__(self, name: str) -> Dimension:
        for key, dim in self.dimensions:
            if key == name:
                return dim
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __repr__(self) -> str:
        return f"SearchSpace({dict(self.dimensions)!r})"

    @property
    def per_instance(self) -> tuple[str, ...]:
        """Names the rule takes as ``(B, 1)`` tensors: continuous, not opted out."""
        return tuple(
            name
            for name, dim in self.dimensions
            if isinstance(dim, _Interval) and dim.per_instance
        )

    @property
    def structural(self) -> tuple[str, ...]:
        """Names that change shapes, loop counts or control flow (one value a match)."""
        batched = set(self.per_instance)
        return tuple(name for name in self if name not in batched)

    def sample(self, n: int, seed: int) -> list[dict[str, Any]]:
        """``n`` quasi-random trials: the first ``n`` points of a scrambled Sobol' sequence.

        The ``2^⌈log₂ n⌉`` points of the smallest power of two are drawn and the first
        ``n`` kept (a power of two gives the balanced net; the first ``n`` of one keep
        the sequence's low discrepancy), so no balance warning is raised for other
        ``n``. An empty space returns ``[{}]``, one trial with every default, whatever
        ``n`` (further trials would repeat it).

        Args:
            n: number of trials (≥ 1).
            seed: the scrambling seed; the same seed gives the same trials.

        Returns:
            One dict per trial, name → value (floats, ints or the chosen options).
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidConfigError(f"n must be an int ≥ 1, got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise InvalidConfigError(f"seed must be an int ≥ 0, got {seed!r}")
        if not self.dimensions:
            return [{}]
        # scipy.stats costs ~1 s to import; only tuning needs it, not `import agents`
        from scipy.stats import qmc

        sobol = qmc.Sobol(len(self.dimensions), scramble=True, seed=seed)
        points = sobol.random_base2((n - 1).bit_length())[:n]
        return [
            {
                name: dim.value(float(u))
                for (name, dim), u in zip(self.dimensions, row, strict=True)
            }
            for row in points
        ]
