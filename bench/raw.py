"""The compute limit: the model's ONNX Runtime session called in a tight loop.

`python -m bench.raw MODEL_DIR SECONDS BATCH...` prints one JSON object. The session is the
service's own: `service.sessions.create_session` under the same `GAN_*` settings, so the
options (threads, spinning, graph optimisation, provider) are the ones the service runs with,
and the inputs are the service's own feeds for seeds 0..batch-1.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from service.manifest import load_manifest
from service.registry import LoadedModel
from service.sessions import create_session
from service.settings import Settings

WARMUP_RUNS = 10


def measure(model: LoadedModel, batch: int, seconds: float) -> dict[str, Any]:
    """Back-to-back runs of one batch for about `seconds`: images per second and time per run."""
    feeds = model.feeds_for(model.draws(range(batch)))
    run, names = model.session.run, [model.output_name]
    for _ in range(WARMUP_RUNS):
        run(names, feeds)
    times: list[float] = []
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        run(names, feeds)
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if t1 - started >= seconds and len(times) >= 5:
            break
    elapsed = time.perf_counter() - started
    return {
        "batch": batch,
        "runs": len(times),
        "img_per_s": batch * len(times) / elapsed,
        "ms_per_run_p50": 1000 * statistics.median(times),
        "ms_per_run_min": 1000 * min(times),
    }


def main(model_dir: Path, seconds: float, batches: list[int]) -> dict[str, Any]:
    settings = Settings()
    manifest = load_manifest(model_dir)
    session, provider = create_session(model_dir / manifest.file, settings)
    model = LoadedModel(manifest, session, provider)
    return {
        "provider": provider,
        "intra_op_threads": settings.intra_op_threads(),
        "batches": {str(b): measure(model, b, seconds) for b in batches},
    }


if __name__ == "__main__":
    result = main(Path(sys.argv[1]), float(sys.argv[2]), [int(b) for b in sys.argv[3:]])
    print(json.dumps(result))
