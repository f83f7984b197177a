"""Checks users run on their own games and environments (and we run on the registry).

* :func:`check_game` — shapes, dtypes, feasibility, idempotent projections, analytic
  gradients against autograd, best-response values bracketing ``V``, non-negative
  gaps, the declared :attr:`~gangames.game.Game.capabilities` against what the game
  returns, determinism, and a batch of B equal to B single instances.
* :func:`check_env` — PettingZoo's own API test for the env's API, then our bad-input
  contract: every malformed action is refused with a ``ValueError`` naming the seat and
  the state is left untouched.

Each check raises ``AssertionError`` with a readable message on the first failure.

Example:
    >>> import gangames
    >>> from gangames.testing import check_game
    >>> check_game(gangames.make_game("gangames/Quadratic-v0"))
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.test import api_test, parallel_api_test

from gangames import metrics
from gangames.engine import new_match
from gangames.envs import GameAECEnv
from gangames.errors import InvalidActionError, ResetNeededError, UnknownAgentError
from gangames.game import Capabilities, Game
from gangames.play import SeatAgent
from gangames.random import Stream
from gangames.registration import make
from gangames.types import SEATS, Seat

__all__ = ["check_env", "check_game", "check_rule"]


def _close(
    a: torch.Tensor, b: torch.Tensor, what: str, rtol: float, atol: float
) -> None:
    if not torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True):
        err = (a - b).abs().max()
        raise AssertionError(f"{what}: mismatch (max abs error {err:.3g})\n{a}\n{b}")


def _probe_points(
    game: Game, match, count: int
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Feasible points near the initial ones and further out, for bracketing checks."""
    s = Stream(match.oracle.stream.keys.clone()).fork(99)
    pts = [(match.state.theta, match.state.phi)]
    for scale in (0.1, 1.0, 3.0)[:count]:
        th = match.state.theta + scale * s.normal(
            (game.dim("generator"),), dtype=match.state.theta.dtype
        )
        ph = match.state.phi + scale * s.normal(
            (game.dim("discriminator"),), dtype=match.state.phi.dtype
        )
        pts.append(
            (
                game.project("generator", match.instance, th),
                game.project("discriminator", match.instance, ph),
            )
        )
    return pts


# Each metric of metrics.evaluate and the declared capability that makes it known.
_DECLARED_BY = {
    "exploitability_generator": "duality_gap",
    "exploitability_discriminator": "duality_gap",
    "duality_gap": "duality_gap",
    "proximal_gap": "proximal_gap",
    "proximal_exploitability_generator": "proximal_gap",
    "proximal_exploitability_discriminator": "proximal_gap",
    "distance": "distance",
}


def _check_declared(game: Game, caps: Capabilities, mt: metrics.Metrics) -> None:
    """Every metric is computed exactly where ``game.capabilities`` says it is."""
    name = type(game).__name__
    for metric, field in _DECLARED_BY.items():
        declared = getattr(caps, field)
        got = getattr(mt, metric) is not None
        assert got == declared, (
            f"{name}.capabilities.{field} is {declared}, but metrics.evaluate "
            f"{'computes' if got else 'leaves out'} {metric}: declare what the "
            "game's closed forms return"
        )


def _check_capabilities(
    game: Game, inst: Any, theta: torch.Tensor, phi: torch.Tensor
) -> None:
    """The declaration's closed forms, quality names and feasible sets are the game's."""
    caps = game.capabilities
    assert isinstance(caps, Capabilities), (
        f"capabilities: expected a Capabilities, got {type(caps).__name__}"
    )
    name = type(game).__name__
    for field, got in (
        (
            "best_responses",
            game.best_response_value(inst, "generator", phi) is not None
            and game.best_response_value(inst, "discriminator", theta) is not None,
        ),
        (
            "proximal",
            game.proximal_objective(inst, theta, phi, 1.0) is not None
            and game.proximal_value(inst, phi, 1.0) is not None,
        ),
        (
            "cloud_distance",
            game.cloud_equilibrium_distance(inst, theta[:, None], phi[:, None])
            is not None,
        ),
    ):
        declared = getattr(caps, field)
        assert got == declared, (
            f"{name}.capabilities.{field} is {declared}, but the game "
            f"{'returns' if got else 'has no'} closed form"
        )
    quality = tuple(game.quality(inst, theta))
    assert quality == caps.quality, (
        f"{name}.capabilities.quality is {caps.quality}, but quality() returns "
        f"{quality}"
    )
    # Far points leave every bounded feasible set; a free seat's projection is exact.
    s = Stream.from_seeds(list(range(theta.shape[0])), device=theta.device).fork(98)
    pairs: tuple[tuple[Seat, torch.Tensor], ...] = (
        ("generator", theta),
        ("discriminator", phi),
    )
    for tag, (seat, x) in enumerate(pairs):
        far = 1e6 * s.fork(tag).normal((x.shape[-1],), dtype=x.dtype).to(x.device)
        moved = not torch.equal(game.project(seat, inst, far), far)
        assert moved == (seat in caps.constrained), (
            f"{name}.capabilities.constrained is {caps.constrained}, but project() "
            f"{'moves' if moved else 'does not move'} {seat} points of norm ~1e6"
        )


def check_game(
    game: Game,
    *,
    seeds: tuple[int, ...] = (0, 1, 2),
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    tol: float = 1e-6,
) -> None:
    """Check that ``game`` honours the :class:`~gangames.game.Game` contract.

    Args:
        game: the game to check.
        seeds: instance seeds of the batch (B = ``len(seeds)``).
        dtype: floating dtype to check in (float64 makes tolerances meaningful).
        device: where to run.
        tol: absolute/relative tolerance of the numerical comparisons.
    """
    b = len(seeds)
    layouts = game.layouts()
    assert set(layouts) == set(SEATS), (
        f"layouts() must have both seats, got {sorted(layouts)}"
    )
    for seat in SEATS:
        assert layouts[seat].size == game.dim(seat) > 0, (
            f"{seat}: layout size must be positive"
        )

    m = new_match(game, list(seeds), device=device, dtype=dtype)
    inst, th, ph = m.instance, m.state.theta, m.state.phi
    for seat, p in (("generator", th), ("discriminator", ph)):
        d = game.dim(seat)
        assert p.shape == (b, d), (
            f"{seat}: init_params shape {tuple(p.shape)}, expected {(b, d)}"
        )
        assert p.dtype == dtype, (
            f"{seat}: init_params dtype {p.dtype}, expected {dtype}"
        )
        assert torch.isfinite(p).all(), f"{seat}: init_params not finite"
        _close(
            game.project(seat, inst, p),
            p,
            f"{seat}: initial parameters infeasible",
            tol,
            tol,
        )

    again = new_match(game, list(seeds), device=device, dtype=dtype)
    assert torch.equal(again.state.theta, th) and torch.equal(again.state.phi, ph), (
        "same seeds must give the same initial parameters"
    )

    points = _probe_points(game, m, 3)
    _check_capabilities(game, inst, th, ph)
    for i, (t, p) in enumerate(points):
        for seat, x in (("generator", t), ("discriminator", p)):
            once = game.project(seat, inst, x)
            _close(
                game.project(seat, inst, once),
                once,
                f"{seat}: projection not idempotent",
                tol,
                tol,
            )
        v = game.value(inst, t, p)
        assert v.shape == (b,), f"value shape {tuple(v.shape)}, expected {(b,)}"
        assert torch.isfinite(v).all(), f"value not finite at probe {i}"
        gt, gp = game.gradients(inst, t, p)
        with torch.enable_grad():
            t_ = t.detach().requires_grad_(True)
            p_ = p.detach().requires_grad_(True)
            at, ap = torch.autograd.grad(
                game.value(inst, t_, p_).sum(), (t_, p_), materialize_grads=True
            )
        _close(gt, at, "gradients(): ∇_θV differs from autograd", tol, tol)
        _close(gp, ap, "gradients(): ∇_φV differs from autograd", tol, tol)
        mt = metrics.evaluate(game, inst, t, p)
        _check_declared(game, game.capabilities, mt)
        slack = tol * (1 + v.abs())
        if game.gap_estimator == "exact":
            # Exact best responses must bracket V: Ψ(φ) ≤ V(θ, φ) ≤ Φ(θ) (no clamping).
            psi = game.best_response_value(inst, "generator", p)
            best = game.best_response_value(inst, "discriminator", t)
            if psi is not None:
                assert (psi <= v + slack).all(), f"Ψ(φ) > V at probe {i}"
            if best is not None:
                assert (best >= v - slack).all(), f"Φ(θ) < V at probe {i}"
            here = game.proximal_objective(inst, t, p, 1.0)
            low = game.proximal_value(inst, p, 1.0)
            if here is not None:
                assert (here >= v - slack).all(), f"V_prox < V at probe {i}"
                if best is not None:
                    assert (here <= best + slack).all(), f"V_prox > Φ at probe {i}"
                if low is not None:
                    assert (low <= here + slack).all(), (
                        f"min V_prox > V_prox at probe {i}"
                    )
            if mt.proximal_gap is not None and mt.duality_gap is not None:
                assert (mt.proximal_gap <= mt.duality_gap + slack).all(), (
                    "proximal gap exceeds duality gap"
                )

    # A batch of B equals B single instances.
    full = metrics.evaluate(game, inst, th, ph)
    for row, seed in enumerate(seeds):
        single = new_match(game, [seed], device=device, dtype=dtype)
        _close(
            single.state.theta,
            th[row : row + 1],
            f"seed {seed}: batched θ0 differs from single",
            0,
            0,
        )
        _close(
            single.state.phi,
            ph[row : row + 1],
            f"seed {seed}: batched φ0 differs from single",
            0,
            0,
        )
        one = metrics.evaluate(
            game, single.instance, single.state.theta, single.state.phi
        )
        for name, val in full._asdict().items():
            other = getattr(one, name)
            assert (val is None) == (other is None), (
                f"{name}: availability differs batched vs single"
            )
            if val is not None:
                _close(
                    other,
                    val[row : row + 1],
                    f"{name}: batched differs from single (seed {seed})",
                    1e-12,
                    1e-12,
                )


def _snapshot(env) -> tuple:
    m = env.match
    return (
        m.state.theta.clone(),
        m.state.phi.clone(),
        m.state.step,
        copy.deepcopy(m.oracle.ledger.counts),
    )


def _bad_actions(space) -> list[tuple[str, object]]:
    good = space.sample()
    bad = [
        ("wrong shape", np.zeros((*space.shape, 2), dtype=space.dtype)),
        ("integer dtype", good.astype(np.int64)),
        ("NaN", np.full(space.shape, np.nan, dtype=space.dtype)),
        ("Inf", np.full(space.shape, np.inf, dtype=space.dtype)),
        ("a list", good.tolist()),
    ]
    return bad


def check_env(env_fn: Callable[[], Any], *, num_cycles: int = 50) -> None:
    """Run PettingZoo's API test and the bad-input contract on envs made by ``env_fn``.

    Args:
        env_fn: builds a fresh numpy-mode env (parallel, or AEC with ``batch=None``:
            a batched AEC env is gangames' vector API, not PettingZoo's).
        num_cycles: cycles of the PettingZoo API test.
    """
    env = env_fn()
    if isinstance(env, GameAECEnv) and env.config.batch is not None:
        raise AssertionError(
            f"a batched AEC env (batch={env.config.batch}) returns (B,) reward "
            "arrays, which PettingZoo's AEC API test rejects; check the parallel "
            "env with this batch, or the AEC env with batch=None"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(env, ParallelEnv):
            parallel_api_test(env, num_cycles=num_cycles)
        elif isinstance(env, AECEnv):
            api_test(env, num_cycles=num_cycles)
        else:
            raise AssertionError(f"not a PettingZoo env: {type(env).__name__}")

    env = env_fn()
    try:
        env.step({} if isinstance(env, ParallelEnv) else None)
    except ResetNeededError:
        pass
    else:
        raise AssertionError("step() before reset() must raise ResetNeededError")

    env.reset(seed=0)
    before = _snapshot(env)
    for seat in SEATS:
        for what, action in _bad_actions(env.action_space(seat)):
            if isinstance(env, ParallelEnv):
                other = "discriminator" if seat == "generator" else "generator"
                actions = {seat: action, other: env.action_space(other).sample()}
                call = lambda a=actions: env.step(a)  # noqa: E731
            else:
                if env.agent_selection != seat:
                    continue
                call = lambda a=action: env.step(a)  # noqa: E731
            try:
                call()
            except InvalidActionError as err:
                assert seat in str(err), f"error for {what} must name the seat: {err}"
            else:
                raise AssertionError(f"{seat}: {what} action was accepted")
            after = _snapshot(env)
            assert all(
                torch.equal(x, y) if isinstance(x, torch.Tensor) else x == y
                for x, y in zip(before, after, strict=True)
            ), f"{seat}: state changed by a refused {what} action"
    if isinstance(env, ParallelEnv):
        cases: list[dict[str, Any]] = [
            {"generator": env.action_space("generator").sample()},
            {"nobody": 0, **{s: env.action_space(s).sample() for s in SEATS}},
        ]
        for actions in cases:
            try:
                env.step(actions)
            except UnknownAgentError:
                pass
            else:
                raise AssertionError(f"actions {sorted(actions)} were accepted")


_SYNC_METHODS = (
    "__bool__",
    "item",
    "tolist",
    "__float__",
    "__int__",
    "__index__",
    "numpy",
)


class _NoHostSync:
    """Make every tensor → Python conversion raise (inside ``update`` only)."""

    def __enter__(self) -> None:
        self._saved = {name: getattr(torch.Tensor, name) for name in _SYNC_METHODS}

        def refuse(name: str) -> Callable[..., Any]:
            def method(*args: Any, **kwargs: Any) -> Any:
                raise AssertionError(
                    f"host synchronisation inside update: Tensor.{name} was called "
                    "(use torch.where and keep values on the device)"
                )

            return method

        for name in _SYNC_METHODS:
            setattr(torch.Tensor, name, refuse(name))

    def __exit__(self, *exc: object) -> None:
        for name, method in self._saved.items():
            setattr(torch.Tensor, name, method)


def _guarded(solver: Any) -> Any:
    """The solver with every rule's ``update`` run under :class:`_NoHostSync`."""

    def wrap(rule: Any) -> Any:
        def update(obs: Any, state: Any, oracle: Any) -> Any:
            with _NoHostSync():
                return rule.update(obs, state, oracle)

        return rule._replace(update=update)

    return solver._replace(
        generator=wrap(solver.generator), discriminator=wrap(solver.discriminator)
    )


def _run(env: Any, solver: Any, seed: Any, steps: int) -> tuple[list, list]:
    """Play ``steps`` rounds; return per-round params and per-round ledger costs."""
    seats = {s: SeatAgent(solver.rule(s), s) for s in SEATS}
    params, costs = [], []
    if hasattr(env, "agent_iter"):
        env.reset(seed=seed)
        for a in seats.values():
            a.reset(env)
        before = env.ledger.costs()
        for agent in env.agent_iter(max_iter=2 * steps):
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                break
            env.step(seats[agent].act(obs))
            if agent == env.possible_agents[1]:
                now = env.ledger.costs()
                costs.append({s: now[s] - before[s] for s in SEATS})
                before = now
                params.append(
                    (env.match.state.theta.clone(), env.match.state.phi.clone())
                )
        return params, costs
    obs, _ = env.reset(seed=seed)
    for a in seats.values():
        a.reset(env)
    before = env.ledger.costs()
    for _ in range(steps):
        if not env.agents:
            break
        actions = {s: seats[s].act(obs[s]) for s in env.agents}
        obs, *_ = env.step(actions)
        now = env.ledger.costs()
        costs.append({s: now[s] - before[s] for s in SEATS})
        before = now
        params.append((env.match.state.theta.clone(), env.match.state.phi.clone()))
    return params, costs


def check_rule(
    solver: Any,
    game_id: str,
    *,
    seeds: tuple[int, ...] = (3, 4, 5),
    steps: int = 8,
    order: str | None = None,
    **game_options: Any,
) -> None:
    """Check a solver (a rule per seat) against the update-rule contract on a game.

    * the oracle cost measured each round equals ``1 + rule.cost(step)`` per seat (the
      observed gradient plus what the rule declares);
    * a batch of B equals B single runs (float64, rtol 1e-10);
    * the same seed gives the same trajectory, bit for bit;
    * ``update`` never synchronises with the host (no ``.item()``, no Python branching
      on tensor values);
    * each rule also plays from the other seat (finite, correctly shaped updates).

    Args:
        solver: an :class:`gangames.rules.Solver`.
        game_id: a registered game id.
        seeds: instance seeds of the batch.
        steps: rounds to play.
        order: ``"simultaneous"`` or ``"sequential"``; default the solver's own.
        **game_options: game or env options (e.g. ``particles=8``).
    """
    order = order or solver.order
    if order == "sequential":  # the solver's own first mover unless the caller says
        game_options = {"first": getattr(solver, "first", "generator"), **game_options}
    guarded = _guarded(solver)

    def make_env(batch: int | None) -> Any:
        return make(
            game_id,
            order=order,
            batch=batch,
            dtype="float64",
            tensor=True,
            max_steps=steps + 5,
            **game_options,
        )

    env = make_env(len(seeds))
    unit = env.game.query_unit  # base-game gradients per query (K on K particles)
    params, costs = _run(env, guarded, list(seeds), steps)
    assert len(params) == steps, f"match ended after {len(params)} of {steps} rounds"
    for step, cost in enumerate(costs):
        for seat in SEATS:
            declared = unit * (1.0 + solver.rule(seat).cost(step))
            assert abs(cost[seat] - declared) < 1e-9, (
                f"{solver.name} ({seat}) spent {cost[seat]} gradient-equivalents at step "
                f"{step}, declared {declared} ((1 observed gradient + rule.cost) × "
                f"{unit:g} base gradients per query)"
            )
    again, _ = _run(make_env(len(seeds)), solver, list(seeds), steps)
    for (t1, p1), (t2, p2) in zip(params, again, strict=True):
        assert torch.equal(t1, t2) and torch.equal(p1, p2), (
            f"{solver.name}: not deterministic"
        )
    for row, seed in enumerate(seeds):
        single, _ = _run(make_env(None), solver, [seed], steps)
        for step, ((tb, pb), (ts, ps)) in enumerate(zip(params, single, strict=True)):
            _close(
                ts[0],
                tb[row],
                f"{solver.name}: θ of seed {seed} at step {step}, batch vs single",
                1e-10,
                1e-12,
            )
            _close(
                ps[0],
                pb[row],
                f"{solver.name}: φ of seed {seed} at step {step}, batch vs single",
                1e-10,
                1e-12,
            )
    swapped = solver._replace(
        generator=solver.discriminator, discriminator=solver.generator
    )
    swapped_params, _ = _run(
        make_env(len(seeds)), _guarded(swapped), list(seeds), min(steps, 3)
    )
    for t, p in swapped_params:
        assert t.shape == params[0][0].shape and p.shape == params[0][1].shape
