"""Every built-in agent, registered in one place (ALGORITHMS.md §1–6).

Ids are lowercase method names; each factory's docstring gives its equations, oracle
cost per step and references. A change that alters a rule's results is a new id.
"""

from __future__ import annotations

from agents import conjugate_gradient as _conjugate_gradient
from agents import extragradient as _extragradient
from agents import gda as _gda
from agents.forward_backward import fbf, srfb
from agents.langevin import langevin, mirror_gan
from agents.learned import sb3
from agents.proximal import proximal
from agents.registry import register
from agents.stackelberg import follow_the_ridge, stackelberg, unrolled

# Classical baselines (ALGORITHMS.md §1) and conjugate gradient (§6)

register("gda", _gda.gda)
register("alternating_gda", _gda.alternating_gda)
register("adam", _gda.adam)
register("extragradient", _extragradient.extragradient)
register("optimistic_gda", _extragradient.optimistic_gda)
register("conjugate_gradient", _conjugate_gradient.conjugate_gradient)

# Proximal training (§2) and the sequential / Stackelberg family (§3)

register("proximal", proximal)
register("stackelberg", stackelberg)
register("follow_the_ridge", follow_the_ridge)
register("unrolled", unrolled)

# Mixed strategies (§4) and forward–backward methods (§5)

register("langevin", langevin)
register("mirror_gan", mirror_gan)
register("srfb", srfb)
register("fbf", fbf)

# Learned agents (Stable-Baselines3 policies)
register("sb3", sb3)
