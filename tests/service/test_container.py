"""The container's hardening: the compose file runs the image non-root on a read-only root file system,
and the service really works that way, with a read-only models directory and no writable working
directory (checked by running it in a mount namespace whose root file system is read-only). The image's
build leaves nothing behind and bakes nothing identifying in (checked by replaying its RUN step).

Docker's engine is not here: the Dockerfile is linted (test_api_ops.py), its start command is what every
test server runs (conftest.py), and its build step runs below in a fresh venv."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import fresh

from .conftest import REPO, TINY_KINDS, write_tiny_model
from .launch import serving, start, wait_ready

ADMIN_KEY = "admin-key-0123456789abcdef"
# Remount / read-only in a private mount namespace: like `read_only: true`, but stricter (no tmpfs on /tmp).
READ_ONLY = ["unshare", "--mount", "--propagation", "private"]
READ_ONLY += ["sh", "-c", 'mount -o remount,bind,ro / && exec "$@"', "-"]


def _compose() -> dict:
    yaml = pytest.importorskip("ruamel.yaml", reason="pip install check-jsonschema (brings ruamel.yaml)")
    return yaml.YAML(typ="safe").load((REPO / "docker-compose.yml").read_text())


@pytest.mark.parametrize("service", ["gan", "gan-gpu"])
def test_compose_runs_the_service_non_root_on_a_read_only_root(service: str):
    spec = _compose()["services"][service]
    assert spec["user"] == "10001:10001" and spec["read_only"] is True and spec["tmpfs"] == ["/tmp"]
    assert spec["cap_drop"] == ["ALL"] and "no-new-privileges:true" in spec["security_opt"]
    grace = int(spec["stop_grace_period"].removesuffix("s"))
    assert grace > 25  # longer than GAN_SHUTDOWN_GRACE_S's default, so the drain is never cut short


def _read_only_root_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*READ_ONLY, "sh", "-c", "! touch /.read-only-probe 2>/dev/null"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _read_only_root_available(), reason="needs unshare and mount rights (root or user namespaces)")
def test_the_service_runs_with_a_read_only_root_file_system(tmp_path: Path):
    models = tmp_path / "models"
    for name in ("tiny-dcgan", "tiny-infogan"):
        write_tiny_model(models, name, **TINY_KINDS[name])
    proofs = tmp_path / "proofs"  # the proof cache: read-only here like everything else
    server = start(
        models,
        tmp_path / "server.log",
        prefix=READ_ONLY,
        cwd=REPO,
        admin_keys=ADMIN_KEY,
        default_model="tiny-dcgan",
        proof_cache_dir=proofs,
    )
    try:
        wait_ready(server)
        with server.client() as c:
            assert c.post("/generate", json={"seed": 1, "n": 4}).status_code == 200
            assert c.post("/infogan", json={"model": "tiny-infogan", "format": "json"}).status_code == 200
            assert c.get("/models").status_code == 200 and c.get("/metrics").status_code == 200
            assert c.get("/models/tiny-dcgan/samples.png").status_code == 404  # looked for, not created
            reload = c.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
            assert reload.status_code == 200 and sorted(reload.json()["unchanged"]) == ["tiny-dcgan", "tiny-infogan"]
        assert not (REPO / ".read-only-probe").exists()
    finally:
        code = server.stop()
    assert code == 0, server.text()[-3000:]
    assert "Read-only file system" not in server.text()
    assert server.text().count("proof_cache=miss(absent),unwritable:EROFS") == 2 and not proofs.exists()  # proven
    assert not warnings(server.text())  # ONNX Runtime's telemetry used to warn that it could not save its device id


def warnings(log: str) -> list[str]:
    """Log lines that are not the service's JSON lines at level info."""
    lines = log.splitlines()
    return [line for line in lines if not line.startswith("{") or json.loads(line)["level"] != "info"]


def test_the_service_writes_nothing_under_home(tmp_path: Path):
    """ONNX Runtime's telemetry is off: no device id under $HOME/.cache, which an image would share with every
    container started from it, and nothing else either."""
    home, models = tmp_path / "home", tmp_path / "models"
    home.mkdir()
    write_tiny_model(models, "tiny-dcgan", **TINY_KINDS["tiny-dcgan"])
    wrap = ["env", "-u", "XDG_CACHE_HOME", f"HOME={home}"]
    with (
        serving(models, tmp_path / "server.log", prefix=wrap, default_model="tiny-dcgan") as server,
        server.client() as c,
    ):
        assert c.post("/generate", json={"seed": 1}).status_code == 200
    assert not list(home.rglob("*")) and not warnings(server.text())


def dockerfile_steps() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    steps = [line.strip().partition(" ") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [(word.upper(), rest.strip()) for word, _, rest in steps]


def test_the_image_build_leaves_no_build_outputs_and_no_device_id(tmp_path: Path):
    """The Dockerfile's first RUN, replayed as `sh -c` in a fresh venv on what its COPY lines bring, with its ARG and
    ENV values and an empty $HOME: the working directory keeps only what was copied (no build/, no egg-info), and
    nothing is cached under $HOME (its last command makes a real build fail on ONNX Runtime's device id too)."""
    steps = dockerfile_steps()
    first_run = next(i for i, (word, _) in enumerate(steps) if word == "RUN")
    app, home, no_torch = tmp_path / "app", tmp_path / "home", tmp_path / "no-torch" / "torch"
    app.mkdir()
    home.mkdir()
    env = fresh.venv(tmp_path / "venv") | {"HOME": str(home)}
    for word, rest in steps[:first_run]:
        if word == "COPY":
            *sources, dest = shlex.split(rest)
            for source in sources:
                target = app / dest / Path(source).name if dest.endswith("/") else app / dest
                copy = shutil.copytree if (REPO / source).is_dir() else shutil.copy2
                copy(REPO / source, target)
        elif word in ("ARG", "ENV"):
            env |= dict(pair.split("=", 1) for pair in shlex.split(rest))
    # The image has no torch and the build checks that; this test environment has it, so it is hidden here.
    no_torch.mkdir(parents=True)
    (no_torch / "__init__.py").write_text('raise ImportError("torch is not in the image")\n')
    env["PYTHONPATH"] = str(no_torch.parent)
    copied = sorted(os.listdir(app))
    done = subprocess.run(["sh", "-c", steps[first_run][1]], cwd=app, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert sorted(os.listdir(app)) == copied == ["README.md", "constraints.txt", "pyproject.toml", "service"]
    assert not (home / ".cache").exists()
