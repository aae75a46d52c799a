"""How to read the scale: FID, precision and recall of real images with one known flaw.

The FID of a domain classifier's features has no intuitive unit. Measuring real images that carry a single,
controlled flaw (pixel noise of a given σ, or a Gaussian blur) gives each figure a meaning (an FID of 140 is
"real images under faint noise") and shows how FID and recall move together on each dataset. The images are the
10,000 training images that give the real-vs-real floor (`classifier.reference_statistics`), so each row is measured
exactly as a generator's 10,000 samples are.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageFilter

from service.manifest import file_sha256

from .classifier import CLASSIFIER_DIR, classify, load_classifier, reference_features
from .data import DATASETS, load_split, to_tensor
from .metrics import frechet_distance, moments, precision_recall

log = logging.getLogger(__name__)

# σ of Gaussian pixel noise in the generators' [-1, 1] range (0.1 is about 13 grey levels of 255), and σ in pixels
# of a Gaussian blur: two flaws an imperfect generator shows, from barely visible to strong
FLAWS: tuple[tuple[str, float], ...] = (
    ("noise", 0.05),
    ("noise", 0.075),
    ("noise", 0.1),
    ("noise", 0.2),
    ("blur", 0.5),
    ("blur", 0.6),
    ("blur", 0.7),
    ("blur", 1.0),
)
RECALL = 0.6  # issue #19's bar: the section says which FIDs real images keep it at
FIGURES = CLASSIFIER_DIR / "calibration.json"  # beside the classifiers: the figures describe their feature spaces


def flawed(images: np.ndarray, kind: str, level: float, seed: int = 0) -> torch.Tensor:
    """uint8 images [N, H, W] → float [N, 1, H, W] in [-1, 1] with one flaw; the same seed gives the same noise."""
    if kind == "blur":
        blur = ImageFilter.GaussianBlur(level)
        return to_tensor(np.stack([np.asarray(Image.fromarray(i).filter(blur)) for i in images]))
    if kind != "noise":
        raise ValueError(f"flaw {kind!r} unknown; choose noise or blur")
    x = to_tensor(images)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return (x + level * noise).clamp(-1.0, 1.0)


def calibrate(data_dir: Path, dataset: str, n: int = 10_000) -> list[dict]:
    """One row per flaw (the first row: none) for the first `n` training images against the test split."""
    ref, classifier = reference_features(data_dir, dataset), load_classifier(dataset)
    images = load_split(data_dir, dataset, "train")[0][:n]
    rows = []
    for kind, level in (("none", 0.0), *FLAWS):
        x = to_tensor(images) if kind == "none" else flawed(images, kind, level)
        feats, _ = classify(classifier, x)
        precision, recall = precision_recall(ref["features"], feats, ref["radii"])
        fid = frechet_distance(*moments(feats), *ref["test"])
        rows.append(
            dict(flaw=kind, level=level, fid=round(fid, 2), precision=round(precision, 4), recall=round(recall, 4))
        )
        log.info("%s %s %s: %s", dataset, kind, level, rows[-1])
    return rows


def write_figures(data_dir: Path, datasets: list[str], path: Path = FIGURES, n: int = 10_000) -> dict:
    """Measure `datasets` and merge them into `path`, each with its classifier's sha256 (figures of another
    classifier would mean nothing)."""
    unknown = set(datasets) - set(DATASETS)
    if unknown:
        raise ValueError(f"unknown dataset(s) {sorted(unknown)}; choose from {', '.join(DATASETS)}")
    figures = json.loads(path.read_text()) if path.exists() else {}
    for dataset in datasets:
        figures[dataset] = {
            "classifier_sha256": file_sha256(CLASSIFIER_DIR / f"{dataset}.pt"),
            "images": n,
            "rows": calibrate(data_dir, dataset, n),
        }
    path.write_text(json.dumps(figures, indent=2) + "\n")
    return figures


def calibration_section(path: Path = FIGURES) -> list[str]:
    """docs/MODELS.md's table of the flawed real images, for each dataset whose classifier they were measured on."""
    figures = json.loads(path.read_text()) if path.exists() else {}
    current = {d: f for d, f in figures.items() if f["classifier_sha256"] == file_sha256(CLASSIFIER_DIR / f"{d}.pt")}
    if not current:
        return []
    datasets = list(current)
    lines = [
        "",
        "## Reading the scale: real images with one flaw",
        "",
        "`python -m training calibrate`: the 10,000 training images of the floor, each with one flaw, measured as a",
        "model's samples are. Noise σ is in the images' [-1, 1] range (0.1 ≈ 13 grey levels); blur σ in pixels. A",
        "model's FID reads as the flaw of the row nearest it; recall falls as FID rises.",
        "",
        *[f"- {d}: {recall_threshold(current[d]['rows'])}" for d in datasets],
        "",
        "| flaw | " + " | ".join(f"{d}: FID / precision / recall" for d in datasets) + " |",
        "|---|" + "---|" * len(datasets),
    ]
    for i, row in enumerate(current[datasets[0]]["rows"]):
        flaw = "none (the floor)" if row["flaw"] == "none" else f"{row['flaw']} σ {row['level']:g}"
        cells = [current[d]["rows"][i] for d in datasets]
        lines.append(
            f"| {flaw} | "
            + " | ".join(f"{c['fid']:.1f} / {c['precision']:.2f} / {c['recall']:.2f}" for c in cells)
            + " |"
        )
    return lines


def recall_threshold(rows: list[dict]) -> str:
    """Where real images lose recall RECALL: the highest FID that keeps it and the lowest that does not."""
    keep = [r["fid"] for r in rows if r["recall"] >= RECALL]
    lose = [r["fid"] for r in rows if r["recall"] < RECALL]
    if not keep:
        return f"no set keeps recall {RECALL:g}"
    lost = f"every set under it FID ≥ {min(lose):.1f}" if lose else "no set falls under it"
    return f"every flawed set with recall ≥ {RECALL:g} has FID ≤ {max(keep):.1f}, {lost}"
