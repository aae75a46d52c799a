"""The "Your image" view (issue #21) in Debian's Chromium: a stroke drawn with the mouse is encoded, and what the
page shows is byte for byte what the API answers for the image the page sent."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.playground.harness import EXPORTED, REPO
from tests.playground.test_playground import after_run, answer, sent, shown
from tests.service.launch import serving


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own: the model with an encoder and one without, small batches, so it starts in seconds."""
    root = tmp_path_factory.mktemp("yourimage-models")
    for name in ("mnist-dcgan", "mnist-lsgan"):
        (root / name).symlink_to(EXPORTED / name, target_is_directory=True)
    with serving(root, root.parent / "server.log", max_batch=4, threads=1, log_level="warning") as server:
        yield server.url


@pytest.fixture
def page(new_page: Any) -> Any:
    """As conftest's, with a minute per wait: these tests share two cores with training runs."""
    fresh = new_page()
    fresh.set_default_timeout(60_000)
    return fresh


@pytest.fixture(scope="module")
def api(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def models(api: httpx.Client) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in api.get("/models").json()["models"]}


def open_view(page: Any, url: str, view: str, query: str, shows: str = "") -> None:
    """Load a permalink and wait for `view`'s run to finish with `shows` in its curl text. The views of issue #21
    live in their own scripts, which the browser may run after app.js opened another view first."""
    page.goto(f"{url}/#{view}?{query}")
    page.wait_for_function(
        """([v, text]) => { const s = document.querySelector('#view-' + v);
          return !s.hidden && Number(s.dataset.runs || 0) > 0 && s.dataset.state !== 'busy'
            && document.querySelector('#curl').textContent.includes(text); }""",
        arg=[view, shows],
    )


def run_done(page: Any, action: Any, shows: str) -> None:
    """Do `action`, then wait until the Your image view has drawn an answer whose requests include `shows`."""
    action()
    page.wait_for_function(
        """text => { const s = document.querySelector('#view-yourimage');
          return s.dataset.state === 'done' && document.querySelector('#curl').textContent.includes(text); }""",
        arg=shows,
    )


def draw_seven(page: Any) -> None:
    """A 7 in three mouse strokes' worth of moves: across the top, then down to the bottom left."""
    box = page.locator("#yi-canvas").bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.25 * w, y + 0.25 * h)
    page.mouse.down()
    for fx, fy in [(0.5, 0.25), (0.75, 0.25), (0.6, 0.5), (0.5, 0.65), (0.4, 0.8)]:
        page.mouse.move(x + fx * w, y + fy * h, steps=6)
    page.mouse.up()


def test_a_drawing_is_encoded_and_shown_as_the_api_answers(
    page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]
) -> None:
    assert models["mnist-dcgan"]["encoder"], "the committed mnist-dcgan has an encoder"
    page.goto(f"{server_url}/#yourimage?model=mnist-dcgan&seed_b=3&minus=1,2&plus=5")
    page.wait_for_function("() => document.querySelector('#view-yourimage [role=alert]')?.textContent")
    assert page.inner_text("#view-yourimage [role=alert]").startswith("draw a digit")  # nothing drawn yet
    run_done(page, lambda: draw_seven(page), "/encode")
    requests = sent(page)
    assert [path for path, _ in requests] == ["/encode", "/interpolate", "/arithmetic"]
    image = requests[0][1]["image"]
    drawn = Image.open(io.BytesIO(base64.b64decode(image)))
    assert drawn.size == (280, 280) and np.asarray(drawn.convert("L")).std() > 10  # the stroke is in the PNG sent
    encoded = answer(api, "/encode", requests[0][1])
    source, reconstruction = shown(page, "#view-yourimage .output .equation:first-child img")
    assert (source, reconstruction) == (encoded["source"], encoded["reconstruction"])
    walk = answer(api, "/interpolate", requests[1][1])
    assert shown(page, "#view-yourimage .output .strip img") == [im["png"] for im in walk["images"]]
    assert walk["images"][0]["png"] == encoded["reconstruction"]  # the walk starts at the drawing's latent
    terms = requests[2][1]["terms"]
    assert [t.get("seeds") for t in terms] == [None, [1, 2], [5]] and terms[0]["image"] == image
    result = answer(api, "/arithmetic", requests[2][1])["images"][0]["png"]
    assert shown(page, "#view-yourimage .output .equation:last-child figure:last-child img") == [result]


def test_an_upload_and_a_model_without_an_encoder(
    page: Any, server_url: str, api: httpx.Client, models: dict[str, dict[str, Any]]
) -> None:
    page.goto(f"{server_url}/#yourimage?model=mnist-dcgan&seed_b=3")
    page.wait_for_function("() => document.querySelector('#view-yourimage [role=alert]')?.textContent")
    digit: Path = REPO / "docs" / "examples" / "digit-7.png"
    run_done(page, lambda: page.set_input_files("#yi-file", str(digit)), "/encode")
    requests = sent(page)
    assert requests[0][1]["image"] == base64.b64encode(digit.read_bytes()).decode()
    encoded = answer(api, "/encode", requests[0][1])
    assert shown(page, "#view-yourimage .output .equation:first-child img")[1] == encoded["reconstruction"]
    other = next(name for name, m in models.items() if m["kind"] == "generator" and not m["encoder"])
    page.goto(f"{server_url}/#yourimage?model={other}")
    page.wait_for_function(
        "() => document.querySelector('#view-yourimage [role=alert]')?.textContent.includes('encoder')"
    )
    assert "has no encoder" in page.inner_text("#view-yourimage [role=alert]")
    assert "mnist-dcgan" in page.inner_text("#yi-encoders")


def test_psi_slider_truncates_every_sampling_view(page: Any, server_url: str, api: httpx.Client) -> None:
    """A permalink with psi sends truncation: ψ and shows the API's images; switching it off sends none."""
    fragments = {
        "generate": "seed=5&n=4",
        "interpolate": "seed_a=5&seed_b=6&steps=4",
        "arithmetic": "t=1,2:1:&t=3:-1:",
    }
    for view, query in fragments.items():
        open_view(page, server_url, view, f"model=mnist-dcgan&{query}&psi=0.60", '"truncation":0.6')
        requests = sent(page)
        assert all(body["truncation"] == 0.6 for _, body in requests), requests
        want = [im["png"] for path, body in requests for im in answer(api, path, body)["images"]]
        on_page = shown(page, f"#view-{view} .output img")
        assert want and all(png in on_page for png in want), view
        assert page.is_checked(f"#{view}-psi-on") and "psi=0.60" in page.url
    after_run(page, "arithmetic", lambda: page.uncheck("#arithmetic-psi-on"))
    assert all("truncation" not in body for _, body in sent(page)) and "psi=" not in page.url
