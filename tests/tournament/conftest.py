from __future__ import annotations

import pytest

from tests.tournament import _agents


@pytest.fixture(autouse=True, scope="package")
def test_agents():
    """The small and faulty solvers of these tests, registered only while they run."""
    _agents.register()
    yield
    _agents.unregister()


def tiny(**overrides):
    """A tiny tournament config as plain data."""
    data = {
        "games": [
            {"id": "gangames/Bilinear-v0", "options": {"dimension": 2}},
            {"id": "gangames/DiracGAN-v0"},
        ],
        "entrants": [
            {"agent": "tgda", "hyperparameters": {"lr": 0.05}},
            {"agent": "textra", "hyperparameters": {"lr": 0.1}},
            {"agent": "talt"},
        ],
        "seeds": 2,
        "batch": 2,
        "budget": 20,
        "modes": ["self_play"],
        "timeout": 30,
    }
    data.update(overrides)
    return data


@pytest.fixture
def tiny_data():
    return tiny()
