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

Ratios printed: batched env over the per-instance loop (aim ≥ 50× at B = 1024); the
env's time per round over the hand loop's (aims for DiracGAN: ≤ 5× at B = 1, ≤ 4× at
B = 1024); the lean env's over the hand loop that also computes the gap (the same
work; aim ≤ 1.1× for Bilinear at B = 1024).

Run: ``python benchmarks/bench_env.py [--threads 2] [--rounds 200] [--repeats 7]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
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
    for label, (game_id, options) in GAMES.items():
        for batch in (1, 1024):
            seconds = seconds_in_turns(
                [
                    env_step(game_id, options, batch),
                    env_step(game_id, options, batch, full_infos=False),
                    env_step(game_id, options, batch, tensor=False),
                    env_step(game_id, options, None, tensor=False),
                    hand_step(game_id, options, batch, with_gap=False),
                    hand_step(game_id, options, batch, with_gap=True),
                ],
                args.rounds,
                args.repeats,
            )
            env, lean, env_np, single, hand, hand_gap = (
                (batch if i != 3 else 1) / s for i, s in enumerate(seconds)
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


if __name__ == "__main__":
    main()
