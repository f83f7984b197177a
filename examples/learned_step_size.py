"""Learn a step-size controller for a GAN, then enter it in a tournament.

The controller is a PPO policy on the generator's single-agent view in ``step_size``
mode: every round it observes low-dimensional summaries (progress, loss, log gradient
norms per layer, …) and picks one log step-size multiplier per layer of the
generator, applied to Adam's direction. It trains against an Adam discriminator, is
saved, and enters a tournament (``gangames.tournament.run``) against GDA and Adam as
the ``sb3`` agent — the same controller then drives both seats (its features are
seat-relative).

Run::

    python examples/learned_step_size.py                       # MixtureGAN-v0
    python examples/learned_step_size.py --game gangames/DiracGAN-v0 --timesteps 4096

Without the tournament package (or without a registered ``gda``/``adam``) the example
falls back to playing each entrant itself on the same seeds and budget and printing
the mean final duality gap.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

import agents
import gangames
from gangames.training import evaluate, make_model, train
from gangames.wrappers import ControlConfig, GameView, base_rule, view_id


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--game", default="gangames/MixtureGAN-v0")
    p.add_argument("--timesteps", type=int, default=8192)
    p.add_argument("--max-steps", type=int, default=100)
    p.add_argument("--budget", type=float, default=200.0)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--out", default="runs/learned_step_size")
    p.add_argument("--lr", type=float, default=0.01, help="base step size")
    return p.parse_args()


def view_options(game: str, lr: float, max_steps: int) -> dict[str, Any]:
    layers = gangames.make_game(game).layouts()["generator"].names
    return {
        "mode": "step_size",
        "control": "layer" if len(layers) > 1 else "seat",
        "base": "adam",
        "base_lr": lr,
        "opponent": "adam",  # the registered Adam if there is one, else the built-in
        "opponent_kwargs": {"lr": lr},
        "max_steps": max_steps,
    }


def fallback_solver(entrant: dict[str, Any], lr: float) -> agents.Solver:
    """A registered agent, or the built-in direction of the same name."""
    name = entrant["name"]
    options = {k: v for k, v in entrant.items() if k != "name"}
    if name in agents.names():
        return agents.make(name, **options)
    direction = {"gda": "gradient", "adam": "adam"}[name]
    cfg = ControlConfig(base_lr=options.get("lr", lr))
    return agents.Solver(
        base_rule(direction, "generator", cfg),
        base_rule(direction, "discriminator", cfg),
        name,
    )


def main() -> None:
    args = parse()
    out = Path(args.out)
    options = view_options(args.game, args.lr, args.max_steps)
    result = train(
        view_id(args.game, "generator"),
        "ppo",
        total_timesteps=args.timesteps,
        out_dir=out / "controller",
        seed=0,
        progress_bar=True,
        env_kwargs=options,
        net_arch=(64, 64),
        algo_kwargs={"n_steps": 512, "batch_size": 128, "learning_rate": 1e-3},
    )
    print(f"controller saved to {result.path}")

    # the controller against the untrained one, on held-out seeds
    env = GameView(args.game, "generator", **options)
    untrained = make_model(gymnasium.make(view_id(args.game, "generator"), **options))
    held_out = range(1000, 1010)
    before = evaluate(env, untrained, held_out).mean()
    after = evaluate(env, result.model, held_out).mean()
    print(f"final generator reward: untrained {before:.4g}, trained {after:.4g}")

    entrants = [
        {"name": "sb3", "path": str(result.path)},
        {"name": "gda", "lr": args.lr},
        {"name": "adam", "lr": args.lr},
    ]
    config = {
        "games": [args.game],
        "entrants": entrants,
        "seeds": args.seeds,
        "budget": args.budget,
    }
    try:
        from gangames import tournament

        report = tournament.run(config, out / "tournament")
        print(report)
        return
    except ImportError:
        print("gangames.tournament is not installed: playing the entrants directly")
    for entrant in entrants:
        solver = fallback_solver(entrant, args.lr)
        env2 = gangames.make(
            args.game,
            batch=len(args.seeds),
            max_steps=args.max_steps,
            budget=args.budget,
        )
        infos = agents.play(env2, solver, seed=list(args.seeds))
        gap = np.asarray(infos[-1]["duality_gap"])
        print(
            f"{entrant['name']:>6}: final duality gap {gap.mean():.4g} ± {gap.std():.2g}"
        )


if __name__ == "__main__":
    main()
