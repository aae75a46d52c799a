"""The quick tier for the edit-test loop: `python -m pytest -m "not slow"` (README). Slow are the tests that
install the project, drive the browser, train or evaluate models, run the benchmark, or start servers of their own
to load them for minutes; they are marked here by path, so a new test in those files is slow too. The full
command runs every test, quick and slow."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = Path(item.path).relative_to(TESTS).as_posix()
        if any(where == path or where.startswith(f"{path}/") for path in SLOW):
            item.add_marker(pytest.mark.slow)
