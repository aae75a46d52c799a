"""Ratios against the limits, and the plain-text tables of a results document."""

from __future__ import annotations

import math
from typing import Any

from bench.runner import BULK_CONCURRENCY, BULK_N, encoded_batch

Doc = dict[str, Any]


def point(doc: Doc, server: str, n: int, concurrency: int) -> dict[str, Any] | None:
    for p in doc["servers"].get(server, {}).get("points", []):
        if p["n"] == n and p["concurrency"] == concurrency:
            return dict(p)
    return None


def _ratio(value: float | None, goal: float, at_least: bool, formula: str, **inputs: Any) -> dict[str, Any]:
    ok = value is not None and math.isfinite(value)
    met = None if not ok else (value >= goal if at_least else value <= goal)  # type: ignore[operator]
    return {
        "value": value if ok else None,
        "goal": f"{'>=' if at_least else '<='} {goal:g}",
        "met": met,
        "formula": formula,
        "inputs": inputs,
    }


def _get(p: dict[str, Any] | None, key: str) -> Any:
    return None if p is None else p[key]


def _div(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _limit(noop_req_per_s: float | None, raw_img_per_s: float) -> float | None:
    """L: n=1 requests per second if HTTP (the no-op) and compute (the raw loop at one batch size) added up."""
    return None if not noop_req_per_s else 1 / (1 / noop_req_per_s + 1 / raw_img_per_s)


def ratios(doc: Doc) -> dict[str, Any]:
    """The claims of docs/bench/README.md, each with its inputs, from one run's figures."""
    raw = doc["raw_ort"]["batches"]
    raw1, raw64 = raw["1"], raw[str(BULK_N)]
    on, off = "service_batched", "service_unbatched"

    bulk_points = [p for c in BULK_CONCURRENCY if (p := point(doc, on, BULK_N, c))]
    best_bulk = max(bulk_points, key=lambda p: p["img_per_s"], default=None)
    bulk = _ratio(
        _div(_get(best_bulk, "img_per_s"), raw64["img_per_s"]),
        0.85,
        True,
        "best service (batching on) n=64 img/s ÷ raw ORT batch-64 img/s",
        service_img_per_s=_get(best_bulk, "img_per_s"),
        at_concurrency=_get(best_bulk, "concurrency"),
        raw_img_per_s=raw64["img_per_s"],
    )

    noop = [p for p in doc["servers"].get("noop", {}).get("points", [])]
    noop_best = max((p["req_per_s"] for p in noop), default=None)
    svc64 = point(doc, on, 1, 64)

    def single(batch: str, meaning: str) -> dict[str, Any]:
        limit = _limit(noop_best, raw[batch]["img_per_s"])
        return _ratio(
            _div(_get(svc64, "req_per_s"), limit),
            0.85,
            True,
            f"service (batching on) n=1 req/s at concurrency 64 ÷ L{batch}, "
            f"L{batch} = 1 / (1/no-op req/s + 1/raw ORT batch-{batch} img/s): {meaning}",
            service_req_per_s=_get(svc64, "req_per_s"),
            service_mean_batch=_get(svc64, "mean_batch_images"),
            noop_req_per_s=noop_best,
            raw_img_per_s=raw[batch]["img_per_s"],
            L=limit,
        )

    single_l1 = single("1", "the limit were every request run alone")
    single_l64 = single(
        str(BULK_N),
        f"the limit were every request run in a batch of {BULK_N}, the largest the service forms (the batches it"
        " really ran average service_mean_batch images, fewer, so this limit is above the one they reach)",
    )

    naive64 = point(doc, "naive", 1, 64)
    vs_naive = _ratio(
        _div(_get(svc64, "req_per_s"), _get(naive64, "req_per_s")),
        2.0,
        True,
        "service (batching on) ÷ naive PyTorch peer, n=1 req/s at concurrency 64",
        service_req_per_s=_get(svc64, "req_per_s"),
        naive_req_per_s=_get(naive64, "req_per_s"),
    )

    # "Batching off" runs each request whole (GAN_BATCHING=off) up to max_batch rows; the first runs set
    # GAN_MAX_BATCH=1 instead, which also split every request into one-row runs. Where it did, on ÷ off
    # measures vectorisation within a request, not merging requests: those points are kept apart.
    whole = doc["servers"].get(off, {}).get("settings", {}).get("max_batch", 1)
    gains: dict[str, float | None] = {}
    vectorisation: dict[str, float | None] = {}
    for p in doc["servers"].get(on, {}).get("points", []):
        q = point(doc, off, p["n"], p["concurrency"])
        if q is not None:
            key = f"n={p['n']},c={p['concurrency']}"
            (gains if p["n"] <= whole else vectorisation)[key] = _div(p["img_per_s"], q["img_per_s"])
    finite = [g for g in gains.values() if g is not None]
    batching = _ratio(
        min(finite) if finite else None,
        1.0,
        True,
        "batching on ÷ off img/s at each point where 'off' ran every request whole; value is the minimum",
        per_point=gains,
        max=max(finite) if finite else None,
        vectorisation=vectorisation,
    )

    c1_p50 = _get(_get(point(doc, on, 1, 1), "latency_ms"), "p50")
    overhead = _ratio(
        None if c1_p50 is None else c1_p50 - raw1["ms_per_run_p50"],
        1.0,
        False,
        "service (batching on) p50 latency, n=1 at concurrency 1 − raw ORT batch-1 time per run (ms)",
        service_p50_ms=c1_p50,
        raw_ms_per_run=raw1["ms_per_run_p50"],
        noop_p50_ms=_get(_get(point(doc, "noop", 1, 1), "latency_ms"), "p50"),
    )
    out = {
        "bulk": bulk,
        "single_L1": single_l1,
        "single_L64": single_l64,
        "vs_naive": vs_naive,
        "batching_gain": batching,
        "overhead_ms": overhead,
    }
    encoded = raw.get(encoded_batch(doc.get("format", "png")))
    c4 = point(doc, on, BULK_N, 4)
    if encoded and c4:  # issue #39's point; runs before it measured neither
        out["bulk_c4"] = _ratio(
            _div(c4["img_per_s"], raw64["img_per_s"]),
            0.85,
            True,
            "service (batching on) n=64 img/s at concurrency 4 ÷ raw ORT batch-64 img/s",
            service_img_per_s=c4["img_per_s"],
            raw_img_per_s=raw64["img_per_s"],
        )
        out["bulk_c4_encoded"] = _ratio(
            _div(c4["img_per_s"], encoded["img_per_s"]),
            0.85,
            True,
            "service (batching on) n=64 img/s at concurrency 4 ÷ raw ORT batch 64 with each run's answer encoded"
            " in the run's format, one after the other on one thread (the work every answer adds to the model's)",
            service_img_per_s=c4["img_per_s"],
            raw_encoded_img_per_s=encoded["img_per_s"],
        )
    if "service_workers2" in doc["servers"]:  # scale-out: does a second process pay on this machine?
        per_point = {
            f"n={p['n']},c={p['concurrency']}": _div(
                p["img_per_s"], _get(point(doc, on, p["n"], p["concurrency"]), "img_per_s")
            )
            for p in doc["servers"]["service_workers2"]["points"]
        }
        out["workers_2_vs_1"] = _ratio(
            per_point.get("n=1,c=64"),
            1.0,
            True,
            "GAN_WORKERS=2 ÷ 1 img/s, n=1 at concurrency 64 (per_point: every point); above 1 a second worker pays",
            per_point=per_point,
        )
    return out


def _fmt(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    """Aligned columns: the `left` ones left-aligned, the rest (numbers) right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        cols = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in cols).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def render(doc: Doc) -> str:
    """Everything a reader needs from stdout: the machine, raw limits, each point, the ratios."""
    m = doc["machine"]
    out = [
        f"model {doc['model']} | {m['cpu_model']} | {m['usable_cpus']} CPUs | "
        f"onnxruntime {m['versions'].get('onnxruntime-gpu') or m['versions'].get('onnxruntime')} | "
        f"torch {m['versions'].get('torch', '-')} | client {doc['client']} | format {doc.get('format', 'png')} | "
        f"uvicorn {doc['uvicorn']['loop']}+{doc['uvicorn']['http']}",
    ]
    busy = doc["load_before"]["competing"] + doc["load_after"]["competing"]
    if busy:
        out.append(f"WARNING: other processes were busy on the CPU: {sorted({p['cmd'][:60] for p in busy})}")
    raw = doc["raw_ort"]
    out.append("")
    out.append(
        _table(
            ["raw ORT loop", "img/s", "ms/run p50"],
            [[f"batch {b}", _fmt(r["img_per_s"]), _fmt(r["ms_per_run_p50"], 3)] for b, r in raw["batches"].items()],
        )
    )
    rows = []
    for entry in doc["servers"].values():
        for p in entry["points"]:
            lat = p["latency_ms"]
            bad = sum(p.get("non_200", {}).values()) + sum(p.get("transport_errors", {}).values())
            bad += p.get("unfinished", 0)
            cores = p.get("cpu_cores", {})
            rows.append(
                [
                    entry["label"],
                    str(p["n"]),
                    str(p["concurrency"]),
                    _fmt(p["img_per_s"]),
                    _fmt(p["req_per_s"]),
                    _fmt(lat["p50"], 2),
                    _fmt(lat["p95"], 2),
                    _fmt(lat["p99"], 2),
                    str(bad),
                    _fmt(cores.get("server"), 2),
                    _fmt(cores.get("client"), 2),
                    _fmt(p.get("mean_batch_images"), 1),
                ]
            )
    out += [
        "",
        _table(
            [
                "server",
                "n",
                "conc",
                "img/s",
                "req/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "errors",
                "srv cpu",
                "cli cpu",
                "batch",
            ],
            rows,
        ),
    ]
    ratio_rows = []
    for name, r in doc["ratios"].items():
        verdict = {True: "met", False: "NOT met", None: "-"}[r["met"]]
        ratio_rows.append([name, _fmt(r["value"], 2), r["goal"], verdict, r["formula"]])
    out += ["", _table(["ratio", "value", "goal", "", "definition"], ratio_rows, left=(0, 3, 4))]
    return "\n".join(out)
