"""The proof cache (service/proofcache.py, GAN_PROOF_CACHE_DIR): a hit skips the identity proof; any difference in
the key, a corrupt or foreign entry, or a cache that cannot be written proves again, and the load log says which."""

from __future__ import annotations

import contextlib
import json
import logging
import time
from pathlib import Path

import httpx
import pytest

from service import proofcache
from service.registry import discover, load_model
from service.settings import Settings

from .conftest import TINY_KINDS, write_tiny_model
from .launch import serving, start, write_slow_model


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    write_tiny_model(root, "tiny-cgan", **TINY_KINDS["tiny-cgan"])
    return root


def load(models: Path, caplog: pytest.LogCaptureFixture, **settings: object):
    """Load the one model with these settings; its load log line."""
    caplog.clear()
    ((folder, manifest),) = discover(models)[0]
    with caplog.at_level(logging.INFO, logger="service.registry"):
        model = load_model(folder, manifest, Settings(**({"models_dir": models, "threads": 1} | settings)))
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("loaded model=")]
    return model, line


def test_a_hit_skips_the_proof_and_gives_its_verdict(models, tmp_path, caplog):
    cache = tmp_path / "proofs"
    first, line = load(models, caplog, proof_cache_dir=cache, max_batch=8)
    assert "proof_cache=miss(absent),stored" in line and not first.identity.cached
    (entry,) = cache.glob("*.json")
    assert json.loads(entry.read_text())["key"]["max_batch"] == 8
    again, line = load(models, caplog, proof_cache_dir=cache, max_batch=8)
    assert "proof_cache=hit" in line and "proof_ms=0 " in line and again.identity.cached
    assert (again.batch_shapes, again.buckets, again.identity.identical) == ("dynamic", None, True)
    assert again.identity.seconds == pytest.approx(first.identity.seconds, abs=1e-3)  # the proof's cost, recorded


@pytest.mark.parametrize(
    ("setting", "field"),
    [
        ({"max_batch": 4}, "inputs_sha256,max_batch"),  # the proof's inputs are 2 × max_batch - 1 images
        ({"batch_shapes": "fixed"}, "batch_shapes"),
        ({"threads": 2}, "intra_op_threads"),
    ],
)
def test_a_different_key_proves_again_and_says_what_differs(models, tmp_path, caplog, setting, field):
    cache = tmp_path / "proofs"
    load(models, caplog, proof_cache_dir=cache, max_batch=8)
    model, line = load(models, caplog, proof_cache_dir=cache, **({"max_batch": 8} | setting))
    assert f"proof_cache=miss(differs:{field}),stored" in line and not model.identity.cached
    assert len(list(cache.glob("*.json"))) == 2  # both kept: each setting finds its own at the next start


def test_the_key_holds_the_machine_and_onnx_runtime(models, tmp_path, caplog):
    """Entries made elsewhere (another CPU, another ONNX Runtime) do not match: changed in the stored key here."""
    cache = tmp_path / "proofs"
    load(models, caplog, proof_cache_dir=cache, max_batch=8)
    (entry,) = cache.glob("*.json")
    stored = json.loads(entry.read_text())
    assert stored["key"]["cpu_flags"] == proofcache.machine()["cpu_flags"] and stored["key"]["onnxruntime"]
    for field, value in [("cpu_flags", "sse2"), ("onnxruntime", "0.1.0"), ("provider", "CUDAExecutionProvider")]:
        other = stored | {"key": stored["key"] | {field: value}}
        moved = cache / f"{entry.name.split('-')[0]}-{'0' * 16}.json"  # as that machine would name it
        moved.write_text(json.dumps(other))
        entry.unlink()
        model, line = load(models, caplog, proof_cache_dir=cache, max_batch=8)
        assert f"proof_cache=miss(differs:{field}),stored" in line and not model.identity.cached
        moved.unlink()


@pytest.mark.parametrize(
    "damage",
    ["truncated", "not json", "result missing", "shapes unknown", "foreign key"],
)
def test_a_corrupt_or_foreign_entry_proves_again(models, tmp_path, caplog, damage):
    cache = tmp_path / "proofs"
    load(models, caplog, proof_cache_dir=cache, max_batch=8)
    (entry,) = cache.glob("*.json")
    good = json.loads(entry.read_text())
    bad = {
        "truncated": entry.read_text()[:40],
        "not json": "\x00\x01garbage",
        "result missing": json.dumps({"key": good["key"]}),
        "shapes unknown": json.dumps(good | {"result": good["result"] | {"shapes": "fast"}}),
        "foreign key": json.dumps(good | {"key": good["key"] | {"max_batch": 64}}),
    }[damage]
    entry.write_text(bad)
    model, line = load(models, caplog, proof_cache_dir=cache, max_batch=8)
    why = "foreign" if damage == "foreign key" else "corrupt"
    assert f"proof_cache=miss({why}),stored" in line and not model.identity.cached
    assert json.loads(entry.read_text()) == good | {
        "result": good["result"] | {"seconds": round(model.identity.seconds, 4)}
    }


def test_a_cache_that_cannot_be_written_proves_and_serves(models, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for _ in range(2):  # and proves again at the next start
        model, line = load(models, caplog, proof_cache_dir=blocker / "proofs", max_batch=8)
        assert "proof_cache=miss(unreadable:ENOTDIR),unwritable:ENOTDIR" in line and model.identity.identical
    off, line = load(models, caplog, proof_cache_dir=None, max_batch=8)
    assert "proof_cache=off" in line and not off.identity.cached


def test_a_restarted_server_skips_the_proof_with_the_same_bytes(models, tmp_path):
    cache = tmp_path / "proofs"
    body = {"model": "tiny-cgan", "seed": 5, "n": 8, "label": 3, "format": "json"}
    answers = []
    for run, said in enumerate(["miss(absent),stored", "hit"]):
        log = tmp_path / f"server{run}.log"
        with serving(models, log, proof_cache_dir=cache, max_batch=8) as server, server.client() as c:
            assert c.get("/models/tiny-cgan").json()["identity"]["cached"] is (said == "hit")
            answers.append(c.post("/generate", json=body).json())
        assert f"proof_cache={said} " in server.text()
    assert answers[0] == answers[1]


@pytest.mark.parametrize("parallel", [2, 1])
def test_readyz_says_loading_with_the_models_proven_so_far_while_proofs_run(tmp_path, parallel):
    """Graphs load side by side (GAN_LOAD_PARALLEL of them); each is served once proven, and /readyz answers 503
    `loading` naming those until the last proof is done (docs/OPERATIONS.md). One at a time, the quick model
    that comes second waits for the slow one."""
    models = tmp_path / "models"
    write_slow_model(models, "tiny-aslow", layers=200, width=512)
    write_tiny_model(models, "tiny-dcgan", **TINY_KINDS["tiny-dcgan"])
    cache = tmp_path / "proofs"
    server = start(models, tmp_path / "server.log", proof_cache_dir=cache, max_batch=8, load_parallel=parallel)
    seen = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                r = httpx.get(f"{server.url}/readyz", timeout=2)
                seen.append((r.status_code, r.json()["status"], r.json()["models"]))
                if r.status_code == 200:
                    break
            time.sleep(0.02)
    finally:
        server.stop()
    assert seen[-1] == (200, "ready", ["tiny-aslow", "tiny-dcgan"]), seen
    assert ((503, "loading", ["tiny-dcgan"]) in seen) is (parallel == 2), sorted(set(map(str, seen)))
