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

import math
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
        # Caches of the keys below: mix(key·golden), made on the first draw, and the
        # draws of the counters ahead made in one pass: (what, first counter, blocks).
        self._cached_for: torch.Tensor | None = None
        self._hashed = keys
        self._ahead: tuple[tuple, int, tuple[torch.Tensor, torch.Tensor]] | None = None

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

    def _check_caches(self) -> None:
        """(Re)build the caches if they are not of the current ``keys``."""
        if self._cached_for is not self.keys:
            self._cached_for = self.keys
            self._hashed = _mix(self.keys * _GOLDEN)[:, None]
            self._ahead = None

    def _bits(self, numel: int, counters: int = 1) -> torch.Tensor:
        """``(B, numel)`` hashes of ``(key_b, counter, index)``; consumes one counter.

        ``mix(K_b + counter·tag + H_index)`` with ``K_b = mix(key_b·golden)`` and
        ``H_i = mix(i + golden)``: one finaliser over an additive combination of
        well-mixed parts, as SplitMix64 itself finalises ``seed + k·golden``.
        ``counters > 1`` hashes that many consecutive counters at once,
        ``(B, counters, numel)``, and consumes them all.
        """
        counter = self.counter
        self.counter += counters
        self._check_caches()
        index = _index_hash(numel, self.device)
        if counters == 1:
            return _mix(self._hashed + (index + _signed(counter * _TAG)))
        steps = torch.arange(counter, counter + counters, device=self.device)
        offset = index + (steps * _TAG)[:, None]  # (counters, numel)
        return _mix(self._hashed[:, None] + offset)

    def uniform(
        self, shape: tuple[int, ...] = (), *, dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """Uniform draws on the open interval (0, 1), shape ``(B, *shape)``.

        The top 53 bits of each hash, as ``(k + 1/2)·2⁻⁵³``.
        """
        u = _uniform(self._bits(_numel(shape)), dtype)
        return u.reshape((self.batch, *shape))

    def normal(
        self, shape: tuple[int, ...] = (), *, dtype: torch.dtype = torch.float32
    ) -> torch.Tensor:
        """Standard normal draws, shape ``(B, *shape)``.

        Box–Muller (Box & Muller, 1958) on the two 32-bit halves of each hash,
        ``u = (k + 1/2)·2⁻³²``: hash ``j`` gives the pair ``r cos 2πu₂, r sin 2πu₂``
        with ``r = √(−2 log u₁)``, the entries ``2j`` and ``2j + 1`` of the draws.
        Half as many hashes as draws; the tails reach ``√(64 log 2) ≈ 6.7`` standard
        deviations, far beyond what any finite sample here can tell.
        """
        n = _numel(shape)
        z = _normal(self._bits(-(-n // 2)), n, dtype)
        return z.reshape((self.batch, *shape))

    def uniform_and_normal(
        self,
        uniform_shape: tuple[int, ...],
        normal_shape: tuple[int, ...],
        *,
        dtype: torch.dtype = torch.float32,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`uniform` and :meth:`normal` draws from one counter and one hash pass.

        For the hot path of minibatches (which mode, and the noise and latents): one
        hash pass costs about as much as one draw, so this is nearly twice as fast as
        two draws. The numbers differ from those of two separate draws.

        Small draws are made for several counters ahead in one pass and served from
        that block while the calls repeat the same shapes: the numbers are those of
        one draw at a time (each is a function of its counter), at a fraction of
        the per-call cost.
        """
        what = (uniform_shape, normal_shape, dtype)
        counter = self.counter
        self._check_caches()
        ahead = self._ahead
        if (
            ahead is None
            or ahead[0] != what
            or not 0 <= counter - ahead[1] < len(ahead[2][0])
        ):
            m, n = _numel(uniform_shape), _numel(normal_shape)
            width = m + -(-n // 2)
            # a one-off draw is made alone; a repeated one, for the counters ahead
            repeated = ahead is not None and ahead[0] == what
            most = _AHEAD_ENTRIES // (self.batch * width) if repeated else 1
            count = max(1, min(_AHEAD_MAX, most))
            bits = self._bits(width, count).reshape(-1, width)
            lead = (self.batch, count)
            u = _uniform(bits[:, :m], dtype).reshape(*lead, *uniform_shape)
            z = _normal(bits[:, m:], n, dtype).reshape(*lead, *normal_shape)
            ahead = self._ahead = (
                what,
                counter,
                (u.transpose(0, 1), z.transpose(0, 1)),
            )
        self.counter = counter + 1
        i = counter - ahead[1]
        return ahead[2][0][i], ahead[2][1][i]


def _uniform(bits: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``(k + 1/2)·2⁻⁵³`` from the top 53 bits ``k`` of each hash."""
    top53 = _shr(bits, 11).to(torch.float64)
    return ((top53 + 0.5) * 2.0**-53).to(dtype)


def _normal(bits: torch.Tensor, n: int, dtype: torch.dtype) -> torch.Tensor:
    """``n`` Box–Muller normals ``(B, n)``, a pair from each hash's 32-bit halves."""
    high = _shr(bits, 32).to(torch.float64)
    low = (bits & 0xFFFFFFFF).to(torch.float64)
    radius = torch.sqrt(-2.0 * torch.log((high + 0.5) * 2.0**-32))
    angle = (low + 0.5) * (2.0 * torch.pi * 2.0**-32)
    pairs = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], dim=-1)
    return pairs.reshape(bits.shape[0], -1)[:, :n].to(dtype)


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


_AHEAD_MAX = 16  # counters drawn ahead by Stream.uniform_and_normal
_AHEAD_ENTRIES = 1 << 15  # ... while a block holds at most this many hashes

_INDEX_CACHE: dict[tuple[int, torch.device], torch.Tensor] = {}
_INDEX_CACHE_SIZE = 64


def _index_hash(numel: int, device: torch.device) -> torch.Tensor:
    """``mix(index + golden)`` for ``index < numel``: the same for every draw of a size.

    Cached per ``(numel, device)`` (a few sizes recur every round: minibatches,
    latents, noise), so a draw hashes its ``B·numel`` entries once, not twice.
    """
    key = (numel, device)
    cached = _INDEX_CACHE.get(key)
    if cached is None:
        if len(_INDEX_CACHE) >= _INDEX_CACHE_SIZE:
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
        index = torch.arange(numel, device=device, dtype=torch.int64)
        cached = _INDEX_CACHE[key] = _mix(index + _GOLDEN)[None, :]
    return cached
