"""Shared fixtures: every registered game, plus variants that exercise its options."""

from __future__ import annotations

import pytest
import torch

import gangames

torch.set_num_threads(1)  # bit-for-bit determinism is promised at a fixed thread count

# (id, game options) — every registered id, and the options that change behaviour.
VARIANTS: list[tuple[str, dict]] = [
    ("gangames/Bilinear-v0", {}),
    ("gangames/Bilinear-v0", {"box": 1.0, "dimension": 3}),
    (
        "gangames/Bilinear-v0",
        {"gradient_noise": 0.1, "condition_number": 10.0, "dimension": 4},
    ),
    ("gangames/Quadratic-v0", {}),
    ("gangames/DiracGAN-v0", {}),
    ("gangames/DiracGAN-v0", {"penalty": "r1", "gamma": 1.0}),
    ("gangames/DiracGAN-v0", {"loss": "wgan", "clip": 1.0}),
    ("gangames/NoNashQuadratic-v0", {}),
    ("gangames/NonRealizableGAN-v0", {}),
    ("gangames/NonRealizableGAN-v0", {"particles": 4}),
    ("gangames/CirclePursuit-v0", {}),
    ("gangames/CirclePursuit-v0", {"particles": 8}),
    ("gangames/CovarianceGAN-v0", {}),
    ("gangames/GaussianWGAN-v0", {}),
    ("gangames/GaussianWGAN-v0", {"critic": "quadratic"}),
    ("gangames/GaussianWGAN-v0", {"critic": "quadratic", "minibatch": 16}),
]


def variant_id(case: tuple[str, dict]) -> str:
    name, options = case
    short = name.split("/")[-1]
    return short + "".join(f"-{k}={v}" for k, v in options.items())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "variant" in metafunc.fixturenames:
        metafunc.parametrize("variant", VARIANTS, ids=[variant_id(c) for c in VARIANTS])
    if "game_id" in metafunc.fixturenames:
        metafunc.parametrize("game_id", gangames.names())


@pytest.fixture
def gda():
    """A deterministic simultaneous GDA policy on observations."""

    def policy(obs, lr=0.05):
        return {seat: -lr * o["gradient"] for seat, o in obs.items()}

    return policy
