"""The playground on colour (issue #37), in Debian's Chromium: an outside RGB generator imported with
`python -m training import` shows colour images, byte for byte the API's, and the Your image view sends a colour
upload (transparent ground and all) to an RGB model's encoder and shows what the API answers."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.playground.test_playground import answer, sent, shown
from tests.playground.test_yourimage import open_view, run_done
from tests.service.launch import serving
from tests.service.outside import add_encoder, outside_generator
from training.__main__ import main as training_main

RGB = "outside-rgb"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own over one imported RGB model, given an outside encoder."""
    root = tmp_path_factory.mktemp("colour-models")
    source = outside_generator(root.parent / "rgb.onnx", channels=3, size=32, latent_dim=16)
    assert training_main(["import", str(source), "--name", RGB, "--out", str(root)]) == 0
    add_encoder(root / RGB)
    with serving(root, root.parent / "server.log", max_batch=4, threads=1, log_level="warning") as server:
        yield server.url


@pytest.fixture
def page(new_page: Any) -> Any:
    fresh = new_page()
    fresh.set_default_timeout(60_000)
    return fresh


@pytest.fixture(scope="module")
def api(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client


def rgb(png_b64: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(png_b64)))
    assert img.mode == "RGB", img.mode
    return img


def test_generate_shows_the_colour_images(page: Any, server_url: str, api: httpx.Client) -> None:
    open_view(page, server_url, "generate", f"model={RGB}&seed=5&n=4", '"seed":5')
    requests = sent(page)
    want = [im["png"] for path, body in requests for im in answer(api, path, body)["images"]]
    assert shown(page, "#view-generate .output img") == want
    assert rgb(want[0]).size == (32, 32)
    assert "32×32, RGB" in page.inner_text("body")


def test_your_image_sends_a_colour_upload(page: Any, server_url: str, api: httpx.Client, tmp_path: Path) -> None:
    upload = Image.new("RGBA", (90, 60), (0, 0, 0, 0))
    upload.paste((30, 90, 200, 255), (20, 10, 70, 50))
    path = tmp_path / "blue.png"
    upload.save(path)
    page.goto(f"{server_url}/#yourimage?model={RGB}&seed_b=3")
    page.wait_for_function("() => document.querySelector('#view-yourimage [role=alert]')?.textContent")
    run_done(page, lambda: page.set_input_files("#yi-file", str(path)), "/encode")
    requests = sent(page)
    assert requests[0][1]["image"] == base64.b64encode(path.read_bytes()).decode()
    encoded = answer(api, "/encode", requests[0][1])
    source, reconstruction = shown(page, "#view-yourimage .output .equation:first-child img")
    assert (source, reconstruction) == (encoded["source"], encoded["reconstruction"])
    pixels = rgb(source)
    assert pixels.getpixel((0, 0)) == (255, 255, 255) and pixels.getpixel((16, 16)) == (30, 90, 200)
