"""The compute limit: the model's ONNX Runtime session called in a tight loop.

`python -m bench.raw MODEL_DIR SECONDS BATCH...` prints one JSON object. The session is the
service's own: `service.sessions.create_session` under the same `GAN_*` settings, so the
options (threads, spinning, graph optimisation, provider) are the ones the service runs with,
and the inputs are the service's own feeds for seeds 0..batch-1. A batch written `64+png` or
`64+json` also encodes each run's images as that answer does (one PNG grid; a PNG per image in
base64 in a JSON body), one after the other on this thread: the limit of work raw ONNX Runtime
does not do but every answer must.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service import imaging
from service.manifest import load_manifest
from service.registry import LoadedModel
from service.sessions import create_session
from service.settings import Settings

WARMUP_RUNS = 10
ANSWERS: dict[str, Callable[[Any], object]] = {  # what each `format` adds to a run's images
    "png": imaging.encode_grid,
    "json": lambda images: json.dumps({"images": [{"png": imaging.b64(p)} for p in imaging.encode_each(images)]}),
}


def measure(model: LoadedModel, spec: str, seconds: float) -> dict[str, Any]:
    """Back-to-back runs of one batch (`64`, or `64+png` with each run's answer encoded) for about `seconds`:
    images per second and time per run."""
    size, _, answer = spec.partition("+")
    batch, encode = int(size), ANSWERS[answer] if answer else None
    feeds = model.feeds_for(model.draws(range(batch)))
    names = [model.output_name]

    def run() -> None:
        images = model.session.run(names, feeds)[0]
        if encode:
            encode(images)

    for _ in range(WARMUP_RUNS):
        run()
    times: list[float] = []
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        times.append(t1 - t0)
        if t1 - started >= seconds and len(times) >= 5:
            break
    elapsed = time.perf_counter() - started
    return {
        "batch": batch,
        "answer": answer or None,
        "runs": len(times),
        "img_per_s": batch * len(times) / elapsed,
        "ms_per_run_p50": 1000 * statistics.median(times),
        "ms_per_run_min": 1000 * min(times),
    }


def main(model_dir: Path, seconds: float, batches: list[str]) -> dict[str, Any]:
    settings = Settings()
    manifest = load_manifest(model_dir)
    session, provider = create_session(model_dir / manifest.file, settings)
    model = LoadedModel(manifest, session, provider)
    return {
        "provider": provider,
        "intra_op_threads": settings.intra_op_threads(),
        "batches": {spec: measure(model, spec, seconds) for spec in batches},
    }


if __name__ == "__main__":
    result = main(Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3:])
    print(json.dumps(result))
