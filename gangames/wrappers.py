"""Single-agent Gymnasium views of one seat, for single-agent RL libraries.

Stable-Baselines3 and most RL libraries are single-agent, so a learned agent trains on a
*view*: a Gymnasium env that plays one seat of a gangames game while the other seat is
played by a fixed opponent (any registered agent, a built-in direction rule, or a saved
policy). Views are registered for both seats of every registered game on
``import gangames``::

    env = gymnasium.make("gangames/DiracGAN-generator-v0", opponent="extragradient")
    env = gymnasium.make(
        "gangames/Bilinear-discriminator-v0",
        opponent="gda",
        opponent_kwargs={"lr": 0.05},
        mode="step_size",
        max_steps=200,
    )

The view plays the simultaneous (parallel) env with ``batch=None`` (one instance),
steps the opponent's rule itself (as :class:`agents.play.SeatAgent` does) and returns
the seat's reward (by default minus its exploitability, :mod:`gangames.envs`; the
payoff ``∓V`` for games without closed-form best responses). Episodes
truncate at ``max_steps`` rounds, at the oracle ``budget``, or on divergence; they never
terminate. ``reset(seed=s)`` seeds the game instance, the initial point and (with a pool
of opponents) the opponent drawn for the episode.

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

The reward is not observed: a deployed policy plays as an :class:`~agents.UpdateRule`
that sees only its seat's :class:`~agents.Observation`, and the gap needs the game's
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
what else is registered. For *opponents* a registered agent of the same name wins
(``opponent="adam"`` is the registered Adam if there is one).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import gymnasium
import numpy as np
import torch

from gangames.envs import EnvConfig
from gangames.errors import InvalidConfigError, require_positive
from gangames.types import SEATS, Seat, other

if TYPE_CHECKING:  # agents imports gangames: import it lazily at run time
    from agents.base import Observation, UpdateRule
    from gangames.envs import GameParallelEnv
    from gangames.oracle import SeatOracle

__all__ = [
    "DIRECTIONS",
    "MODES",
    "ControlConfig",
    "ControlState",
    "Controller",
    "GameView",
    "register_views",
    "resolve_opponent",
    "view_id",
]

MODES = ("update", "step_size", "mix")
DIRECTIONS = ("gradient", "momentum", "adam", "optimistic")
RAW_LIMIT = 64  # d_own + d_opp above which "update" mode is refused
_EPS = 1e-20
_ENV_OPTIONS = frozenset(f.name for f in dataclasses.fields(EnvConfig)) | {"max_cycles"}


@dataclass(frozen=True)
class ControlConfig:
    """What the policy controls and observes (JSON-serialisable; saved with policies).

    Args:
        mode: ``"update"``, ``"step_size"`` or ``"mix"`` (see :mod:`gangames.wrappers`).
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
            require_positive(name, getattr(self, name))
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
    import agents
    from agents.base import chain
    from agents.transforms import scale, scale_by_adam, scale_by_optimism, trace

    lr = config.base_lr
    if name == "gradient":
        return chain(scale(-lr), name=name)
    if name == "momentum":
        return chain(trace(0.9), scale(-lr), name=name)
    if name == "adam":
        return chain(scale_by_adam(0.5, 0.999), scale(-lr), name=name)
    if name == "optimistic":
        return chain(scale_by_optimism(), scale(-lr), name=name)
    if name not in agents.names():
        raise InvalidConfigError(
            f"unknown base rule {name!r}: expected a built-in direction {DIRECTIONS} "
            f"or a registered agent {agents.names()}"
        )
    solver = agents.make(name, **config.base_kwargs.get(name, {}))
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
    observation is computed from the seat's :class:`~agents.Observation` and the
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

    def init(self, params: torch.Tensor, stream: Any) -> ControlState:
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


# ---- opponents ---------------------------------------------------------------------
def resolve_opponent(
    opponent: Any,
    seat: Seat,
    kwargs: Mapping[str, Any] | None = None,
    *,
    root: str | None = None,
    config: ControlConfig | None = None,
) -> UpdateRule:
    """The rule that plays ``seat`` for an opponent spec.

    Args:
        opponent: a registered agent name, a built-in direction name, the path of a
            saved policy (``.zip``), a :class:`~agents.Solver` or an
            :class:`~agents.UpdateRule`.
        seat: the seat the opponent plays.
        kwargs: the agent's hyperparameters (or the sb3 agent's options).
        root: saved policies must lie inside this folder, if given.
        config: options of built-in directions (their ``base_lr``).

    Raises:
        InvalidConfigError: unknown names, sequential solvers, refused files.
    """
    import agents
    from agents.base import Solver, UpdateRule

    kwargs = dict(kwargs or {})
    if isinstance(opponent, UpdateRule):
        rule = opponent
    elif isinstance(opponent, Solver):
        if opponent.order != "simultaneous":
            raise InvalidConfigError(
                f"opponent {opponent.name!r} is a sequential solver; views play "
                "simultaneous moves"
            )
        rule = opponent.rule(seat)
    elif not isinstance(opponent, str) or not opponent:
        raise InvalidConfigError(
            f"opponent must be an agent name, a saved policy path, a Solver or an "
            f"UpdateRule, got {opponent!r:.80}"
        )
    elif opponent in agents.names():
        solver = agents.make(opponent, **kwargs)
        return resolve_opponent(solver, seat, root=root)
    elif opponent in DIRECTIONS:
        base = config or ControlConfig()
        lr = kwargs.pop("lr", base.base_lr)
        if kwargs:
            raise InvalidConfigError(
                f"built-in opponent {opponent!r} takes only 'lr', got {sorted(kwargs)}"
            )
        cfg = ControlConfig(base_lr=lr)
        rule = base_rule(opponent, seat, cfg)
    elif opponent.endswith(".zip") or "/" in opponent or "\\" in opponent:
        from agents.learned import sb3

        opts = {"root": root, **kwargs}
        return resolve_opponent(sb3(opponent, **opts), seat)
    else:
        raise InvalidConfigError(
            f"unknown opponent {opponent!r}: expected a registered agent "
            f"{agents.names()}, a built-in direction {DIRECTIONS}, or the path of a "
            "saved policy (.zip)"
        )
    if rule.order != "simultaneous":
        raise InvalidConfigError(
            f"opponent rule {rule.name!r} is sequential; views play simultaneous moves"
        )
    return rule


# ---- the view ------------------------------------------------------------------------
class GameView(gymnasium.Env):
    """One seat of a gangames game as a single-agent Gymnasium env.

    Args:
        game_id: a registered game id (``"gangames/DiracGAN-v0"``).
        seat: ``"generator"`` or ``"discriminator"``.
        opponent: the other seat's player (see :func:`resolve_opponent`), or a
            non-empty list of them — a pool: each episode draws one uniformly with
            the env's seeded generator.
        opponent_kwargs: the opponent agent's hyperparameters.
        max_steps: rounds per episode.
        budget: oracle budget per seat (gradient-equivalents), ``None`` for none.
        reward: the env's reward (``"gap"``, ``"payoff"``, ``"proximal_gap"``);
            default ``"gap"`` where the game has closed-form best responses, else
            ``"payoff"``.
        device: torch device of the game.
        dtype: the game's floating dtype.
        root: saved-policy opponents must lie inside this folder, if given.
        render_mode: ``None`` or ``"ansi"``.
        **game_kwargs: the game's own options (and ``particles``).

    The control options ``mode``, ``max_update``, ``control``, ``base``, ``bases``,
    ``base_kwargs``, ``base_lr``, ``multiplier_range``, ``temperature`` and ``clip``
    are the fields of :class:`ControlConfig`.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        game_id: str,
        seat: Seat,
        opponent: Any = "gradient",
        opponent_kwargs: Mapping[str, Any] | None = None,
        *,
        mode: str = "update",
        max_update: float = 0.1,
        control: str = "seat",
        base: str = "gradient",
        bases: Sequence[str] = ("gradient", "adam", "optimistic"),
        base_kwargs: Mapping[str, dict[str, Any]] | None = None,
        base_lr: float = 0.05,
        multiplier_range: float = 10.0,
        temperature: float = 3.0,
        clip: float = 100.0,
        max_steps: int = 100,
        budget: float | None = None,
        reward: str | None = None,
        device: str | torch.device = "cpu",
        dtype: Any = torch.float32,
        root: str | None = None,
        render_mode: str | None = None,
        **game_kwargs: Any,
    ) -> None:
        import gangames

        if seat not in SEATS:
            raise InvalidConfigError(f"seat must be one of {SEATS}, got {seat!r}")
        if render_mode not in (None, "ansi"):
            raise InvalidConfigError(
                f"render_mode must be None or 'ansi', got {render_mode!r}"
            )
        self.game_id = game_id
        self.seat: Seat = seat
        self.render_mode = render_mode
        self.control = ControlConfig(
            mode=mode,
            max_update=max_update,
            control=control,
            base=base,
            bases=tuple(bases),
            base_kwargs=dict(base_kwargs or {}),
            base_lr=base_lr,
            multiplier_range=multiplier_range,
            temperature=temperature,
            clip=clip,
        )
        options = {
            "batch": None,
            "tensor": True,
            "device": device,
            "dtype": dtype,
            "max_steps": max_steps,
            "budget": budget,
            "full_infos": False,
            "render_mode": render_mode,
            **game_kwargs,
        }
        self.env: GameParallelEnv = gangames.make(  # type: ignore[assignment]
            game_id, reward=reward or _default_reward(game_id, game_kwargs), **options
        )
        layout = self.env.game.layouts()[seat]
        self.controller = Controller(
            self.control,
            seat,
            (len(layout.names), layout.size, self.env.game.dim(other(seat))),
        )
        self.opponents: list[UpdateRule] = []
        self._opponent_kwargs = dict(opponent_kwargs or {})
        self._root = root
        self.set_opponents(opponent)
        c = self.control.clip
        self.observation_space = gymnasium.spaces.Box(
            -c, c, shape=(self.controller.observation_dim,), dtype=np.float32
        )
        self.action_space = gymnasium.spaces.Box(
            -1.0, 1.0, shape=(self.controller.action_dim,), dtype=np.float32
        )
        self._obs: Observation | None = None
        self._state: ControlState | None = None
        self._opponent_agent: Any = None

    def set_opponents(self, opponent: Any) -> None:
        """Replace the opponent (or the pool of opponents) from the next reset on."""
        # Solvers and rules are named tuples themselves: only plain sequences are pools
        pool = list(opponent) if type(opponent) in (list, tuple) else [opponent]
        if not pool:
            raise InvalidConfigError("the opponent pool is empty")
        self.opponents = [
            resolve_opponent(
                o,
                other(self.seat),
                self._opponent_kwargs,
                root=self._root,
                config=self.control,
            )
            for o in pool
        ]

    # ---- Gymnasium API ---------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; ``options`` are passed to the game env (``params``)."""
        from agents.play import SeatAgent, seat_start

        super().reset(seed=seed)
        obs, infos = self.env.reset(seed=seed, options=options)
        pick = int(self.np_random.integers(len(self.opponents)))
        self._opponent_agent = SeatAgent(self.opponents[pick], other(self.seat))
        self._opponent_agent.reset(self.env)
        self._state = self.controller.init(*seat_start(self.env, self.seat))
        self._raw = obs
        self._obs = self._observation(obs[self.seat])
        info = self._info(infos[self.seat])
        info["opponent"] = self.opponents[pick].name
        return self._features(), info

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Play one round: this seat's decoded action and the opponent's update."""
        if self._obs is None or self._state is None or not self.env.agents:
            from gangames.errors import ResetNeededError

            raise ResetNeededError(
                "call reset() before step()"
                if self._obs is None
                else "the episode has ended; call reset()"
            )
        a = np.asarray(action, dtype=np.float32)
        if a.shape != self.action_space.shape or not np.isfinite(a).all():
            from gangames.errors import InvalidActionError

            raise InvalidActionError(
                f"{self.seat}: expected a finite action of shape "
                f"{self.action_space.shape}, got {a.shape}"
            )
        cfg = self.env.config
        oracle = self.env.oracle(self.seat)
        delta, self._state = self.controller.decode(
            torch.from_numpy(a)[None], self._obs, self._state, oracle
        )
        from agents.play import guard_finite

        delta = guard_finite(self.env, delta.detach().to(dtype=cfg.dtype))
        opponent_delta = self._opponent_agent.act(self._raw[other(self.seat)])
        actions: dict[str, Any] = {
            self.seat: delta[0],
            other(self.seat): opponent_delta,
        }
        obs, rewards, _, truncations, infos = self.env.step(actions)
        self._raw = obs
        self._obs = self._observation(obs[self.seat])
        reward = float(rewards[self.seat])
        return (
            self._features(),
            reward,
            False,
            bool(truncations[self.seat]),
            self._info(infos[self.seat]),
        )

    def render(self) -> str | np.ndarray | None:
        """With ``render_mode="ansi"``: the game env's line of metrics."""
        if self.render_mode != "ansi" or self.env.match is None:
            return None
        return self.env.render()

    # ---- helpers ---------------------------------------------------------------------
    def _observation(self, raw: Mapping[str, torch.Tensor]) -> Observation:
        from agents.play import observation_of

        return observation_of(self.env, dict(raw))

    def _features(self) -> np.ndarray:
        assert self._obs is not None and self._state is not None
        x = self.controller.features(self._obs, self._state, self.env.oracle(self.seat))
        return x[0].detach().cpu().numpy().astype(np.float32)

    @staticmethod
    def _info(info: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in info.items():
            if isinstance(v, torch.Tensor):
                out[k] = v.item() if v.dtype != torch.bool else bool(v)
            else:
                out[k] = v
        return out

    def metadata_json(self) -> dict[str, Any]:
        """What a saved policy needs to replay this view's controller."""
        return {
            "game_id": self.game_id,
            "seat": self.seat,
            "control": self.control.to_json(),
            "observation_dim": self.controller.observation_dim,
            "action_dim": self.controller.action_dim,
        }


def _default_reward(game_id: str, game_kwargs: Mapping[str, Any]) -> str:
    """``"gap"`` if the game's metrics give exploitabilities, else ``"payoff"``."""
    from gangames import metrics
    from gangames.engine import new_match
    from gangames.registration import make_game

    options = {
        k: v for k, v in game_kwargs.items() if k not in _ENV_OPTIONS | {"order"}
    }
    game = make_game(game_id, **options)
    probe = new_match(game, [0], dtype=torch.float64)
    s = probe.state
    m = metrics.evaluate(
        game, probe.instance, s.theta, s.phi, proximal=False, extras=False
    )
    return "gap" if m.duality_gap is not None else "payoff"


def view_id(game_id: str, seat: Seat) -> str:
    """The view id of a game id: ``ns/Name-vN`` → ``ns/Name-<seat>-vN``."""
    head, _, version = game_id.rpartition("-v")
    return f"{head}-{seat}-v{version}"


def _entry_point(game_id: str, seat: Seat) -> Callable[..., GameView]:
    def create(**kwargs: Any) -> GameView:
        return GameView(game_id, seat, **kwargs)

    create.__name__ = f"make_{seat}_view"
    return create


def register_views(game_ids: Sequence[str] | None = None) -> list[str]:
    """Register the generator and discriminator views of games with Gymnasium.

    Called on ``import gangames`` for every registered game; call it again after
    registering games of your own.

    Args:
        game_ids: the games (default: every registered game).

    Returns:
        The view ids registered.
    """
    from gangames.registration import names

    ids = []
    for game_id in names() if game_ids is None else game_ids:
        for seat in SEATS:
            vid = view_id(game_id, seat)
            if vid not in gymnasium.registry:
                gymnasium.register(vid, entry_point=_entry_point(game_id, seat))
            ids.append(vid)
    return ids
