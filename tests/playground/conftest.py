"""Fixtures: the real service on the real exported models, one headless Chromium, a fresh page per test.

Every page records what it asked for and what went wrong in its console, and a test fails if
the page reached anything but the service or logged an error. 4xx answers are allowed: the page
shows them (a model with no samples.png, a 422 naming the bad field).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.playground.harness import CHROMIUM, CHROMIUM_ARGS, models_dir, serve

if not shutil.which(CHROMIUM):
    raise RuntimeError(f"no Chromium at {CHROMIUM}: apt-get install chromium (see README)")

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CLIENT_ERROR = "Failed to load resource: the server responded with a status of 4"  # 404 samples, 422s: shown


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with models_dir() as models, serve(models, tmp_path_factory.mktemp("server") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def api(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def models(api: httpx.Client) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in api.get("/models").json()["models"]}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Module scope: Playwright's sync API holds an event loop open, which must be gone before other
    packages' tests call asyncio.run()."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageFactory:
    """Fresh pages (own context: no shared cache or history) that record requests and console errors."""

    def __init__(self, browser: Any, server_url: str) -> None:
        self.browser, self.server_url = browser, server_url
        self.contexts: list[Any] = []
        self.foreign: list[str] = []
        self.errors: list[str] = []

    def __call__(self, viewport: dict[str, int] = DESKTOP) -> Any:
        context = self.browser.new_context(viewport=viewport)
        self.contexts.append(context)
        page = context.new_page()
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        return page

    def _request(self, request: Any) -> None:
        if not request.url.startswith((self.server_url + "/", "data:")):
            self.foreign.append(request.url)

    def _console(self, message: Any) -> None:
        if message.type == "error" and not message.text.startswith(CLIENT_ERROR):
            self.errors.append(f"console: {message.text} at {message.location}")


@pytest.fixture
def new_page(browser: Any, server_url: str) -> Iterator[PageFactory]:
    factory = PageFactory(browser, server_url)
    yield factory
    for context in factory.contexts:
        context.close()
    assert not factory.foreign, f"the page fetched from outside the service: {factory.foreign}"
    assert not factory.errors, factory.errors


@pytest.fixture
def page(new_page: PageFactory) -> Any:
    return new_page()
