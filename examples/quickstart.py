"""Quickstart: simultaneous gradient descent–ascent, written inline, on three games.

Each seat's observation carries the gradient of its own loss (the generator minimises
V, the discriminator minimises −V), so gradient descent–ascent is one line per seat:
``action = −lr · gradient``. The printed gaps follow docs/algorithms.md §8:

* Quadratic-v0 (strongly convex–concave): GDA converges, the gap goes to 0.
* Bilinear-v0 (V = θᵀAφ): GDA spirals out, the (restricted) gap grows.
* DiracGAN-v0 (Mescheder et al. 2018): GDA spirals out; with an R1 penalty it converges.

Run: ``python examples/quickstart.py``
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gangames


@dataclass(frozen=True)
class Args:
    """Command-line free settings of the quickstart."""

    steps: int = 200
    """rounds of simultaneous play"""
    lr: float = 0.1
    """step size of both seats"""
    seed: int = 0
    """root seed of the instances"""
    games: tuple[tuple[str, dict], ...] = field(
        default=(
            ("gangames/Quadratic-v0", {"dimension": 2}),
            ("gangames/Bilinear-v0", {"dimension": 2}),
            ("gangames/DiracGAN-v0", {}),
            ("gangames/DiracGAN-v0", {"penalty": "r1", "gamma": 1.0}),
        )
    )
    """(game id, game options) pairs to play"""


def play_gda(game_id: str, options: dict, args: Args) -> list[tuple[int, float]]:
    """Play simultaneous GDA for ``args.steps`` rounds; return (step, duality gap) pairs."""
    env = gangames.make(game_id, max_steps=args.steps, **options)
    obs, infos = env.reset(seed=args.seed)
    trace = [(0, infos["generator"]["duality_gap"])]
    while env.agents:
        actions = {seat: -args.lr * obs[seat]["gradient"] for seat in env.agents}
        obs, _rewards, _terminations, _truncations, infos = env.step(actions)
        step = infos["generator"]["step"]
        if step % 50 == 0 or not env.agents:
            trace.append((step, infos["generator"]["duality_gap"]))
    return trace


def main(args: Args = Args()) -> None:
    """Print the duality gap every 50 steps for every game."""
    for game_id, options in args.games:
        trace = play_gda(game_id, options, args)
        name = game_id + (f" {options}" if options else "")
        gaps = "  ".join(f"t={t}: {gap:.3g}" for t, gap in trace)
        print(f"{name:48s} {gaps}")


if __name__ == "__main__":
    main()
