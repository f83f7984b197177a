"""Conjugate-gradient GAN training (Naganuma & Iiduka, AISTATS 2023) against GDA.

Plays the seven β rules of ``agents.make("conjugate_gradient", beta=...)`` (β per
parameter tensor, clipped to [0, 1/2]; docs/algorithms.md §6) and simultaneous GDA with the
same step size on

* Quadratic-v0 (strongly convex–strongly concave, docs/algorithms.md §8 T2): every rule
  converges, like GDA;
* Bilinear-v0 (``V = θᵀAφ``, T1): conjugate directions do nothing against the rotation —
  a positive β acts as heavy-ball momentum and the iterates spiral out, some rules
  faster than GDA.

It prints the (restricted) duality gap every few rounds and the final distance to the
equilibrium.

Run: ``python examples/conjugate_gradient.py``
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

import agents
import gangames
from agents.conjugate_gradient import BETA_RULES


@dataclass(frozen=True)
class Args:
    """Settings of the comparison (no command line: edit or pass an ``Args``)."""

    steps: int = 120
    """rounds played by every solver"""
    lr: float = 0.1
    """step size a of both seats (constant schedule), also GDA's"""
    schedule: str = "constant"
    """CG step-size rule: "constant", "inverse_sqrt" or "two_timescale\""""
    coefficient: float = 1.0
    """c in γ_n = c·clip(β_n) (the paper sweeps 0.5, 0.75, 1.0)"""
    seed: int = 0
    """root seed of the instances"""
    batch: int = 4
    """game instances played in lockstep (the printed numbers are their means)"""
    report_every: int = 40
    """print the gap every this many rounds"""
    threads: int = 1
    """torch intra-op threads (the tensors are tiny: more threads only add overhead)"""
    games: tuple[tuple[str, dict], ...] = field(
        default=(
            ("gangames/Quadratic-v0", {"dimension": 4, "coupling": 0.5}),
            ("gangames/Bilinear-v0", {"dimension": 2}),
        )
    )
    """(game id, game options) pairs"""


def solvers(args: Args) -> dict[str, agents.Solver]:
    """GDA and one conjugate-gradient solver per β rule."""
    out = {"gda": agents.make("gda", lr=args.lr)}
    for rule in BETA_RULES:
        out[f"cg {rule}"] = agents.make(
            "conjugate_gradient",
            lr=args.lr,
            beta=rule,
            schedule=args.schedule,
            coefficient=args.coefficient,
        )
    return out


def main(args: Args = Args()) -> None:
    """Print, for every game and solver, the gap every few rounds and the end state."""
    torch.set_num_threads(args.threads)
    for game_id, options in args.games:
        marks = range(0, args.steps + 1, args.report_every)
        head = "".join(f"{f'gap t={t}':>12s}" for t in marks)
        print(f"\n{game_id} {options}\n  {'solver':22s}{head}{'distance':>12s}")
        for name, solver in solvers(args).items():
            env = gangames.make(
                game_id,
                batch=args.batch,
                max_steps=args.steps,
                dtype="float64",
                **options,
            )
            infos = agents.play(env, solver, seed=args.seed)
            gaps = "".join(f"{infos[t]['duality_gap'].mean():12.3g}" for t in marks)
            print(f"  {name:22s}{gaps}{infos[-1]['distance'].mean():12.3g}")


if __name__ == "__main__":
    main()
