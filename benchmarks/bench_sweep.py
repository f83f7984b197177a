"""Batched tuning trials: one sweep match against one match per trial.

The tuned ruleset plays N quasi-random trials of each entrant on each game. Played one
by one, that is N matches of I instances; played as a sweep (:func:`agents.sweep`),
the trials' step sizes become per-instance tensors and the N matches are one match of
``N·I`` instances. Two cases, measured side by side in one run:

1. **extragradient on Bilinear-v0** (4 gradients a round: 50 rounds in the budget);
2. **stackelberg on NoNashQuadratic-v0** (the leader's implicit gradient costs 14
   gradient-equivalents beyond its observed gradient: 13 rounds in the budget).

Each case: 32 trials from the agent's declared space (``search_space(name).sample(32,
seed=0)``), 4 instances per trial on the seeds ``derive_seeds(0, 4)``, a budget of 200
gradient-equivalents per seat, float32. ``sweep``: :func:`agents.sweep` (one group:
every dimension of both spaces is per-instance), one env of ``batch=128``, reset with
the seeds repeated per trial. ``separate``: for each trial, ``agents.make`` and one
env of ``batch=4``. Both time the whole tuning run (build the solver and the env, play
to the budget, every info metric each round). The candidates take turns, best of
``--repeats``; the final parameters of the two are compared (float32 rows must agree:
each row does the same operations).

Aim: sweep ≥ 10× faster than separate on 2 CPU cores.

Run: ``python benchmarks/bench_sweep.py [--device cuda] [--repeats 3]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
from timing import seconds_in_turns

import agents
from gangames.random import derive_seeds

CASES = (
    ("extragradient", "gangames/Bilinear-v0"),
    ("stackelberg", "gangames/NoNashQuadratic-v0"),
)
TRIALS = 32
INSTANCES = 4
BUDGET = 200.0
DTYPE = torch.float32


def _options(device: str, batch: int) -> dict:
    return {
        "batch": batch,
        "budget": BUDGET,
        "max_steps": 10**6,  # the budget ends the match
        "dtype": "float32",
        "device": device,
    }


def sweep_run(
    name: str, game: str, trials: list[dict], seeds: list[int], device: str
) -> Callable[[], torch.Tensor]:
    """All trials as batched matches (one per group); the final θ in trial order."""

    def run() -> torch.Tensor:
        groups = agents.sweep(
            name, trials, instances=len(seeds), device=device, dtype=DTYPE
        )
        theta = [torch.empty(0)] * len(trials)
        for group in groups:
            n = len(group.trials)
            env = agents.env_for(game, group.solver, **_options(device, n * len(seeds)))
            agents.play(env, group.solver, seed=seeds * n)
            rows = env.match.state.theta.split(len(seeds))
            for k, trial_rows in zip(group.trials, rows, strict=True):
                theta[k] = trial_rows
        return torch.cat(theta)

    return run


def separate_run(
    name: str, game: str, trials: list[dict], seeds: list[int], device: str
) -> Callable[[], torch.Tensor]:
    """One match per trial; the final θ in trial order."""

    def run() -> torch.Tensor:
        theta = []
        for trial in trials:
            solver = agents.make(name, **trial)
            env = agents.env_for(game, solver, **_options(device, len(seeds)))
            agents.play(env, solver, seed=seeds)
            theta.append(env.match.state.theta)
        return torch.cat(theta)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    seeds = derive_seeds(0, INSTANCES)
    print(
        f"{TRIALS} trials × {INSTANCES} instances, budget {BUDGET:g} "
        f"gradient-equivalents per seat, float32, device {args.device}, "
        f"{torch.get_num_threads()} torch threads, best of {args.repeats}, "
        "candidates in turns"
    )
    for name, game in CASES:
        trials = agents.search_space(name).sample(TRIALS, seed=0)
        batched = sweep_run(name, game, trials, seeds, args.device)
        separate = separate_run(name, game, trials, seeds, args.device)
        same = bool(torch.equal(batched(), separate()))
        t_sweep, t_separate = seconds_in_turns(
            [batched, separate], rounds=1, repeats=args.repeats
        )
        print(
            f"{name:>13} on {game.split('/')[1]:<18}: sweep {t_sweep:7.3f} s   "
            f"separate {t_separate:7.3f} s   speed-up {t_separate / t_sweep:6.1f}×  "
            f"(aim ≥ 10×)   final θ equal: {same}"
        )


if __name__ == "__main__":
    main()
