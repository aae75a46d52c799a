"""The lean POST /generate path answers exactly what FastAPI's route does, for valid and invalid bodies alike.

Two apps over the same tiny models, one with the fast path and one without it, get the same requests;
their statuses, bodies and headers must match, and the valid ones must have taken the fast path.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from fastapi import FastAPI

from service import deadline, fastpath
from service.app import create_app
from service.settings import Settings

JSON = "application/json"
HEADERS = ("content-type", "x-model", "x-seed", "x-label", "retry-after")

# (body, content type or None for no header, whether the fast path serves it)
CASES: list[tuple[bytes, str | None, bool]] = [
    (b'{"seed": 5}', JSON, True),
    (b'{"model": "tiny-dcgan", "n": 4, "seed": 4294967295, "format": "json"}', JSON, True),
    (b'{"model": "tiny-cgan", "n": 3, "seed": 1, "label": "c3"}', JSON, True),
    (b'{"model": "tiny-cgan", "seed": 2, "label": 4, "format": "json"}', JSON, True),
    (b'{"model": "tiny-rgb", "n": 5, "seed": 9, "columns": 2}', JSON, True),
    (b'{"model": null, "seed": 3, "columns": null, "label": null}', JSON, True),
    (b' {"n": 1, "n": 2, "seed": 3} ', JSON, True),  # duplicate keys: the last one counts in both parsers
    (b'{"model": "nope", "seed": 1}', JSON, True),  # 404 from the route
    (b'{"model": "tiny-dcgan", "seed": 1, "label": 3}', JSON, True),  # 422 from the route
    (b'{"model": "tiny-cgan", "seed": 1, "label": 10}', JSON, True),
    (b'{"model": "tiny-cgan", "seed": 1, "label": "c10"}', JSON, True),
    (b'{"n": 100, "seed": 1}', JSON, True),  # over GAN_MAX_N: 422 from limits
    (b'{"seed": 5}', "application/json; charset=utf-8", False),
    (b'{"seed": 5}', "application/vnd.example+json", False),
    (b'{"seed": 5}', None, False),
    (b'{"seed": 5}', "text/plain", False),
    (b'{"n": 0}', JSON, False),
    (b'{"n": "5"}', JSON, False),
    (b'{"n": 1.0, "seed": 2.0}', JSON, True),  # JSON's integer 1, as the OpenAPI document's `integer` reads it
    (b'{"n": 1e0, "seed": 3}', JSON, True),
    (b'{"n": 1.5}', JSON, False),
    (b'{"n": true}', JSON, False),
    (b'{"seed": -1}', JSON, False),
    (b'{"seed": 4294967296}', JSON, False),
    (b'{"seed": 1000000000000000000000000000000}', JSON, False),
    (b'{"seed": NaN}', JSON, False),
    (b'{"lable": 3}', JSON, False),
    (b'{"format": "gif"}', JSON, False),
    (b'{"model": "\\ud800", "seed": 1}', JSON, False),
    (b'{"columns": 0, "seed": 1}', JSON, False),
    (b"[]", JSON, False),
    (b'"seed"', JSON, False),
    (b"null", JSON, False),
    (b"", JSON, False),
    (b"{", JSON, False),
    (b"\xff", JSON, False),
    ('{"seed": 5}'.encode("utf-16"), JSON, False),
]


async def _answers(app: FastAPI, cases: list[tuple[bytes, str | None, bool]]) -> list[tuple[Any, ...]]:
    async with app.router.lifespan_context(app):
        while not app.state.service.ready:
            await asyncio.sleep(0.01)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            out = []
            for body, content_type, _ in cases:
                headers = {"content-type": content_type} if content_type else {}
                r = await client.post("/generate", content=body, headers=headers)
                out.append((r.status_code, r.content, [r.headers.get(h) for h in HEADERS]))
            return out


def _without_fast_path(app: FastAPI) -> FastAPI:
    app.user_middleware = [m for m in app.user_middleware if m.cls is not fastpath.GenerateFastPath]
    return app


@pytest.fixture(scope="module")
def settings(tiny_models_dir: Path) -> Settings:
    return Settings(models_dir=tiny_models_dir, default_model="tiny-dcgan", max_n=64, threads=1)


def test_the_fast_path_answers_as_fastapi_does(settings: Settings):
    with mock.patch.object(fastpath, "generate", wraps=fastpath.generate) as served:
        fast = asyncio.run(_answers(create_app(settings), CASES))
        assert served.call_count == sum(taken for _, _, taken in CASES)
    plain = asyncio.run(_answers(_without_fast_path(create_app(settings)), CASES))
    for case, got, want in zip(CASES, fast, plain, strict=True):
        assert got == want, case
    assert {status for status, _, _ in fast} >= {200, 404, 422}


def test_the_fast_path_keeps_the_deadline_and_the_route_label(settings: Settings):
    async def run() -> tuple[int, str]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            while not app.state.service.ready:
                await asyncio.sleep(0.01)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                r = await client.post("/generate", json={"seed": 1}, headers={"X-Deadline-Ms": "60000"})
                return r.status_code, (await client.get("/metrics")).text

    seen: list[float | None] = []

    def current() -> float | None:
        seen.append(real())
        return seen[-1]

    real = deadline.current
    with (
        mock.patch.object(deadline, "current", current),
        mock.patch.object(fastpath, "generate", wraps=fastpath.generate) as served,
    ):
        status, metrics = asyncio.run(run())
    assert status == 200 and served.call_count == 1
    assert seen and None not in seen  # ServiceState.sample saw the request's deadline
    assert 'gan_http_requests_total{method="POST",route="/generate",status="200"}' in metrics
