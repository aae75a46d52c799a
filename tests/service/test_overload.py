"""Overload and deadlines against a real server whose model is deliberately slow and whose queue is small.

Twice the measured capacity gets only 200s and 503s with Retry-After, the 200s keep a bounded p99,
/healthz keeps answering and the process stays up. A request whose X-Deadline-Ms passes while it is
queued gets 408 saying it was the client's deadline, and its images are never computed.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import httpx
import pytest

from .launch import Launched, serving, write_slow_model

QUEUE_IMAGES = 48
MAX_BATCH = 16
N = MAX_BATCH  # images per request in the load test: one batch each, so the model, not HTTP, is the bottleneck
MEASURE_S = 3.0
OVERLOAD_S = 8.0


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory):
    models = tmp_path_factory.mktemp("slow_models")
    write_slow_model(models)
    log = tmp_path_factory.mktemp("slow_server") / "server.log"
    with serving(models, log, max_batch=MAX_BATCH, max_wait_ms=5, queue_images=QUEUE_IMAGES) as server:
        yield server


async def _post(c: httpx.AsyncClient, body: dict, headers: dict | None = None) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    r = await c.post("/generate", json=body, headers=headers)
    return r, time.perf_counter() - started


async def _capacity(url: str) -> tuple[float, float]:
    """Requests per second with enough clients to keep the model busy, and the median latency alone."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        alone = [(await _post(c, {"model": "tiny-slow", "n": N, "seed": i}))[1] for i in range(5)]
        done = 0
        stop = time.perf_counter() + MEASURE_S

        async def worker(k: int) -> None:
            nonlocal done
            while time.perf_counter() < stop:
                r, _ = await _post(c, {"model": "tiny-slow", "n": N, "seed": k})
                assert r.status_code == 200, r.text
                done += 1

        await asyncio.gather(*(worker(k) for k in range(QUEUE_IMAGES // N)))
    return done / MEASURE_S, statistics.median(alone)


async def _open_loop(url: str, rate: float, seconds: float) -> tuple[list[tuple[httpx.Response, float]], list[float]]:
    """Send at `rate` per second whatever the answers, polling /healthz meanwhile."""
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
        health: list[float] = []

        async def probe() -> None:
            while time.perf_counter() < end:
                started = time.perf_counter()
                assert (await c.get("/healthz")).status_code == 200
                health.append(time.perf_counter() - started)
                await asyncio.sleep(0.2)

        async def scheduled(i: int) -> tuple[httpx.Response, float]:
            await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            return await _post(c, {"model": "tiny-slow", "n": N, "seed": i})

        t0 = time.perf_counter()
        end = t0 + seconds
        prober = asyncio.create_task(probe())
        results = await asyncio.gather(*(scheduled(i) for i in range(int(rate * seconds))))
        await prober
    return results, health


def test_twice_the_capacity_gets_200_or_503_with_bounded_latency(slow_server: Launched):
    rate, alone = asyncio.run(_capacity(slow_server.url))
    results, health = asyncio.run(_open_loop(slow_server.url, 2 * rate, OVERLOAD_S))
    codes = [r.status_code for r, _ in results]
    assert set(codes) <= {200, 503}, sorted(set(codes))
    ok = sorted(seconds for r, seconds in results if r.status_code == 200)
    refused = [r for r, _ in results if r.status_code == 503]
    # Overloaded, it still serves near its capacity: measured again after, the smaller of the two, as the other
    # test workers' load on the shared cores drifts between the two measurements and the overload
    after, _ = asyncio.run(_capacity(slow_server.url))
    assert refused and len(ok) / OVERLOAD_S >= 0.6 * min(rate, after), (len(ok), len(refused), rate, after)
    for r in refused:
        assert int(r.headers["retry-after"]) >= 1 and "queue full" in r.json()["detail"]
    # An accepted request waits for at most a full queue ahead of it (QUEUE_IMAGES / throughput) plus its own
    # run; the slack absorbs a busy CI machine. Without the bound the backlog would grow for the whole
    # OVERLOAD_S and the last requests would wait about that long.
    drain_s = QUEUE_IMAGES / (rate * N)
    bound = max(1.5, 3 * (drain_s + alone) + 0.5)
    assert bound < OVERLOAD_S / 2
    p99 = ok[int(0.99 * (len(ok) - 1))]
    assert p99 <= bound, f"p99 {p99:.3f}s over {bound:.3f}s (capacity {rate:.1f}/s, alone {alone:.3f}s)"
    assert health and max(health) < 2.0, health
    assert slow_server.proc.poll() is None
    assert httpx.get(f"{slow_server.url}/healthz").status_code == 200


def test_a_request_past_its_deadline_is_dropped_before_inference(slow_server: Launched):
    before = slow_server.images_run()

    async def main() -> tuple[httpx.Response, tuple[httpx.Response, float]]:
        async with httpx.AsyncClient(base_url=slow_server.url, timeout=60) as c:
            ahead = asyncio.create_task(c.post("/generate", json={"model": "tiny-slow", "n": 3 * MAX_BATCH}))
            await asyncio.sleep(0.03)  # a third of `ahead` runs, a third waits in the model's thread, a third queues
            late = await _post(c, {"model": "tiny-slow", "n": N, "seed": 1}, {"X-Deadline-Ms": "40"})
            return await ahead, late

    ahead, (late, seconds) = asyncio.run(main())
    assert ahead.status_code == 200
    assert late.status_code == 408, late.text
    assert late.json()["detail"].startswith("the client's deadline (X-Deadline-Ms: 40) passed before"), late.text
    assert seconds < 1.0
    time.sleep(0.2)
    assert slow_server.images_run() - before == 3 * MAX_BATCH  # the late request's images never ran


def test_a_deadline_that_is_met_changes_nothing(slow_server: Launched):
    with slow_server.client() as c:
        plain = c.post("/generate", json={"model": "tiny-slow", "seed": 5})
        timed = c.post("/generate", json={"model": "tiny-slow", "seed": 5}, headers={"X-Deadline-Ms": "30000"})
    assert plain.status_code == timed.status_code == 200 and plain.content == timed.content


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5", "99999999999", ""])
def test_a_malformed_deadline_is_422_naming_the_header(slow_server: Launched, value: str):
    with slow_server.client() as c:
        r = c.post("/generate", json={"model": "tiny-slow"}, headers={"X-Deadline-Ms": value})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["header", "X-Deadline-Ms"]


def test_the_slow_model_really_is_slow(slow_server: Launched):
    """Guards the premise of this module: one run takes long enough for queues to form."""
    with slow_server.client() as c:
        started = time.perf_counter()
        assert c.post("/generate", json={"model": "tiny-slow", "n": MAX_BATCH}).status_code == 200
    assert time.perf_counter() - started > 0.02
