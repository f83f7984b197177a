"""PettingZoo environments over the batched engine.

=====================  ==========================================================
Agents                 ``"generator"`` (θ, minimises V), ``"discriminator"`` (φ, maximises V)
Parallel API           :class:`GameParallelEnv` — simultaneous moves
AEC API                :class:`GameAECEnv` — sequential moves, first mover ``first``
                       (generator by default: the Stackelberg leader); native, not
                       ``parallel_to_aec`` (which would buffer the first action)
Action                 ``Box(d_seat)`` — the update Δ; the env applies
                       ``θ ← Π_Θ(θ + Δθ)``; finite bounds ``±max_update`` if set
Observation            ``Dict``: ``own`` (d_own), ``opponent`` (d_opp), ``gradient``
                       (own-loss gradient at the current point, d_own),
                       ``opponent_gradient`` (the opponent's own-loss gradient at the
                       same point, from the same pass, d_opp), ``value`` (1),
                       ``progress`` (step / max_steps, 1)
Reward                 ``"gap"`` (default): minus the seat's exploitability, so the two
                       rewards sum to minus the duality gap; ``"payoff"``: (−V, +V)
                       at the new point, from the observation pass (in stochastic
                       games V on its fresh minibatch: the realized payoff);
                       ``"proximal_gap"``: minus the seat's share of the proximal gap
Gap estimates          games without closed-form best responses (neural GANs, or any
                       game when ``estimator=…`` is given) get the budgeted estimates
                       of :mod:`gangames.estimators` every ``estimate_every`` rounds
                       (rewards and infos use the latest one; uncharged);
                       ``env.gap_estimator`` names its settings and says "lower bound"
Infos                  ``value``, ``duality_gap``, ``exploitability_generator``,
                       ``exploitability_discriminator``, ``proximal_gap``,
                       ``grad_norm``, ``distance`` (those the game supports),
                       ``oracle_calls_generator``, ``oracle_calls_discriminator``
                       (gradient-equivalents per seat), ``gap_lower_bound``
                       (whether the gaps are the budgeted estimate),
                       ``gap_estimate_step`` (round of the latest estimate, where
                       estimated), ``diverged``, ``step``, and the game's
                       sample-quality metrics if it has any (``Game.quality``:
                       e.g. ``modes_covered``, ``mmd2``). Infos hold numbers and
                       numeric arrays only; the estimator's label is the
                       attribute ``env.gap_estimator``
Episode end            truncation at ``max_steps`` rounds, when a seat's oracle cost
                       reaches ``budget``, or when every instance diverged
=====================  ==========================================================

**Batches.** ``batch=None`` plays one instance with unbatched spaces (shape ``(d,)``,
float rewards). ``batch=B`` plays B instances in lockstep: every field gains a leading
axis B, rewards and per-instance infos are arrays of shape ``(B,)``. The parallel env
stays a PettingZoo ``ParallelEnv`` (``parallel_api_test`` passes). The batched AEC env
is gangames' *vector* AEC API: its instances move in lockstep, so ``agent_iter``,
``terminations`` and ``truncations`` are shared, while ``rewards`` and the reward of
``last()`` are ``(B,)`` arrays, where PettingZoo's AEC API has scalars; ``api_test``
and other AEC clients need ``batch=None`` or the parallel env. ``pettingzoo.make("aec", id)``
therefore refuses a ``batch``, pointing to the parallel env;
``gangames.make(id, order="sequential", batch=B)`` builds the vector AEC env
(:func:`gangames.play.play` and the tournament play sequential solvers in it).

**Tensor mode.** ``tensor=True`` returns observations, rewards and infos as torch tensors
on the env's device (no host copies) and takes torch actions on that device.

**Costs.** Each observation's gradient is charged to its seat: one gradient per seat and
round, exactly what gradient descent–ascent costs. The opponent's gradient comes from
the same backward pass and costs nothing more (in simultaneous play the opponent paid
for it; extragradient then costs 2 gradients a seat, 4 a round, as in the literature).
Agents that need more query the oracle through ``env.oracle(seat)``.

**Bad input** raises a ``ValueError`` subclass naming the seat, what was expected and
what came, and leaves the state untouched (:mod:`gangames.errors`).

**Seeding.** ``reset(seed=s)`` derives one seed per instance from ``s`` (NumPy
SeedSequence); ``reset(seed=[s_0, …, s_{B−1}])`` sets them explicitly, so instance
``b`` of a batch equals a single run reset with ``seed=[s_b]``. ``reset()`` without a
seed continues with the next episode's seeds. Seeds are ints in ``[0, 2⁶³)``.
``reset(options={"params": {"generator": θ0, "discriminator": φ0}})`` starts from
given parameters, which must lie in the game's feasible set (a point outside it is
refused, not silently projected).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import gymnasium
import numpy as np
import torch
from pettingzoo import AECEnv, ParallelEnv

from gangames import checks
from gangames import metrics as gap_metrics
from gangames.engine import Match, apply_update, new_match
from gangames.errors import (
    InvalidActionError,
    InvalidConfigError,
    RenderModeError,
    ResetNeededError,
    UnknownAgentError,
)
from gangames.estimators import Estimate, EstimatorConfig, estimate_gaps
from gangames.game import Game, Mixed
from gangames.oracle import COSTS, SeatOracle
from gangames.random import derive_seeds
from gangames.render import save_png as write_png
from gangames.types import SEATS, Seat, other

__all__ = ["EnvConfig", "GameAECEnv", "GameParallelEnv"]

REWARDS = ("gap", "payoff", "proximal_gap")
RENDER_MODES = (None, "ansi", "rgb_array")
_ESTIMATE_TAG = 0xE57  # stream fork of the gap estimator (never the oracle's draws)
_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _all_finite(values: torch.Tensor | np.ndarray) -> bool:
    """Whether every entry is finite, usually from one reduction.

    A finite sum proves every entry finite (NaN propagates; ±inf propagate, or meet as
    NaN), at a tenth of the cost of an entrywise test on a (1024, 100) action; only a
    sum that overflowed from finite entries needs the entrywise test.
    """
    if isinstance(values, torch.Tensor):
        return bool(torch.isfinite(values.sum())) or bool(torch.isfinite(values).all())
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(values.sum())) or bool(np.isfinite(values).all())


_MAX_SEED = 2**63 - 1  # seeds become int64 stream keys


def _require_feasible(
    given: Sequence[torch.Tensor], placed: Sequence[torch.Tensor]
) -> None:
    """Refuse initial parameters that the game's projection had to move."""
    for seat, p, q in zip(SEATS, given, placed, strict=True):
        p = p.to(device=q.device, dtype=q.dtype)
        if not torch.allclose(p, q, rtol=1e-5, atol=1e-6):
            away = float((p - q).abs().max())
            raise InvalidConfigError(
                f"options['params']['{seat}'] must lie in the game's feasible set; a "
                f"coordinate is {away:.3g} outside it (give a feasible point)"
            )


@dataclass(frozen=True)
class EnvConfig:
    """Options of an environment, shared by both APIs (game options live on the game).

    Args:
        batch: number of instances played in lockstep, at most
            :data:`~gangames.checks.MAX_BATCH`; ``None`` for one unbatched instance.
        device: torch device of every tensor (one this machine has).
        dtype: ``torch.float32`` (default) or ``torch.float64`` (also as strings).
        max_steps: rounds before truncation (``max_cycles`` is accepted as an alias,
            as PettingZoo's registry passes it).
        budget: oracle budget per seat in gradient-equivalents; ``None`` for none.
        reward: ``"gap"``, ``"payoff"`` or ``"proximal_gap"``.
        prox_lambda: λ of the proximal gap (penalty ``(λ/2)‖φ̃ − φ‖²``).
        tensor: observations, rewards and infos as torch tensors on ``device``.
        max_update: finite bound of the action boxes (``None``: unbounded).
        clip_actions: clip actions outside the action box into it (for clients that
            send unscaled actions: Tianshou, SuperSuit's ``clip_actions_v0``);
            ``False`` (default) refuses them. NaN and Inf are refused either way.
        first: first mover of the sequential (AEC) env.
        render_mode: ``None``, ``"ansi"`` (a line of metrics) or ``"rgb_array"`` (an
            image, for games that draw themselves: ``game.render_rgb``).
        full_infos: compute every metric for ``infos`` each round; ``False`` computes
            only what the reward needs (plus the value, the oracle counts and the
            divergence flags) — for long tournaments where speed matters. In
            stochastic games the full ``value`` is V on the held-out evaluation set;
            the lean one is the observation pass's minibatch value (no extra pass).
        estimator: settings of the budgeted gap estimator
            (:class:`~gangames.estimators.EstimatorConfig` or a dict of its fields);
            ``None`` uses the defaults for games that estimate by default
            (``game.estimate_gaps``) and no estimator for the others.
        estimate_every: rounds between two gap estimates.
        quality_every: with lean infos, add the game's sample-quality metrics
            (``game.quality``: modes covered, classes covered, …) every
            ``quality_every`` rounds (and after reset); rounds in between carry none.
            ``None``: only full infos carry them.
    """

    batch: int | None = None
    device: str | torch.device = "cpu"
    dtype: Any = torch.float32
    max_steps: int = 1000
    budget: float | None = None
    reward: str = "gap"
    prox_lambda: float = 1.0
    tensor: bool = False
    max_update: float | None = None
    clip_actions: bool = False
    first: Seat = "generator"
    render_mode: str | None = None
    full_infos: bool = True
    estimator: Any = None
    estimate_every: int = 100
    quality_every: int | None = None

    def __post_init__(self) -> None:
        checks.batch("batch", self.batch, allow_none=True)
        checks.positive("max_steps", self.max_steps, integer=True)
        checks.positive("budget", self.budget, allow_none=True)
        checks.positive("prox_lambda", self.prox_lambda)
        checks.positive("max_update", self.max_update, allow_none=True)
        dtype = (
            _DTYPES.get(self.dtype, self.dtype)
            if isinstance(self.dtype, str)
            else self.dtype
        )
        if dtype not in (torch.float32, torch.float64):
            raise InvalidConfigError(
                f"dtype must be float32 or float64, got {self.dtype!r}"
            )
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "device", checks.device("device", self.device))
        if self.reward not in REWARDS:
            raise InvalidConfigError(
                f"reward must be one of {REWARDS}, got {self.reward!r}"
            )
        if not isinstance(self.clip_actions, bool):
            raise InvalidConfigError(
                f"clip_actions must be True or False, got {self.clip_actions!r}"
            )
        if self.first not in SEATS:
            raise InvalidConfigError(
                f"first must be one of {SEATS}, got {self.first!r}"
            )
        if self.render_mode not in RENDER_MODES:
            raise RenderModeError(
                f"render_mode must be one of {RENDER_MODES}, got {self.render_mode!r}"
            )
        checks.positive("estimate_every", self.estimate_every, integer=True)
        checks.positive(
            "quality_every", self.quality_every, integer=True, allow_none=True
        )
        if self.estimator is not None:
            object.__setattr__(self, "estimator", EstimatorConfig.of(self.estimator))

    @property
    def numpy_dtype(self) -> type:
        """NumPy dtype of the spaces."""
        return np.float32 if self.dtype == torch.float32 else np.float64


class _Session:
    """The shared core of both adapters: spaces, validation, observations, rewards."""

    def __init__(self, game: Game, config: EnvConfig) -> None:
        # a game built directly (not through the registry) is checked here too
        fields = game.base if isinstance(game, Mixed) else game
        checks.finite_options(
            type(fields).__name__,
            {f.name: getattr(fields, f.name) for f in dataclasses.fields(fields)},
        )
        self.game = game
        self.config = config
        self.match: Match | None = None
        self._seed: int | list[int] | None = None
        self._episode = 0
        self._obs_cache: dict[Seat, tuple[int, dict[str, torch.Tensor]]] = {}
        self._version = 0  # bumped on every state change
        # (version, (V, ∇_θL_G, ∇_φL_D)) of the last exact observation pass, for metrics
        self._exact: tuple[int, tuple | None] = (-1, None)
        # V of the latest observation pass at the current point (the minibatch
        # estimate in stochastic games): the realized payoff
        self._realized: tuple[int, torch.Tensor | None] = (-1, None)
        # The budgeted estimator (None: closed forms only) and its latest estimate.
        self.estimator: EstimatorConfig | None = (
            config.estimator
            if config.estimator is not None
            else (EstimatorConfig() if game.estimate_gaps else None)
        )
        self._estimate: tuple[int, Estimate] | None = None
        if (
            config.render_mode is not None
            and config.render_mode not in game.render_modes
        ):
            raise RenderModeError(
                f"render_mode {config.render_mode!r}: {type(game).__name__} supports "
                f"{[None, *game.render_modes]}"
            )
        self._check_reward_support()
        lead = () if config.batch is None else (config.batch,)
        entries = (config.batch or 1) * sum(game.dim(s) for s in SEATS)
        self.one_thread = torch.device(config.device).type == "cpu" and entries <= SMALL
        f = config.numpy_dtype
        self.observation_spaces = {}
        self.action_spaces = {}
        for seat in SEATS:
            d, d_opp = game.dim(seat), game.dim(other(seat))
            inf = gymnasium.spaces.Box(-np.inf, np.inf, shape=(*lead, d), dtype=f)
            self.observation_spaces[seat] = gymnasium.spaces.Dict(
                {
                    "own": inf,
                    "opponent": gymnasium.spaces.Box(
                        -np.inf, np.inf, shape=(*lead, d_opp), dtype=f
                    ),
                    "gradient": gymnasium.spaces.Box(
                        -np.inf, np.inf, shape=(*lead, d), dtype=f
                    ),
                    "opponent_gradient": gymnasium.spaces.Box(
                        -np.inf, np.inf, shape=(*lead, d_opp), dtype=f
                    ),
                    "value": gymnasium.spaces.Box(
                        -np.inf, np.inf, shape=(*lead, 1), dtype=f
                    ),
                    "progress": gymnasium.spaces.Box(
                        0.0, 1.0, shape=(*lead, 1), dtype=f
                    ),
                }
            )
            bound = np.inf if config.max_update is None else config.max_update
            self.action_spaces[seat] = gymnasium.spaces.Box(
                -bound, bound, shape=(*lead, d), dtype=f
            )

    def _check_reward_support(self) -> None:
        if self.estimator is not None:
            return  # every gap is available, estimated where no closed form exists
        declared = self.game.capabilities  # what the game declares; no probe match
        if self.config.reward == "gap" and not declared.duality_gap:
            raise InvalidConfigError(
                f"reward='gap' needs closed-form best responses, which {type(self.game).__name__} "
                "lacks; use reward='payoff', or estimator={...} for budgeted estimates"
            )
        if self.config.reward == "proximal_gap" and not declared.proximal_gap:
            raise InvalidConfigError(
                f"reward='proximal_gap' needs a closed-form proximal objective, which "
                f"{type(self.game).__name__} lacks; use reward='gap' or 'payoff', or "
                "estimator={...} for budgeted estimates"
            )

    # ---- reset -------------------------------------------------------------------
    def instance_seeds(self, seed: int | Sequence[int] | None) -> list[int]:
        batch = self.config.batch or 1
        if seed is None:
            if self._seed is None:
                entropy = np.random.SeedSequence().entropy
                self._seed = int(entropy) % (1 << 63)  # type: ignore[arg-type]
            self._episode += 1
        else:
            self._seed, self._episode = (
                (
                    int(seed)
                    if isinstance(seed, (int, np.integer))
                    else [int(s) for s in seed]
                ),
                0,
            )
        if isinstance(self._seed, list):
            if len(self._seed) != batch:
                raise InvalidConfigError(
                    f"seed: expected {batch} instance seeds, got {len(self._seed)}"
                )
            if self._episode == 0:
                return list(self._seed)
            return [derive_seeds(s, 1, episode=self._episode)[0] for s in self._seed]
        return derive_seeds(self._seed, batch, episode=self._episode)

    def reset(
        self, seed: int | Sequence[int] | None, options: Mapping[str, Any] | None
    ) -> None:
        valid = seed is None or isinstance(seed, (int, np.integer, Sequence))
        if not valid or isinstance(seed, (bool, str)):
            raise InvalidConfigError(
                f"seed must be an int or a sequence of ints, got {seed!r}"
            )
        for s in [seed] if isinstance(seed, int | np.integer) else seed or []:
            checks.number(
                "seed",
                int(s) if isinstance(s, np.integer) else s,
                low=0,
                high=_MAX_SEED,
                integer=True,
            )
        seeds = self.instance_seeds(seed)
        params = None
        if options and options.get("params") is not None:
            given = options["params"]
            if not isinstance(given, Mapping) or set(given) != set(SEATS):
                raise UnknownAgentError(
                    f"options['params'] must map both seats {SEATS} to parameters, got {given!r:.80}"
                )
            params = tuple(  # type: ignore[assignment]
                self.to_tensor(seat, given[seat], what="initial parameters")
                for seat in SEATS
            )
        cfg = self.config
        match = new_match(
            self.game,
            seeds,
            device=cfg.device,
            dtype=cfg.dtype,
            params=params,  # type: ignore[arg-type]
        )
        if params is not None:
            _require_feasible(params, (match.state.theta, match.state.phi))
        self.match = match
        self._version += 1
        self._obs_cache.clear()
        self._estimate = None

    # ---- validation --------------------------------------------------------------
    def require_match(self) -> Match:
        if self.match is None:
            raise ResetNeededError("call reset() before step() or observe()")
        return self.match

    def to_tensor(
        self, seat: Seat, action: Any, *, what: str = "action"
    ) -> torch.Tensor:
        """Validate ``action`` for ``seat`` and return it as a ``(B, d)`` tensor."""
        cfg = self.config
        space = self.action_spaces[seat]
        if cfg.tensor:
            if not isinstance(action, torch.Tensor):
                raise InvalidActionError(
                    f"{seat}: expected {what} as a torch.Tensor {space.shape} "
                    f"{np.dtype(space.dtype).name} on {cfg.device}, got {type(action).__name__}"
                )
            if (
                not action.is_floating_point()
                or tuple(action.shape) != space.shape
                or action.device != cfg.device
            ):
                raise InvalidActionError(
                    f"{seat}: expected {what} of shape {space.shape}, a floating dtype (cast to {cfg.dtype}) on {cfg.device}; "
                    f"got shape {tuple(action.shape)}, dtype {action.dtype} on {action.device}"
                )
            # a float of another precision is cast, as Gymnasium casts castable floats
            tensor = action.to(cfg.dtype)
            finite = _all_finite(tensor)  # validation at the boundary may sync
        else:
            if not isinstance(action, np.ndarray):
                raise InvalidActionError(
                    f"{seat}: expected {what} as a numpy array {space.shape} "
                    f"{np.dtype(space.dtype).name}, got {type(action).__name__}"
                )
            if (
                not np.issubdtype(action.dtype, np.floating)
                or action.shape != space.shape
            ):
                raise InvalidActionError(
                    f"{seat}: expected {what} of shape {space.shape} and a floating dtype (cast to {np.dtype(space.dtype).name}); "
                    f"got shape {action.shape} and dtype {action.dtype}"
                )
            with np.errstate(over="ignore"):  # an overflow is refused as Inf below
                cast = np.array(action, dtype=space.dtype, copy=True)
            finite = _all_finite(cast)
            tensor = torch.from_numpy(cast).to(cfg.device)
        if not finite:
            raise InvalidActionError(f"{seat}: {what} contains NaN or Inf")
        if cfg.max_update is not None and what == "action" and cfg.clip_actions:
            tensor = tensor.clamp(-cfg.max_update, cfg.max_update)
        elif (
            cfg.max_update is not None
            and what == "action"
            and bool((tensor.abs() > cfg.max_update).any())
        ):
            raise InvalidActionError(
                f"{seat}: action entries must lie in [-{cfg.max_update}, {cfg.max_update}]"
            )
        return tensor.reshape(cfg.batch or 1, -1)

    # ---- play --------------------------------------------------------------------
    def apply(self, deltas: dict[Seat, torch.Tensor], *, round_done: bool) -> None:
        m = self.require_match()
        state = apply_update(m.game, m.instance, m.state, deltas)
        if round_done:
            state = state._replace(step=state.step + 1)
        self.match = m._replace(state=state)
        self._version += 1

    def declare_diverged(self, rows: torch.Tensor) -> None:
        m = self.require_match()
        rows = rows.to(device=m.state.diverged.device, dtype=torch.bool).reshape(-1)
        self.match = m._replace(
            state=m.state._replace(diverged=m.state.diverged | rows)
        )

    def observe(self, seat: Seat) -> dict[str, torch.Tensor]:
        """Observation tensors of ``seat`` at the current state (charged once per state)."""
        cached = self._obs_cache.get(seat)
        if cached is not None and cached[0] == self._version:
            return cached[1]
        m = self.require_match()
        s = m.state
        own, opp = (s.theta, s.phi) if seat == "generator" else (s.phi, s.theta)
        grad, opp_grad, value = m.oracle.observe(seat, s.theta, s.phi)
        self._realized = (self._version, value)
        obs = self._pack(own, opp, grad, opp_grad, self._columns(value))
        self._obs_cache[seat] = (self._version, obs)
        return obs

    def observe_both(self) -> dict[Seat, dict[str, torch.Tensor]]:
        """Both observations from one oracle pass (one gradient charged to each seat)."""
        m = self.require_match()
        s = m.state
        g_gen, g_dis, value = m.oracle.joint(s.theta, s.phi)
        self._realized = (self._version, value)
        if not m.game.stochastic and m.game.gradient_noise == 0.0:
            self._exact = (self._version, (value, g_gen, g_dis))
        columns = self._columns(value)  # the same for both seats
        out: dict[Seat, dict[str, torch.Tensor]] = {
            "generator": self._pack(s.theta, s.phi, g_gen, g_dis, columns),
            "discriminator": self._pack(s.phi, s.theta, g_dis, g_gen, columns),
        }
        for seat, obs in out.items():
            self._obs_cache[seat] = (self._version, obs)
        return out

    def _columns(self, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The observation's ``value`` and ``progress`` columns ``(B, 1)``."""
        m = self.require_match()
        dtype = m.state.theta.dtype
        value = value[:, None].to(dtype)
        progress = torch.full_like(value, m.state.step / self.config.max_steps)
        return value, progress

    @staticmethod
    def _pack(
        own, opp, grad, opp_grad, columns: tuple[torch.Tensor, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        return {
            "own": own,
            "opponent": opp,
            "gradient": grad.to(own.dtype),
            "opponent_gradient": opp_grad.to(own.dtype),
            "value": columns[0],
            "progress": columns[1],
        }

    def realized_value(self) -> torch.Tensor | None:
        """V of the latest observation pass at the current point, if one was made.

        Exact in deterministic games; in stochastic games the minibatch estimate on
        the pass's fresh minibatch — the payoff the round realized.
        """
        return self._realized[1] if self._realized[0] == self._version else None

    def metrics(self) -> gap_metrics.Metrics:
        m = self.require_match()
        cfg = self.config
        exact = self._exact[1] if self._exact[0] == self._version else None
        proximal = cfg.full_infos or cfg.reward == "proximal_gap"
        # Lean infos of stochastic games report the realized (minibatch) value
        # rather than evaluating V again on the held-out set every round.
        value = (
            self.realized_value() if m.game.stochastic and not cfg.full_infos else None
        )
        mt = gap_metrics.evaluate(
            m.game,
            m.instance,
            m.state.theta,
            m.state.phi,
            prox_lambda=cfg.prox_lambda,
            exact=exact,
            value=value,
            proximal=proximal,
            extras=cfg.full_infos,
        )
        return self._with_estimate(mt, proximal)

    def _with_estimate(
        self, mt: gap_metrics.Metrics, proximal: bool
    ) -> gap_metrics.Metrics:
        """Fill the gaps without closed forms from the latest budgeted estimate.

        A new estimate is made at reset and then every ``estimate_every`` rounds; in
        between, rewards and infos reuse the latest one. Estimates never touch the
        oracle's ledger and draw from their own stream fork, so they change neither
        the costs nor the minibatches of play.
        """
        # The duality gap is needed for the reward "gap" and for full infos only.
        need_dg = mt.duality_gap is None and (
            self.config.full_infos or self.config.reward == "gap"
        )
        need_prox = proximal and mt.proximal_gap is None
        if self.estimator is None or not (need_dg or need_prox):
            return mt
        m = self.require_match()
        step = m.state.step
        if (
            self._estimate is None
            or step - self._estimate[0] >= self.config.estimate_every
        ):
            stream = m.oracle.stream.fork(_ESTIMATE_TAG).fork(step)
            est = estimate_gaps(
                m.game,
                m.instance,
                m.state.theta,
                m.state.phi,
                stream,
                self.estimator,
                proximal=need_prox,
                prox_lambda=self.config.prox_lambda,
            )
            self._estimate = (step, est)
        est = self._estimate[1]
        fill: dict[str, torch.Tensor | None] = {}
        if need_dg:
            fill.update(
                exploitability_generator=est.exploitability_generator,
                exploitability_discriminator=est.exploitability_discriminator,
                duality_gap=est.duality_gap,
            )
        if need_prox and est.proximal_gap is not None:
            fill.update(
                proximal_gap=est.proximal_gap,
                proximal_exploitability_generator=est.proximal_exploitability_generator,
                proximal_exploitability_discriminator=est.proximal_exploitability_discriminator,
            )
        return mt._replace(**fill)  # type: ignore[arg-type]

    def rewards(self, mt: gap_metrics.Metrics) -> dict[Seat, torch.Tensor]:
        r = self.config.reward
        if r == "payoff":
            realized = self.realized_value()
            v = realized if realized is not None else mt.value
            return {"generator": -v, "discriminator": v}
        if r == "proximal_gap":
            return {
                "generator": -mt.proximal_exploitability_generator,  # type: ignore[operator]
                "discriminator": -mt.proximal_exploitability_discriminator,  # type: ignore[operator]
            }
        return {
            "generator": -mt.exploitability_generator,  # type: ignore[operator]
            "discriminator": -mt.exploitability_discriminator,  # type: ignore[operator]
        }

    def info(self, mt: gap_metrics.Metrics) -> dict[str, Any]:
        m = self.require_match()
        out: dict[str, Any] = {
            name: self.export(val)
            for name, val in mt._asdict().items()
            if val is not None and not name.startswith("proximal_exploitability")
        }
        every = self.config.quality_every
        if self.config.full_infos or (every and m.state.step % every == 0):
            with torch.no_grad():  # the game's sample-quality metrics, uncharged
                quality = m.game.quality(m.instance, m.state.theta)
            out.update({name: self.export(val) for name, val in quality.items()})
        out["diverged"] = self.export(m.state.diverged)
        for seat, cost in m.oracle.ledger.costs().items():
            out[f"oracle_calls_{seat}"] = cost
        out["gap_lower_bound"] = self._estimate is not None
        if self._estimate is not None:
            out["gap_estimate_step"] = self._estimate[0]
        out["step"] = m.state.step
        return out

    @property
    def gap_estimator(self) -> str:
        """How the gaps in the latest infos were obtained (a label; infos are numbers).

        The game's own label (``"exact"``, or the set its closed form is restricted
        to) until the budgeted estimator has filled a gap; then the estimator's
        settings, ending in "lower bound".
        """
        if self._estimate is not None and self.estimator is not None:
            return self.estimator.label
        return self.game.gap_estimator

    def observed(self, seat: Seat) -> bool:
        """Whether ``seat``'s observation of the current state is made (and charged)."""
        cached = self._obs_cache.get(seat)
        return cached is not None and cached[0] == self._version

    def truncated(self, pending: Sequence[Seat] = ()) -> bool:
        """Whether the episode ends here.

        ``pending`` seats still owe the observation of this state: the budget counts
        it (one gradient each) before it is made.
        """
        m = self.require_match()
        cfg = self.config
        owed = {seat: COSTS["grad"] * (seat in pending) for seat in SEATS}
        over_budget = cfg.budget is not None and any(
            c + owed[seat] >= cfg.budget for seat, c in m.oracle.ledger.costs().items()
        )
        return (
            m.state.step >= cfg.max_steps or over_budget or bool(m.state.diverged.all())
        )

    # ---- boundary conversion -------------------------------------------------------
    def export(self, value: torch.Tensor) -> Any:
        """A batched tensor in the env's output form (tensor, array or scalar)."""
        if self.config.tensor:
            return value if self.config.batch is not None else value[0]
        arr = value.detach().cpu().numpy()
        if self.config.batch is not None:
            return arr
        item = arr[0]
        return bool(item) if arr.dtype == np.bool_ else float(item)

    def export_obs(self, obs: dict[str, torch.Tensor]) -> dict[str, Any]:
        if self.config.tensor:
            return (
                obs
                if self.config.batch is not None
                else {k: v[0] for k, v in obs.items()}
            )
        f = self.config.numpy_dtype
        out: dict[str, Any] = {
            k: v.detach().cpu().numpy().astype(f, copy=False) for k, v in obs.items()
        }
        return (
            out if self.config.batch is not None else {k: v[0] for k, v in out.items()}
        )

    def render_rgb(self) -> np.ndarray:
        """The game's image of instance 0 at the current point."""
        m = self.require_match()
        image = m.game.render_rgb(m.instance, m.state.theta)
        if image is None:
            raise InvalidConfigError(
                f"{type(m.game).__name__} cannot draw itself (render modes: "
                f"{list(m.game.render_modes)})"
            )
        return image

    def render(self) -> str | np.ndarray | None:
        if self.config.render_mode == "rgb_array" and self.match is not None:
            return self.render_rgb()
        if self.config.render_mode != "ansi" or self.match is None:
            return None
        mt = self.metrics()
        parts = [f"step {self.match.state.step}"]
        for name in ("value", "duality_gap", "grad_norm", "distance"):
            val = getattr(mt, name)
            if val is not None:
                parts.append(f"{name}={val.mean().item():.6g}")
        return "  ".join(parts)


def _metadata(game: Game) -> dict[str, Any]:
    """An env's metadata: its game's render modes (``None`` aside) and its name."""
    return {
        **_Common.metadata,
        "render_modes": list(game.render_modes),
        "name": f"gangames_{type(game).__name__}",
    }


# Entries per round (B · (d_θ + d_φ)) up to which a CPU env computes on one thread:
# torch's intra-op threads only add overhead at this size (the README's DiracGAN
# snippet, B = 64, runs 1.6–5× faster on one thread on 2 cores), and tensors this
# small are below torch's parallel grain, so results are the same bit for bit.
SMALL = 1 << 14
_F = TypeVar("_F", bound=Callable[..., Any])


def _one_thread_if_small(method: _F) -> _F:
    """Run ``method`` on one torch thread when the env is small (restored after)."""

    @functools.wraps(method)
    def wrapper(self: _Common, *args: Any, **kwargs: Any) -> Any:
        threads = torch.get_num_threads()
        if not self._session.one_thread or threads == 1:
            return method(self, *args, **kwargs)
        torch.set_num_threads(1)
        try:
            return method(self, *args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper  # type: ignore[return-value]


class _Common:
    """Methods both adapters share."""

    _session: _Session
    # every mode some game draws; an instance lists its own game's (Gymnasium reads
    # the class's before it builds an env, PettingZoo's checkers the instance's)
    metadata: dict[str, Any] = {  # noqa: RUF012
        "render_modes": [m for m in RENDER_MODES if m is not None],
        "is_parallelizable": True,
    }

    @property
    def game(self) -> Game:
        """The game being played."""
        return self._session.game

    @property
    def config(self) -> EnvConfig:
        """The environment options."""
        return self._session.config

    @property
    def render_mode(self) -> str | None:
        return self._session.config.render_mode

    def observation_space(self, agent: str) -> gymnasium.spaces.Dict:
        """The (cached) observation space of ``agent``."""
        return self._session.observation_spaces[_seat(agent)]

    def action_space(self, agent: str) -> gymnasium.spaces.Box:
        """The (cached) action space of ``agent``."""
        return self._session.action_spaces[_seat(agent)]

    def oracle(self, seat: str) -> SeatOracle:
        """The seat-relative oracle of the current match (queries are charged)."""
        return self._session.require_match().oracle.view(_seat(seat))

    @property
    def ledger(self):
        """Oracle query counts of the current match."""
        return self._session.require_match().oracle.ledger

    @property
    def match(self) -> Match:
        """The current match (game, instance, oracle, state)."""
        return self._session.require_match()

    @property
    def estimator_config(self) -> EstimatorConfig | None:
        """Settings of the budgeted gap estimator (``None``: closed forms only)."""
        return self._session.estimator

    @property
    def gap_estimator(self) -> str:
        """How the gaps in the latest infos were obtained: ``"exact"``, or a label.

        Infos hold numbers only (``gap_lower_bound`` says whether the gaps are a
        budgeted estimate); this attribute carries the words.
        """
        return self._session.gap_estimator

    def declare_diverged(self, rows: torch.Tensor) -> None:
        """Mark instances ``rows`` (bool ``(B,)``) diverged: frozen, reported, truncated.

        For agents whose update became non-finite in some instances: the match records
        the divergence as an outcome instead of refusing the whole batched action.
        """
        self._session.declare_diverged(rows)

    def render(self) -> str | np.ndarray | None:
        """``"ansi"``: a line of metrics; ``"rgb_array"``: the game's image (H, W, 3).

        The image shows instance 0 (``uint8``); games list it in ``render_modes``.
        """
        return self._session.render()

    def save_png(self, path: str) -> Path:
        """Write the game's image of instance 0 (as ``rgb_array`` renders it) as PNG."""
        return write_png(self._session.render_rgb(), path)

    def close(self) -> None:
        """Nothing to release."""


def _seat(agent: Any) -> Seat:
    if agent not in SEATS:
        raise UnknownAgentError(
            f"unknown agent {agent!r}; the agents are {list(SEATS)}"
        )
    return agent


class GameParallelEnv(_Common, ParallelEnv):
    """Simultaneous-move PettingZoo environment of a :class:`~gangames.game.Game`.

    Build it with :func:`gangames.make`. See :mod:`gangames.envs` for spaces,
    rewards and infos.
    """

    def __init__(self, game: Game, config: EnvConfig | None = None) -> None:
        self._session = _Session(game, config or EnvConfig())
        self.possible_agents = list(SEATS)
        self.agents: list[str] = []
        self.metadata = _metadata(game)

    @_one_thread_if_small
    def reset(
        self, seed: int | Sequence[int] | None = None, options: dict | None = None
    ):
        """Sample instances and initial parameters; returns ``(observations, infos)``."""
        s = self._session
        s.reset(seed, options)
        self.agents = list(SEATS)
        obs = s.observe_both()
        info = s.info(s.metrics())
        return (
            {seat: s.export_obs(obs[seat]) for seat in SEATS},
            {seat: dict(info) for seat in SEATS},
        )

    @_one_thread_if_small
    def step(self, actions: Mapping[str, Any]):
        """Apply both updates at once; returns the five PettingZoo dicts."""
        s = self._session
        if s.match is None or not self.agents:
            raise ResetNeededError(
                "call reset() before step(); the episode has ended"
                if s.match
                else "call reset() before step()"
            )
        if not isinstance(actions, Mapping):
            raise InvalidActionError(
                f"actions must be a dict keyed by agent, got {type(actions).__name__}"
            )
        unknown = set(actions) - set(SEATS)
        if unknown:
            raise UnknownAgentError(
                f"unknown agent(s) {sorted(unknown)}; the agents are {list(SEATS)}"
            )
        missing = set(SEATS) - set(actions)
        if missing:
            raise UnknownAgentError(
                f"missing action for {sorted(missing)}; simultaneous play needs both seats"
            )
        deltas = {seat: s.to_tensor(seat, actions[seat]) for seat in SEATS}
        s.apply(deltas, round_done=True)
        obs = s.observe_both()
        mt = s.metrics()
        rew = s.rewards(mt)
        info = s.info(mt)
        done = s.truncated()
        out = (
            {seat: s.export_obs(obs[seat]) for seat in SEATS},
            {seat: s.export(rew[seat]) for seat in SEATS},
            dict.fromkeys(SEATS, False),
            dict.fromkeys(SEATS, done),
            {seat: dict(info) for seat in SEATS},
        )
        if done:
            self.agents = []
        return out


class GameAECEnv(_Common, AECEnv):
    """Sequential-move PettingZoo environment of a :class:`~gangames.game.Game`.

    The first mover (``first``, the generator by default) moves; its update is
    applied at once, and the other seat then observes the new point and moves. A round
    is both moves; rewards are given at the end of each round (zero after the first
    move), so the cumulative rewards match the parallel env's. In stochastic games the
    first mover's next observation is made (and charged) at the end of the round, as
    the parallel env makes both: its minibatch value is the round's realized payoff.
    """

    def __init__(self, game: Game, config: EnvConfig | None = None) -> None:
        super().__init__()
        self._session = _Session(game, config or EnvConfig())
        order = [self._session.config.first, other(self._session.config.first)]
        self.possible_agents = order
        self.agents: list[str] = []
        self.metadata = _metadata(game)

    @_one_thread_if_small
    def reset(
        self, seed: int | Sequence[int] | None = None, options: dict | None = None
    ) -> None:
        """Sample instances and initial parameters; the first mover is selected."""
        s = self._session
        s.reset(seed, options)
        self.agents = list(self.possible_agents)
        self.agent_selection = self.agents[0]
        self._skip_agent_selection = None
        zero = s.export(
            torch.zeros(
                s.config.batch or 1, dtype=s.config.dtype, device=s.config.device
            )
        )
        self.rewards = dict.fromkeys(self.agents, zero)
        self._cumulative_rewards = dict.fromkeys(self.agents, zero)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        info = s.info(s.metrics())
        self.infos = {a: dict(info) for a in self.agents}

    @_one_thread_if_small
    def observe(self, agent: str) -> dict[str, Any]:
        """Observation of ``agent`` at the current point (its gradient is charged to it)."""
        return self._session.export_obs(self._session.observe(_seat(agent)))

    @_one_thread_if_small
    def step(self, action: Any) -> None:
        """Apply the selected agent's update; the other seat moves next."""
        s = self._session
        if s.match is None or not self.agents:
            raise ResetNeededError(
                "call reset() before step()"
                if s.match is None
                else "the episode has ended; call reset()"
            )
        agent = _seat(self.agent_selection)
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        delta = s.to_tensor(agent, action)
        second = agent == self.possible_agents[1]
        s.apply({agent: delta}, round_done=second)
        self._cumulative_rewards[agent] = self.rewards[agent] * 0
        if second:
            if s.game.stochastic:
                # The first mover's next observation, made now (and charged now, as
                # the parallel env charges both at the end of its round): its value
                # is the round's realized payoff.
                s.observe(_seat(self.possible_agents[0]))
            # The final observations (what last() hands out once the episode ends) are
            # made and charged in the round that ends it, and the budget counts them,
            # as in the parallel env: infos, env.ledger and the parallel env agree.
            pending = [p for p in SEATS if not s.observed(p)]
            done = s.truncated(pending)
            if done:
                for owed in pending:
                    s.observe(owed)
            mt = s.metrics()
            rew = s.rewards(mt)
            info = s.info(mt)
            for seat in self.agents:
                self.rewards[seat] = s.export(rew[_seat(seat)])
                self.infos[seat] = dict(info)
                self.truncations[seat] = done
        else:
            for seat in self.agents:
                self.rewards[seat] = self.rewards[seat] * 0
        self.agent_selection = (
            self.possible_agents[1] if not second else self.possible_agents[0]
        )
        self._accumulate_rewards()
