"""Type aliases shared across gangames, in one place."""

from __future__ import annotations

from typing import Literal

import torch

__all__ = ["SEATS", "Instance", "Seat", "other"]

Seat = Literal["generator", "discriminator"]
"""A player: the generator (θ, minimises V) or the discriminator (φ, maximises V)."""

SEATS: tuple[Seat, Seat] = ("generator", "discriminator")

Instance = dict[str, torch.Tensor]
"""A sampled game instance: named tensors, each with leading batch dimension B."""


def other(seat: Seat) -> Seat:
    """The opponent of ``seat``."""
    return "discriminator" if seat == "generator" else "generator"
