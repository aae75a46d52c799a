"""GAN_WORKERS: two uvicorn workers behind one port, each a whole service with its own sessions and batcher.

Byte identity is per process, so it must hold whichever worker a request reaches: 32 concurrent clients send
multi-image requests and the single images they are made of, over fresh connections so the kernel spreads
them over both workers, and every image must equal its single. Both workers must have served (/metrics names
the worker that answers, gan_worker{pid}), and SIGTERM to the parent drains both and exits 0.
"""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path

import httpx
import pytest

from .conftest import real_manifests
from .launch import Launched, serving

CLIENTS = 32
MODEL_KINDS = ("mnist-dcgan", "mnist-cgan")


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory, tiny_models_dir: Path):
    root = tmp_path_factory.mktemp("workers_models")
    real = {m["name"]: m["_folder"] for m in real_manifests() if m["name"] in MODEL_KINDS}
    for name, folder in real.items():
        (root / name).symlink_to(folder, target_is_directory=True)
    (root / "tiny-cgan").symlink_to(tiny_models_dir / "tiny-cgan", target_is_directory=True)
    log = tmp_path_factory.mktemp("workers") / "server.log"
    with serving(root, log, workers=2, max_batch=4, max_wait_ms=20) as server:
        yield server


def _pngs(r: httpx.Response) -> list[bytes]:
    assert r.status_code == 200, r.text
    return [base64.b64decode(image["png"]) for image in r.json()["images"]]


async def _sample(url: str, bodies: list[dict]) -> list[list[bytes]]:
    async def one(i: int, body: dict) -> list[bytes]:
        await asyncio.sleep(0.002 * (i % CLIENTS))
        async with httpx.AsyncClient(base_url=url, timeout=120) as c:  # its own connection
            return _pngs(await c.post("/generate", json=body | {"format": "json"}))

    limit = asyncio.Semaphore(CLIENTS)

    async def bounded(i: int, body: dict) -> list[bytes]:
        async with limit:
            return await one(i, body)

    return await asyncio.gather(*(bounded(i, b) for i, b in enumerate(bodies)))


def _workers_seen(url: str, tries: int = 200) -> dict[str, float]:
    """pid → /generate requests that worker counted, from /metrics scraped over fresh connections."""
    seen: dict[str, float] = {}
    for _ in range(tries):
        text = httpx.get(f"{url}/metrics", headers={"Connection": "close"}).text
        pid = re.search(r'^gan_worker\{pid="(\d+)"\} 1\.0$', text, re.M).group(1)  # type: ignore[union-attr]
        served = r'^gan_http_requests_total\{[^}]*route="/generate"[^}]*status="200"[^}]*\} (\S+)$'
        counts = re.findall(served, text, re.M)
        seen[pid] = sum(map(float, counts))
        if len(seen) == 2:
            break
    return seen


def test_byte_identity_holds_across_two_workers(two_workers: Launched):
    models = httpx.get(f"{two_workers.url}/models").json()["models"]
    bodies, expected = [], []
    for k, info in enumerate(models * 4):
        name, seed = info["name"], 1000 * k + 7
        label = {"label": 3} if info["conditional"] else {}
        bodies.append({"model": name, "seed": seed, "n": 5} | label)
        expected += [(len(bodies) - 1, i) for i in range(5)]
        bodies += [{"model": name, "seed": seed + i} | label for i in range(5)]
    answers = asyncio.run(_sample(two_workers.url, bodies))
    for start, i in expected:
        assert answers[start][i] == answers[start + 1 + i][0], (bodies[start], i)
    seen = _workers_seen(two_workers.url)
    assert len(seen) == 2 and all(count > 0 for count in seen.values()), seen  # both workers served
    assert two_workers.proc.poll() is None


def test_sigterm_drains_both_workers_and_exits_0(two_workers: Launched):
    pids = list(_workers_seen(two_workers.url))
    assert two_workers.stop() == 0
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists(), f"worker {pid} outlived the parent"
