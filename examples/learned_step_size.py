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

The tournament's report (leaderboard, CSV tables) is written under
``runs/learned_step_size/tournament/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gymnasium

import gangames
from gangames.registration import view_id
from gangames.tournament import TournamentConfig, run, write_report
from gangames.training import evaluate, make_model, train
from gangames.wrappers import GameView


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--game", default="gangames/MixtureGAN-v0")
    p.add_argument("--timesteps", type=int, default=8192)
    p.add_argument("--max-steps", type=int, default=100)
    p.add_argument("--budget", type=float, default=200.0)
    p.add_argument("--seeds", type=int, default=3, help="seeds per game")
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
        "opponent": "adam",  # the registered Adam agent
        "opponent_kwargs": {"lr": lr},
        "max_steps": max_steps,
    }


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
        progress="bar",
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

    # enter it in a tournament against GDA and Adam at an equal oracle budget
    config = TournamentConfig.from_dict(
        {
            "name": "learned step size vs GDA and Adam",
            "games": [{"id": args.game}],
            "entrants": [
                {"agent": "sb3", "hyperparameters": {"path": str(result.path)}},
                {"agent": "gda", "hyperparameters": {"lr": args.lr}},
                {"agent": "adam", "hyperparameters": {"lr": args.lr}},
            ],
            "seeds": args.seeds,
            "budget": args.budget,
            "modes": ["self_play"],
        }
    )
    run(config, out / "tournament", progress=True)
    print(write_report(out / "tournament", plots=False).leaderboard)


if __name__ == "__main__":
    main()
