"""`python -m bench [--quick] [--model NAME] [--out DIR]`: run the benchmark, print, save JSON and a plot.

A full run takes about six minutes; `--quick` about half a minute (CI). Runs write to runs/bench/
(quick ones to runs/bench-quick/) unless `--out` says otherwise, so no run replaces the committed
figures in docs/bench/ unless asked to (`--out docs/bench`).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
from pathlib import Path

from bench import wrk
from bench.report import ratios, render
from bench.runner import Budget, Plan, run

REPO = Path(__file__).resolve().parents[1]
SERVERS = ("noop", "naive", "service_unbatched", "service_batched", "service_workers2")
DEFAULT_SERVERS = SERVERS[:4]  # service_workers2 (GAN_WORKERS=2) on request: it pays only with CPUs to spare


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mnist-dcgan", help="a folder of --models-dir (default: mnist-dcgan)")
    p.add_argument("--models-dir", type=Path, default=REPO / "exported_models")
    p.add_argument("--quick", action="store_true", help="seconds, not minutes: for CI and development")
    p.add_argument("--duration", type=float, help="measured seconds per load point")
    p.add_argument("--warmup", type=float, help="unrecorded seconds before each load point")
    p.add_argument("--raw-seconds", type=float, help="seconds per raw ORT batch size")
    p.add_argument(
        "--client",
        choices=("auto", "aiohttp", "httpx", "wrk"),
        default="auto",
        help="load generator (auto: aiohttp when installed, else httpx; wrk: Debian's wrk, one C thread)",
    )
    p.add_argument(
        "--format", choices=("png", "json"), default="png", help="what every request asks for (json: a PNG per image)"
    )
    p.add_argument(
        "--servers", default=",".join(DEFAULT_SERVERS), help=f"comma-separated subset of {','.join(SERVERS)}"
    )
    p.add_argument("--service-env", action="append", default=[], metavar="GAN_X=V", help="extra service setting")
    p.add_argument("--out", type=Path, help="folder for results.json and throughput.png (default: runs/bench)")
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    args.out = args.out or REPO / "runs" / ("bench-quick" if args.quick else "bench")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s", datefmt="%H:%M:%S")
    budget = Budget.quick() if args.quick else Budget()
    overrides = {"warmup_s": args.warmup, "duration_s": args.duration, "raw_s": args.raw_seconds}
    budget = Budget(**(budget.__dict__ | {k: v for k, v in overrides.items() if v is not None}))
    servers = tuple(s for s in args.servers.split(",") if s)
    unknown = set(servers) - set(SERVERS)
    if unknown:
        sys.exit(f"unknown --servers {sorted(unknown)}; choose from {SERVERS}")
    env = dict(item.split("=", 1) for item in args.service_env)
    if args.client == "wrk" and not wrk.available():
        sys.exit("--client wrk needs wrk on PATH (Debian: apt-get install wrk)")
    if args.client == "auto":
        args.client = "aiohttp" if importlib.util.find_spec("aiohttp") else "httpx"
    plan = Plan(args.model, args.models_dir, budget, args.client, args.format, servers, env)
    if not (plan.model_dir / "manifest.json").is_file():
        sys.exit(f"no model {args.model!r} in {args.models_dir}")
    out: Path = args.out

    doc = run(plan)
    doc["quick"] = args.quick
    doc["ratios"] = ratios(doc)
    print(render(doc))
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(doc, indent=2) + "\n")
    if not args.no_plot:
        from bench.plot import plot

        plot(doc, out / "throughput.png")
    print(f"\nwrote {out / 'results.json'}" + ("" if args.no_plot else f" and {out / 'throughput.png'}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
