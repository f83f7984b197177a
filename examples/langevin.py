"""Mixed strategies: particle Langevin against gradient descent–ascent (docs/algorithms.md §4).

Two games with no pure equilibrium but a known mixed one (docs/algorithms.md §8):

* NonRealizableGAN-v0 (T5): a point-mass generator against a quadratic critic. Every
  pure pair has Nash gap ≥ 3/8, so pure GDA (and Mirror-GAN, which keeps one mean
  vector per seat) cannot go below 0.375; K Langevin particles per seat reach the
  mixed equilibrium (mean 0, second moment 1; critic at 0): NI gap → ≈ 0.
* CirclePursuit-v0 (T6): ``V = cos(θ − φ)``. A pure pair always has gap 2; noise-free
  particle GDA collapses each cloud to a point (NI → 2); Langevin particles stay
  spread (NI ≈ √(π/K), the level of i.i.d. uniform particles).

The gap printed is the env's ``duality_gap``: the pure Nash gap on the base game and
the Nikaidô–Isoda gap of the particle clouds on the lift ``particles=K``.

Run: ``python examples/langevin.py``
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import agents
import gangames
from agents.langevin import langevin, mirror_gan
from agents.transforms import scale
from gangames.rules import Solver, rule_from


@dataclass(frozen=True)
class Args:
    """Settings of the comparison (no command line: edit and rerun)."""

    particles: int = 64
    """K, particles per seat of the mixed lift"""
    seeds: int = 4
    """instances played in one batch"""
    seed: int = 0
    """root seed of the instances"""
    steps_gan: int = 300
    """rounds on NonRealizableGAN-v0"""
    lr_gan: float = 0.05
    """step size on NonRealizableGAN-v0"""
    temperature_gan: float = 1e-3
    """Langevin temperature τ on NonRealizableGAN-v0"""
    steps_circle: int = 250
    """rounds on CirclePursuit-v0"""
    lr_circle: float = 0.5
    """step size on CirclePursuit-v0"""
    temperature_circle: float = 0.3
    """Langevin temperature τ on CirclePursuit-v0"""


def gda(lr: float) -> Solver:
    """Simultaneous gradient descent–ascent: Δ = −lr · own-loss gradient."""
    rule = rule_from(scale(-lr), name="gda")
    return Solver(rule, rule, "gda")


def gaps(game_id: str, solver: Solver, steps: int, args: Args, **options) -> np.ndarray:
    """Duality gaps (rounds + 1, seeds) of one batched match."""
    env = gangames.make(game_id, batch=args.seeds, max_steps=steps, **options)
    infos = agents.play(env, solver, seed=args.seed)
    return np.array([np.asarray(i["duality_gap"]) for i in infos])


def report(name: str, g: np.ndarray) -> None:
    """Print the mean gap over seeds at five checkpoints and its late average."""
    marks = np.linspace(0, len(g) - 1, 5).astype(int)
    path = "  ".join(f"t={t}: {g[t].mean():.3f}" for t in marks)
    print(f"  {name:34s} {path}   late mean {g[-50:].mean():.3f}")


def main(args: Args = Args()) -> None:
    """Play each method on both games and print the gaps."""
    k = args.particles
    gan, circle = "gangames/NonRealizableGAN-v0", "gangames/CirclePursuit-v0"

    print(f"{gan}: pure gap ≥ 0.375 for every pure pair; mixed NE has NI = 0")
    lr, tau = args.lr_gan, args.temperature_gan
    report("GDA (pure)", gaps(gan, gda(lr), args.steps_gan, args))
    report("Mirror-GAN (pure mean)", gaps(gan, mirror_gan(lr), args.steps_gan, args))
    report(
        f"particle GDA, K={k}",
        gaps(gan, langevin(lr, 0.0), args.steps_gan, args, particles=k),
    )
    report(
        f"Langevin τ={tau}, K={k}",
        gaps(gan, langevin(lr, tau), args.steps_gan, args, particles=k),
    )

    print(
        f"\n{circle}: pure gap = 2; iid uniform clouds NI ≈ {math.sqrt(math.pi / k):.3f}"
    )
    lr, tau = args.lr_circle, args.temperature_circle
    report("GDA (pure)", gaps(circle, gda(lr), args.steps_circle, args))
    report(
        f"particle GDA, K={k}",
        gaps(circle, langevin(lr, 0.0), args.steps_circle, args, particles=k),
    )
    report(
        f"Langevin τ={tau}, K={k}",
        gaps(circle, langevin(lr, tau), args.steps_circle, args, particles=k),
    )


if __name__ == "__main__":
    main()
