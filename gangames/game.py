"""Games: the pure description of a min-max problem ``min_θ max_φ V(θ, φ)``.

A game is a frozen dataclass whose fields are its configuration, plus pure methods.
It never holds per-episode state: every method takes the sampled ``instance`` (named
tensors with leading batch axis B) and the parameters ``theta`` ``(B, d_G)`` and
``phi`` ``(B, d_D)`` explicitly, and every reduction runs along the last axes, so the
B instances never interact.

What a game must define:

* :meth:`Game.layouts` — a :class:`ParamLayout` per seat (the flat parameter vector
  mapped to named tensors).
* :meth:`Game.init_params` — initial parameters drawn from a :class:`~gangames.random.Stream`.
* :meth:`Game.value` — ``V(θ, φ)`` of shape ``(B,)``; stochastic games also take a
  minibatch drawn by :meth:`Game.sample_data` (``data=None`` means the exact
  expectation, used by metrics).

What a game may define (closed forms; ``None`` means "not known" and the metric that
needs it is left out), each declared in :attr:`Game.capabilities` so that the env knows
what the game supports without evaluating it:

* :meth:`Game.sample_instance` — random problem data (matrices, data moments).
* :meth:`Game.gradients` — analytic ``(∇_θV, ∇_φV)``; the default uses autograd.
* :meth:`Game.project` — Euclidean projection onto the feasible set of a seat.
* :meth:`Game.cloud_best_response_value` — ``max_φ E_{θ∼ν}V(θ, φ)`` or
  ``min_θ E_{φ∼μ}V(θ, φ)`` for a cloud of K opponent particles (K = 1: a pure point).
* :meth:`Game.proximal_objective` and :meth:`Game.proximal_value` — the proximal
  objective ``V_prox^λ(θ, φ) = max_φ̃ V(θ, φ̃) − (λ/2)‖φ̃ − φ‖²`` (Farnia & Ozdaglar,
  2020) and its minimum over θ.
* :meth:`Game.equilibrium_distance` — distance to the known equilibrium set.
* :meth:`Game.cloud_quality` — sample-quality metrics of the generator (modes covered,
  classes covered, MMD², …) that the env adds to ``infos``.
* :meth:`Game.render_cloud_rgb` — an image of one instance (``render_mode="rgb_array"``;
  :attr:`Game.render_modes` lists ``"rgb_array"`` where it is defined).

:class:`Capabilities` is the declaration: which of these closed forms exist, the names
of the quality metrics, and which seats have a feasible set. The env reads it when it is
made (``reward="gap"`` needs closed-form best responses) and plays no probe match;
:func:`gangames.testing.check_game` checks it against what the methods return.

Non-zero-sum losses (docs/algorithms.md §0: each player minimises its own ``f``). A GAN
trained with the non-saturating generator loss or a gradient penalty is not zero-sum:
the generator's loss is not ``V``. Such a game sets :attr:`Game.zero_sum` to False and
defines :meth:`Game.objectives` ``→ (V, L_G, L_D)`` from one forward pass; the oracle
then differentiates each seat's own loss (:meth:`Game.seat_loss`,
:meth:`Game.value_and_loss_gradients`), while the metrics (gaps) stay defined on ``V``.
The default is the zero-sum game ``L_G = V``, ``L_D = −V``.

:func:`mixed` lifts any game to mixed strategies over K particles per seat
(docs/algorithms.md §4.4): the lifted value is the average of the K² per-pair values, or
the base game's cheaper :meth:`Game.cloud_objectives` where it has one (neural games:
O(K) network passes instead of K²).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from gangames.concepts import Preset
from gangames.random import Stream
from gangames.types import SEATS, Instance, Seat

__all__ = [
    "Capabilities",
    "Game",
    "Mixed",
    "ParamLayout",
    "expand_instance",
    "mixed",
]


@dataclass(frozen=True)
class ParamLayout:
    """Names and shapes of the tensors packed in one seat's flat parameter vector.

    Args:
        shapes: ``(name, shape)`` pairs in packing order.

    Example:
        >>> layout = ParamLayout((("w", (2, 3)), ("b", (3,))))
        >>> layout.size
        9
        >>> {k: tuple(v.shape) for k, v in layout.unflatten(torch.zeros(4, 9)).items()}
        {'w': (4, 2, 3), 'b': (4, 3)}
    """

    shapes: tuple[tuple[str, tuple[int, ...]], ...]

    @classmethod
    def vector(cls, name: str, size: int) -> ParamLayout:
        """A layout holding a single vector."""
        return cls(((name, (size,)),))

    @property
    def size(self) -> int:
        """Flat parameter count d."""
        return sum(math.prod(shape) for _, shape in self.shapes)

    @property
    def names(self) -> tuple[str, ...]:
        """Tensor names in packing order."""
        return tuple(name for name, _ in self.shapes)

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Views of ``flat`` ``(..., d)`` as named tensors ``(..., *shape)``."""
        lead = flat.shape[:-1]
        return {
            name: part.reshape(*lead, *shape)
            for (name, shape), part in zip(
                self.shapes, flat.split(self.sizes, dim=-1), strict=True
            )
        }

    def flatten(self, tensors: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Pack named tensors ``(..., *shape)`` into a flat ``(..., d)`` tensor."""
        parts = []
        for name, shape in self.shapes:
            t = tensors[name]
            parts.append(t.reshape(*t.shape[: t.dim() - len(shape)], -1))
        return torch.cat(parts, dim=-1)

    @functools.cached_property
    def sizes(self) -> tuple[int, ...]:
        """Entry count of each named tensor, in packing order."""
        return tuple(math.prod(shape) for _, shape in self.shapes)

    def segment_ids(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """Index of the named tensor each flat coordinate belongs to, shape ``(d,)``.

        Built once per device (on the host, then copied) and cached: rules call it
        every step, and ``repeat_interleave`` over device tensors would synchronise.
        """
        device = torch.device(device)
        cached = self._segment_ids.get(device)
        if cached is None:
            ids = torch.repeat_interleave(
                torch.arange(len(self.shapes)), torch.tensor(self.sizes)
            )
            cached = self._segment_ids[device] = ids.to(device)
        return cached

    @functools.cached_property
    def _segment_ids(self) -> dict[torch.device, torch.Tensor]:
        return {}


@dataclass(frozen=True)
class Capabilities:
    """What a game computes in closed form: the metrics it reports without estimating.

    Each field states what one group of the game's methods returns, so that the env,
    the views and the tournament know it without evaluating the game;
    :func:`gangames.testing.check_game` fails where a declaration and the methods
    disagree. Fields that depend on the game's options are declared by a property
    (Bilinear's proximal gap exists only without a box).

    Args:
        best_responses: :meth:`Game.cloud_best_response_value` has a closed form for
            both seats: the duality gap and both exploitabilities are known (exactly,
            or restricted to the set :attr:`Game.gap_estimator` names).
        proximal: :meth:`Game.proximal_objective` and :meth:`Game.proximal_value` have
            closed forms (with best responses: the proximal gap and its parts).
        distance: :meth:`Game.equilibrium_distance` is known.
        cloud_distance: :meth:`Game.cloud_equilibrium_distance` is known (the
            distance of the game lifted by :func:`mixed`).
        quality: names of the sample-quality metrics :meth:`Game.quality` returns,
            in order (``()``: none).
        constrained: the seats with a feasible set, whose :meth:`Game.project` is not
            the identity.

    Example:
        >>> from gangames.games import Bilinear
        >>> Bilinear().capabilities.proximal_gap
        True
        >>> caps = Bilinear(box=1.0).capabilities
        >>> caps.proximal_gap, caps.constrained
        (False, ('generator', 'discriminator'))
    """

    best_responses: bool = False
    proximal: bool = False
    distance: bool = False
    cloud_distance: bool = False
    quality: tuple[str, ...] = ()
    constrained: tuple[Seat, ...] = ()

    def __post_init__(self) -> None:
        bad = [s for s in self.constrained if s not in SEATS]
        if bad:
            raise ValueError(f"constrained: expected seats among {SEATS}, got {bad}")

    @property
    def duality_gap(self) -> bool:
        """Whether the duality gap and the exploitabilities are known."""
        return self.best_responses

    @property
    def proximal_gap(self) -> bool:
        """Whether the proximal gap and its two parts are known."""
        return self.best_responses and self.proximal


_NOTHING = Capabilities()


def expand_instance(instance: Instance, repeats: int) -> Instance:
    """Repeat every instance row ``repeats`` times (row-major): ``B → B·repeats``."""
    return {k: v.repeat_interleave(repeats, dim=0) for k, v in instance.items()}


@dataclass(frozen=True)
class Game(abc.ABC):
    """Base class of every game; subclasses are frozen dataclasses of their config.

    A subclass defines the three abstract methods (:meth:`layouts`,
    :meth:`init_params`, :meth:`value`); one that lacks any cannot be instantiated
    (``TypeError`` naming the missing methods).

    Class attributes a subclass may override:
        stochastic: whether gradient queries draw minibatches (:meth:`sample_data`).
        divergence_threshold: a parameter vector with a larger Euclidean norm (or a
            non-finite entry) counts as diverged.
        gradient_noise: standard deviation of the Gaussian noise the oracle adds to
            every gradient query (0: exact gradients).
        gap_estimator: how the duality gap is obtained — ``"exact"``, or a label such
            as ``"restricted to ‖z‖ ≤ R"`` when the unrestricted gap is infinite.
        zero_sum: whether the losses are ``L_G = V`` and ``L_D = −V`` (else the game
            defines :meth:`objectives`).
        estimate_gaps: whether the env estimates the gaps the game has no closed form
            for with the budgeted estimator of :mod:`gangames.estimators` by default
            (neural games); other games use it only when the env is given
            ``estimator=…``.
        render_modes: the env render modes the game supports besides ``None``.
        query_unit: gradient-equivalents of the base game that one oracle query of
            this game costs (1; K for a game lifted to K particles per seat).
        preset: the game's benchmark setting — solution concept, env options, budget
            and target (:class:`~gangames.concepts.Preset`); ``None`` if it has none.
    """

    stochastic: ClassVar[bool] = False
    zero_sum: ClassVar[bool] = True
    estimate_gaps: ClassVar[bool] = False
    render_modes: ClassVar[tuple[str, ...]] = ("ansi",)
    divergence_threshold: ClassVar[float] = 1e6
    gap_estimator: ClassVar[str] = "exact"
    gradient_noise: ClassVar[float] = 0.0
    query_unit: ClassVar[float] = 1.0
    preset: ClassVar[Preset | None] = None

    # ---- required ---------------------------------------------------------------
    @abc.abstractmethod
    def layouts(self) -> dict[Seat, ParamLayout]:
        """Parameter layout of each seat."""

    @abc.abstractmethod
    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Initial ``(θ, φ)``, shapes ``(B, d_G)`` and ``(B, d_D)``, in the instance's dtype."""

    @abc.abstractmethod
    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        """``V(θ, φ)`` per instance, shape ``(B,)`` (a minibatch estimate if ``data`` is given)."""

    # ---- optional ---------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        """The closed forms this game defines (:class:`Capabilities`; none by default).

        A game that overrides an optional closed form declares it here.
        """
        return _NOTHING

    def dim(self, seat: Seat) -> int:
        """Flat parameter count of ``seat``."""
        return self.layouts()[seat].size

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        """Random problem data for ``stream.batch`` instances (default: none)."""
        return {"_batch": torch.zeros(stream.batch, dtype=dtype, device=stream.device)}

    def sample_data(self, instance: Instance, stream: Stream) -> Instance | None:
        """A minibatch for one stochastic query (``None`` for deterministic games)."""
        return None

    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(∇_θV, ∇_φV)`` per instance; default by autograd (one backward pass)."""
        with torch.enable_grad():
            t = theta.detach().requires_grad_(True)
            p = phi.detach().requires_grad_(True)
            v = self.value(instance, t, p, data).sum()  # instances are independent
            gt, gp = torch.autograd.grad(v, (t, p), materialize_grads=True)
        return gt, gp

    def value_and_gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(V, ∇_θV, ∇_φV)`` from one pass: analytic gradients if the game has them."""
        if type(self).gradients is not Game.gradients:
            with torch.no_grad():
                v = self.value(instance, theta, phi, data)
            return (v, *self.gradients(instance, theta, phi, data))
        with torch.enable_grad():
            t = theta.detach().requires_grad_(True)
            p = phi.detach().requires_grad_(True)
            v = self.value(instance, t, p, data)
            gt, gp = torch.autograd.grad(v.sum(), (t, p), materialize_grads=True)
        return v.detach(), gt, gp

    def objectives(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(V, L_G, L_D)`` per instance from one forward pass; default ``(V, V, −V)``."""
        v = self.value(instance, theta, phi, data)
        return v, v, -v

    def seat_loss(
        self,
        seat: Seat,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        """The loss ``seat`` minimises, shape ``(B,)`` (``V`` / ``−V`` if zero-sum)."""
        if self.zero_sum:
            v = self.value(instance, theta, phi, data)
            return v if seat == "generator" else -v
        _, l_g, l_d = self.objectives(instance, theta, phi, data)
        return l_g if seat == "generator" else l_d

    def value_and_loss_gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(V, ∇_θ L_G, ∇_φ L_D)`` from one forward pass (``∇_φ L_D = −∇_φ V`` if zero-sum).

        Zero-sum games need one backward pass; otherwise each loss is differentiated
        with respect to its own player only (two backward calls through the shared
        graph).
        """
        if self.zero_sum:
            v, g_theta, g_phi = self.value_and_gradients(instance, theta, phi, data)
            return v, g_theta, -g_phi
        with torch.enable_grad():
            t = theta.detach().requires_grad_(True)
            p = phi.detach().requires_grad_(True)
            v, l_g, l_d = self.objectives(instance, t, p, data)
            (g_theta,) = torch.autograd.grad(
                l_g.sum(), t, retain_graph=True, materialize_grads=True
            )
            (g_phi,) = torch.autograd.grad(l_d.sum(), p, materialize_grads=True)
        return v.detach(), g_theta, g_phi

    def cloud_objectives(
        self,
        instance: Instance,
        theta_cloud: torch.Tensor,
        phi_cloud: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """``(V, L_G, L_D)`` of particle clouds ``(B, K, d)`` in fewer than K² passes.

        The lifted objectives are expectations over both uniform clouds (per-pair
        losses averaged). ``None`` (the default) lets :class:`Mixed` evaluate the K²
        pairs.
        """
        return None

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        """Euclidean projection of ``params`` ``(B, d)`` onto ``seat``'s feasible set."""
        return params

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor | None:
        """Best-response value against a uniform cloud of opponent particles.

        Args:
            instance: the game instance (batch B).
            responder: the seat that best-responds.
            cloud: opponent particles, shape ``(B, K, d_opponent)``.

        Returns:
            ``max_φ (1/K) Σ_k V(θ_k, φ)`` if the responder is the discriminator,
            ``min_θ (1/K) Σ_k V(θ, φ_k)`` if it is the generator; shape ``(B,)``;
            ``None`` if the game has no closed form.
        """
        return None

    def best_response_value(
        self, instance: Instance, responder: Seat, opponent: torch.Tensor
    ) -> torch.Tensor | None:
        """Best-response value against a pure opponent ``(B, d_opponent)``: Φ(θ) or Ψ(φ)."""
        return self.cloud_best_response_value(
            instance, responder, opponent.unsqueeze(1)
        )

    def best_response_values(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        exact: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``(Ψ(φ), Φ(θ))`` at one point, the two halves of the duality gap.

        ``exact`` is ``(V, ∇_θ L_G, ∇_φ L_D)`` (each seat's own-loss gradient) of the
        exact game at ``(θ, φ)`` when the caller already has it; games whose best
        responses are functions of the gradients (bilinear couplings:
        ``Φ(θ) = R‖Aᵀθ‖ = R‖∇_φV‖``) override this to reuse them instead of repeating
        the products. The default ignores it.
        """
        return (
            self.best_response_value(instance, "generator", phi),
            self.best_response_value(instance, "discriminator", theta),
        )

    def proximal_objective(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        """``V_prox^λ(θ, φ) = max_φ̃ V(θ, φ̃) − (λ/2)‖φ̃ − φ‖²``, or ``None``."""
        return None

    def proximal_value(
        self, instance: Instance, phi: torch.Tensor, lam: float
    ) -> torch.Tensor | None:
        """``min_θ' V_prox^λ(θ', φ)`` over the generator's feasible set, or ``None``."""
        return None

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor | None:
        """Distance from ``(θ, φ)`` to the known equilibrium set, shape ``(B,)``, or ``None``."""
        return None

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor | None:
        """Distance of particle clouds ``(B, K, d)`` to the known mixed equilibrium, or ``None``."""
        return None

    def quality(
        self, instance: Instance, theta: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Sample-quality metrics of the generator ``(B, d_G)``: name → ``(B,)``."""
        return self.cloud_quality(instance, theta.unsqueeze(1))

    def cloud_quality(
        self, instance: Instance, theta_cloud: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Quality metrics of a generator cloud ``(B, K, d_G)`` (none by default)."""
        return {}

    def render_rgb(
        self, instance: Instance, theta: torch.Tensor, row: int = 0
    ) -> np.ndarray | None:
        """An ``(H, W, 3)`` ``uint8`` image of instance ``row`` (``None``: cannot draw)."""
        return self.render_cloud_rgb(instance, theta.unsqueeze(1), row)

    def render_cloud_rgb(
        self, instance: Instance, theta_cloud: torch.Tensor, row: int = 0
    ) -> np.ndarray | None:
        """An image of a generator cloud ``(B, K, d_G)`` (none by default)."""
        return None

    def replace(self, **changes: object) -> Game:
        """A copy of this game with some configuration fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Mixed(Game):
    """A game lifted to mixed strategies over K particles per seat (docs/algorithms.md §4.4).

    Each seat's flat vector holds K particles of the base game's parameters,
    ``d = K · d_base`` (particle k occupies ``[k·d_base, (k+1)·d_base)``). The lifted value
    is the expectation over both uniform particle clouds,
    ``V(ν, μ) = (1/K²) Σ_{i,j} V(θ_i, φ_j)`` — per-pair values averaged, never the value of
    averaged outputs. Projections apply per particle; best responses to a cloud are pure
    (the lifted value is linear in each measure), so the mixed duality gap is the
    Nikaidô–Isoda gap ``NI(ν, μ) = max_φ E_ν V(θ, φ) − min_θ E_μ V(θ, φ)``.

    Args:
        base: the game to lift.
        particles: K, the number of particles per seat.
    """

    base: Game
    particles: int = 8

    def __post_init__(self) -> None:
        if (
            isinstance(self.particles, bool)
            or not isinstance(self.particles, int)
            or self.particles < 1
        ):
            raise ValueError(
                f"particles must be a positive int, got {self.particles!r}"
            )
        if isinstance(self.base, Mixed):
            raise ValueError("the game is already mixed; lift the base game once")

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.base.stochastic

    @property
    def divergence_threshold(self) -> float:  # type: ignore[override]
        return self.base.divergence_threshold * math.sqrt(self.particles)

    @property
    def gap_estimator(self) -> str:  # type: ignore[override]
        return self.base.gap_estimator

    @property
    def query_unit(self) -> float:  # type: ignore[override]
        return self.base.query_unit * self.particles

    @property
    def gradient_noise(self) -> float:  # type: ignore[override]
        return self.base.gradient_noise

    @property
    def zero_sum(self) -> bool:  # type: ignore[override]
        return self.base.zero_sum

    @property
    def estimate_gaps(self) -> bool:  # type: ignore[override]
        return self.base.estimate_gaps

    @property
    def capabilities(self) -> Capabilities:
        """The base game's cloud closed forms, lifted.

        Best responses to a cloud are the base game's; the distance is the base game's
        cloud distance; projections apply per particle; quality metrics are the base
        game's on the generator cloud. There is no lifted proximal objective.
        """
        base = self.base.capabilities
        return Capabilities(
            best_responses=base.best_responses,
            distance=base.cloud_distance,
            quality=base.quality,
            constrained=base.constrained,
        )

    def layouts(self) -> dict[Seat, ParamLayout]:
        k = self.particles
        return {
            seat: ParamLayout(
                tuple(
                    (f"particles.{name}", (k, *shape)) for name, shape in layout.shapes
                )
            )
            for seat, layout in self.base.layouts().items()
        }

    def cloud(self, seat: Seat, params: torch.Tensor) -> torch.Tensor:
        """Particles of ``seat`` as ``(B, K, d_base)`` from the lifted layout."""
        base = self.base.layouts()[seat]
        parts = self.layouts()[seat].unflatten(params)
        return torch.cat(
            [
                parts[f"particles.{name}"].reshape(
                    *params.shape[:-1], self.particles, -1
                )
                for name in base.names
            ],
            dim=-1,
        )

    def uncloud(self, seat: Seat, cloud: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`cloud`: ``(B, K, d_base)`` to the lifted flat layout."""
        base = self.base.layouts()[seat]
        named = base.unflatten(cloud)  # (B, K, *shape) each
        return self.layouts()[seat].flatten(
            {f"particles.{n}": t for n, t in named.items()}
        )

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        return self.base.sample_instance(stream, dtype)

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        k = self.particles
        b = next(iter(instance.values())).shape[0]
        theta, phi = self.base.init_params(
            expand_instance(instance, k), stream.spawn(k)
        )
        return (
            self.uncloud("generator", theta.reshape(b, k, -1)),
            self.uncloud("discriminator", phi.reshape(b, k, -1)),
        )

    def sample_data(self, instance: Instance, stream: Stream) -> Instance | None:
        # The base game's minibatch; the pair path repeats it for every (i, j) pair.
        return self.base.sample_data(instance, stream)

    def _pairs(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None,
    ) -> tuple[Instance, torch.Tensor, torch.Tensor, Instance | None]:
        """Every (i, j) particle pair as a base-game batch, row-major (instance, i, j)."""
        k = self.particles
        tc, pc = self.cloud("generator", theta), self.cloud("discriminator", phi)
        b = tc.shape[0]
        tp = tc[:, :, None, :].expand(b, k, k, tc.shape[-1]).reshape(b * k * k, -1)
        pp = pc[:, None, :, :].expand(b, k, k, pc.shape[-1]).reshape(b * k * k, -1)
        pair_data = None if data is None else expand_instance(data, k * k)
        return expand_instance(instance, k * k), tp, pp, pair_data

    def _clouds(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
        return self.base.cloud_objectives(
            instance,
            self.cloud("generator", theta),
            self.cloud("discriminator", phi),
            data,
        )

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        fast = self._clouds(instance, theta, phi, data)
        if fast is not None:
            return fast[0]
        pair = self.base.value(*self._pairs(instance, theta, phi, data))
        return pair.reshape(theta.shape[0], -1).mean(dim=-1)

    def objectives(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        fast = self._clouds(instance, theta, phi, data)
        if fast is not None:
            return fast
        b = theta.shape[0]
        v, l_g, l_d = self.base.objectives(*self._pairs(instance, theta, phi, data))
        return (
            v.reshape(b, -1).mean(dim=-1),
            l_g.reshape(b, -1).mean(dim=-1),
            l_d.reshape(b, -1).mean(dim=-1),
        )

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        k = self.particles
        c = self.cloud(seat, params)
        b = c.shape[0]
        flat = self.base.project(
            seat, expand_instance(instance, k), c.reshape(b * k, -1)
        )
        return self.uncloud(seat, flat.reshape(b, k, -1))

    def best_response_value(
        self, instance: Instance, responder: Seat, opponent: torch.Tensor
    ) -> torch.Tensor | None:
        opp_seat: Seat = SEATS[1] if responder == SEATS[0] else SEATS[0]
        return self.base.cloud_best_response_value(
            instance, responder, self.cloud(opp_seat, opponent)
        )

    def quality(
        self, instance: Instance, theta: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        return self.base.cloud_quality(instance, self.cloud("generator", theta))

    @property
    def render_modes(self) -> tuple[str, ...]:  # type: ignore[override]
        return self.base.render_modes

    def render_rgb(
        self, instance: Instance, theta: torch.Tensor, row: int = 0
    ) -> np.ndarray | None:
        return self.base.render_cloud_rgb(instance, self.cloud("generator", theta), row)

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor | None:
        return self.base.cloud_equilibrium_distance(
            instance, self.cloud("generator", theta), self.cloud("discriminator", phi)
        )


def mixed(game: Game, particles: int = 8) -> Mixed:
    """Lift ``game`` to mixed strategies with ``particles`` particles per seat.

    Example:
        >>> from gangames.games.circle import CirclePursuit
        >>> lifted = mixed(CirclePursuit(), particles=64)
        >>> lifted.dim("generator")
        64
    """
    return Mixed(base=game, particles=particles)
