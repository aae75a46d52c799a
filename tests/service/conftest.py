"""Fixtures for the service tests: tiny ONNX generators, and a real uvicorn server.

The server runs the Dockerfile's own start command on a free loopback port. Its models
directory links every real model in exported_models/ and adds tiny generated models for
the kinds (unconditional, conditional, InfoGAN) that are not exported yet, plus an RGB model
and one whose checksum is wrong, so every test has the model kind it needs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import socket
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
import pytest
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]
EXPORTED = REPO / "exported_models"
STARTUP_TIMEOUT_S = 90.0
WARMUP_DELAY_S = 1.0
# Every test server records its identity proofs here and finds them at its next start (service/proofcache.py): the
# key holds the graph, ONNX Runtime, the CPU and the settings, so a server with other settings proves afresh. Kept
# between runs (an ignored folder); tests of the cache itself use their own.
PROOF_CACHE = REPO / ".pytest_cache" / "gan-proofs"


# ---------- tiny ONNX generators ----------


def _tensor(name: str, arr: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(arr, name)


def tiny_generator(
    path: Path,
    latent_dim: int = 8,
    channels: int = 1,
    size: int = 8,
    num_classes: int | None = None,
    codes: tuple[int, int] | None = None,
    blend: bool = False,
    seed: int = 0,
    fails_above: float | None = None,
) -> None:
    """z (+ label embedding, + InfoGAN code projections) → Gemm → Tanh → Reshape (N, C, size, size).

    `fails_above`: a broken model for the failure tests. It adds a row of zeros that it looks up with the index
    `z[:, 0] > fails_above`, so ONNX Runtime raises (index out of bounds) for any batch that holds such a row.
    """
    rng = np.random.default_rng(seed)
    pixels = channels * size * size
    inputs = [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", latent_dim])]
    inits = [
        _tensor("W", rng.normal(0, 0.6, (latent_dim, pixels)).astype(np.float32)),
        _tensor("b", rng.normal(0, 0.1, (pixels,)).astype(np.float32)),
        _tensor("shape", np.array([-1, channels, size, size], dtype=np.int64)),
    ]
    nodes, h = [], "z"
    if num_classes:
        inits.append(_tensor("E", rng.normal(0, 1.0, (num_classes, latent_dim)).astype(np.float32)))
        if blend:  # a class vector: one-hot or a mixture
            inputs.append(helper.make_tensor_value_info("label", TensorProto.FLOAT, ["N", num_classes]))
            nodes.append(helper.make_node("MatMul", ["label", "E"], ["emb"]))
        else:
            inputs.append(helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]))
            nodes.append(helper.make_node("Gather", ["E", "label"], ["emb"]))
        nodes.append(helper.make_node("Add", [h, "emb"], ["zl"]))
        h = "zl"
    if codes:
        n_cat, k = codes
        inputs += [
            helper.make_tensor_value_info("c_cat", TensorProto.INT64, ["N"]),
            helper.make_tensor_value_info("c_cont", TensorProto.FLOAT, ["N", k]),
        ]
        inits += [
            _tensor("Ec", rng.normal(0, 1.0, (n_cat, latent_dim)).astype(np.float32)),
            _tensor("C", rng.normal(0, 1.0, (k, latent_dim)).astype(np.float32)),
        ]
        nodes += [
            helper.make_node("Gather", ["Ec", "c_cat"], ["ec"]),
            helper.make_node("MatMul", ["c_cont", "C"], ["cc"]),
            helper.make_node("Add", [h, "ec"], ["h1"]),
            helper.make_node("Add", ["h1", "cc"], ["h2"]),
        ]
        h = "h2"
    if fails_above is not None:
        inits += [
            _tensor("Zrow", np.zeros((1, latent_dim), np.float32)),
            _tensor("T", np.array(fails_above, np.float32)),
        ]
        inits.append(_tensor("first", np.array(0, np.int64)))
        nodes += [
            helper.make_node("Gather", ["z", "first"], ["z0"], axis=1),
            helper.make_node("Greater", ["z0", "T"], ["over"]),
            helper.make_node("Cast", ["over"], ["row"], to=TensorProto.INT64),
            helper.make_node("Gather", ["Zrow", "row"], ["zero"]),
            helper.make_node("Add", [h, "zero"], ["hf"]),
        ]
        h = "hf"
    nodes += [
        helper.make_node("Gemm", [h, "W", "b"], ["g"]),
        helper.make_node("Tanh", ["g"], ["t"]),
        helper.make_node("Reshape", ["t", "shape"], ["image"]),
    ]
    output = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", channels, size, size])
    graph = helper.make_graph(nodes, "tiny_generator", inputs, [output], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def tiny_manifest(name: str, onnx_path: Path, **kw: Any) -> dict[str, Any]:
    """A manifest as training writes it (exported_models/README.md) for `tiny_generator(**kw)`."""
    latent, channels, size = kw.get("latent_dim", 8), kw.get("channels", 1), kw.get("size", 8)
    num_classes, codes, blend = kw.get("num_classes"), kw.get("codes"), kw.get("blend", False)
    inputs = [{"name": "z", "dtype": "float32", "shape": ["N", latent]}]
    if num_classes and blend:
        inputs.append({"name": "label", "dtype": "float32", "shape": ["N", num_classes]})
    elif num_classes:
        inputs.append({"name": "label", "dtype": "int64", "shape": ["N"]})
    if codes:
        inputs += [
            {"name": "c_cat", "dtype": "int64", "shape": ["N"]},
            {"name": "c_cont", "dtype": "float32", "shape": ["N", codes[1]]},
        ]
    variant = "infogan" if codes else "cgan" if num_classes else "dcgan"
    return {
        "name": name,
        "variant": variant,
        "dataset": "tiny",
        "latent_dim": latent,
        "conditional": bool(num_classes),
        "num_classes": num_classes,
        "class_names": [f"c{i}" for i in range(num_classes)] if num_classes else None,
        "codes": {"categorical": [codes[0]], "continuous": codes[1]} if codes else None,
        "label_blend": blend,
        "image": {"channels": channels, "height": size, "width": size},
        "inputs": inputs,
        "outputs": [{"name": "image", "dtype": "float32", "shape": ["N", channels, size, size]}],
        "file": "model.onnx",
        "sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "opset": 18,
        "training": {"steps": 0},
        "metrics": {"fid": None},
    }


TINY_KINDS: dict[str, dict[str, Any]] = {
    "tiny-dcgan": {},
    "tiny-cgan": {"num_classes": 10},
    "tiny-infogan": {"latent_dim": 6, "codes": (10, 2)},
    "tiny-rgb": {"channels": 3, "size": 6},
}


def write_tiny_model(models_dir: Path, name: str, corrupt: bool = False, **kw: Any) -> Path:
    folder = models_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    tiny_generator(folder / "model.onnx", seed=len(name), **kw)
    manifest = tiny_manifest(name, folder / "model.onnx", **kw)
    if corrupt:
        manifest["sha256"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny-dcgan, tiny-cgan (10 classes named c0..c9), tiny-infogan (10 cats, 2 conts), tiny-rgb."""
    root = tmp_path_factory.mktemp("tiny_models")
    for name, kw in TINY_KINDS.items():
        write_tiny_model(root, name, **kw)
    return root


# ---------- the served models directory ----------


def real_manifests() -> list[dict[str, Any]]:
    """Manifests of the exported models present now (empty before training exports any)."""
    if not EXPORTED.is_dir():
        return []
    found = []
    for manifest in sorted(EXPORTED.glob("*/manifest.json")):
        try:
            found.append(json.loads(manifest.read_text()) | {"_folder": manifest.parent})
        except (OSError, ValueError):
            continue
    return found


def _kind(m: dict[str, Any]) -> str:
    """infogan | conditional | unconditional for generators; `translator` or `text2image` for the others."""
    if m.get("kind", "generator") != "generator":
        return str(m["kind"])
    return "infogan" if m.get("codes") else "conditional" if m.get("conditional") else "unconditional"


@pytest.fixture(scope="session")
def served_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real exported models (linked), tiny ones for the kinds still missing, tiny-rgb and a corrupt one."""
    root = tmp_path_factory.mktemp("served_models")
    real = real_manifests()
    for m in real:
        (root / m["_folder"].name).symlink_to(m["_folder"], target_is_directory=True)
    have = {_kind(m) for m in real}
    wanted = {"unconditional": "tiny-dcgan", "conditional": "tiny-cgan", "infogan": "tiny-infogan"}
    for kind, name in wanted.items():
        if kind not in have:
            write_tiny_model(root, name, **TINY_KINDS[name])
    write_tiny_model(root, "tiny-rgb", **TINY_KINDS["tiny-rgb"])
    write_tiny_model(root, "tiny-corrupt", corrupt=True)
    return root


# ---------- the server ----------


def dockerfile_cmd() -> list[str]:
    """The image's start command: its exec-form ENTRYPOINT, then its CMD (the arguments `docker run` replaces)."""
    found: dict[str, list[str]] = {}
    for line in (REPO / "Dockerfile").read_text().splitlines():
        word, _, rest = line.partition(" ")
        if word in ("ENTRYPOINT", "CMD"):
            rest = rest.strip()
            found[word] = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
    assert found, "Dockerfile has no ENTRYPOINT or CMD"
    return found.get("ENTRYPOINT", []) + found.get("CMD", [])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    cmd: list[str]
    log: Path
    first_readyz: int  # /readyz status the first time /healthz answered
    models: dict[str, dict[str, Any]]  # name -> ModelInfo

    def find(self, kind: str) -> dict[str, Any]:
        """A served model of `kind` (unconditional | conditional | infogan | translator | text2image), real first."""
        matches = [m for m in self.models.values() if _kind(m) == kind and m["name"] != "tiny-rgb"]
        matches.sort(key=lambda m: m["name"].startswith("tiny-"))
        if not matches:
            pytest.skip(f"no {kind} model served")
        return matches[0]


@pytest.fixture(scope="session")
def server(served_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cmd = dockerfile_cmd()
    if cmd[0] == "python":
        cmd[0] = sys.executable
    port = free_port()
    env = os.environ | {
        "GAN_HOST": "127.0.0.1",
        "GAN_PORT": str(port),
        "GAN_MODELS_DIR": str(served_models_dir),
        "GAN_MAX_BATCH": "16",
        "GAN_MAX_WAIT_MS": "20",
        "GAN_QUEUE_IMAGES": "300",
        "GAN_THREADS": "2",
        "GAN_WARMUP_DELAY_S": str(WARMUP_DELAY_S),
        "GAN_LOG_LEVEL": "info",
        "GAN_PROOF_CACHE_DIR": str(PROOF_CACHE),
    }
    env.pop("GAN_DEFAULT_MODEL", None)
    log = tmp_path_factory.mktemp("server") / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        first_readyz = _wait_ready(proc, url, log)
        models = {m["name"]: m for m in httpx.get(f"{url}/models").json()["models"]}
        yield Server(url, cmd, log, first_readyz, models)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> int:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    first_readyz = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if first_readyz is None and httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                first_readyz = httpx.get(f"{url}/readyz", timeout=1).status_code
            if first_readyz is not None and httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return first_readyz
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server not ready after {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c
