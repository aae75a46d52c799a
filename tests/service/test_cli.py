"""`python -m service`'s command line, run as the image's start command (the Dockerfile's ENTRYPOINT, so
`docker run IMAGE --port 9000` passes the same arguments): options override their GAN_* settings, `--help`
documents them, and anything else exits 2 with the usage instead of being ignored."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import REPO, dockerfile_cmd, free_port
from .launch import Launched, server_env, wait_ready

OPTIONS = ("--host", "--port", "--models-dir", "--log-level")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, *dockerfile_cmd()[1:], *args]
    env = server_env(REPO / "no-such-dir", free_port())
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_the_image_passes_its_arguments_to_the_service():
    assert dockerfile_cmd() == ["python", "-m", "service"]
    text = (REPO / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "service"]' in text and "\nCMD " not in text


def test_help_names_every_option_and_its_setting():
    done = run("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m service"), done.stderr
    for option in OPTIONS:
        setting = "GAN_" + option.removeprefix("--").replace("-", "_").upper()
        assert option in done.stdout and setting in done.stdout, (option, done.stdout)


@pytest.mark.parametrize(
    "args",
    [["--bogus"], ["serve"], ["--port", "eighty"], ["--port", "70000"], ["--log-level", "loud"], ["--port"]],
)
def test_a_bad_command_line_exits_2_with_the_usage(args: list[str]):
    done = run(*args)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith("usage: python -m service") and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1].startswith("python -m service: error: "), done.stderr


def _listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def test_options_override_their_settings(tiny_models_dir: Path, tmp_path: Path):
    """The environment names another host and port, a missing models folder and debug logging: the options win."""
    port, env_port = free_port(), free_port()
    args = ["--host", "127.0.0.1", "--port", str(port), "--models-dir", str(tiny_models_dir), "--log-level", "warning"]
    env = server_env(tmp_path / "missing", env_port, host="127.0.0.2", log_level="debug")
    cmd = [sys.executable, *dockerfile_cmd()[1:], *args]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=out)
    server = Launched(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_ready(server)
        names = {m["name"] for m in httpx.get(f"{server.url}/models").json()["models"]}
        assert names == {"tiny-dcgan", "tiny-cgan", "tiny-infogan", "tiny-rgb"}
        assert not _listening("127.0.0.2", port) and not _listening("127.0.0.2", env_port)
    finally:
        assert server.stop() == 0
    levels = {json.loads(line)["level"] for line in server.text().splitlines() if line.startswith("{")}
    assert levels <= {"warning", "error"}, server.text()[-2000:]
