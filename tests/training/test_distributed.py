import os
import re
import subprocess
import sys

from .conftest import REPO


def test_two_gloo_ranks_end_with_identical_weights(tmp_path, data_dir):
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "training",
        "train",
        "mnist-dcgan",
        "--limit",
        "512",
        "--max-steps",
        "3",
        "--val-samples",
        "256",
        "--calibration-batches",
        "2",
        "--fresh",
        "--data-dir",
        str(data_dir),
        "--runs-dir",
        str(tmp_path / "runs"),
        "--device",
        "cpu",
    ]
    env = os.environ | {"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path, env=env)
    # Without the progress bars, what the ranks and the agent said fits in the failure message.
    said = "\n".join(line for line in result.stderr.splitlines() if "batch/s" not in line)
    assert result.returncode == 0, said[-6000:]
    prints = dict(re.findall(r"rank (\d) of 2: weights sha256 ([0-9a-f]{64})", result.stderr))
    assert set(prints) == {"0", "1"}, said[-6000:]
    assert prints["0"] == prints["1"]
    assert (tmp_path / "runs" / "mnist-dcgan" / "checkpoint.pt").exists()
