"""Model integrity at start-up: a model whose file differs from its manifest's sha256, whose ONNX file is
corrupt, or whose manifest is invalid is not served and /readyz names it, while the others serve. With
nothing servable the process exits non-zero with one clear line on stderr."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from .conftest import TINY_KINDS, write_tiny_model
from .launch import serving, start


def _rehash(folder: Path) -> None:
    """Make the manifest's sha256 match whatever the ONNX file now holds."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["sha256"] = hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def write_bad_models(root: Path) -> dict[str, str]:
    """One folder per way a model can be unservable → a phrase its /readyz reason must contain."""
    write_tiny_model(root, "bad-sha", corrupt=True)
    truncated = write_tiny_model(root, "bad-truncated")
    data = (truncated / "model.onnx").read_bytes()
    (truncated / "model.onnx").write_bytes(data[: len(data) // 2])
    _rehash(truncated)
    garbage = write_tiny_model(root, "bad-garbage")
    (garbage / "model.onnx").write_bytes(b"\x00not an onnx model" * 100)
    _rehash(garbage)
    write_tiny_model(root, "bad-json")
    (root / "bad-json" / "manifest.json").write_text("{not json")
    schema = write_tiny_model(root, "bad-schema")
    manifest = json.loads((schema / "manifest.json").read_text())
    (schema / "manifest.json").write_text(json.dumps(manifest | {"latent_dim": -1}))
    signature = write_tiny_model(root, "bad-signature")
    manifest = json.loads((signature / "manifest.json").read_text())
    manifest["latent_dim"] = 9  # the graph takes 8
    manifest["inputs"][0]["shape"] = ["N", 9]
    (signature / "manifest.json").write_text(json.dumps(manifest))
    missing = write_tiny_model(root, "bad-missing-file")
    (missing / "model.onnx").unlink()
    (root / "bad-no-manifest").mkdir()
    return {
        "bad-sha": "sha256",
        "bad-truncated": "ONNX Runtime cannot load",
        "bad-garbage": "ONNX Runtime cannot load",
        "bad-json": "invalid manifest.json",
        "bad-schema": "latent_dim",
        "bad-signature": "do not match the manifest",
        "bad-missing-file": "missing",
        "bad-no-manifest": "no manifest.json",
    }


def test_bad_models_are_named_and_the_good_ones_serve(tmp_path: Path):
    models = tmp_path / "models"
    expected = write_bad_models(models)
    write_tiny_model(models, "tiny-dcgan", **TINY_KINDS["tiny-dcgan"])
    with serving(models, tmp_path / "server.log") as server:
        ready = httpx.get(f"{server.url}/readyz").json()
        assert ready["status"] == "ready" and ready["models"] == ["tiny-dcgan"]
        assert set(ready["failed"]) == set(expected)
        for name, phrase in expected.items():
            assert phrase in ready["failed"][name], (name, ready["failed"][name])
        assert [m["name"] for m in httpx.get(f"{server.url}/models").json()["models"]] == ["tiny-dcgan"]
        assert httpx.post(f"{server.url}/generate", json={"seed": 1}).status_code == 200
        for name in expected:
            assert httpx.post(f"{server.url}/generate", json={"model": name}).status_code == 404


@pytest.mark.parametrize("case", ["only-bad-models", "empty-dir", "no-dir"])
def test_nothing_servable_exits_non_zero_with_one_clear_line(tmp_path: Path, case: str):
    models = tmp_path / "models"
    if case == "only-bad-models":
        write_bad_models(models)
    elif case == "empty-dir":
        models.mkdir()
    server = start(models, tmp_path / "server.log")
    try:
        code = server.proc.wait(timeout=60)
    finally:
        server.stop()
    assert code != 0
    last = server.text().strip().splitlines()[-1]
    assert last.startswith(f"service: no valid model to serve in {models}") and last.endswith("; exiting"), last
    if case == "only-bad-models":
        assert "bad-sha: sha256" in last and "bad-json: invalid manifest.json" in last


def test_invalid_settings_exit_non_zero_with_one_line_naming_the_variable(tmp_path: Path):
    server = start(tmp_path, tmp_path / "server.log", max_batch=0, api_keys="short")
    try:
        code = server.proc.wait(timeout=60)
    finally:
        server.stop()
    lines = server.text().strip().splitlines()
    assert code != 0 and len(lines) == 1, lines
    assert lines[0].startswith("service: invalid GAN_* settings: ") and "max_batch" in lines[0]
    assert "short" not in lines[0]  # secrets are never echoed
