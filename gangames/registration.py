"""The game registry: versioned ids, ``make``, ``register`` and entry points.

Ids follow Gymnasium's ``namespace/Name-vN`` form. ``register(id, entry_point,
**defaults)`` records a game constructor (a :class:`~gangames.game.Game` subclass or
any callable returning a game) with default keyword arguments, and registers the same
id in PettingZoo's parallel and AEC registries, so that
``pettingzoo.make("parallel", "gangames/Bilinear-v0")`` works after ``import gangames``.

``make(id, **kwargs)`` splits the keyword arguments: the environment options of
:class:`~gangames.envs.EnvConfig` (plus ``order``, ``particles`` and ``flat``, :mod:`gangames.flat`) configure the env,
every other keyword is a field of the game. Entry points must be callables, never
import strings, so a config file can only name registered games.

Third-party packages add games through the entry-point group ``gangames.games``: each
entry point loads either a ``Game`` subclass (registered under the entry point's name,
which must be a valid id) or a function that calls :func:`register` itself.

The single-agent Gymnasium views of each game's seats (:mod:`gangames.wrappers`) are
registered by :func:`register_views` under an import string, so ``import gangames``
registers them without loading the views or the :mod:`agents` they play against.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.metadata
import inspect
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium
import pettingzoo

from gangames import checks
from gangames import flat as flat_format
from gangames.concepts import Preset
from gangames.envs import EnvConfig, GameAECEnv, GameParallelEnv
from gangames.errors import InvalidConfigError, UnexpectedKeywordError
from gangames.game import Game, mixed
from gangames.types import SEATS, Seat

__all__ = [
    "GameSpec",
    "load_entry_points",
    "make",
    "make_game",
    "names",
    "preset",
    "register",
    "register_views",
    "spec",
    "view_id",
]

_ID = re.compile(r"^(?:[\w.-]+/)?[\w:.-]+-v\d+$")
_ENV_OPTIONS = frozenset(f.name for f in dataclasses.fields(EnvConfig))
ORDERS = ("simultaneous", "sequential")
VIEW_ENTRY_POINT = "gangames.wrappers:GameView"  # imported by gymnasium.make only


@dataclass(frozen=True)
class GameSpec:
    """A registered game: its id, constructor and default keyword arguments."""

    id: str
    entry_point: Callable[..., Game]
    defaults: dict[str, Any] = field(default_factory=dict)


_REGISTRY: dict[str, GameSpec] = {}


def register(id: str, entry_point: Callable[..., Game], **defaults: Any) -> None:
    """Register a game under a versioned id (``namespace/Name-vN``).

    Args:
        id: the id; re-registering an id replaces it with a warning.
        entry_point: a ``Game`` subclass or a callable returning a ``Game``.
        **defaults: default keyword arguments (game fields or env options).
    """
    if not isinstance(id, str) or not _ID.match(id):
        raise InvalidConfigError(
            f"game id must look like 'namespace/Name-v0', got {id!r}"
        )
    if not callable(entry_point) or isinstance(entry_point, str):
        raise InvalidConfigError(
            f"{id}: entry_point must be a callable (import strings are refused)"
        )
    if id in _REGISTRY:
        warnings.warn(f"overriding game {id!r}", stacklevel=2)
    _REGISTRY[id] = GameSpec(id, entry_point, dict(defaults))
    _register_pettingzoo(id)


def _register_pettingzoo(id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pettingzoo.register("parallel", id, entry_point=_factory(id, "simultaneous"))
        pettingzoo.register("aec", id, entry_point=_factory(id, "sequential"))


def _factory(id: str, order: str) -> Callable[..., Any]:
    def create(**kwargs: Any) -> Any:
        if order == "sequential" and kwargs.get("batch") is not None:
            raise InvalidConfigError(
                f"pettingzoo.make('aec', {id!r}) builds PettingZoo's AEC env, whose "
                f"rewards are scalars; batch={kwargs['batch']!r} "
                "would make them (B,) arrays. Play batches in the parallel env "
                f"(pettingzoo.make('parallel', {id!r}, batch=...)), or use "
                f"gangames.make({id!r}, order='sequential', batch=...), gangames' "
                "vector AEC API (see gangames.envs)"
            )
        return make(id, order=order, **kwargs)

    create.__name__ = f"make_{order}"
    return create


def names() -> list[str]:
    """Every registered game id, sorted."""
    load_entry_points()
    return sorted(_REGISTRY)


def spec(id: str) -> GameSpec:
    """The spec of a registered id (a close-match hint if unknown)."""
    load_entry_points()
    try:
        return _REGISTRY[id]
    except KeyError:
        hint = difflib.get_close_matches(str(id), list(_REGISTRY), n=3)
        more = f"; did you mean {' or '.join(map(repr, hint))}?" if hint else ""
        raise InvalidConfigError(
            f"unknown game id {id!r}{more} (see gangames.names())"
        ) from None


def make_game(id: str, **kwargs: Any) -> Game:
    """Build the registered game ``id`` with game fields ``kwargs`` (no env).

    ``particles=K`` lifts it to mixed strategies (:func:`~gangames.game.mixed`).

    Raises:
        UnexpectedKeywordError: a keyword that is no field of the game (a
            ``TypeError``).
        InvalidConfigError: a bad value.
    """
    return _game(id, kwargs, "make_game")


def _game(id: str, kwargs: dict[str, Any], caller: str) -> Game:
    s = spec(id)
    merged = {
        **{k: v for k, v in s.defaults.items() if k not in _ENV_OPTIONS},
        **kwargs,
    }
    fields = _game_fields(s.entry_point)
    unknown = [] if fields is None else sorted(set(merged) - fields - {"particles"})
    if unknown:
        raise UnexpectedKeywordError.of(
            caller,
            unknown,
            f"{id} takes game options {sorted(fields or ())} and env options "
            f"{sorted(_ENV_OPTIONS | {'order', 'particles', 'flat', 'clip_observations'})}",
        )
    checks.finite_options(id, merged)
    particles = merged.pop("particles", None)
    try:
        game = s.entry_point(**merged)
    except (TypeError, ValueError) as err:
        raise InvalidConfigError(f"{id}: {err}") from None
    return game if particles is None else mixed(game, particles=particles)


def preset(id: str) -> Preset:
    """The benchmark preset the game ``id`` declares (:mod:`gangames.concepts`).

    Raises:
        InvalidConfigError: the game declares none.
    """
    game = make_game(id)
    if game.preset is None:
        raise InvalidConfigError(
            f"{id}: the game declares no benchmark preset (its class attribute "
            "'preset'); give the game's concept, budget and target in the config"
        )
    return game.preset


def _game_fields(entry_point: Callable[..., Game]) -> set[str] | None:
    """The keywords ``entry_point`` takes (``None``: any, it has ``**kwargs``)."""
    params = inspect.signature(entry_point).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {
        p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


def make(
    id: str,
    *,
    order: str = "simultaneous",
    max_cycles: int | None = None,
    flat: bool = False,
    clip_observations: float | None = None,
    **kwargs: Any,
) -> (
    GameParallelEnv | GameAECEnv | flat_format.FlatParallelEnv | flat_format.FlatAECEnv
):
    """Build the environment of a registered game.

    Args:
        id: a registered id, e.g. ``"gangames/DiracGAN-v0"``.
        order: ``"simultaneous"`` (PettingZoo ``ParallelEnv``) or ``"sequential"``
            (``AECEnv``; generator first unless ``first="discriminator"``).
        max_cycles: alias of ``max_steps`` (PettingZoo's registry passes it).
        flat: the RL-facing format (:mod:`gangames.flat`): one flat ``Box``
            observation per seat and a bounded action ``Box``; ``max_update``
            defaults to a tenth of the game's ``init_scale`` (games without one
            need ``max_update=``).
        clip_observations: with ``flat=True``, clip observations to this bound and
            give the box finite bounds (SuperSuit's ``normalize_obs_v0`` needs them).
        **kwargs: env options (:class:`~gangames.envs.EnvConfig` fields), ``particles``
            (lift to mixed strategies), and the game's own fields.

    Raises:
        UnexpectedKeywordError: a keyword that is neither an env option nor a field
            of the game (a ``TypeError``, in Python's wording).
        InvalidConfigError: a bad value.

    Example:
        >>> import gangames
        >>> env = gangames.make("gangames/Bilinear-v0", dimension=3, batch=4, max_steps=10)
        >>> obs, infos = env.reset(seed=0)
        >>> obs["generator"]["own"].shape
        (4, 3)
    """
    if order not in ORDERS:
        raise InvalidConfigError(f"order must be one of {ORDERS}, got {order!r}")
    s = spec(id)
    if max_cycles is not None:
        kwargs.setdefault("max_steps", max_cycles)
    env_kwargs = {k: v for k, v in s.defaults.items() if k in _ENV_OPTIONS}
    env_kwargs.update({k: kwargs.pop(k) for k in list(kwargs) if k in _ENV_OPTIONS})
    game = _game(id, kwargs, "make")
    if not isinstance(flat, bool):
        raise InvalidConfigError(f"flat must be True or False, got {flat!r}")
    if clip_observations is not None and not flat:
        raise InvalidConfigError("clip_observations is an option of flat=True")
    if flat and env_kwargs.get("max_update") is None:
        env_kwargs["max_update"] = flat_format.require_max_update(id, game)
    config = EnvConfig(**env_kwargs)
    env = (
        GameParallelEnv(game, config)
        if order == "simultaneous"
        else GameAECEnv(game, config)
    )
    if not flat:
        return env
    return flat_format.wrap(env, clip_observations=clip_observations)


_LOADED = False


def load_entry_points() -> None:
    """Register the games that installed packages expose in group ``gangames.games``."""
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for ep in importlib.metadata.entry_points(group="gangames.games"):
        try:
            obj = ep.load()
        except Exception as err:  # a broken plugin must not break gangames
            warnings.warn(
                f"could not load game entry point {ep.name!r}: {err}", stacklevel=2
            )
            continue
        if isinstance(obj, type) and issubclass(obj, Game):
            register(ep.name, obj)
        elif callable(obj):
            obj()
        else:
            warnings.warn(
                f"game entry point {ep.name!r} is neither a Game nor a function",
                stacklevel=2,
            )


def view_id(game_id: str, seat: Seat) -> str:
    """The view id of a game id: ``ns/Name-vN`` → ``ns/Name-<seat>-vN``.

    Example:
        >>> view_id("gangames/DiracGAN-v0", "generator")
        'gangames/DiracGAN-generator-v0'
    """
    head, _, version = game_id.rpartition("-v")
    return f"{head}-{seat}-v{version}"


def register_views(game_ids: Sequence[str] | None = None) -> list[str]:
    """Register the generator and discriminator views of games with Gymnasium.

    Called on ``import gangames`` for every registered game; call it again after
    registering games of your own. The views are
    :class:`gangames.wrappers.GameView`, registered by import string: the module is
    loaded when ``gymnasium.make`` first builds one.

    Args:
        game_ids: the games (default: every registered game).

    Returns:
        The view ids registered.
    """
    ids = []
    for game_id in names() if game_ids is None else game_ids:
        for seat in SEATS:
            vid = view_id(game_id, seat)
            if vid not in gymnasium.registry:
                gymnasium.register(
                    vid,
                    entry_point=VIEW_ENTRY_POINT,
                    kwargs={"game_id": game_id, "seat": seat},
                )
            ids.append(vid)
    return ids
