"""Env throughput: batched env vs a per-instance loop vs a hand-written torch loop.

Every contender plays the same simultaneous gradient descent–ascent
(``θ ← θ − η∇_θV``, ``φ ← φ + η∇_φV``) on the same game, measured side by side in one
run. Reported per game and batch size B, as instance-steps per second:

* ``env``: ``gangames.make(id, batch=B, tensor=True)``; the policy reads the observed
  gradient, so each round also computes the gap reward and every info metric.
* ``env lean``: the same with ``full_infos=False`` (only the gap reward is computed).
* ``env numpy``: full infos with numpy observations/actions (the PettingZoo default).
* ``per-instance loop``: B separate unbatched envs stepped one after another (timed on
  a sample of rounds and scaled to B).
* ``hand loop``: plain torch on ``(B, d)`` tensors, analytic gradients, nothing else.
* ``hand loop + gap``: the same plus the duality gap each round (what one logs).

Ratios printed: batched env over the per-instance loop (aim ≥ 50× at B = 1024); the
env's time per round over the hand loop's (aim ≤ 1.10×), and the lean env's over the
hand loop that also computes the gap (the same work).

Run: ``python benchmarks/bench_env.py [--threads 2] [--rounds 200]``
"""

from __future__ import annotations

import argparse
import time

import torch

import gangames
from gangames import metrics

GAMES = {
    "Bilinear-v0 d=100 shared": (
        "gangames/Bilinear-v0",
        {"dimension": 100, "shared_coupling": True},
    ),
    "DiracGAN-v0": ("gangames/DiracGAN-v0", {}),
}
LR = 0.01


def _rate(fn, rounds: int, instances: int, repeats: int = 3) -> float:
    """Best-of-``repeats`` instance-steps per second of ``rounds`` calls of ``fn``."""
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(rounds):
            fn()
        best = min(best, time.perf_counter() - start)
    return rounds * instances / best


def env_rate(game_id, options, batch, rounds, tensor=True, full_infos=True):
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

    def step():
        o = state["obs"]
        state["obs"] = env.step(
            {s: -LR * o[s]["gradient"] for s in ("generator", "discriminator")}
        )[0]

    return _rate(step, rounds, batch or 1)


def per_instance_rate(game_id, options, rounds):
    """One unbatched env: instance-steps/s of a loop over instances is this rate."""
    return env_rate(game_id, options, None, rounds, tensor=False)


def hand_rate(game_id, options, batch, rounds, with_gap):
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

    def step():
        gt, gp = grads(state["t"], state["p"])
        state["t"] = state["t"] - LR * gt
        state["p"] = state["p"] + LR * gp
        if with_gap:
            metrics.duality_gap(game, inst, state["t"], state["p"])

    return _rate(step, rounds, batch)


def main() -> None:
    """Print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads, {args.rounds} rounds; instance-steps/s"
    )
    header = f"{'game':26s} {'B':>5s} {'env':>10s} {'env lean':>10s} {'env numpy':>10s} {'per-inst':>10s} {'hand':>10s} {'hand+gap':>10s} {'batched/loop':>13s} {'env/hand':>9s} {'lean/hand+gap':>14s}"
    print(header)
    for label, (game_id, options) in GAMES.items():
        single = per_instance_rate(game_id, options, args.rounds)
        for batch in (1, 1024):
            env = env_rate(game_id, options, batch, args.rounds)
            lean = env_rate(game_id, options, batch, args.rounds, full_infos=False)
            env_np = env_rate(game_id, options, batch, args.rounds, tensor=False)
            hand = hand_rate(game_id, options, batch, args.rounds, with_gap=False)
            hand_gap = hand_rate(game_id, options, batch, args.rounds, with_gap=True)
            print(
                f"{label:26s} {batch:5d} {env:10.0f} {lean:10.0f} {env_np:10.0f} {single:10.0f} {hand:10.0f} {hand_gap:10.0f}"
                f" {env / single:12.1f}x {hand / env:8.2f}x {hand_gap / lean:13.2f}x"
            )
    print(
        "batched/loop: batched env over a loop of unbatched envs (aim ≥ 50x at B=1024)"
    )
    print(
        "env/hand: env time per round over the hand-written batched loop (aim ≤ 1.10x)"
    )


if __name__ == "__main__":
    main()
