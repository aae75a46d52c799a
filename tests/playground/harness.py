"""Start the real service and a headless Chromium, for the playground tests and scripts/screenshots.py.

The browser is Debian's Chromium driven by Playwright's Python package (no Playwright browser
download), with every background network feature off so the page is the only thing talking.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXPORTED = REPO / "exported_models"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def has_infogan(models_dir: Path) -> bool:
    return any(json.loads(m.read_text()).get("codes") for m in models_dir.glob("*/manifest.json"))


@contextlib.contextmanager
def models_dir() -> Iterator[Path]:
    """Every real exported model, plus a tiny InfoGAN generator while no real one is exported yet."""
    with tempfile.TemporaryDirectory(prefix="playground-models-") as tmp:
        root = Path(tmp)
        for manifest in sorted(EXPORTED.glob("*/manifest.json")):
            (root / manifest.parent.name).symlink_to(manifest.parent, target_is_directory=True)
        if not has_infogan(root):
            from tests.service.conftest import TINY_KINDS, write_tiny_model  # needs onnx, only on this path

            write_tiny_model(root, "tiny-infogan", **TINY_KINDS["tiny-infogan"])
        yield root


@contextlib.contextmanager
def serve(models: Path, log: Path) -> Iterator[str]:
    """The service tests' launcher (the Dockerfile's command on a free loopback port); yields the base URL."""
    from tests.service.launch import serving

    with serving(models, log, log_level="warning") as server:
        yield server.url
