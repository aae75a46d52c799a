"""Encoders for committed generators (issue #21): image (and the label, for conditional models) → latent.

GAN inversion by a learned encoder (as in ALI/BiGAN and In-Domain GAN Inversion) rather than per-image
optimisation, so the service can invert an image with one ONNX run. The generator G is frozen, and it is the
committed one: rebuilt from its checkpoint (or, where that is gone, from `model.onnx`'s own weights), it must
reproduce the committed `model.onnx` (export parity) before a step is taken, since an encoder trained for other
weights would invert the wrong function. E learns from

- G's own samples (latent loss): `|E(G(z)) - z|²`, with the codes too for InfoGAN, so E stays in G's domain;
- real training images (reconstruction loss): `|G(E(x)) - x|₁` in pixels plus the squared distance of the
  evaluation classifier's features, so reconstructions keep what the classifier reads (the class).

The export is `encoder.onnx` beside `model.onnx` (inputs `image` [N, C, H, W] in [-1, 1] and `label` for
conditional models; outputs `latent`, and `c_cat`, `c_cont` for InfoGAN), parity-checked against PyTorch and
listed in the model's manifest under `encoder` with its sha256, the generator's sha256 it inverts, and the
figures `inversion.measure` takes on the test split through both ONNX graphs, as the service runs them.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import nn

from service.manifest import file_sha256

from .classifier import load_classifier
from .data import DATASETS, load_split, to_tensor
from .export import (
    OPSET,
    ExportError,
    calibrated_generator,
    check_module_parity,
    check_parity,
    export_module,
    onnx_inputs,
)
from .inversion import record_figures
from .models import Generator, one_hot
from .variants import Variant

log = logging.getLogger(__name__)

FILE = "encoder.onnx"


@dataclass(frozen=True)
class EncoderConfig:
    """One encoder run; the defaults keep a run near 8 minutes on one busy CPU thread."""

    minutes: float = 8.0  # wall-clock budget: training stops at this or at `steps`, whichever comes first
    steps: int = 20_000  # upper bound on optimiser steps
    batch_size: int = 64  # each step: this many samples of G and this many real images
    lr: float = 1e-3  # Adam; halved for the last quarter of the budget
    latent_weight: float = 1.0  # |E(G(z)) - z|²: keeps E's latents where G was trained
    pixel_weight: float = 1.0  # |G(E(x)) - x|₁ on real images, pixels in [-1, 1]
    feature_weight: float = 0.05  # |C(G(E(x))) - C(x)|² in the classifier's 128 features
    width: int = 64  # channels of E's first convolution
    seed: int = 0


class Encoder(nn.Module):
    """(image [B, C, H, W], label [B]?) → (latent [B, latent_dim], c_cat logits [B, n_cat]?, c_cont [B, k]?)."""

    def __init__(self, g: Generator, width: int = 64) -> None:
        super().__init__()
        cfg = self.gcfg = g.cfg
        s = cfg.size // 4
        self.features = nn.Sequential(
            nn.Conv2d(cfg.channels, width, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * width),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
        )
        n_label = cfg.num_classes if cfg.conditional else 0
        self.head = nn.Sequential(
            nn.Linear(2 * width * s * s + n_label, 512),
            nn.LeakyReLU(0.2),
            nn.Linear(512, cfg.latent_dim + cfg.n_cat + cfg.n_cont),
        )

    def forward(self, image: torch.Tensor, label: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        cfg, h = self.gcfg, self.features(image)
        if cfg.conditional:
            assert label is not None, "this encoder inverts a conditional generator: pass label"
            h = torch.cat([h, one_hot(label, cfg.num_classes)], dim=1)
        out = self.head(h)
        z = out[:, : cfg.latent_dim]
        if not cfg.n_cat:
            return (z,)
        logits = out[:, cfg.latent_dim : cfg.latent_dim + cfg.n_cat]
        return z, logits, out[:, cfg.latent_dim + cfg.n_cat :]


class _Exported(nn.Module):
    """The ONNX signature: InfoGAN's categorical code as its index (argmax), as the generator takes it."""

    def __init__(self, e: Encoder) -> None:
        super().__init__()
        self.e = e

    def forward(self, image: torch.Tensor, label: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        out = self.e(image, label)
        if len(out) == 1:
            return out
        z, logits, c_cont = out
        return z, logits.argmax(dim=1), c_cont


def generate(
    g: Generator,
    z: torch.Tensor,
    label: torch.Tensor | None = None,
    cat: torch.Tensor | None = None,
    cont: torch.Tensor | None = None,
) -> torch.Tensor:
    """G on a latent and soft InfoGAN codes (`cat`: probabilities), so reconstruction losses reach E's codes."""
    parts = [z]
    if g.cfg.conditional:
        parts.append(one_hot(label, g.cfg.num_classes))
    if g.cfg.n_cat:
        parts += [cat, cont]
    return g.net(torch.cat(parts, dim=1))


def generator_from_onnx(manifest: dict, onnx_path: Path) -> Generator:
    """G rebuilt from the committed ONNX file alone, for a model whose checkpoint is gone (mnist-cgan): the
    architecture from the variant its manifest records (`training.variant`; fields declared since take their
    defaults) and its dataset, the weights from the graph's initializers, which keep torch's names (`g.net.0.weight`).
    Where the exporter folded a batch norm into the transposed convolution before it (`g.net.4.weight` then holds
    the fused kernel, `g.net.4.weight_bias` its bias, and `g.net.5.*` is absent), that convolution takes the bias
    and the batch norm becomes an identity, as the graph computes. The caller proves the result by parity."""
    record = manifest.get("training", {}).get("variant")
    if not record:
        raise ValueError(f"{onnx_path}: the manifest records no training.variant to rebuild its generator from")
    variant = Variant(**{k: v for k, v in record.items() if k in Variant.__dataclass_fields__})
    info = DATASETS[manifest["dataset"]]
    g = Generator(variant.model_config(len(info.class_names), info.channels, info.height))
    weights = {
        t.name.removeprefix("g."): torch.from_numpy(numpy_helper.to_array(t).copy())
        for t in onnx.load(onnx_path).graph.initializer
        if t.name.startswith("g.net.")
    }
    for key in [k for k in weights if k.endswith(".weight_bias")]:
        i = int(key.split(".")[1])
        conv, norm = g.net[i], g.net[i + 1]
        if not isinstance(norm, nn.BatchNorm2d | nn.BatchNorm1d) or conv.bias is not None:
            raise ValueError(f"{onnx_path}: {key} is no batch norm folded into the layer before it")
        weights[f"net.{i}.bias"] = bias = weights.pop(key)
        conv.bias = nn.Parameter(torch.empty_like(bias))
        g.net[i + 1] = nn.Identity()
    want = {k: tuple(v.shape) for k, v in g.state_dict().items() if not k.endswith("num_batches_tracked")}
    have = {k: tuple(v.shape) for k, v in weights.items()}
    if want != have:  # num_batches_tracked: a counter, not in the graph
        differ = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
        raise ValueError(f"{onnx_path} does not fit {variant.name}'s generator: {differ} differ (name or shape)")
    g.load_state_dict(weights, strict=False)
    return g.eval()


def frozen_generator(runs_dir: Path, models_dir: Path, name: str) -> tuple[Generator, dict]:
    """The committed generator in PyTorch: its checkpoint, batch norm recalibrated as export does, or, without a
    checkpoint, the committed model.onnx's own weights (`generator_from_onnx`); either proven to reproduce the
    committed model.onnx. Raises ValueError saying what is missing or different."""
    checkpoint, manifest_path = runs_dir / name / "checkpoint.pt", models_dir / name / "manifest.json"
    if not manifest_path.exists():
        raise ValueError(f"no committed model {name!r}: {manifest_path} is missing")
    manifest = json.loads(manifest_path.read_text())
    onnx_path = models_dir / name / manifest["file"]
    if checkpoint.exists():
        log.info("%s: generator from its checkpoint %s", name, checkpoint)
        g, _ = calibrated_generator(checkpoint)
        source = checkpoint
    elif manifest.get("training", {}).get("variant"):
        log.info("%s: no checkpoint at %s; generator rebuilt from the weights of %s", name, checkpoint, onnx_path)
        g, source = generator_from_onnx(manifest, onnx_path), onnx_path
    else:
        raise ValueError(
            f"{checkpoint} is missing, and the manifest records no training.variant to rebuild G from"
            f" {onnx_path}: the encoder needs the weights of the committed {name}"
        )
    if file_sha256(onnx_path) != manifest["sha256"]:
        raise ValueError(f"{onnx_path} does not match its manifest's sha256")
    try:
        check_parity(g, onnx_path)
    except ExportError as e:
        raise ValueError(f"{source} does not reproduce the committed {onnx_path}: {e}") from e
    for p in g.parameters():
        p.requires_grad_(False)
    return g.eval(), manifest


def train_encoder(g: Generator, data_dir: Path, dataset: str, cfg: EncoderConfig) -> tuple[Encoder, dict]:
    """Fit E against the frozen G for `cfg.minutes` (or `cfg.steps`); returns E in eval mode and its record."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    images, labels = load_split(data_dir, dataset, "fit")
    real, real_labels = to_tensor(images), torch.from_numpy(labels)
    classifier = load_classifier(dataset)
    for p in classifier.parameters():
        p.requires_grad_(False)
    e = Encoder(g, cfg.width)
    opt = torch.optim.Adam(e.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    gcfg, b = g.cfg, cfg.batch_size
    start, step, history = time.monotonic(), 0, []
    budget = cfg.minutes * 60
    lowered = False
    while step < cfg.steps and (elapsed := time.monotonic() - start) < budget:
        if not lowered and elapsed > 0.75 * budget:
            for group in opt.param_groups:
                group["lr"] = cfg.lr / 2
            lowered = True
        e.train()
        feeds = {k: torch.from_numpy(v) for k, v in onnx_inputs(g, b, seed=int(rng.integers(2**31))).items()}
        with torch.no_grad():
            fake = g(**feeds)
        out = e(fake, feeds.get("label"))
        loss_latent = F.mse_loss(out[0], feeds["z"])
        if gcfg.n_cat:
            loss_latent = loss_latent + F.cross_entropy(out[1], feeds["c_cat"]) + F.mse_loss(out[2], feeds["c_cont"])
        pick = torch.from_numpy(rng.integers(len(real), size=b))
        x, y = real[pick], real_labels[pick]
        out = e(x, y if gcfg.conditional else None)
        cat = out[1].softmax(dim=1) if gcfg.n_cat else None
        recon = generate(g, out[0], y, cat, out[2] if gcfg.n_cat else None)
        loss_pixel = (recon - x).abs().mean()
        loss_feature = F.mse_loss(classifier.features(recon), classifier.features(x))
        loss = cfg.latent_weight * loss_latent + cfg.pixel_weight * loss_pixel + cfg.feature_weight * loss_feature
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if step % 100 == 0:
            row = {
                "step": step,
                "latent": loss_latent.item(),
                "pixel": loss_pixel.item(),
                "feature": loss_feature.item(),
            }
            history.append(row)
            log.info("encoder step %d (%.0f s): %s", step, time.monotonic() - start, row)
    record = {"steps": step, "wall_time_s": round(time.monotonic() - start, 1), "config": asdict(cfg)}
    return e.eval(), record | {"history": history}


def export_encoder(e: Encoder, folder: Path) -> tuple[dict, float]:
    """Write folder/encoder.onnx (dynamic batch axis) and check it against PyTorch; returns its manifest entry
    (without figures) and the parity."""
    gcfg, path = e.gcfg, folder / FILE
    rng = np.random.default_rng(0)
    example = {"image": rng.uniform(-1, 1, (2, gcfg.channels, gcfg.size, gcfg.size)).astype(np.float32)}
    if gcfg.conditional:
        example["label"] = rng.integers(gcfg.num_classes, size=2, dtype=np.int64)
    outputs = ("latent", "c_cat", "c_cont") if gcfg.n_cat else ("latent",)
    module = _Exported(e).eval()
    export_module(module, example, path, outputs)
    check = {k: np.repeat(v, 32, axis=0) for k, v in example.items()}
    parity = check_module_parity(module, path, check, outputs)
    shape = ["N", gcfg.channels, gcfg.size, gcfg.size]
    inputs = [{"name": "image", "dtype": "float32", "shape": shape}]
    if gcfg.conditional:
        inputs.append({"name": "label", "dtype": "int64", "shape": ["N"]})
    outs = [{"name": "latent", "dtype": "float32", "shape": ["N", gcfg.latent_dim]}]
    if gcfg.n_cat:
        outs += [
            {"name": "c_cat", "dtype": "int64", "shape": ["N"]},
            {"name": "c_cont", "dtype": "float32", "shape": ["N", gcfg.n_cont]},
        ]
    entry = {"file": FILE, "sha256": file_sha256(path), "opset": OPSET, "inputs": inputs, "outputs": outs}
    return entry | {"parity_max_abs_diff": parity}, parity


def train_and_export(
    name: str, data_dir: Path, runs_dir: Path, models_dir: Path, cfg: EncoderConfig = EncoderConfig()
) -> dict:
    """Train E for the committed generator `name`, export it into its folder, measure it, and record it in the
    manifest under `encoder`; returns that entry."""
    g, manifest = frozen_generator(runs_dir, models_dir, name)
    folder = models_dir / name
    e, record = train_encoder(g, data_dir, manifest["dataset"], cfg)
    entry, _ = export_encoder(e, folder)
    entry |= {"generator_sha256": manifest["sha256"], "training": {k: v for k, v in record.items() if k != "history"}}
    manifest["encoder"] = entry
    record_figures(g, folder, manifest, data_dir)
    (runs_dir / name).mkdir(parents=True, exist_ok=True)  # absent where G came from model.onnx
    (runs_dir / name / "encoder-history.json").write_text(json.dumps(record["history"]) + "\n")
    return entry


def remeasure(name: str, data_dir: Path, runs_dir: Path, models_dir: Path) -> dict:
    """Measure a committed encoder again, without training: for figures added after it was trained."""
    g, manifest = frozen_generator(runs_dir, models_dir, name)
    entry = manifest.get("encoder")
    if not entry or entry["generator_sha256"] != manifest["sha256"]:
        raise ValueError(f"{name} has no encoder for its committed generator: train one (without --remeasure)")
    return record_figures(g, models_dir / name, manifest, data_dir)
