"""Validation FID picks the exported weights; every run writes TensorBoard events; training leaves the repo alone."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from training.checkpoint import load_generator
from training.config import TrainConfig
from training.export import export, recalibrate_batchnorm
from training.trainer import Trainer
from training.validation import Validator

from .conftest import REPO


def tiny(tmp_path, data_dir, **kw) -> TrainConfig:
    """4 batches an epoch, 3 epochs: three validations, batch norm re-estimated over 2 batches, not 40."""
    fields = {"model": "v", "limit": 256, "epochs": 3, "log_every": 1, "val_samples": 300, "calibration_batches": 2}
    return TrainConfig(data_dir=str(data_dir), runs_dir=str(tmp_path), **(fields | kw))


def test_lowest_validation_fid_is_what_exports(tmp_path, data_dir):
    t = Trainer(tiny(tmp_path, data_dir))
    t.fit()
    assert [v["epoch"] for v in t.validation] == [1, 2, 3]
    best = min(t.validation, key=lambda v: v["fid"])
    assert (t.best["epoch"], t.best["fid"]) == (best["epoch"], best["fid"])
    g, _ = load_generator(t.checkpoint_path)
    for key, value in g.state_dict().items():
        assert torch.equal(value, t.best["generator_ema"][key]), key
    # validation kept batch norm as export would re-estimate it (the run's batches), so export takes those weights
    recalibrate_batchnorm(g, t.cfg.calibration_batches)
    for key, value in g.state_dict().items():
        assert torch.equal(value, t.best["generator_ema"][key]), key
    recalibrate_batchnorm(g, t.cfg.calibration_batches + 1)
    assert not all(torch.equal(v, t.best["generator_ema"][k]) for k, v in g.state_dict().items())
    selected = export(t.checkpoint_path, tmp_path / "models", "v")["training"]["selected"]
    assert selected["epoch"] == best["epoch"] and len(selected["curve"]) == 3


def test_reexport_keeps_what_was_measured_of_the_same_file_only(tmp_path, data_dir):
    """A resumed run whose later epochs lost on validation exports the same file again: its figures, encoder and
    truncation table still hold and are kept; other weights drop them."""
    t = Trainer(tiny(tmp_path, data_dir, epochs=1))
    t.fit()
    out = tmp_path / "models"
    manifest = export(t.checkpoint_path, out, "v")
    measured = {"metrics": {"fid": 1.0}, "encoder": {"file": "encoder.onnx"}, "truncation": {"psi": []}}
    (out / "v" / "manifest.json").write_text(json.dumps(manifest | measured))
    again = export(t.checkpoint_path, out, "v")
    assert again["sha256"] == manifest["sha256"]
    assert {k: again[k] for k in measured} == measured
    (out / "v" / "manifest.json").write_text(json.dumps(manifest | measured | {"sha256": "0" * 64}))
    other = export(t.checkpoint_path, out, "v")
    assert "encoder" not in other and "truncation" not in other and "fid" not in other["metrics"]


def test_validation_does_not_change_training(tmp_path, data_dir):
    """Validation draws nothing from torch's RNG: a validated run trains exactly as one without."""
    a = Trainer(tiny(tmp_path / "a", data_dir, epochs=2))
    a.fit()  # each Trainer seeds torch's global RNG: build the second only after the first has trained
    b = Trainer(tiny(tmp_path / "b", data_dir, epochs=2, val_samples=0, tensorboard=False))
    b.fit()
    assert b.validation == [] and b.best is None
    for x, y in zip(a.G.state_dict().values(), b.G.state_dict().values(), strict=True):
        assert torch.equal(x, y)


def test_runs_of_a_process_share_one_pass_over_the_validation_images(tmp_path, data_dir):
    """The reference moments are computed once per dataset: a second run reuses them, another dataset has its own."""
    first = Validator(data_dir, "mnist", 100, tmp_path / "a")
    again = Validator(data_dir, "mnist", 300, tmp_path / "b")
    fashion = Validator(data_dir, "fashion-mnist", 100, tmp_path / "c")
    assert again.reference is first.reference and fashion.reference is not first.reference
    assert not np.allclose(fashion.reference[0], first.reference[0])


def test_tensorboard_reads_losses_validation_and_samples(tmp_path, data_dir):
    """TensorBoard's own reader finds every logged loss, each validation FID and a sample grid per validation."""
    t = Trainer(tiny(tmp_path, data_dir))
    t.fit()
    events = EventAccumulator(str(t.cfg.run_dir / "tensorboard"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    tags = events.Tags()
    assert {"loss/d_adv", "loss/g_adv", "validation/fid"} <= set(tags["scalars"])
    assert [e.value for e in events.Scalars("validation/fid")] == pytest.approx([v["fid"] for v in t.validation])
    assert [e.step for e in events.Scalars("loss/g_adv")] == [h["step"] for h in t.history]
    images = events.Images("samples")
    assert len(images) == 3 and images[0].width > 8 * 28 and images[0].encoded_image_string[:4] == b"\x89PNG"


def test_a_smoke_run_leaves_the_repository_untouched(tmp_path, data_dir):
    """Everything `train` writes goes under --runs-dir (and the feature cache): no committed figure changes."""

    def status() -> str:
        return subprocess.run(
            ["git", "status", "--porcelain", "--ignored"], cwd=REPO, capture_output=True, text=True
        ).stdout

    before = status()
    cmd = [sys.executable, "-m", "training", "train", "mnist-dcgan", "--max-steps", "2", "--limit", "256"]
    cmd += ["--val-samples", "100", "--calibration-batches", "2"]
    cmd += ["--data-dir", str(data_dir), "--runs-dir", str(tmp_path / "runs")]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert status() == before
    assert "No artists" not in result.stderr
    assert (tmp_path / "runs" / "mnist-dcgan" / "losses.png").exists()
    state = torch.load(tmp_path / "runs" / "mnist-dcgan" / "checkpoint.pt", weights_only=False)
    assert state["train_config"]["calibration_batches"] == 2
