"""Progress of long phases: a bar on a terminal, one line at a time elsewhere.

``mode`` chooses how a phase (tuning, evaluation, the report's replays, training)
reports:

=========  ==============================================================================
``auto``   a bar when stderr is a terminal, else lines (the default)
``bar``    a tqdm bar on stderr
``lines``  one line on stderr per tenth of the work, and at least every 30 s while
           work completes, and a last line when the phase ends — for logs, CI, ``nohup``
``none``   nothing
=========  ==============================================================================

Example:
    >>> import io
    >>> stream = io.StringIO()
    >>> p = tracker(2, "demo", "lines", stream=stream)
    >>> p.update("ok"); p.update("ok"); p.close()
    >>> print(stream.getvalue().splitlines()[-1])  # doctest: +ELLIPSIS
    demo: 2/2 (100 %), ...s; ok 2
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from tqdm import tqdm

from gangames.errors import InvalidConfigError

__all__ = ["MODES", "Tracker", "add_arguments", "tracker"]

MODES = ("auto", "bar", "lines", "none")
EVERY_S = 30.0  # the longest silence of ``lines`` while work completes


class Tracker(Protocol):
    """What a phase calls: one ``update`` per finished item, ``close`` at the end."""

    def update(self, status: str = "") -> None: ...

    def close(self) -> None: ...


class _Bar:
    def __init__(self, total: int, desc: str, unit: str, *, disable: bool) -> None:
        self._bar = tqdm(total=total, desc=desc, unit=unit, disable=disable)

    def update(self, status: str = "") -> None:
        self._bar.update(1)
        if status:
            self._bar.set_postfix_str(status, refresh=False)

    def close(self) -> None:
        self._bar.close()


class _Lines:
    def __init__(
        self,
        total: int,
        desc: str,
        stream: TextIO,
        clock: Callable[[], float],
    ) -> None:
        self.total, self.desc, self.stream, self.clock = total, desc, stream, clock
        self.done = 0
        self.statuses: dict[str, int] = {}
        self.start = self.last = clock()
        self.tenth = 0  # tenths of the work already reported
        if total:
            self._line()

    def update(self, status: str = "") -> None:
        self.done += 1
        if status:
            self.statuses[status] = self.statuses.get(status, 0) + 1
        tenth = 10 * self.done // max(self.total, 1)
        if tenth > self.tenth or self.clock() - self.last >= EVERY_S:
            self.tenth = tenth
            self._line()

    def close(self) -> None:
        if self.total and self.tenth < 10:
            self._line()

    def _line(self) -> None:
        now = self.clock()
        self.last = now
        pct = 100 * self.done // max(self.total, 1)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        more = f"; {counts}" if counts else ""
        print(
            f"{self.desc}: {self.done}/{self.total} ({pct} %), "
            f"{now - self.start:.0f}s{more}",
            file=self.stream,
            flush=True,
        )


def tracker(
    total: int,
    desc: str,
    mode: str = "auto",
    *,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
    unit: str = "match",
) -> Tracker:
    """The progress of a phase of ``total`` items, shown as ``mode`` says.

    Args:
        total: items the phase will finish.
        desc: the phase's name, first on every line.
        mode: ``"auto"``, ``"bar"``, ``"lines"`` or ``"none"`` (see the module doc).
        stream: where lines go (default: stderr).
        clock: seconds, for the 30-second lines (a test passes its own).
        unit: what an item is, on the bar.
    """
    if mode not in MODES:
        raise InvalidConfigError(f"progress must be one of {MODES}, got {mode!r}")
    out: Any = sys.stderr if stream is None else stream
    if mode == "auto":
        mode = "bar" if out.isatty() else "lines"
    if mode == "lines":
        return _Lines(total, desc, out, clock)
    return _Bar(total, desc, unit, disable=mode == "none")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--progress MODE`` and ``--no-progress`` (its ``none``) to a command."""
    parser.add_argument(
        "--progress",
        choices=MODES,
        default="auto",
        help="auto: a bar on a terminal, else a line per tenth of the work or per "
        "30 s (in a tournament also while the report replays matches for its plots)",
    )
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_const",
        const="none",
        help="same as --progress none",
    )
