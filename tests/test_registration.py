"""The registry: ids, options, PettingZoo registration, entry points."""

from __future__ import annotations

import importlib.metadata
import inspect
from dataclasses import dataclass

import gymnasium
import pytest
import torch

import gangames
from gangames import registration
from gangames.errors import InvalidConfigError
from gangames.game import Game, ParamLayout
from gangames.testing import check_game
from gangames.wrappers import GameView

BUILT_IN = {
    "gangames/Bilinear-v0",
    "gangames/Quadratic-v0",
    "gangames/DiracGAN-v0",
    "gangames/NoNashQuadratic-v0",
    "gangames/NonRealizableGAN-v0",
    "gangames/CirclePursuit-v0",
    "gangames/CovarianceGAN-v0",
    "gangames/GaussianWGAN-v0",
}


def test_every_built_in_is_registered():
    assert set(gangames.names()) >= BUILT_IN


def test_every_game_has_a_doc_page(game_id):
    entry = gangames.spec(game_id).entry_point
    module = inspect.getmodule(entry)  # the module docstring is the game's page
    doc = (module.__doc__ if module else None) or entry.__doc__ or ""
    for section in ("Equilibrium", "Version history"):
        assert section.lower() in doc.lower(), f"{game_id}: doc page lacks {section!r}"


def test_unknown_id_suggests_a_close_match():
    with pytest.raises(InvalidConfigError, match="DiracGAN-v0"):
        gangames.make("gangames/DiracGan-v0")


def test_unknown_keyword_is_a_type_error_in_pythons_wording():
    """SB3's make_vec_env and TorchRL's GymEnv retry without a keyword on TypeError."""
    with pytest.raises(
        TypeError, match=r"^make\(\) got an unexpected keyword argument 'colour'"
    ):
        gangames.make("gangames/Bilinear-v0", colour="red")
    with pytest.raises(TypeError, match=r"^make_game\(\) got an unexpected keyword"):
        gangames.make_game("gangames/Bilinear-v0", colour="red")
    with pytest.raises(TypeError, match="unexpected keyword argument 'frameskip'"):
        gymnasium.make("gangames/DiracGAN-generator-v0", frameskip=4)
    with pytest.raises(TypeError, match="takes only 'lr'"):
        GameView("gangames/DiracGAN-v0", "generator", "gradient", {"momentum": 0.9})
    # a bad value stays a ValueError
    with pytest.raises(InvalidConfigError, match="dimension"):
        gangames.make("gangames/Bilinear-v0", dimension=-1)


def test_particles_lift_to_mixed():
    env = gangames.make("gangames/CirclePursuit-v0", particles=16)
    assert isinstance(env.game, gangames.Mixed)
    assert env.action_space("generator").shape == (16,)


def test_sequential_order():
    assert isinstance(
        gangames.make("gangames/Quadratic-v0", order="sequential"), gangames.GameAECEnv
    )
    with pytest.raises(InvalidConfigError, match="order"):
        gangames.make("gangames/Quadratic-v0", order="random")


@dataclass(frozen=True)
class Saddle(Game):
    """A user's game: V = θφ, nothing known in closed form."""

    scale: float = 1.0

    def layouts(self):
        return {
            "generator": ParamLayout.vector("t", 1),
            "discriminator": ParamLayout.vector("p", 1),
        }

    def init_params(self, instance, stream):
        dtype = instance["_batch"].dtype
        return stream.normal((1,), dtype=dtype), stream.normal((1,), dtype=dtype)

    def value(self, instance, theta, phi, data=None):
        return self.scale * (theta * phi).sum(-1)


def test_register_a_user_game():
    gangames.register("tests/Saddle-v0", Saddle, scale=2.0)
    try:
        with pytest.raises(InvalidConfigError, match="payoff"):
            gangames.make(
                "tests/Saddle-v0"
            )  # no closed-form gap: say what to use instead
        env = gangames.make("tests/Saddle-v0", reward="payoff")
        assert env.game.scale == 2.0
        _obs, info = env.reset(seed=0)
        assert "duality_gap" not in info["generator"]
        check_game(env.game)
    finally:
        registration._REGISTRY.pop("tests/Saddle-v0")


def test_register_refuses_bad_ids_and_import_strings():
    with pytest.raises(InvalidConfigError):
        gangames.register("no version", Saddle)
    with pytest.raises(InvalidConfigError, match="import strings"):
        gangames.register("tests/Saddle-v1", "tests.test_registration:Saddle")


def test_entry_points_register_games(monkeypatch):
    ep = importlib.metadata.EntryPoint(
        name="plugin/Saddle-v0",
        value="tests.test_registration:Saddle",
        group="gangames.games",
    )
    monkeypatch.setattr(
        registration.importlib.metadata, "entry_points", lambda group: [ep]
    )
    monkeypatch.setattr(registration, "_LOADED", False)
    try:
        assert "plugin/Saddle-v0" in gangames.names()
        env = gangames.make("plugin/Saddle-v0", reward="payoff", dtype=torch.float64)
        env.reset(seed=0)
    finally:
        registration._REGISTRY.pop("plugin/Saddle-v0", None)
