"""CUDA: the same matches on the GPU give the CPU's numbers (skipped without CUDA)."""

from __future__ import annotations

import pytest
import torch

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
