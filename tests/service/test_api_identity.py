"""Byte identity under load: many concurrent mixed requests, each image compared with its lone twin.

The test server batches up to 16 images and waits up to 20 ms, so these requests are merged
into shared model runs and split into chunks; every image must still equal the single image
of its own seed, computed when the server is otherwise idle.
"""

import asyncio
import random
import re
from typing import Any

import httpx

from .helpers import single


async def _post(c: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    for _ in range(50):  # the queue bound may refuse a burst: retry like a client would
        r = await c.post(path, json=body | {"format": "json"})
        if r.status_code != 503:
            assert r.status_code == 200, r.text
            return r.json()
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} stayed overloaded")


def _requests(server) -> list[tuple[str, dict[str, Any], list[tuple[str, int, int | None]]]]:
    """(path, body, expected (model, seed, label-or-None) per image; None image = not checked)."""
    rnd = random.Random(1234)
    unc, cond, info = (server.find(k)["name"] for k in ("unconditional", "conditional", "infogan"))
    out = []
    for _ in range(6):
        for model in (unc, cond, info):
            seed, n = rnd.randrange(2**32), rnd.choice([1, 2, 3, 7, 16, 21])
            out.append(
                ("/generate", {"model": model, "seed": seed, "n": n}, [(model, seed + i, None) for i in range(n)])
            )
        seed, n = rnd.randrange(2**32 - 40), rnd.randrange(1, 12)
        out.append(
            ("/generate", {"model": cond, "seed": seed, "n": n, "label": 6}, [(cond, seed + i, 6) for i in range(n)])
        )
        a, b = rnd.randrange(1000), rnd.randrange(1000)
        steps = rnd.randrange(2, 10)
        expect = [(unc, a, None)] + [None] * (steps - 2) + [(unc, b, None)]
        out.append(("/interpolate", {"model": unc, "seed_a": a, "seed_b": b, "steps": steps}, expect))
        s = rnd.randrange(1000)
        out.append(("/arithmetic", {"model": cond, "terms": [{"seeds": [s], "weight": 1}]}, [(cond, s, None)]))
    return out


def test_concurrent_mixed_requests_match_single_images(server, client):
    plan = _requests(server)
    before = _batch_stats(client.get("/metrics").text)

    async def main():
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as c:
            return await asyncio.gather(*(_post(c, path, body) for path, body, _ in plan))

    bodies = asyncio.run(main())
    after = _batch_stats(client.get("/metrics").text)
    runs, images = after[0] - before[0], after[1] - before[1]
    assert images > runs, "no two images ever shared a model run: the test did not exercise batching"

    checked = 0
    for (_, _, expect), body in zip(plan, bodies, strict=True):
        assert len(body["images"]) == len(expect)
        for want, got in zip(expect, body["images"], strict=True):
            if want is None:
                continue
            model, seed, label = want
            extra = {} if label is None else {"label": label}
            assert got["png"] == single(client, model, seed % 2**32, **extra), (model, seed, label)
            checked += 1
    assert checked > 100


def _batch_stats(metrics: str) -> tuple[float, float]:
    """(model runs, images) summed over models, from the batch-size histogram."""
    count = sum(float(v) for v in re.findall(r"^gan_batch_size_images_count\{[^}]*\} (\S+)$", metrics, re.M))
    total = sum(float(v) for v in re.findall(r"^gan_batch_size_images_sum\{[^}]*\} (\S+)$", metrics, re.M))
    return count, total


def test_n_images_equal_n_singles_sequentially(server, client):
    for kind in ("unconditional", "conditional", "infogan"):
        name = server.find(kind)["name"]
        body = client.post("/generate", json={"model": name, "seed": 1000, "n": 20, "format": "json"}).json()
        assert [im["png"] for im in body["images"]] == [single(client, name, 1000 + i) for i in range(20)]
