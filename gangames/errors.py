"""Errors raised at the API boundary; all are ``ValueError`` subclasses."""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "InvalidActionError",
    "InvalidConfigError",
    "ResetNeededError",
    "UnknownAgentError",
    "require_positive",
]


class InvalidActionError(ValueError):
    """An action of the wrong type, shape, dtype, device, or with NaN/Inf entries."""


class UnknownAgentError(ValueError):
    """An agent name that is not a seat of the game, or a missing seat."""


class ResetNeededError(ValueError):
    """``step`` (or ``observe``) before ``reset``, or after the episode ended."""


class InvalidConfigError(ValueError):
    """A configuration value out of range, of the wrong type, or an unknown name."""


def require_positive(
    name: str, value: Any, *, integer: bool = False, allow_none: bool = False
) -> None:
    """Raise :class:`InvalidConfigError` unless ``value`` is a positive finite number.

    ``integer=True`` asks for a positive ``int``; ``allow_none=True`` also accepts
    ``None``. Booleans are refused (``True`` is not a count).
    """
    if value is None and allow_none:
        return
    kinds = (int,) if integer else (int, float)
    if (
        isinstance(value, bool)
        or not isinstance(value, kinds)
        or not math.isfinite(value)
        or value <= 0
    ):
        kind = "a positive int" if integer else "a positive finite number"
        raise InvalidConfigError(f"{name} must be {kind}, got {value!r}")
