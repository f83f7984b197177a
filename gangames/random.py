"""Keyed, counter-based random streams: one key per game instance.

Why not ``torch.Generator``: a generator draws one sequence for the whole batch, so
instance ``b`` of a batch would see different numbers from a single run seeded with
the same seed, and per-instance generators need a Python loop over instances. Here
every number is a pure function of ``(key_b, counter, index)`` — a SplitMix64 hash
(Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014)
evaluated with int64 tensor arithmetic — so a batch of B equals B single runs bit for
bit, draws are vectorised over instances, and the same keys give the same numbers on
every device.

A :class:`Stream` is a batch of keys plus a counter; every draw consumes one counter
value. Streams are cheap to :meth:`~Stream.fork` (independent sub-streams for
instances, initial parameters and data) and to :meth:`~Stream.spawn` (K keys per
instance, e.g. one per particle).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["Stream", "derive_seeds", "seed_to_key"]

_MASK64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """Two's-complement view of an unsigned 64-bit constant as a Python int64."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)
_TAG = _signed(0xD1B54A32D192ED03)


def _shr(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 tensors (torch's ``>>`` is arithmetic)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finaliser; int64 multiplication wraps modulo 2**64."""
    x = (x ^ _shr(x, 30)) * _MIX1
    x = (x ^ _shr(x, 27)) * _MIX2
    return x ^ _shr(x, 31)


def seed_to_key(seed: int) -> int:
    """Map a non-negative integer seed to a 64-bit stream key (as a signed int)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    state = np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)
    return _signed(int(state[0]) ^ (int(state[1]) << 1))


def derive_seeds(seed: int, count: int, *, episode: int = 0) -> list[int]:
    """Spawn ``count`` independent child seeds from ``(seed, episode)`` (NumPy SeedSequence).

    Child ``b`` depends only on ``(seed, episode, b)``, so the first ``k`` children are
    the same whatever ``count`` is.
    """
    children = np.random.SeedSequence([int(seed), int(episode)]).spawn(count)
    return [int(child.generate_state(1, np.uint64)[0] >> 1) for child in children]


class Stream:
    """A batch of random streams, one per instance (row).

    Args:
        keys: int64 tensor of shape ``(B,)``; its device is the device of every draw.
        counter: index of the next draw.

    Example:
        >>> s = Stream.from_seeds([1, 2], device="cpu")
        >>> s.normal((3,), dtype=torch.float64).shape
        torch.Size([2, 3])
    """

    def __init__(self, keys: torch.Tensor, counter: int = 0) -> None:
        if keys.dtype != torch.int64 or keys.dim() != 1:
            raise ValueError(
                f"keys must be an int64 vector, got {keys.dtype} {tuple(keys.shape)}"
            )
        self.keys = keys
        self.counter = counter

    @classmethod
    def from_seeds(
        cls, seeds: Sequence[int], device: torch.device | str = "cpu"
    ) -> Stream:
        """One stream per seed; ``seeds[b]`` alone decides row ``b``."""
        keys = torch.tensor(
            [seed_to_key(s) for s in seeds], dtype=torch.int64, device=device
        )
        return cls(keys)

    @property
    def batch(self) -> int:
        """Number of rows (instances)."""
        return self.keys.shape[0]

    @property
    def device(self) -> torch.device:
        """Device every draw lands on."""
        return self.keys.device

    def fork(self, tag: int) -> Stream:
        """An independent stream per row, named by a small integer ``tag``."""
        return Stream(
            _mix(self.keys ^ _mix(torch.full_like(self.keys, tag) * _TAG + _GOLDEN))
        )

    def spawn(self, count: int) -> Stream:
        """``count`` independent rows per row, row-major: shape ``(B * count,)``."""
        index = torch.arange(count, device=self.device, dtype=torch.int64)
        keys = _mix(self.keys[:, None] * _GOLDEN + _mix(index[None, :] * _TAG + _MIX1))
        return Stream(keys.reshape(-1))

    def take(self, rows: torch.Tensor | slice) -> Stream:
        """The sub-stream of the selected rows, at the same counter."""
        return Stream(self.keys[rows], self.counter)

    def _bits(self, shape: tuple[int, ...]) -> torch.Tensor:
        numel = int(np.prod(shape)) if shape else 1
        counter = self.counter
        self.counter += 1
        base = _mix(self.keys * _GOLDEN + _signed(counter * _TAG))
        index = torch.arange(numel, device=self.device, dtype=torch.int64)
        bits = _mix(base[:, None] + _mix(index[None, :] + _GOLDEN))
        return bits.reshape((self.batch, *shape))

    def uniform(
        self, shape: tuple[int, ...] = (), *, dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """Uniform draws on the open interval (0, 1), shape ``(B, *shape)``."""
        top53 = _shr(self._bits(tuple(shape)), 11).to(torch.float64)
        return ((top53 + 0.5) * 2.0**-53).to(dtype)

    def normal(
        self, shape: tuple[int, ...] = (), *, dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """Standard normal draws (Box–Muller on two uniform draws), shape ``(B, *shape)``."""
        u1 = self.uniform(shape, dtype=torch.float64)
        u2 = self.uniform(shape, dtype=torch.float64)
        z = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * torch.pi * u2)
        return z.to(dtype)
