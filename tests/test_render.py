"""rgb_array rendering of the neural games and the PNG writer."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

import gangames
from gangames.errors import InvalidConfigError
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
