"""Env throughput: batched env vs a per-instance loop vs a hand-written torch loop.

Every contender plays the same simultaneous gradient descent–ascent
(``θ ← θ − η∇_θV``, ``φ ← φ + η∇_φV``) on the same game. For each game and batch size
B the candidates are measured in turns (one block of rounds each, repeated, best
block kept; :func:`timing.seconds_in_turns`), so a burst of load from other work on
the machine hits them alike. Reported as instance-steps per second:

* ``env``: ``gangames.make(id, batch=B, tensor=True)``; the policy reads the observed
  gradient, so each round also checks both actions, applies them with the divergence
  guard, computes V, the gap reward and every info metric.
* ``env lean``: the same with ``full_infos=False`` (only the gap reward, V, the oracle
  counts and the divergence flags).
* ``env numpy``: full infos with numpy observations/actions (the PettingZoo default).
* ``per-inst``: one unbatched numpy env; a loop over B instances runs at this rate.
* ``hand``: plain torch on ``(B, d)`` tensors, analytic gradients and the update,
  nothing else.
* ``hand+gap``: the same plus the duality gap each round
  (:func:`gangames.metrics.duality_gap`, what one logs).
* ``kernels`` (DiracGAN): the env's round written out as straight-line torch — the
  same checks, the guard with its one host read, the same kernels on the same
  numbers, the five PettingZoo dicts — and nothing else: what the env's work costs
  without the env's Python. Checked bit for bit against the env before timing.
* ``fused`` (DiracGAN): the same outputs in the fewest kernels we found (columns
  stacked into one logsigmoid, the gaps from one product, no bit-for-bit promise):
  at B = 1, where each kernel costs its launch, the cheapest eager-PyTorch round we
  know for this work; at B = 1024 the arithmetic dominates and stacking gains
  nothing. Checked against the env to float rounding before timing.

Ratios printed: batched env over the per-instance loop (aim ≥ 50× at B = 1024); the
env's time per round over the hand loop's (aims for DiracGAN: ≤ 5× at B = 1, ≤ 4× at
B = 1024); the lean env's over the hand loop that also computes the gap (the same
work; aim ≤ 1.1× for Bilinear at B = 1024). For DiracGAN a second table splits
env/hand into the work (``kernels``/hand, ``fused``/hand) and the env's Python around
it (env/``kernels``).

Run: ``python benchmarks/bench_env.py [--threads 2] [--rounds 200] [--repeats 7]``
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from timing import seconds_in_turns

import gangames
from gangames import metrics

GAMES = {
    "Bilinear-v0 d=100 shared": (
        "gangames/Bilinear-v0",
        {"dimension": 100, "shared_coupling": True},
    ),
    "DiracGAN-v0": ("gangames/DiracGAN-v0", {}),
}
SEATS = ("generator", "discriminator")
LR = 0.01


def env_step(
    game_id: str,
    options: dict,
    batch: int | None,
    *,
    tensor: bool = True,
    full_infos: bool = True,
) -> Callable[[], object]:
    """One round of GDA through the env (the policy reads the observed gradients)."""
    env = gangames.make(
        game_id,
        batch=batch,
        tensor=tensor,
        max_steps=10**9,
        full_infos=full_infos,
        **options,
    )
    obs, _ = env.reset(seed=0)
    state = {"obs": obs}

    def step() -> object:
        o = state["obs"]
        state["obs"] = env.step({s: -LR * o[s]["gradient"] for s in SEATS})[0]
        return state["obs"]

    return step


def hand_step(
    game_id: str, options: dict, batch: int, *, with_gap: bool
) -> Callable[[], object]:
    """One round of GDA by hand: analytic gradients and the update (and the gap)."""
    env = gangames.make(game_id, batch=batch, tensor=True, **options)
    env.reset(seed=0)
    m = env.match
    game, inst = m.game, m.instance
    theta, phi = m.state.theta.clone(), m.state.phi.clone()
    if "Bilinear" in game_id:
        A = inst["A"][0]  # shared coupling: one matrix

        def grads(t, p):
            return p @ A.T, t @ A
    else:

        def grads(t, p):
            s = torch.sigmoid(-(t * p))  # f(t) = −log(1 + e^{−t}), f'(t) = σ(−t)
            return s * p, s * t

    state = {"t": theta, "p": phi}

    def step() -> object:
        gt, gp = grads(state["t"], state["p"])
        state["t"] = state["t"] - LR * gt
        state["p"] = state["p"] + LR * gp
        if with_gap:
            return metrics.duality_gap(game, inst, state["t"], state["p"])
        return None

    return step


DIRAC = "gangames/DiracGAN-v0"


def dirac_round(batch: int, *, fused: bool) -> Callable[[], tuple]:
    """DiracGAN-v0's env round as straight-line torch (``kernels`` or ``fused``).

    It plays what ``env_step(DIRAC, {}, batch)`` plays, from the same state, and
    returns what the env's ``step`` returns (the five dicts), in tensor mode:
    the standard loss without penalty or clipping (the game's defaults), so
    ``V = f(θψ) + f(0)``, ``∇_θL_G = ψσ(−θψ)``, ``∇_ψL_D = −θσ(−θψ)``, the restricted
    best responses ``Ψ = f(−R|ψ|) + f(0)`` and ``Φ = f(r|θ|) + f(0)``, and
    ``f = logsigmoid``.
    """
    env = gangames.make(DIRAC, batch=batch, tensor=True, max_steps=10**9)
    obs, _ = env.reset(seed=0)
    m = env.match
    game, config = m.game, env.config
    dtype, shape = config.dtype, (batch, 1)
    f0 = -math.log(2.0)
    radius = game.radius
    threshold = game.divergence_threshold
    calls = [1.0, 1.0]  # each seat's gradients so far (reset observed both)
    scales = torch.tensor([radius, -radius], dtype=dtype)  # |θ|·r, |ψ|·(−R)
    signs = torch.tensor([1.0, -1.0], dtype=dtype)
    # (V, Φ, Ψ) ↦ (V − Ψ, Φ − V): each column one difference (exact in a product)
    gaps = torch.tensor([[1.0, -1.0], [0.0, 1.0], [-1.0, 0.0]], dtype=dtype)
    state = {
        "theta": m.state.theta,
        "phi": m.state.phi,
        "diverged": m.state.diverged,
        "step": 0,
        "obs": obs,
    }

    def check(action: object, seat: str) -> torch.Tensor:
        if not isinstance(action, torch.Tensor):
            raise TypeError(f"{seat}: expected a tensor")
        if not action.is_floating_point() or tuple(action.shape) != shape:
            raise ValueError(f"{seat}: expected shape {shape}")
        return action if action.dtype == dtype else action.to(dtype)

    def guard(largest: torch.Tensor) -> None:
        bad = state["diverged"] >= (largest <= threshold)
        if bool(bad.any()):  # the round's one host read
            raise RuntimeError("the benchmark's play never diverges")
        state["diverged"] = bad

    def round_() -> tuple:
        o = state["obs"]
        actions = {s: -LR * o[s]["gradient"] for s in SEATS}  # the policy
        a_g = check(actions["generator"], "generator")
        a_d = check(actions["discriminator"], "discriminator")
        t = state["theta"] + a_g
        p = state["phi"] + a_d
        step = state["step"] + 1
        if fused:
            tp = torch.cat([t, p], dim=1)
            size = tp.abs()
            guard(size.amax(dim=1))  # |·| is the norm of a (B, 1) row
            s = p * t
            d = torch.sigmoid(-s)
            grads = tp.flip(1) * (d * signs)  # (ψσ, −θσ)
            columns = F.logsigmoid(torch.cat([s, size * scales], dim=1)) + f0
            exploit = (columns @ gaps).clamp_min(0.0)
            gap = exploit.sum(dim=1)
            norm = torch.linalg.vector_norm(grads, dim=1)
            distance = (tp * tp).sum(dim=1).sqrt()
            value_col, value = columns[:, :1], columns[:, 0]
            g_gen, g_dis = grads.split(1, dim=1)
            e_g, e_d = exploit.unbind(1)
            r_g, r_d = (-exploit).unbind(1)
        else:
            largest = torch.maximum(
                torch.linalg.vector_norm(t, dim=-1), torch.linalg.vector_norm(p, dim=-1)
            )
            guard(largest)
            s = p * t
            v = F.logsigmoid(s) + f0
            d = torch.sigmoid(-s)
            g_gen, g_dis = p * d, -(t * d)
            value = v[..., 0]
            value_col = value[:, None]
            both = torch.cat([p, t], dim=-1).abs()
            both = F.logsigmoid(both * _dirac_scales(radius, dtype)) + f0
            e_g = (value - both[..., 0]).clamp_min(0.0)
            e_d = (both[..., 1] - value).clamp_min(0.0)
            gap = e_g + e_d
            norm = torch.linalg.vector_norm(torch.cat([g_gen, g_dis], dim=-1), dim=-1)
            distance = torch.sqrt(t * t + p * p)[..., 0]
            r_g, r_d = -e_g, -e_d
        progress = torch.full_like(value_col, step / config.max_steps)
        calls[0] += 1.0
        calls[1] += 1.0
        obs = {
            "generator": {
                "own": t,
                "opponent": p,
                "gradient": g_gen,
                "opponent_gradient": g_dis,
                "value": value_col,
                "progress": progress,
            },
            "discriminator": {
                "own": p,
                "opponent": t,
                "gradient": g_dis,
                "opponent_gradient": g_gen,
                "value": value_col,
                "progress": progress,
            },
        }
        info = {
            "value": value,
            "exploitability_generator": e_g,
            "exploitability_discriminator": e_d,
            "duality_gap": gap,
            "grad_norm": norm,
            "distance": distance,
            "diverged": state["diverged"],
            "oracle_calls_generator": calls[0],
            "oracle_calls_discriminator": calls[1],
            "gap_lower_bound": False,
            "step": step,
        }
        state.update(theta=t, phi=p, step=step, obs=obs)
        return (
            obs,
            {"generator": r_g, "discriminator": r_d},
            dict.fromkeys(SEATS, False),
            dict.fromkeys(SEATS, step >= config.max_steps),
            {seat: dict(info) for seat in SEATS},
        )

    return round_


def _dirac_scales(radius: float, dtype: torch.dtype) -> torch.Tensor:
    """The row ``(−R, r)`` DiracGAN multiplies ``(|ψ|, |θ|)`` by (made once)."""
    return torch.tensor([-radius, radius], dtype=dtype)


def check_dirac_rounds(batch: int, rounds: int = 3) -> None:
    """Refuse to time ``kernels`` or ``fused`` unless they return what the env does.

    ``kernels`` must match the env bit for bit, ``fused`` to float rounding.
    """
    env = gangames.make(DIRAC, batch=batch, tensor=True, max_steps=10**9)
    obs, _ = env.reset(seed=0)
    kernels, fused = dirac_round(batch, fused=False), dirac_round(batch, fused=True)
    for _ in range(rounds):
        want = env.step({s: -LR * obs[s]["gradient"] for s in SEATS})
        obs = want[0]
        for name, got in (("kernels", kernels()), ("fused", fused())):
            _same(name, want, got, exact=name == "kernels")


def _same(name: str, want: object, got: object, *, exact: bool) -> None:
    """Compare two nests of dicts, tensors and numbers."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{name}: keys differ"
        for key in want:
            _same(f"{name}[{key!r}]", want[key], got[key], exact=exact)
    elif isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want), f"{name}: differs"
        for i, (w, g) in enumerate(zip(want, got, strict=True)):
            _same(f"{name}[{i}]", w, g, exact=exact)
    elif isinstance(want, torch.Tensor):
        assert isinstance(got, torch.Tensor), f"{name}: not a tensor"
        assert got.shape == want.shape and got.dtype == want.dtype, f"{name}: form"
        ok = torch.equal(got, want) if exact else torch.allclose(got, want, 1e-6, 1e-7)
        assert ok, f"{name}: {got} != {want}"
    else:
        assert got == want, f"{name}: {got!r} != {want!r}"


def main() -> None:
    """Print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads, best of {args.repeats} "
        f"× {args.rounds} rounds, candidates in turns; instance-steps/s"
    )
    print(
        f"{'game':26s} {'B':>5s} {'env':>10s} {'env lean':>10s} {'env numpy':>10s} "
        f"{'per-inst':>10s} {'hand':>10s} {'hand+gap':>10s} {'batched/loop':>13s} "
        f"{'env/hand':>9s} {'lean/hand+gap':>14s}"
    )
    dirac: list[tuple[int, list[float]]] = []  # (B, seconds) for the second table
    for label, (game_id, options) in GAMES.items():
        for batch in (1, 1024):
            candidates = [
                env_step(game_id, options, batch),
                env_step(game_id, options, batch, full_infos=False),
                env_step(game_id, options, batch, tensor=False),
                env_step(game_id, options, None, tensor=False),
                hand_step(game_id, options, batch, with_gap=False),
                hand_step(game_id, options, batch, with_gap=True),
            ]
            if game_id == DIRAC:
                check_dirac_rounds(batch)
                candidates += [
                    dirac_round(batch, fused=False),
                    dirac_round(batch, fused=True),
                ]
            seconds = seconds_in_turns(candidates, args.rounds, args.repeats)
            if game_id == DIRAC:
                dirac.append((batch, seconds))
            env, lean, env_np, single, hand, hand_gap = (
                (batch if i != 3 else 1) / s for i, s in enumerate(seconds[:6])
            )
            print(
                f"{label:26s} {batch:5d} {env:10.0f} {lean:10.0f} {env_np:10.0f} "
                f"{single:10.0f} {hand:10.0f} {hand_gap:10.0f} {env / single:12.1f}x "
                f"{hand / env:8.2f}x {hand_gap / lean:13.2f}x"
            )
    print(
        "batched/loop: batched env over a loop of unbatched envs (aim ≥ 50x at B=1024)"
    )
    print(
        "env/hand: env time per round over the hand loop's (DiracGAN aims: ≤ 5x at "
        "B=1, ≤ 4x at B=1024)"
    )
    print(
        "lean/hand+gap: lean env over the hand loop that also computes the gap (aim "
        "≤ 1.1x for Bilinear at B=1024)"
    )
    print(
        f"\nDiracGAN-v0, µs per round (same runs): {'B':>5s} {'env':>8s} "
        f"{'kernels':>8s} {'fused':>8s} {'hand':>8s} {'kernels/hand':>13s} "
        f"{'fused/hand':>11s} {'env/kernels':>12s}"
    )
    for batch, seconds in dirac:
        env_s, hand_s, kernels_s, fused_s = (seconds[i] for i in (0, 4, 6, 7))
        print(
            f"{'':39s}{batch:5d} {env_s * 1e6:8.1f} {kernels_s * 1e6:8.1f} "
            f"{fused_s * 1e6:8.1f} {hand_s * 1e6:8.1f} {kernels_s / hand_s:12.2f}x "
            f"{fused_s / hand_s:10.2f}x {env_s / kernels_s:11.2f}x"
        )
    print(
        "kernels/hand: the env's own kernels, without its Python, over the hand loop; "
        "fused/hand: the same outputs in the fewest kernels we found; "
        "env/kernels: the cost of the env's Python around its kernels"
    )


if __name__ == "__main__":
    main()
