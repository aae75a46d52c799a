"""`python -m bench.profile`: where the service spends its CPU under one load point (py-spy).

Starts the service as the benchmark does, drives one load point from the load-generator
process and samples the server with `py-spy record` (pip install py-spy) meanwhile. Writes the
collapsed stacks (flame-graph input, e.g. for speedscope) and prints the functions with the
most samples, by own time and by total time. `--gil` counts only samples holding the GIL,
which is what limits one event loop.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.procs import REPO, running
from bench.runner import Budget, Plan, run_load, server_specs

TOP = 30


def summarise(collapsed: Path, top: int = TOP) -> str:
    """Own and total sample shares per function from py-spy's raw (collapsed) output."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        k = int(count)
        frames = [f.split(" (")[0] + " " + f.split("/")[-1].rstrip(")") for f in stack.split(";")[1:]]
        samples += k
        if frames:
            own[frames[-1]] += k
        for f in set(frames):
            total[f] += k
    lines = [f"{samples} samples"]
    for title, counter in (("own", own), ("total", total)):
        lines.append(f"\n-- by {title} samples --")
        lines += [f"{100 * c / samples:5.1f}%  {name}" for name, c in counter.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.splitlines()[0])
    p.add_argument("--model", default="mnist-dcgan")
    p.add_argument(
        "--server", default="service_batched", choices=("service_batched", "service_unbatched", "naive", "noop")
    )
    p.add_argument("--n", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--gil", action="store_true", help="only samples holding the GIL")
    p.add_argument("--service-env", action="append", default=[], metavar="GAN_X=V")
    p.add_argument("--out", type=Path, default=REPO / "runs" / "bench-profile")
    args = p.parse_args()
    if shutil.which("py-spy") is None:
        sys.exit("py-spy is not installed: pip install py-spy")
    budget = Budget(warmup_s=1.0, duration_s=args.seconds, drain_s=10.0)
    env = dict(item.split("=", 1) for item in args.service_env)
    plan = Plan(args.model, REPO / "exported_models", budget, service_env=env)
    args.out.mkdir(parents=True, exist_ok=True)
    collapsed = args.out / f"{args.server}-n{args.n}-c{args.concurrency}.txt"
    with tempfile.TemporaryDirectory(prefix="gan-profile-") as tmp:
        workdir = Path(tmp)
        spec = server_specs(plan, workdir)[args.server]
        with running(spec, workdir) as server:
            cmd = ["py-spy", "record", "--pid", str(server.proc.pid), "--rate", str(args.rate), "--format", "raw"]
            cmd += ["--output", str(collapsed), "--duration", str(int(args.seconds)), "--threads"]
            if args.gil:
                cmd.append("--gil")
            spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(0.5)
            point = {"target": args.server, "n": args.n, "concurrency": args.concurrency}
            results = run_load({args.server: server}, plan, workdir, [point])
            spy.wait(timeout=60)
    print(json.dumps(results[0], indent=1))
    print(summarise(collapsed))
    print(f"\ncollapsed stacks: {collapsed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
