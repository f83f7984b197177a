"""``run(config, out_dir)``: schedule, play what is missing, record, report.

The coordinator is the only writer of the store: it schedules every match, skips those
already recorded (``resume=True``), hands the rest to a backend and records each result
in its own transaction as it arrives. It plays in two phases: the ``"tuned"``
ruleset's trials first, then every evaluation match, with the hyperparameters chosen
from the recorded trials (:mod:`~gangames.tournament.tuning`) — a pure function of the
store, so a resumed run chooses the same. A tournament killed at any moment therefore
resumes with nothing lost and nothing played twice, and — since a match's seed depends
only on its identity — with the same results an uninterrupted run gives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from gangames.errors import InvalidConfigError
from gangames.tournament.backends import make_backend
from gangames.tournament.config import TournamentConfig, load_config, resolve_output
from gangames.tournament.progress import MODES, tracker
from gangames.tournament.schedule import (
    Match,
    default_choices,
    evaluation_schedule,
    tuning_schedule,
)
from gangames.tournament.store import Store
from gangames.tournament.tuning import choices, trial_summaries

__all__ = ["RunSummary", "run"]


class RunSummary(NamedTuple):
    """What a run did."""

    store: Path  # the SQLite file
    scheduled: int  # matches in the schedule
    played: int  # matches played by this run
    skipped: int  # matches already recorded (resume)
    statuses: dict[str, int]  # matches per status, whole store


def run(
    config: TournamentConfig | str | Path,
    out_dir: str | Path,
    *,
    workers: int = 1,
    backend: str | None = None,
    resume: bool = False,
    address: str | None = None,
    progress: str | bool | None = None,
    setup: Callable[[], Any] | None = None,
) -> RunSummary:
    """Play a tournament into ``out_dir`` (a SQLite store; the report is separate).

    Args:
        config: a config, or the path of a TOML file.
        out_dir: the output folder (created if missing).
        workers: parallel matches (worker processes; at least 1).
        backend: ``"processes"`` (default: every match isolated in a reused worker
            process, even with one worker), ``"sequential"`` (in this process) or
            ``"ray"``.
        resume: complete the matches missing from an existing store of this config.
        address: Ray cluster address (``backend="ray"``).
        progress: ``"auto"`` (default: a bar when stderr is a terminal, else a line
            per tenth of the work or per 30 s), ``"bar"``, ``"lines"`` or ``"none"``
            (:mod:`~gangames.tournament.progress`); ``True`` and ``False`` mean
            ``"bar"`` and ``"none"``.
        setup: picklable callable run in every worker first (plugins not installed as
            entry points, e.g. agents registered by a test module or a notebook: the
            workers are fresh processes and only know what ``setup`` registers).

    Raises:
        InvalidConfigError: a bad config, or a store of another config /
            ``resume`` not asked (:class:`~gangames.tournament.store.ResumeError`), or
            a store another process is writing
            (:class:`~gangames.tournament.store.StoreLockedError`).
    """
    mode = (
        progress
        if isinstance(progress, str)
        else {None: "auto", True: "bar", False: "none"}[progress]
    )
    if mode not in MODES:
        raise InvalidConfigError(f"progress must be one of {MODES}, got {mode!r}")
    if not isinstance(config, TournamentConfig):
        config = load_config(config)
    out = Path(out_dir)
    path = resolve_output(out, config.store, "store")
    tuning = tuning_schedule(config)
    chosen = make_backend(backend, workers, address=address, setup=setup)
    with Store(path, writer=True) as store:
        store.attach(config, resume=resume)
        done = store.done()
        digest = config.hash()
        played = skipped = scheduled = 0

        def phase(matches: list[Match], desc: str) -> None:
            nonlocal played, skipped, scheduled
            todo = [m for m in matches if m.id not in done]
            scheduled += len(matches)
            played += len(todo)
            skipped += len(matches) - len(todo)
            if not todo:  # a finished phase (resume) starts no worker
                return
            bar = tracker(len(todo), desc, mode)

            def record(rec: dict[str, Any]) -> None:
                store.write(rec, digest)
                bar.update(rec["status"])

            try:
                chosen.run(config, todo, record)
            finally:
                bar.close()

        # phase 1: the tuned ruleset's trials; phase 2: evaluation with the choices
        phase(tuning, f"{config.name}: tuning")
        picks = {
            **default_choices(config),
            **choices(config, trial_summaries(config, store.records())),
        }
        phase(evaluation_schedule(config, picks), config.name)
        return RunSummary(path, scheduled, played, skipped, store.counts())
