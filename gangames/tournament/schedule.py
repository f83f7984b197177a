"""The schedule: every match of a tournament, in a fixed order, with its seed.

A match is one solver pairing on one game and one seed index, played on ``batch``
instances in lockstep:

* **self-play** — entrant A plays both seats (its own solver);
* **cross-play** — every generator rule against every discriminator rule:
  ``Solver(generator=A.generator, discriminator=B.discriminator)`` for all ordered
  pairs (A, B), the diagonal included (it equals self-play and anchors the matrix).

Seeds. A match's seed is ``hash(root_seed, game label, seed index)`` (SHA-256, 63
bits) — a pure function of the match's identity, so results never depend on worker
count or order. It deliberately leaves the pairing out: every entrant meets the same
instances and initial points on a given game and seed (common random numbers), which
is what makes "lower final gap on the same game and seed" a fair head-to-head.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from gangames.tournament.config import TournamentConfig

__all__ = ["Match", "match_seed", "schedule"]


class Match(NamedTuple):
    """One scheduled match."""

    id: str  # "mode/game/generator/discriminator/seed"
    mode: str  # "self_play" | "cross_play"
    game: str  # game label
    generator: str  # entrant label whose generator rule plays
    discriminator: str  # entrant label whose discriminator rule plays
    seed_index: int
    seed: int  # hash(root_seed, game, seed_index)


def match_seed(root_seed: int, *parts: object) -> int:
    """A 63-bit seed from the root seed and the parts of an identity (SHA-256)."""
    text = "\x1f".join([str(root_seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def schedule(config: TournamentConfig) -> list[Match]:
    """Every match of ``config``, ordered by mode, game, seed, then pairing."""
    out: list[Match] = []
    labels = [e.label for e in config.entrants]
    for mode in config.modes:
        for g in config.games:
            if g.modes and mode not in g.modes:
                continue
            for s in range(config.seeds):
                seed = match_seed(config.root_seed, g.label, s)
                if mode == "self_play":
                    pairs = [(a, a) for a in labels]
                else:
                    pairs = [(a, b) for a in labels for b in labels]
                for a, b in pairs:
                    mid = f"{mode}/{g.label}/{a}/{b}/{s}"
                    out.append(Match(mid, mode, g.label, a, b, s, seed))
    return out
