"""The rule protocol: update rules as pure ``(init, update)`` pairs, chains, solvers.

This module is the contract between the two packages: :mod:`agents` implements rules
against it and the env side (:mod:`gangames.play`, the Gymnasium views, the checkers)
plays them through it, so neither side imports the other to agree on what a rule is.

An :class:`UpdateRule` plays one seat. Its ``update`` maps the seat's
:class:`Observation` (own parameters, opponent parameters, own-loss gradient — already
paid for by the environment — value, progress), its explicit state, and the seat's
counted oracle (:class:`gangames.oracle.SeatOracle`) to a parameter update ``Δ`` of
shape ``(B, d)`` and a new state. Everything is batched over B game instances; nothing
is stored on ``self`` or in globals; both seats *minimise their own loss*, so a rule
sits in either seat without a sign flag (after optax, ``optax/_src/base.py``).

Rules are built from :class:`Transform` pieces (a direction, a step size, momentum,
noise, …), as in optax: :func:`chain` of transforms is a transform, and
:func:`rule_from` turns a chain into a rule that starts from the observed own-loss
gradient, each piece rewriting it. Pieces that query the oracle at other points (an
extrapolation, an implicit-gradient correction, an inner best-response loop) are
transforms too, with their cost per step declared; a chain's cost is the sum.

A :class:`Solver` pairs one rule per seat; symmetric methods use the same rule twice.

Randomness: ``init`` receives a keyed :class:`~gangames.random.Stream` (one key per
instance), so a noisy rule is reproducible and a batch of B equals B single runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import torch

from gangames.oracle import SeatOracle
from gangames.random import Stream

__all__ = [
    "Observation",
    "Solver",
    "Transform",
    "UpdateRule",
    "chain",
    "constant_cost",
    "rule_from",
    "stateless",
]


class Observation(NamedTuple):
    """What a seat sees each turn, as tensors of its batch."""

    own: torch.Tensor  # (B, d_own) own parameters
    opponent: torch.Tensor  # (B, d_opp) opponent parameters
    gradient: torch.Tensor  # (B, d_own) own-loss gradient at (own, opponent), paid
    opponent_gradient: (
        torch.Tensor
    )  # (B, d_opp) opponent's own-loss gradient, same pass
    value: (
        torch.Tensor
    )  # (B,) V at the current point (minibatch estimate if stochastic)
    progress: torch.Tensor  # (B,) step / max_steps
    step: int  # rounds played so far


class InitFn(Protocol):
    """``init(params (B, d), stream) -> state``."""

    def __call__(self, params: torch.Tensor, stream: Stream) -> Any: ...


class UpdateFn(Protocol):
    """``update(obs, state, oracle) -> (delta (B, d), state)``."""

    def __call__(
        self, obs: Observation, state: Any, oracle: SeatOracle
    ) -> tuple[torch.Tensor, Any]: ...


class UpdateRule(NamedTuple):
    """A seat's update rule: a pure ``(init, update)`` pair plus its description.

    Attributes:
        init: builds the state from the initial parameters and a keyed stream.
        update: one step: ``(obs, state, oracle) -> (delta, state)``.
        name: short id (e.g. ``"extragradient"``).
        cost: oracle gradient-equivalents one ``update`` spends at a given step,
            beyond the observed gradient (which the environment charges).
        order: ``"simultaneous"`` or ``"sequential"`` — the env it is designed for.
    """

    init: InitFn
    update: UpdateFn
    name: str
    cost: Callable[[int], float]
    order: str = "simultaneous"


def constant_cost(value: float) -> Callable[[int], float]:
    """A step-independent cost."""

    def cost(step: int) -> float:
        return value

    return cost


def stateless(params: torch.Tensor, stream: Stream) -> tuple:
    """The ``init`` of a rule or transform that keeps no state."""
    return ()


class Transform(NamedTuple):
    """A piece of a chain: rewrites the update direction (optax's GradientTransformation).

    ``update(updates, state, obs, oracle) -> (updates, state)``; ``cost`` is what it
    spends on the oracle per step.
    """

    init: Callable[[torch.Tensor, Stream], Any]
    update: Callable[
        [torch.Tensor, Any, Observation, SeatOracle], tuple[torch.Tensor, Any]
    ]
    cost: Callable[[int], float] = constant_cost(0.0)


def chain(*transforms: Transform) -> Transform:
    """Compose transforms into one transform: each piece rewrites the previous one's output.

    As optax's ``chain``, the result is itself a :class:`Transform`, so a chain can be a
    piece of another chain. Its state is the tuple of the pieces' states (piece ``i``
    initialised from ``stream.fork(i + 1)``) and its cost per step is the sum of the
    pieces' costs, so a piece that queries the oracle (an extrapolation, an implicit
    correction, an inner loop) is charged where it sits.

    Args:
        *transforms: pieces applied in order.

    Example:
        >>> from agents.transforms import scale, trace
        >>> heavy_ball = chain(trace(0.9), scale(-0.1))  # a transform, not yet a rule
        >>> chain(heavy_ball, scale(2.0)).cost(0)  # a chain inside a chain
        0.0
    """

    def init(params: torch.Tensor, stream: Stream) -> tuple:
        return tuple(
            t.init(params, stream.fork(i + 1)) for i, t in enumerate(transforms)
        )

    def update(
        updates: torch.Tensor, state: tuple, obs: Observation, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        new_state = []
        for t, s in zip(transforms, state, strict=True):
            updates, s = t.update(updates, s, obs, oracle)
            new_state.append(s)
        return updates, tuple(new_state)

    def cost(step: int) -> float:
        return sum(t.cost(step) for t in transforms)

    return Transform(init, update, cost)


def rule_from(
    *transforms: Transform, name: str, order: str = "simultaneous"
) -> UpdateRule:
    """The rule that runs ``chain(*transforms)`` from the observed own-loss gradient.

    The chain's input is ``obs.gradient`` (already paid for by the environment) and its
    output is the update Δ; the rule's state and cost are the chain's.

    Args:
        *transforms: pieces applied in order; the last must produce the update Δ.
        name: the rule's id.
        order: the env the rule is designed for.

    Example:
        >>> from agents.transforms import scale, trace
        >>> sgd = rule_from(scale(-0.1), name="sgd")  # Δ = −0.1 · gradient
        >>> momentum = rule_from(chain(trace(0.9), scale(-0.1)), name="momentum")
        >>> momentum.name, momentum.cost(0)
        ('momentum', 0.0)
    """
    transform = chain(*transforms)

    def init(params: torch.Tensor, stream: Stream) -> tuple:
        return transform.init(params, stream)

    def update(
        obs: Observation, state: tuple, oracle: SeatOracle
    ) -> tuple[torch.Tensor, tuple]:
        return transform.update(obs.gradient, state, obs, oracle)

    return UpdateRule(init, update, name, transform.cost, order)


class Solver(NamedTuple):
    """One rule per seat; ``name`` is the solver's id in tournaments.

    Attributes:
        generator: the generator's rule.
        discriminator: the discriminator's rule.
        name: the solver's id.
        order: ``"simultaneous"`` (parallel env) or ``"sequential"`` (AEC env).
        first: the first mover in sequential play (proximal training lets the critic
            solve its inner problem first; alternating GDA and Stackelberg lead with
            the generator).
    """

    generator: UpdateRule
    discriminator: UpdateRule
    name: str
    order: str = "simultaneous"
    first: str = "generator"

    def rule(self, seat: str) -> UpdateRule:
        """The rule of ``seat``."""
        return self.generator if seat == "generator" else self.discriminator
