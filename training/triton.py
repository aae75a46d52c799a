"""Exported models → a Triton Inference Server model repository (`<name>/1/model.onnx` + `config.pbtxt`).

The same ONNX files the service runs, so a user can move to Triton without re-exporting. Triton's batch
axis is implicit (max_batch_size > 0), so a per-sample scalar such as `label` [N] is declared as dims [1]
reshaped to [].
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

TRITON_TYPES = {"float32": "TYPE_FP32", "int64": "TYPE_INT64"}


def tensor_block(t: dict) -> str:
    dims = [d for d in t["shape"][1:]]  # drop the batch axis
    lines = [f'    name: "{t["name"]}"', f"    data_type: {TRITON_TYPES[t['dtype']]}"]
    if dims:
        lines.append(f"    dims: [ {', '.join(str(d) for d in dims)} ]")
    else:
        lines += ["    dims: [ 1 ]", "    reshape: { shape: [ ] }"]
    return "  {\n" + "\n".join(lines) + "\n  }"


def config_pbtxt(manifest: dict, max_batch_size: int = 256, max_queue_delay_us: int = 2000) -> str:
    """A Triton model configuration for one manifest, with dynamic batching on."""
    inputs = ",\n".join(tensor_block(t) for t in manifest["inputs"])
    outputs = ",\n".join(tensor_block(t) for t in manifest["outputs"])
    return (
        f'name: "{manifest["name"]}"\n'
        'platform: "onnxruntime_onnx"\n'
        f"max_batch_size: {max_batch_size}\n"
        f"input [\n{inputs}\n]\n"
        f"output [\n{outputs}\n]\n"
        "dynamic_batching {\n"
        "  preferred_batch_size: [ 16, 64 ]\n"
        f"  max_queue_delay_microseconds: {max_queue_delay_us}\n"
        "}\n"
        "instance_group [ { kind: KIND_AUTO, count: 1 } ]\n"
    )


def export_triton(models_dir: Path, out: Path, max_batch_size: int = 256) -> list[str]:
    """Write one Triton model folder per exported generator; returns the model names."""
    names = []
    for manifest_path in sorted(models_dir.glob("*/manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("kind", "generator") != "generator":
            continue  # translators and text-to-image models need the service's pre-processing (tokens, banks)
        folder = out / manifest["name"]
        (folder / "1").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(manifest_path.parent / manifest["file"], folder / "1" / "model.onnx")
        (folder / "config.pbtxt").write_text(config_pbtxt(manifest, max_batch_size))
        names.append(manifest["name"])
    return names
