"""CUDA: the same matches on the GPU give the CPU's numbers (skipped without CUDA)."""

from __future__ import annotations

import pytest
import torch

import agents
import gangames

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_cuda_matches_cpu(variant):
    name, options = variant
    runs = {}
    for device in ("cpu", "cuda"):
        env = gangames.make(
            name,
            batch=16,
            device=device,
            dtype="float64",
            tensor=True,
            max_steps=20,
            **options,
        )
        obs, _ = env.reset(seed=list(range(16)))
        while env.agents:
            obs, rew, _, _, _info = env.step(
                {s: -0.05 * o["gradient"] for s, o in obs.items()}
            )
        assert obs["generator"]["own"].device.type == device
        runs[device] = (obs["generator"]["own"].cpu(), rew["generator"].cpu())
    torch.testing.assert_close(runs["cuda"][0], runs["cpu"][0], rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(runs["cuda"][1], runs["cpu"][1], rtol=1e-9, atol=1e-9)


def test_cuda_tensor_mode_keeps_everything_on_device():
    env = gangames.make("gangames/DiracGAN-v0", batch=1024, device="cuda", tensor=True)
    obs, info = env.reset(seed=0)
    for field in obs["generator"].values():
        assert field.is_cuda
    assert info["generator"]["duality_gap"].is_cuda


@pytest.mark.parametrize(
    ("name", "env_id", "options"),
    [
        (name, env_id, options)
        for name in agents.names()
        if name != "sb3"  # tests/agents/test_learned.py checks a saved policy on CUDA
        for env_id, options in (
            ("gangames/Bilinear-v0", {"gradient_noise": 0.1}),  # noisy oracle
            ("gangames/NonRealizableGAN-v0", {"particles": 4}),  # lifted game
        )
    ],
)
def test_every_agent_gives_the_cpu_numbers_on_cuda(name, env_id, options):
    """Keyed streams and batched rules: same seeds, same numbers on the GPU."""
    solver = agents.make(name)
    out = {}
    for device in ("cpu", "cuda"):
        env = agents.env_for(
            env_id,
            solver,
            batch=4,
            device=device,
            dtype="float64",
            tensor=True,
            max_steps=20,
            **options,
        )
        agents.play(env, solver, seed=0)
        out[device] = (env.match.state.theta.cpu(), env.match.state.phi.cpu())
    torch.testing.assert_close(out["cuda"], out["cpu"], rtol=1e-9, atol=1e-9)
