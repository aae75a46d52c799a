"""Dedicated servers for tests that need their own settings, and a deliberately slow tiny generator.

Every server is the Dockerfile's own start command on a free loopback port, started in a clean
`GAN_*` environment, and stopped (SIGTERM, then SIGKILL) when the test is done.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .conftest import PROOF_CACHE, REPO, dockerfile_cmd, free_port, tiny_manifest

STARTUP_TIMEOUT_S = 90.0


@dataclass
class Launched:
    """A running `python -m service`."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kw.pop("timeout", 60), **kw)

    def images_run(self, headers: dict[str, str] | None = None) -> float:
        """Images the server has run through its models so far (all models)."""
        text = httpx.get(f"{self.url}/metrics", headers=headers, timeout=30).text
        return sum(float(v) for v in re.findall(r"^gan_batch_size_images_sum\{[^}]*\} (\S+)$", text, re.M))

    def stop(self, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def server_env(models_dir: Path, port: int, **settings: Any) -> dict[str, str]:
    """The environment minus any inherited GAN_* variable, plus these settings as GAN_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAN_")}
    base = {"host": "127.0.0.1", "port": port, "models_dir": models_dir, "threads": 1, "log_level": "info"}
    base["proof_cache_dir"] = PROOF_CACHE  # shared by the tests' servers (conftest.py)
    env |= {f"GAN_{k.upper()}": str(v) for k, v in (base | settings).items()}
    return env


def start(
    models_dir: Path,
    log: Path,
    *,
    prefix: list[str] | None = None,
    cwd: Path = REPO,
    **settings: Any,
) -> Launched:
    """Start a server without waiting for it; `prefix` wraps the command (e.g. in a mount namespace)."""
    cmd = dockerfile_cmd()
    if cmd[0] == "python":
        cmd[0] = sys.executable
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*(prefix or []), *cmd], cwd=cwd, env=server_env(models_dir, port, **settings), stdout=out, stderr=out
        )
    return Launched(f"http://127.0.0.1:{port}", proc, log)


def wait_ready(server: Launched, timeout: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.text()[-4000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.text()[-4000:]}")


@contextlib.contextmanager
def serving(models_dir: Path, log: Path, **kw: Any) -> Iterator[Launched]:
    """A ready server for the duration of the block."""
    server = start(models_dir, log, **kw)
    try:
        wait_ready(server)
        yield server
    finally:
        server.stop()


def slow_generator(path: Path, layers: int = 200, width: int = 1024, latent_dim: int = 8, size: int = 8) -> None:
    """Like the tiny generator, but `layers` width×width MatMul+Tanh blocks make each run take a while.

    One weight matrix is shared by every block, so the file stays small while the work grows with `layers`.
    """
    rng = np.random.default_rng(1)
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.3, (latent_dim, width)).astype(np.float32), "W0"),
        numpy_helper.from_array(rng.normal(0, 1 / np.sqrt(width), (width, width)).astype(np.float32), "W"),
        numpy_helper.from_array(rng.normal(0, 0.1, (width, size * size)).astype(np.float32), "Wout"),
        numpy_helper.from_array(np.array([-1, 1, size, size], dtype=np.int64), "shape"),
    ]
    nodes = [helper.make_node("MatMul", ["z", "W0"], ["h0"])]
    for i in range(layers):
        nodes += [
            helper.make_node("MatMul", [f"h{i}", "W"], [f"m{i}"]),
            helper.make_node("Tanh", [f"m{i}"], [f"h{i + 1}"]),
        ]
    nodes += [
        helper.make_node("MatMul", [f"h{layers}", "Wout"], ["o"]),
        helper.make_node("Tanh", ["o"], ["t"]),
        helper.make_node("Reshape", ["t", "shape"], ["image"]),
    ]
    graph = helper.make_graph(
        nodes,
        "slow_generator",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", latent_dim])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, size, size])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_slow_model(models_dir: Path, name: str = "tiny-slow", **kw: Any) -> Path:
    folder = models_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    slow_generator(folder / "model.onnx", **kw)
    manifest = tiny_manifest(name, folder / "model.onnx")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
