"""The short soak: scripts/soak.py sends a few thousand mixed requests (every route, both formats, bad input,
unknown models, missed deadlines) to a server it starts, and fails when the server's RSS grew more than 10%
after the warm-up, any request got a 500 or any got no HTTP answer at all. The full 100,000-request run is
`python scripts/soak.py`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

REQUESTS = 4000
WARMUP = 1500


def test_a_short_soak_keeps_rss_growth_within_10_percent(served_models_dir: Path):
    cmd = [sys.executable, "scripts/soak.py", "--requests", str(REQUESTS), "--warmup", str(WARMUP)]
    cmd += ["--models-dir", str(served_models_dir), "--max-growth", "10"]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:] + run.stdout[-3000:]
    report = json.loads(run.stdout)
    assert report["requests"] == REQUESTS and report["growth_pct"] <= 10
    assert report["transport_errors"] == 0, report["statuses"]  # every request got an HTTP answer
    statuses = report["statuses"]
    assert set(statuses) <= {"200", "404", "408", "422"}, statuses  # 408: deadlines of 1 ms
    assert statuses["200"] >= 0.7 * REQUESTS and statuses["422"] and statuses["404"]
