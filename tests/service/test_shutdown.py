"""Graceful shutdown of a real server: SIGTERM turns /readyz 503, refuses new requests, completes every
request in flight, and the process exits 0 within GAN_SHUTDOWN_GRACE_S."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest

from .launch import start, wait_ready, write_slow_model

MAX_BATCH = 16  # every server here: they share one identity proof of the slow model (a start at 64 proves for 40 s)


@pytest.fixture(scope="module")
def slow_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    models = tmp_path_factory.mktemp("slow_models")
    write_slow_model(models)
    return models


def _exit_within(proc, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    code = proc.wait(timeout=seconds)
    return code, time.monotonic() - started


def test_sigterm_drains_in_flight_requests_and_refuses_new_ones(slow_models: Path, tmp_path: Path):
    server = start(slow_models, tmp_path / "server.log", max_batch=MAX_BATCH, shutdown_grace_s=30)
    try:
        wait_ready(server)

        async def main():
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
                body = {"model": "tiny-slow", "n": MAX_BATCH}
                inflight = [asyncio.create_task(c.post("/generate", json=body | {"seed": i})) for i in range(12)]
                await asyncio.sleep(0.3)  # all twelve are queued or running
                assert not all(t.done() for t in inflight)
                server.proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                async with httpx.AsyncClient(base_url=server.url, timeout=10) as fresh:
                    for _ in range(50):
                        ready = await fresh.get("/readyz")
                        if ready.status_code == 503:
                            break
                        await asyncio.sleep(0.02)
                    refused = await fresh.post("/generate", json={"model": "tiny-slow"})
                    health = await fresh.get("/healthz")
                done = await asyncio.gather(*inflight)
                return ready, refused, health, done, signalled

        ready, refused, health, done, signalled = asyncio.run(main())
        assert ready.status_code == 503 and ready.json()["status"] == "draining"
        assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1
        assert refused.headers["connection"] == "close" and "shutting down" in refused.json()["detail"]
        assert health.status_code == 200
        assert [r.status_code for r in done] == [200] * 12  # none lost
        code = server.proc.wait(timeout=30)
        assert code == 0, server.text()[-2000:]
        assert time.monotonic() - signalled < 30
        assert "draining" in server.text()
    finally:
        server.stop()


def test_the_grace_period_bounds_the_exit(slow_models: Path, tmp_path: Path):
    """More queued work than the grace period allows: the process still exits on time."""
    grace = 2.0
    server = start(slow_models, tmp_path / "server.log", max_batch=MAX_BATCH, shutdown_grace_s=grace)
    try:
        wait_ready(server)

        async def main() -> float:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as c:
                body = {"model": "tiny-slow", "n": MAX_BATCH}
                tasks = [asyncio.create_task(c.post("/generate", json=body | {"seed": i})) for i in range(80)]
                await asyncio.sleep(0.3)
                server.proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                await asyncio.to_thread(server.proc.wait, grace + 5)
                elapsed = time.monotonic() - signalled
                await asyncio.gather(*tasks, return_exceptions=True)
                return elapsed

        elapsed = asyncio.run(main())
        assert elapsed <= grace + 0.75, f"exited {elapsed:.2f}s after SIGTERM, grace {grace}s"
    finally:
        server.stop()


def test_an_idle_server_exits_at_once(slow_models: Path, tmp_path: Path):
    server = start(slow_models, tmp_path / "server.log", max_batch=MAX_BATCH)
    try:
        wait_ready(server)
        server.proc.send_signal(signal.SIGTERM)
        code, seconds = _exit_within(server.proc, 10)
        assert code == 0 and seconds < 1.5, (code, seconds)
    finally:
        server.stop()


def test_drain_delay_keeps_answering_503_for_load_balancers(slow_models: Path, tmp_path: Path):
    server = start(slow_models, tmp_path / "server.log", max_batch=MAX_BATCH, drain_delay_s=1.0)
    try:
        wait_ready(server)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        assert httpx.get(f"{server.url}/readyz").status_code == 503
        code, seconds = _exit_within(server.proc, 10)
        assert code == 0 and 0.3 <= seconds < 2.0, (code, seconds)
    finally:
        server.stop()
