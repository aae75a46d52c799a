"""One benchmark run: the raw session, every server under the same load points, the raw session again.

Pure orchestration: every measurement happens in a child process (`bench.raw`, the servers,
`bench.load`), so this process only waits and never competes for the CPU. All servers run at
once (an idle one sleeps) and the load visits them point by point, in alternating order.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import machine
from bench.procs import REPO, RunningServer, ServerSpec, running
from bench.serve import resolved_impls

log = logging.getLogger(__name__)

SINGLE_CONCURRENCY = (1, 8, 64, 256)  # n=1 requests
BULK_CONCURRENCY = (1, 4, 8)  # n=64 requests
BULK_N = 64


def encoded_batch(answer_format: str) -> str:
    """The raw loop's key for batch BULK_N with each run's answer encoded in `answer_format` (bench.raw)."""
    return f"{BULK_N}+{answer_format}"


@dataclass(frozen=True)
class Budget:
    """How long each part runs; `quick()` is for CI and development."""

    warmup_s: float = 2.0  # per point, not recorded
    duration_s: float = 10.0  # per point, the measured window
    drain_s: float = 30.0  # per point, at most, for answers to requests sent in the window
    raw_s: float = 5.0  # per raw batch size

    @classmethod
    def quick(cls) -> Budget:
        return cls(warmup_s=0.2, duration_s=0.5, drain_s=5.0, raw_s=0.3)


@dataclass(frozen=True)
class Plan:
    model: str
    models_dir: Path
    budget: Budget = field(default_factory=Budget)
    client: str = "aiohttp"
    format: str = "png"  # the `format` every request asks for: one PNG grid, or JSON with a PNG per image
    servers: tuple[str, ...] = ("noop", "naive", "service_unbatched", "service_batched")  # + service_workers2
    service_env: dict[str, str] = field(default_factory=dict)  # extra GAN_* for both service runs

    @property
    def model_dir(self) -> Path:
        return (self.models_dir / self.model).resolve()


def points(server: str) -> list[dict[str, int]]:
    """The load points of one server; the no-op endpoint ignores `n`, so it gets n=1 only."""
    single = [{"n": 1, "concurrency": c} for c in SINGLE_CONCURRENCY]
    bulk = [{"n": BULK_N, "concurrency": c} for c in BULK_CONCURRENCY]
    return single if server == "noop" else single + bulk


def server_specs(plan: Plan, workdir: Path) -> dict[str, ServerSpec]:
    """Every contender. The service gets a models folder, made in `workdir`, holding only the benchmarked model."""
    served_dir = workdir / "models"
    served_dir.mkdir()
    (served_dir / plan.model).symlink_to(plan.model_dir, target_is_directory=True)
    service_env = {
        "GAN_HOST": "127.0.0.1",
        "GAN_PORT": "{port}",
        "GAN_MODELS_DIR": str(served_dir),
        "GAN_DEFAULT_MODEL": plan.model,
        **plan.service_env,
    }
    service = ["python", "-m", "service"]
    info = f"/models/{plan.model}"
    return {
        "noop": ServerSpec("noop", "no-op FastAPI", ["python", "-m", "bench.noop", "{port}"]),
        "naive": ServerSpec(
            "naive",
            "naive PyTorch",
            ["python", "-m", "bench.naive", "{port}", str(plan.model_dir)],
            info_path="/healthz",
        ),
        "service_unbatched": ServerSpec(
            "service_unbatched",
            "service, batching off",
            service,
            service_env | {"GAN_BATCHING": "off"},  # one request per run, its rows together
            ready_path="/readyz",
            info_path=info,
        ),
        "service_batched": ServerSpec(
            "service_batched", "service, batching on", service, service_env, ready_path="/readyz", info_path=info
        ),
        "service_workers2": ServerSpec(
            "service_workers2",
            "service, 2 workers",
            service,
            service_env | {"GAN_WORKERS": "2"},  # each worker its own sessions and batcher, one port
            ready_path="/readyz",
            info_path=info,
        ),
    }


def run_raw(plan: Plan) -> dict[str, Any]:
    """The raw ORT loop in its own process, under the service's settings (plan.service_env too)."""
    import os

    batches = ["1", str(BULK_N), encoded_batch(plan.format)]
    argv = [sys.executable, "-m", "bench.raw", str(plan.model_dir), str(plan.budget.raw_s), *batches]
    env = os.environ | plan.service_env
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.raw failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def schedule(servers: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every (server, point) pair, point by point; the server order reverses at each point so that
    a machine drifting during the run favours no contender."""
    order: list[dict[str, Any]] = []
    keys = [(1, c) for c in SINGLE_CONCURRENCY] + [(BULK_N, c) for c in BULK_CONCURRENCY]
    for i, (n, c) in enumerate(keys):
        having = [s for s in servers if {"n": n, "concurrency": c} in points(s)]
        for name in having if i % 2 == 0 else reversed(having):
            order.append({"target": name, "n": n, "concurrency": c})
    return order


def run_load(
    servers: dict[str, RunningServer], plan: Plan, workdir: Path, order: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The points of `order` from one separate load-generator process; one result per point."""
    b = plan.budget
    spec = {
        "model": plan.model,
        "client": plan.client,
        "format": plan.format,
        "warmup_s": b.warmup_s,
        "duration_s": b.duration_s,
        "drain_s": b.drain_s,
        "targets": {
            name: {
                "url": server.url + "/generate",
                "server_pid": server.proc.pid,
                # one worker's figures would be read at each end: batch sizes only where there is one worker
                "metrics_url": server.url + "/metrics"
                if name.startswith("service") and server.spec.env.get("GAN_WORKERS", "1") == "1"
                else None,
            }
            for name, server in servers.items()
        },
        "points": order,
    }
    spec_path = workdir / "load.json"
    spec_path.write_text(json.dumps(spec))
    argv = [sys.executable, "-m", "bench.load", str(spec_path)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.load failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def service_settings(env: dict[str, str]) -> dict[str, Any]:
    """The settings a service started with `env` runs under (its defaults plus our overrides)."""
    from service.settings import Settings

    fields: dict[str, Any] = {k.removeprefix("GAN_").lower(): v for k, v in env.items() if k.startswith("GAN_")}
    fields.pop("port", None)
    s = Settings(**fields)
    return {
        "batching": s.batching,
        "max_batch": s.max_batch,
        "max_wait_ms": s.max_wait_ms,
        "queue_images": s.queue_images,
        "intra_op_threads": s.intra_op_threads(),
        "log_level": s.log_level,
        "workers": s.workers,
    }


def mean_raw(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The raw loop measured before and after the servers: their mean, and both runs."""
    batches = {}
    for b, one in first["batches"].items():
        two = second["batches"][b]
        batches[b] = one | {k: (one[k] + two[k]) / 2 for k in ("img_per_s", "ms_per_run_p50", "ms_per_run_min")}
        batches[b]["runs"] = one["runs"] + two["runs"]
    return first | {"batches": batches, "before_and_after": [first["batches"], second["batches"]]}


def run(plan: Plan) -> dict[str, Any]:
    """The whole benchmark; returns the results document (figures only, ratios added by report)."""
    started = time.time()
    doc: dict[str, Any] = {
        "model": plan.model,
        "budget": plan.budget.__dict__,
        "client": plan.client,
        "format": plan.format,
        "machine": machine.describe(),
        "load_before": machine.load_snapshot(),
        "uvicorn": resolved_impls(),
        "servers": {},
    }
    manifest = json.loads((plan.model_dir / "manifest.json").read_text())
    doc["model_info"] = {"variant": manifest.get("variant"), "sha256": manifest.get("sha256")}
    log.info("raw ONNX Runtime loop (%s)", plan.model)
    raw_before = run_raw(plan)
    with tempfile.TemporaryDirectory(prefix="gan-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        specs = server_specs(plan, workdir)
        servers: dict[str, RunningServer] = {}
        for name in plan.servers:
            log.info("%s: starting", specs[name].label)
            servers[name] = stack.enter_context(running(specs[name], workdir))
        order = schedule(plan.servers)
        b = plan.budget
        log.info("%d load points, each %.1f s + %.1f s warm-up (+ drain)", len(order), b.duration_s, b.warmup_s)
        results = run_load(servers, plan, workdir, order)
        for name, server in servers.items():
            entry: dict[str, Any] = {
                "label": server.spec.label,
                "points": [{k: v for k, v in r.items() if k != "target"} for r in results if r["target"] == name],
                "info": server.info,
            }
            if name.startswith("service"):
                entry["settings"] = service_settings(server.spec.env)
            doc["servers"][name] = entry
    log.info("raw ONNX Runtime loop again")
    doc["raw_ort"] = mean_raw(raw_before, run_raw(plan))
    doc["load_after"] = machine.load_snapshot()
    doc["wall_s"] = round(time.time() - started, 1)
    return doc
