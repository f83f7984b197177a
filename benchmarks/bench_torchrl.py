"""TorchRL throughput: the native batched env vs a SerialEnv of unbatched envs.

Both contenders give a TorchRL user B instances of the same game and play the same
random actions from the action spec (``env.rollout(rounds)``, one reset then
``rounds`` steps, every info metric computed):

* ``native``: :class:`gangames.torchrl_env.TorchRLEnv` with ``batch=B``: one env,
  ``batch_size=[B]``, the B instances in one batched step.
* ``serial``: TorchRL's ``SerialEnv`` of B unbatched envs, what a TorchRL user builds
  without a batched env: each is ``torchrl.envs.PettingZooWrapper`` over
  ``gangames.make(id, flat=True)`` (the RL-facing format, :mod:`gangames.flat`).

Reported: instance-steps per second of each, and their ratio (aim ≥ 30× at B = 64 on
2 CPU cores). Timed in turns, best of ``--repeats`` (``benchmarks/timing.py``).

Run: ``python benchmarks/bench_torchrl.py [--batch 64] [--rounds 25] [--device cpu]``
"""

from __future__ import annotations

import argparse
import warnings

import torch
from timing import seconds_in_turns
from torchrl.envs import PettingZooWrapper, SerialEnv

import gangames
from gangames.torchrl_env import TorchRLEnv


def unbatched_factory(game: str, rounds: int, max_update: float, device: str):
    """A factory of one unbatched TorchRL env: PettingZooWrapper over the flat env."""

    def pettingzoo():
        env = gangames.make(
            game, flat=True, max_steps=rounds, max_update=max_update, device=device
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its PettingZoo-version warning
            return PettingZooWrapper(env, use_mask=False, device=device)

    return pettingzoo


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--game", default="gangames/DiracGAN-v0")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--rounds", type=int, default=25, help="steps per rollout")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--max-update", type=float, default=0.1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    native = TorchRLEnv(
        args.game,
        batch=args.batch,
        max_steps=args.rounds,
        max_update=args.max_update,
        device=args.device,
    )
    factory = unbatched_factory(args.game, args.rounds, args.max_update, args.device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = SerialEnv(args.batch, factory)
        serial.set_seed(0)
    native.set_seed(0)

    def native_rollout():
        return native.rollout(args.rounds)

    def serial_rollout():
        return serial.rollout(args.rounds)

    seconds = seconds_in_turns(
        [native_rollout, serial_rollout], rounds=1, repeats=args.repeats
    )
    steps = args.batch * args.rounds
    rate_native, rate_serial = (steps / s for s in seconds)
    print(
        f"{args.game}, B = {args.batch}, {args.rounds} steps per rollout, "
        f"{args.device}, {torch.get_num_threads()} torch threads"
    )
    print(
        f"serial side: SerialEnv of {args.batch} × "
        "PettingZooWrapper(gangames.make(id, flat=True))"
    )
    print(
        f"native TorchRLEnv(batch={args.batch}): {rate_native:10.0f} instance-steps/s"
    )
    print(
        f"SerialEnv of {args.batch} unbatched:   {rate_serial:10.0f} instance-steps/s"
    )
    print(f"ratio native / serial: {rate_native / rate_serial:.1f}×")
    serial.close()


if __name__ == "__main__":
    main()
