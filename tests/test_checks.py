"""The validation layer: one message naming the parameter, expected and received value."""

from __future__ import annotations

import dataclasses
import math

import gymnasium
import pytest
import torch

import agents
import gangames
from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.tournament import TournamentConfig


def _number_fields():
    for game_id in gangames.names():
        game = gangames.make_game(game_id)
        for f in dataclasses.fields(game):
            value = getattr(game, f.name)
            if isinstance(value, float | int) and not isinstance(value, bool):
                yield pytest.param(game_id, f.name, id=f"{game_id}:{f.name}")


@pytest.mark.parametrize("bad", [math.inf, -math.inf])
@pytest.mark.parametrize(("spec_id", "field"), list(_number_fields()))
def test_infinite_game_fields_are_refused_naming_the_field(spec_id, field, bad):
    with pytest.raises(InvalidConfigError, match=rf"\b{field}\b.*{bad}"):
        gangames.make(spec_id, **{field: bad})


def test_infinity_is_refused_by_the_gymnasium_view_and_the_config():
    with pytest.raises(
        InvalidConfigError, match=r"mu must be a finite number, got inf"
    ):
        gymnasium.make("gangames/Quadratic-generator-v0", mu=math.inf)
    data = {
        "games": [{"id": "gangames/Quadratic-v0", "options": {"mu": 1e308 * 10}}],
        "entrants": [{"agent": "gda"}],
    }
    with pytest.raises(InvalidConfigError, match=r"mu must be finite"):
        TournamentConfig.from_dict(data)


def test_quadratic_with_infinite_mu_never_reaches_play():
    # the reproduction: it used to give NaN rewards with diverged False
    with pytest.raises(InvalidConfigError, match=r"Quadratic-v0: mu"):
        gangames.make("gangames/Quadratic-v0", mu=float("inf"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:9"])
def test_missing_devices_are_refused_everywhere(device):
    want = rf"device must be .*got '{device}'"
    with pytest.raises(InvalidConfigError, match=want):
        gangames.make("gangames/DiracGAN-v0", device=device)
    data = {
        "games": [{"id": "gangames/DiracGAN-v0"}],
        "entrants": [{"agent": "gda"}],
        "device": device,
    }
    with pytest.raises(InvalidConfigError, match=want):
        TournamentConfig.from_dict(data)


def test_a_gpu_index_past_the_last_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert checks.device("device", "cuda:1") == torch.device("cuda:1")
    with pytest.raises(InvalidConfigError, match=r"cuda:0…cuda:1 .* got 'cuda:9'"):
        checks.device("device", "cuda:9")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("batch", 10**12, r"batch must be an int in \[1, 1048576\], got 1000000000000"),
        ("timeout", 1e300, r"timeout must be a finite number ≤ 86400, got 1e\+300"),
        ("retries", 10**9, r"retries must be .*≤ 10, got 1000000000"),
    ],
)
def test_impossible_tournament_settings_are_refused(field, value, message):
    data = {
        "games": [{"id": "gangames/DiracGAN-v0"}],
        "entrants": [{"agent": "gda"}],
        field: value,
    }
    with pytest.raises(InvalidConfigError, match=message):
        TournamentConfig.from_dict(data)


def test_env_batch_is_bounded():
    with pytest.raises(InvalidConfigError, match=r"batch must be an int in"):
        gangames.make("gangames/DiracGAN-v0", batch=checks.MAX_BATCH + 1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lr_discriminator": -1.0}, "lr_discriminator"),
        ({"lr_discriminator": "abc"}, "lr_discriminator"),
        ({"lr_generator": math.inf}, "lr_generator"),
        ({"lr": 0.0}, "lr"),
    ],
)
def test_step_size_messages_name_the_parameter_given(kwargs, name):
    with pytest.raises(InvalidConfigError, match=rf"\b{name} must be"):
        agents.make("gda", **kwargs)


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (True, {}, r"x must be a finite number, got True"),
        (float("nan"), {"low": 0}, r"x must be a finite number ≥ 0, got nan"),
        (2.5, {"integer": True}, r"x must be an int, got 2.5"),
        (0, {"low": 0, "open_low": True}, r"x must be a finite number > 0, got 0"),
        (None, {"high": 1}, r"x must be a finite number ≤ 1, got None"),
    ],
)
def test_number_messages(value, kwargs, message):
    with pytest.raises(InvalidConfigError, match=message):
        checks.number("x", value, **kwargs)
    assert checks.number("x", None, allow_none=True, **kwargs) is None


@pytest.mark.parametrize("name", ["fbf", "srfb"])
def test_radius_is_checked_even_without_a_projection(name):
    with pytest.raises(InvalidConfigError, match=r"radius must be a finite number > 0"):
        agents.make(name, radius="abc")


def test_covariance_names_dimension():
    with pytest.raises(InvalidConfigError, match=r"\bdimension must be an int > 0"):
        gangames.make("gangames/CovarianceGAN-v0", dimension=0)
