"""Soak test: send many mixed requests to the sampling service and report its memory before and after.

    python scripts/soak.py                        # 100,000 requests to a server it starts on exported_models/
    python scripts/soak.py --requests 3000        # the short version the test suite runs
    python scripts/soak.py --url http://host:8000 --pid 1234   # a server already running (RSS needs its pid)

The mix covers every sampling route in both formats, the model and operations routes, the v2 protocol,
bad input (422), unknown models (404) and deadlines too short to meet (408), so the error paths are soaked
too. RSS is read from /proc after a warm-up and at the end; the run fails (exit 1) when RSS grew by more than
--max-growth percent after the warm-up, when any request got a 500, or when any request got no HTTP answer at all
(a transport error: a connection closed, reset or timed out; counted in `transport_errors`). Linux only (it reads
/proc).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
Request = tuple[str, str, dict[str, Any] | None, dict[str, str]]  # method, path, json body, headers


@dataclass
class Report:
    requests: int = 0
    seconds: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)  # HTTP status, or the transport error's class name
    transport_errors: int = 0  # requests that got no HTTP answer
    rss_start_mb: float = 0.0
    rss_after_warmup_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_max_mb: float = 0.0
    growth_pct: float = 0.0
    rss_trace_mb: list[float] = field(default_factory=list)  # after each twentieth of the run


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def request_mix(models: list[dict[str, Any]], rng: random.Random) -> Callable[[], Request]:
    """A generator of weighted random requests over the served models."""
    names = [m["name"] for m in models]
    conditional = [m["name"] for m in models if m["conditional"]] or names
    infogan = [m["name"] for m in models if m.get("codes")]

    def seed() -> int:
        return rng.randrange(2**32)

    def generate() -> Request:
        body = {"model": rng.choice(names), "seed": seed(), "n": rng.choice([1, 1, 2, 4, 16])}
        return "POST", "/generate", body | {"format": rng.choice(["png", "json"])}, {}

    def labelled() -> Request:
        return "POST", "/generate", {"model": rng.choice(conditional), "seed": seed(), "n": 4, "label": 3}, {}

    def interpolate() -> Request:
        body = {"model": rng.choice(names), "seed_a": seed(), "seed_b": seed(), "steps": rng.choice([2, 8, 16])}
        return "POST", "/interpolate", body | {"method": rng.choice(["slerp", "lerp"])}, {}

    def arithmetic() -> Request:
        terms = [{"seeds": [seed(), seed()], "weight": 1.0}, {"seeds": [seed()], "weight": -1.0}, {"seeds": [seed()]}]
        return "POST", "/arithmetic", {"model": rng.choice(names), "terms": terms, "format": "json"}, {}

    def info() -> Request:
        if not infogan:
            return generate()
        body = {"model": rng.choice(infogan), "seed": seed(), "sweep": {"code": "categorical", "values": [0, 1, 2]}}
        return "POST", "/infogan", body, {}

    def v2() -> Request:
        tensor = {"name": "seed", "shape": [2], "datatype": "INT64", "data": [seed(), seed()]}
        return "POST", f"/v2/models/{rng.choice(names)}/infer", {"inputs": [tensor]}, {}

    def reads() -> Request:
        paths = ["/models", f"/models/{rng.choice(names)}", "/healthz", "/readyz", "/metrics"]
        return "GET", rng.choice(paths), None, {}

    def bad() -> Request:
        return "POST", "/generate", rng.choice([{"n": 0}, {"lable": 1}, {"seed": -1}, {"model": "no-such-model"}]), {}

    def hurried() -> Request:
        return "POST", "/generate", {"model": rng.choice(names), "n": 16}, {"X-Deadline-Ms": "1"}

    table = [(generate, 30), (labelled, 5), (interpolate, 12), (arithmetic, 8), (info, 8), (v2, 7)]
    table += [(reads, 20), (bad, 7), (hurried, 3)]
    makers, weights = zip(*table, strict=True)
    return lambda: rng.choices(makers, weights)[0]()


async def drive(client: httpx.AsyncClient, count: int, concurrency: int, make: Callable[[], Request]) -> Counter:
    """Send `count` requests from `concurrency` workers; count answers by status."""
    statuses: Counter[str] = Counter()
    left = count

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            method, path, body, headers = make()
            try:
                r = await client.request(method, path, json=body, headers=headers)
                statuses[str(r.status_code)] += 1
            except httpx.TransportError as exc:
                statuses[type(exc).__name__] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def soak(url: str, pid: int, total: int, warmup: int, concurrency: int, seed: int) -> Report:
    report = Report(rss_start_mb=rss_mb(pid))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        models = (await client.get("/models")).json()["models"]
        make = request_mix(models, random.Random(seed))
        statuses = await drive(client, warmup, concurrency, make)
        report.rss_after_warmup_mb = report.rss_max_mb = rss_mb(pid)
        started = time.perf_counter()
        rest, step = total - warmup, max(1, (total - warmup) // 20)
        while rest > 0:
            statuses += await drive(client, min(step, rest), concurrency, make)
            rest -= step
            report.rss_trace_mb.append(round(rss_mb(pid), 1))
            report.rss_max_mb = max(report.rss_max_mb, report.rss_trace_mb[-1])
        report.seconds = round(time.perf_counter() - started, 1)
    report.requests = total
    report.statuses = dict(sorted(statuses.items()))
    report.transport_errors = sum(n for status, n in statuses.items() if not status.isdigit())
    report.rss_end_mb = rss_mb(pid)
    report.growth_pct = round(100 * (report.rss_end_mb / report.rss_after_warmup_mb - 1), 2)
    for name in ("rss_start_mb", "rss_after_warmup_mb", "rss_end_mb", "rss_max_mb"):
        setattr(report, name, round(getattr(report, name), 1))
    return report


@contextlib.contextmanager
def own_server(models_dir: Path, threads: int) -> Iterator[tuple[str, int]]:
    """`python -m service` on a free loopback port, for the length of the soak."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAN_")}
    env |= {"GAN_HOST": "127.0.0.1", "GAN_PORT": str(port), "GAN_MODELS_DIR": str(models_dir)}
    env |= {"GAN_THREADS": str(threads), "GAN_LOG_LEVEL": "warning"}
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=REPO, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 120
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"server did not become ready:\n{log.read().decode()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                time.sleep(0.1)
            yield url, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--warmup", type=int, default=None, help="requests before the baseline RSS (default: 5%%)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-growth", type=float, default=10.0, help="allowed RSS growth after warm-up, percent")
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--pid", type=int, help="its process id, for RSS (required with --url)")
    parser.add_argument("--models-dir", type=Path, default=REPO / "exported_models")
    parser.add_argument("--threads", type=int, default=1, help="GAN_THREADS of the server it starts")
    parser.add_argument("--seed", type=int, default=0, help="seed of the request mix")
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else max(200, args.requests // 20)
    if args.url and not args.pid:
        parser.error("--url needs --pid to read the server's RSS")
    with contextlib.ExitStack() as stack:
        url, pid = (args.url, args.pid) if args.url else stack.enter_context(own_server(args.models_dir, args.threads))
        report = asyncio.run(soak(url, pid, args.requests, warmup, args.concurrency, args.seed))
    print(json.dumps(asdict(report), indent=2))
    errors = report.statuses.get("500", 0) + report.transport_errors
    if report.growth_pct > args.max_growth or errors:
        sys.exit(
            f"soak failed: RSS grew {report.growth_pct}% (limit {args.max_growth}%), "
            f"{report.statuses.get('500', 0)} × 500, {report.transport_errors} transport errors"
        )


if __name__ == "__main__":
    main()
