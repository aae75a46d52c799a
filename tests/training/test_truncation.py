"""training/truncation.py: the latents it measures are the service's, and its MODELS.md lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from service import sampling
from training import truncation


def test_latents_are_what_the_service_draws() -> None:
    z = truncation.latents(100, range(3, 6), 0.6)
    assert z.dtype == np.float32 and z.shape == (3, 100)
    for row, seed in zip(z, range(3, 6), strict=True):
        assert np.array_equal(row, sampling.draw(seed, 100, truncation=0.6).z)
    assert np.abs(z).max() <= 2 * 0.6
    assert np.array_equal(truncation.latents(100, range(2), None)[1], sampling.latent(1, 100))


def test_models_md_section() -> None:
    rows = {
        "1.0": {"fid": 11.1, "precision": 0.82, "recall": 0.77},
        "0.4": {"fid": 30.25, "precision": 0.95, "recall": 0.3},
    }
    measured = {"name": "mnist-dcgan", "sha256": "a" * 64}
    measured["truncation"] = {"samples": 10_000, "psi": rows, "generator_sha256": "a" * 64}
    stale = {"name": "old", "sha256": "b" * 64, "truncation": {"samples": 1, "psi": rows, "generator_sha256": "c" * 64}}
    lines = truncation.truncation_section([measured, stale], Path("../exported_models"))
    assert "| mnist-dcgan | not measured | 11.1 / 0.82 / 0.77 | 30.2 / 0.95 / 0.30 |" in lines
    measured["truncation"]["plain"] = {"fid": 10.04, "precision": 0.8, "recall": 0.78}
    lines = truncation.truncation_section([measured], Path("../exported_models"))
    assert "| mnist-dcgan | 10.0 / 0.80 / 0.78 | 11.1 / 0.82 / 0.77 | 30.2 / 0.95 / 0.30 |" in lines
    assert not any(line.startswith("| old") for line in lines)  # figures of another model.onnx are not shown
    assert any("exported_models/mnist-dcgan/truncation.png" in line for line in lines)
    assert truncation.truncation_section([stale], Path(".")) == []


def test_committed_truncation_figures_describe_the_committed_generators() -> None:
    """mnist-dcgan's and fashion-dcgan's manifests hold the figures per ψ, measured on their own model.onnx."""
    import json

    root = Path(__file__).resolve().parents[2] / "exported_models"
    for name in ("mnist-dcgan", "fashion-dcgan"):
        m = json.loads((root / name / "manifest.json").read_text())
        figures = m["truncation"]
        assert figures["generator_sha256"] == m["sha256"] and figures["samples"] == 10_000
        assert list(figures["psi"]) == [str(p) for p in truncation.PSIS]
        # the untruncated row is on the same seeds as the ψ rows (not evaluate's draw), so the two compare
        plain = figures["plain"]
        assert 0 < plain["fid"] <= figures["psi"]["1.0"]["fid"] and plain["recall"] >= figures["psi"]["1.0"]["recall"]
        assert all(0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1 and r["fid"] > 0 for r in figures["psi"].values())
        recalls = [r["recall"] for r in figures["psi"].values()]
        assert recalls == sorted(recalls, reverse=True)  # less variety as ψ falls
        assert (root / name / truncation.GRID).is_file()
    api = (root.parent / "docs" / "API.md").read_text()
    fashion = json.loads((root / "fashion-dcgan" / "manifest.json").read_text())["truncation"]
    said = f"fashion-dcgan reads FID {fashion['plain']['fid']:.1f} untruncated and {fashion['psi']['1.0']['fid']:.1f}"
    assert " ".join(said.split()) in " ".join(api.split())  # API.md's cost of ψ = 1 is measured on one set of seeds
