"""Neural-game throughput: the env's batched MLPs against hand-written PyTorch.

All on MixtureGAN-v0 (ring of 8) with 2×128 MLPs (17,922 generator and 17,025
discriminator parameters), minibatch 256, the non-saturating loss, and one
simultaneous gradient descent–ascent step ``θ ← θ − η∇_θL_G``, ``φ ← φ − η∇_φL_D``
per round, measured side by side in one run:

1. **One step, one instance.** ``env``: ``gangames.make(..., tensor=True,
   reward="payoff", full_infos=False)`` — the GDA action from the observed gradients,
   then ``env.step`` (which validates and applies it, draws the next minibatch from
   the keyed stream, and computes both own-loss gradients and V on that minibatch,
   which is the payoff reward). ``hand``: ``nn.Sequential`` generator and
   discriminator, two ``torch.optim.SGD``, both gradients from one forward pass,
   ``opt.step()`` each. Aim: env / hand ≤ 1.0×. ``hand + V`` also evaluates V on a
   held-out set each step, which is what a full-infos env reports.
2. **B = 64 instances.** The env with ``batch=64`` against the hand-written step looped
   over 64 independent model pairs. Aim: ≥ 1.5× faster on 2 CPU cores.
3. **HVP / gradient.** One Hessian-vector product of the generator's loss
   (``oracle.hvp``, double backward) over one gradient (``oracle.grad``).
4. **Observation pass.** ``V`` and both own-loss gradients on one minibatch by the
   hand-written reverse pass (``MLP.trace`` / ``MLP.vjp``, what the env uses) against
   autograd through the same batched networks (``Game.value_and_loss_gradients``).

Run: ``python benchmarks/bench_neural.py [--threads 2] [--rounds 50]``
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import torch
import torch.nn.functional as F
from timing import seconds_in_turns

import gangames
from gangames.game import Game

ID = "gangames/MixtureGAN-v0"
OPTIONS = {
    "width": 128,
    "depth": 2,
    "latent_dim": 8,
    "minibatch": 256,
    "eval_size": 256,
    "loss": "non_saturating",
}
LR = 1e-3


def env_step(batch: int | None) -> Callable[[], object]:
    env = gangames.make(
        ID,
        batch=batch,
        tensor=True,
        reward="payoff",
        full_infos=False,
        max_steps=10**9,
        **OPTIONS,
    )
    obs, _ = env.reset(seed=0)
    state = {"obs": obs}

    def step() -> object:
        o = state["obs"]
        actions = {s: -LR * o[s]["gradient"] for s in env.agents}
        state["obs"], *_ = env.step(actions)
        return state["obs"]

    return step


def _mlp(sizes: tuple[int, ...]) -> torch.nn.Sequential:
    layers: list[torch.nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def hand_step(evaluate: bool = False) -> Callable[[], object]:
    """The textbook loop: modules, two SGD optimisers, simultaneous updates.

    ``evaluate=True`` also computes V on a fixed held-out set after the step (what
    the env does for its reward): the same work as the env.
    """
    w, latent, n = OPTIONS["width"], OPTIONS["latent_dim"], OPTIONS["minibatch"]
    gen, dis = _mlp((latent, w, w, 2)), _mlp((2, w, w, 1))
    opt_g = torch.optim.SGD(gen.parameters(), lr=LR)
    opt_d = torch.optim.SGD(dis.parameters(), lr=LR)
    angle = 2 * torch.pi * torch.arange(8) / 8
    means = 2 * torch.stack([angle.cos(), angle.sin()], dim=-1)
    g_params, d_params = list(gen.parameters()), list(dis.parameters())
    m = OPTIONS["eval_size"]
    x_eval = means[torch.randint(0, 8, (m,))] + 0.02 * torch.randn(m, 2)
    z_eval = torch.randn(m, latent)

    def step() -> object:
        x = means[torch.randint(0, 8, (n,))] + 0.02 * torch.randn(n, 2)
        z = torch.randn(n, latent)
        fake = gen(z)
        real_l, fake_l = dis(x)[:, 0], dis(fake)[:, 0]
        v = -(F.softplus(-real_l).mean() + F.softplus(fake_l).mean())
        loss_g = F.softplus(-fake_l).mean()
        grads_d = torch.autograd.grad(-v, d_params, retain_graph=True)
        grads_g = torch.autograd.grad(loss_g, g_params)
        for p, g in zip(d_params, grads_d, strict=True):
            p.grad = g
        for p, g in zip(g_params, grads_g, strict=True):
            p.grad = g
        opt_d.step()
        opt_g.step()
        if evaluate:
            with torch.no_grad():
                r, f = dis(x_eval)[:, 0], dis(gen(z_eval))[:, 0]
                v = -(F.softplus(-r).mean() + F.softplus(f).mean())
        return v

    return step


def hvp_ratio(rounds: int) -> tuple[float, float]:
    env = gangames.make(ID, tensor=True, reward="payoff", full_infos=False, **OPTIONS)
    env.reset(seed=0)
    m = env.match
    oracle = env.oracle("generator")
    th, ph = m.state.theta, m.state.phi
    vec = torch.randn_like(th)
    grad, hvp = seconds_in_turns(
        [lambda: oracle.grad(th, ph), lambda: oracle.hvp(th, ph, vec)], rounds
    )
    return grad, hvp


def observation_pass(rounds: int) -> tuple[float, float]:
    env = gangames.make(ID, tensor=True, reward="payoff", full_infos=False, **OPTIONS)
    env.reset(seed=0)
    m = env.match
    game, inst = m.game, m.instance
    th, ph = m.state.theta, m.state.phi
    data = game.sample_data(inst, m.oracle.stream)
    hand, auto = seconds_in_turns(
        [
            lambda: game.value_and_loss_gradients(inst, th, ph, data),
            lambda: Game.value_and_loss_gradients(game, inst, th, ph, data),
        ],
        rounds,
    )
    return hand, auto


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(
        f"MixtureGAN-v0, 2×{OPTIONS['width']} MLPs, minibatch {OPTIONS['minibatch']}, "
        f"{args.threads} threads, best of 7 × {args.rounds} rounds (B = "
        f"{args.batch}: 5 × {max(args.rounds // 10, 2)}), candidates in turns"
    )

    env1, hand1, handv = seconds_in_turns(
        [env_step(None), hand_step(), hand_step(evaluate=True)], args.rounds
    )
    print(
        f"1 instance : env {env1 * 1e3:7.2f} ms/step   hand loop {hand1 * 1e3:7.2f} "
        f"ms/step   env/hand = {env1 / hand1:.2f}×  (aim ≤ 1.0×)"
    )
    print(
        f"             hand loop + held-out V {handv * 1e3:7.2f} ms/step   "
        f"env/(hand + V) = {env1 / handv:.2f}×  (the same work)"
    )

    b = args.batch
    hands = [hand_step() for _ in range(b)]
    hands_v = [hand_step(evaluate=True) for _ in range(b)]

    def loop() -> None:
        for h in hands:
            h()

    def loop_v() -> None:
        for h in hands_v:
            h()

    envb, loopb, loopv = seconds_in_turns(
        [env_step(b), loop, loop_v], max(args.rounds // 10, 2), repeats=5
    )
    print(
        f"B = {b:3d}   : env {envb * 1e3:7.2f} ms/step   loop of {b} hand steps "
        f"{loopb * 1e3:7.2f} ms   speed-up {loopb / envb:.2f}×  (aim ≥ 1.5×)"
    )
    print(
        f"             loop of {b} hand steps + held-out V {loopv * 1e3:7.2f} ms   "
        f"speed-up {loopv / envb:.2f}×"
    )

    grad, hvp = hvp_ratio(args.rounds)
    print(
        f"HVP / grad : grad {grad * 1e3:6.2f} ms   HVP {hvp * 1e3:6.2f} ms   "
        f"ratio {hvp / grad:.2f}×  (charged as 2)"
    )

    hand, auto = observation_pass(args.rounds)
    print(
        f"V + both gradients: reverse pass {hand * 1e3:6.2f} ms   autograd "
        f"{auto * 1e3:6.2f} ms   ratio {hand / auto:.2f}×"
    )


if __name__ == "__main__":
    main()
