"""Pinned trajectories: every registered agent plays exactly the numbers it played before.

Each case plays a short deterministic float64 match and compares θ and φ after the last
round with values recorded from the code before the rules were rebuilt from composable
transforms (issue 13), bit for bit (hex floats). A refactor of a rule's plumbing must
not move a single bit; a change meant to alter results is a new agent id, and its pin
is recorded again (``python tests/agents/test_pinned_trajectories.py`` prints them).

Bit-identity holds on one kind of CPU: BLAS and LAPACK pick kernels by instruction set,
and their sums round differently (a few ulps after 12 rounds on the games that multiply
or factor matrices). The cases whose numbers depend on the CPU have a second pin,
``PLATFORM_PINS``, recorded on an AVX-512 CPU (where the pre-refactor code plays exactly
those numbers too); such a case must reproduce one of its pins bit for bit, or, on a CPU
that rounds like neither, agree with both to ``1e-12`` relative (they differ by at most
``3.3e-15``) and warn. Every other case is bit-identical everywhere.
"""

from __future__ import annotations

import functools
import math
import warnings

import pytest

import agents

# (agent id, hyperparameters, game id, env options)
CASES: dict[str, tuple[str, dict, str, dict]] = {
    "gda": ("gda", {"lr": 0.1, "lr_discriminator": 0.2}, "gangames/Quadratic-v0", {}),
    "alternating_gda": (
        "alternating_gda",
        {"n_critic": 2},
        "gangames/Quadratic-v0",
        {},
    ),
    "adam": ("adam", {"lr": 0.05}, "gangames/Quadratic-v0", {}),
    "extragradient": ("extragradient", {"lr": 0.3}, "gangames/Bilinear-v0", {}),
    "optimistic_gda": ("optimistic_gda", {"lr": 0.3}, "gangames/Bilinear-v0", {}),
    "conjugate_gradient": ("conjugate_gradient", {}, "gangames/Quadratic-v0", {}),
    "conjugate_gradient_pr": (
        "conjugate_gradient",
        {"beta": "polak_ribiere", "coefficient": 0.75},
        "gangames/Bilinear-v0",
        {},
    ),
    "proximal": ("proximal", {}, "gangames/Quadratic-v0", {}),
    "proximal_anchor": (
        "proximal",
        {"anchor_rate": 0.5, "inner_steps": 4},
        "gangames/NoNashQuadratic-v0",
        {},
    ),
    "stackelberg": ("stackelberg", {}, "gangames/NoNashQuadratic-v0", {}),
    "stackelberg_maximin": (
        "stackelberg",
        {"leader": "discriminator", "warm_start": False},
        "gangames/Quadratic-v0",
        {},
    ),
    "follow_the_ridge": ("follow_the_ridge", {}, "gangames/NoNashQuadratic-v0", {}),
    "unrolled": ("unrolled", {}, "gangames/Quadratic-v0", {}),
    "unrolled_first_order": (
        "unrolled",
        {"unroll_steps": 3, "second_order": False},
        "gangames/Quadratic-v0",
        {},
    ),
    "langevin": ("langevin", {}, "gangames/NonRealizableGAN-v0", {"particles": 4}),
    "mirror_gan": (
        "mirror_gan",
        {},
        "gangames/NonRealizableGAN-v0",
        {"particles": 4},
    ),
    "srfb": ("srfb", {"lr": 0.4}, "gangames/Bilinear-v0", {"box": 1.0}),
    "srfb_projected": (
        "srfb",
        {"lr": 0.3, "projection": "ball", "radius": 0.5, "samples": 2},
        "gangames/Quadratic-v0",
        {},
    ),
    "fbf": ("fbf", {"lr": 0.5}, "gangames/Bilinear-v0", {}),
    "fbf_projected": (
        "fbf",
        {"lr": 0.3, "projection": "box", "radius": 0.5},
        "gangames/Quadratic-v0",
        {},
    ),
}

ROUNDS = 12


@functools.cache
def play(case: str) -> tuple[list[str], list[str]]:
    """θ and φ (flattened, hex floats) after ``ROUNDS`` rounds of ``case``."""
    name, hyperparameters, game, options = CASES[case]
    solver = agents.make(name, **hyperparameters)
    env = agents.env_for(
        game, solver, batch=2, max_steps=ROUNDS, dtype="float64", **options
    )
    agents.play(env, solver, seed=3)
    state = env.match.state
    return (
        [float(v).hex() for v in state.theta.flatten().tolist()],
        [float(v).hex() for v in state.phi.flatten().tolist()],
    )


def test_every_registered_agent_but_sb3_is_pinned():
    pinned = {CASES[case][0] for case in PINS}
    assert pinned == set(agents.names()) - {"sb3"}


def _floats(values: list[str]) -> list[float]:
    return [float.fromhex(v) for v in values]


@pytest.mark.parametrize("case", sorted(CASES))
def test_trajectory_is_bit_identical_to_the_pin(case):
    theta, phi = play(case)
    assert all(math.isfinite(v) for v in _floats(theta) + _floats(phi))
    pins = [PINS[case], *([PLATFORM_PINS[case]] if case in PLATFORM_PINS else [])]
    if (theta, phi) in [tuple(p) for p in pins]:
        return  # bit for bit
    assert case in PLATFORM_PINS, f"{case}: θ or φ moved (a CPU-independent case)"
    warnings.warn(
        f"{case}: this CPU rounds like no recorded platform; comparing to 1e-12",
        stacklevel=1,
    )
    for pin in pins:
        assert _floats(theta + phi) == pytest.approx(
            _floats(pin[0] + pin[1]), rel=1e-12
        )


def test_the_platform_pins_differ_only_by_rounding():
    """The second platform's pins are the first's up to a few ulps: same algorithm."""
    for case, (theta, phi) in PLATFORM_PINS.items():
        first = _floats(PINS[case][0] + PINS[case][1])
        assert _floats(theta + phi) != first
        assert _floats(theta + phi) == pytest.approx(first, rel=1e-14)


PINS: dict[str, tuple[list[str], list[str]]] = {
    "adam": (
        [
            "-0x1.1157664224007p-2",
            "0x1.65208d007c670p-1",
            "-0x1.13d469d96baf2p-5",
            "-0x1.ec95558b764a6p-2",
        ],
        [
            "0x1.68f6809197abap-5",
            "0x1.c292eeec0e32dp-1",
            "0x1.c803666b85532p-6",
            "0x1.e3c9bb9442eebp-2",
        ],
    ),
    "alternating_gda": (
        [
            "-0x1.10636dc36deaap-4",
            "0x1.7cae61c46a99dp-3",
            "-0x1.71f9c9a847a41p-5",
            "-0x1.4695d98d13721p-5",
        ],
        [
            "-0x1.73ddeacc4ca1ep-7",
            "-0x1.5f5a6d38af47ep-3",
            "0x1.68b671c5ea846p-5",
            "0x1.b45c256544333p-3",
        ],
    ),
    "conjugate_gradient": (
        [
            "-0x1.6e3655b87de23p-3",
            "0x1.f9264bf76c30ep-2",
            "-0x1.3635d3f39d962p-3",
            "-0x1.00e77dd99de48p-6",
        ],
        [
            "-0x1.3bbeec5c451d3p-5",
            "0x1.636dc61b30180p-6",
            "0x1.59a1fce1fdeaap-3",
            "0x1.7e601c55193f2p-2",
        ],
    ),
    "conjugate_gradient_pr": (
        [
            "0x1.97aa19ccd3ea3p-1",
            "0x1.ff618b9620ae2p-2",
            "-0x1.f39853ec3ff7ap-7",
            "-0x1.5b8d73ab98763p-1",
        ],
        [
            "0x1.318c551fba2dbp-4",
            "0x1.2ac3b284b2d5cp+0",
            "0x1.bf20195c0f63cp-1",
            "0x1.afb98b8ed605dp-2",
        ],
    ),
    "extragradient": (
        [
            "-0x1.0cb915dc55a52p-1",
            "-0x1.40142181140d6p-2",
            "0x1.5a9f7c0222d34p-6",
            "0x1.7704dfc4f04d2p-2",
        ],
        [
            "-0x1.74ef127f77a96p-5",
            "-0x1.5090d6be73140p-1",
            "-0x1.13719e4134b8ep-1",
            "-0x1.182835547027cp-2",
        ],
    ),
    "fbf": (
        [
            "0x1.1e3cabe41131ep-2",
            "0x1.41302bdfc291ep-3",
            "-0x1.4b2286695cbb8p-6",
            "-0x1.339c3d59117dcp-3",
        ],
        [
            "0x1.c4b65b8d5d43ap-6",
            "0x1.26b4bd733ea60p-2",
            "0x1.11c2bce1e7affp-2",
            "0x1.2686a0466eca2p-3",
        ],
    ),
    "fbf_projected": (
        [
            "-0x1.87afca467b1acp-8",
            "0x1.b91b8f47ef808p-7",
            "-0x1.0ab5fa6386a98p-7",
            "0x1.e61e13cb41e0ap-8",
        ],
        [
            "-0x1.4fe5d445e9655p-12",
            "-0x1.fff5b05478fe1p-8",
            "0x1.d4d0d9ae6f404p-10",
            "0x1.81f516b01a2e8p-7",
        ],
    ),
    "follow_the_ridge": (
        ["0x1.a20cb6dd15c6ap-1", "-0x1.43559a7387276p-3"],
        ["0x1.6bb82c7dd0abdp+0", "-0x1.f0b439848610bp-3"],
    ),
    "gda": (
        [
            "-0x1.0459ca6ed2dd3p-4",
            "0x1.582f5d93c8b54p-3",
            "-0x1.9d4ebacc5b1abp-5",
            "0x1.00bb79b501b00p-11",
        ],
        [
            "-0x1.7e9d65a9abf8cp-7",
            "-0x1.a9e3594042bd5p-3",
            "0x1.63e752eaedc10p-5",
            "0x1.e35c8b6da2f96p-3",
        ],
    ),
    "langevin": (
        [
            "-0x1.c2335051cd61dp+0",
            "0x1.d1256c4009a34p+0",
            "-0x1.999c451afb6d0p-1",
            "-0x1.e2b88949464a7p-4",
            "0x1.98872c9e9fd3ep-1",
            "0x1.7bb5d1c4e1ebep-2",
            "0x1.502268486ee5ep-1",
            "0x1.4b31ff351252bp-2",
        ],
        [
            "-0x1.8a22c7696cf27p-3",
            "0x1.9ab0ef5019cfap-1",
            "0x1.30e374ae2247bp-1",
            "0x1.aaddcb338a7d3p-2",
            "0x1.35b63a860ba48p-5",
            "0x1.91729dd349d60p-7",
            "-0x1.403d288728735p+0",
            "-0x1.abf8c855d3b46p-1",
            "0x1.2d0a6e791eec2p-2",
            "0x1.4932fbc9738e5p-2",
            "0x1.1b18d7aa21e8ep+0",
            "0x1.4fc8764ae8c63p-3",
            "-0x1.19b6426a1d3d3p-1",
            "-0x1.227fc7bb42a84p-1",
            "0x1.ff20cd257134bp-1",
            "-0x1.1a5f7a931dd3cp-2",
        ],
    ),
    "mirror_gan": (
        [
            "-0x1.0a038ab14db06p+0",
            "0x1.823a8bbcb3585p+0",
            "-0x1.6c83010900187p-2",
            "0x1.21694ef881248p-7",
            "0x1.14f0b1dfc58dcp-1",
            "0x1.a10f46fd84b97p-5",
            "0x1.918853c345ab5p-1",
            "0x1.f1491d9fd7de1p-4",
        ],
        [
            "-0x1.56c5742785ec3p-1",
            "0x1.6d32faeede2d1p+0",
            "0x1.bf050c653007dp-1",
            "0x1.e9f26ce6ed367p-1",
            "-0x1.874ee8d80a54ap-4",
            "0x1.7da44276287edp-3",
            "-0x1.237a5b5bbbcfcp+1",
            "-0x1.028e5ca543476p+0",
            "0x1.df8e8941a9c1fp-1",
            "-0x1.0dc692f14ca70p-2",
            "0x1.2019d30e47982p+1",
            "-0x1.60b6b073e8bb6p-2",
            "-0x1.3aa1dcc7f3d46p-1",
            "-0x1.4e5d1273f8134p+0",
            "0x1.23a7992a33420p+1",
            "-0x1.16d2d891a94f4p+0",
        ],
    ),
    "optimistic_gda": (
        [
            "-0x1.18f9c032af5c6p-1",
            "-0x1.45ed1a219e0ecp-2",
            "0x1.ec33c17bfd478p-6",
            "0x1.5f719da9d2e09p-2",
        ],
        [
            "-0x1.9e80cad85e522p-5",
            "-0x1.43a9370fe8ccdp-1",
            "-0x1.174ec987d5c2cp-1",
            "-0x1.23354d1aec2a7p-2",
        ],
    ),
    "proximal": (
        [
            "-0x1.a70727b055658p-8",
            "0x1.dc13b21fe42b5p-6",
            "0x1.0436d7854b23dp-8",
            "-0x1.8a3fd6394ab24p-5",
        ],
        [
            "-0x1.c4bed50c9ba06p-8",
            "-0x1.e6299867c40ffp-5",
            "0x1.e2de9b23a0372p-6",
            "0x1.b09c4d8f3d8d2p-4",
        ],
    ),
    "proximal_anchor": (
        ["-0x1.acf5b54fc4a20p-2", "-0x1.afee21d9a3b7ep-3"],
        ["0x1.03d0e3c30fd85p-1", "-0x1.08a830b4f8d9cp-1"],
    ),
    "srfb": (
        [
            "-0x1.6fc6c22591860p-1",
            "0x1.64ae41c4f1608p-5",
            "-0x1.cf3ea40d0da9dp-2",
            "0x1.64f92b42411afp-2",
        ],
        [
            "0x1.3ee0d7296c64cp-5",
            "-0x1.bb8d4031c638ep-2",
            "-0x1.aa3bc904c3bccp-3",
            "0x1.67e18cdf164acp-6",
        ],
    ),
    "srfb_projected": (
        [
            "-0x1.3ec0b24901b48p-4",
            "0x1.cb19ea218485bp-3",
            "-0x1.25fc372c84ee0p-4",
            "-0x1.6d6800868b5d4p-5",
        ],
        [
            "-0x1.45ccb898d1cb9p-6",
            "0x1.6d402f27bf7eap-5",
            "0x1.a712d8e140d55p-4",
            "0x1.74db1fab1167cp-3",
        ],
    ),
    "stackelberg": (
        ["0x1.6c32163eec490p-1", "-0x1.09b97fc866182p-3"],
        ["0x1.49304572e7a4ep+0", "0x1.1f2ba82a8ba9ep-4"],
    ),
    "stackelberg_maximin": (
        [
            "-0x1.2fc575442e4fdp-3",
            "0x1.075928da3a588p-1",
            "-0x1.9ac013e7dbcfcp-6",
            "-0x1.f57e55db25afdp-2",
        ],
        [
            "-0x1.4523beb652e06p-5",
            "0x1.f4336aa766fe5p-2",
            "0x1.bf440f520d502p-3",
            "0x1.4f57530c49de5p-3",
        ],
    ),
    "unrolled": (
        [
            "-0x1.710ba7336bc44p-4",
            "0x1.51e9ac569307fp-2",
            "-0x1.f5cd8759469f0p-10",
            "-0x1.78da3d4cd2202p-2",
        ],
        [
            "-0x1.01907a49ebb8ep-4",
            "0x1.4f23b90ee49fbp-1",
            "0x1.5b1439e8e877dp-2",
            "0x1.4aec5b1f21b39p-2",
        ],
    ),
    "unrolled_first_order": (
        [
            "-0x1.1c23c5d609f60p-3",
            "0x1.df6cefee4c795p-2",
            "-0x1.1064395567bd0p-5",
            "-0x1.9feafa2ff01e6p-2",
        ],
        [
            "-0x1.fe8de23f6f6c2p-5",
            "0x1.38e22275f21a4p-1",
            "0x1.55b73508b2a13p-2",
            "0x1.5c9505bd596f0p-2",
        ],
    ),
}


# The same cases on a CPU whose BLAS/LAPACK kernels round differently (AVX-512; the
# pre-refactor code, commit 4de3fe0, plays exactly these numbers there): only the cases
# whose games multiply or factor matrices differ, by a few ulps.
PLATFORM_PINS: dict[str, tuple[list[str], list[str]]] = {
    "extragradient": (
        [
            "-0x1.0cb915dc55a54p-1",
            "-0x1.40142181140d9p-2",
            "0x1.5a9f7c0222d34p-6",
            "0x1.7704dfc4f04d2p-2",
        ],
        [
            "-0x1.74ef127f77a9ep-5",
            "-0x1.5090d6be7313fp-1",
            "-0x1.13719e4134b8ep-1",
            "-0x1.182835547027cp-2",
        ],
    ),
    "fbf": (
        [
            "0x1.1e3cabe41131cp-2",
            "0x1.41302bdfc2921p-3",
            "-0x1.4b2286695cbb8p-6",
            "-0x1.339c3d59117dcp-3",
        ],
        [
            "0x1.c4b65b8d5d454p-6",
            "0x1.26b4bd733ea5dp-2",
            "0x1.11c2bce1e7affp-2",
            "0x1.2686a0466eca2p-3",
        ],
    ),
    "langevin": (
        [
            "-0x1.c2335051cd61dp+0",
            "0x1.d1256c4009a34p+0",
            "-0x1.999c451afb6d0p-1",
            "-0x1.e2b88949464a7p-4",
            "0x1.98872c9e9fd3ep-1",
            "0x1.7bb5d1c4e1ebep-2",
            "0x1.502268486ee5ep-1",
            "0x1.4b31ff351252cp-2",
        ],
        [
            "-0x1.8a22c7696cf27p-3",
            "0x1.9ab0ef5019cfap-1",
            "0x1.30e374ae2247bp-1",
            "0x1.aaddcb338a7d3p-2",
            "0x1.35b63a860ba48p-5",
            "0x1.91729dd349d60p-7",
            "-0x1.403d288728735p+0",
            "-0x1.abf8c855d3b46p-1",
            "0x1.2d0a6e791eec2p-2",
            "0x1.4932fbc9738e5p-2",
            "0x1.1b18d7aa21e8ep+0",
            "0x1.4fc8764ae8c63p-3",
            "-0x1.19b6426a1d3d3p-1",
            "-0x1.227fc7bb42a84p-1",
            "0x1.ff20cd257134bp-1",
            "-0x1.1a5f7a931dd3cp-2",
        ],
    ),
    "optimistic_gda": (
        [
            "-0x1.18f9c032af5c5p-1",
            "-0x1.45ed1a219e0edp-2",
            "0x1.ec33c17bfd478p-6",
            "0x1.5f719da9d2e09p-2",
        ],
        [
            "-0x1.9e80cad85e532p-5",
            "-0x1.43a9370fe8ccbp-1",
            "-0x1.174ec987d5c2cp-1",
            "-0x1.23354d1aec2a7p-2",
        ],
    ),
    "srfb": (
        [
            "-0x1.6fc6c22591860p-1",
            "0x1.64ae41c4f15fap-5",
            "-0x1.cf3ea40d0da9dp-2",
            "0x1.64f92b42411afp-2",
        ],
        [
            "0x1.3ee0d7296c63ep-5",
            "-0x1.bb8d4031c638ep-2",
            "-0x1.aa3bc904c3bccp-3",
            "0x1.67e18cdf164acp-6",
        ],
    ),
}


if __name__ == "__main__":
    print("PINS: dict[str, tuple[list[str], list[str]]] = {")
    for case in sorted(CASES):
        print(f"    {case!r}: {play(case)!r},")
    print("}")
