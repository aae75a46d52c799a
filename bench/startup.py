"""Time to ready: `python -m service` from launch to the first `/readyz` 200 with an empty proof cache, one graph
at a time (sequential, GAN_LOAD_PARALLEL=1: how start-up ran before) and side by side (cold), then with the cache
that start filled (warm), in one run on one machine, plus each graph's load time from its load log line.
`python -m bench.startup [--runs N] [--models-dir DIR]`; figures in docs/OPERATIONS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

LINE = re.compile(r"loaded model=(\S+) .*proof_ms=(\d+) proof_cache=(\S+) ms=(\d+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(models_dir: Path, cache: Path, env: dict[str, str]) -> tuple[float, list[tuple[str, int, str, int]]]:
    """Seconds from launch to ready, and (graph, proof ms, proof_cache, load ms) per loaded graph."""
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GAN_")}
    server_env = clean | env | {"GAN_HOST": "127.0.0.1", "GAN_PORT": str(port)}
    server_env |= {"GAN_MODELS_DIR": str(models_dir), "GAN_PROOF_CACHE_DIR": str(cache)}
    # A file, not a pipe: the 503s polled meanwhile are logged, and a full pipe would block the service.
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "service"], env=server_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the service exited with {proc.returncode}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
            ready = time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        log.seek(0)
        out = log.read().decode(errors="replace")
    graphs = [(m[1], int(m[2]), m[3], int(m[4])) for m in LINE.finditer(out)]
    return ready, graphs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold and warm starts each (default 3)")
    parser.add_argument("--models-dir", type=Path, default=Path("exported_models"))
    parser.add_argument("--out", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args(argv)
    env = {"GAN_MAX_BATCH": os.environ.get("GAN_MAX_BATCH", "64")}
    kinds = {"sequential": {"GAN_LOAD_PARALLEL": "1"}, "cold": {}, "warm": {}}  # one graph at a time: the baseline
    results: dict[str, list[float]] = {kind: [] for kind in kinds}
    per_graph: dict[str, dict[str, list[int]]] = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            cache = Path(tmp) / "proofs"
            for kind, extra in kinds.items():
                ready, graphs = start(
                    args.models_dir, cache if kind != "sequential" else Path(tmp) / "other", env | extra
                )
                results[kind].append(ready)
                expected = "hit" if kind == "warm" else "miss"
                assert all(c.startswith(expected) for _, _, c, _ in graphs), (kind, graphs)
                for name, _, _, ms in graphs:
                    per_graph.setdefault(name, {k: [] for k in kinds})[kind].append(ms)
    print(f"time to /readyz 200, {len(per_graph)} graphs, {args.runs} runs each (median, min-max):")
    for kind, times in results.items():
        print(f"  {kind}: {statistics.median(times):.1f} s ({min(times):.1f}-{max(times):.1f})")
    median = {kind: statistics.median(times) for kind, times in results.items()}
    print(
        f"  sequential / cold: {median['sequential'] / median['cold']:.2f}x,"
        f" cold / warm: {median['cold'] / median['warm']:.1f}x"
    )
    print("per graph, load ms (median): sequential (proof run, one graph at a time), cold (side by side), warm (hit):")
    for name, times in sorted(per_graph.items()):
        print(f"  {name:24s}" + "".join(f" {statistics.median(times[kind]):7.0f}" for kind in kinds))
    if args.out:
        args.out.write_text(json.dumps({"ready_s": results, "graph_ms": per_graph}, indent=1))


if __name__ == "__main__":
    main()
