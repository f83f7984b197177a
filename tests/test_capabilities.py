"""Games declare what they support; the env reads the declaration and plays no match."""

from __future__ import annotations

import dataclasses
import sys

import gymnasium
import pytest
import torch

import gangames
from gangames import metrics
from gangames.engine import new_match
from gangames.envs import EnvConfig, GameParallelEnv
from gangames.errors import InvalidConfigError
from gangames.game import Capabilities, Mixed
from gangames.games import Quadratic
from gangames.registration import view_id
from gangames.testing import check_game

# Options that change a declaration, beyond tests/conftest.py's VARIANTS.
MORE_VARIANTS = [
    ("gangames/Bilinear-v0", {"box": 1.0, "particles": 2}),
    ("gangames/Quadratic-v0", {"particles": 2}),
    ("gangames/GaussianWGAN-v0", {"critic": "quadratic", "dimension": 2}),
    ("gangames/GaussianWGAN-v0", {"dimension": 2}),
    ("gangames/MixtureGAN-v0", {"loss": "wgan_clip", "width": 8}),
]

_KNOWN_BY = {
    "exploitability_generator": "duality_gap",
    "exploitability_discriminator": "duality_gap",
    "duality_gap": "duality_gap",
    "proximal_gap": "proximal_gap",
    "proximal_exploitability_generator": "proximal_gap",
    "proximal_exploitability_discriminator": "proximal_gap",
    "distance": "distance",
}


def _assert_declaration_holds(game: gangames.Game) -> None:
    """Compare the declaration with what metrics.evaluate and the game return."""
    caps = game.capabilities
    m = new_match(game, [0, 1], dtype=torch.float64)
    theta, phi = m.state.theta, m.state.phi
    mt = metrics.evaluate(game, m.instance, theta, phi, prox_lambda=0.5)
    returned = {name: getattr(mt, name) is not None for name in _KNOWN_BY}
    assert returned == {name: getattr(caps, f) for name, f in _KNOWN_BY.items()}
    assert mt.grad_norm is not None and mt.value is not None
    assert tuple(game.quality(m.instance, theta)) == caps.quality
    for seat, x in (("generator", theta), ("discriminator", phi)):
        far = x + 1e6 * torch.randn(x.shape, dtype=x.dtype, generator=_gen())
        moved = not torch.equal(game.project(seat, m.instance, far), far)
        assert moved == (seat in caps.constrained), seat
    if not isinstance(game, Mixed):
        lifted = gangames.mixed(game, particles=2)
        lm = new_match(lifted, [0], dtype=torch.float64)
        d = metrics.evaluate(lifted, lm.instance, lm.state.theta, lm.state.phi)
        assert (d.distance is not None) == caps.cloud_distance
        assert (d.duality_gap is not None) == lifted.capabilities.duality_gap


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def test_the_declaration_is_what_evaluate_returns(variant):
    name, options = variant
    _assert_declaration_holds(gangames.make_game(name, **options))


@pytest.mark.parametrize(
    "case", MORE_VARIANTS, ids=[f"{n.split('/')[-1]}-{o}" for n, o in MORE_VARIANTS]
)
def test_the_declaration_follows_the_options(case):
    name, options = case
    _assert_declaration_holds(gangames.make_game(name, **options))


def test_every_registered_game_declares_truthfully(game_id):
    _assert_declaration_holds(gangames.make_game(game_id))


def test_declarations_that_depend_on_fields():
    make = gangames.make_game
    assert make("gangames/Bilinear-v0").capabilities.proximal_gap
    assert not make("gangames/Bilinear-v0", box=1.0).capabilities.proximal_gap
    assert make("gangames/DiracGAN-v0", clip=1.0).capabilities.constrained == (
        "discriminator",
    )
    wgan = make("gangames/GaussianWGAN-v0", critic="quadratic", dimension=2)
    assert wgan.capabilities.constrained == ("generator",)
    assert not wgan.capabilities.proximal_gap
    circle = make("gangames/CirclePursuit-v0")
    assert not circle.capabilities.distance
    assert make("gangames/CirclePursuit-v0", particles=4).capabilities.distance
    with pytest.raises(ValueError, match="constrained"):
        Capabilities(constrained=("critic",))  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Overclaims(Quadratic):
    """The quadratic game, declaring whatever ``claim`` says."""

    claim: Capabilities = dataclasses.field(default_factory=Capabilities)

    @property
    def capabilities(self) -> Capabilities:
        return self.claim


def _refuse(*args, **kwargs):
    raise AssertionError("make played a match")


@pytest.fixture
def no_match(monkeypatch):
    """Every way to start a match raises: new_match wherever it was imported, and the
    games' instance sampling and initial parameters."""
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("gangames") and (
            getattr(mod, "new_match", None) is new_match
        ):
            monkeypatch.setattr(mod, "new_match", _refuse)
    for cls in {type(gangames.make_game(i)) for i in gangames.names()} | {Mixed}:
        monkeypatch.setattr(cls, "sample_instance", _refuse)
        monkeypatch.setattr(cls, "init_params", _refuse)
    return monkeypatch


def test_make_plays_no_match(game_id, no_match):
    envs = [
        gangames.make(game_id),
        gangames.make(game_id, order="sequential"),
        gangames.make(game_id, particles=2),
        gymnasium.make(
            view_id(game_id, "generator"), mode="step_size", max_steps=2
        ).unwrapped,
    ]
    no_match.undo()  # the envs play once reset
    for env in envs:
        env.reset(seed=0)


def test_the_errors_name_the_missing_closed_form(no_match):
    undeclared = _Overclaims(claim=Capabilities())  # Quadratic, declaring nothing
    with pytest.raises(InvalidConfigError, match="reward='gap' needs closed-form"):
        GameParallelEnv(undeclared, EnvConfig())
    GameParallelEnv(undeclared, EnvConfig(reward="payoff"))
    with pytest.raises(
        InvalidConfigError, match="reward='proximal_gap' needs a closed-form proximal"
    ):
        gangames.make("gangames/DiracGAN-v0", reward="proximal_gap")
    with pytest.raises(InvalidConfigError, match="proximal"):
        gangames.make("gangames/Bilinear-v0", box=1.0, reward="proximal_gap")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"proximal": False}, r"proximal.*is False"),
        ({"distance": False}, r"distance is False"),
        ({"best_responses": False}, r"best_responses is False"),
        ({"cloud_distance": False}, r"cloud_distance is False"),
        ({"quality": ("fid",)}, r"quality is \('fid',\)"),
        ({"constrained": ("generator",)}, r"project\(\) does not move generator"),
    ],
)
def test_check_game_refuses_a_wrong_declaration(change, match):
    truth = Quadratic().capabilities
    check_game(_Overclaims(claim=truth))  # the true declaration passes
    with pytest.raises(AssertionError, match=match):
        check_game(_Overclaims(claim=dataclasses.replace(truth, **change)))
