"""MixtureGAN (T9): data, batched MLPs against nn.Module references, losses, clouds, play."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import gangames
from gangames.engine import new_match
from gangames.errors import InvalidConfigError
from gangames.games.mixture import MixtureGAN, mixture_means
from gangames.random import Stream
from gangames.testing import check_game

LOSSES = ("standard", "non_saturating", "wgan_clip", "wgan_gp")
SMALL = {"width": 8, "minibatch": 16, "eval_size": 64, "latent_dim": 3}


def small(**kw) -> MixtureGAN:
    return MixtureGAN(**{**SMALL, **kw})


def test_means_are_the_ring_and_the_grid():
    ring = mixture_means("ring")
    assert ring.shape == (8, 2)
    assert torch.allclose(ring.norm(dim=-1), torch.full((8,), 2.0, dtype=ring.dtype))
    assert torch.allclose(
        ring[2], torch.tensor([0.0, 2.0], dtype=ring.dtype), atol=1e-12
    )
    grid = mixture_means("grid")
    assert grid.shape == (25, 2)
    assert set(grid[:, 0].tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    assert len({tuple(p) for p in grid.tolist()}) == 25


@pytest.mark.parametrize("mixture", ["ring", "grid"])
def test_real_samples_follow_the_mixture(mixture):
    game = MixtureGAN(mixture=mixture, minibatch=20000)
    inst = game.sample_instance(Stream.from_seeds([0]), torch.float64)
    x = game.sample_data(inst, Stream.from_seeds([1]))["x"][0]
    means = inst["means"][0]
    dist = torch.cdist(x, means)
    near, idx = dist.min(dim=-1)
    std = game.mode_std
    # Each coordinate is N(μ, std²): the distance to the own mode is Rayleigh(std).
    assert near.max() < 6 * std
    assert abs(near.pow(2).mean().item() / (2 * std * std) - 1) < 0.05
    freq = torch.bincount(idx, minlength=means.shape[0]).double() / x.shape[0]
    m = means.shape[0]
    assert (freq - 1 / m).abs().max() < 5 * math.sqrt((1 / m) / x.shape[0])


def test_bad_options_are_refused():
    for kw in (
        {"mixture": "spiral"},
        {"loss": "hinge"},
        {"width": 0},
        {"minibatch": 1.5},
        {"activation": "gelu"},
        {"std": -1.0},
        {"clip": 0.0},
    ):
        with pytest.raises(InvalidConfigError):
            MixtureGAN(**kw)


@pytest.mark.parametrize("loss", LOSSES)
def test_check_game(loss):
    check_game(small(loss=loss))
    check_game(small(loss=loss), dtype=torch.float32, tol=1e-3)


def test_check_game_mixed():
    check_game(gangames.mixed(small(), particles=3))


def _reference(game: MixtureGAN, theta: torch.Tensor, phi: torch.Tensor):
    """nn.Sequential copies of the row-0 networks (Linear weight = our weightᵀ)."""

    def build(net, flat):
        named = gangames.ParamLayout(net.shapes()).unflatten(flat)
        mods = []
        for i in range(net.depth):
            lin = torch.nn.Linear(net.sizes[i], net.sizes[i + 1], dtype=flat.dtype)
            with torch.no_grad():
                lin.weight.copy_(named[f"layer{i}.weight"].T)
                lin.bias.copy_(named[f"layer{i}.bias"])
            mods.append(lin)
            if i < net.depth - 1:
                mods.append(torch.nn.LeakyReLU(0.2))
        return torch.nn.Sequential(*mods)

    return build(game.generator_net, theta[0]), build(game.discriminator_net, phi[0])


def _reference_losses(game, g_mod, d_mod, data):
    x, z = data["x"][0], data["z"][0]
    fake = g_mod(z)
    real_l, fake_l = d_mod(x)[:, 0], d_mod(fake)[:, 0]
    if game.loss in ("standard", "non_saturating"):
        v = (
            torch.log(torch.sigmoid(real_l)).mean()
            + torch.log(1 - torch.sigmoid(fake_l)).mean()
        )
        l_g = v if game.loss == "standard" else -torch.log(torch.sigmoid(fake_l)).mean()
        return v, l_g
    w = real_l.mean() - fake_l.mean()
    if game.loss == "wgan_clip":
        return w, w
    eps = data["eps"][0]
    mix = eps * x + (1 - eps) * fake
    (grad,) = torch.autograd.grad(d_mod(mix).sum(), mix, create_graph=True)
    v = w - game.gp_weight * ((grad.norm(dim=-1) - 1) ** 2).mean()
    return v, w


@pytest.mark.parametrize("loss", LOSSES)
def test_values_and_own_loss_gradients_match_an_nn_module_reference(loss):
    game = small(loss=loss, activation="leaky_relu", depth=2)
    m = new_match(game, [5], dtype=torch.float64)
    theta, phi = m.state.theta, m.state.phi
    if loss == "wgan_clip":
        phi = game.project("discriminator", m.instance, phi * 30)  # some at the box
    data = game.sample_data(m.instance, Stream.from_seeds([9]))
    g_mod, d_mod = _reference(game, theta, phi)
    v_ref, lg_ref = _reference_losses(game, g_mod, d_mod, data)
    g_ref = torch.autograd.grad(lg_ref, list(g_mod.parameters()), retain_graph=True)
    d_ref = torch.autograd.grad(-v_ref, list(d_mod.parameters()))

    v, g_theta, g_phi = game.value_and_loss_gradients(m.instance, theta, phi, data)
    assert torch.allclose(v[0], v_ref, rtol=1e-10, atol=1e-12)

    def flat(grads):  # module order: weight (out, in), bias — ours: weightᵀ, bias
        return torch.cat([(g.T if g.dim() == 2 else g).reshape(-1) for g in grads])

    # atol: the penalty's √(‖∇D‖² + 1e-12) differs from ‖∇D‖ in the 1e-10s
    assert torch.allclose(g_theta[0], flat(g_ref), rtol=1e-9, atol=1e-8)
    assert torch.allclose(g_phi[0], flat(d_ref), rtol=1e-9, atol=1e-8)
    assert game.zero_sum == (loss in ("standard", "wgan_clip"))


def test_oracle_serves_each_seat_its_own_loss():
    game = small(loss="non_saturating")
    m = new_match(game, [0, 1], dtype=torch.float64)
    th, ph = m.state.theta, m.state.phi
    data = game.sample_data(m.instance, Stream(m.oracle.stream.keys.clone()))
    v, l_g, l_d = game.objectives(m.instance, th, ph, data)
    assert torch.allclose(l_d, -v) and not torch.allclose(l_g, v)
    gen = m.oracle.view("generator")
    assert torch.equal(gen.loss(th, ph), l_g)  # first draw of the oracle's stream
    with torch.enable_grad():
        t = th.clone().requires_grad_(True)
        d2 = game.sample_data(m.instance, Stream(m.oracle.stream.keys.clone()))
        (ref,) = torch.autograd.grad(game.objectives(m.instance, t, ph, d2)[1].sum(), t)
    m.oracle.stream.counter = 0
    assert torch.allclose(gen.grad(th, ph), ref)
    # HVP of the generator's own loss, against a finite difference of its gradient.
    vec = torch.randn(
        th.shape, dtype=th.dtype, generator=torch.Generator().manual_seed(0)
    )
    m.oracle.stream.counter = 0
    hv = gen.hvp(th, ph, vec)
    d3 = game.sample_data(m.instance, Stream(m.oracle.stream.keys.clone()))

    def grad_at(x):
        with torch.enable_grad():
            t = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(
                game.objectives(m.instance, t, ph, d3)[1].sum(), t
            )
        return g

    h = 1e-5
    fd = (grad_at(th + h * vec) - grad_at(th - h * vec)) / (2 * h)
    assert torch.allclose(hv, fd, rtol=1e-4, atol=1e-7)


def test_clipped_critic_stays_in_the_box():
    game = small(loss="wgan_clip", clip=0.05)
    m = new_match(game, [0])
    assert m.state.phi.abs().max() <= 0.05
    env = gangames.make("gangames/MixtureGAN-v0", loss="wgan_clip", clip=0.05, width=8)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step({s: 10 * obs[s]["gradient"] for s in env.agents})
    assert abs(obs["generator"]["opponent"]).max() <= 0.05 + 1e-7


def test_batch_equals_single_instances():
    game = small(loss="wgan_gp")
    seeds = [3, 4, 5]
    m = new_match(game, seeds, dtype=torch.float64)
    data = game.sample_data(m.instance, Stream.from_seeds(seeds))
    full = game.value_and_loss_gradients(m.instance, m.state.theta, m.state.phi, data)
    for row, seed in enumerate(seeds):
        one = new_match(game, [seed], dtype=torch.float64)
        d1 = game.sample_data(one.instance, Stream.from_seeds([seed]))
        for a, b in zip(
            full,
            game.value_and_loss_gradients(
                one.instance, one.state.theta, one.state.phi, d1
            ),
            strict=True,
        ):
            assert torch.equal(a[row : row + 1], b)


def test_mixed_generator_draws_a_particle_per_sample_and_critics_average_losses():
    game = small(loss="non_saturating", minibatch=6)
    k = 2
    lifted = gangames.mixed(game, particles=k)
    m = new_match(lifted, [0, 1], dtype=torch.float64)
    th, ph = m.state.theta, m.state.phi
    data = lifted.sample_data(m.instance, Stream.from_seeds([0, 1]))
    v, l_g, l_d = lifted.objectives(m.instance, th, ph, data)
    tc, pc = lifted.cloud("generator", th), lifted.cloud("discriminator", ph)
    # Manual: sample s from particle s // 3; each critic particle scores the mixture.
    fakes = [game.generate(tc[:, i : i + 1], data["z"]) for i in range(k)]
    fake = torch.cat([fakes[0][:, :3], fakes[1][:, 3:]], dim=1)
    vs, lgs = [], []
    for j in range(k):
        params = game.layouts()["discriminator"].unflatten(pc[:, j])
        real_l = game.discriminator_net(params, data["x"])[..., 0]
        fake_l = game.discriminator_net(params, fake)[..., 0]
        vs.append(-(F.softplus(-real_l).mean(-1) + F.softplus(fake_l).mean(-1)))
        lgs.append(F.softplus(-fake_l).mean(-1))
    assert torch.allclose(v, sum(vs) / k, rtol=1e-12)
    assert torch.allclose(l_g, sum(lgs) / k, rtol=1e-12)
    assert torch.allclose(l_d, -v)
    # Identical particles: the lifted game is the pure game.
    same_t = lifted.uncloud("generator", tc[:, :1].expand(-1, k, -1))
    same_p = lifted.uncloud("discriminator", pc[:, :1].expand(-1, k, -1))
    pure = game.objectives(m.instance, tc[:, 0], pc[:, 0], data)
    for a, b in zip(
        lifted.objectives(m.instance, same_t, same_p, data), pure, strict=True
    ):
        assert torch.allclose(a, b, rtol=1e-12)


def test_quality_of_a_collapsed_generator_and_in_infos():
    game = small(mixture="grid")
    m = new_match(game, [0, 1], dtype=torch.float64)
    # every weight 0 and output bias at mode 7: a generator collapsed on one mode
    theta = torch.zeros_like(m.state.theta)
    layout = game.layouts()["generator"]
    layout.unflatten(theta)["layer2.bias"].copy_(m.instance["means"][:, 7])  # a view
    q = game.quality(m.instance, theta)
    assert q["modes_covered"].tolist() == [1, 1]
    assert q["high_quality_pct"].tolist() == [100.0, 100.0]
    assert torch.allclose(
        q["mode_kl"], torch.full((2,), math.log(25), dtype=torch.float64)
    )
    lifted = gangames.mixed(game, particles=2)
    cloud = torch.stack([theta, theta.clone()], dim=1)
    second = layout.unflatten(cloud[:, 1])["layer2.bias"]  # second particle: mode 3
    second.copy_(m.instance["means"][:, 3])
    q2 = lifted.quality(m.instance, lifted.uncloud("generator", cloud))
    assert q2["modes_covered"].tolist() == [2, 2]
    assert torch.allclose(
        q2["mode_kl"], torch.full((2,), math.log(25 / 2), dtype=torch.float64)
    )
    env = gangames.make("gangames/MixtureGAN-v0", batch=2, **SMALL)
    _, infos = env.reset(seed=0)
    for key in ("modes_covered", "high_quality_pct", "mode_kl"):
        assert infos["generator"][key].shape == (2,)


def test_payoff_reward_is_the_realized_minibatch_value():
    """Rewards pay V on the observation pass's fresh minibatch (no held-out pass).

    Known answer: the discriminator's reward is the ``value`` both seats observe at
    the new point, in both APIs; lean infos report that value and full infos the
    held-out one, ``V(θ, φ)`` on the instance's evaluation set.
    """
    kw = {"reward": "payoff", "tensor": True, "dtype": "float64", **SMALL}
    for full in (True, False):
        env = gangames.make("gangames/MixtureGAN-v0", full_infos=full, **kw)
        obs, _ = env.reset(seed=4)
        obs, rew, _, _, info = env.step(
            {s: -0.1 * o["gradient"] for s, o in obs.items()}
        )
        realized = obs["discriminator"]["value"][0]
        assert rew["discriminator"] == realized and rew["generator"] == -realized
        m = env.match
        held_out = m.game.value(m.instance, m.state.theta, m.state.phi)[0]
        assert info["generator"]["value"] == (held_out if full else realized)
        assert held_out != realized  # different samples: the test can tell them apart

    aec = gangames.make("gangames/MixtureGAN-v0", order="sequential", **kw)
    aec.reset(seed=4)
    for _ in range(2):  # one round: generator, then discriminator
        obs, *_ = aec.last()
        aec.step(-0.1 * obs["gradient"])
    charged = aec.ledger.costs()["generator"]
    obs, rew, *_ = aec.last()  # the generator again: its observation is already made
    assert aec.ledger.costs()["generator"] == charged == 2.0
    assert rew == aec.rewards["generator"] == -obs["value"][0]
