"""One load point driven by wrk (C, one thread) instead of the Python client, for `--client wrk`.

A Python load generator on the same two cores as the server takes CPU the server would use and adds its own
latency, so its figures understate the service. wrk holds `concurrency` keep-alive connections on one thread
and posts the same bodies as `bench.load` (consecutive seeds); a Lua `done` hook prints its figures as JSON,
summarised like the Python client's points: 200s per second over the window, latency percentiles over every
answer in it (wrk measures in microseconds), statuses other than 200 and transport errors. wrk stops at the end
of its window, so requests still open then are neither counted nor waited for. Its windows are whole seconds, at
least one: a warm-up or window of 0.1 s lasts 1 s, and a warm-up of 0 is none.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

# The body of request i: PREFIX .. i .. "}"; `done` writes one JSON line wrk's own report cannot be parsed for.
SCRIPT = """
local counter = %(first)d
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, %(prefix)s .. (counter %% 4294967296) .. "}")
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nWRK-JSON {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"timeout": %%d, "p50": %%d, "p95": %%d, "p99": %%d, "mean": %%f, "max": %%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean, latency.max))
end
"""


def available() -> str | None:
    """wrk's path, or None (Debian: `apt-get install wrk`)."""
    return shutil.which("wrk")


def _run(url: str, prefix: str, concurrency: int, seconds: float, first: int, timeout_s: float) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(SCRIPT % {"first": first, "prefix": json.dumps(prefix)})
        script = Path(f.name)
    try:
        argv = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", f"--timeout={int(timeout_s)}s"]
        done = subprocess.run([*argv, "-s", str(script), url], capture_output=True, text=True, check=False)
    finally:
        script.unlink()
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK-JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(line.removeprefix("WRK-JSON "))
    return figures


def point(url: str, prefix: str, n: int, concurrency: int, warmup_s: float, duration_s: float) -> dict[str, Any]:
    """Warm up (unrecorded), then measure one window; the same keys as `bench.load.summarise`, and wrk's CPU.
    `prefix` is every body up to its seed (`bench.load.body_prefix`)."""
    if warmup_s > 0:
        _run(url, prefix, concurrency, warmup_s, 10**9, timeout_s=60)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = _run(url, prefix, concurrency, duration_s, 0, timeout_s=60)
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = w["duration_us"] / 1e6
    ok = w["requests"] - w["non2xx"]

    def ms(us: float) -> float:
        return us / 1000 if ok else math.nan

    errors = {k: w[k] for k in ("connect", "read", "write", "timeout") if w[k]}
    return {
        "n": n,
        "window_s": seconds,
        "requests": ok,
        "req_per_s": ok / seconds,
        "img_per_s": n * ok / seconds,
        "latency_ms": {k: ms(w[k]) for k in ("p50", "p95", "p99", "mean", "max")},
        "non_200": {"non-2xx": w["non2xx"]} if w["non2xx"] else {},
        "transport_errors": errors,
        "unfinished": 0,
        "client_cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
    }
