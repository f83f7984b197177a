"""Classical min-max baselines on the two games that separate them (docs/algorithms.md §8).

Plays simultaneous GDA, alternating GDA, extragradient, optimistic GDA and Adam, each
through ``agents.make`` and ``agents.play``, on

* Bilinear-v0 (``V = θᵀAφ``): GDA spirals out by ``√(1 + η²σ²)`` per step, alternating
  GDA cycles (bounded, no convergence), extragradient and optimistic GDA converge
  linearly; Adam's normalised steps do not fix the rotation.
* DiracGAN-v0 (Mescheder et al., 2018): GDA spirals out, alternating GDA cycles,
  extragradient and optimistic GDA slowly converge; with the R1 penalty
  (``penalty="r1"``) every method converges.

It prints the (restricted) duality gap and the distance to the equilibrium at a few
rounds, and the gradient-equivalents each solver spent (extragradient pays 4 a round,
the others 2).

Run: ``python examples/baselines.py``
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

import agents
import gangames


@dataclass(frozen=True)
class Args:
    """Settings of the comparison (no command line: edit or pass an ``Args``)."""

    steps: int = 200
    """rounds played by every solver"""
    lr: float = 0.2
    """step size of both seats for the gradient methods"""
    adam_lr: float = 0.02
    """step size of Adam (its steps are normalised, so it takes a smaller one)"""
    seed: int = 0
    """root seed of the instances"""
    batch: int = 4
    """game instances played in lockstep (the printed numbers are their means)"""
    report_every: int = 50
    """print the gap every this many rounds"""
    threads: int = 1
    """torch intra-op threads (the tensors are tiny: more threads only add overhead)"""
    solvers: tuple[str, ...] = (
        "gda",
        "alternating_gda",
        "extragradient",
        "optimistic_gda",
        "adam",
    )
    """registered solver ids to compare"""
    games: tuple[tuple[str, dict], ...] = field(
        default=(
            ("gangames/Bilinear-v0", {"dimension": 2}),
            ("gangames/DiracGAN-v0", {}),
            ("gangames/DiracGAN-v0", {"penalty": "r1", "gamma": 1.0}),
        )
    )
    """(game id, game options) pairs"""


def run(game_id: str, options: dict, name: str, args: Args) -> list[dict]:
    """Play one solver on one game; the infos of every round (means over the batch)."""
    solver = agents.make(name, lr=args.adam_lr if name == "adam" else args.lr)
    env = gangames.make(
        game_id,
        order=solver.order,  # alternating GDA plays the sequential (AEC) env
        first=solver.first,
        batch=args.batch,
        max_steps=args.steps,
        dtype="float64",
        **options,
    )
    return agents.play(env, solver, seed=args.seed)


def main(args: Args = Args()) -> None:
    """Print, for every game and solver, the gap every few rounds and the end state."""
    torch.set_num_threads(args.threads)
    for game_id, options in args.games:
        title = game_id + (f" {options}" if options else "")
        marks = range(0, args.steps + 1, args.report_every)
        head = "".join(f"{f'gap t={t}':>12s}" for t in marks)
        print(f"\n{title}\n  {'solver':16s}{head}{'distance':>12s}{'G grads':>9s}")
        for name in args.solvers:
            infos = run(game_id, options, name, args)
            gaps = "".join(f"{infos[t]['duality_gap'].mean():12.3g}" for t in marks)
            dist = infos[-1]["distance"].mean()
            spent = infos[-1]["oracle_calls_generator"]
            print(f"  {name:16s}{gaps}{dist:12.3g}{spent:9.0f}")


if __name__ == "__main__":
    main()
