"""Errors raised at the API boundary.

A bad *value* raises a ``ValueError`` subclass. An unknown *keyword* raises
:class:`UnexpectedKeywordError`, a ``TypeError`` in Python's own wording, as a call
with a wrong keyword does: clients that retry without an optional keyword when it is
refused (SB3's ``make_vec_env`` with ``render_mode``, TorchRL's ``GymEnv`` with
``frameskip``) catch ``TypeError`` only.
"""

from __future__ import annotations

__all__ = [
    "InvalidActionError",
    "InvalidConfigError",
    "RenderModeError",
    "ResetNeededError",
    "UnexpectedKeywordError",
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


class RenderModeError(InvalidConfigError, TypeError):
    """A ``render_mode`` the game cannot draw.

    Also a ``TypeError``: SB3's ``make_vec_env`` asks every env for
    ``render_mode="rgb_array"`` and builds it without one on a ``TypeError``.
    """


class UnexpectedKeywordError(TypeError):
    """An option, field or hyperparameter that the callee does not take.

    Example:
        >>> str(UnexpectedKeywordError.of("make", ["frameskip"]))
        "make() got an unexpected keyword argument 'frameskip'"
    """

    @classmethod
    def of(
        cls, function: str, names: list[str], hint: str = ""
    ) -> UnexpectedKeywordError:
        """Python's message for the first of ``names``, then ``hint`` in brackets."""
        more = f" ({hint})" if hint else ""
        return cls(
            f"{function}() got an unexpected keyword argument {sorted(names)[0]!r}{more}"
        )
