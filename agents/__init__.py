"""Update rules that play gangames' seats: the min-max solvers of the literature.

Each rule is a pure ``(init, update)`` pair over ``(B, d)`` tensors that talks to the
game only through its seat's counted oracle (:class:`gangames.oracle.SeatOracle`); a
:class:`~gangames.rules.Solver` pairs one rule per seat. ``agents.make(name, **hp)``
builds a registered solver, ``agents.names()`` lists them, and
:func:`~gangames.play.play` plays a whole match. The rule protocol and the match loop
live in :mod:`gangames.rules` and :mod:`gangames.play` (the game side plays rules
without importing this package); they are re-exported here.

Tuning: each agent declares a search space beside its factory
(``agents.search_space(name)``, a :class:`~agents.search.SearchSpace` of
:class:`~agents.search.LogUniform`, :class:`~agents.search.Uniform`,
:class:`~agents.search.IntUniform` and :class:`~agents.search.Choice` dimensions);
``space.sample(n, seed)`` draws quasi-random trials and :func:`~agents.sweep.sweep`
plays many trials as one batched match, hyperparameters as per-instance tensors.

Example:
    >>> import agents, gangames
    >>> env = gangames.make("gangames/Quadratic-v0", max_steps=50)
    >>> infos = agents.play(env, agents.make("gda", lr=0.1), seed=0)
    >>> infos[-1]["duality_gap"] < infos[0]["duality_gap"]
    True
"""

from __future__ import annotations

from agents import builtins as _builtins  # noqa: F401  (registers the built-ins)
from agents.registry import factory, make, names, register, search_space
from agents.search import Choice, IntUniform, LogUniform, SearchSpace, Uniform
from agents.sweep import SweepGroup, sweep
from gangames.play import SeatAgent, env_for, play
from gangames.rules import (
    Observation,
    Solver,
    Transform,
    UpdateRule,
    chain,
    rule_from,
)

__all__ = [
    "Choice",
    "IntUniform",
    "LogUniform",
    "Observation",
    "SearchSpace",
    "SeatAgent",
    "Solver",
    "SweepGroup",
    "Transform",
    "Uniform",
    "UpdateRule",
    "chain",
    "env_for",
    "factory",
    "make",
    "names",
    "play",
    "register",
    "rule_from",
    "search_space",
    "sweep",
]
