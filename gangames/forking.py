"""Fork safety: a forked child process runs torch on one thread.

Vectorised RL clients fork workers: SuperSuit's ``concat_vec_envs_v1(num_cpus=n)``,
SB3's ``SubprocVecEnv(start_method="fork")``, ``multiprocessing`` pools. A child
forked after the parent used torch's intra-op thread pool inherits the pool's
state but none of its threads: torch's CPU build parallelises with OpenMP (GNU
libgomp), and the child's first parallel region waits forever on a barrier for
threads that were never copied (seen at reset in ``torch.linalg.qr`` of Bilinear's
instance sampler). One thread needs no team, so it cannot wait on one.

``import gangames`` therefore registers, once, an ``os.register_at_fork`` hook that
sets ``torch.set_num_threads(1)`` in every forked child, as PyTorch's own
``DataLoader`` does in its workers. Workers are usually many, so one thread each
is also what avoids oversubscribing the cores. A child that wants more threads may
call ``torch.set_num_threads`` itself only where the parent never used the pool.
Processes started with ``spawn`` or ``forkserver`` start fresh and are unaffected.
"""

from __future__ import annotations

import os

import torch

__all__ = ["one_thread_in_child"]


def one_thread_in_child() -> None:
    """Run torch on one thread (registered to run in every forked child)."""
    torch.set_num_threads(1)


if hasattr(os, "register_at_fork"):  # POSIX; Windows has no fork
    os.register_at_fork(after_in_child=one_thread_in_child)
