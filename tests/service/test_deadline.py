"""The deadline middleware in-process: header parsing, the default deadline, POST-only scope, and whose deadline
a passed one was (408 the client's, 504 the server's)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from service import deadline
from service.deadline import DeadlineMiddleware, parse_ms
from service.errors import DeadlineExceeded


@pytest.mark.parametrize(
    ("raw", "ms"),
    [(b"1", 1), (b" 250 ", 250), (b"3600000", 3_600_000), (b"0", None), (b"3600001", None), (b"-1", None)],
)
def test_parse_ms(raw: bytes, ms: int | None):
    assert parse_ms(raw) == ms


@pytest.mark.parametrize("raw", [b"", b"1.5", b"1e3", b"abc", b"99999999999999999999", "٣".encode()])
def test_parse_ms_rejects_anything_but_digits(raw: bytes):
    assert parse_ms(raw) is None


async def _seen(app_default: int | None, method: str, headers: dict[str, str]) -> tuple[int, float | None]:
    """Status, and the budget in seconds the wrapped app saw (None: no deadline)."""
    seen: list[float | None] = []

    async def app(scope, receive, send):
        until = deadline.current()
        seen.append(None if until is None else until - asyncio.get_running_loop().time())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    transport = httpx.ASGITransport(app=DeadlineMiddleware(app, default_ms=app_default))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        r = await c.request(method, "/", headers=headers)
    return r.status_code, seen[0] if seen else None


def test_the_header_sets_the_budget_and_the_setting_is_the_default():
    status, budget = asyncio.run(_seen(None, "POST", {"X-Deadline-Ms": "500"}))
    assert status == 204 and budget is not None and 0.4 < budget <= 0.5
    status, budget = asyncio.run(_seen(2000, "POST", {}))
    assert status == 204 and budget is not None and 1.9 < budget <= 2.0
    assert asyncio.run(_seen(None, "POST", {})) == (204, None)


def test_get_requests_are_left_alone_and_bad_values_are_422():
    assert asyncio.run(_seen(None, "GET", {"X-Deadline-Ms": "nonsense"})) == (204, None)
    status, _ = asyncio.run(_seen(None, "POST", {"X-Deadline-Ms": "nonsense"}))
    assert status == 422


async def _expired(app_default: int | None, headers: dict[str, str]) -> tuple[int, str]:
    """What a request whose deadline passes is told: its status and detail, as the app's handler maps them."""

    async def app(scope, receive, send):
        error = deadline.expired("before tiny produced its images")
        assert isinstance(error, DeadlineExceeded)
        body = error.args[0].encode()
        await send({"type": "http.response.start", "status": error.status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    transport = httpx.ASGITransport(app=DeadlineMiddleware(app, default_ms=app_default))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        r = await c.post("/", headers=headers)
    return r.status_code, r.text


def test_whose_deadline_it_was_decides_the_status():
    """The client's own header: 408 naming it; the server's GAN_DEFAULT_DEADLINE_MS: 504 naming that."""
    assert asyncio.run(_expired(2000, {"X-Deadline-Ms": "40"})) == (
        408,
        "the client's deadline (X-Deadline-Ms: 40) passed before tiny produced its images",
    )
    assert asyncio.run(_expired(2000, {})) == (
        504,
        "the server's deadline (GAN_DEFAULT_DEADLINE_MS: 2000) passed before tiny produced its images",
    )
