"""`python -m bench` on a model imported from elsewhere (issue #37): it has no PyTorch class in this project, so
the naive peer runs its ONNX file; every contender still answers every point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.service.outside import outside_generator
from training.__main__ import main as training_main

REPO = Path(__file__).resolve().parents[2]


def test_the_benchmark_runs_on_an_imported_colour_model(tmp_path: Path) -> None:
    source = outside_generator(tmp_path / "cond.onnx", channels=3, size=32, num_classes=3)
    models = tmp_path / "models"
    args = ["import", str(source), "--name", "outside", "--out", str(models), "--num-classes", "3"]
    assert training_main(args) == 0
    argv = [sys.executable, "-m", "bench", "--quick", "--duration", "0.3", "--warmup", "0.1", "--raw-seconds", "0.05"]
    argv += ["--model", "outside", "--models-dir", str(models), "--servers", "naive,service_batched"]
    argv += ["--out", str(tmp_path / "bench"), "--no-plot"]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    doc = json.loads((tmp_path / "bench" / "results.json").read_text())
    assert set(doc["servers"]) == {"naive", "service_batched"}
    for name, server in doc["servers"].items():
        for p in server["points"]:
            assert p["non_200"] == {} and p["transport_errors"] == {}, (name, p)
        assert any(p["requests"] > 0 for p in server["points"]), name
