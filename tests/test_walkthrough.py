"""The newcomer's walk-through, replayed as a script from the README itself.

In a fresh copy of the repository and a fresh venv (tests/fresh.py: the test environment's packages stand in
for PyPI), README command 1 (`pip install -c constraints.txt . && python -m service`) serves the committed models
on a free loopback port; then every `curl` and `gan` example of the README, and its Python snippet, runs against it
as written, `localhost:8000` pointed at that port. Each must succeed and write a valid PNG of the size its
request implies, and the install must leave nothing `git status` would show. Two settings keep it fast and
local: GAN_HOST and GAN_PORT (loopback, a free port) and GAN_MAX_BATCH=4 (start-up proves byte identity at
every batch size up to it; the default 64 takes half a minute on two busy cores).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests import fresh
from tests.service.conftest import free_port

README = fresh.REPO / "README.md"
TILE = 28  # the MNIST-family models draw 28×28 grey images, the emoji models 32×32 RGB
STARTUP_TIMEOUT_S = 60.0


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.S | re.M)


def readme_commands() -> list[str]:
    """Every command line of the README's bash blocks, continuation lines joined, comment lines left out."""
    lines = "\n".join(readme_blocks("bash")).replace("\\\n", " ").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def expected_size(command: str) -> tuple[int, int]:
    """The PNG a sampling example writes: a grid of ceil(sqrt(n)) columns, a walk or a sweep in one row (the
    CLI's layout), a translation as source and result side by side."""
    tile = 32 if "emoji" in command else TILE
    if "translate" in command:
        return 2 * tile, tile
    count = re.search(r'"n": (\d+)|-n (\d+)', command)
    n = int(next(g for g in count.groups() if g)) if count else 1
    if command.startswith("gan interpolate"):
        n = int(re.search(r"--steps (\d+)", command)[1])  # type: ignore[index]
        return n * tile, tile
    if command.startswith("gan infogan"):
        n = len(re.search(r"--sweep \S+=(\S+)", command)[1].split(","))  # type: ignore[index]
        return n * tile, tile
    columns = math.ceil(math.sqrt(n))
    return columns * tile, math.ceil(n / columns) * tile


def png_size(data: bytes, mode: str = "L") -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.format == "PNG" and img.mode == mode
        return img.size


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], str]]:
    """README command 1, running: the fresh copy, the environment the examples run in, the server's URL."""
    root = tmp_path_factory.mktemp("walkthrough")
    repo = fresh.checkout(root / "repo")
    env = fresh.venv(root / "venv")
    before = {p.relative_to(repo) for p in repo.rglob("*") if p.is_file()}
    (install,) = [c for c in readme_commands() if c.startswith("pip install ") and "python -m service" in c]
    port = free_port()
    server_env = env | {"GAN_HOST": "127.0.0.1", "GAN_PORT": str(port), "GAN_MAX_BATCH": "4"}
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", install], cwd=repo, env=server_env, stdout=out, stderr=out, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _ready(url):
            assert proc.poll() is None, f"README command 1 exited with {proc.returncode}:\n{log.read_text()[-4000:]}"
            assert time.monotonic() < deadline, f"not ready after {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-4000:]}"
            time.sleep(0.1)
        yield repo, env | {"GAN_URL": url}, url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # bash and the server it started
        proc.wait(timeout=30)
    after = {p.relative_to(repo) for p in repo.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    new = sorted(str(p) for p in after - before if p.suffix != ".png")  # the examples' outputs are PNGs
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        input="\n".join(new),
        cwd=fresh.REPO,
        capture_output=True,
        text=True,
    )
    assert any(p.startswith("build/") for p in new)  # what the README's `pip install .` writes into the tree ...
    assert sorted(ignored.stdout.split()) == new, "pip install . left files git status would show"  # ... is ignored


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_every_curl_and_gan_example_writes_the_png_it_promises(walkthrough: tuple[Path, dict[str, str], str]):
    repo, env, url = walkthrough
    examples = [c for c in readme_commands() if c.startswith(("curl ", "gan "))]
    assert len(examples) >= 12, examples
    for command in examples:
        done = subprocess.run(
            ["bash", "-c", command.replace("localhost:8000", url.removeprefix("http://"))],
            cwd=repo,
            env=env,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, (command, done.stderr.decode()[-2000:])
        output = re.search(r" -o (\S+)", command)
        if output:
            mode = "RGB" if "emoji" in command else "L"
            assert png_size((repo / output[1]).read_bytes(), mode) == expected_size(command), command
        elif command.startswith("curl -s localhost:8000/models"):
            assert "mnist-dcgan" in {m["name"] for m in json.loads(done.stdout)["models"]}
        else:
            assert command == "gan models", f"a new README example needs an expectation here: {command}"
            assert re.search(rb"^mnist-dcgan +dcgan", done.stdout, re.M), done.stdout


def test_the_python_example_returns_the_png_it_promises(walkthrough: tuple[Path, dict[str, str], str]):
    repo, env, url = walkthrough
    (snippet,) = [block for block in readme_blocks("python") if "GanClient" in block]
    code = snippet.replace("http://localhost:8000", url) + "\nimport sys\nsys.stdout.buffer.write(png)\n"
    done = subprocess.run(["python", "-c", code], cwd=repo, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert png_size(done.stdout) == expected_size('"n": 16')
