"""`python -m training`: every command says what it is for, and a serve-only install is told what to install."""

import subprocess
import sys

from .conftest import REPO

COMMANDS = [
    "train",
    "all",
    "export",
    "classifier",
    "evaluate",
    "export-triton",
    "studies",
    "cyclegan",
    "stackgan",
    "encoder",
    "truncation",
    "calibrate",
    "import",
]


def training(*args: str, code: str = "") -> subprocess.CompletedProcess:
    script = f"import sys; {code}\nfrom training.__main__ import main; sys.exit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)


def test_help_gives_every_command_its_own_purpose():
    out = training("--help").stdout
    purposes = {}
    for line in out.splitlines():
        words = line.split(maxsplit=1)
        if len(words) == 2 and words[0] in [*COMMANDS, "list"]:
            purposes[words[0]] = words[1]
    assert set(purposes) == {*COMMANDS, "list"}
    assert len(set(purposes.values())) == len(purposes), "two commands share a purpose"


def test_without_torch_it_names_the_install_command():
    result = training("list", code="sys.modules['torch'] = None  # what a serve-only install has: no torch")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: training needs PyTorch and the other training libraries: pip install -e '.[train]'"
    )
    assert "Traceback" not in result.stderr
    assert training("--help", code="sys.modules['torch'] = None").returncode == 0


def test_a_calibration_of_no_batches_is_refused_before_anything_runs():
    for value in ("0", "-3", "two"):
        result = training("train", "mnist-dcgan", "--calibration-batches", value)
        assert result.returncode == 2, result.stderr[-2000:]
        assert f"argument --calibration-batches: '{value}' is not a whole number of at least 1" in result.stderr
