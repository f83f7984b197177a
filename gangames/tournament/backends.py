"""Where matches run: in this process, in local worker processes, or on Ray.

Every backend runs the same :func:`~gangames.tournament.match.execute` on the same
``(config, match)`` pairs, with one torch thread per match, so all three give the same
records; they differ only in isolation:

* ``sequential`` — in this process (tests, debugging). The per-match timeout is a
  SIGALRM deadline; an agent that kills its process kills the tournament.
* ``processes`` — ``workers`` spawned processes, one match per task. The coordinator
  keeps a hard deadline per task (timeout + a grace period, for hangs that ignore
  signals) and kills the worker past it; a worker that dies mid-match is recorded as
  ``worker_crashed`` and replaced.
* ``ray`` — one Ray task per match (``ray.init(address)``, or a local cluster),
  with the same deadline, crash and retry rules.

Retries are capped: ``agent_error``, ``timeout`` and ``worker_crashed`` are tried
``1 + config.retries`` times; the last record is kept with its attempt count.
``setup`` is an optional picklable callable run once in every worker before its first
match (to register agents or games of a plugin that is not installed as an entry point).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Iterable
from multiprocessing.connection import wait
from typing import Any

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


def _prepare(setup: Callable[[], Any] | None) -> None:
    import torch

    torch.set_num_threads(1)  # bit-for-bit equal results across backends
    import agents  # noqa: F401
    import gangames  # noqa: F401

    if setup is not None:
        setup()


class SequentialBackend:
    """Run matches one after another in this process."""

    def __init__(self, setup: Callable[[], Any] | None = None) -> None:
        self.setup = setup

    def run(
        self, config: TournamentConfig, matches: Iterable[Match], on_result: OnResult
    ) -> None:
        """Play ``matches`` and hand each final record to ``on_result``."""
        import torch

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
    import json

    _prepare(setup)
    conn.send(_READY)
    configs: dict[str, TournamentConfig] = {}
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):  # the coordinator is gone
            return
        if task is None:
            return
        text, match = task
        config = configs.get(text)
        if config is None:
            config = TournamentConfig.from_dict(json.loads(text), check_names=False)
            configs[text] = config
        try:
            conn.send(execute(config, Match(*match)))
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
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
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
                                s.ready = s.conn.recv() == _READY
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
                        rec = failure(
                            match,
                            "timeout",
                            f"worker killed after {hard:g} s (timeout {config.timeout:g} s "
                            "plus grace): the match ignored the in-match deadline",
                            now - s.started,
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
                    rec["attempts"] = attempt
                    if rec["status"] in RETRIED and attempt <= config.retries:
                        queue.appendleft((match, attempt + 1))
                    else:
                        on_result(rec)
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
            from gangames.errors import InvalidConfigError

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
        """Play ``matches`` and hand each final record to ``on_result``."""
        ray = self.ray
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
        setup = self.setup

        @ray.remote(num_cpus=1, max_retries=0)
        def play(text: str, match: tuple) -> dict[str, Any]:
            import json

            _prepare(setup)
            cfg = TournamentConfig.from_dict(json.loads(text), check_names=False)
            return execute(cfg, Match(*match))

        text = config.canonical_json()
        queue: deque[tuple[Match, int]] = deque((m, 1) for m in matches)
        cap = self.max_in_flight or max(1, int(ray.available_resources().get("CPU", 1)))
        running: dict[Any, tuple[Match, int, float]] = {}
        hard = config.timeout + GRACE_S
        while queue or running:
            while queue and len(running) < cap:
                m, attempt = queue.popleft()
                running[play.remote(text, tuple(m))] = (m, attempt, time.monotonic())
            done, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            now = time.monotonic()
            for ref in list(running):
                m, attempt, started = running[ref]
                if ref in done:
                    try:
                        rec = ray.get(ref)
                    except ray.exceptions.RayTaskError as err:
                        rec = failure(m, "agent_error", str(err), now - started)
                    except ray.exceptions.RayError as err:
                        rec = failure(
                            m,
                            "worker_crashed",
                            f"{type(err).__name__}: {err}",
                            now - started,
                        )
                elif now - started > hard:
                    ray.cancel(ref, force=True)
                    rec = failure(
                        m,
                        "timeout",
                        f"Ray task cancelled after {hard:g} s (timeout {config.timeout:g} s "
                        "plus grace)",
                        now - started,
                    )
                else:
                    continue
                del running[ref]
                rec["attempts"] = attempt
                if rec["status"] in RETRIED and attempt <= config.retries:
                    queue.appendleft((m, attempt + 1))
                else:
                    on_result(rec)


def make_backend(
    backend: str | None,
    workers: int,
    *,
    address: str | None = None,
    setup: Callable[[], Any] | None = None,
) -> SequentialBackend | ProcessBackend | RayBackend:
    """The named backend; ``None`` picks processes when ``workers > 1``."""
    if backend is None:
        backend = "processes" if workers > 1 else "sequential"
    if backend == "sequential":
        return SequentialBackend(setup)
    if backend == "processes":
        return ProcessBackend(workers, setup)
    if backend == "ray":
        return RayBackend(
            address, setup, max_in_flight=workers if workers > 1 else None
        )
    from gangames.errors import InvalidConfigError

    raise InvalidConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
