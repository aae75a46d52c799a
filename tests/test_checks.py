"""The README's test command fails where the code would fail review: ruff's lint and format checks over the
repository, and mypy over service/ and gan_client/ (pyproject.toml's [tool.mypy] names them and sets how strict)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKS = {
    "ruff-check": ["ruff", "check", "."],
    "ruff-format": ["ruff", "format", "--check", "."],
    "mypy": ["mypy"],  # the files and the strictness come from [tool.mypy]
}


@pytest.mark.parametrize("args", list(CHECKS.values()), ids=list(CHECKS))
def test_check_passes(args: list[str]):
    done = subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"`{' '.join(args)}` exited {done.returncode}:\n{done.stdout}{done.stderr}", pytrace=False)
