"""Checkpoint → ONNX generator, checked against PyTorch, with its manifest and sample grid."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.onnx._internal.exporter import _registration

from service.manifest import file_sha256

from .checkpoint import load_generator
from .config import DEFAULT_CALIBRATION_BATCHES, DEFAULT_EMA_DECAY
from .data import DATASETS, DatasetInfo
from .figures import save_grid, save_loss_curves
from .models import Generator

OPSET = 18
PARITY_INPUTS = 64
PARITY_TOLERANCE = 1e-4


class ExportError(Exception):
    """The exported graph does not reproduce the PyTorch generator."""


class _Unconditional(nn.Module):
    def __init__(self, g: Generator) -> None:
        super().__init__()
        self.g = g

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.g(z)


class _Conditional(_Unconditional):
    def forward(self, z: torch.Tensor, label: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.g(z, label=label)


class _InfoGAN(_Unconditional):
    def forward(self, z: torch.Tensor, c_cat: torch.Tensor, c_cont: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.g(z, c_cat=c_cat, c_cont=c_cont)


def onnx_inputs(g: Generator, n: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Named random inputs in the ONNX signature: z, then label or the InfoGAN codes."""
    cfg, rng = g.cfg, np.random.default_rng(seed)
    inputs = {"z": rng.standard_normal((n, cfg.latent_dim), dtype=np.float32)}
    if cfg.conditional:
        inputs["label"] = rng.integers(cfg.num_classes, size=n, dtype=np.int64)
    if cfg.n_cat:
        inputs["c_cat"] = rng.integers(cfg.n_cat, size=n, dtype=np.int64)
        inputs["c_cont"] = rng.uniform(-1, 1, (n, cfg.n_cont)).astype(np.float32)
    return inputs


def spread_conditions(n: int, num_classes: int | None = None, n_cat: int | None = None) -> dict[str, np.ndarray]:
    """`label` (given num_classes) and `c_cat` (given n_cat) for n samples, every value equally often (sample i
    takes i mod k): how validation and every figure draw a model's classes, so no class weighs more by chance."""
    ks = {"label": num_classes, "c_cat": n_cat}
    return {key: np.arange(n, dtype=np.int64) % k for key, k in ks.items() if k}


@torch.no_grad()
def recalibrate_batchnorm(g: Generator, batches: int, batch_size: int = 256) -> None:
    """Re-estimate batch-norm statistics for the averaged weights, which never ran a training batch.

    Deterministic (fixed seeds), so the same checkpoint always exports the same bytes. Virtual batch norm
    takes the statistics of its fixed reference batch under these weights: one pass, copied exactly.
    """
    norms = [m for m in g.modules() if type(m) in (nn.BatchNorm1d, nn.BatchNorm2d)]  # VirtualBatchNorm keeps one
    if not norms:
        return
    virtual = g.cfg.g_norm == "virtual"
    for m in norms:
        m.reset_running_stats()
        m.momentum = 1.0 if virtual else None  # None: cumulative average over all batches below
    g.train()
    for i in range(1 if virtual else batches):
        g(**{k: torch.from_numpy(v) for k, v in onnx_inputs(g, batch_size, seed=1000 + i).items()})
    g.eval()


def calibrated_generator(checkpoint: Path) -> tuple[Generator, dict]:
    """The generator export writes: the checkpoint's averaged weights with batch norm re-estimated, by validation
    already when it picked them (the same seeded batches, so the same statistics), else here."""
    g, state = load_generator(checkpoint)
    if not (state.get("best") or {}).get("calibrated"):
        recalibrate_batchnorm(g, state["train_config"].get("calibration_batches", DEFAULT_CALIBRATION_BATCHES))
    return g, state


def export_onnx(g: Generator, path: Path) -> list[str]:
    """Write the generator alone with a dynamic batch axis; returns the input names."""
    example = onnx_inputs(g, 2)
    kind = _InfoGAN if "c_cat" in example else _Conditional if "label" in example else _Unconditional
    export_module(kind(g).eval(), example, path)
    return list(example)


_FROM_TORCHLIB = _registration.ONNXRegistry.__dict__["from_torchlib"]  # the classmethod, restored after each export


@functools.cache
def _torchlib_registry(opset_version: int) -> _registration.ONNXRegistry:
    return _FROM_TORCHLIB.__func__(_registration.ONNXRegistry, opset_version)


@contextlib.contextmanager
def _one_registry() -> Iterator[None]:
    """torch.onnx.export builds its table of ATen → ONNX functions anew on every call (1-3 s, as long as the rest of
    a small generator's export) and only reads it, as no custom translation table is passed here: the exports of
    one process share one. The exported bytes are the same (test_export)."""
    _registration.ONNXRegistry.from_torchlib = classmethod(lambda _, opset_version: _torchlib_registry(opset_version))
    try:
        yield
    finally:
        _registration.ONNXRegistry.from_torchlib = _FROM_TORCHLIB


def export_module(
    module: nn.Module, example: dict[str, np.ndarray], path: Path, outputs: tuple[str, ...] = ("image",)
) -> None:
    """Any eval-mode module → ONNX at OPSET, inputs named as in `example`, batch axis 0 dynamic."""
    batch = torch.export.Dim("N", min=1, max=4096)
    args = tuple(torch.from_numpy(a) for a in example.values())
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), _one_registry():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=list(example),
            output_names=list(outputs),
            dynamic_shapes={name: {0: batch} for name in example},
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def check_parity(g: Generator, path: Path) -> float:
    """Max |ORT - PyTorch| over PARITY_INPUTS random inputs; raises past PARITY_TOLERANCE."""
    return check_module_parity(g, path, onnx_inputs(g, PARITY_INPUTS, seed=1))


def check_module_parity(
    module: nn.Module, path: Path, inputs: dict[str, np.ndarray], outputs: tuple[str, ...] = ("image",)
) -> float:
    """Max |ORT - PyTorch| of `module(**inputs)` (a tensor or a tuple in `outputs` order) against the ONNX
    file; raises past PARITY_TOLERANCE."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ours = session.run(list(outputs), inputs)
    with torch.no_grad():
        theirs = module(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    theirs = (theirs,) if isinstance(theirs, torch.Tensor) else theirs
    diff = max(float(np.abs(o - t.numpy()).max()) for o, t in zip(ours, theirs, strict=True))
    if not diff <= PARITY_TOLERANCE:
        raise ExportError(f"{path}: ONNX differs from PyTorch by {diff:.2e} > {PARITY_TOLERANCE:.0e}")
    return diff


def sample_grid_inputs(g: Generator, seed: int = 0) -> dict[str, np.ndarray]:
    """8×8 random samples; conditional models get one row per class, InfoGAN one row per code value."""
    cfg = g.cfg
    rows = cfg.num_classes if cfg.conditional else (cfg.n_cat or 8)
    inputs = onnx_inputs(g, rows * 8, seed)
    for key in ("label", "c_cat"):
        if key in inputs:
            inputs[key] = np.repeat(np.arange(rows, dtype=np.int64), 8)
    return inputs


def export(checkpoint: Path, out_dir: Path, name: str) -> dict:
    """Export one trained generator to out_dir/name/{model.onnx, manifest.json, samples.png}."""
    g, state = calibrated_generator(checkpoint)
    cfg, train, variant = g.cfg, state["train_config"], state["variant"]
    # a named dataset as declared now (its credit, say); a folder of one's own as the run recorded it
    info = DATASETS.get(train["dataset"]) or DatasetInfo(**state["dataset_info"])
    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = folder / "model.onnx"
    names = export_onnx(g, onnx_path)
    parity = check_parity(g, onnx_path)
    grid_inputs = sample_grid_inputs(g)
    with torch.no_grad():
        images = g(**{k: torch.from_numpy(v) for k, v in grid_inputs.items()}).numpy()
    save_grid(images, 8, folder / "samples.png")
    save_loss_curves(state["history"], folder / "losses.png", name)
    conditional = "label" in names
    shapes = {"z": ["N", cfg.latent_dim], "label": ["N"], "c_cat": ["N"], "c_cont": ["N", cfg.n_cont]}
    dtypes = {"z": "float32", "label": "int64", "c_cat": "int64", "c_cont": "float32"}
    manifest = {
        "name": name,
        "variant": variant["name"],
        "dataset": train["dataset"] if train["dataset"] in DATASETS else Path(train["dataset"]).name,
        "latent_dim": cfg.latent_dim,
        "conditional": conditional,
        "num_classes": cfg.num_classes if conditional else None,
        "class_names": list(info.class_names) if conditional else None,
        "codes": {"categorical": [cfg.n_cat], "continuous": cfg.n_cont} if cfg.n_cat else None,
        "label_blend": False,
        "credit": info.credit or None,
        "image": {"channels": info.channels, "height": info.height, "width": info.width},
        "inputs": [{"name": n, "dtype": dtypes[n], "shape": shapes[n]} for n in names],
        "outputs": [{"name": "image", "dtype": "float32", "shape": ["N", info.channels, info.height, info.width]}],
        "file": onnx_path.name,
        "sha256": file_sha256(onnx_path),
        "opset": OPSET,
        "parity_max_abs_diff": parity,
        "training": {
            "steps": state["step"],
            "iterations": state["iteration"],
            "epochs": round(state["epochs"], 3),
            "batch_size": train["batch_size"],
            "seed": train["seed"],
            "decay_epochs": train.get("decay_epochs", 0),  # the learning rates' linear fall to zero at the end
            "ema_decay": train.get("ema_decay", DEFAULT_EMA_DECAY),  # the exported weights' average
            "wall_time_s": round(state["elapsed"], 1),
            "selected": selected(state),
            "versions": state["versions"],
            "variant": variant,
            "model_config": state["model_config"],
        },
        "metrics": dict(state["metrics"]),
    }
    old = folder / "manifest.json"
    if old.exists():
        previous = json.loads(old.read_text())
        if previous.get("sha256") == manifest["sha256"]:
            manifest = keep_measured(manifest, previous)
    write_manifest(folder, manifest)
    return manifest


def keep_measured(fresh: dict, previous: dict) -> dict:
    """`fresh` laid over `previous`, the manifest of this very file, at every depth: each field export writes is
    rewritten, and everything other commands measured of the file is kept (evaluate's metrics, class_counts,
    code_attributes and codes.continuous_meaning, the encoder, the truncation table, and whatever comes next)."""
    merged = dict(previous)
    for key, value in fresh.items():
        below = previous.get(key)
        merged[key] = keep_measured(value, below) if isinstance(value, dict) and isinstance(below, dict) else value
    return merged


def selected(state: dict) -> dict | None:
    """Which weights were exported: the epoch of the lowest validation FID, with every epoch's figure."""
    best = state.get("best")
    if not best:
        return None
    curve = [[v["epoch"], round(v["fid"], 2)] for v in state["validation"]]
    return {"epoch": best["epoch"], "step": best["step"], "validation_fid": round(best["fid"], 2), "curve": curve}


def read_manifest(folder: Path) -> dict:
    """A committed model's manifest, once its file is proven the one the manifest names (its sha256): figures
    measured on any other file would describe the wrong model."""
    manifest = json.loads((folder / "manifest.json").read_text())
    if file_sha256(folder / manifest["file"]) != manifest["sha256"]:
        raise ValueError(f"{folder}: {manifest['file']} does not match its manifest's sha256")
    return manifest


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
