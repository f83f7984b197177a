"""Solution concepts and benchmark presets: what "solved" means for each game.

A min-max benchmark is only as meaningful as its yardstick. The Nash duality gap is
the right one where a Nash equilibrium exists, but it is the wrong one elsewhere:

* **Nash gap** (``"nash_gap"``) — ``DG = Φ(θ) − Ψ(φ)`` (:mod:`gangames.metrics`),
  zero exactly at a Nash equilibrium. For games that have one (Bilinear, Quadratic,
  DiracGAN, CovarianceGAN, GaussianWGAN).
* **Proximal gap at λ** (``"proximal_gap"``) — ``DG^λ = Φ(θ) − min_θ' V_prox^λ(θ',
  φ)``, zero exactly at a λ-proximal equilibrium (Farnia & Ozdaglar, ICML 2020). For
  games with no Nash equilibrium but a proximal one (NoNashQuadratic: its Nash gap is
  at least 3 everywhere, its proximal gap at λ ≤ 2/3 vanishes at the origin).
* **Mixed gap at K particles** (``"mixed_gap"``) — the Nikaidô–Isoda gap of the two
  K-particle clouds of the game lifted by :func:`~gangames.game.mixed`. For games
  with only a mixed equilibrium (NonRealizableGAN, CirclePursuit): no pure strategy
  can reach a gap below the game's pure floor, a cloud can.
* **Sample quality** (``"sample_quality"``) — for neural GANs, whose gaps have no
  closed form: the budgeted gap estimate is only a *lower bound* (an estimate of 0
  means "below the estimator's resolution", never "converged"), so the target is
  stated on sample-quality metrics (modes or classes covered, high-quality fraction,
  KL, MMD²) and the estimated gap is reported beside it.

A :class:`Preset` fixes, per game, the concept, the env options it needs (``reward``,
``prox_lambda``, ``particles``), the oracle budget per seat in gradient-equivalents of
the *base* game (a gradient of a K-particle game costs K: see
:class:`~gangames.oracle.Ledger`), and the :class:`Target` whose first crossing gives
the primary score, the oracle cost to reach it. Each game class declares its preset
as the class attribute ``preset``; its ``why`` says why that target and budget.

Example:
    >>> import gangames
    >>> p = gangames.preset("gangames/NoNashQuadratic-v0")
    >>> p.concept, p.target.metric, p.options["prox_lambda"]
    ('proximal_gap', 'proximal_gap', 0.5)
    >>> p.target.reached({"proximal_gap": 1e-4})
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gangames import checks
from gangames.errors import InvalidConfigError

__all__ = ["CONCEPTS", "Condition", "Preset", "Target"]

CONCEPTS = ("nash_gap", "proximal_gap", "mixed_gap", "sample_quality")
"""The solution concepts a preset may declare."""

_CONCEPT_REWARD = {
    "nash_gap": "gap",
    "proximal_gap": "proximal_gap",
    "mixed_gap": "gap",
    "sample_quality": "payoff",
}


@dataclass(frozen=True)
class Condition:
    """One threshold on an ``infos`` metric: ``metric ≤ value`` or ``metric ≥ value``.

    Args:
        metric: the ``infos`` key (``"duality_gap"``, ``"modes_covered"``, …).
        value: the threshold.
        at_least: ``True`` for ``metric ≥ value`` (quality), else ``metric ≤ value``.
    """

    metric: str
    value: float
    at_least: bool = False

    def holds(self, x: np.ndarray) -> np.ndarray:
        """Where the condition holds (NaN never does)."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return x >= self.value if self.at_least else x <= self.value

    def __str__(self) -> str:
        return f"{self.metric} {'≥' if self.at_least else '≤'} {self.value:g}"


@dataclass(frozen=True)
class Target:
    """What reaching the goal means: every condition holds at the same round.

    The first condition is the concept's headline metric (the curve the report
    plots); the others sharpen it (e.g. quality *and* coverage).
    """

    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if not self.conditions:
            raise InvalidConfigError("a target needs at least one condition")

    @property
    def metric(self) -> str:
        """The headline metric."""
        return self.conditions[0].metric

    @property
    def lower_is_better(self) -> bool:
        """Direction of the headline metric."""
        return not self.conditions[0].at_least

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric the target reads."""
        return tuple(c.metric for c in self.conditions)

    def reached(self, values: Mapping[str, Any]) -> Any:
        """Whether every condition holds (elementwise over instances)."""
        out = np.ones(np.shape(values[self.metric]), dtype=bool)
        for c in self.conditions:
            out &= c.holds(values[c.metric])
        return out if out.shape else bool(out)

    def __str__(self) -> str:
        return " and ".join(str(c) for c in self.conditions)


@dataclass(frozen=True)
class Preset:
    """A game's benchmark setting: concept, env options, budget and target.

    Args:
        concept: one of :data:`CONCEPTS`.
        target: the goal; its first condition is the concept's metric.
        budget: oracle budget per seat in gradient-equivalents of the base game.
        options: env options and game fields the concept needs (``prox_lambda``,
            ``particles``, game fields); ``reward`` defaults to the concept's.
        why: one or two sentences: why this target and budget (shown in reports).
        measure_every: rounds between two measurements of the target's metrics where
            they are costly (sample quality); ``1`` measures every round.
    """

    concept: str
    target: Target
    budget: float
    options: Mapping[str, Any] = field(default_factory=dict)
    why: str = ""
    measure_every: int = 1

    def __post_init__(self) -> None:
        if self.concept not in CONCEPTS:
            raise InvalidConfigError(
                f"concept must be one of {CONCEPTS}, got {self.concept!r}"
            )
        checks.positive("budget", self.budget)
        checks.positive("measure_every", self.measure_every, integer=True)
        if self.concept == "proximal_gap" and "prox_lambda" not in self.options:
            raise InvalidConfigError("a proximal_gap preset must state prox_lambda")
        if self.concept == "mixed_gap" and "particles" not in self.options:
            raise InvalidConfigError("a mixed_gap preset must state particles")
        options = {"reward": _CONCEPT_REWARD[self.concept], **self.options}
        object.__setattr__(self, "options", options)

    @property
    def label(self) -> str:
        """The concept with its parameter, e.g. ``"proximal_gap (λ = 0.5)"``."""
        if self.concept == "proximal_gap":
            return f"proximal_gap (λ = {self.options['prox_lambda']:g})"
        if self.concept == "mixed_gap":
            return f"mixed_gap (K = {self.options['particles']})"
        return self.concept

    def replace(self, **changes: Any) -> Preset:
        """A copy with ``changes``; ``options`` are merged into the preset's."""
        options = {**self.options, **changes.pop("options", {})}
        return dataclasses.replace(self, options=options, **changes)
