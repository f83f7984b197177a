"""The benchmarks' reference rounds do the env's work: checked as the benchmark does.

``benchmarks/bench_env.py`` times DiracGAN's env round against the same work written
out as straight-line torch (``kernels``, and ``fused`` in fewer kernels); its ratios
mean something only while those return what the env returns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_env


@pytest.mark.parametrize("batch", [1, 5, 1024])
def test_dirac_reference_rounds_return_what_the_env_returns(batch):
    bench_env.check_dirac_rounds(batch)


def test_the_check_sees_a_missing_or_wrong_output():
    t = torch.ones(2)
    with pytest.raises(AssertionError, match="keys differ"):
        bench_env._same("r", {"a": t, "b": t}, {"a": t}, exact=True)
    with pytest.raises(AssertionError, match="r\\['a'\\]"):
        bench_env._same("r", {"a": t}, {"a": t + 1e-7}, exact=True)
    bench_env._same("r", {"a": t}, {"a": t + 1e-7}, exact=False)
