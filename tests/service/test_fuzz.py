"""Fuzzing a real server from its own OpenAPI document with schemathesis, as a user would run it.

`schemathesis run --checks all` (every check it has: no 5xx, documented status, content type, headers and
body schema, 401 without the key, schema-valid requests accepted, schema-violating ones refused) goes through
its examples, coverage, fuzzing and stateful phases against a server with API and admin keys and lowered
limits, and must report no failure and no warning over at least 1,500 generated cases. It reads the repository's
schemathesis.toml, which says the two things a document cannot (an uploaded image's contents; a client's own
deadline passing). Deterministic generation: CI sends the same requests every time.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .conftest import REPO
from .launch import Launched, serving

ADMIN_KEY = "fuzz-admin-key-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}  # admin keys are valid on every route
MIN_CASES = 1500
EXAMPLES = 30  # per operation and phase: about 3,000 cases, about a minute


@pytest.fixture(scope="module")
def fuzz_server(served_models_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    limits = {"max_n": 8, "max_steps": 8, "max_sweep": 8, "max_terms": 3, "max_term_seeds": 4}
    keys = {"admin_keys": ADMIN_KEY, "api_keys": "fuzz-api-key-0123456789"}
    with serving(served_models_dir, log, max_batch=4, **limits, **keys) as server:
        yield server


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    assert found, "schemathesis is a test dependency (pip install -e '.[test]')"
    return found


def test_schemathesis_run_checks_all_finds_nothing(fuzz_server: Launched, tmp_path: Path):
    report = tmp_path / "report.json"
    cmd = [_schemathesis(), "run", f"{fuzz_server.url}/openapi.json", "--checks", "all"]
    cmd += [
        "--generation-deterministic",
        "-n",
        str(EXAMPLES),
        "--no-color",
        "-H",
        f"Authorization: {AUTH['Authorization']}",
    ]
    cmd += ["--report", "json", "--report-json-path", str(report)]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "FAILURES" not in out, out[-6000:]
    assert "Configuration:    " + str(REPO / "schemathesis.toml") in out, out[:2000]
    assert "WARNINGS" not in out and "Warnings:" not in out, out[-6000:]
    cases = int(re.search(r"(\d+) generated", out).group(1))  # type: ignore[union-attr]
    assert cases >= MIN_CASES, out[-3000:]
    assert json.loads(report.read_text()), "schemathesis wrote no report"
    assert fuzz_server.proc.poll() is None


def test_the_document_names_served_models_and_declares_every_answer(fuzz_server: Launched):
    doc = httpx.get(f"{fuzz_server.url}/openapi.json", headers=AUTH).json()
    served = {m["name"] for m in httpx.get(f"{fuzz_server.url}/models", headers=AUTH).json()["models"]}
    generate = doc["paths"]["/generate"]["post"]
    schemas = doc["components"]["schemas"]
    union = schemas[generate["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    variants = union["anyOf"]
    assert union["examples"]  # Swagger UI's examples, those naming a served model
    names = {n for v in variants for n in schemas[v["$ref"].rsplit("/", 1)[1]]["properties"]["model"].get("enum", [])}
    names |= {
        n
        for v in variants
        for s in schemas[v["$ref"].rsplit("/", 1)[1]]["properties"]["model"].get("anyOf", [])
        for n in s.get("enum", [])
    }
    assert names and names <= served and "tiny-rgb" in names  # every generator, by name
    infer = doc["paths"]["/v2/models/{name}/infer"]["post"]
    assert set(infer["parameters"][0]["schema"]["enum"]) <= served and infer["requestBody"]["required"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert "401" in op["responses"] or path in ("/healthz", "/readyz"), (method, path)
            if "401" in op["responses"]:
                assert "WWW-Authenticate" in op["responses"]["401"]["headers"]
            if method == "post" and not path.startswith("/admin"):
                assert "client's own X-Deadline-Ms" in op["responses"]["408"]["description"], path
                assert "504" not in op["responses"]  # no GAN_DEFAULT_DEADLINE_MS on this server
                assert "Retry-After" in op["responses"]["503"]["headers"], path


def test_a_deadline_the_client_set_is_408_saying_so(fuzz_server: Launched):
    body = {"model": "tiny-rgb", "n": 8, "seed": 1}
    headers = AUTH | {"X-Deadline-Ms": "1"}
    answers = [httpx.post(f"{fuzz_server.url}/generate", json=body, headers=headers) for _ in range(5)]
    late = [r for r in answers if r.status_code != 200]
    assert late and all(r.status_code == 408 for r in late), [r.status_code for r in answers]
    assert all("the client's deadline (X-Deadline-Ms: 1) passed" in r.json()["detail"] for r in late)
