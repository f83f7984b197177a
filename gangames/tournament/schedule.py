"""The schedule: every match of a tournament, in a fixed order, with its seed.

A match is one solver pairing on one game and one seed index, played on ``batch``
instances in lockstep:

* **self-play** — entrant A plays both seats (its own solver);
* **cross-play** — every generator rule against every discriminator rule:
  ``Solver(generator=A.generator, discriminator=B.discriminator)`` for all ordered
  pairs (A, B), the diagonal included (it equals self-play and anchors the matrix);
* **tuning** — the ``"tuned"`` ruleset's trials of one entrant on one game: a group of
  trials with equal structural hyperparameters plays as *one* batched match (trial
  ``k``'s hyperparameters fill rows ``k·batch … k·batch + batch − 1`` as per-instance
  tensors; :func:`agents.sweep`), on a tuning seed.

Two phases. Tuning matches come first (:func:`tuning_schedule`); the evaluation
matches (:func:`evaluation_schedule`) carry the hyperparameters each entrant plays with
under each ruleset — its own under ``"defaults"``, its best trial under ``"tuned"`` —
which for ``"tuned"`` are a pure function of the recorded tuning matches. Either phase
resumes after a kill with the same matches.

Seeds. An evaluation match's seed is ``hash(root_seed, game label, seed index)``
(SHA-256, 63 bits) — a pure function of its identity, so results never depend on
worker count or order. It deliberately leaves the pairing and the ruleset out: every
entrant meets the same instances and initial points on a given game and seed (common
random numbers), which is what makes "lower cost on the same game and seed" a fair
head-to-head. Tuning seeds are hashed with ``"tuning"`` as well, so the trials never
see the instances they are evaluated on. A trial's hyperparameters are drawn from the
entrant's space with ``hash(root_seed, "trials", entrant)``: the same trials on every
game (workload-agnostic, as in AlgoPerf's external tuning).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

import agents
from gangames.tournament.config import Entrant, TournamentConfig

__all__ = [
    "Match",
    "evaluation_schedule",
    "match_seed",
    "schedule",
    "trials",
    "tuning_schedule",
]


class Match(NamedTuple):
    """One scheduled match."""

    id: str  # "ruleset/mode/game/generator/discriminator/seed" (tuning: "/group")
    mode: str  # "self_play" | "cross_play" | "tuning"
    game: str  # game label
    generator: str  # entrant label whose generator rule plays
    discriminator: str  # entrant label whose discriminator rule plays
    seed_index: int
    seed: int  # hash(root_seed, game, seed_index) (tuning: with "tuning")
    ruleset: str = "defaults"
    # JSON: {"generator": {...}, "discriminator": {...}} hyperparameters of an
    # evaluation match; {"trials": [k, ...], "values": [{...}, ...]} of a tuning match
    hyperparameters: str = "{}"

    def setting(self) -> dict[str, Any]:
        """The decoded ``hyperparameters``."""
        out: dict[str, Any] = json.loads(self.hyperparameters)
        return out


def match_seed(root_seed: int, *parts: object) -> int:
    """A 63-bit seed from the root seed and the parts of an identity (SHA-256)."""
    text = "\x1f".join([str(root_seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def trials(config: TournamentConfig, entrant: Entrant) -> list[dict[str, Any]]:
    """The ``"tuned"`` trials of ``entrant`` (the same on every game).

    Its configured hyperparameters stay fixed; the rest of its declared space is drawn
    quasi-randomly.
    """
    space = agents.search_space(entrant.agent)
    free = {k: v for k, v in space.items() if k not in entrant.hyperparameters}
    drawn = type(space)(free).sample(
        config.trials, match_seed(config.root_seed, "trials", entrant.label)
    )
    return [{**d, **entrant.hyperparameters} for d in drawn]


def _groups(
    config: TournamentConfig, entrant: Entrant, values: list[dict[str, Any]]
) -> list[list[int]]:
    """Trial indices grouped by their structural hyperparameters (first-seen order)."""
    per_instance = set(agents.search_space(entrant.agent).per_instance)
    groups: dict[str, list[int]] = {}
    for k, v in enumerate(values):
        key = _json({n: x for n, x in v.items() if n not in per_instance})
        if not (set(v) & per_instance):  # nothing to batch: one match per trial
            key += f"#{k}"
        groups.setdefault(key, []).append(k)
    return list(groups.values())


def tuning_schedule(config: TournamentConfig) -> list[Match]:
    """The tuning matches of the ``"tuned"`` ruleset (none without it)."""
    if "tuned" not in config.rulesets:
        return []
    out: list[Match] = []
    for g in config.games:
        for e in config.entrants:
            values = trials(config, e)
            for s in range(config.tuning_seeds):
                seed = match_seed(config.root_seed, g.label, "tuning", s)
                for j, group in enumerate(_groups(config, e, values)):
                    setting = {"trials": group, "values": [values[k] for k in group]}
                    out.append(
                        Match(
                            f"tuned/tuning/{g.label}/{e.label}/{s}/{j}",
                            "tuning",
                            g.label,
                            e.label,
                            e.label,
                            s,
                            seed,
                            "tuned",
                            _json(setting),
                        )
                    )
    return out


Choices = Mapping[tuple[str, str, str], Mapping[str, Any]]
"""Hyperparameters per ``(ruleset, game label, entrant label)``."""


def default_choices(config: TournamentConfig) -> dict[tuple[str, str, str], Any]:
    """The ``"defaults"`` ruleset's hyperparameters: each entrant's own."""
    return {
        ("defaults", g.label, e.label): dict(e.hyperparameters)
        for g in config.games
        for e in config.entrants
    }


def evaluation_schedule(config: TournamentConfig, choices: Choices) -> list[Match]:
    """Every evaluation match, ordered by ruleset, mode, game, seed, then pairing.

    Args:
        config: the tournament.
        choices: the hyperparameters of every ``(ruleset, game, entrant)``; a ruleset
            missing from it (tuning not finished) is left out.
    """
    out: list[Match] = []
    labels = [e.label for e in config.entrants]
    for ruleset in config.rulesets:
        for mode in config.modes:
            for g in config.games:
                if g.modes and mode not in g.modes:
                    continue
                if any((ruleset, g.label, e) not in choices for e in labels):
                    continue
                for s in range(config.seeds):
                    seed = match_seed(config.root_seed, g.label, s)
                    if mode == "self_play":
                        pairs = [(a, a) for a in labels]
                    else:
                        pairs = [(a, b) for a in labels for b in labels]
                    for a, b in pairs:
                        setting = {
                            "generator": choices[(ruleset, g.label, a)],
                            "discriminator": choices[(ruleset, g.label, b)],
                        }
                        out.append(
                            Match(
                                f"{ruleset}/{mode}/{g.label}/{a}/{b}/{s}",
                                mode,
                                g.label,
                                a,
                                b,
                                s,
                                seed,
                                ruleset,
                                _json(setting),
                            )
                        )
    return out


def schedule(config: TournamentConfig) -> list[Match]:
    """The matches known before any is played: tuning, then ``"defaults"``."""
    return tuning_schedule(config) + evaluation_schedule(
        config, default_choices(config)
    )
