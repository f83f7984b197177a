"""Same seed ⇒ same trajectory bit for bit; a batch of B equals B single runs."""

from __future__ import annotations

import numpy as np
import torch

import gangames


def _trajectory(env, policy, seed, steps):
    obs, _ = env.reset(seed=seed)
    rows = []
    for _ in range(steps):
        if not env.agents:
            break
        obs, rew, _, _, info = env.step(policy(obs))
        rows.append(
            np.concatenate(
                [
                    np.ravel(obs["generator"]["own"]),
                    np.ravel(obs["discriminator"]["own"]),
                    np.ravel(rew["generator"]),
                    np.ravel(info["generator"]["value"]),
                ]
            )
        )
    return np.stack(rows)


def test_same_seed_same_trajectory(variant, gda):
    """20 seeds × 200 steps, compared with np.array_equal (exact).

    The 20 seeds run as one batch (instance b is seeded by seeds[b]); that a batch
    equals its single runs is tested separately below.
    """
    name, options = variant
    seeds = list(range(20))
    runs = [
        _trajectory(
            gangames.make(name, batch=20, max_steps=200, **options), gda, seeds, 200
        )
        for _ in range(2)
    ]
    assert runs[0].shape[0] == 200 or runs[0].shape == runs[1].shape
    assert np.array_equal(runs[0], runs[1])


def test_same_seed_same_single_trajectory(game_id, gda):
    for seed in range(3):
        runs = [
            _trajectory(gangames.make(game_id, max_steps=200), gda, seed, 200)
            for _ in range(2)
        ]
        assert np.array_equal(runs[0], runs[1]), f"seed {seed} not reproducible"


def test_batch_equals_single_runs(variant, gda):
    name, options = variant
    seeds = [11, 22, 33, 44]
    batched = gangames.make(
        name, batch=len(seeds), dtype="float64", max_steps=50, **options
    )
    obs, _ = batched.reset(seed=seeds)
    singles = []
    for s in seeds:
        env = gangames.make(name, dtype="float64", max_steps=50, **options)
        singles.append((env, env.reset(seed=[s])[0]))
    for _ in range(50):
        if not batched.agents:
            break
        obs, rew, _, _, info = batched.step(gda(obs))
        for b, (env, sobs) in enumerate(singles):
            if not env.agents:
                assert info["generator"]["diverged"][b]
                continue
            sobs, srew, _, _, _sinfo = env.step(gda(sobs))
            singles[b] = (env, sobs)
            for seat in ("generator", "discriminator"):
                np.testing.assert_allclose(
                    obs[seat]["own"][b], sobs[seat]["own"], rtol=1e-12, atol=1e-14
                )
                np.testing.assert_allclose(
                    rew[seat][b], srew[seat], rtol=1e-12, atol=1e-14
                )


def test_different_seeds_differ():
    env = gangames.make("gangames/Bilinear-v0", dimension=3)
    a, _ = env.reset(seed=1)
    b, _ = env.reset(seed=2)
    assert not np.array_equal(a["generator"]["own"], b["generator"]["own"])
    c, _ = env.reset()  # continues with the next episode: new instance
    assert not np.array_equal(b["generator"]["own"], c["generator"]["own"])


def test_seed_list_row_equals_int_seed_child():
    env = gangames.make("gangames/Quadratic-v0", batch=3)
    obs, _ = env.reset(seed=5)
    from gangames.random import derive_seeds

    children = derive_seeds(5, 3)
    single = gangames.make("gangames/Quadratic-v0")
    sobs, _ = single.reset(seed=[children[2]])
    np.testing.assert_array_equal(obs["generator"]["own"][2], sobs["generator"]["own"])


def test_float64_and_tensor_mode_agree():
    a = gangames.make("gangames/DiracGAN-v0", dtype="float64")
    t = gangames.make("gangames/DiracGAN-v0", dtype="float64", tensor=True)
    oa, _ = a.reset(seed=3)
    ot, _ = t.reset(seed=3)
    for _ in range(10):
        oa, *_ = a.step({s: -0.1 * o["gradient"] for s, o in oa.items()})
        ot, *_ = t.step({s: -0.1 * o["gradient"] for s, o in ot.items()})
    assert isinstance(ot["generator"]["own"], torch.Tensor)
    np.testing.assert_array_equal(
        oa["generator"]["own"], ot["generator"]["own"].numpy()
    )
