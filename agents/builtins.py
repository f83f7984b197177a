"""Every built-in agent, registered in one place (docs/algorithms.md §1–6) with its search space.

Ids are lowercase method names; each factory's docstring gives its equations, oracle
cost per step and references. A change that alters a rule's results is a new id.

Search spaces (:mod:`agents.search`) are workload-agnostic, as AlgoPerf's external
tuning asks: log-uniform step sizes over three decades around the literature's
defaults (``STEP``, 1e-3 to 1 — the defaults 0.05–0.1 sit in its upper third; Adam's
1e-4 to 1e-1 around DCGAN's 2e-4), a separate discriminator step where the method's
theory has two time scales, and the method's own knobs over the ranges its papers use.
Continuous dimensions play as per-instance tensors; counts and choices are structural.
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
from agents.search import Choice, IntUniform, LogUniform, SearchSpace, Uniform
from agents.stackelberg import follow_the_ridge, stackelberg, unrolled

STEP = LogUniform(1e-3, 1.0)
"""A plain gradient step size: three decades around the defaults 0.05–0.1."""

TWO_STEPS = SearchSpace({"lr": STEP, "lr_discriminator": STEP})
"""Both seats' steps (two-timescale: the critic's may differ from the generator's)."""

# Classical baselines (docs/algorithms.md §1) and conjugate gradient (§6)

register("gda", _gda.gda, TWO_STEPS)
register(
    "alternating_gda",
    _gda.alternating_gda,
    SearchSpace({**TWO_STEPS, "n_critic": IntUniform(1, 5)}),  # WGAN: 5
)
register(
    "adam",
    _gda.adam,
    SearchSpace(
        {
            "lr": LogUniform(1e-4, 1e-1),
            "lr_discriminator": LogUniform(1e-4, 1e-1),  # TTUR (Heusel et al.)
            "b1": Choice((0.0, 0.5, 0.9)),  # WGAN-GP / DCGAN / Kingma & Ba
        }
    ),
)
# Their analyses (Mokhtari et al. 2020) use one step η for both seats.
register("extragradient", _extragradient.extragradient, SearchSpace({"lr": STEP}))
register("optimistic_gda", _extragradient.optimistic_gda, SearchSpace({"lr": STEP}))
register(
    "conjugate_gradient",
    _conjugate_gradient.conjugate_gradient,
    SearchSpace(
        {
            "lr": STEP,
            "beta": Choice(_conjugate_gradient.BETA_RULES),
            "coefficient": Uniform(0.5, 1.0),  # the paper sweeps {0.5, 0.75, 1}
        }
    ),
)

# Proximal training (§2) and the sequential / Stackelberg family (§3)

register(
    "proximal",
    proximal,
    SearchSpace(
        {
            "prox_lambda": LogUniform(0.1, 10.0),  # §2.2: sweep {0.1, 1, 10}
            "inner_steps": IntUniform(2, 20, log=True),  # K_in 5–20
            "inner_lr": STEP,
            "lr_generator": STEP,
        }
    ),
)
register(
    "stackelberg",
    stackelberg,
    SearchSpace(
        {
            "lr_leader": STEP,
            "lr_follower": STEP,
            "regularization": LogUniform(1e-2, 10.0),  # Fiez et al.: 0.5 or 1
        }
    ),
)
register(
    "follow_the_ridge",
    follow_the_ridge,
    SearchSpace(
        {
            "lr_generator": STEP,
            "lr_discriminator": STEP,
            "damping": LogUniform(1e-3, 1.0),  # public code: adaptive, ≤ 1
        }
    ),
)
register(
    "unrolled",
    unrolled,
    SearchSpace(
        {"lr": STEP, "unroll_lr": STEP, "unroll_steps": IntUniform(1, 10)}  # Metz: 5
    ),
)

# Mixed strategies (§4) and forward–backward methods (§5)

register(
    "langevin",
    langevin,
    SearchSpace({"lr": STEP, "temperature": LogUniform(1e-4, 1e-1)}),
)
register(
    "mirror_gan",
    mirror_gan,
    SearchSpace(
        {"lr": STEP, "noise": LogUniform(1e-3, 1.0), "beta": LogUniform(1e-2, 1.0)}
    ),
)
register(
    "srfb",
    srfb,
    SearchSpace({"lr": STEP, "relaxation": Uniform(0.618, 0.95)}),  # δ ≥ 1/golden
)
register("fbf", fbf, SearchSpace({"lr": STEP}))

# Learned agents (Stable-Baselines3 policies): nothing to tune at play time
register("sb3", sb3, SearchSpace())
