"""The validation layer: every number, count and device checked at the boundary.

Games, envs, the Gymnasium views, agents, tournament configs and the CLI check what
they are given with these functions, so a bad value is refused before any match starts
with one :class:`~gangames.errors.InvalidConfigError` naming the parameter, what was
expected and what came. Booleans are never numbers here (``True`` is not a count), and
``NaN`` and ``±inf`` are refused everywhere a number is asked for.

Bounds that keep impossible settings out (each documented where it is used):

* :data:`MAX_BATCH` — game instances played in lockstep by one env or match;
* :data:`MAX_TIMEOUT_S` — seconds one match may run;
* :data:`MAX_RETRIES` — extra attempts of a failed match.

Example:
    >>> positive("lr", 0.1)
    0.1
    >>> positive("lr", float("inf"))
    Traceback (most recent call last):
    ...
    gangames.errors.InvalidConfigError: lr must be a finite number > 0, got inf
    >>> number("retries", 11, low=0, high=MAX_RETRIES, integer=True)
    Traceback (most recent call last):
    ...
    gangames.errors.InvalidConfigError: retries must be an int in [0, 10], got 11
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from gangames.errors import InvalidConfigError

__all__ = [
    "MAX_BATCH",
    "MAX_RETRIES",
    "MAX_TIMEOUT_S",
    "batch",
    "device",
    "finite_options",
    "number",
    "positive",
]

MAX_BATCH = 2**20
"""Most instances in one batch (about a million): 10⁶ rows of even the smallest game's
state fill gigabytes once a rule keeps history, so more is a typo, not a run."""

MAX_TIMEOUT_S = 86_400.0
"""Longest per-match timeout: one day (a hung match must be recorded within a day)."""

MAX_RETRIES = 10
"""Most extra attempts of a failed match (a deterministic failure fails every time)."""


def _fmt(bound: float) -> str:
    return str(bound) if isinstance(bound, int) else f"{bound:g}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
    integer: bool = False,
    allow_none: bool = False,
) -> Any:
    """``value`` if it is a finite number in ``[low, high]``.

    ``open_low`` excludes ``low``, ``open_high`` excludes ``high``; ``integer=True`` asks for an ``int``; ``allow_none``
    also accepts ``None``. Integers come back as they are, other numbers as floats.

    Raises:
        InvalidConfigError: naming ``name``, the expected range and the received value.
    """
    if value is None and allow_none:
        return None
    kind = "an int" if integer else "a finite number"
    ok = (
        (isinstance(value, int) and not isinstance(value, bool))
        if integer
        else (_is_number(value) and math.isfinite(value))
    )
    if ok:
        ok = (low is None or (value > low if open_low else value >= low)) and (
            high is None or (value < high if open_high else value <= high)
        )
    if not ok:
        if low is not None and high is not None:
            left, right = "(["[not open_low], ")]"[not open_high]
            want = f"{kind} in {left}{_fmt(low)}, {_fmt(high)}{right}"
        elif low is not None:
            want = f"{kind} {'>' if open_low else '≥'} {_fmt(low)}"
        elif high is not None:
            want = f"{kind} {'<' if open_high else '≤'} {_fmt(high)}"
        else:
            want = kind
        if allow_none:
            want += " or None"
        raise InvalidConfigError(f"{name} must be {want}, got {value!r}")
    return value if integer else float(value)


def positive(
    name: str,
    value: Any,
    *,
    integer: bool = False,
    allow_zero: bool = False,
    allow_none: bool = False,
) -> Any:
    """``value`` if it is a finite number > 0 (≥ 0 with ``allow_zero``); see :func:`number`.

    Example:
        >>> positive("batch", 0, integer=True)
        Traceback (most recent call last):
        ...
        gangames.errors.InvalidConfigError: batch must be an int > 0, got 0
    """
    return number(
        name,
        value,
        low=0,
        open_low=not allow_zero,
        integer=integer,
        allow_none=allow_none,
    )


def batch(name: str, value: Any, *, allow_none: bool = False) -> Any:
    """``value`` if it is an int in ``[1, MAX_BATCH]``."""
    return number(
        name, value, low=1, high=MAX_BATCH, integer=True, allow_none=allow_none
    )


def finite_options(owner: str, options: Mapping[str, Any]) -> None:
    """Refuse ``NaN`` and ``±inf`` among the number values of ``options``.

    Run on a game's options before it is built, so an infinity is named as such
    whatever the game's own range checks would make of it; tuple and list values are
    checked entry by entry.

    Example:
        >>> finite_options("gangames/Quadratic-v0", {"mu": float("inf")})
        Traceback (most recent call last):
        ...
        gangames.errors.InvalidConfigError: gangames/Quadratic-v0: mu must be a finite number, got inf
    """
    for name, value in options.items():
        items = value if isinstance(value, tuple | list) else (value,)
        for item in items:
            if _is_number(item) and not math.isfinite(item):
                raise InvalidConfigError(
                    f"{owner}: {name} must be a finite number, got {value!r}"
                )


def device(name: str, value: Any) -> Any:
    """``value`` as a ``torch.device`` that exists on this machine.

    ``"cuda"`` needs CUDA, ``"cuda:K"`` needs more than K GPUs, ``"mps"`` needs MPS.

    Example:
        >>> device("device", "cpu")
        device(type='cpu')
        >>> device("device", "gpu")
        Traceback (most recent call last):
        ...
        gangames.errors.InvalidConfigError: device must be a torch device such as 'cpu' or 'cuda:0', got 'gpu'
    """
    try:
        dev = torch.device(value)
    except (RuntimeError, TypeError):
        raise InvalidConfigError(
            f"{name} must be a torch device such as 'cpu' or 'cuda:0', got {value!r}"
        ) from None
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InvalidConfigError(
                f"{name} must be a device of this machine ('cpu'; CUDA is not "
                f"available), got {value!r}"
            )
        if dev.index is not None and dev.index >= count:
            raise InvalidConfigError(
                f"{name} must be 'cpu' or one of cuda:0…cuda:{count - 1} (this "
                f"machine has {count} GPU{'s' if count > 1 else ''}), got {value!r}"
            )
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidConfigError(
            f"{name} must be a device of this machine (MPS is not available), "
            f"got {value!r}"
        )
    return dev
