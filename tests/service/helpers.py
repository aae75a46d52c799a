"""Small client-side helpers shared by the HTTP tests."""

import base64
import io
from typing import Any

import httpx
import numpy as np
from PIL import Image


def decode(data: bytes | str) -> Image.Image:
    """PNG bytes (or base64 text) → a loaded Pillow image."""
    raw = base64.b64decode(data) if isinstance(data, str) else data
    img = Image.open(io.BytesIO(raw))
    img.load()
    assert img.format == "PNG"
    return img


def assert_image(img: Image.Image, info: dict[str, Any], cols: int = 1, rows: int = 1) -> None:
    """Mode and size as ModelInfo says (times the grid), and not blank."""
    shape = info["image"]
    assert img.mode == ("L" if shape["channels"] == 1 else "RGB")
    assert img.size == (cols * shape["width"], rows * shape["height"])
    assert np.asarray(img).std() > 1.0, "blank image"


def post_json(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(path, json=body | {"format": "json"})
    assert r.status_code == 200, r.text
    return r.json()


def pngs(client: httpx.Client, path: str, body: dict[str, Any]) -> list[str]:
    """The base64 PNGs of a JSON-format call."""
    return [im["png"] for im in post_json(client, path, body)["images"]]


def single(client: httpx.Client, model: str, seed: int, **extra: Any) -> str:
    """The base64 PNG of `/generate {seed, n: 1}`."""
    return pngs(client, "/generate", {"model": model, "seed": seed, **extra})[0]
