"""Batched multilayer perceptrons over views of flat parameter vectors.

Neural games hold each seat's network as one flat vector ``(N, d)`` per copy — N is
the number of instances B, or ``B·K`` under :func:`~gangames.game.mixed` with K
particles. :class:`MLP` reads its layers as views of that vector
(:meth:`~gangames.game.ParamLayout.unflatten`) and evaluates all N networks in one
tensor program with batched matrix products (``torch.baddbmm``), so there is no Python
loop over instances or particles. DESIGN.md §2 measured this against a module loop
(0.75–0.95× its time for one copy) and against ``torch.func.functional_call`` +
``vmap`` (1.04–1.7×); ``benchmarks/bench_neural.py`` repeats the measurement.

Layer ``i`` maps ``h ↦ σ(h W_i + b_i)`` with ``W_i`` stored as ``(fan_in, fan_out)``
(the transpose of ``torch.nn.Linear.weight``) so that ``h @ W_i`` needs no transpose;
the last layer is affine. Initialisation follows ``torch.nn.Linear``'s default:
weights and biases ``U(−1/√fan_in, 1/√fan_in)``.

:meth:`MLP.value_and_input_grad` returns a scalar network's output together with its
gradient with respect to the input, computed by an explicit backward recursion of
batched products (not by ``torch.autograd.grad``), so that it is itself differentiable
by autograd and works under ``torch.no_grad`` — WGAN-GP's penalty needs it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from gangames.errors import InvalidConfigError
from gangames.random import Stream

__all__ = ["ACTIVATIONS", "MLP"]

ACTIVATIONS = ("relu", "leaky_relu", "tanh")
_LEAK = 0.2  # DCGAN's slope for LeakyReLU discriminators (Radford et al., 2016)


def _act(name: str, a: torch.Tensor) -> torch.Tensor:
    if name == "relu":
        return torch.relu(a)
    if name == "leaky_relu":
        return torch.nn.functional.leaky_relu(a, _LEAK)
    return torch.tanh(a)


def _act_grad(name: str, a: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``σ'(a)`` given the pre-activation ``a`` and ``h = σ(a)``."""
    if name == "relu":
        return (a > 0).to(a.dtype)
    if name == "leaky_relu":
        # built in a's dtype: torch.where on Python scalars would round 0.2 to float32
        return torch.where(a > 0, torch.ones_like(a), torch.full_like(a, _LEAK))
    return 1.0 - h * h


def _affine(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``h W + b`` batched; a scalar output as a product and a sum.

    Why: a batched matrix product with one output column takes a different BLAS path
    for one matrix than for several, so a batch of B would differ from B single runs
    in the last float32 bits; the elementwise form is the same for every batch size.
    """
    if w.shape[-1] == 1:
        return (h * w[..., 0].unsqueeze(-2)).sum(dim=-1, keepdim=True) + b.unsqueeze(-2)
    return torch.baddbmm(b.unsqueeze(-2), h, w)


@dataclass(frozen=True)
class MLP:
    """A fully connected network ``sizes[0] → … → sizes[-1]`` evaluated in batches.

    Args:
        sizes: layer widths, input first, output last (at least two entries).
        activation: ``"relu"``, ``"leaky_relu"`` (slope 0.2) or ``"tanh"`` between
            layers; the output layer is affine.
        prefix: prepended to the tensor names (``"{prefix}{i}.weight"``,
            ``"{prefix}{i}.bias"``).

    Example:
        >>> from gangames.game import ParamLayout
        >>> net = MLP((2, 16, 1))
        >>> layout = ParamLayout(net.shapes())
        >>> params = layout.unflatten(torch.zeros(4, layout.size))
        >>> net(params, torch.ones(4, 10, 2)).shape
        torch.Size([4, 10, 1])
    """

    sizes: tuple[int, ...]
    activation: str = "relu"
    prefix: str = ""

    def __post_init__(self) -> None:
        if len(self.sizes) < 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in self.sizes
        ):
            raise InvalidConfigError(
                f"sizes must be at least two positive ints, got {self.sizes!r}"
            )
        if self.activation not in ACTIVATIONS:
            raise InvalidConfigError(
                f"activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )

    @property
    def depth(self) -> int:
        """Number of affine layers."""
        return len(self.sizes) - 1

    def shapes(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """``(name, shape)`` pairs for a :class:`~gangames.game.ParamLayout`."""
        out: list[tuple[str, tuple[int, ...]]] = []
        for i, (fan_in, fan_out) in enumerate(
            zip(self.sizes[:-1], self.sizes[1:], strict=True)
        ):
            out.append((f"{self.prefix}{i}.weight", (fan_in, fan_out)))
            out.append((f"{self.prefix}{i}.bias", (fan_out,)))
        return tuple(out)

    def init(self, stream: Stream, dtype: torch.dtype) -> torch.Tensor:
        """Flat parameters ``(stream.batch, d)`` with ``torch.nn.Linear``'s default law."""
        bounds = []
        for fan_in, fan_out in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            # weight (fan_in·fan_out entries) then bias (fan_out), as in shapes()
            count = fan_in * fan_out + fan_out
            bounds.append(torch.full((count,), 1.0 / math.sqrt(fan_in), dtype=dtype))
        bound = torch.cat(bounds).to(stream.device)
        u = stream.uniform((bound.shape[0],), dtype=dtype)
        return (2.0 * u - 1.0) * bound

    def _layers(
        self, params: Mapping[str, torch.Tensor]
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [
            (params[f"{self.prefix}{i}.weight"], params[f"{self.prefix}{i}.bias"])
            for i in range(self.depth)
        ]

    def __call__(
        self, params: Mapping[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        """Outputs ``(N, n, sizes[-1])`` of N networks on their inputs ``(N, n, sizes[0])``.

        Args:
            params: named tensors ``(N, *shape)`` (views of the flat vectors).
            x: one input batch per network.
        """
        h = x
        layers = self._layers(params)
        for w, b in layers[:-1]:
            h = _act(self.activation, torch.baddbmm(b.unsqueeze(-2), h, w))
        return _affine(h, *layers[-1])

    def value_and_input_grad(
        self, params: Mapping[str, torch.Tensor], x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A scalar network's outputs ``(N, n)`` and ``∂ out/∂ x`` ``(N, n, sizes[0])``.

        The input gradient is the explicit chain rule
        ``∇_x = W_1 diag σ'(a_1) W_2 ⋯ diag σ'(a_{L−1}) w_L`` (per sample), built from
        the same batched products as the forward pass, so autograd differentiates it
        (double backward of a gradient penalty) without ``create_graph``.
        """
        if self.sizes[-1] != 1:
            raise InvalidConfigError(
                f"value_and_input_grad needs a scalar output, the MLP has {self.sizes[-1]}"
            )
        layers = self._layers(params)
        h = x
        cache = []
        for w, b in layers[:-1]:
            a = torch.baddbmm(b.unsqueeze(-2), h, w)
            h = _act(self.activation, a)
            cache.append((a, h))
        w_last, b_last = layers[-1]
        out = _affine(h, w_last, b_last)[..., 0]
        # Backward recursion: g is ∂out/∂h_i, starting from the last weight column.
        g = w_last[..., 0].unsqueeze(-2).expand(*h.shape)
        for (w, _), (a, hh) in zip(reversed(layers[:-1]), reversed(cache), strict=True):
            g = torch.bmm(g * _act_grad(self.activation, a, hh), w.mT)
        return out, g
