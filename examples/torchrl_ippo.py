"""Train a batched update policy per seat with TorchRL's IPPO recipe on DiracGAN.

The env is :class:`gangames.torchrl_env.TorchRLEnv`: B instances of the game in one
TorchRL env (``batch_size=[B]``), one group per seat. Each seat gets the recipe of
TorchRL's multi-agent PPO tutorial: a ``MultiAgentMLP`` policy read by a
``ProbabilisticActor`` with a ``TanhNormal`` (bounded by the env's ``max_update``), a
``MultiAgentMLP`` critic, a collector (``Collector``, formerly ``SyncDataCollector``), ``ClipPPOLoss`` and GAE. The two
seats are two groups (their sizes may differ), so each has its own policy, critic
and loss; they train at once on the same batches. Each seat's observation already
holds both seats' parameters and gradients, so the decentralised critic of IPPO sees
the full state (MAPPO's central critic would add nothing here).

What it learns: the rewards are minus each seat's exploitability, so each seat learns
an update Δ = π(observation) that lowers its own exploitability. In DiracGAN (the
Dirac-GAN of Mescheder et al. 2018) simultaneous gradient descent–ascent circles
the equilibrium θ = ψ = 0 and never reaches it; the learned pair of update rules
heads for it from random starts. The script prints the mean duality gap at the start
of an episode and at its end under the untrained and the trained policies (their
means, no exploration noise), on held-out seeds, and next to GDA at step size
``max_update``. With the defaults (seed 0) the mean gap on the held-out seeds is 0.79
after reset; after 50 rounds it is 2.17 under the untrained policy, 0.96 under GDA
and 0.023 under the trained policy.

Run::

    python examples/torchrl_ippo.py            # 1–2 minutes on 2 CPU cores
    python examples/torchrl_ippo.py --device cuda --batch 1024
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass
from typing import NamedTuple

import torch
from tensordict.nn import TensorDictModule, TensorDictSequential
from tensordict.nn.distributions import NormalParamExtractor
from torchrl.collectors import Collector
from torchrl.data.replay_buffers import ReplayBuffer
from torchrl.data.replay_buffers.samplers import SamplerWithoutReplacement
from torchrl.data.replay_buffers.storages import LazyTensorStorage
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import MultiAgentMLP, ProbabilisticActor, TanhNormal
from torchrl.objectives import ClipPPOLoss, ValueEstimators

import gangames
from gangames.torchrl_env import TorchRLEnv

SEATS = ("generator", "discriminator")


@dataclass(frozen=True)
class Args:
    """Settings of the IPPO run."""

    game: str = "gangames/DiracGAN-v0"
    """registered game id"""
    batch: int = 64
    """instances per env (TorchRL's batch_size)"""
    max_steps: int = 50
    """rounds per episode"""
    max_update: float = 0.2
    """bound of each update entry (the action box)"""
    iterations: int = 20
    """collector batches (one PPO update each)"""
    episodes_per_batch: int = 1
    """episodes of all B instances per collector batch"""
    shared_reward: bool = True
    """train both seats on the sum of their rewards (minus the duality gap)"""
    epochs: int = 4
    """PPO epochs per batch"""
    minibatch: int = 400
    """frames per PPO minibatch"""
    lr: float = 3e-3
    """Adam step size of both networks"""
    gamma: float = 0.95
    """discount"""
    lmbda: float = 0.9
    """GAE λ"""
    clip_epsilon: float = 0.2
    """PPO clip range"""
    entropy_coef: float = 1e-4
    """entropy bonus"""
    cells: int = 64
    """hidden units of the two-layer networks"""
    eval_seed: int = 10_000
    """seed of the held-out evaluation episodes"""
    device: str = "cpu"
    """torch device of the game, the networks and the data"""
    seed: int = 0
    """seed of the training episodes and of torch"""
    log_every: int = 5
    """iterations between two progress lines (0: none)"""


class Result(NamedTuple):
    """What a run reports."""

    losses: list[float]  # mean PPO loss (objective + critic + entropy) per iteration
    start_gap: float  # mean duality gap after the held-out resets
    untrained_gap: float  # mean duality gap at the end, untrained policy means
    trained_gap: float  # mean duality gap at the end, trained policy means
    gda_gap: float  # mean duality gap at the end, GDA with step size max_update
    seconds: float  # wall-clock time of the training loop


def make_env(args: Args) -> TorchRLEnv:
    return TorchRLEnv(
        args.game,
        batch=args.batch,
        device=args.device,
        max_update=args.max_update,
        max_steps=args.max_steps,
    )


def make_seat(env: TorchRLEnv, seat: str, args: Args):
    """The tutorial's actor and critic for one seat (a group with one agent)."""
    n_obs = env.observation_spec[seat, "observation"].shape[-1]
    n_act = env.full_action_spec[seat, "action"].shape[-1]
    net = torch.nn.Sequential(
        MultiAgentMLP(
            n_agent_inputs=n_obs,
            n_agent_outputs=2 * n_act,
            n_agents=1,
            centralised=False,
            share_params=True,
            device=args.device,
            depth=2,
            num_cells=args.cells,
            activation_class=torch.nn.Tanh,
        ),
        NormalParamExtractor(),
    )
    spec = env.full_action_spec_unbatched[seat, "action"]
    actor = ProbabilisticActor(
        module=TensorDictModule(
            net,
            in_keys=[(seat, "observation")],
            out_keys=[(seat, "loc"), (seat, "scale")],
        ),
        spec=spec,
        in_keys=[(seat, "loc"), (seat, "scale")],
        out_keys=[(seat, "action")],
        distribution_class=TanhNormal,
        distribution_kwargs={"low": spec.space.low, "high": spec.space.high},
        return_log_prob=True,
        log_prob_key=(seat, "sample_log_prob"),
    )
    critic = TensorDictModule(
        MultiAgentMLP(
            n_agent_inputs=n_obs,
            n_agent_outputs=1,
            n_agents=1,
            centralised=False,
            share_params=True,
            device=args.device,
            depth=2,
            num_cells=args.cells,
            activation_class=torch.nn.Tanh,
        ),
        in_keys=[(seat, "observation")],
        out_keys=[(seat, "state_value")],
    )
    loss = ClipPPOLoss(
        actor_network=actor,
        critic_network=critic,
        clip_epsilon=args.clip_epsilon,
        entropy_coeff=args.entropy_coef,
        normalize_advantage=False,
    )
    loss.set_keys(
        reward=(seat, "reward"),
        action=(seat, "action"),
        sample_log_prob=(seat, "sample_log_prob"),
        value=(seat, "state_value"),
        done=(seat, "done"),
        terminated=(seat, "terminated"),
    )
    loss.make_value_estimator(ValueEstimators.GAE, gamma=args.gamma, lmbda=args.lmbda)
    return actor, loss


def final_gap(env: TorchRLEnv, policy, args: Args) -> tuple[float, float]:
    """Mean duality gap after reset and at the end of a held-out episode."""
    env.set_seed(args.eval_seed)
    with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
        td = env.rollout(args.max_steps, policy)
    gap = td["next", "generator", "info", "duality_gap"]
    start = td["generator", "info", "duality_gap"][:, 0].mean()
    return float(start), float(gap[:, -1].mean())


def gda_gap(args: Args) -> float:
    """Mean final duality gap of GDA (Δ = −max_update · gradient), same seeds."""
    env = gangames.make(
        args.game,
        batch=args.batch,
        max_steps=args.max_steps,
        device=args.device,
        tensor=True,
    )
    obs, info = env.reset(seed=args.eval_seed)
    while env.agents:
        obs, _, _, _, info = env.step(
            {s: -args.max_update * obs[s]["gradient"] for s in SEATS}
        )
    return float(info["generator"]["duality_gap"].mean())


def train(args: Args) -> Result:
    """Run the IPPO recipe for ``args.iterations`` batches; evaluate before and after."""
    torch.manual_seed(args.seed)
    env = make_env(args)
    env.set_seed(args.seed)
    seats = {seat: make_seat(env, seat, args) for seat in SEATS}
    policy = TensorDictSequential(*(actor for actor, _ in seats.values()))
    losses = {seat: loss for seat, (_, loss) in seats.items()}
    params = [p for loss in losses.values() for p in loss.parameters()]
    optim = torch.optim.Adam(params, args.lr)
    start_gap, untrained = final_gap(make_env(args), policy, args)

    frames = args.batch * args.max_steps * args.episodes_per_batch
    collector = Collector(
        env,
        policy,
        device=args.device,
        frames_per_batch=frames,
        total_frames=frames * args.iterations,
        auto_register_policy_transforms=False,  # the policy keeps no recurrent state
    )
    buffer = ReplayBuffer(
        storage=LazyTensorStorage(frames, device=args.device),
        sampler=SamplerWithoutReplacement(),
        batch_size=args.minibatch,
    )
    history: list[float] = []
    began = time.perf_counter()
    for data in collector:
        if args.shared_reward:  # both seats get minus the duality gap
            shared = sum(data["next", seat, "reward"] for seat in SEATS)
            for seat in SEATS:
                data["next", seat, "reward"] = shared
        with torch.no_grad():
            for loss in losses.values():
                loss.value_estimator(
                    data,
                    params=loss.critic_network_params,
                    target_params=loss.target_critic_network_params,
                )
        buffer.extend(data.reshape(-1))
        total = []
        for _ in range(args.epochs):
            for _ in range(frames // args.minibatch):
                sub = buffer.sample()
                value = 0.0
                for loss in losses.values():
                    out = loss(sub)
                    value = (
                        value
                        + out["loss_objective"]
                        + out["loss_critic"]
                        + out["loss_entropy"]
                    )
                value.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optim.step()
                optim.zero_grad()
                total.append(value.detach())
        collector.update_policy_weights_()
        history.append(float(torch.stack(total).mean()))
        if args.log_every and len(history) % args.log_every == 0:
            gap = data["next", "generator", "info", "duality_gap"][:, -1].mean()
            print(
                f"iteration {len(history):3d}: PPO loss {history[-1]:8.4f}, "
                f"duality gap at the episode's end {float(gap):.4f} (exploring)"
            )
    collector.shutdown()
    seconds = time.perf_counter() - began
    _, trained = final_gap(make_env(args), policy, args)
    return Result(history, start_gap, untrained, trained, gda_gap(args), seconds)


def parse() -> Args:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for f in dataclasses.fields(Args):
        flag = f"--{f.name.replace('_', '-')}"
        if isinstance(f.default, bool):
            p.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=f.default
            )
        else:
            p.add_argument(flag, type=type(f.default), default=f.default)
    return Args(**vars(p.parse_args()))


def main(args: Args) -> None:
    r = train(args)
    print(
        f"{args.game}, B = {args.batch} instances, {args.iterations} PPO iterations "
        f"in {r.seconds:.1f} s; PPO loss {r.losses[0]:.4g} → {r.losses[-1]:.4g}"
    )
    print(f"mean duality gap on held-out seeds, after reset: {r.start_gap:.4f}")
    print(f"  after {args.max_steps} rounds, untrained policy: {r.untrained_gap:.4f}")
    print(f"  after {args.max_steps} rounds, trained policy:   {r.trained_gap:.4f}")
    print(
        f"  after {args.max_steps} rounds, GDA (lr {args.max_update}):     {r.gda_gap:.4f}"
    )


if __name__ == "__main__":
    main(parse())
