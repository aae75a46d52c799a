"""float NCHW → uint8 → PNG, grids, determinism."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from service import imaging


def _decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_to_uint8_maps_the_range_and_rounds():
    x = np.array([-1.0, -2.0, 1.0, 3.0, 0.0, np.nan, 0.5], np.float32).reshape(1, 1, 1, 7)
    out = imaging.to_uint8(x)
    assert out.shape == (1, 1, 7, 1) and out.dtype == np.uint8
    assert out.ravel().tolist() == [0, 0, 255, 255, 128, 0, 191]  # 127.5 → 128, 191.25 → 191


def test_to_uint8_rejects_other_ranks():
    with pytest.raises(ValueError):
        imaging.to_uint8(np.zeros((2, 3, 4), np.float32))


def test_png_modes_and_sizes():
    gray = _decode(imaging.encode_grid(np.zeros((1, 1, 5, 7), np.float32)))
    rgb = _decode(imaging.encode_grid(np.zeros((1, 3, 5, 7), np.float32)))
    assert (gray.mode, gray.size) == ("L", (7, 5))
    assert (rgb.mode, rgb.size) == ("RGB", (7, 5))


def test_png_round_trips_pixels():
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 4, 4)).astype(np.float32)
    img = _decode(imaging.encode_grid(x))
    assert np.array_equal(np.asarray(img), imaging.to_uint8(x)[0])


def test_png_is_minimal_with_valid_checksums():
    x = np.random.default_rng(2).uniform(-1, 1, (1, 1, 28, 28)).astype(np.float32)
    data = imaging.encode_each(x)[0]
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    kinds, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert data[pos + 8 + length : pos + 12 + length] == struct.pack(">I", zlib.crc32(kind + body)), kind
        kinds.append(kind)
        pos += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]  # no time or text chunks: equal pixels, equal bytes
    assert np.array_equal(np.asarray(_decode(data))[..., None], imaging.to_uint8(x)[0])


def test_encode_each_is_png_bytes_of_each_tile():
    x = np.random.default_rng(4).uniform(-1.2, 1.2, (5, 3, 6, 9)).astype(np.float32)
    assert imaging.encode_each(x) == [imaging.png_bytes(tile) for tile in imaging.to_uint8(x)]


def test_png_bytes_are_deterministic():
    x = np.random.default_rng(1).uniform(-1, 1, (3, 1, 8, 8)).astype(np.float32)
    assert imaging.encode_each(x) == imaging.encode_each(x.copy())
    assert imaging.encode_grid(x) == imaging.encode_grid(x.copy())


@pytest.mark.parametrize(("n", "cols", "rows"), [(1, 1, 1), (2, 2, 1), (4, 2, 2), (5, 3, 2), (10, 4, 3), (16, 4, 4)])
def test_grid_has_ceil_sqrt_columns(n, cols, rows):
    tiles = np.zeros((n, 3, 2, 1), np.uint8)
    assert imaging.grid(tiles).shape == (rows * 3, cols * 2, 1)


def test_grid_is_row_major_with_black_fill():
    tiles = np.stack([np.full((2, 2, 1), i + 1, np.uint8) for i in range(5)])
    g = imaging.grid(tiles)[:, :, 0]
    assert g[0, 0] == 1 and g[0, 2] == 2 and g[0, 4] == 3 and g[2, 0] == 4 and g[2, 2] == 5 and g[2, 4] == 0


@pytest.mark.parametrize(("n", "columns"), [(1, None), (5, None), (7, 3), (64, None), (3, 8)])
def test_grid_places_tile_i_at_row_i_div_cols(n, columns):
    tiles = np.random.default_rng(n).integers(0, 256, (n, 3, 4, 3), dtype=np.uint8)
    g, cols = imaging.grid(tiles, columns), imaging.grid_columns(n, columns)
    for i in range(n):
        r, k = divmod(i, cols)
        assert np.array_equal(g[r * 3 : (r + 1) * 3, k * 4 : (k + 1) * 4], tiles[i])
    assert g.sum() == tiles.astype(int).sum()  # the empty cells are black


def test_grid_columns_override():
    tiles = np.zeros((6, 2, 2, 1), np.uint8)
    assert imaging.grid(tiles, columns=6).shape == (2, 12, 1)
    assert imaging.grid(tiles, columns=100).shape == (2, 12, 1)  # capped at n
    assert imaging.grid_columns(6, 4) == 4


def test_b64_is_ascii_base64():
    assert imaging.b64(b"\x89PNG") == "iVBORw=="
