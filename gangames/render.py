"""Plain-NumPy images for ``render_mode="rgb_array"`` and a dependency-free PNG writer.

Neural games draw themselves (:meth:`~gangames.game.Game.render_rgb`): MixtureGAN as
generated samples over the data, DigitsGAN as a grid of generated digits. Images are
``(H, W, 3)`` ``uint8`` arrays, as Gymnasium and PettingZoo expect from
``rgb_array``; :func:`save_png` writes one with the standard library only (zlib),
so rendering needs no plotting package.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["save_png", "scatter", "tile"]


def save_png(image: np.ndarray, path: str | Path) -> Path:
    """Write an ``(H, W, 3)`` or ``(H, W)`` ``uint8`` image as an 8-bit PNG.

    Example:
        >>> import tempfile, os
        >>> out = save_png(np.zeros((4, 5, 3), np.uint8), os.path.join(tempfile.mkdtemp(), "a.png"))
        >>> out.read_bytes()[:4] == bytes([137, 80, 78, 71])
        True
    """
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim not in (2, 3):
        raise ValueError(
            f"save_png expects a uint8 image (H, W) or (H, W, 3), got {img.dtype} {img.shape}"
        )
    if img.ndim == 3 and img.shape[-1] != 3:
        raise ValueError(f"save_png expects 3 channels, got {img.shape[-1]}")
    h, w = img.shape[:2]
    color = 2 if img.ndim == 3 else 0  # PNG colour type: truecolour or greyscale
    rows = img.reshape(h, -1)
    raw = b"".join(b"\x00" + rows[i].tobytes() for i in range(h))  # filter 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    out = Path(path)
    out.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
    return out


def scatter(
    layers: Sequence[tuple[np.ndarray, tuple[int, int, int]]],
    extent: tuple[float, float, float, float],
    size: int = 320,
    dot: int = 2,
) -> np.ndarray:
    """Point clouds ``(n, 2)`` drawn in order, each in its colour, on white.

    Args:
        layers: ``(points, (r, g, b))`` pairs; later layers draw on top.
        extent: ``(x_min, x_max, y_min, y_max)`` mapped onto the canvas.
        size: canvas side in pixels.
        dot: side of each point's square in pixels.
    """
    img = np.full((size, size, 3), 255, dtype=np.uint8)
    x0, x1, y0, y1 = extent
    for points, colour in layers:
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        p = p[np.isfinite(p).all(axis=1)]
        col = np.floor((p[:, 0] - x0) / (x1 - x0) * (size - dot)).astype(np.int64)
        row = np.floor((y1 - p[:, 1]) / (y1 - y0) * (size - dot)).astype(np.int64)
        keep = (col >= 0) & (col <= size - dot) & (row >= 0) & (row <= size - dot)
        for dr in range(dot):
            for dc in range(dot):
                img[row[keep] + dr, col[keep] + dc] = colour
    return img


def tile(images: np.ndarray, cols: int, scale: int = 4, pad: int = 2) -> np.ndarray:
    """A grid of greyscale images ``(n, h, w)`` with values in ``[−1, 1]`` (black ink).

    Each image is upscaled ``scale`` times (nearest neighbour) and framed by ``pad``
    grey pixels; value −1 is white paper and +1 black ink, as digits are drawn.
    """
    n, h, w = images.shape
    rows = -(-n // cols)
    cell_h, cell_w = h * scale + pad, w * scale + pad
    canvas = np.full((rows * cell_h + pad, cols * cell_w + pad), 160, dtype=np.uint8)
    grey = np.clip((1.0 - np.asarray(images, dtype=np.float64)) * 127.5, 0, 255)
    big = np.repeat(np.repeat(grey, scale, axis=1), scale, axis=2).astype(np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        top, left = pad + r * cell_h, pad + c * cell_w
        canvas[top : top + h * scale, left : left + w * scale] = big[k]
    return np.repeat(canvas[..., None], 3, axis=-1)
