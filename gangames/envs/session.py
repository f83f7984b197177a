"""One env's match and the record of its current round: what both adapters share.

A :class:`Session` owns the match (game, instance, oracle, state), the seeds of its
episodes, the budgeted gap estimator and the :class:`~gangames.envs.record.Round` of
the current point. The adapters call it in a fixed order each round: apply the
updates, observe, then :meth:`Session.close_round`, which computes the metrics, the
rewards, the infos and the end of the episode once from the round's record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from gangames import checks
from gangames import metrics as gap_metrics
from gangames.engine import (
    Match,
    MatchState,
    freeze_diverged,
    new_match,
    proposed_state,
)
from gangames.envs.config import EnvConfig
from gangames.envs.record import Observation, Round, observation
from gangames.envs.spaces import Boundary
from gangames.errors import (
    InvalidConfigError,
    RenderModeError,
    ResetNeededError,
    UnknownAgentError,
)
from gangames.estimators import Estimate, EstimatorConfig, estimate_gaps
from gangames.game import Game, Mixed
from gangames.oracle import COSTS
from gangames.random import derive_seeds
from gangames.types import SEATS, Seat

__all__ = ["Outcome", "Session"]

_ESTIMATE_TAG = 0xE57  # stream fork of the gap estimator (never the oracle's draws)
_MAX_SEED = 2**63 - 1  # seeds become int64 stream keys


class Outcome(NamedTuple):
    """What a closed round hands out: tensors, before the boundary converts them."""

    rewards: dict[Seat, torch.Tensor]  # (B,) per seat
    info: dict[str, Any]  # numbers only, already in the output form
    done: bool  # truncated


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


class Session:
    """The match of one env and the record of its current round.

    Args:
        game: the game played.
        config: the env's options.
    """

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
        self.round: Round | None = None
        self._seed: int | list[int] | None = None
        self._episode = 0
        # The budgeted estimator (None: closed forms only) and its latest estimate
        # with the round it was made in: it spans rounds (reused for estimate_every).
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
        self.boundary = Boundary(game, config)
        # Fixed by the game: whether an observation pass is the exact game's.
        self._exact_passes = not game.stochastic and game.gradient_noise == 0.0
        self._stochastic = game.stochastic
        # What the game computes (a property built on each read: read it once).
        self._capabilities = game.capabilities

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
    def _instance_seeds(self, seed: int | Sequence[int] | None) -> list[int]:
        """One seed per instance for the next episode (see :mod:`gangames.envs`)."""
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
        """Sample the instances and initial parameters of a new episode."""
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
        seeds = self._instance_seeds(seed)
        params = None
        if options and options.get("params") is not None:
            given = options["params"]
            if not isinstance(given, Mapping) or set(given) != set(SEATS):
                raise UnknownAgentError(
                    f"options['params'] must map both seats {SEATS} to parameters, got {given!r:.80}"
                )
            params = tuple(
                self.boundary.to_parameters(seat, given[seat]) for seat in SEATS
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
        self.round = Round(match.state, any_diverged=False)
        self._estimate = None

    # ---- play --------------------------------------------------------------------
    def require_match(self) -> Match:
        """The current match, or :class:`~gangames.errors.ResetNeededError`."""
        if self.match is None:
            raise ResetNeededError("call reset() before step() or observe()")
        return self.match

    def apply(self, deltas: dict[Seat, torch.Tensor], *, round_done: bool) -> None:
        """Apply updates checked at the boundary; the new point opens a new record.

        The round's one host read asks whether any instance is diverged now. Where
        none is, nothing needs freezing and every action was finite (a NaN or Inf in
        an action the boundary left unchecked makes its seat's new parameters
        non-finite); otherwise the actions are checked for NaN and Inf before
        anything changes, and the diverged instances keep their old parameters.
        """
        m = self.require_match()
        state = proposed_state(m.game, m.instance, m.state, deltas)
        any_diverged = bool(state.diverged.any())
        if any_diverged:
            self.boundary.require_finite(deltas)  # refused: nothing has changed
            state = freeze_diverged(m.state, state)
        if round_done:
            state = MatchState(state.theta, state.phi, state.step + 1, state.diverged)
        self.match = Match(m.game, m.instance, m.oracle, state)
        self.round = Round(state, any_diverged=any_diverged)

    def declare_diverged(self, rows: torch.Tensor) -> None:
        """Mark instances ``rows`` diverged (the point, and what was seen there, stay)."""
        m = self.require_match()
        rows = rows.to(device=m.state.diverged.device, dtype=torch.bool).reshape(-1)
        state = m.state._replace(diverged=m.state.diverged | rows)
        self.match = m._replace(state=state)
        assert self.round is not None  # set with the match
        self.round.state = state
        self.round.any_diverged = None  # unknown until read

    def observe(self, seat: Seat) -> Observation:
        """``seat``'s observation of the current point (made and charged once)."""
        m = self.require_match()
        r = self.round
        assert r is not None  # set with the match
        obs = r.observations.get(seat)
        if obs is None:
            s = r.state
            own, opp = (s.theta, s.phi) if seat == "generator" else (s.phi, s.theta)
            grad, opp_grad, value = m.oracle.observe(seat, s.theta, s.phi)
            r.value = value
            obs = observation(own, opp, grad, opp_grad, *self._columns(value, s))
            r.observations[seat] = obs
        return obs

    def observe_both(self) -> dict[Seat, Observation]:
        """Both observations from one oracle pass (one gradient charged to each seat)."""
        m = self.require_match()
        r = self.round
        assert r is not None  # set with the match
        s = r.state
        g_gen, g_dis, value = m.oracle.joint(s.theta, s.phi)
        r.value = value
        if self._exact_passes:
            r.exact = (value, g_gen, g_dis)
        columns = self._columns(value, s)  # the same for both seats
        r.observations = {
            "generator": observation(s.theta, s.phi, g_gen, g_dis, *columns),
            "discriminator": observation(s.phi, s.theta, g_dis, g_gen, *columns),
        }
        return r.observations

    def _columns(
        self, value: torch.Tensor, state: MatchState
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The observation's ``value`` and ``progress`` columns ``(B, 1)``."""
        dtype = state.theta.dtype
        value = value[:, None]
        if value.dtype != dtype:
            value = value.to(dtype)
        progress = torch.full_like(value, state.step / self.config.max_steps)
        return value, progress

    def observed(self, seat: Seat) -> bool:
        """Whether ``seat``'s observation of the current point is made (and charged)."""
        return self.round is not None and seat in self.round.observations

    # ---- metrics, rewards, infos -------------------------------------------------
    def metrics(self) -> gap_metrics.Metrics:
        """Every metric of the current point, computed once per record."""
        m = self.require_match()
        r = self.round
        assert r is not None  # set with the match
        if r.metrics is not None:
            return r.metrics
        cfg = self.config
        proximal = cfg.full_infos or cfg.reward == "proximal_gap"
        # Lean infos of stochastic games report the realized (minibatch) value
        # rather than evaluating V again on the held-out set every round.
        value = r.value if self._stochastic and not cfg.full_infos else None
        mt = gap_metrics.evaluate(
            m.game,
            m.instance,
            r.state.theta,
            r.state.phi,
            prox_lambda=cfg.prox_lambda,
            exact=r.exact,
            value=value,
            proximal=proximal,
            extras=cfg.full_infos,
            capabilities=self._capabilities,
        )
        r.metrics = self._with_estimate(mt, proximal)
        return r.metrics

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
        """Each seat's reward ``(B,)`` at the current point."""
        r = self.config.reward
        if r == "payoff":
            assert self.round is not None  # set with the match
            realized = self.round.value  # the payoff the round realized, if observed
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
        """The infos of the current point (numbers only, in the output form)."""
        m = self.require_match()
        export = self.boundary.export
        out: dict[str, Any] = {
            name: export(val)
            for name, val in zip(mt._fields, mt, strict=True)
            if val is not None and not name.startswith("proximal_exploitability")
        }
        every = self.config.quality_every
        if self._capabilities.quality and (
            self.config.full_infos or (every and m.state.step % every == 0)
        ):
            with torch.no_grad():  # the game's sample-quality metrics, uncharged
                quality = m.game.quality(m.instance, m.state.theta)
            out.update({name: export(val) for name, val in quality.items()})
        out["diverged"] = export(m.state.diverged)
        for seat, cost in self._costs().items():
            out[f"oracle_calls_{seat}"] = cost
        out["gap_lower_bound"] = self._estimate is not None
        if self._estimate is not None:
            out["gap_estimate_step"] = self._estimate[0]
        out["step"] = m.state.step
        return out

    def _costs(self) -> dict[Seat, float]:
        """Each seat's oracle cost, read once per record after the round closed."""
        r = self.round
        assert r is not None  # set with the match
        if r.costs is None:
            r.costs = self.require_match().oracle.ledger.costs()
        return r.costs

    def close_round(self) -> Outcome:
        """Rewards, infos and the end of the episode, from one record."""
        mt = self.metrics()
        return Outcome(self.rewards(mt), self.info(mt), self.truncated())

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

    def truncated(self, pending: Sequence[Seat] = ()) -> bool:
        """Whether the episode ends here.

        ``pending`` seats still owe the observation of this state: the budget counts
        it (one gradient each) before it is made.
        """
        m = self.require_match()
        cfg = self.config
        if m.state.step >= cfg.max_steps:
            return True
        if cfg.budget is not None:
            costs = m.oracle.ledger.costs() if pending else self._costs()
            if any(
                c + COSTS["grad"] * (seat in pending) >= cfg.budget
                for seat, c in costs.items()
            ):
                return True
        r = self.round
        assert r is not None  # set with the match
        if r.any_diverged is False:  # read when the round's updates were applied
            return False
        return bool(m.state.diverged.all())

    # ---- render ------------------------------------------------------------------
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
        """What ``render()`` returns in the env's render mode."""
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
