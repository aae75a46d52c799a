"""`GET /docs` (Swagger UI) and `/redoc` in a real browser that can reach nothing but the service.

Their JavaScript and CSS come from the service itself (fastapi-offline's copies), so the documentation
works air-gapped: every request to any other host is aborted here, and the `new_page` fixture fails the
test if the page even tried one.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.playground.conftest import PageFactory

REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def offline_page(new_page: PageFactory, server_url: str) -> Any:
    """A page whose requests to anything but the service are aborted (and recorded by `new_page`)."""
    page = new_page()

    def only_the_service(route: Any) -> None:
        if route.request.url.startswith(server_url + "/"):
            route.continue_()
        else:
            route.abort("internetdisconnected")

    page.route("**/*", only_the_service)
    return page


@pytest.fixture(scope="module")
def openapi(server_url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{server_url}/openapi.json", timeout=30).json())


def operations(openapi: dict[str, Any]) -> list[dict[str, Any]]:
    """Every documented operation, with its method and path."""
    paths = openapi["paths"].items()
    return [op | {"method": method.upper(), "path": path} for path, item in paths for method, op in item.items()]


def test_swagger_ui_lists_every_operation_offline(new_page: PageFactory, server_url: str, openapi: dict) -> None:
    page = offline_page(new_page, server_url)
    page.goto(f"{server_url}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    listed = page.eval_on_selector_all(
        ".opblock-summary",
        "els => els.map(e => [e.querySelector('.opblock-summary-method').textContent,"
        " e.querySelector('.opblock-summary-path').dataset.path])",
    )
    documented = {(op["method"], op["path"]) for op in operations(openapi)}
    assert {(m, p) for m, p in listed} == documented
    assert {"/generate", "/translate", "/v2/models/{name}/infer"} <= {p for _, p in documented}
    assert "GAN sampling service" in page.inner_text(".information-container")


def test_redoc_lists_every_operation_offline(new_page: PageFactory, server_url: str, openapi: dict) -> None:
    page = offline_page(new_page, server_url)
    with page.expect_event("requestfailed", lambda request: request.url == REDOC_LOGO, timeout=30_000):
        page.goto(f"{server_url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", state="attached", timeout=30_000)
    shown = page.eval_on_selector_all("[data-section-id^='operation/']", "els => els.map(e => e.dataset.sectionId)")
    assert set(shown) == {f"operation/{op['operationId']}" for op in operations(openapi)}
    assert "GAN sampling service" in page.inner_text("h1")
    # ReDoc 2's sidebar credit ("API docs by Redocly") is an <img> from its CDN that hides itself when it fails;
    # it is not part of the documentation, and the one request the page tries beyond the service.
    assert new_page.foreign == [REDOC_LOGO]
    [error] = new_page.errors
    assert "net::ERR_INTERNET_DISCONNECTED" in error and REDOC_LOGO in error
    new_page.foreign.clear()
    new_page.errors.clear()


def test_every_security_scheme_an_operation_names_is_declared(openapi: dict[str, Any]) -> None:
    """Else Swagger UI and ReDoc skip them with a warning, and /admin/reload shows no way to send a key."""
    named = {name for op in operations(openapi) for need in op.get("security", []) for name in need}
    assert named and named <= set(openapi["components"]["securitySchemes"])
