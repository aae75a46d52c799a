"""The quick tier for the edit-test loop: `python -m pytest -m "not slow"` (README). Slow are the tests that
install the project, drive the browser, train or evaluate models, run the benchmark, or start servers of their own
to load them for minutes; they are marked here by path, so a new test in those files is slow too. The full
command runs every test, quick and slow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
# the evaluation classifier's features of the real images (training/diskcache.py): computed once per suite and shared
# by every worker and every command the tests start, as the servers share their proofs
os.environ.setdefault("GAN_FEATURE_CACHE", str(TESTS.parent / ".pytest_cache" / "gan-features"))

SLOW = {
    "test_walkthrough.py": "installs the project in a fresh venv and replays the README",
    "playground": "drives Chromium",
    "bench": "runs the benchmark",
    "training": "trains, exports and evaluates models",
    "service/test_fuzz.py": "schemathesis against a server",
    "service/test_soak.py": "memory over thousands of requests",
    "service/test_overload.py": "saturates servers of its own",
    "service/test_shutdown.py": "drains servers of its own",
    "service/test_workers.py": "worker processes",
    "service/test_transport.py": "keep-alive races over seconds",
    "service/test_container.py": "replays the image build in a fresh venv",
    "service/test_reload.py": "reloads under load",
    "service/test_import.py": "exports PyTorch modules to ONNX",
}


def is_slow(path: Path) -> bool:
    where = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""
    return any(where == slow or where.startswith(f"{slow}/") for slow in SLOW)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The quick tier does not even import the slow files (torch, Playwright, the benchmark): collecting them only
    to deselect them was a third of its time."""
    if config.option.markexpr.replace(" ", "") == "notslow" and is_slow(collection_path):
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow(Path(item.path)):
            item.add_marker(pytest.mark.slow)
