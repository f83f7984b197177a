"""Tuning trials as batched matches: hyperparameters as per-instance tensors.

The trials of one entrant on one game differ only in their hyperparameters. Where a
rule takes a hyperparameter as a ``(B, 1)`` tensor (the names in
``agents.search_space(name).per_instance``), T trials of I instances each are one
match of ``B = T·I`` instances: one env, one oracle pass per round for all of them,
instead of T matches. :func:`sweep` groups the trials by their structural values (loop
counts, choices: equal values → one group) and builds one solver per group with
trial-major rows — row ``k·I + i`` is the group's k-th trial on instance i.

A trial inside a sweep plays exactly the instances it plays alone: with
``seeds = derive_seeds(match_seed, I)``, the alone match resets with ``seed=seeds``
(``batch=I``), the group's with ``seed=seeds * len(group.trials)``
(``batch=len(group.trials)·I``), and a list of seeds is used as given. Every rule and
game is batch-safe (row b never reads row b′), so row ``k·I + i`` of the group equals
row ``i`` of the trial played alone — bit for bit on CPU in float64 (tested for every
built-in agent).

Example:
    >>> import torch, agents, gangames
    >>> from gangames.random import derive_seeds
    >>> trials = agents.search_space("extragradient").sample(4, seed=0)
    >>> groups = sweep(
    ...     "extragradient", trials, instances=2, device="cpu", dtype=torch.float64
    ... )
    >>> [group.trials for group in groups]
    [(0, 1, 2, 3)]
    >>> env = gangames.make(
    ...     "gangames/Bilinear-v0", batch=8, max_steps=20, dtype="float64"
    ... )
    >>> infos = agents.play(env, groups[0].solver, seed=derive_seeds(0, 2) * 4)
    >>> infos[-1]["distance"].shape  # trial k, instance i in row 2k + i
    (8,)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import torch

from agents.registry import make, search_space
from gangames.errors import InvalidConfigError, UnexpectedKeywordError
from gangames.rules import Solver

__all__ = ["SweepGroup", "sweep"]


class SweepGroup(NamedTuple):
    """Trials that play as one batched match.

    Attributes:
        solver: built with ``(len(trials)·instances, 1)`` tensors for the per-instance
            hyperparameters (trial-major rows) and the group's structural values.
        trials: indices into the ``trials`` list given to :func:`sweep`.
    """

    solver: Solver
    trials: tuple[int, ...]


def _batchable(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def sweep(
    name: str,
    trials: Sequence[Mapping[str, Any]],
    *,
    instances: int,
    device: torch.device | str,
    dtype: torch.dtype | str,
) -> list[SweepGroup]:
    """Group the trials of agent ``name`` into batched solvers.

    A trial's number for a per-instance hyperparameter goes into the group's tensor;
    everything else (structural values, and any other argument the trial sets) must
    be equal across a group. An agent whose space has no per-instance dimension gets
    one group per trial, built with plain floats.

    Args:
        name: a registered agent id.
        trials: hyperparameter dicts (e.g. ``search_space(name).sample(n, seed)``).
        instances: game instances per trial, I ≥ 1.
        device: the env's device.
        dtype: the env's dtype (``torch.float32`` or ``torch.float64``, also as
            the strings ``"float32"``, ``"float64"`` an env config takes).

    Returns:
        The groups, in order of their first trial.

    Raises:
        InvalidConfigError: an unknown agent, bad arguments, or a trial its factory
            refuses (naming the trial).
    """
    if isinstance(instances, bool) or not isinstance(instances, int) or instances < 1:
        raise InvalidConfigError(f"instances must be an int ≥ 1, got {instances!r}")
    dtype = getattr(torch, dtype, dtype) if isinstance(dtype, str) else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise InvalidConfigError(f"dtype must be a floating torch.dtype, got {dtype!r}")
    if isinstance(trials, (str, Mapping)) or not all(
        isinstance(t, Mapping) for t in trials
    ):
        raise InvalidConfigError(
            f"trials must be a sequence of hyperparameter dicts, got {trials!r:.80}"
        )
    per_instance = set(search_space(name).per_instance)
    # a group: its structural values and its batched names, and its trials
    keys: list[tuple[dict[str, Any], list[str]]] = []
    members: list[list[int]] = []
    for k, trial in enumerate(trials):
        batched = sorted(
            n for n, v in trial.items() if n in per_instance and _batchable(v)
        )
        key = ({n: v for n, v in trial.items() if n not in batched}, batched)
        if batched and key in keys:
            members[keys.index(key)].append(k)
        else:
            keys.append(key)
            members.append([k])
    groups = []
    for (structural, batched), group in zip(keys, members, strict=True):
        hp = dict(structural)
        for n in batched:
            values = torch.tensor(
                [float(trials[k][n]) for k in group], dtype=dtype, device=device
            )
            hp[n] = values.repeat_interleave(instances).unsqueeze(-1)
        try:
            solver = make(name, **hp)
        except (InvalidConfigError, UnexpectedKeywordError) as err:
            which = group[0] if len(group) == 1 else group
            raise InvalidConfigError(f"trial {which}: {err}") from None
        groups.append(SweepGroup(solver, tuple(group)))
    return groups
