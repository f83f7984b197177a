"""The agent registry: ``make(name, **hyperparameters)`` → :class:`~gangames.rules.Solver`.

Ids are lowercase method names. Factories are callables returning a ``Solver``; import
strings are refused, so configs can only name registered agents. Third-party packages
add agents through the entry-point group ``gangames.agents``: each entry point loads a
factory (registered under the entry point's name) or a function that calls
:func:`register` itself (recognised by taking no arguments and returning ``None``).
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

from gangames.errors import InvalidConfigError
from gangames.rules import Solver

__all__ = ["factory", "make", "names", "register"]

_NAME = re.compile(r"^[a-z][a-z0-9_.:/-]*$")
_REGISTRY: dict[str, Callable[..., Solver]] = {}
_LOADED = False


def register(name: str, factory: Callable[..., Solver]) -> None:
    """Register a solver factory under a lowercase id."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidConfigError(
            f"agent id must be lowercase (e.g. 'extragradient'), got {name!r}"
        )
    if not callable(factory) or isinstance(factory, str):
        raise InvalidConfigError(
            f"{name}: factory must be a callable (import strings are refused)"
        )
    if name in _REGISTRY:
        warnings.warn(f"overriding agent {name!r}", stacklevel=2)
    _REGISTRY[name] = factory


def _load_entry_points() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for ep in importlib.metadata.entry_points(group="gangames.agents"):
        try:
            obj = ep.load()
        except Exception as err:  # a broken plugin must not break gangames
            warnings.warn(
                f"could not load agent entry point {ep.name!r}: {err}", stacklevel=2
            )
            continue
        if (
            callable(obj)
            and not inspect.signature(obj).parameters
            and ep.name.startswith("register")
        ):
            obj()
        elif callable(obj):
            register(ep.name, obj)


def names() -> list[str]:
    """Every registered agent id, sorted."""
    _load_entry_points()
    return sorted(_REGISTRY)


def factory(name: str) -> Callable[..., Solver]:
    """The factory of a registered id (with a close-match hint if unknown)."""
    _load_entry_points()
    try:
        return _REGISTRY[name]
    except KeyError:
        hint = difflib.get_close_matches(str(name), list(_REGISTRY), n=3)
        more = f"; did you mean {' or '.join(map(repr, hint))}?" if hint else ""
        raise InvalidConfigError(
            f"unknown agent {name!r}{more} (see agents.names())"
        ) from None


def make(name: str, **hyperparameters: Any) -> Solver:
    """Build the registered solver ``name`` with its hyperparameters.

    Example:
        >>> import agents
        >>> agents.make("extragradient", lr=0.1).name
        'extragradient'
    """
    f = factory(name)
    try:
        inspect.signature(f).bind(**hyperparameters)
    except TypeError:
        params = sorted(inspect.signature(f).parameters)
        unknown = sorted(set(hyperparameters) - set(params))
        raise InvalidConfigError(
            f"{name}: unknown hyperparameter(s) {unknown}; it takes {params}"
        ) from None
    try:
        return f(**hyperparameters)
    except ValueError as err:
        raise InvalidConfigError(f"{name}: {err}") from None
