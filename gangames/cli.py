"""The ``gangames`` command.

Subcommands:

* ``gangames list`` — registered games and agents;
* ``gangames play GAME AGENT`` — one match, printing the duality gap as it goes;
* ``gangames tournament CONFIG.toml --out DIR [--workers N] [--backend …] [--resume]``
  — play a tournament, print the Markdown leaderboard, write the report (or build the
  config from flags: ``--game gangames/Bilinear-v0,dimension=4 --agent gda,lr=0.1
  --agent extragradient --budget 200``);
* ``gangames report DIR`` — (re)write the report of a finished or partial tournament;
* ``gangames train …`` — train a Stable-Baselines3 policy for a seat
  (:mod:`gangames.training`).

Bad input exits with status 2 and a one-line message, never a traceback: the
``ValueError`` subclasses of :mod:`gangames.errors` name the field; an output folder
that cannot be used and a file that is not a results store are named the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import agents
import gangames
from gangames import checks, training
from gangames.errors import InvalidConfigError, UnexpectedKeywordError
from gangames.tournament import (
    Match,
    TournamentConfig,
    load_config,
    progress,
    run,
    write_report,
)
from gangames.tournament.match import play_match, score

__all__ = ["build_parser", "main"]


def _hyperparameters(pairs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _entry(text: str, name: str, options: str) -> dict[str, Any]:
    """``"NAME,key=value,…"`` → ``{name: NAME, options: {key: value}}``."""
    head, *pairs = text.split(",")
    return {name: head, options: _hyperparameters(pairs)}


def cmd_list(args: argparse.Namespace) -> int:
    """Print the registered games and agents."""
    print("games:")
    for name in gangames.names():
        print(f"  {name}")
    print("agents:")
    for name in agents.names():
        print(f"  {name}")
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    """Play one match under the game's preset and print its metric against cost."""
    checks.positive("--lines", args.lines, integer=True)
    game: dict[str, Any] = {"id": args.game, "options": _hyperparameters(args.option)}
    if args.budget is not None:
        game["budget"] = args.budget
    config = TournamentConfig.from_dict(
        {
            "games": [game],
            "entrants": [{"agent": args.agent, "label": "agent"}],
            "seeds": 1,
            "batch": args.batch,
            "device": args.device,
        }
    )
    label = config.games[0].label
    hp = {"generator": _hyperparameters(args.hp)}
    hp["discriminator"] = hp["generator"]
    match = Match(
        "play", "self_play", label, "agent", "agent", 0, args.seed, "defaults",
        json.dumps(hp),
    )  # fmt: skip
    preset = config.preset(label)
    env, infos = play_match(config, match)
    metrics, calls, curve = score(infos, preset.target, env.gap_estimator)
    every = max(1, len(calls) // args.lines)
    key = metrics["curve"]
    print(f"{preset.label}; target {preset.target}; budget {preset.budget:g}")
    print(f"{'oracle calls':>12}  {key} (mean over {curve.shape[1]} instances)")
    for t in sorted({*range(0, len(calls), every), len(calls) - 1}):
        print(f"{calls[t]:>12g}  {np.mean(curve[t]):.6g}")
    div = sum(metrics["diverged"])
    cost = np.asarray(metrics["cost_to_target"])
    reached = np.isfinite(cost)
    print(
        f"final {key}: {np.mean(metrics['final_metric']):.6g}; reached the target "
        f"{reached.sum()}/{cost.size}"
        + (f" (median cost {np.median(cost[reached]):g})" if reached.any() else "")
        + f"; diverged {div}/{cost.size}; gap estimator: {metrics['gap_estimator']}"
    )
    return 0


def cmd_tournament(args: argparse.Namespace) -> int:
    """Play a tournament, print the leaderboard, write the report."""
    checks.positive("--workers", args.workers, integer=True)
    _output_folder(args.out)
    overrides: dict[str, Any] = {
        "seeds": args.seeds,
        "batch": args.batch,
        "budget": args.budget,
        "root_seed": args.root_seed,
        "timeout": args.timeout,
        "modes": args.modes,
        "rulesets": args.rulesets,
        "trials": args.trials,
    }
    if args.game:
        overrides["games"] = [_entry(g, "id", "options") for g in args.game]
    if args.agent:
        overrides["entrants"] = [
            _entry(a, "agent", "hyperparameters") for a in args.agent
        ]
    if args.config is None:
        if not (args.game and args.agent):
            raise ValueError("give a TOML config, or both --game and --agent flags")
        config = TournamentConfig.from_dict(
            {k: v for k, v in overrides.items() if v is not None}
        )
    else:
        config = load_config(args.config, **overrides)
    summary = run(
        config,
        args.out,
        workers=args.workers,
        backend=args.backend,
        resume=args.resume,
        address=args.address,
        progress=args.progress,
    )
    report = write_report(args.out, plots=not args.no_plots, progress=args.progress)
    print(report.leaderboard)
    print(
        f"played {summary.played} of {summary.scheduled} matches "
        f"({summary.skipped} already recorded); results: {summary.store}; "
        f"report: {report.files[0].parent if report.files else args.out}"
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Rewrite the report of a tournament folder."""
    _output_folder(args.out)
    report = write_report(args.out, plots=not args.no_plots, progress=args.progress)
    print(report.leaderboard)
    for path in report.files:
        print(path)
    return 0


def _output_folder(path: str) -> None:
    """Refuse an output folder that is a file or cannot be written, naming it."""
    out = Path(path)
    existing = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    if not existing.is_dir():
        raise InvalidConfigError(
            f"--out must be a folder, got {path!r} ({str(existing)!r} is a file)"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InvalidConfigError(
            f"--out must be a writable folder, got {path!r} ({str(existing)!r} is "
            "not writable)"
        )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="gangames",
        description="GAN min-max problems as games and min-max solvers as agents: "
        "list them, play a match, run a tournament, write its report, train a policy.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {gangames.__version__}"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="registered games and agents")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser(
        "play", help="one match under the game's preset; prints its metric vs cost"
    )
    p.add_argument("game", help="registered game id, e.g. gangames/DiracGAN-v0")
    p.add_argument("agent", help="registered agent name, e.g. extragradient")
    p.add_argument(
        "--hp", nargs="*", default=[], metavar="KEY=VALUE", help="hyperparameters"
    )
    p.add_argument(
        "--option",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="game fields and env options (reward, prox_lambda, particles, …)",
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        help="oracle budget per seat (default: the game's preset)",
    )
    p.add_argument("--batch", type=int, default=8, help="instances played in lockstep")
    p.add_argument("--seed", type=int, default=0, help="the match's seed")
    p.add_argument("--device", default="cpu", help="torch device of the match")
    p.add_argument("--lines", type=int, default=10, help="rows of the printed curve")
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("tournament", help="play a tournament from a TOML config")
    p.add_argument(
        "config", nargs="?", default=None, help="TOML config (see configs/main.toml)"
    )
    p.add_argument(
        "--game",
        action="append",
        metavar="ID[,KEY=VALUE…]",
        help="a game (repeatable; replaces the config's games)",
    )
    p.add_argument(
        "--agent",
        action="append",
        metavar="NAME[,KEY=VALUE…]",
        help="an entrant (repeatable; replaces the config's entrants)",
    )
    p.add_argument(
        "--modes",
        nargs="+",
        default=None,
        choices=("self_play", "cross_play"),
        help="override: pairings played",
    )
    p.add_argument(
        "--rulesets",
        nargs="+",
        default=None,
        choices=("defaults", "tuned"),
        help="override: rulesets compared",
    )
    p.add_argument(
        "--trials", type=int, default=None, help="override: trials per entrant and game"
    )
    p.add_argument("--out", default="runs/tournament", help="output folder")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (every match runs isolated in one, even with 1)",
    )
    p.add_argument(
        "--backend",
        choices=("sequential", "processes", "ray"),
        default=None,
        help="where matches run (default: processes)",
    )
    p.add_argument("--address", default=None, help="Ray cluster address")
    p.add_argument("--resume", action="store_true", help="complete an interrupted run")
    p.add_argument("--seeds", type=int, default=None, help="override: seeds per game")
    p.add_argument(
        "--batch", type=int, default=None, help="override: instances per match"
    )
    p.add_argument("--budget", type=float, default=None, help="override: oracle budget")
    p.add_argument("--root-seed", type=int, default=None, help="override: root seed")
    p.add_argument(
        "--timeout", type=float, default=None, help="override: seconds per match"
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    progress.add_arguments(p)
    p.set_defaults(func=cmd_tournament)

    p = sub.add_parser("report", help="(re)write the report of a tournament folder")
    p.add_argument("out", help="the tournament's output folder")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    progress.add_arguments(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("train", help="train a learned agent (PPO or SAC) for a seat")
    training.add_arguments(p)
    p.set_defaults(func=training.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gangames`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, UnexpectedKeywordError, OSError) as err:  # gangames.errors
        print(f"gangames {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
