"""Every agent on both neural games: short matches end finite or as a reported divergence."""

from __future__ import annotations

import pytest
import torch

import agents
from agents.transforms import scale
from gangames.rules import Solver, rule_from
from gangames.testing import check_rule

GAMES = {  # small networks: the matches test the plumbing, not the learning
    "gangames/MixtureGAN-v0": (
        {"width": 8, "minibatch": 16, "eval_size": 64, "latent_dim": 3},
        "modes_covered",
    ),
    "gangames/DigitsGAN-v0": (
        {"width": 8, "minibatch": 8, "eval_size": 16},
        "classes_covered",
    ),
}
# sb3 needs a saved policy: tests/agents/test_learned.py plays it
SOLVERS = [n for n in agents.names() if n != "sb3"] + ["inline_gda"]


def _gda_solver(lr: float = 0.05) -> Solver:
    """GDA written inline from the public transforms (no registered agent)."""
    rule = rule_from(scale(-lr), name="gda")
    return Solver(rule, rule, "inline_gda")


def test_inline_gda_honours_the_rule_contract():
    options, _ = GAMES["gangames/MixtureGAN-v0"]
    check_rule(_gda_solver(), "gangames/MixtureGAN-v0", steps=3, **options)


@pytest.mark.parametrize("env_id", list(GAMES))
@pytest.mark.parametrize("name", SOLVERS)
def test_every_agent_plays_a_short_match(name, env_id):
    options, quality = GAMES[env_id]
    solver = _gda_solver() if name == "inline_gda" else agents.make(name)
    env = agents.env_for(
        env_id,
        solver,
        batch=2,
        max_steps=4,
        estimate_every=2,
        estimator={"steps": 3, "restarts": 1, "prox_outer": 2, "prox_inner": 1},
        **options,
    )
    infos = agents.play(env, solver, seed=0)
    last = infos[-1]
    finite = torch.isfinite(torch.as_tensor(last["duality_gap"]))
    assert bool((finite | torch.as_tensor(last["diverged"])).all())
    assert last["gap_lower_bound"] and "lower bound" in env.gap_estimator
    assert last[quality].shape == (2,)
