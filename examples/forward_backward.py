"""Forward–backward methods on the box-constrained bilinear game (docs/algorithms.md §5, T1).

``V = θᵀAφ`` with θ, φ ∈ [−1, 1]^d (``box=1.0``); the unique equilibrium is 0. The
environment projects every update onto the box, so plain gradient play *is* projected
gradient descent–ascent (forward–backward): its last iterate runs to the boundary and
circles there (only its average converges). Two fixes for monotone games:

* SRFB (Franci & Grammatico): the forward–backward step taken from a relaxed point, an
  exponential average of the iterates (δ = 0.618) — the last iterate converges.
* Tseng's FBF: a projected extrapolation, then a correction by the change of the
  gradient (one extra gradient per seat) — the last iterate converges too.

A noisy variant (``gradient_noise``) shows SRFB's sample averaging: with a constant
number S of samples the iterates hover at a noise floor that shrinks with S; the
growing schedule ``S_k = ⌈(k+1)^{1.1}⌉`` (Σ 1/S_k < ∞) drives it towards 0, at a
growing price in oracle calls. Printed: the distance to the equilibrium and the exact duality gap,
averaged over the batch, with the gradient-equivalents the generator spent.

Run: ``python examples/forward_backward.py``
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import agents
import gangames
from agents.forward_backward import fbf, srfb
from agents.transforms import scale
from gangames.rules import Solver, rule_from


@dataclass(frozen=True)
class Args:
    """Settings of the comparison (no command line: edit and rerun)."""

    dimension: int = 2
    """d, the size of θ and φ"""
    box: float = 1.0
    """half-width of the feasible box of both seats"""
    steps: int = 300
    """rounds per match"""
    lr: float = 0.4
    """step size of every method"""
    momentum: float = 0.2
    """β of SRFB with heavy-ball momentum (a ``trace`` piece before the step)"""
    seeds: int = 4
    """instances played in one batch"""
    seed: int = 0
    """root seed of the instances"""
    noise: float = 0.3
    """gradient noise of the stochastic variant"""
    noisy_steps: int = 100
    """rounds of the stochastic variant"""


def projected_gda(lr: float) -> Solver:
    """Simultaneous GDA; the env's projection makes it forward–backward."""
    rule = rule_from(scale(-lr), name="projected_gda")
    return Solver(rule, rule, "projected_gda")


def run(solver: Solver, steps: int, args: Args, **options) -> dict[str, np.ndarray]:
    """Distance, duality gap and generator cost per round (mean over the batch)."""
    env = gangames.make(
        "gangames/Bilinear-v0",
        batch=args.seeds,
        max_steps=steps,
        dimension=args.dimension,
        box=args.box,
        **options,
    )
    infos = agents.play(env, solver, seed=args.seed)
    out = {}
    for key in ("distance", "duality_gap"):
        out[key] = np.array([np.asarray(i[key]).mean() for i in infos])
    # oracle calls: gradient-equivalents per seat (one batched query counts once).
    out["cost"] = np.array([float(i["oracle_calls_generator"]) for i in infos])
    return out


def report(name: str, r: dict[str, np.ndarray]) -> None:
    """One line: distance and gap at the start and at the end, and the cost."""
    d, g = r["distance"], r["duality_gap"]
    print(
        f"  {name:30s} distance {d[0]:.3f} → {d[-1]:.2e}   gap {g[0]:.3f} → "
        f"{g[-1]:.2e}   oracle calls {r['cost'][-1]:.0f}"
    )


def main(args: Args = Args()) -> None:
    """Play projected GDA, SRFB and FBF; then SRFB with sample averaging under noise."""
    print(f"Bilinear-v0, box={args.box}, d={args.dimension}, {args.steps} rounds")
    report("projected GDA", run(projected_gda(args.lr), args.steps, args))
    report("SRFB δ=0.618", run(srfb(lr=args.lr), args.steps, args))
    with_momentum = srfb(lr=args.lr, momentum=args.momentum)
    report(f"SRFB + momentum {args.momentum}", run(with_momentum, args.steps, args))
    report("FBF (Tseng)", run(fbf(lr=args.lr), args.steps, args))

    print(f"\nwith gradient noise {args.noise}, {args.noisy_steps} rounds")
    noisy = {"gradient_noise": args.noise}
    for name, solver in [
        ("projected GDA", projected_gda(args.lr)),
        ("SRFB, S = 1", srfb(lr=args.lr)),
        ("SRFB, S = 8", srfb(lr=args.lr, samples=8)),
        ("SRFB, S_k = ⌈(k+1)^1.1⌉", srfb(lr=args.lr, growth=0.1)),
    ]:
        report(name, run(solver, args.noisy_steps, args, **noisy))


if __name__ == "__main__":
    main()
