"""Stackelberg, Follow-the-Ridge and unrolled GAN vs GDA on a game with no Nash equilibrium.

T4 of docs/algorithms.md §8: ``V = −3x² − y² + 4xy`` (x ∈ [−1, 1] minimises, y maximises).
The generator's objective is concave in x, so there is no local Nash equilibrium; the
follower's best response is ``y*(x) = 2x`` and ``(0, 0)`` is the minimax (Stackelberg)
point. Expected (derived in §8):

* simultaneous GDA diverges for every step size (double eigenvalue +2 of its
  linearisation): x is pinned to the box, the distance to (0, 0) stays ≥ 1;
* the Stackelberg leader follows the total derivative ``2x`` and converges (with
  ``λ_reg = 0`` its direction is exactly ``2x``; the default ``λ_reg = 1`` slows it);
* Follow-the-Ridge's linearisation ``[[6, −4], [16, −10]]`` has the double eigenvalue
  −2: it converges for η < 1;
* unrolling 5 critic steps converges;
* Adam on the leader's total derivative (``adam_stackelberg_leader``, the leader of
  Fiez et al.'s GAN experiments), a chain of the same implicit-gradient piece with
  ``scale_by_adam`` before the step, approaches (0, 0) too, more slowly at its
  per-coordinate step 0.02.

The printed oracle cost (gradient-equivalents per seat, HVPs counted 2) is the price of
anticipation. The Nash duality gap stays at 3 for every method at (0, 0): that point is
not a Nash equilibrium (none exists).

Run: ``python examples/stackelberg.py``
"""

from __future__ import annotations

from dataclasses import dataclass

import agents
import gangames
from agents.stackelberg import (
    adam_stackelberg_leader,
    follow_the_ridge,
    stackelberg,
    unrolled,
)
from agents.transforms import scale
from gangames.rules import Solver, rule_from


@dataclass(frozen=True)
class Args:
    """Settings of the comparison."""

    steps: int = 100
    """rounds of simultaneous play"""
    lr: float = 0.2
    """step size of every seat"""
    regularization: float = 1.0
    """λ_reg of the Stackelberg leader's follower Hessian (Fiez et al. default)"""
    cg_iterations: int = 5
    """CG iterations of the Stackelberg and Follow-the-Ridge solves"""
    unroll_steps: int = 5
    """K of the unrolled generator"""
    adam_lr: float = 0.02
    """step size of the Adam Stackelberg leader (Adam steps are ≈ lr per coordinate)"""
    batch: int = 4
    """instances played in lockstep (one seed each)"""
    seed: int = 0
    """first seed"""
    game: str = "gangames/NoNashQuadratic-v0"
    """game id"""


def solvers(args: Args) -> list[Solver]:
    """GDA written inline, then the anticipating methods."""
    gd = rule_from(scale(-args.lr), name="gd")
    return [
        Solver(gd, gd, "gda"),
        stackelberg(args.lr, args.lr, args.regularization, args.cg_iterations),
        stackelberg(args.lr, args.lr, 0.0, args.cg_iterations)._replace(
            name="stackelberg λ=0"
        ),
        stackelberg(args.lr, args.lr, args.regularization, args.cg_iterations)._replace(
            generator=adam_stackelberg_leader(
                args.adam_lr,
                regularization=args.regularization,
                cg_iterations=args.cg_iterations,
            ),
            name="stackelberg+adam",
        ),
        follow_the_ridge(args.lr, args.lr, args.cg_iterations),
        unrolled(args.lr, args.unroll_steps),
    ]


def main(args: Args = Args()) -> None:
    """Play every solver and print the distance to (0, 0), the gaps and the cost."""
    seeds = list(range(args.seed, args.seed + args.batch))
    print(f"{args.game}, {args.steps} rounds, lr {args.lr}, {args.batch} seeds")
    print(
        f"{'solver':18s} {'distance':>10s} {'Nash gap':>10s} {'‖F‖':>10s}"
        f" {'cost G':>8s} {'cost D':>8s}"
    )
    for solver in solvers(args):
        env = gangames.make(
            args.game, batch=args.batch, dtype="float64", max_steps=args.steps
        )
        last = agents.play(env, solver, seed=seeds)[-1]
        print(
            f"{solver.name:18s} {last['distance'].max():10.2e}"
            f" {last['duality_gap'].mean():10.3f} {last['grad_norm'].max():10.2e}"
            f" {last['oracle_calls_generator'] / args.steps:8.1f}"
            f" {last['oracle_calls_discriminator'] / args.steps:8.1f}"
        )


if __name__ == "__main__":
    main()
