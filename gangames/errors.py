"""Errors raised at the API boundary; all are ``ValueError`` subclasses."""

from __future__ import annotations

__all__ = [
    "InvalidActionError",
    "InvalidConfigError",
    "ResetNeededError",
    "UnknownAgentError",
]


class InvalidActionError(ValueError):
    """An action of the wrong type, shape, dtype, device, or with NaN/Inf entries."""


class UnknownAgentError(ValueError):
    """An agent name that is not a seat of the game, or a missing seat."""


class ResetNeededError(ValueError):
    """``step`` (or ``observe``) before ``reset``, or after the episode ended."""


class InvalidConfigError(ValueError):
    """A configuration value out of range, of the wrong type, or an unknown name."""
