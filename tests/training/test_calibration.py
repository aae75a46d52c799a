"""training/calibration.py: real images with one known flaw, measured as a generator's samples are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from service.manifest import file_sha256
from training import calibration
from training.data import to_tensor

REPO = Path(__file__).resolve().parents[2]


def test_noise_has_its_sigma_and_repeats():
    grey = np.full((200, 28, 28), 128, np.uint8)
    x = calibration.flawed(grey, "noise", 0.1)
    assert torch.equal(x, calibration.flawed(grey, "noise", 0.1)), "the same seed gives the same noise"
    assert not torch.equal(x, calibration.flawed(grey, "noise", 0.1, seed=1))
    assert abs(float((x - to_tensor(grey)).std()) - 0.1) < 0.002
    assert x.shape == (200, 1, 28, 28) and x.abs().max() <= 1.0


def test_blur_spreads_a_point_and_keeps_the_range():
    dot = np.zeros((1, 28, 28), np.uint8)
    dot[0, 14, 14] = 255
    x = calibration.flawed(dot, "blur", 1.0)
    assert x[0, 0, 14, 14] < 1.0 and x[0, 0, 14, 15] > -1.0 and x[0, 0, 0, 0] == -1.0
    with pytest.raises(ValueError, match="noise or blur"):
        calibration.flawed(dot, "jpeg", 1.0)


def test_a_flaw_costs_fid_and_recall(data_dir, monkeypatch):
    """Measured for real on 1,000 MNIST training images against the test split."""
    monkeypatch.setattr(calibration, "FLAWS", (("noise", 0.2), ("blur", 1.0)))
    clean, noisy, blurred = calibration.calibrate(data_dir, "mnist", n=1000)
    assert (clean["flaw"], noisy["flaw"], blurred["flaw"]) == ("none", "noise", "blur")
    for flawed in (noisy, blurred):
        assert flawed["fid"] > 10 * clean["fid"] and flawed["recall"] < clean["recall"] / 2


def test_recall_threshold_reads_the_rows():
    rows = [{"fid": 5.0, "recall": 0.9}, {"fid": 30.0, "recall": 0.65}, {"fid": 70.0, "recall": 0.4}]
    assert calibration.recall_threshold(rows) == (
        "every flawed set with recall ≥ 0.6 has FID ≤ 30.0, every set under it FID ≥ 70.0"
    )
    assert calibration.recall_threshold(rows[:2]).endswith("no set falls under it")
    assert calibration.recall_threshold(rows[2:]) == "no set keeps recall 0.6"


def test_figures_of_another_classifier_are_not_shown(tmp_path):
    stale = {"mnist": {"classifier_sha256": "0" * 64, "images": 1, "rows": []}}
    (tmp_path / "c.json").write_text(json.dumps(stale))
    assert calibration.calibration_section(tmp_path / "c.json") == []


def test_committed_figures_describe_the_committed_classifiers():
    """Both datasets measured on the committed classifiers, every flaw lowering recall more as it grows, and
    docs/MODELS.md showing them."""
    figures = json.loads(calibration.FIGURES.read_text())
    assert set(figures) == {"mnist", "fashion-mnist"}
    for dataset, f in figures.items():
        assert f["classifier_sha256"] == file_sha256(calibration.CLASSIFIER_DIR / f"{dataset}.pt")
        assert f["images"] == 10_000
        rows = f["rows"]
        assert [(r["flaw"], r["level"]) for r in rows] == [("none", 0.0), *calibration.FLAWS]
        assert rows[0]["fid"] < 10 and rows[0]["recall"] > 0.85
        for kind in ("noise", "blur"):
            recalls = [rows[0]["recall"]] + [r["recall"] for r in rows if r["flaw"] == kind]
            fids = [rows[0]["fid"]] + [r["fid"] for r in rows if r["flaw"] == kind]
            assert recalls == sorted(recalls, reverse=True) and fids == sorted(fids)
    doc = (REPO / "docs" / "MODELS.md").read_text().splitlines()
    section = calibration.calibration_section()
    assert len(section) > 10 and all(line in doc for line in section)


def test_the_clean_row_is_the_floor():
    """The clean row repeats evaluate's real-vs-real floor: the same 10,000 training images, measured the same way."""
    figures = json.loads(calibration.FIGURES.read_text())
    manifest = json.loads((REPO / "exported_models" / "mnist-dcgan" / "manifest.json").read_text())
    assert figures["mnist"]["rows"][0]["fid"] == pytest.approx(manifest["metrics"]["fid_floor"], abs=0.01)


def test_readme_quotes_the_noise_row():
    """The README's sentence on reading the scale quotes the committed noise σ 0.1 rows."""
    readme = " ".join((REPO / "README.md").read_text().split())
    quoted = re.search(r"FID (\d+) and recall (0\.\d+) on MNIST, (\d+) and (0\.\d+) on Fashion-MNIST", readme)
    assert quoted, "README.md no longer quotes the calibration figures"
    figures = json.loads(calibration.FIGURES.read_text())
    for (fid, recall), dataset in zip(
        [quoted.groups()[:2], quoted.groups()[2:]], ["mnist", "fashion-mnist"], strict=True
    ):
        (row,) = [r for r in figures[dataset]["rows"] if (r["flaw"], r["level"]) == ("noise", 0.1)]
        assert (int(fid), recall) == (round(row["fid"]), f"{row['recall']:.2f}")


def test_an_unknown_dataset_is_a_clear_error():
    from .test_cli import training

    result = training("calibrate", "cifar")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown dataset(s) ['cifar']; choose from mnist, fashion-mnist, emoji"
