"""Tournament configuration: frozen dataclasses read from TOML or a dict, validated.

A config names games (registered ids with their options), entrants (registered agent
names with their hyperparameters), seeds, the batch of instances per match, and the
rulesets under which entrants are compared. Each game is scored under its benchmark
preset (:mod:`gangames.concepts`): its solution concept, its oracle budget per seat in
gradient-equivalents of the base game, and its target. A game table may override the
preset's ``budget`` and ``target``; its ``options`` hold game fields and env options
(``reward``, ``prox_lambda``, ``particles``, …), validated as :func:`gangames.make`
validates them. Every match stops at the budget, never at a step count (``max_steps``
is set far beyond it).

Rulesets (after AlgoPerf's external-tuning ruleset):

* ``"defaults"`` — every entrant plays with its configured hyperparameters.
* ``"tuned"`` — every entrant gets the same number ``trials`` of quasi-random trials
  from its declared search space (:func:`agents.search_space`), on ``tuning_seeds``
  seeds distinct from the evaluation seeds; the best trial (lowest median cost to the
  target, then best median final metric) is played on the evaluation seeds.
  Hyperparameters the entrant sets are kept fixed.

Example TOML::

    seeds = 3            # seed indices 0..2 per game
    batch = 4            # instances per match
    modes = ["self_play", "cross_play"]

    rulesets = ["defaults", "tuned"]
    trials = 8           # quasi-random trials per (entrant, game) in "tuned"

    [[games]]
    id = "gangames/Bilinear-v0"
    options = { dimension = 4 }
    budget = 500         # overrides the preset's budget
    target = 1e-4        # overrides the threshold of the preset's headline metric

    [[entrants]]
    agent = "extragradient"
    hyperparameters = { lr = 0.1 }

A game or entrant may also be given by its name alone (``games = ["gangames/
DiracGAN-v0"]``). Labels default to the name plus the options (``gda[lr=0.1]``).

Validation refuses, with a message naming the field: unknown keys, unknown game or
agent names (registry names only — import strings such as ``"pkg.mod:fn"`` are not
names), NaN/inf or negative numbers anywhere (game options and hyperparameters
included; signed hyperparameters need a registered preset), and output paths that
escape the output folder.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import agents
import gangames
from gangames import checks
from gangames.concepts import Condition, Preset, Target
from gangames.errors import InvalidConfigError, UnexpectedKeywordError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = [
    "MODES",
    "RULESETS",
    "Entrant",
    "GameEntry",
    "TournamentConfig",
    "config_diff",
    "load_config",
    "resolve_output",
]

MODES = ("self_play", "cross_play")
RULESETS = ("defaults", "tuned")

_TOP_KEYS = {
    "name",
    "games",
    "entrants",
    "seeds",
    "root_seed",
    "batch",
    "budget",
    "modes",
    "rulesets",
    "trials",
    "tuning_seeds",
    "timeout",
    "retries",
    "device",
    "dtype",
    "store",
    "report_dir",
}


@dataclass(frozen=True)
class GameEntry:
    """A game of the tournament.

    Args:
        id: a registered game id (``gangames.names()``).
        options: the game's keyword options (game fields, ``particles``).
        label: short unique name in tables and plots (default: the id's name, plus
            the options).
        modes: the tournament modes this game takes part in (default: all of them;
            e.g. ``["self_play"]`` keeps an expensive neural game out of cross-play).
        preset: the game's benchmark preset (:class:`~gangames.concepts.Preset`):
            the game's own, with the config's ``budget``/``target`` overrides and its
            env options merged in.
    """

    id: str
    options: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    modes: tuple[str, ...] = ()
    preset: Preset | None = None

    @property
    def env_options(self) -> dict[str, Any]:
        """Game fields and env options a match of this game is made with."""
        return dict(self.preset.options) if self.preset else dict(self.options)


@dataclass(frozen=True)
class Entrant:
    """A solver of the tournament.

    Args:
        agent: a registered agent name (``agents.names()``).
        hyperparameters: keyword arguments of its factory.
        label: short unique name in tables (default: the agent name).
    """

    agent: str
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class TournamentConfig:
    """A whole tournament; its :meth:`hash` identifies the results it produces.

    Args:
        games: the games.
        entrants: the solvers.
        seeds: number of seeds per game (seed indices ``0 … seeds−1``).
        root_seed: root of every match seed (hashed with the match's game and seed).
        batch: game instances per match (played in lockstep; at most
            :data:`~gangames.checks.MAX_BATCH`).
        budget: oracle budget per seat in gradient-equivalents of the base game for
            every game (``None``: each game's preset budget); a match ends when a
            seat reaches it.
        modes: ``"self_play"`` and/or ``"cross_play"``.
        rulesets: ``"defaults"`` and/or ``"tuned"`` (see the module docstring).
        trials: quasi-random trials per (entrant, game) under ``"tuned"``.
        tuning_seeds: seeds the trials are played on (distinct from the evaluation
            seeds: their match seeds are hashed with ``"tuning"``).
        timeout: seconds one match may run before it is recorded as ``timeout`` (at
            most :data:`~gangames.checks.MAX_TIMEOUT_S`, one day).
        retries: extra attempts after an ``agent_error``, ``timeout`` or
            ``worker_crashed`` (``diverged`` is an outcome and never retried); at most
            :data:`~gangames.checks.MAX_RETRIES`.
        device: torch device of the matches (checked to exist on this machine).
        dtype: ``"float32"`` or ``"float64"``.
        store: SQLite file name inside the output folder.
        report_dir: report folder inside the output folder.
        name: a title for the report.
    """

    games: tuple[GameEntry, ...]
    entrants: tuple[Entrant, ...]
    seeds: int = 3
    root_seed: int = 0
    batch: int = 4
    budget: float | None = None
    modes: tuple[str, ...] = ("self_play",)
    rulesets: tuple[str, ...] = ("defaults",)
    trials: int = 8
    tuning_seeds: int = 1
    timeout: float = 120.0
    retries: int = 1
    device: str = "cpu"
    dtype: str = "float32"
    store: str = "results.sqlite"
    report_dir: str = "report"
    name: str = "tournament"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able) of the config, labels filled in."""
        d = asdict(self)
        d["games"] = [
            {"id": g.id, "options": dict(g.options), "label": g.label}
            | ({"modes": list(g.modes)} if g.modes else {})
            | (_preset_dict(g.preset) if g.preset else {})
            for g in self.games
        ]
        d["entrants"] = [
            {
                "agent": e.agent,
                "hyperparameters": dict(e.hyperparameters),
                "label": e.label,
            }
            for e in self.entrants
        ]
        d["modes"] = list(self.modes)
        d["rulesets"] = list(self.rulesets)
        if d["budget"] is None:  # each game's preset budget (stored per game)
            del d["budget"]
        return d

    def canonical_json(self) -> str:
        """Sorted, compact JSON of :meth:`to_dict` (what :meth:`hash` digests)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def hash(self) -> str:
        """SHA-256 of the canonical JSON: equal configs give equal results."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def game(self, label: str) -> GameEntry:
        """The game entry with ``label``."""
        return next(g for g in self.games if g.label == label)

    def preset(self, label: str) -> Preset:
        """The benchmark preset of the game with ``label``."""
        p = self.game(label).preset
        assert p is not None, "validated configs give every game a preset"
        return p

    def entrant(self, label: str) -> Entrant:
        """The entrant with ``label``."""
        return next(e for e in self.entrants if e.label == label)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, check_names: bool = True
    ) -> TournamentConfig:
        """Validate plain data (from TOML or JSON) into a config.

        Args:
            data: the config as a mapping.
            check_names: look the game ids and agent names up in the registries and
                build each once (so bad options fail here, not in a worker).

        Raises:
            InvalidConfigError: naming the offending field.
        """
        if not isinstance(data, Mapping):
            raise InvalidConfigError(
                f"config must be a table, got {type(data).__name__}"
            )
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise InvalidConfigError(
                f"config: unknown field(s) {unknown}; the fields are {sorted(_TOP_KEYS)}"
            )
        _check_numbers(data, "config")
        top_budget = data.get("budget")
        if top_budget is not None:
            top_budget = _number(top_budget, "budget", "positive")
        games = tuple(
            _game(g, f"games[{i}]", top_budget)
            for i, g in enumerate(_list(data, "games"))
        )
        entrants = tuple(
            _entrant(e, f"entrants[{i}]") for i, e in enumerate(_list(data, "entrants"))
        )
        _unique([g.label for g in games], "games", "label")
        _unique([e.label for e in entrants], "entrants", "label")
        kw: dict[str, Any] = {}
        for key, kind in (
            ("seeds", "count"),
            ("root_seed", "int"),
            ("batch", "count"),
            ("retries", "int"),
            ("budget", "positive"),
            ("trials", "count"),
            ("tuning_seeds", "count"),
            ("timeout", "positive"),
        ):
            if key in data:
                kw[key] = _number(data[key], key, kind)
        # upper bounds that keep impossible settings out (gangames.checks)
        checks.batch("batch", kw.get("batch", 1))
        checks.number("retries", kw.get("retries", 0), high=checks.MAX_RETRIES)
        checks.number("timeout", kw.get("timeout", 1.0), high=checks.MAX_TIMEOUT_S)
        for key in ("device", "dtype", "store", "report_dir", "name"):
            if key in data:
                if not isinstance(data[key], str) or not data[key]:
                    raise InvalidConfigError(
                        f"{key} must be a non-empty string, got {data[key]!r}"
                    )
                kw[key] = data[key]
        if "modes" in data:
            kw["modes"] = _modes(data["modes"], "modes", allow_empty=False)
        if "rulesets" in data:
            kw["rulesets"] = _rulesets(data["rulesets"])
        if kw.get("dtype", "float32") not in ("float32", "float64"):
            raise InvalidConfigError(
                f"dtype must be 'float32' or 'float64', got {kw['dtype']!r}"
            )
        for key in ("store", "report_dir"):
            if key in kw:
                resolve_output(Path("."), kw[key], key)
        config = cls(games=games, entrants=entrants, **kw)
        if check_names:
            _check_registries(config)
        return config


def load_config(path: str | Path, **overrides: Any) -> TournamentConfig:
    """Read a TOML config file; ``overrides`` replace top-level fields (CLI flags)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise InvalidConfigError(f"config: no such file {str(p)!r}") from None
    except tomllib.TOMLDecodeError as err:
        raise InvalidConfigError(f"config {str(p)!r}: invalid TOML: {err}") from None
    data.update({k: v for k, v in overrides.items() if v is not None})
    return TournamentConfig.from_dict(data)


def resolve_output(out_dir: Path, relative: str, what: str) -> Path:
    """``out_dir / relative``, refused if it escapes ``out_dir`` (absolute, ``..``)."""
    base = Path(out_dir).resolve()
    rel = Path(relative)
    target = (base / rel).resolve()
    if rel.is_absolute() or base not in target.parents:  # outside, or the folder
        raise InvalidConfigError(
            f"{what}: {relative!r} must be a path inside the output folder "
            "(relative, no '..' leaving it)"
        )
    return target


def config_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Top-level fields whose values differ between two ``to_dict()`` forms."""
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k) != new.get(k)]


# ---- validation helpers ----------------------------------------------------------
def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise InvalidConfigError(
            f"{key} must be a non-empty list of tables, got {value!r}"
        )
    return value


def _table(value: Any, where: str, keys: set[str]) -> Mapping[str, Any]:
    if isinstance(value, str):
        value = {next(iter(sorted(keys & {"id", "agent"}))): value}
    if not isinstance(value, Mapping):
        raise InvalidConfigError(f"{where} must be a table, got {value!r}")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise InvalidConfigError(
            f"{where}: unknown field(s) {unknown}; expected {sorted(keys)}"
        )
    return value


def _name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidConfigError(f"{where} must be a registered name, got {value!r}")
    return value


# "pkg.module:attr" or "pkg.module.attr": how import strings look
_IMPORT_STRING = re.compile(
    r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+(:[A-Za-z_]\w*)?$|^[\w.]+:[A-Za-z_]\w*$"
)


def _refuse_import_string(value: str, where: str, registered: list[str]) -> None:
    """An unregistered name that looks like ``pkg.mod:attr`` gets its own message."""
    if value not in registered and _IMPORT_STRING.match(value):
        raise InvalidConfigError(
            f"{where}: {value!r} looks like an import string; configs accept registry "
            "names only (register plugins through the gangames.games / gangames.agents "
            "entry points)"
        )


def _options(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidConfigError(f"{where} must be a table, got {value!r}")
    return dict(value)


_LABEL_FORBIDDEN = "/\\\n,|"


def _label(value: Any, where: str, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str) or any(c in value for c in _LABEL_FORBIDDEN):
        raise InvalidConfigError(
            f"{where} must be a string without '/', '\\\\', ',', '|', got {value!r}"
        )
    return value


def _fmt(options: Mapping[str, Any]) -> str:
    """``k=v`` pairs for a default label, within the characters labels allow.

    A path-valued option shows its file name; separators become spaces, so a default
    label passes the same check as a given one (the store re-reads it).
    """

    def short(value: Any) -> str:
        text = str(value)
        if isinstance(value, str) and ("/" in text or "\\" in text):
            text = text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
        return "".join(" " if c in _LABEL_FORBIDDEN else c for c in text)

    return " ".join(f"{k}={short(options[k])}" for k in sorted(options))


def _game(value: Any, where: str, budget: float | None) -> GameEntry:
    t = _table(
        value,
        where,
        {"id", "options", "label", "modes", "budget", "target", "preset"},
    )
    gid = _name(t.get("id"), f"{where}.id")
    options = _options(t.get("options"), f"{where}.options")
    short = gid.split("/")[-1]
    default = f"{short}[{_fmt(options)}]" if options else short
    preset: Preset | None
    if "preset" in t:  # as written by to_dict (a store): taken as it is
        preset = _preset_of(t["preset"], f"{where}.preset")
    else:
        preset = _resolve_preset(gid, options, t, budget, where)
    return GameEntry(
        gid,
        options,
        _label(t.get("label"), f"{where}.label", default),
        _modes(t.get("modes", []), f"{where}.modes", allow_empty=True),
        preset,
    )


def _resolve_preset(
    gid: str,
    options: Mapping[str, Any],
    table: Mapping[str, Any],
    budget: float | None,
    where: str,
) -> Preset | None:
    """The game's registered preset with the config's overrides, or ``None``.

    A game without a preset of its own needs ``budget`` and ``target`` in its table
    (its concept is then the Nash gap, ``duality_gap ≤ target``).
    """
    try:
        base: Preset | None = gangames.preset(gid)
    except InvalidConfigError:  # unknown id (named later) or a game without one
        base = None
    budget = table.get("budget", budget)
    if budget is not None:
        budget = _number(budget, f"{where}.budget", "positive")
    target = table.get("target")
    if base is None:
        if budget is None or target is None:
            return None
        base = Preset("nash_gap", Target((Condition("duality_gap", 1.0),)), budget)
    changes: dict[str, Any] = {"options": dict(options)}
    if budget is not None:
        changes["budget"] = budget
    if target is not None:
        changes["target"] = _target(target, base.target, f"{where}.target")
    try:
        return base.replace(**changes)
    except InvalidConfigError as err:
        raise InvalidConfigError(f"{where}: {err}") from None


def _target(value: Any, base: Target, where: str) -> Target:
    """A number (the headline threshold) or a list of ``{metric, value, at_least}``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        head = base.conditions[0]
        threshold = _number(value, where, "positive")
        return Target((Condition(head.metric, threshold, head.at_least),))
    if not isinstance(value, list) or not value:
        raise InvalidConfigError(
            f"{where} must be a number or a list of {{metric, value, at_least}} "
            f"tables, got {value!r}"
        )
    out = []
    for i, c in enumerate(value):
        c = _table(c, f"{where}[{i}]", {"metric", "value", "at_least"})
        out.append(
            Condition(
                _name(c.get("metric"), f"{where}[{i}].metric"),
                _number(c.get("value"), f"{where}[{i}].value", "positive"),
                bool(c.get("at_least", False)),
            )
        )
    return Target(tuple(out))


def _preset_dict(p: Preset) -> dict[str, Any]:
    """The resolved preset as plain data (stored with the config)."""
    return {
        "preset": {
            "concept": p.concept,
            "target": [
                {"metric": c.metric, "value": c.value, "at_least": c.at_least}
                for c in p.target.conditions
            ],
            "budget": p.budget,
            "options": dict(p.options),
            "why": p.why,
            "measure_every": p.measure_every,
        }
    }


def _preset_of(value: Any, where: str) -> Preset:
    t = _table(
        value,
        where,
        {"concept", "target", "budget", "options", "why", "measure_every"},
    )
    try:
        return Preset(
            t["concept"],
            _target(t["target"], Target((Condition("duality_gap", 1.0),)), where),
            t["budget"],
            dict(t.get("options", {})),
            t.get("why", ""),
            t.get("measure_every", 1),
        )
    except (KeyError, InvalidConfigError) as err:
        raise InvalidConfigError(f"{where}: {err}") from None


def _modes(value: Any, where: str, *, allow_empty: bool) -> tuple[str, ...]:
    """Modes (a name or a list of names of :data:`MODES`) in canonical order."""
    modes = [value] if isinstance(value, str) else value
    if not isinstance(modes, list | tuple) or not (modes or allow_empty):
        kind = "a list" if allow_empty else "a non-empty list"
        raise InvalidConfigError(f"{where} must be {kind} of {MODES}, got {value!r}")
    for m in modes:
        if m not in MODES:
            raise InvalidConfigError(f"{where}: unknown mode {m!r}; expected {MODES}")
    return tuple(m for m in MODES if m in modes)


def _rulesets(value: Any) -> tuple[str, ...]:
    """Rulesets (a name or a list of names of :data:`RULESETS`) in canonical order."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not names:
        raise InvalidConfigError(
            f"rulesets must be a non-empty list of {RULESETS}, got {value!r}"
        )
    for r in names:
        if r not in RULESETS:
            raise InvalidConfigError(
                f"rulesets: unknown ruleset {r!r}; expected {RULESETS}"
            )
    return tuple(r for r in RULESETS if r in names)


def _entrant(value: Any, where: str) -> Entrant:
    t = _table(value, where, {"agent", "hyperparameters", "label"})
    name = _name(t.get("agent"), f"{where}.agent")
    hp = _options(t.get("hyperparameters"), f"{where}.hyperparameters")
    default = f"{name}[{_fmt(hp)}]" if hp else name
    return Entrant(name, hp, _label(t.get("label"), f"{where}.label", default))


def _unique(labels: list[str], where: str, what: str) -> None:
    seen = set()
    for i, label in enumerate(labels):
        if label in seen:
            raise InvalidConfigError(
                f"{where}[{i}].{what}: duplicate {label!r}; give each a distinct label"
            )
        seen.add(label)


def _check_numbers(value: Any, where: str) -> None:
    """Refuse NaN, ±inf and negative numbers anywhere, naming the field."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise InvalidConfigError(f"{where} must be finite, got {value!r}")
        if value < 0:
            raise InvalidConfigError(f"{where} must not be negative, got {value!r}")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _check_numbers(v, f"{where}.{k}" if where != "config" else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_numbers(v, f"{where}[{i}]")


def _number(value: Any, where: str, kind: str) -> Any:
    if kind in ("count", "int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidConfigError(f"{where} must be an integer, got {value!r}")
        if kind == "count" and value < 1:
            raise InvalidConfigError(f"{where} must be at least 1, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidConfigError(f"{where} must be a positive number, got {value!r}")
    return float(value)


def _check_registries(config: TournamentConfig) -> None:
    checks.device("device", config.device)
    games, names = gangames.names(), agents.names()
    for i, g in enumerate(config.games):
        _refuse_import_string(g.id, f"games[{i}].id", games)
        try:
            gangames.spec(g.id)
        except InvalidConfigError as err:
            raise InvalidConfigError(f"games[{i}].id: {err}") from None
        if g.preset is None:
            raise InvalidConfigError(
                f"games[{i}] ({g.label}): {g.id} declares no benchmark preset; give "
                "its budget and target in the game's table"
            )
        try:  # game fields and env options, refused with gangames.make's messages
            gangames.make(g.id, **g.env_options)
        except UnexpectedKeywordError as err:
            raise InvalidConfigError(
                f"games[{i}] ({g.label}): unknown option; {err}"
            ) from None
        except InvalidConfigError as err:
            raise InvalidConfigError(f"games[{i}] ({g.label}): {err}") from None
    for i, e in enumerate(config.entrants):
        _refuse_import_string(e.agent, f"entrants[{i}].agent", names)
        try:
            agents.make(e.agent, **e.hyperparameters)
        except UnexpectedKeywordError as err:
            raise InvalidConfigError(
                f"entrants[{i}] ({e.label}): unknown hyperparameter; {err}"
            ) from None
        except InvalidConfigError as err:
            raise InvalidConfigError(f"entrants[{i}] ({e.label}): {err}") from None
        except Exception:  # the factory's own fault: each match records agent_error
            pass
