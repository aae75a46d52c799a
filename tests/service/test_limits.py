"""Request limits of a real server with lowered GAN_MAX_* settings: a clear 422 naming the field, the
lowered bounds in the OpenAPI document, 413 past the body limit, 408 for a body that never arrives,
and neither slow nor abandoned clients holding a place in a batch."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time

import httpx
import pytest

from service.settings import Settings

from .conftest import TINY_KINDS, write_tiny_model
from .launch import Launched, serving, write_slow_model

LIMITS = {"max_n": 8, "max_steps": 5, "max_sweep": 4, "max_terms": 2, "max_term_seeds": 3}
MAX_PIXELS = 4096  # 4 images of the 32×32 model
BODY_BYTES = 2048
BODY_TIMEOUT_S = 1.0
MAX_BATCH = 16
AHEAD = 80  # requests of 8 images queued before the abandoned ones: 40 runs of the slow model


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory):
    models = tmp_path_factory.mktemp("limit_models")
    for name in ("tiny-dcgan", "tiny-infogan"):
        write_tiny_model(models, name, **TINY_KINDS[name])
    write_tiny_model(models, "tiny-32", size=32)
    write_slow_model(models)
    log = tmp_path_factory.mktemp("limited") / "server.log"
    settings = LIMITS | {"max_pixels": MAX_PIXELS, "max_body_bytes": BODY_BYTES, "body_timeout_s": BODY_TIMEOUT_S}
    with serving(models, log, max_batch=MAX_BATCH, **settings) as server:
        yield server


def _loc_and_msg(r: httpx.Response) -> tuple[list, str]:
    assert r.status_code == 422, r.text
    error = r.json()["detail"][0]
    return error["loc"], error["msg"]


CASES = [
    ("/generate", {"model": "tiny-dcgan", "n": 9}, {"n": 8}, ["body", "n"], "GAN_MAX_N"),
    (
        "/interpolate",
        {"model": "tiny-dcgan", "seed_a": 1, "seed_b": 2, "steps": 6},
        {"steps": 5},
        ["body", "steps"],
        "GAN_MAX_STEPS",
    ),
    (
        "/infogan",
        {"model": "tiny-infogan", "seed": 1, "sweep": {"code": "categorical", "values": [0, 1, 2, 3, 4]}},
        {"sweep": {"code": "categorical", "values": [0, 1, 2, 3]}},
        ["body", "sweep", "values"],
        "GAN_MAX_SWEEP",
    ),
    (
        "/arithmetic",
        {"model": "tiny-dcgan", "terms": [{"seeds": [1]}] * 3},
        {"terms": [{"seeds": [1]}] * 2},
        ["body", "terms"],
        "GAN_MAX_TERMS",
    ),
    (
        "/arithmetic",
        {"model": "tiny-dcgan", "terms": [{"seeds": [1, 2, 3, 4]}]},
        {"terms": [{"seeds": [1, 2, 3]}]},
        ["body", "terms", "0", "seeds"],
        "GAN_MAX_TERM_SEEDS",
    ),
]


@pytest.mark.parametrize(("path", "over", "at", "loc", "variable"), CASES)
def test_counts_past_the_settings_are_422_naming_field_and_setting(limited, path, over, at, loc, variable):
    with limited.client() as c:
        got_loc, msg = _loc_and_msg(c.post(path, json=over))
        assert got_loc == loc and variable in msg and "at most" in msg
        assert c.post(path, json=over | at).status_code == 200


PIXEL_CASES = [  # 32×32 images: four fit in MAX_PIXELS, and a PNG grid counts its empty cells too
    ({"n": 4, "format": "json"}, 200),
    ({"n": 5, "format": "json"}, 422),
    ({"n": 4}, 200),
    ({"n": 4, "columns": 3}, 422),
    ({"n": 3, "columns": 2}, 200),
]


@pytest.mark.parametrize(("body", "status"), PIXEL_CASES)
def test_answers_past_max_pixels_are_422(limited, body, status):
    with limited.client() as c:
        r = c.post("/generate", json={"model": "tiny-32"} | body)
    assert r.status_code == status, r.text
    if status == 422:
        loc, msg = _loc_and_msg(r)
        assert loc == ["body", "n"] and "GAN_MAX_PIXELS" in msg


def test_openapi_shows_the_lowered_limits(limited):
    schemas = httpx.get(f"{limited.url}/openapi.json").json()["components"]["schemas"]
    assert schemas["GenerateRequest"]["properties"]["n"]["maximum"] == 8
    assert schemas["InterpolateRequest"]["properties"]["steps"]["maximum"] == 5
    sweep = schemas.get("Sweep-Input", schemas.get("Sweep"))
    assert sweep["properties"]["values"]["maxItems"] == 4
    assert schemas["ArithmeticRequest"]["properties"]["terms"]["maxItems"] == 2
    assert schemas["ArithmeticTerm"]["properties"]["seeds"]["maxItems"] == 3


def test_bodies_past_the_limit_are_413_with_or_without_content_length(limited):
    big = json.dumps({"model": "x" * BODY_BYTES}).encode()
    with limited.client() as c:
        r = c.post("/generate", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and str(BODY_BYTES) in r.json()["detail"]
        parts = iter([big[:1000], big[1000:]])
        chunked = c.post("/generate", content=parts, headers={"content-type": "application/json"})
        assert chunked.status_code == 413 and chunked.request.headers["transfer-encoding"] == "chunked"


def _raw(limited: Launched) -> tuple[str, int]:
    host, port = limited.url.removeprefix("http://").split(":")
    return host, int(port)


def test_a_slow_body_gets_408_and_holds_no_batch_place(limited):
    host, port = _raw(limited)
    with socket.create_connection((host, port)) as slow:
        slow.sendall(b"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        started = time.monotonic()
        with limited.client() as c:  # meanwhile other requests are served at once
            r = c.post("/generate", json={"model": "tiny-dcgan", "n": 8})
            assert r.status_code == 200 and time.monotonic() - started < BODY_TIMEOUT_S
        slow.settimeout(BODY_TIMEOUT_S + 10)
        answer = b"".join(iter(lambda: slow.recv(65536), b"")).decode()  # until the server closes
        waited = time.monotonic() - started
    assert answer.startswith("HTTP/1.1 408") and "not received within" in answer, answer
    assert BODY_TIMEOUT_S * 0.9 <= waited < BODY_TIMEOUT_S + 5


def _seen(server: Launched, model: str) -> float:
    """Rows of `model` queued or run so far. While the model is busy its thread holds two batches (PIPELINE), so
    every row that has arrived is counted here but those two batches'."""
    text = httpx.get(f"{server.url}/metrics", timeout=30).text
    queued = float(re.search(rf'^gan_queue_depth_images\{{model="{model}"\}} (\S+)$', text, re.M).group(1))
    return queued + server.images_run()


async def _until_seen(server: Launched, rows: float) -> None:
    started = time.monotonic()
    while _seen(server, "tiny-slow") < rows:
        assert time.monotonic() - started < 10, f"fewer than {rows} rows ever reached the queue"
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("when", ["on arrival", "once queued"])
def test_abandoned_requests_are_dropped_before_inference(limited, when):
    """Clients that hang up (as their request arrives, or while it waits behind other work in the model's queue)
    have none of their images computed."""
    host, port = _raw(limited)
    body = json.dumps({"model": "tiny-slow", "n": 8}).encode()
    head = (
        f"POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    before = limited.images_run()
    ahead_rows = AHEAD * 8 - 2 * MAX_BATCH  # counted by _seen once every request ahead has arrived

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=limited.url, timeout=60) as c:
            ahead = [
                asyncio.create_task(c.post("/generate", json={"model": "tiny-slow", "n": 8})) for _ in range(AHEAD)
            ]
            await _until_seen(limited, before + ahead_rows)  # the abandoned rows will queue behind all of them
            writers = []
            for _ in range(20):
                _, writer = await asyncio.open_connection(host, port)
                writer.write(head.encode() + body)
                await writer.drain()
                writers.append(writer)
                if when == "on arrival":
                    writer.close()
            if when == "once queued":
                await _until_seen(limited, before + ahead_rows + 20 * 8)
            for writer in writers:
                writer.close()  # hang up without reading the answer
                await writer.wait_closed()
            return await asyncio.gather(*ahead)

    assert [r.status_code for r in asyncio.run(main())] == [200] * AHEAD
    # A batch is counted when it ends, so undropped work still running would not show yet: one more request, queued
    # behind whatever is left, is answered only after every batch before it has ended; then count (its own 8 too).
    assert httpx.post(f"{limited.url}/generate", json={"model": "tiny-slow", "n": 8}, timeout=60).status_code == 200
    deadline = time.monotonic() + 5
    while limited.images_run() - before < AHEAD * 8 + 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert limited.images_run() - before == AHEAD * 8 + 8


def test_many_concurrent_abandoned_clients_leave_the_server_healthy(limited):
    async def hang_up() -> None:
        async with httpx.AsyncClient(base_url=limited.url) as c:
            tasks = [asyncio.create_task(c.post("/generate", json={"model": "tiny-slow", "n": 8})) for _ in range(40)]
            await asyncio.sleep(0.05)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(hang_up())
    with limited.client() as c:
        assert c.post("/generate", json={"model": "tiny-dcgan"}).status_code == 200
        assert c.get("/healthz").status_code == 200
    assert limited.proc.poll() is None


def test_the_default_limits_are_the_apis_own():
    s = Settings(_env_file=None)
    assert (s.max_n, s.max_steps, s.max_sweep, s.max_terms, s.max_term_seeds) == (256, 64, 64, 8, 16)
