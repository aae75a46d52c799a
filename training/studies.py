"""Short controlled runs that answer one question each, written to docs/STUDIES.md.

- Ablation of Salimans et al. 2016's techniques: DCGAN with each switch alone, same seed and length.
- SGAN: the discriminator's test accuracy as a classifier with 100 labels against all 60,000, and with Salimans
  et al.'s feature-matching generator against Odena's non-saturating one.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from .config import TrainConfig
from .evaluate import evaluate_model
from .export import export
from .recipes import ABLATION_EPOCHS, COMMITTED, recipe
from .trainer import Trainer

ABLATION = ["dcgan", "dcgan-feature-matching", "dcgan-minibatch", "dcgan-historical", "dcgan-smoothing", "dcgan-vbn"]
SGAN = {  # run: (generator loss, labels used)
    "sgan": ("non-saturating (Odena 2016)", "100 (10 per class)"),
    "sgan-all-labels": ("non-saturating (Odena 2016)", "all 60,000"),
    "sgan-feature-matching": ("feature matching (Salimans 2016)", "100 (10 per class)"),
}
log = logging.getLogger(__name__)


def run_study(variant: str, data_dir: Path, runs_dir: Path, samples: int) -> dict:
    """Train `variant` on MNIST for ABLATION_EPOCHS, export it beside the run, and measure it."""
    cfg = TrainConfig(
        model=f"study-{variant}",
        variant=variant,
        epochs=ABLATION_EPOCHS,
        data_dir=str(data_dir),
        runs_dir=str(runs_dir),
    )
    trainer = Trainer(cfg)
    trainer.resume()
    trainer.fit()
    export(trainer.checkpoint_path, runs_dir / "exported", cfg.model)
    metrics = evaluate_model(data_dir, runs_dir / "exported" / cfg.model, samples)
    return metrics | {"minutes": trainer.elapsed / 60}


def run_studies(data_dir: Path, runs_dir: Path, out: Path, samples: int = 10_000) -> None:
    results = {v: run_study(v, data_dir, runs_dir, samples) for v in [*ABLATION, *SGAN]}
    (runs_dir / "studies.json").write_text(json.dumps(results, indent=2))
    grids = out.parent / "studies"
    grids.mkdir(parents=True, exist_ok=True)
    for v in results:
        shutil.copyfile(runs_dir / "exported" / f"study-{v}" / "samples.png", grids / f"{v}.png")
    write_studies_doc(results, out, samples)


def write_studies_doc(results: dict[str, dict], out: Path, samples: int) -> None:
    base = results["dcgan"]["fid"]
    lengths = [recipe(name).epochs for name in COMMITTED]
    epochs = f"{ABLATION_EPOCHS} epoch{'s' if ABLATION_EPOCHS > 1 else ''}"
    lines = [
        "# Studies",
        "",
        f"Written by `python -m training studies`: MNIST, {epochs} each, seed 0, batch 64, FID on",
        f"{samples:,} samples in the evaluation classifier's feature space (see MODELS.md; floor "
        f"{results['dcgan']['fid_floor']:.2f}). One seed and a short budget: read differences of a few percent as",
        f"noise, and the committed models (MODELS.md, {min(lengths)} to {max(lengths)} epochs) for what longer",
        "training reaches.",
        "",
        "## Improved-training techniques (Salimans et al. 2016), each alone on DCGAN",
        "",
        "| run | FID ↓ | vs. DCGAN | train time |",
        "|---|---|---|---|",
    ]
    for v in ABLATION:
        r = results[v]
        lines.append(f"| {v} | {r['fid']:.2f} | {r['fid'] / base:.2f}× | {r['minutes']:.1f} min |")
    lines += [
        "",
        "## Semi-supervised GAN: the discriminator as a classifier",
        "",
        "| generator loss | labels used | test accuracy | FID ↓ |",
        "|---|---|---|---|",
        *(
            f"| {loss} | {labels} | {100 * results[v]['sgan_test_accuracy']:.2f}% | {results[v]['fid']:.2f} |"
            for v, (loss, labels) in SGAN.items()
        ),
        "",
        "## Samples (64 per run, same seeds)",
        "",
        *(f"**{v}**<br>![{v} samples](studies/{v}.png)\n" for v in results),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    log.info("wrote %s", out)
