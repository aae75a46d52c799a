"""docs/MODELS.md: every exported model's figures, gathered from the manifests and from the studies' own sections
(encoder, truncation, calibration); the top of training/, so nothing that measures imports it."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .calibration import calibration_section
from .classifier import CLASSIFIER_DIR
from .data import DATASETS
from .evaluate import is_generator
from .inversion import encoder_section
from .recipes import DIFFAUGMENT_PROBES, PERCENT, QUALITY_BARS
from .truncation import truncation_section


def write_models_doc(models_dir: Path, path: Path) -> None:
    """One table of every exported generator's figures, the encoders', truncation's and the flawed real images',
    then each model's samples and loss curves; then the translation and text-to-image models (docs_pipelines)."""

    everything = [json.loads(p.read_text()) for p in sorted(models_dir.glob("*/manifest.json"))]
    manifests = [m for m in everything if is_generator(m)]
    classifiers = {
        d: torch.load(CLASSIFIER_DIR / f"{d}.pt", map_location="cpu")["test_accuracy"]
        for d in DATASETS
        if (CLASSIFIER_DIR / f"{d}.pt").exists()
    }
    rel = Path("..") / models_dir.name

    def fmt(m: dict, key: str, pct: bool = False) -> str:
        v = m["metrics"].get(key)
        return "" if v is None else (f"{100 * v:.2f}%" if pct else f"{v:.2f}")

    lines = [
        "# Models",
        "",
        "Written by `python -m training evaluate`. FID is measured on 10,000 samples in the penultimate feature",
        "space of a classifier trained by this project on the same dataset, against the test split; the floor is",
        "10,000 real training images against the same test split. Precision and recall (Kynkäänniemi 2019, k = 3,",
        "same features, 10,000 samples against the 10,000 test images): the share of samples that look like some",
        "test image, and the share of test images that some sample looks like; the real-vs-real figures are their",
        "ceiling. Classes max/min and entropy: the classifier's histogram of an unconditional model's samples (1.0",
        "and 1.0 are perfectly even). Label accuracy: share of samples the classifier assigns to the requested class.",
        "Code purity: InfoGAN's categorical code matched one-to-one to classes.",
        "",
        "Checkpoints are chosen without the test split: GAN training uses the first 55,000 training images, and",
        "after each epoch the FID of 5,000 samples against the last 5,000 (the validation split) picks the weights",
        "that are exported (column *chosen*). The test split only gives the figures below.",
        "",
        "Evaluation classifiers: " + ", ".join(f"{d} {100 * a:.2f}% test accuracy" for d, a in classifiers.items()),
        "",
        "The emoji (`../shared/data/emoji`, 7,562 pictures of Noto Emoji, Apache 2.0, and Twemoji by Twitter, CC-BY",
        "4.0) have no official split: a file's split is sha256 of its name modulo 10 (0 validation, 1 test, the rest",
        "training; training/folders.py), so both vendors' drawings of one emoji share a split: 6,068 training, 760",
        "validation and 734 test pictures at 32×32 on white. Their classifier learns the nine Unicode categories, and",
        "the real-vs-real floor is the 6,828 non-test pictures against the 734 test ones. 60% of the emoji are people",
        "(mostly skin-tone variants), so classes max/min measures the data as much as the model: *class share gap*",
        "is the total variation distance between the samples' class shares and the test pictures' (0: the same mix).",
        "How the emoji models look: blurry emoji-like figures, none sharp enough to name; mostly heads and people,",
        "with flag-like stripes, yellow smiley discs, hearts and blobs; emoji-cgan's rows follow their category",
        "loosely (flags and smileys clearly, objects and symbols hardly). Both stopped for time while their",
        "validation FID still fell, at 32×32 because a step at 64×64 cost 5 to 7 times as much on 2 CPU cores.",
        "",
        "| model | variant | epochs | chosen | train time | FID ↓ | floor | precision | recall | classes max/min |"
        " entropy | label acc. | purity | SGAN acc. |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in manifests:
        t = m["training"]
        chosen = f"{t['selected']['epoch']:g}" if t.get("selected") else "last"
        real = f" / {fmt(m, 'real_precision')}" if "real_precision" in m["metrics"] else ""
        lines.append(
            f"| {m['name']} | {m['variant']} | {t['epochs']:g} | {chosen} | {t['wall_time_s'] / 60:.1f} min | "
            f"{fmt(m, 'fid')} | {fmt(m, 'fid_floor')} | {fmt(m, 'precision')}{real} | {fmt(m, 'recall')} | "
            f"{fmt(m, 'class_max_min')} | {fmt(m, 'class_entropy')} | {fmt(m, 'label_accuracy', True)} | "
            f"{fmt(m, 'code_purity', True)} | {fmt(m, 'sgan_test_accuracy', True)} |"
        )
    lines += [
        "",
        "Precision is shown against its real-vs-real ceiling. Train time is wall time on a 2-core CPU machine with one",
        "or two torch threads, shared with other jobs.",
        "",
        "## Quality bars (issues #19 and #38)",
        "",
        "| model | figure | bar | measured | met |",
        "|---|---|---|---|---|",
    ]
    by_name = {m["name"]: m for m in manifests}
    for name, bars in QUALITY_BARS.items():
        for bar in bars:
            value = by_name.get(name, {}).get("metrics", {}).get(bar.metric)
            if value is None:
                lines.append(f"| {name} | {bar.metric} | {bar} | not measured | no |")
                continue
            shown = f"{100 * value:.2f}%" if bar.metric in PERCENT else f"{value:.2f}"
            lines.append(f"| {name} | {bar.metric} | {bar} | {shown} | {'yes' if bar.met(value) else 'no'} |")
    lines += ["", *encoder_section(manifests, rel), *truncation_section(manifests, rel), *calibration_section()]
    lines += diffaugment_section()
    for m in manifests:
        lines += [
            "",
            f"## {m['name']}",
            "",
            pictures(m["name"], rel),
            *share_gap_line(m),
            *code_section(m, rel),
        ]
    lines += docs_pipelines([m for m in everything if not is_generator(m)], rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def share_gap_line(m: dict) -> list[str]:
    gap = m["metrics"].get("class_share_gap")
    return [] if gap is None else ["", f"Class share gap against the test pictures' mix: {gap:.2f} (0: the same)."]


def diffaugment_section() -> list[str]:
    """The emoji runs with and without DiffAugment at the same budget (recipes.DIFFAUGMENT_PROBES)."""
    lines = [
        "",
        "## DiffAugment on the emoji (issue #36)",
        "",
        "Validation FID (2,000 samples against the 760 validation emoji) after each epoch of the same recipe, seed",
        "and schedule, with D seeing every image through DiffAugment's colour, translation and cutout (Zhao 2020)",
        "and without; each pair ran side by side on the same cores. Lower is better.",
        "",
    ]
    for model, curves in DIFFAUGMENT_PROBES.items():
        shared = sorted(set(curves["with"]) & set(curves["without"]))
        lines += [
            f"**{model}**",
            "",
            "| epoch | " + " | ".join(str(e) for e in shared) + " |",
            "|---|" + "---|" * len(shared),
            "| with | " + " | ".join(f"{curves['with'][e]:.0f}" for e in shared) + " |",
            "| without | " + " | ".join(f"{curves['without'][e]:.0f}" for e in shared) + " |",
            "",
        ]
    return lines


def code_section(m: dict, rel: Path) -> list[str]:
    """What each continuous code controls: its Pearson r with each measured attribute, its name, the sweeps."""
    if "code_attributes" not in m:
        return []
    correlations, meaning = m["code_attributes"], m["codes"].get("continuous_meaning") or []
    attributes = list(next(iter(correlations.values())))
    lines = [
        "",
        "Continuous codes: Pearson r of each code with attributes measured on the 10,000 samples (c ~ U(−1, 1);",
        "slant = μ11/μ02 leaning right, width = √μ20, thickness = ink per row, size = √(μ20 + μ02), as in",
        "`training/captions.py`), each attribute z-scored within its categorical value; a code is named by the",
        "attribute it tracks best when |r| ≥ 0.5.",
        "",
        "| code | " + " | ".join(attributes) + " | name |",
        "|---|" + "---|" * (len(attributes) + 1),
    ]
    for (code, rs), named in zip(correlations.items(), meaning, strict=True):
        name = f"{code} ≈ {named['attribute']}, r = {named['r']:+.2f}" if named else "unnamed"
        lines.append(f"| {code} | " + " | ".join(f"{rs[a]:+.2f}" for a in attributes) + f" | {name} |")
    lines += [
        "",
        "One block per code, in it one row per digit, the code swept over −2 … 2 (z and the other codes fixed):",
        "",
        f"![{m['name']} code sweeps]({rel / m['name'] / 'codes.png'})",
    ]
    return lines


def docs_pipelines(manifests: list[dict], rel: Path) -> list[str]:
    """The MODELS.md section of translators (CycleGAN) and text-to-image models (StackGAN), from their manifests."""
    if not manifests:
        return []
    lines = [
        "",
        "# Translation and text-to-image (issue #9)",
        "",
        "Measured at export on the MNIST test split (`python -m training cyclegan|stackgan`). Cycle error: mean",
        "|x − F(G(x))| in [0, 1] pixel units. Paired error: A→B against the true 3×3 dilation. Digit kept: the",
        "evaluation classifier gives the translation the class it gives the source. Class accuracy: the classifier",
        "gives the caption's class word. Correlation: Pearson r between the requested level (0, 1, 2) of an attribute",
        "and the value measured on the output (z-scored within its class), over every fully specified caption × 10",
        "seeds; level accuracy: the output's measured tercile is the requested one (chance: 33%).",
    ]
    for m in manifests:
        t, metrics = m["training"], m["metrics"]
        lines += [
            "",
            f"## {m['name']} ({m['variant']}, {m['kind']})",
            "",
            f"{t['steps']} steps of batch {t['batch_size']} ({t['epochs']:g} epochs), {t['wall_time_s'] / 60:.1f} min.",
            "",
            "| figure | value |",
            "|---|---|",
            *(
                f"| {k.replace('_', ' ')} | {format(v, 'g' if float(v).is_integer() else '.4f')} |"
                for k, v in metrics.items()
                if v is not None
            ),
            "",
            GRID_LAYOUT.get(m["kind"], ""),
            "",
            pictures(m["name"], rel),
        ]
    return lines


def pictures(name: str, rel: Path) -> str:
    """A model's sample grid and loss curves, both in its exported folder."""
    return f"![{name} samples]({rel / name / 'samples.png'}) ![{name} losses]({rel / name / 'losses.png'})"


GRID_LAYOUT = {
    "translator": "Grid rows: MNIST test images A, G(A) (thickened), F(G(A)) (round trip); thick test images B, "
    "F(B) (thinned), G(F(B)).",
    "text2image": "Grid: one row per digit word; columns: thin, thick, leftward, slanted, small, large, "
    '"thin slanted small", "thick slanted large" (other attributes unnamed).',
}
