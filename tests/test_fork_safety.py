"""Forked workers step every game after the parent used torch's thread pool.

A child forked after the parent ran a parallel torch op used to wait forever on an
OpenMP barrier (Bilinear's ``torch.linalg.qr`` at reset); ``gangames.forking`` runs
children on one thread. The clients fork as their documentation shows: SuperSuit's
``concat_vec_envs_v1(num_cpus=2)`` (PettingZoo's SB3 recipe) and SB3's
``SubprocVecEnv(start_method="fork")``. Each run is a fresh interpreter (the test
process runs torch on one thread) under a timeout, so a hang fails instead of hanging.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gangames

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import gymnasium, numpy as np, torch
    from stable_baselines3.common.vec_env import SubprocVecEnv
    from supersuit import (
        concat_vec_envs_v1, pad_action_space_v0, pettingzoo_env_to_vec_env_v1,
    )
    import gangames
    from gangames.registration import view_id

    def parent_uses_the_thread_pool():
        torch.set_num_threads(2)
        x = torch.randn(512, 512)
        (x @ x).sum(), torch.linalg.qr(torch.randn(256, 256))

    for game_id in gangames.names():
        neural = "Digits" in game_id or "Mixture" in game_id
        options = {"width": 8, "eval_size": 64} if neural else {}
        parent_uses_the_thread_pool()
        env = gangames.make(
            game_id, flat=True, max_steps=3, max_update=0.01, **options
        )
        vec = pettingzoo_env_to_vec_env_v1(pad_action_space_v0(env))
        vec = concat_vec_envs_v1(vec, 2, num_cpus=2, base_class="stable_baselines3")
        vec.reset()
        for _ in range(2):
            vec.step(np.stack([vec.action_space.sample() for _ in range(vec.num_envs)]))
        vec.close()
        parent_uses_the_thread_pool()
        view = {"mode": "step_size"} if neural else {}
        make = lambda: gymnasium.make(
            view_id(game_id, "generator"), max_steps=3, **view, **options
        )
        sub = SubprocVecEnv([make, make], start_method="fork")
        sub.reset()
        sub.step(np.stack([sub.action_space.sample() for _ in range(2)]))
        sub.close()
        print("stepped", game_id, flush=True)
    """
)
TIMEOUT = 300  # seconds for all games; about 20 on 2 cores


def _run(code: str, timeout: float) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; on timeout end its whole process group.

    Raises:
        subprocess.TimeoutExpired: with the output so far (hung forked workers, which
        would outlive their parent, are ended with it).
    """
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, workers included
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise subprocess.TimeoutExpired(proc.args, timeout, output=out) from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_workers_step_every_game():
    try:
        done = _run(SCRIPT, TIMEOUT)
    except subprocess.TimeoutExpired as err:
        stepped = {line.split()[1] for line in (err.output or "").splitlines()}
        hung = [g for g in gangames.names() if g not in stepped]
        pytest.fail(f"forked workers hung on {hung[0]} (no step in {TIMEOUT} s)")
    assert done.returncode == 0, done.stderr[-3000:]
    stepped = [line.split()[1] for line in done.stdout.splitlines()]
    assert stepped == gangames.names()


def test_forked_child_runs_torch_on_one_thread():
    """The hook itself, in a fresh interpreter: the child reports its thread count."""
    code = textwrap.dedent(
        """
        import os, torch, gangames
        torch.set_num_threads(2)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(write, str(torch.get_num_threads()).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        print(os.read(read, 8).decode(), torch.get_num_threads())
        """
    )
    done = _run(code, 60)
    assert done.stdout.split() == ["1", "2"], done.stderr[-2000:]
