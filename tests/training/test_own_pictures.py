"""A folder of one's own colour pictures, trained through the documented command, exported and served; the
emoji recipe's colour nets trained a few steps with validation; the bad folders refused by the command."""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.service.launch import serving
from training.config import TrainConfig
from training.export import export
from training.recipes import recipe
from training.trainer import Trainer

from .conftest import REPO


def shapes(root, per_class=20, seed=0):
    """Two classes of generated colour pictures of several sizes and modes: red discs and blue squares."""
    rng = np.random.default_rng(seed)
    for cls, colour in (("discs", (220, 40, 40)), ("squares", (40, 60, 220))):
        (root / cls).mkdir(parents=True)
        for i in range(per_class):
            size = int(rng.integers(24, 80))
            img = Image.new("RGBA", (size, size + int(rng.integers(0, 20))), (0, 0, 0, 0))
            a, b = sorted(rng.integers(2, size - 2, 2))
            shade = tuple(int(c) for c in np.clip(np.array(colour) + rng.integers(-30, 30, 3), 0, 255))
            draw = ImageDraw.Draw(img)
            (draw.ellipse if cls == "discs" else draw.rectangle)((a, a, b + 2, b + 2), fill=(*shade, 255))
            if i % 2:
                img.convert("RGB").save(root / cls / f"{cls}{i}.jpg", quality=90)
            else:
                img.save(root / cls / f"{cls}{i}.png")
    return root


def training(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "training", *args, "--threads", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_own_pictures_train_export_and_serve_in_colour(tmp_path):
    pics = shapes(tmp_path / "pics")
    (pics / "discs" / "torn.png").write_bytes(b"\x89PNG\r\n\x1a\n torn off")
    runs, models = tmp_path / "runs", tmp_path / "models"
    common = ["--runs-dir", str(runs), "--models-dir", str(models)]
    refused = training("train", "cgan", "--data", str(pics), "--max-steps", "2", *common)
    assert refused.returncode == 2 and "discs/torn.png" in refused.stderr and "--skip-bad" in refused.stderr
    assert not (runs / "pics-cgan").exists()

    done = training(
        "train",
        "cgan",
        "--data",
        str(pics),
        "--skip-bad",
        "--diff-augment",
        "colour,translation,cutout",
        "--max-steps",
        "3",
        "--batch-size",
        "8",
        "--calibration-batches",
        "2",
        *common,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "skipped 1 unreadable file(s): discs/torn.png" in done.stderr
    assert list((runs / "datasets").glob("*.npz")), "the decoded folder is cached under the runs directory"
    exported = training("export", "pics-cgan", *common)
    assert exported.returncode == 0, exported.stderr[-3000:]
    manifest = json.loads((models / "pics-cgan" / "manifest.json").read_text())
    assert manifest["image"] == {"channels": 3, "height": 32, "width": 32}
    assert manifest["class_names"] == ["discs", "squares"] and manifest["dataset"] == "pics"
    assert manifest["training"]["variant"]["diff_augment"] == ["colour", "translation", "cutout"]
    with Image.open(models / "pics-cgan" / "samples.png") as grid:
        assert grid.mode == "RGB"

    with serving(models, tmp_path / "server.log") as server, server.client() as client:
        one = client.post("/generate", json={"model": "pics-cgan", "label": 1, "seed": 5})
        assert one.status_code == 200, one.text
        assert one.content[25] == 2  # PNG colour type 2: RGB
        assert Image.open(io.BytesIO(one.content)).size == (32, 32)
        grid = client.post("/generate", json={"model": "pics-cgan", "label": 1, "seed": 3, "n": 4, "format": "json"})
        assert grid.status_code == 200, grid.text
        fourth = grid.json()["images"][2]
        assert fourth["seed"] == 5
        assert (
            Image.open(io.BytesIO(base64.b64decode(fourth["png"]))).tobytes()
            == Image.open(io.BytesIO(one.content)).tobytes()
        )
        listed = httpx.get(f"{server.url}/models/pics-cgan").json()
        assert listed["class_names"] == ["discs", "squares"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda root: (root / "discs" / "none").mkdir(), "class folder .*discs/none holds no images"),
        (lambda root: [p.unlink() for p in root.rglob("*.*")], "holds no images"),
    ],
    ids=["class with no images", "empty folder"],
)
def test_the_command_refuses_bad_folders_naming_them(tmp_path, make, message):
    pics = shapes(tmp_path / "pics", per_class=2)
    make(pics)
    out = training("train", "dcgan", "--data", str(pics), "--runs-dir", str(tmp_path / "runs"))
    assert out.returncode == 2
    assert re.search(message, out.stderr), out.stderr[-2000:]


def test_the_emoji_recipe_trains_validates_and_exports_in_colour(data_dir, tmp_path):
    """The committed emoji recipe's nets at 32×32 RGB: a few steps, validated against the emoji classifier (the
    TensorBoard grid in colour), exported with its ONNX parity check."""
    r = recipe("emoji-dcgan")
    cfg = TrainConfig(
        model="emoji-dcgan",
        dataset="emoji",
        data_dir=str(data_dir),
        runs_dir=str(tmp_path / "runs"),
        max_steps=2,
        limit=128,
        val_samples=64,
        calibration_batches=2,
    )
    t = Trainer(cfg, r.declared_variant())
    t.fit()
    assert len(t.validation) == 1 and np.isfinite(t.validation[0]["fid"])
    assert list((tmp_path / "runs" / "emoji-dcgan" / "tensorboard").iterdir())
    m = export(t.checkpoint_path, tmp_path / "models", "emoji-dcgan")
    assert m["image"] == {"channels": 3, "height": 32, "width": 32} and m["parity_max_abs_diff"] <= 1e-4
    assert m["dataset"] == "emoji" and not m["conditional"]


def test_an_unknown_augmentation_is_refused_naming_it(tmp_path):
    pics = shapes(tmp_path / "pics", per_class=2)
    out = training(
        "train", "dcgan", "--data", str(pics), "--diff-augment", "colour,rotate", "--runs-dir", str(tmp_path)
    )
    assert out.returncode == 2 and "diff_augment ['rotate'] unknown" in out.stderr, out.stderr[-2000:]
