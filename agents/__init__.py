"""Update rules that play gangames' seats: the min-max solvers of the literature.

Each rule is a pure ``(init, update)`` pair over ``(B, d)`` tensors that talks to the
game only through its seat's counted oracle (:class:`gangames.oracle.SeatOracle`); a
:class:`~agents.base.Solver` pairs one rule per seat. ``agents.make(name, **hp)`` builds
a registered solver, ``agents.names()`` lists them, and :func:`~agents.play.play` plays
a whole match.

Example:
    >>> import agents, gangames
    >>> env = gangames.make("gangames/Quadratic-v0", max_steps=50)
    >>> infos = agents.play(env, agents.make("gda", lr=0.1), seed=0)
    >>> infos[-1]["duality_gap"] < infos[0]["duality_gap"]
    True
"""

from __future__ import annotations

from agents.base import Observation, Solver, Transform, UpdateRule, chain
from agents.play import SeatAgent, play
from agents.registry import factory, make, names, register

__all__ = [
    "Observation",
    "SeatAgent",
    "Solver",
    "Transform",
    "UpdateRule",
    "chain",
    "factory",
    "make",
    "names",
    "play",
    "register",
]

# Classical baselines (ALGORITHMS.md §1) and conjugate gradient (§6)
from agents import conjugate_gradient as _conjugate_gradient
from agents import extragradient as _extragradient
from agents import gda as _gda

register("gda", _gda.gda)
register("alternating_gda", _gda.alternating_gda)
register("adam", _gda.adam)
register("extragradient", _extragradient.extragradient)
register("optimistic_gda", _extragradient.optimistic_gda)
register("conjugate_gradient", _conjugate_gradient.conjugate_gradient)

# Proximal training (§2) and the sequential / Stackelberg family (§3)
from agents.proximal import proximal
from agents.stackelberg import follow_the_ridge, stackelberg, unrolled

register("proximal", proximal)
register("stackelberg", stackelberg)
register("follow_the_ridge", follow_the_ridge)
register("unrolled", unrolled)

# Mixed strategies (§4) and forward–backward methods (§5)
from agents.forward_backward import fbf, srfb
from agents.langevin import langevin, mirror_gan

register("langevin", langevin)
register("mirror_gan", mirror_gan)
register("srfb", srfb)
register("fbf", fbf)
