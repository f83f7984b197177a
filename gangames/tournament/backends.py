"""Where matches run: in this process, in local worker processes, or on Ray.

Every backend runs the same :func:`~gangames.tournament.match.execute` on the same
``(config, match)`` pairs, with one torch thread per match, so all three give the same
records; they differ only in isolation:

* ``processes`` (the default, even for one worker) — a pool of ``workers`` spawned
  processes, started once and reused, one match per task. The coordinator keeps a hard
  deadline per task (timeout + a grace period, for hangs that ignore signals) and
  kills the worker past it; a worker that dies mid-match (``os._exit``, a segfault,
  SIGKILL) is recorded as ``worker_crashed`` and replaced. Agents and games registered
  at run time in the coordinator only exist in the workers through ``setup``.
* ``sequential`` — in this process (debugging, profiling; asked for by name). The
  per-match timeout is a SIGALRM deadline; an agent that kills its process or blocks
  the signal takes the tournament with it.
* ``ray`` — one Ray actor per slot (``ray.init(address)``, or a local cluster),
  one match per call, with the same deadline, crash and retry rules.

Retries are capped: ``agent_error``, ``timeout`` and ``worker_crashed`` are tried
``1 + config.retries`` times (``retries`` ≤ :data:`~gangames.checks.MAX_RETRIES`); the
last record is kept with its attempt count. A recorded fault is a result like any
other, so ``--resume`` never plays it again.
``setup`` is an optional picklable callable run once in every worker before its first
match (to register agents or games of a plugin that is not installed as an entry point).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from typing import Any

import torch

import agents
import gangames
from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.tournament.config import TournamentConfig
from gangames.tournament.match import RETRIED, execute, failure
from gangames.tournament.schedule import Match

__all__ = [
    "BACKENDS",
    "ProcessBackend",
    "RayBackend",
    "SequentialBackend",
    "make_backend",
]

BACKENDS = ("sequential", "processes", "ray")
_READY = "ready"  # a worker's first message: imports and setup done
GRACE_S = 10.0  # hard kill this long after the soft (in-match) deadline

OnResult = Callable[[dict[str, Any]], None]


def _prepare(setup: Callable[[], Any] | None) -> tuple[set[str], set[str]]:
    """Set a worker up; return the agent and game names it knows."""
    torch.set_num_threads(1)  # bit-for-bit equal results across backends
    if setup is not None:
        setup()
    return set(agents.names()), set(gangames.names())


def _check_known(config: TournamentConfig, known: tuple[set[str], set[str]]) -> None:
    """Refuse a config naming agents or games a fresh worker does not know."""
    agent_names, game_names = known
    missing = sorted({e.agent for e in config.entrants} - agent_names) + sorted(
        {g.id for g in config.games} - game_names
    )
    if missing:
        raise InvalidConfigError(
            f"{missing} registered in this process only: the worker processes do not "
            "know them; pass setup= (a picklable function that registers them), "
            "install them as entry points, or use backend='sequential'"
        )


class SequentialBackend:
    """Run matches one after another in this process."""

    def __init__(self, setup: Callable[[], Any] | None = None) -> None:
        self.setup = setup

    def run(
        self, config: TournamentConfig, matches: Iterable[Match], on_result: OnResult
    ) -> None:
        """Play ``matches`` and hand each final record to ``on_result``."""
        threads = torch.get_num_threads()
        _prepare(self.setup)
        try:
            for m in matches:
                for attempt in range(1, config.retries + 2):
                    rec = execute(config, m)
                    rec["attempts"] = attempt
                    if rec["status"] not in RETRIED:
                        break
                on_result(rec)
        finally:
            torch.set_num_threads(threads)


def _worker(conn: Any, setup: Callable[[], Any] | None) -> None:
    """Worker loop: receive ``(config_json, match)``, send back the record."""
    known = _prepare(setup)
    conn.send((_READY, known))
    configs: dict[str, TournamentConfig] = {}
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the coordinator is gone
            return
        if task is None:
            return
        text, match = task
        try:
            conn.send(execute(_parsed(configs, text), Match(*match)))
        except (BrokenPipeError, OSError):
            return


class _Slot:
    """One worker process and the task it is running."""

    def __init__(self, ctx: Any, setup: Callable[[], Any] | None) -> None:
        parent, child = ctx.Pipe()
        self.conn = parent
        self.proc = ctx.Process(target=_worker, args=(child, setup), daemon=True)
        self.proc.start()
        child.close()
        self.task: tuple[Match, int] | None = None
        self.started = 0.0
        self.ready = False  # set by the worker's first message

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class ProcessBackend:
    """Run matches in ``workers`` local processes (``spawn`` start method)."""

    def __init__(
        self,
        workers: int,
        setup: Callable[[], Any] | None = None,
        start_method: str = "spawn",
    ) -> None:
        self.workers = checks.positive("workers", workers, integer=True)
        self.setup = setup
        self.ctx = mp.get_context(start_method)

    def run(
        self, config: TournamentConfig, matches: Iterable[Match], on_result: OnResult
    ) -> None:
        """Play ``matches`` and hand each final record to ``on_result``."""
        text = config.canonical_json()
        queue: deque[tuple[Match, int]] = deque((m, 1) for m in matches)
        n = min(self.workers, len(queue))
        slots = [_Slot(self.ctx, self.setup) for _ in range(n)]
        hard = config.timeout + GRACE_S
        try:
            while queue or any(s.task for s in slots):
                for s in slots:
                    # a task's clock starts when a started worker receives it
                    if s.ready and s.task is None and queue:
                        s.task = queue.popleft()
                        s.started = time.monotonic()
                        # a dead worker is seen as a crash below
                        with contextlib.suppress(BrokenPipeError, OSError):
                            s.conn.send((text, tuple(s.task[0])))
                ready = wait(
                    [s.conn for s in slots] + [s.proc.sentinel for s in slots],
                    timeout=0.5,
                )
                now = time.monotonic()
                for i, s in enumerate(slots):
                    if not s.ready:
                        if s.conn in ready:
                            with contextlib.suppress(EOFError, OSError):
                                tag, known = s.conn.recv()
                                _check_known(config, known)
                                s.ready = tag == _READY
                        if not s.ready and s.proc.sentinel in ready:
                            raise RuntimeError(
                                "a tournament worker died while starting (exit code "
                                f"{s.proc.exitcode}); see its output above"
                            )
                        continue
                    if s.task is None:
                        continue
                    match, attempt = s.task
                    rec: dict[str, Any] | None = None
                    dead = False
                    if s.conn in ready:
                        try:
                            rec = s.conn.recv()
                        except (EOFError, OSError):
                            dead = True
                    elif s.proc.sentinel in ready:
                        dead = True
                    elif now - s.started > hard:
                        rec = _killed(
                            match, "worker", hard, config.timeout, now - s.started
                        )
                        dead = True
                    if dead and rec is None:
                        s.proc.join(1)
                        rec = failure(
                            match,
                            "worker_crashed",
                            "worker process died during the match (exit code "
                            f"{s.proc.exitcode})",
                            now - s.started,
                        )
                    if rec is None:
                        continue
                    if dead:
                        s.kill()
                        slots[i] = _Slot(self.ctx, self.setup)
                    slots[i].task = None
                    _settle(rec, match, attempt, config.retries, queue, on_result)
        finally:
            for s in slots:
                with contextlib.suppress(BrokenPipeError, OSError):
                    s.conn.send(None)
            for s in slots:
                s.proc.join(2)
                s.kill()


class RayBackend:
    """Run matches as Ray tasks (``address=None``: connect to or start a local cluster)."""

    def __init__(
        self,
        address: str | None = None,
        setup: Callable[[], Any] | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise InvalidConfigError(
                "backend 'ray' needs Ray: pip install 'gangames[ray]'"
            ) from None
        self.ray = ray
        self.address = address
        self.setup = setup
        self.max_in_flight = max_in_flight

    def run(
        self, config: TournamentConfig, matches: Iterable[Match], on_result: OnResult
    ) -> None:
        """Play ``matches`` and hand each final record to ``on_result``.

        One Ray actor per slot (the process backend's worker): a task's clock starts
        when a started actor receives it, so start-up time never counts against the
        timeout; a hung actor is killed and replaced, a dead one recorded as crashed.
        """
        ray = self.ray
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        player = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(_RayPlayer)
        text = config.canonical_json()
        queue: deque[tuple[Match, int]] = deque((m, 1) for m in matches)
        cap = self.max_in_flight or max(1, int(ray.cluster_resources().get("CPU", 1)))
        hard = config.timeout + GRACE_S

        def start() -> dict[str, Any]:
            actor = player.remote(self.setup)
            return {"actor": actor, "ready": actor.ready.remote(), "task": None}

        slots = [start() for _ in range(min(cap, len(queue)))]
        try:
            while queue or any(s["task"] for s in slots):
                for s in slots:
                    if s["ready"] is None and s["task"] is None and queue:
                        m, attempt = queue.popleft()
                        s["task"] = (m, attempt)
                        s["ref"] = s["actor"].play.remote(text, tuple(m))
                        s["started"] = time.monotonic()
                pending = [s["ready"] for s in slots if s["ready"] is not None]
                pending += [s["ref"] for s in slots if s["task"]]
                done, _ = ray.wait(pending, num_returns=1, timeout=0.5)
                done = set(done)
                now = time.monotonic()
                for i, s in enumerate(slots):
                    if s["ready"] is not None:
                        if s["ready"] in done:
                            try:
                                known = ray.get(s["ready"])
                            except ray.exceptions.RayError as err:
                                raise RuntimeError(
                                    f"a tournament worker died while starting: {err}"
                                ) from None
                            _check_known(config, known)
                            s["ready"] = None
                        continue
                    if not s["task"]:
                        continue
                    m, attempt = s["task"]
                    replace = False
                    if s["ref"] in done:
                        try:
                            rec = ray.get(s["ref"])
                        except ray.exceptions.RayTaskError as err:
                            rec = failure(
                                m, "agent_error", str(err), now - s["started"]
                            )
                        except ray.exceptions.RayError as err:
                            rec = failure(
                                m,
                                "worker_crashed",
                                f"{type(err).__name__}: {err}",
                                now - s["started"],
                            )
                            replace = True
                    elif now - s["started"] > hard:
                        rec = _killed(
                            m, "Ray worker", hard, config.timeout, now - s["started"]
                        )
                        replace = True
                    else:
                        continue
                    if replace:
                        ray.kill(s["actor"], no_restart=True)
                        slots[i] = start()
                    slots[i]["task"] = None
                    _settle(rec, m, attempt, config.retries, queue, on_result)
        finally:
            for s in slots:
                ray.kill(s["actor"], no_restart=True)


class _RayPlayer:
    """A Ray actor that plays matches (the process backend's worker, on Ray)."""

    def __init__(self, setup: Callable[[], Any] | None) -> None:
        self.known = _prepare(setup)
        self.configs: dict[str, TournamentConfig] = {}

    def ready(self) -> tuple[set[str], set[str]]:
        return self.known

    def play(self, text: str, match: tuple) -> dict[str, Any]:
        return execute(_parsed(self.configs, text), Match(*match))


def _settle(
    rec: dict[str, Any],
    match: Match,
    attempt: int,
    retries: int,
    queue: Any,
    on_result: Callable[[dict[str, Any]], None],
) -> None:
    """Retry a retriable fault while attempts remain, else report the record."""
    rec["attempts"] = attempt
    if rec["status"] in RETRIED and attempt <= retries:
        queue.appendleft((match, attempt + 1))
    else:
        on_result(rec)


def _killed(
    match: Match, who: str, hard: float, timeout: float, wall_s: float
) -> dict[str, Any]:
    """The record of a match whose worker was killed past its hard deadline."""
    return failure(
        match,
        "timeout",
        f"{who} killed after {hard:g} s (timeout {timeout:g} s plus grace): the "
        "match ignored the in-match deadline",
        wall_s,
    )


def _parsed(cache: dict[str, TournamentConfig], text: str) -> TournamentConfig:
    """The config of a JSON ``text``, parsed once per worker."""
    config = cache.get(text)
    if config is None:
        config = cache[text] = TournamentConfig.from_dict(
            json.loads(text), check_names=False
        )
    return config


def make_backend(
    backend: str | None,
    workers: int,
    *,
    address: str | None = None,
    setup: Callable[[], Any] | None = None,
) -> SequentialBackend | ProcessBackend | RayBackend:
    """The named backend; ``None`` picks processes (isolated matches).

    Raises:
        InvalidConfigError: ``workers`` is not a positive int, or an unknown backend.
    """
    checks.positive("workers", workers, integer=True)
    if backend is None:
        backend = "processes"
    if backend == "sequential":
        return SequentialBackend(setup)
    if backend == "processes":
        return ProcessBackend(workers, setup)
    if backend == "ray":
        return RayBackend(
            address, setup, max_in_flight=workers if workers > 1 else None
        )
    raise InvalidConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
