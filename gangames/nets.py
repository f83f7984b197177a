"""Batched multilayer perceptrons over views of flat parameter vectors.

Neural games hold each seat's network as one flat vector ``(N, d)`` per copy — N is
the number of instances B, or ``B·K`` under :func:`~gangames.game.mixed` with K
particles. :class:`MLP` reads its layers as views of that vector
(:meth:`~gangames.game.ParamLayout.unflatten`) and evaluates all N networks in one
tensor program with batched matrix products (``torch.baddbmm``), so there is no Python
loop over instances or particles. docs/design.md §2 measured this against a module loop
(0.75–0.95× its time for one copy) and against ``torch.func.functional_call`` +
``vmap`` (1.04–1.7×); ``benchmarks/bench_neural.py`` repeats the measurement.

Layer ``i`` maps ``h ↦ σ(h W_i + b_i)`` with ``W_i`` stored as ``(fan_in, fan_out)``
(the transpose of ``torch.nn.Linear.weight``) so that ``h @ W_i`` needs no transpose;
the last layer is affine. Initialisation follows ``torch.nn.Linear``'s default:
weights and biases ``U(−1/√fan_in, 1/√fan_in)``.

:meth:`MLP.trace` and :meth:`MLP.vjp` are the forward pass that keeps each layer's
input and the hand-written reverse pass over it (vector–Jacobian products for the
parameters, the input or both, as batched products): what a GAN's gradient step needs
without building an autograd graph. ``NeuralGAN`` uses them for its observations:
about 0.6× autograd's time for ``V`` and both gradients at one instance
(``benchmarks/bench_neural.py``); the tests check them against autograd.

:meth:`MLP.value_and_input_grad` returns a scalar network's output together with its
gradient with respect to the input, computed by an explicit backward recursion of
batched products (not by ``torch.autograd.grad``), so that it is itself differentiable
by autograd and works under ``torch.no_grad`` — WGAN-GP's penalty needs it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from gangames.errors import InvalidConfigError
from gangames.random import Stream

__all__ = ["ACTIVATIONS", "MLP", "OUTPUTS", "Trace"]

ACTIVATIONS = ("relu", "leaky_relu", "tanh")
OUTPUTS = ("identity", "tanh")
_LEAK = 0.2  # DCGAN's slope for LeakyReLU discriminators (Radford et al., 2016)


def _act_(name: str, a: torch.Tensor) -> torch.Tensor:
    """``σ(a)`` in place of the fresh pre-activation ``a`` (no new buffer).

    Autograd allows it: the affine map before it does not keep its output, and each
    activation's derivative is a function of its result.
    """
    if name == "relu":
        return torch.relu_(a)
    if name == "leaky_relu":
        return torch.nn.functional.leaky_relu_(a, _LEAK)
    return torch.tanh_(a)


def _act_backward(name: str, grad: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``grad · σ'(a)`` given ``h = σ(a)``: the kernels autograd itself runs."""
    if name == "relu":
        return torch.ops.aten.threshold_backward(grad, h, 0)
    if name == "leaky_relu":  # h > 0 exactly where a > 0
        return torch.ops.aten.leaky_relu_backward(grad, h, _LEAK, True)
    return torch.ops.aten.tanh_backward(grad, h)


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
class Trace:
    """What :meth:`MLP.trace` keeps for :meth:`MLP.vjp`.

    Attributes:
        inputs: the input of every affine layer ``(N, n, fan_in)`` (the network's
            input, then each hidden activation).
        output: the network's output ``(N, n, sizes[-1])``.
    """

    inputs: tuple[torch.Tensor, ...]
    output: torch.Tensor

    def rows(self, index: slice) -> Trace:
        """The trace of the samples ``index`` (along the sample axis)."""
        return Trace(tuple(h[:, index] for h in self.inputs), self.output[:, index])


@dataclass(frozen=True)
class MLP:
    """A fully connected network ``sizes[0] → … → sizes[-1]`` evaluated in batches.

    Args:
        sizes: layer widths, input first, output last (at least two entries).
        activation: ``"relu"``, ``"leaky_relu"`` (slope 0.2) or ``"tanh"`` between
            layers; the output layer is affine.
        prefix: prepended to the tensor names (``"{prefix}{i}.weight"``,
            ``"{prefix}{i}.bias"``).
        output: ``"identity"`` (affine output) or ``"tanh"`` after the last layer.

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
    output: str = "identity"

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
        if self.output not in OUTPUTS:
            raise InvalidConfigError(
                f"output must be one of {OUTPUTS}, got {self.output!r}"
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
        return [(params[w], params[b]) for w, b in self._names]

    @functools.cached_property
    def _names(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (f"{self.prefix}{i}.weight", f"{self.prefix}{i}.bias")
            for i in range(self.depth)
        )

    def __call__(
        self, params: Mapping[str, torch.Tensor], x: torch.Tensor
    ) -> torch.Tensor:
        """Outputs ``(N, n, sizes[-1])`` of N networks on their inputs ``(N, n, sizes[0])``.

        Args:
            params: named tensors ``(N, *shape)`` (views of the flat vectors).
            x: one input batch per network.
        """
        return self.trace(params, x).output

    def trace(self, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> Trace:
        """The forward pass, keeping every layer's input for :meth:`vjp`."""
        h = x
        inputs = []
        layers = self._layers(params)
        for w, b in layers[:-1]:
            inputs.append(h)
            h = _act_(self.activation, torch.baddbmm(b.unsqueeze(-2), h, w))
        inputs.append(h)
        out = _affine(h, *layers[-1])
        if self.output == "tanh":
            out = torch.tanh(out)
        return Trace(tuple(inputs), out)

    def vjp(
        self,
        params: Mapping[str, torch.Tensor],
        trace: Trace,
        grad_out: torch.Tensor,
        *,
        wrt_params: bool = True,
        wrt_input: bool = False,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Reverse pass: ``(gᵀ ∂out/∂params, gᵀ ∂out/∂x)`` for ``g = grad_out``.

        Backpropagation (Rumelhart, Hinton & Williams, 1986) written out as batched
        products over the layers of a :class:`Trace`: with ``δ_L = g ⊙ σ_out'``,
        ``∂W_i = h_iᵀ δ_i``, ``∂b_i = Σ_rows δ_i`` and ``δ_{i−1} = (δ_i W_iᵀ) ⊙ σ'``.
        Scalar-output layers use products and sums, as the forward pass does, so a
        batch equals single runs bit for bit.

        Args:
            params: named tensors ``(N, *shape)``.
            trace: the forward pass's trace (or rows of it).
            grad_out: ``(N, n, sizes[-1])``, one cotangent per output.
            wrt_params: return the flat parameter gradient ``(N, d)`` (layout order).
            wrt_input: return the input gradient ``(N, n, sizes[0])``.
        """
        layers = self._layers(params)
        g = grad_out
        if self.output == "tanh":
            g = torch.ops.aten.tanh_backward(g, trace.output)
        pieces: list[torch.Tensor] = []
        for i in reversed(range(self.depth)):
            w = layers[i][0]
            h = trace.inputs[i]
            if wrt_params:
                if w.shape[-1] == 1:
                    gw = (h * g).sum(dim=-2).unsqueeze(-1)
                else:
                    gw = torch.bmm(h.mT, g)
                pieces += [g.sum(dim=-2), gw.flatten(1)]
            if i == 0 and not wrt_input:
                break
            scalar_out = w.shape[-1] == 1
            g = g * w[..., 0].unsqueeze(-2) if scalar_out else torch.bmm(g, w.mT)
            if i > 0:
                g = _act_backward(self.activation, g, h)
        flat = torch.cat(pieces[::-1], dim=1) if wrt_params else None
        return flat, (g if wrt_input else None)

    def value_and_input_grad(
        self, params: Mapping[str, torch.Tensor], x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A scalar network's outputs ``(N, n)`` and ``∂ out/∂ x`` ``(N, n, sizes[0])``.

        The input gradient is the explicit chain rule
        ``∇_x = W_1 diag σ'(a_1) W_2 ⋯ diag σ'(a_{L−1}) w_L`` (per sample) of
        :meth:`vjp`, built from differentiable batched products, so autograd
        differentiates it (double backward of a gradient penalty) without
        ``create_graph``.
        """
        if self.sizes[-1] != 1:
            raise InvalidConfigError(
                f"value_and_input_grad needs a scalar output, the MLP has {self.sizes[-1]}"
            )
        trace = self.trace(params, x)
        ones = torch.ones_like(trace.output)
        _, grad = self.vjp(params, trace, ones, wrt_params=False, wrt_input=True)
        return trace.output[..., 0], grad  # type: ignore[return-value]
