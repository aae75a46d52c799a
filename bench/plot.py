"""Throughput and p99 latency against concurrency, with the raw limits drawn in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

from bench.runner import BULK_N, encoded_batch

STYLES = {
    "noop": {"color": "0.55", "marker": "o", "linestyle": ":"},
    "naive": {"color": "tab:red", "marker": "s"},
    "service_unbatched": {"color": "tab:orange", "marker": "^"},
    "service_batched": {"color": "tab:blue", "marker": "D"},
    "service_workers2": {"color": "tab:green", "marker": "v"},
}


def plot(doc: dict[str, Any], path: Path) -> None:
    """2×2: throughput (top) and p99 (bottom) for n=1 (left) and n=64 (right) requests."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), sharex="col")
    raw = doc["raw_ort"]["batches"]
    limits = {b: doc["ratios"][f"single_L{b}"]["inputs"].get("L") for b in ("1", str(BULK_N))}
    for col, n in enumerate((1, BULK_N)):
        top, bottom = axes[0][col], axes[1][col]
        for name, entry in doc["servers"].items():
            pts = sorted((p for p in entry["points"] if p["n"] == n), key=lambda p: p["concurrency"])
            if not pts:
                continue
            xs = [p["concurrency"] for p in pts]
            style = STYLES.get(name, {})
            top.plot(xs, [p["img_per_s"] for p in pts], label=entry["label"], **style)
            bottom.plot(xs, [p["latency_ms"]["p99"] for p in pts], label=entry["label"], **style)
        ref = raw["1"] if n == 1 else raw[str(BULK_N)]
        top.axhline(ref["img_per_s"], color="k", linestyle="--", linewidth=1, label=f"raw ORT batch {ref['batch']}")
        for b, style in (("1", "-."), (str(BULK_N), "--")):
            if n == 1 and limits[b]:
                top.axhline(
                    limits[b], color="tab:green", linestyle=style, linewidth=1, label=f"L{b} (HTTP + batch-{b} ORT)"
                )
        if n == 1:
            top.axhline(raw[str(BULK_N)]["img_per_s"], color="k", linestyle=":", linewidth=1, label="raw ORT batch 64")
        elif encoded := raw.get(encoded_batch(doc.get("format", "png"))):
            label = f"raw ORT batch 64 + {encoded['answer']} answer"
            top.axhline(encoded["img_per_s"], color="tab:purple", linestyle="--", linewidth=1, label=label)
        top.set_title(f"n={n} per request: throughput")
        top.set_ylabel("images / s" + (" (= requests / s)" if n == 1 else ""))
        top.set_ylim(bottom=0)
        bottom.set_title(f"n={n} per request: p99 latency")
        bottom.set_ylabel("p99 latency (ms, log)")
        bottom.set_yscale("log")
        bottom.set_xlabel("concurrent requests (closed loop)")
        ticks = sorted({p["concurrency"] for e in doc["servers"].values() for p in e["points"] if p["n"] == n})
        for ax in (top, bottom):
            ax.set_xscale("log", base=2)
            ax.set_xticks(ticks, [str(t) for t in ticks])
            ax.xaxis.set_minor_locator(NullLocator())
            ax.grid(True, which="major", alpha=0.3)
        bottom.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        bottom.yaxis.set_minor_locator(NullLocator())
        top.legend(fontsize=8)
    m = doc["machine"]
    fig.suptitle(f"{doc['model']} on {m['cpu_model']} ({m['usable_cpus']} CPUs)", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
