"""Every registered agent against the rule contract and a game-theoretic floor.

New agents are covered automatically: each plays under ``check_rule`` (oracle cost per
step as declared, batch equals single runs, bit-for-bit determinism, no host sync,
either seat) and on the non-realisable GAN (docs/algorithms.md §8 T5), where no pure
strategy pair has a Nash gap below 3/(8γ) = 0.375 — so no rule may report less.
"""

from __future__ import annotations

import numpy as np
import pytest

import agents
from gangames.testing import check_rule

# Agents that need an artefact to be built (a saved policy) have their own tests.
NEEDS_ARTEFACT = {"sb3"}
PLAYABLE = [name for name in agents.names() if name not in NEEDS_ARTEFACT]


@pytest.mark.parametrize("name", PLAYABLE)
def test_rule_contract_on_the_quadratic(name):
    check_rule(agents.make(name), "gangames/Quadratic-v0", steps=4)


@pytest.mark.parametrize("name", PLAYABLE)
def test_no_pure_rule_beats_the_nash_gap_floor_of_the_nonrealizable_gan(name):
    solver = agents.make(name)
    env = agents.env_for(
        "gangames/NonRealizableGAN-v0", solver, batch=4, max_steps=60, dtype="float64"
    )
    infos = agents.play(env, solver, seed=0)
    gaps = np.stack([np.asarray(info["duality_gap"]) for info in infos])
    assert np.isfinite(gaps).all()
    assert gaps.min() >= 3 / 8 - 1e-9, f"{name}: pure Nash gap {gaps.min()} < 3/8"
