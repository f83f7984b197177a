"""Proximal training vs GDA on two games without a pure Nash equilibrium.

Proximal training (Farnia & Ozdaglar 2020; docs/algorithms.md §2.2) lets the critic solve
``max_φ̃ V(θ, φ̃) − (λ/2)‖φ̃ − φ‖²`` from its anchor φ in K_in ascent steps, moves the
anchor, and steps the generator along ``∇_θV`` at the inner solution (Danskin). It is
played in the sequential env with the discriminator first. Expected (§8):

* NonRealizableGAN-v0 (T5): no pure Nash equilibrium — the Nash gap of every pure pair
  is ≥ 3/8. Proximal training converges to the minimax generator ``θ* = ±1/√2`` with
  ``ψ = (∓1/√2, 1/2)``; simultaneous GDA keeps oscillating. The Nash gap at that
  minimax pair is ``9/4 + √2 ≈ 3.66`` (the generator's best response to ψ* is a box
  end): a minimax point is not a small-Nash-gap point.
* NoNashQuadratic-v0 (T4): proximal training with λ = 1 converges to ``(0, 0)`` for a
  fast anchor (``anchor_rate ≥ 0.5``) and not for a slow one (0.05), although
  ``(0, 0)`` is a λ-proximal equilibrium only for λ ≤ 2/3: the proximal gap there is
  ``3 − 8/(2 + λ)`` = 1/3 at λ = 1 and 0 at λ = 0.5. GDA diverges to the box.

The proximal gap (Sidheekh et al. 2021) is computed with the λ of each run (env option
``prox_lambda``).

Run: ``python examples/proximal.py``
"""

from __future__ import annotations

from dataclasses import dataclass, field

import agents
import gangames
from agents.proximal import proximal
from agents.transforms import scale
from gangames.rules import Solver, rule_from


@dataclass(frozen=True)
class Args:
    """Settings of the comparison."""

    steps: int = 100
    """rounds (both seats moved) per match"""
    lr_gda: float = 0.1
    """step size of simultaneous GDA"""
    inner_steps: int = 20
    """K_in, the critic's proximal ascent steps per round"""
    inner_lr: float = 0.2
    """α, the critic's inner step (≤ 1/(L_φ + λ))"""
    inner_methods: tuple[str, ...] = ("gradient", "extragradient")
    """the critic's inner steps: the paper's gradient ascent, and extragradient"""
    lr_generator: float = 0.1
    """η_θ of the proximal generator"""
    runs: tuple[tuple[str, float, float], ...] = field(
        default=(
            ("gangames/NonRealizableGAN-v0", 0.5, 1.0),
            ("gangames/NonRealizableGAN-v0", 1.5, 1.0),
            ("gangames/NoNashQuadratic-v0", 0.5, 1.0),
            ("gangames/NoNashQuadratic-v0", 1.0, 1.0),
            ("gangames/NoNashQuadratic-v0", 1.0, 0.5),
            ("gangames/NoNashQuadratic-v0", 1.0, 0.05),
        )
    )
    """(game id, λ, anchor_rate) of each proximal run; GDA runs once per game"""
    batch: int = 4
    """instances played in lockstep (one seed each)"""
    seed: int = 0
    """first seed"""


def report(label: str, env, infos: list[dict]) -> None:
    """One line: final generator, gaps (mean over the batch), distance."""
    last = infos[-1]
    theta = env.match.state.theta[:, 0]
    print(
        f"{label:56s} θ≈±{theta.abs().mean():.4f}"
        f"  Nash gap {last['duality_gap'].mean():7.3f}"
        f"  prox gap {last['proximal_gap'].mean():7.3f}"
        f"  distance {last['distance'].max():9.2e}"
    )


def main(args: Args = Args()) -> None:
    """Play GDA once per game and proximal training per (game, λ, anchor_rate)."""
    seeds = list(range(args.seed, args.seed + args.batch))
    common = {"batch": args.batch, "dtype": "float64", "max_steps": args.steps}
    done_gda = set()
    for game, lam, rate in args.runs:
        if game not in done_gda:
            gd = rule_from(scale(-args.lr_gda), name="gd")
            env = gangames.make(game, prox_lambda=lam, **common)
            infos = agents.play(env, Solver(gd, gd, "gda"), seed=seeds)
            report(f"{game[9:]} GDA (prox gap at λ={lam})", env, infos)
            done_gda.add(game)
        env = gangames.make(
            game, order="sequential", first="discriminator", prox_lambda=lam, **common
        )
        for method in args.inner_methods:
            solver = proximal(
                lam,
                args.inner_steps,
                args.inner_lr,
                args.lr_generator,
                anchor_rate=rate,
                inner_method=method,
            )
            infos = agents.play(env, solver, seed=seeds)
            label = f"{game[9:]} proximal λ={lam} r={rate} {method}"
            report(label, env, infos)


if __name__ == "__main__":
    main()
