"""What the figures were measured on: CPU, cores, memory, versions, and what else was running."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import time
from pathlib import Path
from typing import Any

PACKAGES = (
    "onnxruntime",
    "onnxruntime-gpu",
    "torch",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "numpy",
    "pillow",
    "aiohttp",
    "httpx",
)
BUSY_SHARE = 0.2  # a process using more than this share of one core is reported as competing


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def _cpu_ticks() -> dict[int, tuple[int, str]]:
    """pid → (user + system ticks, command line) of every process we can read."""
    out: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            out[int(entry.name)] = (int(stat[11]) + int(stat[12]), cmd)
        except (OSError, IndexError, ValueError):
            continue
    return out


def competing_processes(sample_s: float = 0.5) -> list[dict[str, Any]]:
    """Other processes busy on the CPU right now (e.g. a training run), with their share of a core."""
    if not Path("/proc/self/stat").exists():
        return []
    before = _cpu_ticks()
    time.sleep(sample_s)
    after = _cpu_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for pid, (ticks, cmd) in after.items():
        if pid == os.getpid() or pid not in before:
            continue
        share = (ticks - before[pid][0]) / hz / sample_s
        if share > BUSY_SHARE:
            busy.append({"pid": pid, "cores": round(share, 2), "cmd": cmd[:160]})
    return sorted(busy, key=lambda p: -p["cores"])


def describe() -> dict[str, Any]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count() or 1
    return {
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": affinity,
        "memory_gib": memory_gib(),
        "os": platform.platform(),
        "machine": platform.machine(),
        "versions": versions(),
    }


def load_snapshot() -> dict[str, Any]:
    """Load average and competing processes, taken before and after the run."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = []
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "loadavg": load, "competing": competing_processes()}
