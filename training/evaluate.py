"""Quality figures for exported generators: each ONNX model sampled as served, its samples read by the evaluation
classifier trained on the same data (classifier.py), the figures (metrics.py) written into its manifest.

FID here is the Fréchet distance between Gaussians fitted to the classifier's penultimate features
(a domain feature space, as Inception's is for photos); the real-vs-real floor is given beside it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .classifier import classify, load_classifier, reference_statistics
from .data import DATASETS
from .export import read_manifest, spread_conditions, write_manifest
from .figures import save_grid
from .metrics import (
    class_balance,
    code_attributes,
    code_names,
    code_purity,
    frechet_distance,
    moments,
    precision_recall,
)

log = logging.getLogger(__name__)


def sample_exported(
    session: ort.InferenceSession, manifest: dict, n: int, seed: int = 12345
) -> tuple[np.ndarray, dict]:
    """n images from the ONNX model as served, with uniformly spread labels or codes."""
    rng = np.random.default_rng(seed)
    inputs: dict[str, np.ndarray] = {"z": rng.standard_normal((n, manifest["latent_dim"]), dtype=np.float32)}
    names = {i["name"] for i in manifest["inputs"]}
    k = manifest["codes"]["categorical"][0] if "c_cat" in names else None
    inputs |= spread_conditions(n, manifest["num_classes"] if "label" in names else None, k)
    if "c_cat" in names:
        inputs["c_cont"] = rng.uniform(-1, 1, (n, manifest["codes"]["continuous"])).astype(np.float32)
    images = np.concatenate(
        [session.run(["image"], {k: v[s : s + 500] for k, v in inputs.items()})[0] for s in range(0, n, 500)]
    )
    return images, inputs


def evaluate_model(data_dir: Path, folder: Path, n: int) -> dict[str, float]:
    manifest = read_manifest(folder)
    dataset = manifest["dataset"]
    ref = reference_statistics(data_dir, dataset)
    session = ort.InferenceSession(str(folder / manifest["file"]), providers=["CPUExecutionProvider"])
    images, inputs = sample_exported(session, manifest, n)
    feats, pred = classify(load_classifier(dataset), torch.from_numpy(images))
    precision, recall = precision_recall(ref["features"], feats, ref["radii"])
    metrics = {
        "fid": round(frechet_distance(*moments(feats), *ref["test"]), 4),
        "fid_floor": round(ref["floor"], 4),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "real_precision": round(ref["precision"], 4),
        "real_recall": round(ref["recall"], 4),
        "samples": n,
    }
    if "label" in inputs:
        metrics["label_accuracy"] = round(float((pred == inputs["label"]).mean()), 4)
    else:  # labels are drawn uniformly by conditional models; an unconditional one must spread them itself
        counts = np.bincount(pred, minlength=len(DATASETS[dataset].class_names))
        metrics |= {key: round(v, 4) for key, v in class_balance(counts).items()}
        manifest["class_counts"] = counts.tolist()
        if DATASETS[dataset].source == "images":  # uneven by nature (the emoji are 60% people): compare with it
            real = np.bincount(ref["predicted"], minlength=len(counts)) / len(ref["predicted"])
            metrics["class_share_gap"] = round(float(np.abs(counts / counts.sum() - real).sum() / 2), 4)
    if "c_cat" in inputs:
        k = manifest["codes"]["categorical"][0]
        metrics["code_purity"] = round(code_purity(inputs["c_cat"], pred, k), 4)
        correlations = code_attributes(images, inputs["c_cont"], inputs["c_cat"])
        names = code_names(correlations)
        manifest["code_attributes"] = correlations
        manifest["codes"]["continuous_meaning"] = [names.get(code) for code in correlations]
        save_code_sweeps(session, folder, manifest, inputs["c_cat"], pred)
    manifest["metrics"] = manifest.get("metrics", {}) | metrics
    write_manifest(folder, manifest)
    log.info("%s: %s", folder.name, metrics)
    return manifest["metrics"]


def save_code_sweeps(
    session: ort.InferenceSession,
    folder: Path,
    manifest: dict,
    c_cat: np.ndarray,
    predicted: np.ndarray,
    digits: int = 5,
) -> None:
    """`codes.png`, the InfoGAN paper's figure: a block per continuous code, in it one row per digit sweeping the
    code over −2 … 2 (columns) with z and the other codes fixed at 0; the rows are the categorical values the
    classifier reads as 0, 2, 4, 6, 8."""
    k, n_cont = manifest["codes"]["categorical"][0], manifest["codes"]["continuous"]
    majority = [np.bincount(predicted[c_cat == c], minlength=k).argmax() for c in range(k)]
    rows = [int(np.argmax([m == d for m in majority])) for d in range(0, 2 * digits, 2)]
    values = np.linspace(-2, 2, 9, dtype=np.float32)
    z = np.random.default_rng(7).standard_normal((digits, manifest["latent_dim"]), dtype=np.float32)
    feeds: dict[str, list] = {"z": [], "c_cat": [], "c_cont": []}
    for j in range(n_cont):
        for r, c in enumerate(rows):
            for v in values:
                cont = np.zeros(n_cont, dtype=np.float32)
                cont[j] = v
                feeds["z"].append(z[r])
                feeds["c_cat"].append(c)
                feeds["c_cont"].append(cont)
    images = session.run(["image"], {k: np.asarray(v) for k, v in feeds.items()})[0]
    blocks = np.split(images, n_cont)
    gap = np.full((len(values), *images.shape[1:]), -1.0, dtype=np.float32)  # a black row between the codes
    save_grid(np.concatenate([b for block in blocks for b in (block, gap)][:-1]), len(values), folder / "codes.png")


def evaluate_models(data_dir: Path, models_dir: Path, names: list[str] | None = None, n: int = 10_000) -> None:
    """Measure the named exported generators, or every one; the command then rewrites docs/MODELS.md from them."""
    folders = (
        [models_dir / name for name in names]
        if names
        else sorted(p.parent for p in models_dir.glob("*/manifest.json") if is_generator(json.loads(p.read_text())))
    )
    for folder in folders:
        evaluate_model(data_dir, folder, n)


def is_generator(manifest: dict) -> bool:
    """Latent generators (FID, label accuracy); translators and text-to-image models are measured at export."""
    return manifest.get("kind", "generator") == "generator"
