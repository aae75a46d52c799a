"""Starting and stopping the benchmarked servers: one process each, on a free loopback port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
STOP_TIMEOUT_S = 15.0


class ServerFailed(RuntimeError):
    """A server exited or never became ready; the message ends with its log."""


@dataclass(frozen=True)
class ServerSpec:
    """How to start one contender. `{port}` in argv or env values is replaced by its port."""

    name: str
    label: str  # for tables and plots
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/healthz"  # polled until it answers 200
    info_path: str | None = None  # a JSON document recorded once ready (settings, threads)


@dataclass
class RunningServer:
    spec: ServerSpec
    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    info: dict[str, Any] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str, timeout: float = 2.0) -> tuple[int, Any]:
    """(status, parsed body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError):
        return 0, None


def _tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running(spec: ServerSpec, workdir: Path, timeout_s: float = 120.0, repo: Path = REPO) -> Iterator[RunningServer]:
    """Start `spec` from the code in `repo` (another checkout, to compare versions), wait until it is
    ready, yield it, and always stop it."""
    port = free_port()
    argv = [sys.executable if a == "python" else a.replace("{port}", str(port)) for a in spec.argv]
    env = os.environ | {k: v.replace("{port}", str(port)) for k, v in spec.env.items()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    log = workdir / f"{spec.name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = RunningServer(spec, proc, port, log)
    try:
        deadline = time.monotonic() + timeout_s
        while get_json(server.url + spec.ready_path)[0] != 200:
            if proc.poll() is not None:
                raise ServerFailed(f"{spec.name} exited with {proc.returncode}:\n{_tail(log)}")
            if time.monotonic() > deadline:
                raise ServerFailed(f"{spec.name} not ready after {timeout_s:.0f} s:\n{_tail(log)}")
            time.sleep(0.05)
        if spec.info_path:
            server.info = get_json(server.url + spec.info_path)[1]
        yield server
    finally:
        stop(proc)
