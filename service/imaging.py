"""Generator output → 8-bit images → PNG bytes, grids and base64.

Encoding is deterministic (fixed zlib level, no timestamps or text chunks), which is what
lets the byte-identity rules of the API be checked on PNG bytes.

PNGs are written here rather than by Pillow: the minimal form (IHDR, one IDAT, IEND, filter type 0
on every row) costs a third of Pillow's time for a 28×28 image (about 17 vs 45 µs, paid on the event
loop by every n=1 request) and compresses these mostly-black digits better than Pillow's adaptive
filters (266 vs 344 bytes on average for mnist-dcgan; an 8×8 grid: 14.6 vs 14.8 KB, 1.4 vs 2.4 ms).
"""

from __future__ import annotations

import base64
import math
import struct
import zlib

import numpy as np

PNG_COMPRESS_LEVEL = 6  # fixed, so equal pixels always give equal bytes
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 3: 2}  # channels → PNG colour type: grayscale, truecolour


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float [-1, 1] (N, C, H, W) → uint8 (N, H, W, C) via round((x + 1) * 127.5), clipped.

    NaN and -inf become 0, +inf 255. Clamping to [-1, 1] first (fmax drops NaN for -1) gives
    the same bytes as nan_to_num + clip in a third of the time, which counts at one image per request.
    Every step after the first writes into the same array: for 64 MNIST images 56 µs instead of 300 with a
    temporary per step.
    """
    if images.ndim != 4:
        raise ValueError(f"expected (N, C, H, W), got shape {images.shape}")
    x = np.fmax(images.astype(np.float32, copy=False), np.float32(-1.0))
    np.minimum(x, np.float32(1.0), out=x)
    np.add(x, np.float32(1.0), out=x)
    np.multiply(x, np.float32(127.5), out=x)
    np.rint(x, out=x)
    n, c, h, w = x.shape
    out = np.empty((n, h, w, c), dtype=np.uint8)
    np.copyto(out, x.transpose(0, 2, 3, 1), casting="unsafe")  # whole numbers in [0, 255]: exact
    return out


def grid_columns(n: int, columns: int | None = None) -> int:
    """Columns of a grid of `n` tiles: as asked (capped at n), else ceil(sqrt(n))."""
    if n < 1:
        raise ValueError("a grid needs at least one image")
    return max(1, min(columns, n)) if columns else math.ceil(math.sqrt(n))


def grid(tiles: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Row-major grid of uint8 (N, H, W, C) tiles, without gaps; empty cells are black."""
    n, h, w, c = tiles.shape
    cols = grid_columns(n, columns)
    rows = math.ceil(n / cols)
    cells = np.zeros((rows * cols, h, w, c), dtype=np.uint8)
    cells[:n] = tiles
    return cells.reshape(rows, cols, h, w, c).transpose(0, 2, 1, 3, 4).reshape(rows * h, cols * w, c)


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


_IEND = _chunk(b"IEND", b"")
_IDAT_CRC = zlib.crc32(b"IDAT")


def _scanlines(tiles: np.ndarray) -> np.ndarray:
    """uint8 (N, H, W, C) → (N, H, 1 + W·C): each row its filter type byte (0, None), then its pixels."""
    n, h, w, c = tiles.shape
    rows = np.zeros((n, h, 1 + w * c), dtype=np.uint8)
    rows[:, :, 1:] = tiles.reshape(n, h, w * c)
    return rows


def _header(h: int, w: int, c: int) -> bytes:
    """Signature and IHDR: depth 8, grayscale or truecolour, deflate, no interlace."""
    if c not in _COLOUR_TYPE:
        raise ValueError(f"expected 1 or 3 channels, got {c}")
    return _SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, _COLOUR_TYPE[c], 0, 0, 0))


def _png(header: bytes, scanlines: np.ndarray) -> bytes:
    """One PNG from its header and its (H, 1 + W·C) scanlines: one IDAT at the fixed level, then IEND."""
    idat = zlib.compress(scanlines.data, PNG_COMPRESS_LEVEL)  # .data: numpy types ndarray a Buffer on 3.12+ only
    size, crc = struct.pack(">I", len(idat)), struct.pack(">I", zlib.crc32(idat, _IDAT_CRC))
    return b"".join((header, size, b"IDAT", idat, crc, _IEND))


def png_bytes(tile: np.ndarray) -> bytes:
    """One uint8 (H, W, C) image → 8-bit PNG: grayscale (mode L) for one channel, RGB for three."""
    if tile.dtype != np.uint8 or tile.ndim != 3 or tile.shape[2] not in (1, 3):
        raise ValueError(f"expected (H, W, 1|3) uint8, got shape {tile.shape}")
    return _png(_header(*tile.shape), _scanlines(tile[None])[0])


def encode_each(images: np.ndarray) -> list[bytes]:
    """Float (N, C, H, W) generator output → one PNG per image. The header and the scanlines of all the
    images are built once, leaving each image its compression: 1.65 instead of 2.1 ms for 64 MNIST images."""
    tiles = to_uint8(images)
    header = _header(*tiles.shape[1:])
    return [_png(header, rows) for rows in _scanlines(tiles)]


def encode_grid(images: np.ndarray, columns: int | None = None) -> bytes:
    """Float (N, C, H, W) → one PNG: the image itself when N == 1, else a grid."""
    tiles = to_uint8(images)
    return png_bytes(tiles[0] if len(tiles) == 1 else grid(tiles, columns))


def b64(data: bytes) -> str:
    """Standard base64 text of PNG bytes, for JSON bodies."""
    return base64.b64encode(data).decode("ascii")
