"""Playing one scheduled match and turning its trajectory into a result record.

:func:`execute` is what every backend runs (in this process, a worker process or a Ray
worker): it builds the env and the solver from registry names, plays until a seat's
oracle budget is spent, and scores the match. It never raises: an agent that raises is
recorded as ``agent_error`` (with a short traceback), one that runs past the per-match
timeout as ``timeout``, a match whose instances diverged as ``diverged``. (A worker
that dies is recorded as ``worker_crashed`` by the backend that watched it.)

Scores per instance, under the game's benchmark preset (:mod:`gangames.concepts`): its
target's headline metric (the Nash gap, the proximal gap at λ, the mixed gap of the
K-particle clouds, or a sample-quality metric) is read from every round's infos that
carry it, and

* ``cost_to_target`` — oracle gradient-equivalents per seat (of the base game) spent
  when every condition of the target first holds (``inf`` if never). A gap that is
  only an estimate (a lower bound: ``infos["gap_lower_bound"]``) never counts as
  reaching a target;
* ``initial_metric`` / ``final_metric`` — the headline metric at the start and at the
  end, and ``best_metric`` its best value over the match;
* ``progress`` — how far toward the target the run got, in ``[0, 1]`` (1 = reached at
  some round); otherwise, at the end: for a metric to lower, ``log(initial/final) / log(initial/target)``; for one to raise,
  the smallest ratio value/threshold over the target's conditions; 0 if diverged;
* ``auc`` — the mean of the headline metric over the budget (area under the
  metric-vs-oracle-calls curve, trapezoid rule, divided by the calls);
* ``diverged`` — the env's divergence flags; plus ``final_<metric>`` for every metric the
  game reports (value, exploitabilities, proximal gap, distance, quality, and for games
  without a closed-form gap the budgeted estimate ``final_estimated_gap``).

A tuning match (:mod:`~gangames.tournament.schedule`) plays a group of trials as one
batched match: its score lists hold ``len(trials) × batch`` rows, trial-major.

Move order. A self-play solver plays the env of its own order (``sequential`` solvers the
AEC env with their ``first`` mover). In cross-play, the pairing is sequential if either
rule's entrant is; the first mover is then the generator entrant's ``first`` if that
entrant is sequential, else the discriminator entrant's — deterministic, and the rule
that was built for an order gets it whenever only one of them was.
"""

from __future__ import annotations

import contextlib
import math
import platform
import signal
import threading
import time
import traceback
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

import agents
import gangames
from gangames import metrics as gap_metrics
from gangames.concepts import Target
from gangames.errors import InvalidConfigError
from gangames.estimators import estimate_gaps
from gangames.random import derive_seeds
from gangames.rules import Solver
from gangames.tournament.config import TournamentConfig
from gangames.tournament.schedule import Match
from gangames.types import SEATS

__all__ = [
    "STATUSES",
    "MatchTimeoutError",
    "decode_trajectory",
    "encode_trajectory",
    "execute",
    "failure",
    "versions",
]

STATUSES = ("ok", "diverged", "agent_error", "timeout", "worker_crashed")
RETRIED = frozenset({"agent_error", "timeout", "worker_crashed"})
_TRACEBACK_CHARS = 2000


class MatchTimeoutError(Exception):
    """A match ran past the tournament's per-match timeout."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`MatchTimeoutError` in this thread after ``seconds`` (POSIX main thread).

    Elsewhere (another thread, Windows) it does nothing; the process backend's hard
    kill still enforces the timeout.
    """
    usable = (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def fire(signum: int, frame: Any) -> None:
        raise MatchTimeoutError(f"match ran past the timeout of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def versions() -> dict[str, str]:
    """Versions of the packages that decide a match's numbers."""
    return {
        "gangames": gangames.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def encode_trajectory(calls: np.ndarray, curve: np.ndarray) -> bytes:
    """``(T,)`` calls and ``(T, B)`` curve → zlib-compressed float32 ``(T, 1 + B)``."""
    table = np.concatenate([calls[:, None], curve], axis=1).astype("<f4")
    header = np.array(table.shape, dtype="<u4").tobytes()
    return zlib.compress(header + table.tobytes(), 6)


def decode_trajectory(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`encode_trajectory`: ``(calls (T,), curve (T, B))``."""
    raw = zlib.decompress(blob)
    shape = tuple(int(x) for x in np.frombuffer(raw[:8], dtype="<u4"))
    table = np.frombuffer(raw[8:], dtype="<f4").reshape(shape)
    return table[:, 0].astype(np.float64), table[:, 1:].astype(np.float64)


def _record(
    match: Match,
    status: str,
    wall_s: float,
    *,
    error: str = "",
    metrics: dict[str, Any] | None = None,
    trajectory: bytes | None = None,
    device: str = "",
) -> dict[str, Any]:
    """A store record of ``match``: its identity, outcome and the package versions."""
    return {
        **match._asdict(),
        "status": status,
        "error": error[-_TRACEBACK_CHARS:],
        "metrics": metrics or {},
        "trajectory": trajectory,
        "versions": versions(),
        "device": device,
        "wall_s": wall_s,
    }


def failure(
    match: Match, status: str, error: str, wall_s: float = 0.0
) -> dict[str, Any]:
    """The record of a match that produced no scores."""
    return _record(match, status, wall_s, error=error)


def execute(config: TournamentConfig, match: Match) -> dict[str, Any]:
    """Play ``match`` and return its record (never raises for agent faults)."""
    start = time.perf_counter()
    try:
        with deadline(config.timeout):
            metrics, blob, device = _play(config, match)
    except MatchTimeoutError as err:
        return failure(
            match, "timeout", _short_traceback(err), time.perf_counter() - start
        )
    except Exception as err:
        return failure(
            match, "agent_error", _short_traceback(err), time.perf_counter() - start
        )
    status = "diverged" if any(metrics["diverged"]) else "ok"
    return _record(
        match,
        status,
        time.perf_counter() - start,
        metrics=metrics,
        trajectory=blob,
        device=device,
    )


def _short_traceback(err: BaseException) -> str:
    lines = traceback.format_exception(type(err), err, err.__traceback__)
    return "".join(lines[-6:])[-_TRACEBACK_CHARS:]


def _rules(config: TournamentConfig, match: Match) -> tuple[Solver, Solver]:
    """The generator entrant's and the discriminator entrant's solvers."""
    if match.mode == "tuning":
        entrant = config.entrant(match.generator)
        setting = match.setting()
        (group,) = agents.sweep(
            entrant.agent,
            setting["values"],
            instances=config.batch,
            device=config.device,
            dtype=config.dtype,
        )
        return group.solver, group.solver
    setting = match.setting()
    a, b = config.entrant(match.generator), config.entrant(match.discriminator)
    gen = agents.make(a.agent, **setting.get("generator", a.hyperparameters))
    if match.generator == match.discriminator:
        return gen, gen
    dis = agents.make(b.agent, **setting.get("discriminator", b.hyperparameters))
    return gen, dis


def build_solver(config: TournamentConfig, match: Match) -> Any:
    """The match's solver and its env order: ``(solver, order, first)``."""
    gen, dis = _rules(config, match)
    if gen is dis:
        return gen, gen.order, gen.first
    if gen.order == "sequential":
        order, first = "sequential", gen.first
    elif dis.order == "sequential":
        order, first = "sequential", dis.first
    else:
        order, first = "simultaneous", "generator"
    solver = Solver(
        generator=gen.generator,
        discriminator=dis.discriminator,
        name=f"{gen.name}|{dis.name}",
        order=order,
        first=first,
    )
    return solver, order, first


def rows(config: TournamentConfig, match: Match) -> int:
    """Instances the match plays: ``batch``, times the trials of a tuning match."""
    if match.mode == "tuning":
        return config.batch * len(match.setting()["trials"])
    return config.batch


def make_env(
    config: TournamentConfig,
    match: Match,
    solver: Any,
    render_mode: str | None = None,
) -> Any:
    """The match's env, in ``solver``'s move order (:func:`agents.env_for`).

    Its options are the game's preset options (reward, prox_lambda, particles, game
    fields); the budget ends it (``max_steps`` only bounds it from above).
    """
    g = config.game(match.game)
    preset = config.preset(match.game)
    # Every round charges at least one gradient to each seat (its observation), so
    # ceil(budget) + 1 rounds always reach the budget: the budget is what stops play.
    options = {
        **g.env_options,
        "batch": rows(config, match),
        "device": config.device,
        "dtype": config.dtype,
        "budget": preset.budget,
        "max_steps": math.ceil(preset.budget) + 1,
        # per-round infos carry what the curve needs; the rest is computed at the end
        "full_infos": False,
    }
    if preset.concept == "sample_quality":
        options["quality_every"] = preset.measure_every
    if render_mode is not None:
        options["render_mode"] = render_mode
    return agents.env_for(g.id, solver, **options)


def play_match(
    config: TournamentConfig, match: Match, render_mode: str | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    """Play ``match`` to its budget: ``(env, per-round infos)``."""
    solver, _, _ = build_solver(config, match)
    env = make_env(config, match, solver, render_mode)
    seed: int | list[int] = match.seed
    if match.mode == "tuning":  # every trial plays the same instances as alone
        seed = derive_seeds(match.seed, config.batch) * len(match.setting()["trials"])
    return env, agents.play(env, solver, seed=seed)


def _play(config: TournamentConfig, match: Match) -> tuple[dict[str, Any], bytes, str]:
    env, infos = play_match(config, match)
    infos[-1] = {**infos[-1], **final_metrics(env)}
    device = str(env.config.device)
    if env.config.device.type == "cuda":
        device += f" ({torch.cuda.get_device_name(env.config.device)})"
    metrics, calls, curve = score(
        infos, config.preset(match.game).target, env.gap_estimator
    )
    return metrics, encode_trajectory(calls, curve), device


def final_metrics(env: Any) -> dict[str, Any]:
    """Every metric of the final point (as numpy arrays), computed once at the end.

    Sample-quality metrics are included; a game without a closed-form duality gap
    adds the budgeted estimate ``estimated_gap`` (a lower bound) where the env has an
    estimator.
    """
    m = env.match
    mt = gap_metrics.evaluate(
        m.game,
        m.instance,
        m.state.theta,
        m.state.phi,
        prox_lambda=env.config.prox_lambda,
    )
    out = {
        name: value.detach().cpu().numpy()
        for name, value in mt._asdict().items()
        if value is not None and not name.startswith("proximal_exploitability")
    }
    with torch.no_grad():
        quality = m.game.quality(m.instance, m.state.theta)
    out.update({k: v.detach().cpu().numpy() for k, v in quality.items()})
    estimator = env.estimator_config
    if not m.game.capabilities.duality_gap and estimator is not None:
        est = estimate_gaps(
            m.game,
            m.instance,
            m.state.theta,
            m.state.phi,
            m.oracle.stream.fork(_FINAL_ESTIMATE_TAG),
            estimator,
        )
        out["estimated_gap"] = est.duality_gap.detach().cpu().numpy()
    return out


_FINAL_ESTIMATE_TAG = 0x5E57  # the final estimate's own stream fork (no play draw)
_GAPS = ("duality_gap", "proximal_gap")


def score(
    infos: list[dict[str, Any]], target: Target, gap_estimator: str = "exact"
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Scores of one match from its per-round infos (see the module docstring).

    ``gap_estimator`` is the env's label of how its gaps were obtained
    (``env.gap_estimator``), recorded with the scores.

    Returns:
        ``(metrics, calls (T,), curve (T, B))`` — the headline metric at the ``T``
        rounds that carry it.
    """
    last = infos[-1]
    key = target.metric
    measured = [i for i in infos if key in i]
    if not measured:
        raise InvalidConfigError(
            f"the target's metric {key!r} is not in the infos (they have "
            f"{sorted(last)}); check the game's concept and env options"
        )
    calls = np.array(
        [max(i[f"oracle_calls_{seat}"] for seat in SEATS) for i in measured],
        dtype=np.float64,
    )
    curve = np.stack(
        [np.asarray(i[key], dtype=np.float64).reshape(-1) for i in measured]
    )
    lower_bound = key in _GAPS and bool(last.get("gap_lower_bound", False))
    with np.errstate(all="ignore"):
        reached = np.stack(
            [
                np.asarray(target.reached(i), dtype=bool).reshape(-1)
                if all(c in i for c in target.metrics)
                else np.zeros(curve.shape[1], dtype=bool)
                for i in measured
            ]
        )
        if lower_bound:  # a lower bound alone never counts as reaching a target
            reached[:] = False
        first_hit = np.where(reached.any(axis=0), reached.argmax(axis=0), -1)
        cost = np.where(first_hit >= 0, calls[np.maximum(first_hit, 0)], np.inf)
        if len(calls) > 1 and calls[-1] > 0:
            widths = np.diff(calls)[:, None]
            auc = ((curve[1:] + curve[:-1]) / 2 * widths).sum(axis=0) / calls[-1]
        else:
            auc = curve[-1].copy()
        auc = np.where(np.isfinite(auc), auc, np.inf)
        best = curve.min(axis=0) if target.lower_is_better else curve.max(axis=0)
    diverged = np.asarray(last["diverged"], dtype=bool).reshape(-1)
    metrics: dict[str, Any] = {
        "curve": key,
        "gap_estimator": gap_estimator,
        "initial_metric": _floats(curve[0]),
        "final_metric": _floats(curve[-1]),
        "best_metric": _floats(best),
        "cost_to_target": _floats(cost),
        "progress": _floats(
            np.where(
                np.isfinite(cost),
                1.0,
                np.where(diverged, 0.0, progress(target, curve[0], measured[-1])),
            )
        ),
        "auc": _floats(auc),
        "diverged": [bool(x) for x in diverged],
        "steps": int(last.get("step", len(infos) - 1)),
        "oracle_calls": {
            seat: float(last[f"oracle_calls_{seat}"]) for seat in sorted(SEATS)
        },
    }
    for name in sorted(last):
        value = last[name]
        if name in ("diverged", "step", "gap_lower_bound") or name.startswith(
            "oracle_calls"
        ):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
            metrics[f"final_{name}"] = _floats(value.reshape(-1))
    return metrics, calls, curve


def progress(
    target: Target, initial: np.ndarray, final: Mapping[str, Any]
) -> np.ndarray:
    """Progress toward ``target`` in ``[0, 1]`` per instance (1 = reached).

    A metric to lower scores ``log(initial / final) / log(initial / threshold)``
    (orders of magnitude gained, relative to those needed); one to raise scores
    ``final / threshold``; the weakest condition decides.

    Example:
        >>> from gangames.concepts import Condition, Target
        >>> t = Target((Condition("duality_gap", 1e-3),))
        >>> progress(t, np.array([1.0]), {"duality_gap": np.array([1e-2])})
        array([0.66666667])
    """
    if target.reached(final) is True:
        return np.ones(np.shape(initial))
    out = np.ones(np.shape(initial))
    with np.errstate(all="ignore"):
        for c in target.conditions:
            x = np.asarray(final[c.metric], dtype=np.float64).reshape(-1)
            if c.at_least:
                p = x / c.value
            else:
                start = np.asarray(initial, dtype=np.float64).reshape(-1)
                if c.metric != target.metric:
                    start = np.maximum(x, c.value * 10)
                p = np.log(start / np.maximum(x, 1e-300)) / np.log(start / c.value)
                p = np.where(x <= c.value, 1.0, p)
            out = np.minimum(out, np.nan_to_num(p, nan=0.0, posinf=0.0))
    return np.clip(out, 0.0, 1.0)


def _floats(x: np.ndarray) -> list[float]:
    # float32 values through float64 print the same everywhere; NaN kept as such
    return [float(v) for v in np.asarray(x, dtype=np.float64)]
