"""rgb_array rendering of the neural games and the PNG writer."""

from __future__ import annotations

import struct
import zlib

import gymnasium
import numpy as np
import pytest

import gangames
from gangames.errors import InvalidConfigError, RenderModeError
from gangames.registration import view_id
from gangames.render import save_png, scatter, tile


def _read_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    w, h, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    raw = zlib.decompress(chunks[b"IDAT"])
    channels = 3 if colour == 2 else 1
    rows = np.frombuffer(raw, np.uint8).reshape(h, 1 + w * channels)
    assert (rows[:, 0] == 0).all() and depth == 8
    return rows[:, 1:].reshape(h, w, channels).squeeze()


def test_png_round_trip(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8)
    assert np.array_equal(_read_png(save_png(img, tmp_path / "a.png")), img)
    grey = img[..., 0]
    assert np.array_equal(_read_png(save_png(grey, tmp_path / "g.png")), grey)
    with pytest.raises(ValueError, match="uint8"):
        save_png(img.astype(np.float32), tmp_path / "b.png")


def test_scatter_and_tile_put_pixels_where_expected():
    img = scatter(
        [(np.array([[0.0, 0.0], [1.0, 1.0]]), (255, 0, 0))],
        (-1, 1, -1, 1),
        size=11,
        dot=1,
    )
    assert tuple(img[5, 5]) == (255, 0, 0)  # the centre
    assert tuple(img[0, 10]) == (255, 0, 0)  # top right
    assert (img == 255).all(axis=-1).sum() == 11 * 11 - 2
    grid = tile(
        np.array([np.full((2, 2), 1.0), np.full((2, 2), -1.0)]), cols=2, scale=1, pad=1
    )
    assert grid.shape == (4, 7, 3)
    assert (grid[1:3, 1:3] == 0).all() and (grid[1:3, 4:6] == 255).all()


@pytest.mark.parametrize(
    "neural_id", ["gangames/MixtureGAN-v0", "gangames/DigitsGAN-v0"]
)
def test_neural_games_render_rgb_arrays_and_pngs(neural_id, tmp_path):
    env = gangames.make(neural_id, render_mode="rgb_array", width=8, batch=2)
    assert env.render() is None  # before reset
    env.reset(seed=0)
    img = env.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[-1] == 3
    assert (img != 255).any()
    assert np.array_equal(_read_png(env.save_png(tmp_path / "x.png")), img)
    aec = gangames.make(neural_id, order="sequential", render_mode="rgb_array", width=8)
    aec.reset(seed=0)
    assert aec.render().shape == img.shape


def test_games_that_cannot_draw_refuse_rgb_array():
    with pytest.raises(InvalidConfigError, match="rgb_array"):
        gangames.make("gangames/Quadratic-v0", render_mode="rgb_array")


@pytest.mark.parametrize(
    ("name", "modes"),
    [
        ("gangames/Quadratic-v0", ["ansi"]),
        ("gangames/MixtureGAN-v0", ["ansi", "rgb_array"]),
    ],
)
def test_metadata_lists_the_render_modes_of_its_game(name, modes):
    assert gangames.make(name).metadata["render_modes"] == modes
    aec = gangames.make(name, order="sequential")
    assert aec.metadata["render_modes"] == modes
    view = gymnasium.make(view_id(name, "generator"), mode="step_size")
    assert view.unwrapped.metadata["render_modes"] == modes


def test_render_modes_a_game_refuses_raise_a_type_error_too():
    """SB3's make_vec_env asks for rgb_array and falls back on a TypeError only."""
    for mode in ("rgb_array", "human"):
        with pytest.raises(RenderModeError, match=mode) as err:
            gangames.make("gangames/Quadratic-v0", render_mode=mode)
        assert isinstance(err.value, TypeError) and isinstance(err.value, ValueError)
    with pytest.raises(TypeError, match="rgb_array"):
        gymnasium.make("gangames/DiracGAN-generator-v0", render_mode="rgb_array")


def test_views_render_what_their_game_draws():
    view = gymnasium.make(
        "gangames/MixtureGAN-generator-v0",
        render_mode="rgb_array",
        width=8,
        mode="step_size",
    )
    assert view.unwrapped.render() is None  # before reset
    view.reset(seed=0)
    img = view.render()
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[-1] == 3
    ansi = gymnasium.make("gangames/DiracGAN-generator-v0", render_mode="ansi")
    ansi.reset(seed=0)
    assert ansi.render().startswith("step 0")


@pytest.mark.parametrize(
    ("view_id", "render_mode"),
    [
        ("gangames/DiracGAN-generator-v0", None),
        ("gangames/MixtureGAN-discriminator-v0", "rgb_array"),
    ],
)
def test_sb3_make_vec_env_builds_views(view_id, render_mode):
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    kwargs = {"opponent": "extragradient", "max_steps": 3}
    if "Mixture" in view_id:
        kwargs.update(width=8, mode="step_size")
    vec = env_util.make_vec_env(view_id, n_envs=4, seed=0, env_kwargs=kwargs)
    assert vec.num_envs == 4
    assert vec.get_attr("render_mode") == [render_mode] * 4
    obs = vec.reset()
    actions = np.zeros((4, *vec.action_space.shape), dtype=np.float32)
    obs, rewards, _, _ = vec.step(actions)
    assert obs.shape[0] == 4 and rewards.shape == (4,) and np.isfinite(rewards).all()
    vec.close()
