"""The load generator: a closed-loop async HTTP client in its own process.

`python -m bench.load SPEC_JSON` runs every point of the spec in order, each against one of the
spec's servers (the bench interleaves them, so slow drift of the machine hits every contender
alike), and prints one JSON object per point. At each point, `concurrency` workers each hold one keep-alive
connection and send `POST path` back to back. There is a warm-up (not recorded; it lasts until every
connection has had its first answer too, bounded by the drain's time), then a measured window, then a drain:

- throughput counts the 200 answers that arrive inside the window, divided by its length;
- latency percentiles are over every request sent inside the window, including the ones
  answered during the drain, so slow answers are not left out;
- requests still open after the drain are cancelled and counted as `unfinished`.

The same process also reads its own CPU time and the server's (from /proc, its worker processes
included), which shows how much of this small machine the client took. With `"client": "wrk"` each
point is wrk's instead (`bench.wrk`): the same bodies, the same summary, wrk's CPU as the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import wrk

Send = Callable[[bytes], Awaitable[int]]  # posts one body, reads the whole answer, returns the status
SEED_STRIDE = 1_000_003  # seeds of different workers never meet
PRIME_REQUESTS = 5  # per request size, before the first point


@dataclass
class Sample:
    started: float
    finished: float
    status: int


@dataclass
class PointResult:
    samples: list[Sample] = field(default_factory=list)
    unfinished: int = 0
    failures: dict[str, int] = field(default_factory=dict)  # transport errors by exception name


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in [0, 100])."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds so far of a process and its children (GAN_WORKERS), from Linux /proc; or None."""
    if pid is None:
        return time.process_time()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError, ValueError):
        return None
    return own + sum(cpu_seconds(int(child)) or 0.0 for child in children)


def summarise(result: PointResult, n: int, window: tuple[float, float]) -> dict[str, Any]:
    """Throughput and latency of one point (see the module docstring for what counts)."""
    start, stop = window
    seconds = stop - start
    sent = [s for s in result.samples if start <= s.started < stop]
    ok = [s for s in sent if s.status == 200]
    done_in_window = sum(1 for s in result.samples if s.status == 200 and start <= s.finished <= stop)
    lat = sorted(1000 * (s.finished - s.started) for s in ok)
    statuses: dict[str, int] = {}
    for s in sent:
        if s.status != 200:
            statuses[str(s.status)] = statuses.get(str(s.status), 0) + 1
    return {
        "n": n,
        "window_s": seconds,
        "requests": len(ok),
        "req_per_s": done_in_window / seconds,
        "img_per_s": n * done_in_window / seconds,
        "latency_ms": {
            "p50": percentile(lat, 50),
            "p95": percentile(lat, 95),
            "p99": percentile(lat, 99),
            "mean": sum(lat) / len(lat) if lat else math.nan,
            "max": lat[-1] if lat else math.nan,
        },
        "non_200": statuses,
        "transport_errors": result.failures,
        "unfinished": result.unfinished,
    }


async def run_point(
    send: Send, body: Callable[[int], bytes], concurrency: int, warmup: float, duration: float, drain: float
) -> tuple[PointResult, tuple[float, float]]:
    """Closed loop: `concurrency` workers posting back to back until the window closes. The window opens once the
    warm-up has passed and every worker has had its first answer, so each worker sends inside it even where the
    first round of connections takes longer than the warm-up (high concurrency on a busy machine)."""
    result = PointResult()
    clock = time.perf_counter
    start = stop = math.inf  # set once the warm-up is over; the workers read `stop` as it is then
    answered_once = asyncio.Event()
    first_answers = 0

    async def worker(k: int) -> None:
        nonlocal first_answers
        i = 0
        while (t0 := clock()) < stop:
            try:
                status = await send(body(k * SEED_STRIDE + i))
            except Exception as exc:  # a refused or reset connection is a result, not a crash
                name = type(exc).__name__
                result.failures[name] = result.failures.get(name, 0) + 1
                status = 0
                await asyncio.sleep(0.01)
            result.samples.append(Sample(t0, clock(), status))
            if i == 0:
                first_answers += 1
                if first_answers == concurrency:
                    answered_once.set()
            i += 1

    tasks = [asyncio.ensure_future(worker(k)) for k in range(concurrency)]
    await asyncio.sleep(warmup)
    with contextlib.suppress(TimeoutError):  # a server that answers nobody still gets its window, and fails it
        await asyncio.wait_for(answered_once.wait(), drain)
    start = clock()
    stop = start + duration
    await asyncio.sleep(duration)
    _, pending = await asyncio.wait(tasks, timeout=drain)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    result.unfinished = len(pending)
    return result, (start, stop)


async def _httpx_sender(url: str, concurrency: int) -> tuple[Send, Callable[[], Awaitable[None]]]:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(120.0), http1=True, http2=False)
    headers = {"content-type": "application/json"}

    async def send(body: bytes) -> int:
        response = await client.post(url, content=body, headers=headers)
        return response.status_code

    return send, client.aclose


async def _aiohttp_sender(url: str, concurrency: int) -> tuple[Send, Callable[[], Awaitable[None]]]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120.0))
    headers = {"content-type": "application/json"}

    async def send(body: bytes) -> int:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    return send, session.close


SENDERS = {"httpx": _httpx_sender, "aiohttp": _aiohttp_sender}
BATCH_SERIES = ("gan_batch_size_images_sum", "gan_batch_size_images_count")


async def batch_totals(url: str | None) -> tuple[float, float] | None:
    """(images, batches) run so far, from the service's Prometheus text; None without a /metrics URL."""
    if url is None:
        return None
    import urllib.request

    text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read().decode())
    totals = dict.fromkeys(BATCH_SERIES, 0.0)
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in totals:
            totals[name] += float(line.rsplit(" ", 1)[1])
    return totals[BATCH_SERIES[0]], totals[BATCH_SERIES[1]]


def body_prefix(spec: dict[str, Any], n: int) -> str:
    """Every request body up to its seed: `{"model":...,"n":...,"seed":` (JSON format named only when asked)."""
    fmt = ',"format":"json"' if spec.get("format") == "json" else ""
    return f'{{"model":"{spec["model"]}","n":{n}{fmt},"seed":'


async def prime(url: str, spec: dict[str, Any], sizes: set[int], requests: int = PRIME_REQUESTS) -> None:
    """A few unrecorded requests of each size first, so lazy initialisation (allocator arenas,
    oneDNN kernels of a new shape) lands in no one's measurement."""
    send, close = await SENDERS.get(spec["client"], _httpx_sender)(url, 1)
    try:
        for n in sorted(sizes):
            for i in range(requests):
                await send(body_prefix(spec, n).encode() + f"{i}}}".encode())
    finally:
        await close()


async def measure(spec: dict[str, Any], target: dict[str, Any], n: int, concurrency: int) -> dict[str, Any]:
    """One load point against one server, with the CPU both sides used and the batch sizes it produced."""
    prefix = body_prefix(spec, n).encode()

    def body(seed: int) -> bytes:
        return prefix + str(seed % 2**32).encode() + b"}"

    batches0 = await batch_totals(target.get("metrics_url"))
    server_cpu0, own_cpu0 = cpu_seconds(target.get("server_pid")), cpu_seconds(None)
    wall0 = time.perf_counter()
    if spec["client"] == "wrk":
        args = (target["url"], body_prefix(spec, n), n, concurrency, spec["warmup_s"], spec["duration_s"])
        summary = await asyncio.to_thread(wrk.point, *args)
        client_cpu: float | None = summary.pop("client_cpu_s")
    else:
        send, close = await SENDERS[spec["client"]](target["url"], concurrency)
        outcome, window = await run_point(
            send, body, concurrency, spec["warmup_s"], spec["duration_s"], spec["drain_s"]
        )
        await close()
        summary = summarise(outcome, n, window)
        client_cpu = None
    wall = time.perf_counter() - wall0
    server_cpu1, own_cpu1 = cpu_seconds(target.get("server_pid")), cpu_seconds(None)
    batches1 = await batch_totals(target.get("metrics_url"))
    summary["concurrency"] = concurrency
    if client_cpu is None and own_cpu0 is not None and own_cpu1 is not None:
        client_cpu = own_cpu1 - own_cpu0
    summary["cpu_cores"] = {
        "server": None if server_cpu0 is None or server_cpu1 is None else (server_cpu1 - server_cpu0) / wall,
        "client": None if client_cpu is None else client_cpu / wall,
    }
    if batches0 is not None and batches1 is not None and batches1[1] > batches0[1]:
        # over warm-up, window and drain alike: the batch sizes this load point produced
        summary["mean_batch_images"] = (batches1[0] - batches0[0]) / (batches1[1] - batches0[1])
    return summary


async def run_spec(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every point of `spec` in its order (a fresh connection pool each), after priming every target."""
    for name, target in spec["targets"].items():
        await prime(target["url"], spec, {p["n"] for p in spec["points"] if p["target"] == name})
    results = []
    for point in spec["points"]:
        target = spec["targets"][point["target"]]
        summary = await measure(spec, target, point["n"], point["concurrency"])
        results.append({"target": point["target"]} | summary)
    return results


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    for summary in runner(run_spec(spec)):
        sys.stdout.write(json.dumps(summary) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1])
