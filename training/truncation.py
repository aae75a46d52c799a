"""What the truncation trick costs and buys (issue #21): FID, precision and recall per ψ, and a grid per ψ.

Latents come from the service's own rule (`service.sampling.draw(seed, ..., truncation=ψ)` for seeds 0..n-1),
so the figures describe exactly what `truncation: ψ` serves. Lower ψ should raise precision (fidelity) and
lower recall (variety); FID says which effect wins.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from service import sampling

from .classifier import classify, load_classifier, reference_features
from .export import read_manifest, write_manifest
from .figures import save_grid
from .metrics import frechet_distance, moments, precision_recall
from .models import Classifier

log = logging.getLogger(__name__)

PSIS = (1.0, 0.8, 0.6, 0.4)
GRID = "truncation.png"
GRID_SEEDS = 8  # columns of the grid: the same seeds in every row, one row per ψ (and one without truncation)


def latents(latent_dim: int, seeds: range, psi: float | None) -> np.ndarray:
    """z of each seed as the service draws it for an unconditional model, float32 [len(seeds), latent_dim]."""
    return np.stack([d.z for d in sampling.draws(seeds, latent_dim, truncation=psi)])


def _generate(session: ort.InferenceSession, z: np.ndarray, chunk: int = 500) -> np.ndarray:
    return np.concatenate([session.run(["image"], {"z": z[s : s + chunk]})[0] for s in range(0, len(z), chunk)])


def truncation_figures(data_dir: Path, folder: Path, psis: tuple[float, ...] = PSIS, n: int = 10_000) -> dict:
    """FID, precision and recall of `n` samples per ψ on an unconditional generator (the evaluation classifier's
    features against the test split), written to its manifest under `truncation`, with the grid."""
    manifest = read_manifest(folder)
    if manifest["conditional"] or manifest.get("codes"):
        raise ValueError(f"{folder.name}: the truncation table covers unconditional generators only")
    session = ort.InferenceSession(str(folder / manifest["file"]), providers=["CPUExecutionProvider"])
    dataset, dim = manifest["dataset"], manifest["latent_dim"]
    ref, classifier = reference_features(data_dir, dataset), load_classifier(dataset)
    plain = _row(session, ref, classifier, dim, n, None)
    log.info("%s no truncation: %s", folder.name, plain)
    rows = {}
    for psi in psis:
        rows[str(psi)] = _row(session, ref, classifier, dim, n, psi)
        log.info("%s ψ=%s: %s", folder.name, psi, rows[str(psi)])
    grid = [_generate(session, latents(dim, range(GRID_SEEDS), psi)) for psi in (None, *psis)]
    save_grid(np.concatenate(grid), GRID_SEEDS, folder / GRID)
    manifest["truncation"] = {
        "samples": n,
        "seeds": f"0..{n - 1}",
        "plain": plain,
        "psi": rows,
        "generator_sha256": manifest["sha256"],
    }
    write_manifest(folder, manifest)
    return manifest["truncation"]


def _row(session: ort.InferenceSession, ref: dict, classifier: Classifier, dim: int, n: int, psi: float | None) -> dict:
    """FID, precision and recall of seeds 0..n-1 at ψ (None: plain z(seed), the same seeds untruncated)."""
    feats, _ = classify(classifier, torch.from_numpy(_generate(session, latents(dim, range(n), psi))))
    precision, recall = precision_recall(ref["features"], feats, ref["radii"])
    fid = frechet_distance(*moments(feats), *ref["test"])
    return {"fid": round(fid, 2), "precision": round(precision, 4), "recall": round(recall, 4)}


def add_plain_row(data_dir: Path, folder: Path) -> dict:
    """The untruncated row on the seeds the manifest's `truncation` entry measured, added to that entry (the ψ rows
    are kept: they are deterministic in the seeds and model.onnx, which must be the one they were measured on)."""
    manifest = read_manifest(folder)
    figures = manifest["truncation"]
    if figures["generator_sha256"] != manifest["sha256"]:
        raise ValueError(f"{folder}: the truncation figures were measured on another model.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a side measurement: it should not take the cores of a training run
    session = ort.InferenceSession(str(folder / manifest["file"]), options, providers=["CPUExecutionProvider"])
    ref, classifier = reference_features(data_dir, manifest["dataset"]), load_classifier(manifest["dataset"])
    plain = _row(session, ref, classifier, manifest["latent_dim"], figures["samples"], None)
    manifest["truncation"] = {"samples": figures["samples"], "seeds": figures["seeds"], "plain": plain} | {
        k: v for k, v in figures.items() if k not in ("samples", "seeds", "plain")
    }
    write_manifest(folder, manifest)
    return plain


def truncation_section(manifests: list[dict], rel: Path) -> list[str]:
    """MODELS.md lines: FID, precision and recall per ψ and the grids (`rel`: from docs/ to exported_models/)."""
    measured = [m for m in manifests if m.get("truncation", {}).get("generator_sha256") == m.get("sha256")]
    if not measured:
        return []
    psis = list(measured[0]["truncation"]["psi"])
    lines = [
        "## Truncation (issue #21)",
        "",
        "`truncation: ψ` redraws every component of z past 2 and scales z by ψ (docs/API.md). FID, precision and",
        f"recall of {measured[0]['truncation']['samples']:,} samples (seeds 0, 1, ...) per ψ, as above, and of the",
        "same seeds untruncated (plain z(seed)), so the first two columns differ only by the redrawing:",
        "",
        "| model | no truncation | " + " | ".join(f"ψ = {p}: FID / precision / recall" for p in psis) + " |",
        "|---|---|" + "---|" * len(psis),
    ]
    for m in measured:
        rows = [m["truncation"].get("plain"), *m["truncation"]["psi"].values()]
        cells = [f"{r['fid']:.1f} / {r['precision']:.2f} / {r['recall']:.2f}" if r else "not measured" for r in rows]
        lines.append(f"| {m['name']} | " + " | ".join(cells) + " |")
    lines.append("")
    for m in measured:
        lines += [
            f"**{m['name']}**: seeds 0–{GRID_SEEDS - 1}, rows: no truncation, then ψ = {', '.join(psis)}",
            "",
            f'<img src="{rel / m["name"] / GRID}" width="448" alt="{m["name"]} samples per truncation ψ">',
            "",
        ]
    return lines
