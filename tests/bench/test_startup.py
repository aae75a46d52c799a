"""bench/startup.py and bench/breakdown.py run and report what docs/OPERATIONS.md and docs/bench quote: time to
ready sequential, cold and warm (every warm graph a proof-cache hit, asserted by the script), and the stages of an
n=64 request beside its session run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.service.conftest import REPO, TINY_KINDS, write_tiny_model


def test_startup_times_sequential_cold_and_warm_starts(tmp_path: Path):
    models = tmp_path / "models"
    for name in ("tiny-dcgan", "tiny-cgan"):
        write_tiny_model(models, name, **TINY_KINDS[name])
    out = tmp_path / "startup.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.startup", "--runs", "1", "--models-dir", str(models), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for kind in ("sequential", "cold", "warm"):
        assert re.search(rf"^  {kind}: \d+\.\d s", done.stdout, re.M), done.stdout
    assert re.search(r"^  tiny-cgan +\d+ +\d+ +\d+$", done.stdout, re.M), done.stdout
    assert out.is_file()


def test_breakdown_times_each_stage_of_an_n64_request():
    done = subprocess.run(
        [sys.executable, "-m", "bench.breakdown", "--repeats", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for stage in ("sample", "session run (64 rows)", "png grid", "64 pngs + base64", "json body"):
        assert re.search(rf"^  {re.escape(stage)}.* +\d+\.\d{{3}} +\d+\.\d\d$", done.stdout, re.M), done.stdout
