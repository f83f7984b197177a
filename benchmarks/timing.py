"""Timing in turns, shared by the benchmarks: best-of-N, candidates interleaved."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence


def seconds_in_turns(
    fns: Sequence[Callable[[], object]], rounds: int, repeats: int = 7
) -> list[float]:
    """Best-of-``repeats`` seconds per call of each of ``fns``, measured in turns.

    The candidates take turns (one block of ``rounds`` calls each, ``repeats``
    times), so a burst of load on the machine hits them alike and the ratios hold.
    """
    for fn in fns:
        fn()  # warm-up
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            for _ in range(rounds):
                fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return [b / rounds for b in best]
