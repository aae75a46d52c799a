"""Re-exporting the same file keeps what other commands measured of it; other weights drop all of it. Export
re-estimates batch norm as the run said."""

import json
from pathlib import Path

import torch

from service.manifest import Manifest
from training.checkpoint import load_generator
from training.config import DEFAULT_CALIBRATION_BATCHES, TrainConfig
from training.export import calibrated_generator, export, recalibrate_batchnorm
from training.trainer import Trainer

# What `evaluate` (metrics, class_counts, code_attributes, codes.continuous_meaning), `encoder` (encoder) and
# `truncation` (truncation) write into an InfoGAN's manifest, in their shapes.
MEASURED = {
    "metrics": {"fid": 12.5, "precision": 0.7, "code_purity": 0.9, "samples": 1000},
    "class_counts": [100] * 10,
    "code_attributes": {"c1": {"slant": 0.86, "width": 0.1}, "c2": {"slant": 0.05, "width": -0.72}},
    "encoder": {"file": "encoder.onnx", "generator_sha256": None, "metrics": {"mse": 0.01}},
    "truncation": {"samples": 100, "seeds": [0, 99], "psi": {"0.7": {"fid": 20.0}}, "generator_sha256": None},
}
MEANING = [{"attribute": "slant", "r": 0.86}, {"attribute": "width", "r": -0.72}]


def as_json(manifest: dict) -> dict:
    """As written to and read back from manifest.json (tuples become lists)."""
    return json.loads(json.dumps(manifest))


def measured_into(manifest: dict, sha: str) -> dict:
    """`manifest` as it stands after evaluate, encoder and truncation measured the file whose sha256 is `sha`."""
    out = as_json(manifest) | as_json(MEASURED)
    out["metrics"] = manifest["metrics"] | MEASURED["metrics"]
    out["codes"] |= {"continuous_meaning": MEANING}
    out["encoder"]["generator_sha256"] = out["truncation"]["generator_sha256"] = out["sha256"] = sha
    return out


def trained(tmp_path: Path, data_dir: Path, **overrides: object) -> Trainer:
    """A few steps on 64 images without validation, so export re-estimates batch norm (over 2 batches)."""
    fields = {"max_steps": 2, "limit": 64, "val_samples": 0, "tensorboard": False, "calibration_batches": 2}
    t = Trainer(TrainConfig(data_dir=str(data_dir), runs_dir=str(tmp_path / "runs"), **(fields | overrides)))
    t.fit()
    return t


def test_reexport_keeps_every_measured_field_of_the_same_file_only(tmp_path: Path, data_dir: Path) -> None:
    t = trained(tmp_path, data_dir, model="i", variant="infogan")
    out, path = tmp_path / "models", tmp_path / "models" / "i" / "manifest.json"
    first = export(t.checkpoint_path, out, "i")
    measured = measured_into(first, first["sha256"])
    path.write_text(json.dumps(measured))

    again = export(t.checkpoint_path, out, "i")
    assert as_json(again) == measured, "the same file: everything evaluate, encoder and truncation wrote survives"
    assert json.loads(path.read_text()) == measured
    assert Manifest.model_validate(again).codes.continuous_meaning[1].attribute == "width"

    path.write_text(json.dumps(measured_into(first, "0" * 64)))  # the manifest described some other weights
    other = export(t.checkpoint_path, out, "i")
    assert as_json(other) == as_json(first), "other weights: nothing measured of the old file is carried over"
    assert json.loads(path.read_text()) == as_json(first)


def test_export_re_estimates_batch_norm_over_the_runs_batches(tmp_path: Path, data_dir: Path) -> None:
    """A run without validation leaves batch norm to export, which takes the run's count from the checkpoint (40
    for a checkpoint older than the setting)."""
    t = trained(tmp_path, data_dir, model="c", max_steps=1)

    def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
        return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))

    def recalibrated(batches: int) -> torch.nn.Module:
        g, _ = load_generator(t.checkpoint_path)
        recalibrate_batchnorm(g, batches)
        return g

    exported, _ = calibrated_generator(t.checkpoint_path)
    assert same(exported, recalibrated(2)) and not same(exported, recalibrated(3))
    state = torch.load(t.checkpoint_path, weights_only=False)
    del state["train_config"]["calibration_batches"]
    torch.save(state, t.checkpoint_path)
    older, _ = calibrated_generator(t.checkpoint_path)
    assert same(older, recalibrated(DEFAULT_CALIBRATION_BATCHES))


def test_exports_of_one_process_share_the_registry_and_write_the_same_bytes(tmp_path):
    """torch.onnx's table of ATen → ONNX functions is built once per process (export._one_registry): the second
    export, on the table the first built and used, writes the same bytes, and torch's own builder is back after."""
    from torch.onnx._internal.exporter import _registration

    from training import export as export_mod
    from training.models import Generator
    from training.variants import VARIANTS

    g = Generator(VARIANTS["dcgan"].model_config(num_classes=10)).eval()
    export_mod._torchlib_registry.cache_clear()
    export_mod.export_onnx(g, tmp_path / "built.onnx")
    export_mod.export_onnx(g, tmp_path / "shared.onnx")
    assert export_mod._torchlib_registry.cache_info()[:2] == (1, 1), "(hits, misses): built once, then shared"
    assert _registration.ONNXRegistry.__dict__["from_torchlib"] is export_mod._FROM_TORCHLIB
    assert (tmp_path / "built.onnx").read_bytes() == (tmp_path / "shared.onnx").read_bytes()
