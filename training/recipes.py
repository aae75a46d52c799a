"""The models we train and commit: a name is `<dataset prefix>-<variant>`, with a planned length.

Epoch counts were planned from measured throughput on 2 CPU cores (DCGAN-sized nets: ~1 min per epoch of
60,000 images) so that each model trains in about 15 minutes or less.
"""

from __future__ import annotations

from dataclasses import dataclass

from .variants import VARIANTS

PREFIXES = {"mnist": "mnist", "fashion": "fashion-mnist"}


@dataclass(frozen=True)
class Recipe:
    name: str
    dataset: str
    variant: str
    epochs: int


EPOCHS = {  # by variant; others default to DEFAULT_EPOCHS
    "dcgan": 12,  # unconditional: at 5 epochs many digits were still hybrids (FID 374 → 272 at 12)
    "lsgan": 12,  # the same generator as dcgan, so the same length (at 5 epochs: FID 396, above vanilla)
    "acgan": 10,  # label accuracy 94.5% at 5 epochs
    "infogan": 8,  # code purity 99.9% after 4,000 steps and at 8 epochs; FID 20.8
    "vanilla": 10,  # the MLP: cheap per step, but its steps are overhead-bound on a CPU
    "wgan": 60,  # 28,100 G steps; FID (5,000 samples) 376 at 10 epochs, 313 at 20, 283 at 30, 261 at 40, 238 at 60
    "sgan": 10,  # the non-saturating generator is DCGAN's, which needed 12 (FID 374 at 5 epochs)
    "wgan-gp": 14,  # five critic steps per G step: 6 epochs are only 1,124 G steps (FID 583, strokes, not digits)
}
MODEL_EPOCHS = {"fashion-wgan-gp": 24}  # a dataset's own length (FID 392 at 14 epochs, 334 at 19, 295 at 24)
DEFAULT_EPOCHS = 5
ABLATION_EPOCHS = 1  # one pass each: the studies share two CPU cores with the committed models' training

COMMITTED = [
    "mnist-dcgan",
    "mnist-cgan",
    "mnist-infogan",
    "mnist-acgan",
    "mnist-vanilla",
    "mnist-lsgan",
    "mnist-wgan-gp",
    "mnist-wgan",
    "mnist-sgan",
    "fashion-dcgan",
    "fashion-cgan",
    "fashion-vanilla",
    "fashion-wgan-gp",
]


def recipe(name: str) -> Recipe:
    """Parse a model name such as `fashion-wgan-gp` into dataset and variant."""
    prefix, _, variant = name.partition("-")
    if prefix not in PREFIXES or variant not in VARIANTS:
        raise ValueError(
            f"model name {name!r} must be <{'|'.join(PREFIXES)}>-<variant>, variant one of {', '.join(VARIANTS)}"
        )
    epochs = ABLATION_EPOCHS if variant.startswith("dcgan-") else EPOCHS.get(variant, DEFAULT_EPOCHS)
    epochs = MODEL_EPOCHS.get(name, epochs)
    return Recipe(name, PREFIXES[prefix], variant, epochs)


# The quality each committed model must reach (measured by `python -m training evaluate`); besides these, every
# model's FID must be below its dataset's vanilla model's.
QUALITY_BARS: dict[str, tuple[str, float]] = {
    "mnist-cgan": ("label_accuracy", 0.98),
    "mnist-acgan": ("label_accuracy", 0.98),
    "fashion-cgan": ("label_accuracy", 0.90),
    "mnist-infogan": ("code_purity", 0.95),
}
