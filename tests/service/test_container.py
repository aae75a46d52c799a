"""The container's hardening: the compose file runs the image non-root on a read-only root file system,
and the service really works that way, with a read-only models directory and no writable working
directory (checked by running it in a mount namespace whose root file system is read-only)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO, TINY_KINDS, write_tiny_model
from .launch import start, wait_ready

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
    server = start(models, tmp_path / "server.log", prefix=READ_ONLY, cwd=REPO, admin_keys=ADMIN_KEY)
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
