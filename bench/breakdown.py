"""Where an n=64 `/generate` spends its time outside HTTP, in-process and on one thread: drawing the seeds' latents
and building the feeds, the ONNX Runtime run of 64 rows (what raw batch 64 measures), and the answer's encoding
(a PNG grid, or 64 PNGs in base64 in a JSON body). `python -m bench.breakdown [--model M] [--n 64] [--repeats R]`.

The service's threads run these stages concurrently under load, so the sum is not a request's latency; the point
is each stage's cost beside the session run that raw ONNX Runtime pays alone (docs/bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from service import imaging
from service.registry import discover, load_model
from service.settings import Settings


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mnist-dcgan")
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--models-dir", type=Path, default=Path("exported_models"))
    args = parser.parse_args(argv)
    settings = Settings(models_dir=args.models_dir, max_batch=args.n, proof_cache_dir=None)
    found, _ = discover(args.models_dir)
    folder, manifest = next((f, m) for f, m in found if m.name == args.model)
    model = load_model(folder, manifest, settings)
    seeds = list(range(1, args.n + 1))
    feeds = model.feeds_for(model.draws(seeds))
    images = model.run(feeds)
    pngs = [imaging.b64(p) for p in imaging.encode_each(images)]
    body = {
        "model": args.model,
        "seed": 1,
        "n": args.n,
        "images": [{"seed": s, "png": p} for s, p in zip(seeds, pngs, strict=True)],
    }
    stages = {
        "sample (draws + feeds)": lambda: model.feeds_for(model.draws(seeds)),
        f"session run ({args.n} rows)": lambda: model.run(feeds),
        "png grid (png answer)": lambda: imaging.encode_grid(images),
        f"{args.n} pngs + base64": lambda: [imaging.b64(p) for p in imaging.encode_each(images)],
        "json body (dumps)": lambda: json.dumps(body).encode(),
    }
    ms = {name: _median_ms(fn, args.repeats) for name, fn in stages.items()}
    run = ms[f"session run ({args.n} rows)"]
    print(f"{args.model}, n={args.n}, median of {args.repeats} (ms, and × the session run):")
    for name, value in ms.items():
        print(f"  {name:28s} {value:8.3f}  {value / run:5.2f}")
    png = ms["sample (draws + feeds)"] + run + ms["png grid (png answer)"]
    js = ms["sample (draws + feeds)"] + run + ms[f"{args.n} pngs + base64"] + ms["json body (dumps)"]
    print(f"  one thread's work per png request {png:.2f} ms: the run is {run / png:.2f} of it")
    print(f"  one thread's work per json request {js:.2f} ms: the run is {run / js:.2f} of it")


if __name__ == "__main__":
    main()
