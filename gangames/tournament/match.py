"""Playing one scheduled match and turning its trajectory into a result record.

:func:`execute` is what every backend runs (in this process, a worker process or a Ray
worker): it builds the env and the solver from registry names, plays until a seat's
oracle budget is spent, and scores the match. It never raises: an agent that raises is
recorded as ``agent_error`` (with a short traceback), one that runs past the per-match
timeout as ``timeout``, a match whose instances diverged as ``diverged``. (A worker
that dies is recorded as ``worker_crashed`` by the backend that watched it.)

Scores per instance (ALGORITHMS.md §7 for the gaps):

* ``final_gap`` — the duality gap at the end (``infos["gap_estimator"]`` says whether
  it is exact or an estimate); games without one fall back to the gradient-field norm,
  and ``curve`` names what was used;
* ``auc`` — area under the gap-vs-oracle-calls curve (trapezoid rule) divided by the
  calls spent: the mean gap over the budget, lower for solvers that get there early;
* ``calls_to_tol`` — oracle calls per seat (gradient-equivalents) until the gap first
  drops to ``tolerance`` (``inf`` if never);
* ``diverged`` — the env's divergence flags; plus ``final_<metric>`` for every metric the
  game reports (value, exploitabilities, proximal gap, distance, …).

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
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

import agents
import gangames
from gangames import metrics as gap_metrics
from gangames.errors import InvalidConfigError
from gangames.rules import Solver
from gangames.tournament.config import TournamentConfig
from gangames.tournament.schedule import Match

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


def build_solver(config: TournamentConfig, match: Match) -> Any:
    """The match's solver and its env order: ``(solver, order, first)``."""
    a = config.entrant(match.generator)
    gen = agents.make(a.agent, **a.hyperparameters)
    if match.generator == match.discriminator:
        return gen, gen.order, gen.first
    b = config.entrant(match.discriminator)
    dis = agents.make(b.agent, **b.hyperparameters)
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


def make_env(
    config: TournamentConfig,
    match: Match,
    solver: Any,
    render_mode: str | None = None,
) -> Any:
    """The match's env, in ``solver``'s move order (:func:`agents.env_for`).

    The budget ends it (``max_steps`` only bounds it from above).
    """
    g = config.game(match.game)
    # Every round charges at least one gradient to each seat (its observation), so
    # ceil(budget) + 1 rounds always reach the budget: the budget is what stops play.
    options = {
        **g.options,
        "batch": config.batch,
        "device": config.device,
        "dtype": config.dtype,
        "budget": config.budget,
        "max_steps": math.ceil(config.budget) + 1,
        # per-round infos carry what the curve needs; the rest is computed at the end
        "full_infos": False,
    }
    if render_mode is not None:
        options["render_mode"] = render_mode
    try:
        return agents.env_for(g.id, solver, reward="gap", **options)
    except InvalidConfigError as err:
        if "reward" not in str(err):
            raise
        # games without closed-form best responses: rewards are the payoff; the
        # tournament reads its scores from infos either way
        return agents.env_for(g.id, solver, reward="payoff", **options)


def play_match(
    config: TournamentConfig, match: Match, render_mode: str | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    """Play ``match`` to its budget: ``(env, per-round infos)``."""
    solver, _, _ = build_solver(config, match)
    env = make_env(config, match, solver, render_mode)
    return env, agents.play(env, solver, seed=match.seed)


def _play(config: TournamentConfig, match: Match) -> tuple[dict[str, Any], bytes, str]:
    env, infos = play_match(config, match)
    infos[-1] = {**infos[-1], **final_metrics(env)}
    device = str(env.config.device)
    if env.config.device.type == "cuda":
        device += f" ({torch.cuda.get_device_name(env.config.device)})"
    metrics, calls, curve = score(infos, config.tolerance)
    return metrics, encode_trajectory(calls, curve), device


def final_metrics(env: Any) -> dict[str, Any]:
    """Every metric of the final point (as numpy arrays), computed once at the end."""
    m = env.match
    mt = gap_metrics.evaluate(
        m.game,
        m.instance,
        m.state.theta,
        m.state.phi,
        prox_lambda=env.config.prox_lambda,
    )
    return {
        name: value.detach().cpu().numpy()
        for name, value in mt._asdict().items()
        if value is not None and not name.startswith("proximal_exploitability")
    }


def score(
    infos: list[dict[str, Any]], tolerance: float
) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Scores of one match from its per-round infos (see the module docstring).

    Returns:
        ``(metrics, calls (T,), curve (T, B))``.
    """
    last = infos[-1]
    key = "duality_gap" if "duality_gap" in last else "grad_norm"
    calls = np.array([max(i["oracle_calls"].values()) for i in infos], dtype=np.float64)
    curve = np.stack([np.asarray(i[key], dtype=np.float64).reshape(-1) for i in infos])
    final = curve[-1]
    with np.errstate(all="ignore"):
        if len(calls) > 1 and calls[-1] > 0:
            widths = np.diff(calls)[:, None]
            auc = ((curve[1:] + curve[:-1]) / 2 * widths).sum(axis=0) / calls[-1]
        else:
            auc = final.copy()
        auc = np.where(np.isfinite(auc), auc, np.inf)
        reached = curve <= tolerance
    first_hit = np.where(reached.any(axis=0), reached.argmax(axis=0), -1)
    to_tol = np.where(first_hit >= 0, calls[np.maximum(first_hit, 0)], np.inf)
    metrics: dict[str, Any] = {
        "curve": key,
        "gap_estimator": str(last.get("gap_estimator", "exact")),
        "initial_gap": _floats(curve[0]),
        "final_gap": _floats(final),
        "auc": _floats(auc),
        "calls_to_tol": _floats(to_tol),
        "diverged": [bool(x) for x in np.asarray(last["diverged"]).reshape(-1)],
        "steps": int(last.get("step", len(infos) - 1)),
        "oracle_calls": {k: float(v) for k, v in sorted(last["oracle_calls"].items())},
    }
    for name in sorted(last):
        value = last[name]
        if name in ("diverged", "oracle_calls", "step", "gap_estimator"):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            metrics[f"final_{name}"] = _floats(value.reshape(-1))
    return metrics, calls, curve


def _floats(x: np.ndarray) -> list[float]:
    # float32 values through float64 print the same everywhere; NaN kept as such
    return [float(v) for v in np.asarray(x, dtype=np.float64)]
