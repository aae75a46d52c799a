"""`python -m bench --quick` end to end with a tiny time budget, plus its pure parts.

Nothing here asserts a speed: timings belong to the benchmark's report, not to tests. The
end-to-end test checks that one run starts and stops every server and leaves a complete
results document (every figure and every ratio) and a plot.
"""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.load import PointResult, Sample, percentile, run_point, summarise
from bench.report import ratios, render

REPO = Path(__file__).resolve().parents[2]
SERVERS = ("noop", "naive", "service_unbatched", "service_batched")
RATIOS = ("bulk", "single_L1", "single_L64", "vs_naive", "batching_gain", "overhead_ms", "bulk_c4", "bulk_c4_encoded")
SINGLE = [(1, 1), (1, 8), (1, 64), (1, 256)]
BULK = [(64, 1), (64, 4), (64, 8)]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, str]:
    out = tmp_path_factory.mktemp("bench")
    argv = [sys.executable, "-m", "bench", "--quick", "--duration", "0.3", "--warmup", "0.1"]
    argv += ["--raw-seconds", "0.05", "--out", str(out)]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads((out / "results.json").read_text()), out, done.stdout


def test_quick_run_measures_every_contender_at_every_point(quick_run: tuple[dict[str, Any], Path, str]) -> None:
    doc, _, _ = quick_run
    assert doc["quick"] is True
    assert set(doc["servers"]) == set(SERVERS)
    for name in SERVERS:
        got = {(p["n"], p["concurrency"]) for p in doc["servers"][name]["points"]}
        assert got == set(SINGLE if name == "noop" else SINGLE + BULK), name
        for p in doc["servers"][name]["points"]:
            assert p["requests"] > 0, (name, p)
            assert p["req_per_s"] > 0 and p["img_per_s"] == pytest.approx(p["n"] * p["req_per_s"])
            assert all(math.isfinite(p["latency_ms"][q]) for q in ("p50", "p95", "p99"))
            assert p["non_200"] == {} and p["transport_errors"] == {}, (name, p)
    for batch in ("1", "64", "64+png"):
        raw = doc["raw_ort"]["batches"][batch]
        assert raw["img_per_s"] > 0 and raw["ms_per_run_p50"] > 0
    assert doc["raw_ort"]["batches"]["64+png"]["answer"] == "png" and doc["raw_ort"]["batches"]["64"]["answer"] is None


def test_quick_run_reports_machine_settings_and_every_ratio(quick_run: tuple[dict[str, Any], Path, str]) -> None:
    doc, out, stdout = quick_run
    m = doc["machine"]
    assert m["cpu_model"] and m["usable_cpus"] >= 1 and m["versions"]["python"]
    assert "competing" in doc["load_before"] and "competing" in doc["load_after"]
    assert doc["uvicorn"]["loop"] in ("uvloop", "asyncio")
    off, on = doc["servers"]["service_unbatched"]["settings"], doc["servers"]["service_batched"]["settings"]
    assert (off["batching"], on["batching"]) == ("off", "on") and off["max_batch"] == on["max_batch"] >= 64
    assert doc["servers"]["naive"]["info"]["torch_threads"]["intra_op"] >= 1
    assert set(doc["ratios"]) == set(RATIOS)
    for name in RATIOS:
        r = doc["ratios"][name]
        assert isinstance(r["value"], float) and math.isfinite(r["value"]), name
        assert r["met"] in (True, False) and r["goal"] and r["formula"]
    assert set(doc["ratios"]["batching_gain"]["inputs"]["per_point"]) == {f"n={n},c={c}" for n, c in SINGLE + BULK}
    assert (out / "throughput.png").stat().st_size > 10_000
    for name in RATIOS:
        assert name in stdout


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 99) == 99.0 and percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0 and math.isnan(percentile([], 50))


def test_summarise_counts_answers_in_the_window_and_latency_of_requests_sent_in_it() -> None:
    result = PointResult(
        samples=[
            Sample(0.5, 1.5, 200),  # sent in warm-up, answered in the window: throughput only
            Sample(1.2, 1.4, 200),
            Sample(2.5, 3.5, 200),  # sent in the window, answered in the drain: latency only
            Sample(1.3, 1.31, 503),
        ]
    )
    s = summarise(result, n=4, window=(1.0, 3.0))
    assert s["req_per_s"] == pytest.approx(2 / 2.0) and s["img_per_s"] == pytest.approx(4.0)
    assert s["requests"] == 2 and s["latency_ms"]["max"] == pytest.approx(1000.0)
    assert s["non_200"] == {"503": 1}


def test_the_window_opens_once_every_connection_was_answered() -> None:
    """A first round slower than the warm-up (256 connections on a busy machine) still has requests sent in the
    window: it opens after the last first answer, not when the warm-up's time is up."""
    first_round = asyncio.Event()

    async def send(body: bytes) -> int:
        if not first_round.is_set():  # every connection's first request waits 0.3 s, six times the warm-up
            await asyncio.sleep(0.3)
            first_round.set()
        await asyncio.sleep(0.001)
        return 200

    result, (start, stop) = asyncio.run(run_point(send, lambda seed: b"", 32, 0.05, 0.2, 1.0))
    firsts = sorted(s.finished for s in result.samples)[:32]
    assert start >= firsts[-1] and stop == pytest.approx(start + 0.2)
    s = summarise(result, 1, (start, stop))
    assert s["requests"] > 0 and s["req_per_s"] > 0 and result.unfinished == 0


def _doc(service_on: float, service_off: float) -> dict[str, Any]:
    """A results document with round numbers, to check the ratio arithmetic."""

    def pt(n: int, c: int, req_s: float, p50: float = 1.0) -> dict[str, Any]:
        lat = {"p50": p50, "p95": p50, "p99": p50, "mean": p50, "max": p50}
        point = {"n": n, "concurrency": c, "req_per_s": req_s, "img_per_s": n * req_s, "latency_ms": lat}
        return point | {"mean_batch_images": 50.0}

    def server(req_s: float) -> dict[str, Any]:
        return {"label": "x", "points": [pt(n, c, req_s / n) for n, c in SINGLE + BULK]}

    return {
        "raw_ort": {
            "batches": {
                "1": {"img_per_s": 4000.0, "ms_per_run_p50": 0.25},
                "64": {"img_per_s": 8000.0, "ms_per_run_p50": 8.0},
                "64+png": {"img_per_s": 6000.0, "ms_per_run_p50": 10.67, "answer": "png"},
            }
        },
        "servers": {
            "noop": {"label": "noop", "points": [pt(1, c, 4000.0) for _, c in SINGLE]},
            "naive": server(500.0),
            "service_unbatched": server(service_off),
            "service_batched": server(service_on),
        },
    }


def test_ratios_follow_their_definitions() -> None:
    r = ratios(_doc(service_on=1800.0, service_off=900.0))
    assert r["single_L1"]["inputs"]["L"] == pytest.approx(2000.0)  # 1 / (1/4000 + 1/4000)
    assert r["single_L1"]["value"] == pytest.approx(0.9) and r["single_L1"]["met"] is True
    assert r["single_L64"]["inputs"]["L"] == pytest.approx(8000.0 / 3)  # 1 / (1/4000 + 1/8000)
    assert r["single_L64"]["value"] == pytest.approx(0.675) and r["single_L64"]["met"] is False
    assert r["single_L64"]["inputs"]["service_mean_batch"] == 50.0
    # the label says the batch L64 is computed at (64), not the service's mean batch it is not computed at
    assert "a batch of 64" in r["single_L64"]["formula"]
    assert "at the batches the service ran" not in r["single_L64"]["formula"]
    assert r["bulk"]["value"] == pytest.approx(1800.0 / 8000.0) and r["bulk"]["met"] is False
    assert r["bulk_c4"]["value"] == pytest.approx(1800.0 / 8000.0)
    assert r["bulk_c4_encoded"]["value"] == pytest.approx(1800.0 / 6000.0)  # the png limit: format png by default
    doc = _doc(service_on=1800.0, service_off=900.0) | {"format": "json"}
    assert "bulk_c4" not in ratios(doc), "a json run has no limit measured with the png answer"
    assert r["vs_naive"]["value"] == pytest.approx(3.6)
    assert r["batching_gain"]["value"] == pytest.approx(2.0)
    assert r["overhead_ms"]["value"] == pytest.approx(0.75) and r["overhead_ms"]["met"] is True


def test_batching_gain_compares_merging_only_where_batching_off_ran_each_request_whole() -> None:
    doc = _doc(service_on=1800.0, service_off=900.0)
    doc["servers"]["service_unbatched"]["settings"] = {"batching": "off", "max_batch": 64}
    assert set(ratios(doc)["batching_gain"]["inputs"]["per_point"]) == {f"n={n},c={c}" for n, c in SINGLE + BULK}
    doc["servers"]["service_unbatched"]["settings"] = {"max_batch": 1}  # the first runs: "off" split every request
    gain = ratios(doc)["batching_gain"]["inputs"]
    assert set(gain["per_point"]) == {f"n=1,c={c}" for _, c in SINGLE}
    assert set(gain["vectorisation"]) == {f"n=64,c={c}" for _, c in BULK}


@pytest.mark.parametrize(
    "path",
    [
        "results.json",
        "clients/wrk.json",
        "clients/aiohttp.json",
        *sorted(p.relative_to(REPO / "docs" / "bench").as_posix() for p in (REPO / "docs/bench/quiet").glob("*.json")),
        "colour/emoji-dcgan/results.json",
        "colour/mnist-dcgan/results.json",
        "bulk-wrk/json/results.json",
        "bulk-wrk/png/results.json",
        "bulk-c4/json/results.json",
        "bulk-c4/png/results.json",
    ],
)
def test_the_committed_ratios_are_the_committed_figures_run_through_ratios(path: str) -> None:
    doc = json.loads((REPO / "docs" / "bench" / path).read_text())
    assert doc["ratios"] == ratios(doc)


def test_a_missing_contender_leaves_its_ratios_empty_not_wrong() -> None:
    doc = _doc(1800.0, 900.0)
    del doc["servers"]["naive"], doc["servers"]["noop"]
    r = ratios(doc)
    assert r["vs_naive"]["value"] is None and r["vs_naive"]["met"] is None
    assert r["single_L1"]["value"] is None and r["single_L64"]["value"] is None
    doc |= {"model": "m", "client": "aiohttp", "uvicorn": {"loop": "uvloop", "http": "httptools"}}
    doc |= {"machine": {"cpu_model": "cpu", "usable_cpus": 2, "versions": {}}}
    doc |= {"load_before": {"competing": []}, "load_after": {"competing": []}, "ratios": r}
    assert "vs_naive" in render(doc)


def test_runs_write_under_runs_unless_out_says_otherwise() -> None:
    """The committed docs/bench figures change only when asked for."""
    from bench.__main__ import parse_args

    assert parse_args([]).out == REPO / "runs" / "bench"
    assert parse_args(["--quick"]).out == REPO / "runs" / "bench-quick"
    assert parse_args(["--out", "docs/bench"]).out == Path("docs/bench")


@pytest.fixture(scope="module")
def wrk_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """The same points driven by wrk, against one and two service workers (and the no-op, for L), every request
    asking for JSON (the aiohttp run asks for PNG)."""
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (README: apt-get install -y chromium wrk)")
    out = tmp_path_factory.mktemp("bench-wrk")
    argv = [sys.executable, "-m", "bench", "--quick", "--client", "wrk", "--format", "json", "--duration", "1"]
    argv += ["--warmup", "0", "--servers", "noop,service_batched,service_workers2", "--raw-seconds", "0.05"]
    done = subprocess.run(
        [*argv, "--no-plot", "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads((out / "results.json").read_text()), done.stdout


def test_wrk_drives_the_same_points_and_two_workers_are_compared(wrk_run: tuple[dict[str, Any], str]) -> None:
    doc, _ = wrk_run
    assert doc["client"] == "wrk"
    assert set(doc["servers"]) == {"noop", "service_batched", "service_workers2"}
    for name, entry in doc["servers"].items():
        got = {(p["n"], p["concurrency"]) for p in entry["points"]}
        assert got == set(SINGLE if name == "noop" else SINGLE + BULK), name
        for p in entry["points"]:
            assert p["requests"] > 0 and p["non_200"] == {} and p["transport_errors"] == {}, (name, p)
            assert all(math.isfinite(p["latency_ms"][q]) for q in ("p50", "p99"))
            assert p["cpu_cores"]["client"] is not None and p["cpu_cores"]["server"] > 0, (name, p)
    assert doc["servers"]["service_workers2"]["settings"]["workers"] == 2
    workers = doc["ratios"]["workers_2_vs_1"]
    assert isinstance(workers["value"], float) and set(workers["inputs"]["per_point"]) == {
        f"n={n},c={c}" for n, c in SINGLE + BULK
    }


def test_format_json_asks_every_request_for_json() -> None:
    """`--format json`: the bodies the load generators post (both aiohttp/httpx and wrk use this prefix)."""
    from bench.load import body_prefix

    spec = {"model": "mnist-dcgan", "format": "json"}
    assert json.loads(body_prefix(spec, 64) + "7}") == {"model": "mnist-dcgan", "n": 64, "format": "json", "seed": 7}
    assert json.loads(body_prefix(spec | {"format": "png"}, 1) + "7}") == {"model": "mnist-dcgan", "n": 1, "seed": 7}


def test_wrk_with_format_json_records_the_format_and_its_encoded_limit(wrk_run: tuple[dict[str, Any], str]) -> None:
    doc, stdout = wrk_run
    assert doc["format"] == "json" and "format json" in stdout
    assert doc["raw_ort"]["batches"]["64+json"]["answer"] == "json" and "bulk_c4_encoded" in doc["ratios"]


def test_a_wrk_warm_up_of_zero_sends_nothing_before_the_window() -> None:
    """wrk's windows are whole seconds, so a warm-up of 0 must skip it, not round it up to one (bench/wrk.py).
    The warm-up posts seeds from 10**9 and the window from 0, so the seeds a real server saw tell them apart."""
    import http.server
    import threading

    from bench import wrk

    if wrk.available() is None:
        pytest.skip("wrk is not installed (README: apt-get install -y chromium wrk)")
    seeds: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            seeds.append(json.loads(self.rfile.read(int(self.headers["Content-Length"])))["seed"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url, prefix = f"http://127.0.0.1:{server.server_port}/generate", '{"n": 1, "seed": '
    try:
        result = wrk.point(url, prefix, 1, 1, warmup_s=0, duration_s=1)
        assert seeds and max(seeds) < 10**9 and result["requests"] > 0
        seeds.clear()
        wrk.point(url, prefix, 1, 1, warmup_s=0.1, duration_s=1)
        assert min(seeds) < 10**9 <= max(seeds)
    finally:
        server.shutdown()
