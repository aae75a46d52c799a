"""Start the real service and a headless Chromium, for the playground tests and scripts/screenshots.py.

The browser is Debian's Chromium driven by Playwright's Python package (no Playwright browser
download), with every background network feature off so the page is the only thing talking.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

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
STARTUP_TIMEOUT_S = 90.0


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(models: Path, log: Path) -> Iterator[str]:
    """`python -m service` on a free loopback port; yields its base URL once /readyz says ready."""
    port = _free_port()
    env = os.environ | {
        "GAN_HOST": "127.0.0.1",
        "GAN_PORT": str(port),
        "GAN_MODELS_DIR": str(models),
        "GAN_THREADS": "1",  # the test machine is small and may be training
        "GAN_LOG_LEVEL": "warning",
    }
    env.pop("GAN_DEFAULT_MODEL", None)
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "service"], cwd=REPO, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready after {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
