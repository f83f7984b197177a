"""The agent registry: ``make(name, **hyperparameters)`` → :class:`~gangames.rules.Solver`.

Ids are lowercase method names. Factories are callables returning a ``Solver``; import
strings are refused, so configs can only name registered agents. Each agent declares
its hyperparameter search space beside its factory (:class:`~agents.search.SearchSpace`,
read back by :func:`search_space`); an agent registered without one has the empty
space, whose only trial is its defaults. Third-party packages add agents through the
entry-point group ``gangames.agents``: each entry point loads a factory (registered
under the entry point's name, with the empty space) or a function that calls
:func:`register` itself (recognised by taking no arguments and returning ``None``),
which can declare a space.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import re
import warnings
from collections.abc import Callable
from typing import Any

from agents.search import SearchSpace
from gangames.errors import InvalidConfigError, UnexpectedKeywordError
from gangames.rules import Solver

__all__ = ["factory", "make", "names", "register", "search_space"]

_NAME = re.compile(r"^[a-z][a-z0-9_.:/-]*$")
_REGISTRY: dict[str, Callable[..., Solver]] = {}
_SPACES: dict[str, SearchSpace] = {}
_LOADED = False


def register(
    name: str, factory: Callable[..., Solver], space: SearchSpace | None = None
) -> None:
    """Register a solver factory under a lowercase id, with its search space.

    Args:
        name: the id (lowercase).
        factory: a callable returning a :class:`~gangames.rules.Solver`.
        space: the hyperparameters to tune and their ranges; every name must be a
            keyword of ``factory``. ``None``: the empty space (nothing to tune).

    Raises:
        InvalidConfigError: a bad id, a non-callable factory, or a space that is not
            a :class:`~agents.search.SearchSpace` or names an argument the factory
            lacks.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidConfigError(
            f"agent id must be lowercase (e.g. 'extragradient'), got {name!r}"
        )
    if not callable(factory) or isinstance(factory, str):
        raise InvalidConfigError(
            f"{name}: factory must be a callable (import strings are refused)"
        )
    space = SearchSpace() if space is None else space
    if not isinstance(space, SearchSpace):
        raise InvalidConfigError(
            f"{name}: space must be an agents.search.SearchSpace, got {space!r}"
        )
    params = inspect.signature(factory).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(space) - set(params))
        if unknown:
            raise InvalidConfigError(
                f"{name}: search space names {unknown}, which the factory does not "
                f"take (it takes {sorted(params)})"
            )
    if name in _REGISTRY:
        warnings.warn(f"overriding agent {name!r}", stacklevel=2)
    _REGISTRY[name] = factory
    _SPACES[name] = space


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


def search_space(name: str) -> SearchSpace:
    """The search space declared with a registered id (empty if none was).

    Example:
        >>> import agents
        >>> agents.search_space("gda").per_instance
        ('lr', 'lr_discriminator')
    """
    factory(name)  # an unknown id fails here, with its hint
    return _SPACES[name]


def make(name: str, **hyperparameters: Any) -> Solver:
    """Build the registered solver ``name`` with its hyperparameters.

    Every hyperparameter in ``search_space(name).per_instance`` may also be a
    ``(B, 1)`` tensor on the env's device and dtype, one value per instance of the
    batch (:data:`agents.transforms.Hyperparameter`).

    Raises:
        UnexpectedKeywordError: a hyperparameter the solver does not take (a
            ``TypeError``, in Python's wording).
        InvalidConfigError: a bad value, or a required hyperparameter missing.

    Example:
        >>> import agents
        >>> agents.make("extragradient", lr=0.1).name
        'extragradient'
    """
    f = factory(name)
    try:
        inspect.signature(f).bind(**hyperparameters)
    except TypeError as err:
        params = sorted(inspect.signature(f).parameters)
        unknown = sorted(set(hyperparameters) - set(params))
        if not unknown:  # a required hyperparameter missing
            raise InvalidConfigError(f"{name}: {err}") from None
        raise UnexpectedKeywordError.of(
            "make", unknown, f"{name} takes hyperparameters {params}"
        ) from None
    try:
        return f(**hyperparameters)
    except ValueError as err:
        raise InvalidConfigError(f"{name}: {err}") from None
