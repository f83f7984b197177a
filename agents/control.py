"""What a learned policy controls and observes, shared by training and play.

A learned agent trains on a single-agent view of one seat (:mod:`gangames.wrappers`)
and plays, once saved, as an update rule (:mod:`agents.learned`). Both run the same
:class:`Controller`: it turns the seat's :class:`~gangames.rules.Observation` into the
policy's features and the policy's action into an update, batched over instances.

**Control modes.** What an action means and what the policy observes
(:class:`ControlConfig`):

============  ==============================================  =========================
mode          action (``Box(−1, 1, (k,))``)                   observation
============  ==============================================  =========================
``update``    the raw update ``Δ = max_update · a``, k = d    raw: ``own``, ``opponent``,
              (small games only: ``d_own + d_opp ≤ 64``)      ``gradient``,
                                                              ``opponent_gradient``,
                                                              own loss, progress
``step_size`` log step-size multipliers: ``Δ = m ⊙ Δ_base``,  summary (below)
              ``m = range^a`` (``range = multiplier_range``),
              one per seat (``control="seat"``, k = 1) or one
              per layer of the seat's ParamLayout
              (``control="layer"``)
``mix``       logits of weights over the base rules:          summary (below)
              ``Δ = Σ_i softmax(τ·a)_i Δ_i``
              (τ = ``temperature``), k = number of bases
============  ==============================================  =========================

Actions outside ``[−1, 1]`` are clipped (as Stable-Baselines3 does before stepping).
The *summary* observation is low-dimensional whatever the number of parameters:
``progress``, the own loss (``V`` for the generator, ``−V`` for the discriminator) and
its change since the last step, ``log ‖∇‖`` and its change, ``log ‖∇_opp‖``,
``log ‖own‖``, ``log ‖opponent‖``, and — when the seat's layout has several layers —
``log ‖∇_l‖`` and ``log ‖own_l‖`` per layer. Losses are squashed by
``sign(x)·log(1 + |x|)``. Every feature is clipped to ``[−clip, clip]`` (NaN becomes 0,
±∞ the bounds), so the observation box is finite.

The reward is not observed: a deployed policy plays as an :class:`~gangames.rules.UpdateRule`
that sees only its seat's :class:`~gangames.rules.Observation`, and the gap needs the game's
closed-form best responses, which only metrics use. Features are computed from that
observation alone, so the same code (:class:`Controller`) drives the view and the
deployed rule (:mod:`agents.learned`), batched over instances.

**Base rules** (``base`` for ``step_size``, ``bases`` for ``mix``) are names of the
built-in directions below (step ``base_lr``), or of registered agents (their rule for
the seat, with ``base_kwargs``):

* ``"gradient"``: ``Δ = −η ∇`` (gradient descent on the own loss);
* ``"momentum"``: heavy ball, ``v ← 0.9 v + ∇``, ``Δ = −η v`` (Polyak, 1964);
* ``"adam"``: ``Δ = −η m̂/(√v̂ + ε)``, β = (0.5, 0.999) (Kingma & Ba, 2015);
* ``"optimistic"``: ``Δ = −η (2∇_t − ∇_{t−1})`` (Daskalakis et al., 2018).

None queries the oracle beyond the observed gradient (cost 0 per step). Built-in
names take precedence for bases, so a saved policy's base never changes meaning with
what else is registered.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import torch

from agents.registry import make, names
from agents.transforms import scale, scale_by_adam, scale_by_optimism, trace
from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.oracle import SeatOracle
from gangames.random import Stream
from gangames.rules import Observation, UpdateRule, rule_from
from gangames.types import Seat

__all__ = [
    "DIRECTIONS",
    "MODES",
    "RAW_LIMIT",
    "ControlConfig",
    "ControlState",
    "Controller",
    "base_rule",
]

MODES = ("update", "step_size", "mix")
DIRECTIONS = ("gradient", "momentum", "adam", "optimistic")
RAW_LIMIT = 64  # d_own + d_opp above which "update" mode is refused
_EPS = 1e-20


@dataclass(frozen=True)
class ControlConfig:
    """What the policy controls and observes (JSON-serialisable; saved with policies).

    Args:
        mode: ``"update"``, ``"step_size"`` or ``"mix"`` (see the module docstring).
        max_update: ``update`` mode: the update of action ``a`` is ``max_update·a``.
        control: ``step_size`` mode: ``"seat"`` (one multiplier) or ``"layer"`` (one per
            layer of the seat's layout).
        base: ``step_size`` mode: the base rule whose update is rescaled.
        bases: ``mix`` mode: the base rules mixed.
        base_kwargs: hyperparameters per registered-agent base (by name).
        base_lr: step size η of the built-in directions.
        multiplier_range: ``step_size`` mode: multipliers lie in ``[1/range, range]``.
        temperature: ``mix`` mode: logits are ``temperature·a``.
        clip: every observed feature is clipped to ``[−clip, clip]``.
    """

    mode: str = "update"
    max_update: float = 0.1
    control: str = "seat"
    base: str = "gradient"
    bases: tuple[str, ...] = ("gradient", "adam", "optimistic")
    base_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)
    base_lr: float = 0.05
    multiplier_range: float = 10.0
    temperature: float = 3.0
    clip: float = 100.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidConfigError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.control not in ("seat", "layer"):
            raise InvalidConfigError(
                f"control must be 'seat' or 'layer', got {self.control!r}"
            )
        for name in ("max_update", "base_lr", "temperature", "clip"):
            checks.positive(name, getattr(self, name))
        if not isinstance(self.multiplier_range, (int, float)) or not (
            1 < self.multiplier_range < math.inf
        ):
            raise InvalidConfigError(
                f"multiplier_range must be a finite number > 1, got {self.multiplier_range!r}"
            )
        bases = (self.bases,) if isinstance(self.bases, str) else tuple(self.bases)
        object.__setattr__(self, "bases", bases)
        if self.mode == "mix" and len(bases) < 2:
            raise InvalidConfigError(
                f"mix mode needs at least two bases, got {list(bases)}"
            )
        for name in (self.base, *bases):
            if not isinstance(name, str) or not name:
                raise InvalidConfigError(
                    f"base rules are named by strings, got {name!r}"
                )
        if not isinstance(self.base_kwargs, Mapping):
            raise InvalidConfigError(
                f"base_kwargs must map base names to dicts, got {self.base_kwargs!r}"
            )
        try:
            json.dumps(self.to_json())
        except (TypeError, ValueError) as err:
            raise InvalidConfigError(
                f"control options must be JSON-serialisable: {err}"
            ) from None

    @property
    def rules(self) -> tuple[str, ...]:
        """The base rules this mode runs each step."""
        if self.mode == "step_size":
            return (self.base,)
        if self.mode == "mix":
            return self.bases
        return ()

    def to_json(self) -> dict[str, Any]:
        """The options as plain JSON data."""
        out = asdict(self)
        out["bases"] = list(self.bases)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ControlConfig:
        """Rebuild from :meth:`to_json` output (unknown keys are refused)."""
        if not isinstance(data, Mapping):
            raise InvalidConfigError(
                f"control options must be a dict, got {data!r:.80}"
            )
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidConfigError(f"unknown control option(s) {unknown}")
        kwargs = dict(data)
        if "bases" in kwargs:
            kwargs["bases"] = tuple(kwargs["bases"])
        return cls(**kwargs)


# ---- base rules ------------------------------------------------------------------
def base_rule(name: str, seat: Seat, config: ControlConfig) -> UpdateRule:
    """The update rule a base name denotes for ``seat`` (built-in or registered)."""
    lr = config.base_lr
    if name == "gradient":
        return rule_from(scale(-lr), name=name)
    if name == "momentum":
        return rule_from(trace(0.9), scale(-lr), name=name)
    if name == "adam":
        return rule_from(scale_by_adam(0.5, 0.999), scale(-lr), name=name)
    if name == "optimistic":
        return rule_from(scale_by_optimism(), scale(-lr), name=name)
    if name not in names():
        raise InvalidConfigError(
            f"unknown base rule {name!r}: expected a built-in direction {DIRECTIONS} "
            f"or a registered agent {names()}"
        )
    solver = make(name, **config.base_kwargs.get(name, {}))
    if solver.order != "simultaneous":
        raise InvalidConfigError(
            f"base rule {name!r} is a sequential solver; views play simultaneous moves"
        )
    return solver.rule(seat)


# ---- the controller shared by views and deployed policies --------------------------
class ControlState(NamedTuple):
    """Memory of a controller: base-rule states and last step's summaries."""

    rules: tuple  # states of the base rules
    previous_loss: torch.Tensor | None  # (B,) own loss at the last step
    previous_log_grad: torch.Tensor | None  # (B,) log ‖∇‖ at the last step


def _slog(x: torch.Tensor) -> torch.Tensor:
    return torch.sign(x) * torch.log1p(x.abs())


def _log_norm(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.log(x.square().sum(-1) + _EPS)


def _layer_log_norms(x: torch.Tensor, segments: torch.Tensor, n: int) -> torch.Tensor:
    sums = torch.zeros(x.shape[0], n, dtype=x.dtype, device=x.device)
    return 0.5 * torch.log(sums.index_add_(1, segments, x.square()) + _EPS)


class Controller:
    """Features and action decoding of one control mode, batched over ``(B, ·)``.

    Used by :class:`GameView` (B = 1) and by deployed policies (any B): the
    observation is computed from the seat's :class:`~gangames.rules.Observation` and the
    controller's state only; the action becomes an update through the base rules.

    Args:
        config: the control options.
        seat: the seat played (fixes the sign of the own loss and the base rules).
        layout_size: ``(number of layers, d_own, d_opp)`` of the game's seats, for
            the space sizes and the raw-size check (``None``: sizes are read off the
            observations and the seat's oracle at each call).
    """

    def __init__(
        self,
        config: ControlConfig,
        seat: Seat,
        layout_size: tuple[int, int, int] | None = None,
    ) -> None:
        self.config = config
        self.seat = seat
        # a deployed policy learns the sizes from the game it meets (oracle.layout)
        self.layers, self.d_own, self.d_opp = layout_size or (0, 0, 0)
        if config.mode == "update" and self.d_own + self.d_opp > RAW_LIMIT:
            raise InvalidConfigError(
                f"mode='update' observes and acts on raw parameters, which needs "
                f"d_own + d_opp ≤ {RAW_LIMIT}; this game has {self.d_own} + "
                f"{self.d_opp}: use mode='step_size' or 'mix'"
            )
        self.bases = tuple(base_rule(name, seat, config) for name in config.rules)

    @property
    def observation_dim(self) -> int:
        """Length of the feature vector."""
        if self.config.mode == "update":
            return 2 * (self.d_own + self.d_opp) + 2
        return 8 + (2 * self.layers if self.layers > 1 else 0)

    @property
    def action_dim(self) -> int:
        """Length of the action vector."""
        c = self.config
        if c.mode == "update":
            return self.d_own
        if c.mode == "mix":
            return len(c.bases)
        return self.layers if c.control == "layer" else 1

    def cost(self, step: int) -> float:
        """Oracle gradient-equivalents per step beyond the observed gradient."""
        return sum(rule.cost(step) for rule in self.bases)

    def init(self, params: torch.Tensor, stream: Stream) -> ControlState:
        """Initial state (base rules initialised from forks of ``stream``)."""
        states = tuple(
            rule.init(params, stream.fork(i + 1)) for i, rule in enumerate(self.bases)
        )
        return ControlState(states, None, None)

    def _loss(self, obs: Observation) -> torch.Tensor:
        return obs.value if self.seat == "generator" else -obs.value

    def features(
        self, obs: Observation, state: ControlState, oracle: SeatOracle
    ) -> torch.Tensor:
        """The observation vector ``(B, observation_dim)``, clipped and finite."""
        c = self.config
        loss = self._loss(obs)
        if c.mode == "update":
            parts = [
                obs.own,
                obs.opponent,
                obs.gradient,
                obs.opponent_gradient,
                loss[:, None],
                obs.progress[:, None],
            ]
        else:
            log_grad = _log_norm(obs.gradient)
            d_loss = (
                torch.zeros_like(loss)
                if state.previous_loss is None
                else _slog(loss) - _slog(state.previous_loss)
            )
            d_grad = (
                torch.zeros_like(log_grad)
                if state.previous_log_grad is None
                else log_grad - state.previous_log_grad
            )
            parts = [
                torch.stack(
                    [
                        obs.progress,
                        _slog(loss),
                        d_loss,
                        log_grad,
                        d_grad,
                        _log_norm(obs.opponent_gradient),
                        _log_norm(obs.own),
                        _log_norm(obs.opponent),
                    ],
                    dim=-1,
                )
            ]
            layers = len(oracle.layout.names)
            if layers > 1:
                seg = oracle.layout.segment_ids(obs.own.device)
                parts.append(_layer_log_norms(obs.gradient, seg, layers))
                parts.append(_layer_log_norms(obs.own, seg, layers))
        x = torch.cat([p.to(obs.own.dtype) for p in parts], dim=-1)
        return torch.nan_to_num(x, nan=0.0, posinf=c.clip, neginf=-c.clip).clamp(
            -c.clip, c.clip
        )

    def decode(
        self,
        action: torch.Tensor,
        obs: Observation,
        state: ControlState,
        oracle: SeatOracle,
    ) -> tuple[torch.Tensor, ControlState]:
        """The update ``(B, d_own)`` of action ``(B, action_dim)``, and the new state."""
        c = self.config
        a = action.to(device=obs.own.device, dtype=obs.own.dtype).clamp(-1.0, 1.0)
        deltas, states = [], []
        for rule, s in zip(self.bases, state.rules, strict=True):
            delta, s = rule.update(obs, s, oracle)
            deltas.append(delta)
            states.append(s)
        if c.mode == "update":
            delta = c.max_update * a
        elif c.mode == "step_size":
            multiplier = torch.exp(a * math.log(c.multiplier_range))
            if c.control == "layer":
                multiplier = multiplier[:, oracle.layout.segment_ids(a.device)]
            delta = multiplier * deltas[0]
        else:
            weights = torch.softmax(c.temperature * a, dim=-1)
            delta = (weights[:, :, None] * torch.stack(deltas, dim=1)).sum(1)
        new = ControlState(tuple(states), self._loss(obs), _log_norm(obs.gradient))
        return delta, new
