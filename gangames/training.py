"""Train Stable-Baselines3 policies on single-agent views, alone or by self-play.

:func:`train` trains PPO or SAC on one view (:mod:`gangames.wrappers`) against a fixed
opponent; :func:`self_play` alternates: the generator trains against a pool of frozen
discriminator checkpoints, then the discriminator against a pool of generator
checkpoints, and so on. Both log with the SB3 logger (CSV in the output folder;
TensorBoard with ``tensorboard=True`` and the ``tensorboard`` extra installed), show a
progress bar on request (tqdm), and save policies as SB3 zips with the ``gangames.json``
description that :func:`agents.learned.load_policy` needs to rebuild them safely
(weights only, no unpickling). Load a result with ``agents.make("sb3", path=...)``.

Example (a few PPO updates; a useful policy needs thousands of timesteps):
    >>> import tempfile
    >>> from gangames.training import train
    >>> result = train(
    ...     "gangames/DiracGAN-generator-v0",
    ...     total_timesteps=128,
    ...     out_dir=tempfile.mkdtemp(),
    ...     env_kwargs={"opponent": "gradient", "max_steps": 16},
    ...     algo_kwargs={"n_steps": 64, "batch_size": 32, "n_epochs": 1},
    ... )
    >>> result.path.name
    'policy.zip'

The command line (``gangames train``) exposes the same through :func:`add_arguments`
and :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium
import numpy as np
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.monitor import Monitor

from agents.learned import (
    ACTIVATIONS,
    METADATA,
    activation_named,
    architecture_from_weights,
    architecture_of,
    check_architecture,
    read_weights,
    write_metadata,
)
from gangames import checks
from gangames.errors import InvalidConfigError, UnexpectedKeywordError
from gangames.registration import view_id
from gangames.tournament import progress as shown_progress
from gangames.types import SEATS, Seat, other
from gangames.wrappers import GameView

__all__ = [
    "SelfPlayResult",
    "TrainResult",
    "add_arguments",
    "add_metadata",
    "evaluate",
    "make_model",
    "run",
    "save_policy",
    "self_play",
    "train",
]


class TrainResult(NamedTuple):
    """What :func:`train` produced."""

    path: Path  # the saved policy (.zip)
    log_dir: Path  # the SB3 logger's folder (progress.csv, TensorBoard events)
    model: Any  # the trained SB3 model


class SelfPlayResult(NamedTuple):
    """What :func:`self_play` produced."""

    generator: Path  # the last generator policy
    discriminator: Path  # the last discriminator policy
    pool: dict[str, list[Path]]  # every checkpoint per seat, oldest first


def _algo_class(algo: str) -> Any:
    classes = {"ppo": PPO, "sac": SAC}
    if algo not in classes:
        raise InvalidConfigError(f"algo must be one of {sorted(classes)}, got {algo!r}")
    return classes[algo]


def _view(env: Any) -> GameView:
    view = env.unwrapped if isinstance(env, gymnasium.Env) else env
    if not isinstance(view, GameView):
        raise InvalidConfigError(
            f"training needs a gangames view (e.g. 'gangames/DiracGAN-generator-v0'), "
            f"got {type(view).__name__}"
        )
    return view


def _logger(log_dir: Path, tensorboard: bool, verbose: int) -> Any:
    formats = ["csv"]
    if tensorboard:
        try:
            import tensorboard as _tb  # noqa: F401
        except ImportError:
            raise InvalidConfigError(
                "tensorboard=True needs the 'tensorboard' extra: "
                "pip install 'gangames[tensorboard]'"
            ) from None
        formats.append("tensorboard")
    if verbose:
        formats.append("stdout")
    return configure(str(log_dir), formats)


def _progress_callback(total: int, description: str, mode: str) -> Any:
    """Training progress as an SB3 callback: a bar or lines, as ``mode`` says.

    The modes are the tournament's (:mod:`gangames.tournament.progress`); SB3's own
    bar needs ``rich`` and has no line mode for logs.
    """
    if mode not in shown_progress.MODES:  # refused before training starts
        raise InvalidConfigError(
            f"progress must be one of {shown_progress.MODES}, got {mode!r}"
        )

    class Progress(BaseCallback):
        def _on_training_start(self) -> None:
            self.shown = shown_progress.tracker(total, description, mode, unit="step")

        def _on_step(self) -> bool:
            for _ in range(self.training_env.num_envs):
                self.shown.update()
            return True

        def _on_training_end(self) -> None:
            self.shown.close()

    return Progress()


def make_model(
    env: gymnasium.Env,
    algo: str = "ppo",
    *,
    seed: int = 0,
    net_arch: Sequence[int] = (64, 64),
    activation: str = "tanh",
    algo_kwargs: Mapping[str, Any] | None = None,
    device: str = "cpu",
) -> Any:
    """An untrained SB3 model on a view, with an architecture the loader knows.

    Args:
        env: a view made with ``gymnasium.make`` (or a :class:`GameView`).
        algo: ``"ppo"`` or ``"sac"``.
        seed: seeds the model (network initialisation, exploration) and the env.
        net_arch: hidden-layer widths of the policy (and value/critic) MLPs.
        activation: one of :data:`agents.learned.ACTIVATIONS`.
        algo_kwargs: further arguments of the algorithm (``n_steps``, ``learning_rate``,
            …); ``policy_kwargs`` is refused (the architecture must be loadable).
        device: torch device of the networks.
    """
    _view(env)
    arch = check_architecture(
        algo, {"net_arch": list(net_arch), "activation": activation}
    )
    kwargs = dict(algo_kwargs or {})
    if "policy_kwargs" in kwargs or "policy" in kwargs:
        raise InvalidConfigError(
            "set the architecture with net_arch= and activation=, not policy_kwargs "
            "(saved policies are rebuilt from a registry of known architectures)"
        )
    cls = _algo_class(algo)
    policy_kwargs = {
        "net_arch": arch["net_arch"],
        "activation_fn": ACTIVATIONS[activation],
    }
    try:
        return cls(
            "MlpPolicy",
            Monitor(env),
            seed=seed,
            device=device,
            policy_kwargs=policy_kwargs,
            verbose=0,
            **kwargs,
        )
    except TypeError as err:
        raise InvalidConfigError(f"{algo}: {err}") from None


def save_policy(model: Any, view: Any, path: str | Path, **training: Any) -> Path:
    """Save ``model`` as an SB3 zip with its ``gangames.json`` description.

    Works for any PPO, A2C or SAC model with an MLP policy trained on a view, with
    SB3's default ``policy_kwargs`` or explicit ones: the architecture is read from
    the policy itself.

    Args:
        model: the trained SB3 model.
        view: the view it was trained on (``gymnasium.make`` of a view id, wrapped or
            not, or the :class:`~gangames.wrappers.GameView`).
        path: the ``.zip`` to write (replaced if it exists).
        **training: provenance recorded in the description (never read back).
    """
    path = Path(path)
    algo, arch = architecture_of(model.policy)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()  # write_metadata appends to a fresh archive
    model.save(path)
    write_metadata(path, _description(algo, arch, _view(view), training))
    return path


def add_metadata(path: str | Path, view: Any, **training: Any) -> Path:
    """Describe a zip saved by plain SB3 (``model.save``) so that gangames can load it.

    ``agents.make("sb3", path=…)`` infers the description of such a zip where the
    view's default control options were used (:func:`agents.learned.infer_metadata`);
    this call records it exactly, for any control options: the architecture comes
    from the zip's weights (read as tensors only, never unpickled), the control options
    and sizes from ``view``, which must be the view the policy was trained on (its
    spaces are checked against the weights).

    Args:
        path: the zip written by ``model.save``; ``gangames.json`` is added to it.
        view: the view (``gymnasium.make("gangames/…-generator-v0", **options)``).
        **training: provenance recorded in the description (never read back).

    Returns:
        ``path``.

    Raises:
        InvalidConfigError: the zip already has a description, is no SB3 MLP policy, or
            does not fit the view.
    """
    path = Path(path)
    game_view = _view(view)
    state, data = _read_sb3(path)
    named = data.get("policy_kwargs", {}).get("activation_fn") if data else None
    try:
        algo, arch, obs_dim, act_dim = architecture_from_weights(
            state, activation_named(named)
        )
    except InvalidConfigError as err:
        raise InvalidConfigError(f"{path}: {err}") from None
    expected = (game_view.controller.observation_dim, game_view.controller.action_dim)
    if (obs_dim, act_dim) != expected:
        raise InvalidConfigError(
            f"{path}: the policy maps {obs_dim} features to {act_dim} actions, the "
            f"view {game_view.game_id} ({game_view.seat}) has {expected[0]} and "
            f"{expected[1]}"
        )
    write_metadata(path, _description(algo, arch, game_view, training))
    return path


def _read_sb3(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The weights (tensors only) and the readable ``data`` JSON of an SB3 zip."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if METADATA in names:
                raise InvalidConfigError(f"{path}: already has a {METADATA} entry")
            if "policy.pth" not in names:
                raise InvalidConfigError(f"{path}: no policy.pth: not an SB3 zip")
            weights = archive.read("policy.pth")
            data = json.loads(archive.read("data")) if "data" in names else {}
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        if isinstance(err, InvalidConfigError):
            raise
        raise InvalidConfigError(f"{path}: not a readable zip ({err})") from None
    return read_weights(path, weights), data if isinstance(data, dict) else {}


def _description(
    algo: str, arch: dict[str, Any], view: GameView, training: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "algo": algo,
        "policy": arch,
        "view": view.metadata_json(),
        # provenance only (never read back to build anything)
        "training": json.loads(json.dumps(dict(training), default=repr)),
    }


def train(
    env_id: str,
    algo: str = "ppo",
    total_timesteps: int = 10_000,
    out_dir: str | Path = "runs/train",
    seed: int = 0,
    progress: str = "none",
    tensorboard: bool = False,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    net_arch: Sequence[int] = (64, 64),
    activation: str = "tanh",
    algo_kwargs: Mapping[str, Any] | None = None,
    device: str = "cpu",
    verbose: int = 0,
    name: str = "policy",
) -> TrainResult:
    """Train PPO or SAC on a view against a fixed opponent and save the policy.

    Args:
        env_id: a view id, e.g. ``"gangames/DiracGAN-generator-v0"``.
        algo: ``"ppo"`` or ``"sac"``.
        total_timesteps: environment steps (rounds) to train for.
        out_dir: receives ``<name>.zip``, ``progress.csv`` (and TensorBoard events).
        seed: seeds the model and the env's episodes.
        progress: ``"none"``, ``"bar"``, ``"lines"`` (a line per tenth of the steps,
            for logs) or ``"auto"`` (a bar on a terminal, else lines).
        tensorboard: also log TensorBoard events (needs the ``tensorboard`` extra).
        env_kwargs: options of the view (``opponent``, ``opponent_kwargs``, ``mode``,
            ``max_steps``, game options, …).
        net_arch: hidden-layer widths.
        activation: activation function name.
        algo_kwargs: further arguments of the algorithm.
        device: torch device of the networks.
        verbose: 1 also logs to stdout.
        name: file name of the saved policy (without ``.zip``).

    Returns:
        The saved policy's path, the log folder and the model.
    """
    checks.positive("total_timesteps", total_timesteps, integer=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = gymnasium.make(env_id, **dict(env_kwargs or {}))
    view = _view(env)
    model = make_model(
        env,
        algo,
        seed=seed,
        net_arch=net_arch,
        activation=activation,
        algo_kwargs=algo_kwargs,
        device=device,
    )
    model.set_logger(_logger(out, tensorboard, verbose))
    callback = _progress_callback(total_timesteps, env_id, progress)
    model.learn(total_timesteps, callback=callback)
    model.logger.close()  # flush and close progress.csv (and the TensorBoard writer)
    path = save_policy(
        model,
        view,
        out / f"{name}.zip",
        env_id=env_id,
        env_kwargs=dict(env_kwargs or {}),
        total_timesteps=total_timesteps,
        seed=seed,
    )
    return TrainResult(path, out, model)


def self_play(
    game_id: str,
    algo: str = "ppo",
    rounds: int = 4,
    steps_per_round: int = 2048,
    out_dir: str | Path = "runs/self_play",
    seed: int = 0,
    pool_size: int = 5,
    progress: str = "none",
    tensorboard: bool = False,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    generator_kwargs: Mapping[str, Any] | None = None,
    discriminator_kwargs: Mapping[str, Any] | None = None,
    net_arch: Sequence[int] = (64, 64),
    activation: str = "tanh",
    algo_kwargs: Mapping[str, Any] | None = None,
    device: str = "cpu",
) -> SelfPlayResult:
    """Alternating self-play with a pool of past checkpoints.

    Round 0 saves both untrained policies. In round ``r ≥ 1`` the generator trains for
    ``steps_per_round`` steps against the frozen discriminator checkpoints (the last
    ``pool_size`` of them; each episode draws one uniformly with the env's seeded
    generator), is saved as ``generator-r.zip``, and the discriminator then trains
    against the generator pool and is saved as ``discriminator-r.zip``. Sampling past
    checkpoints, not just the latest, keeps a seat from over-fitting its current
    opponent and cycling (fictitious self-play, Heinrich et al., 2015; the opponent
    pools of OpenAI Five and AlphaStar).

    Args:
        game_id: a registered game id, e.g. ``"gangames/DiracGAN-v0"``.
        algo: ``"ppo"`` or ``"sac"``.
        rounds: training rounds per seat.
        steps_per_round: environment steps per seat and round.
        out_dir: receives ``pool/<seat>-<r>.zip`` and a log folder per seat.
        seed: seeds the models and the episodes.
        pool_size: how many of the latest checkpoints the opponent is drawn from.
        progress: how each training phase shows progress (as in :func:`train`).
        tensorboard: also log TensorBoard events.
        env_kwargs: view options shared by both seats (``mode``, ``max_steps``, …;
            not ``opponent``).
        generator_kwargs: view options of the generator only.
        discriminator_kwargs: view options of the discriminator only.
        net_arch: hidden-layer widths.
        activation: activation function name.
        algo_kwargs: further arguments of the algorithm.
        device: torch device of the networks.

    Returns:
        The last policy of each seat and every checkpoint.
    """
    for label, value in (
        ("rounds", rounds),
        ("steps_per_round", steps_per_round),
        ("pool_size", pool_size),
    ):
        checks.positive(label, value, integer=True)
    shared = dict(env_kwargs or {})
    if "opponent" in shared:
        raise InvalidConfigError(
            "self-play chooses the opponents itself; remove 'opponent'"
        )
    out = Path(out_dir)
    views: dict[Seat, GameView] = {}
    models: dict[Seat, Any] = {}
    pool: dict[str, list[Path]] = {seat: [] for seat in SEATS}
    per_seat = {"generator": generator_kwargs, "discriminator": discriminator_kwargs}
    for i, seat in enumerate(SEATS):
        env = gymnasium.make(view_id(game_id, seat), **shared, **(per_seat[seat] or {}))
        views[seat] = _view(env)
        models[seat] = make_model(
            env,
            algo,
            seed=seed + i,
            net_arch=net_arch,
            activation=activation,
            algo_kwargs=algo_kwargs,
            device=device,
        )
        models[seat].set_logger(_logger(out / seat, tensorboard, 0))
        pool[seat].append(
            save_policy(models[seat], views[seat], out / "pool" / f"{seat}-0.zip")
        )
    for r in range(1, rounds + 1):
        for seat in SEATS:
            opponents = [str(p) for p in pool[other(seat)][-pool_size:]]
            views[seat].set_opponents(opponents)
            callback = _progress_callback(
                steps_per_round, f"round {r} {seat}", progress
            )
            models[seat].learn(
                steps_per_round, callback=callback, reset_num_timesteps=False
            )
            pool[seat].append(
                save_policy(
                    models[seat],
                    views[seat],
                    out / "pool" / f"{seat}-{r}.zip",
                    game_id=game_id,
                    round=r,
                    opponents=opponents,
                    seed=seed,
                )
            )
    for model in models.values():
        model.logger.close()
    return SelfPlayResult(pool["generator"][-1], pool["discriminator"][-1], pool)


# ---- command line ------------------------------------------------------------------
def _json_dict(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise argparse.ArgumentTypeError(f"not JSON: {err}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return value


def _widths(text: str) -> list[int]:
    try:
        return [int(w) for w in text.split(",") if w.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated widths such as 64,64, got {text!r}"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``gangames train`` to ``parser``."""
    parser.add_argument(
        "env_id",
        help="a view id (gangames/DiracGAN-generator-v0), or a game id with --self-play",
    )
    parser.add_argument(
        "--algo", choices=["ppo", "sac"], default="ppo", help="SB3 algorithm"
    )
    parser.add_argument(
        "--timesteps",
        type=int,
        default=10_000,
        help="steps (per seat and round in self-play)",
    )
    parser.add_argument("--out", default="runs/train", help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument(
        "--opponent", default=None, help="agent name or saved policy of the other seat"
    )
    parser.add_argument(
        "--opponent-kwargs",
        type=_json_dict,
        default=None,
        metavar="JSON",
        help="the opponent agent's hyperparameters",
    )
    parser.add_argument(
        "--mode",
        choices=["update", "step_size", "mix"],
        default=None,
        help="what the policy controls (default: the view's, update)",
    )
    parser.add_argument(
        "--max-steps", type=int, default=None, help="rounds per episode"
    )
    parser.add_argument(
        "--env-kwargs",
        type=_json_dict,
        default=None,
        metavar="JSON",
        help='further view and game options, e.g. \'{"base": "adam"}\'',
    )
    parser.add_argument(
        "--algo-kwargs",
        type=_json_dict,
        default=None,
        metavar="JSON",
        help="further arguments of the SB3 algorithm",
    )
    parser.add_argument(
        "--net-arch",
        type=_widths,
        default=[64, 64],
        metavar="W,W,…",
        help="hidden layer widths",
    )
    parser.add_argument(
        "--activation", default="tanh", help="activation of the hidden layers"
    )
    parser.add_argument("--device", default="cpu", help="torch device of the policy")
    parser.add_argument("--self-play", action="store_true", help="alternate both seats")
    parser.add_argument("--rounds", type=int, default=4, help="self-play rounds")
    parser.add_argument("--pool-size", type=int, default=5, help="self-play pool")
    parser.add_argument(
        "--tensorboard", action="store_true", help="write TensorBoard logs"
    )
    shown_progress.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``gangames train`` with parsed arguments; returns the exit code."""
    env_kwargs = dict(args.env_kwargs or {})
    for key in ("mode", "max_steps"):
        if getattr(args, key) is not None:
            env_kwargs[key] = getattr(args, key)
    common: dict[str, Any] = {  # what both training modes take alike
        "out_dir": args.out,
        "seed": args.seed,
        "progress": args.progress,
        "tensorboard": args.tensorboard,
        "env_kwargs": env_kwargs,
        "net_arch": args.net_arch,
        "activation": args.activation,
        "algo_kwargs": args.algo_kwargs,
        "device": args.device,
    }
    try:
        if args.self_play:
            if args.opponent is not None:
                raise InvalidConfigError("--opponent cannot be used with --self-play")
            result = self_play(
                args.env_id,
                args.algo,
                rounds=args.rounds,
                steps_per_round=args.timesteps,
                pool_size=args.pool_size,
                **common,
            )
            print(f"generator: {result.generator}")
            print(f"discriminator: {result.discriminator}")
            return 0
        if args.opponent is not None:
            env_kwargs["opponent"] = args.opponent
        if args.opponent_kwargs is not None:
            env_kwargs["opponent_kwargs"] = args.opponent_kwargs
        trained = train(
            args.env_id, args.algo, total_timesteps=args.timesteps, **common
        )
    except (ValueError, UnexpectedKeywordError, gymnasium.error.Error) as err:
        print(f"gangames train: error: {err}", file=sys.stderr)
        return 2
    print(f"saved {trained.path} (logs in {trained.log_dir})")
    return 0


def evaluate(env: GameView, policy: Any, seeds: Sequence[int]) -> np.ndarray:
    """The last-round reward of one deterministic episode per seed.

    Args:
        env: the view (its opponent and options fixed).
        policy: an SB3 model (its deterministic ``predict``) or a callable
            ``observation -> action``.
        seeds: one episode per seed.

    Returns:
        The final rewards, shape ``(len(seeds),)``.
    """
    if hasattr(policy, "predict"):
        model = policy

        def policy(obs: np.ndarray) -> np.ndarray:
            return model.predict(obs, deterministic=True)[0]

    finals = []
    for s in seeds:
        obs, _ = env.reset(seed=s)
        done, reward = False, 0.0
        while not done:
            obs, reward, term, trunc, _ = env.step(policy(obs))
            done = term or trunc
        finals.append(reward)
    return np.asarray(finals)
