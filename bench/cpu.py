"""`python -m bench.cpu`: server CPU time per request, a figure that contention does not distort.

Throughput on a shared machine moves with whatever else runs; the CPU a server spends per
request barely does. This starts the chosen servers as the benchmark does, sends a fixed number
of requests at each concurrency (aiohttp, keep-alive), and reads each server thread's on-CPU time
from `/proc/<pid>/task/<tid>/schedstat` (nanoseconds) before and after. It reports microseconds
per request for the whole process and for the event-loop thread (the main thread, which bounds n=1
throughput), and the median latency (noisy on a shared machine), each the median over `--rounds`.
Every request has the same body: `--n` images in `--format` (png: one PNG, a grid when n > 1; json:
one base64 PNG per image).
All servers run at once and every round visits each of them, in alternating order. `--against DIR`
runs a second copy of each service from another checkout (`git worktree add DIR COMMIT`), so two
versions are compared under the same conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from bench.procs import REPO, RunningServer, running
from bench.runner import Budget, Plan, server_specs


def thread_ns(pid: int) -> tuple[int, int]:
    """(main thread, all threads) on-CPU nanoseconds of a process so far."""
    main = total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            ns = int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a thread that ended meanwhile
        total += ns
        if task.name == str(pid):
            main = ns
    return main, total


async def drive(url: str, body: bytes, requests: int, concurrency: int) -> tuple[int, float]:
    """Send `requests` POSTs from `concurrency` keep-alive workers; return how many answered 200,
    and their median latency in ms."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"content-type": "application/json"}
    left, ok = requests, 0
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal left, ok
            while left > 0:
                left -= 1
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    ok += response.status == 200
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, 1000 * statistics.median(latencies)


def measure(pid: int, url: str, body: bytes, requests: int, concurrency: int) -> tuple[float, float, float]:
    """(loop-thread µs, process µs) per request over one batch of requests, and their p50 latency in ms."""
    main0, total0 = thread_ns(pid)
    ok, p50_ms = asyncio.run(drive(url, body, requests, concurrency))
    main1, total1 = thread_ns(pid)
    if ok != requests:
        raise RuntimeError(f"{requests - ok} of {requests} requests failed")
    return (main1 - main0) / 1000 / requests, (total1 - total0) / 1000 / requests, p50_ms


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mnist-dcgan")
    p.add_argument("--servers", default="noop,service_batched", help="comma-separated, as in `python -m bench`")
    p.add_argument("--against", type=Path, help="another checkout (git worktree): its service runs beside ours")
    p.add_argument("--concurrency", default="1,64", help="comma-separated")
    p.add_argument("--requests", type=int, default=2000, help="per round and concurrency")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--n", type=int, default=1, help="images per request")
    p.add_argument("--format", default="png", choices=("png", "json"), help="one PNG (a grid), or JSON of base64 PNGs")
    p.add_argument("--service-env", action="append", default=[], metavar="GAN_X=V")
    args = p.parse_args()
    env = dict(item.split("=", 1) for item in args.service_env)
    plan = Plan(args.model, REPO / "exported_models", Budget(), service_env=env)
    body = f'{{"model":"{args.model}","n":{args.n},"seed":7,"format":"{args.format}"}}'.encode()
    levels = [int(c) for c in args.concurrency.split(",")]
    with tempfile.TemporaryDirectory(prefix="gan-cpu-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        specs = server_specs(plan, workdir)
        servers: dict[str, RunningServer] = {}
        for name in args.servers.split(","):
            servers[name] = stack.enter_context(running(specs[name], workdir))
            if args.against and name.startswith("service"):
                other = dataclasses.replace(specs[name], name=f"{name}@{args.against.name}")
                servers[other.name] = stack.enter_context(running(other, workdir, repo=args.against.resolve()))
        for server in servers.values():  # lazy initialisation lands in no round
            measure(server.proc.pid, server.url + "/generate", body, 200, max(levels))
        runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {(s, c): [] for s in servers for c in levels}
        order = list(servers)
        for _ in range(args.rounds):  # all servers in every round, in alternating order: drift hits all alike
            for c in levels:
                for name in order:
                    server = servers[name]
                    runs[name, c].append(measure(server.proc.pid, server.url + "/generate", body, args.requests, c))
            order.reverse()
    width = max(map(len, servers)) + 2
    print(f"{'server':<{width}} {'c':>4} {'loop µs/req':>12} {'process µs/req':>15} {'p50 ms':>7}", end="")
    print(f"   (medians of {args.rounds} rounds)")
    for (name, c), got in runs.items():
        loop_us, proc_us, p50 = (statistics.median(r[i] for r in got) for i in range(3))
        print(f"{name:<{width}} {c:>4} {loop_us:>12.0f} {proc_us:>15.0f} {p50:>7.2f}")


if __name__ == "__main__":
    main()
