"""The GAN variants as declarations: each names only what differs from the DCGAN defaults."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from .augment import PARITIES
from .diffaugment import POLICIES
from .losses import LOSSES
from .models import ModelConfig


@dataclass(frozen=True)
class Variant:
    name: str
    arch: Literal["mlp", "conv"] = "conv"
    loss: str = "vanilla"  # a key of losses.LOSSES
    conditional: bool = False  # G and D take the class label (cGAN, ACGAN)
    d_head: Literal["adv", "projection", "aux", "sgan"] = "adv"
    codes: tuple[int, int] | None = None  # InfoGAN (categorical values, continuous codes)
    latent_dim: int = 100
    width: int = 64
    d_width: int = 0  # D's width where it differs from G's (0: width); D is not exported, so it costs no ONNX size
    d_fc: int = 0  # a hidden fully connected layer atop D's convolutions (the InfoGAN paper's 1024)
    d_layers: int = 2  # D's strided convolutions (conv only)
    g_fc: int = 0  # a hidden fully connected layer at G's input (the paper's 1024; narrower keeps ONNX small)
    mlp_g_norm: bool = False  # batch norm between the MLP generator's layers
    lr_g: float = 2e-4  # Radford 2015
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1  # D steps per G step
    clip: float | None = None  # WGAN weight clipping
    gp_weight: float = 0.0  # WGAN-GP λ
    d_norm: Literal["batch", "layer", "none"] = "batch"
    aux_weight: float = 1.0  # ACGAN class term
    info_weight: float = 1.0  # InfoGAN λ
    cont_weight: float = 0.1  # InfoGAN: the continuous codes' term relative to the categorical code's
    q_restyle: bool = False  # InfoGAN: Q reads the categorical code from restyled fakes (see augment.py)
    q_std: bool = False  # InfoGAN: Q predicts each continuous code's σ too (the paper's factored Gaussian)
    # InfoGAN: per continuous code, the symmetry under which Q's reading of it must change sign ("mirror-odd") or
    # stay ("mirror-even"), or "" (augment.parity_reading). A code read by its mirror-odd part can only live in a
    # feature a left-right mirror negates (slant); by its transpose-odd part, in one that swapping rows for columns
    # negates (width against height, or a rotation). No attribute is named or measured.
    q_parity: tuple[str, ...] = ()
    q_parity_epoch: float = 0.0  # Q reads the codes by parity from this epoch on, as they are before it
    # InfoGAN: continuous code k (from 0) is held at 0 until epoch k × this, so each code that joins must find a
    # factor the ones before it leave unexplained, instead of sharing a rotation of the plane with them
    code_stagger_epochs: float = 0.0
    labels_per_class: int | None = None  # SGAN: labelled examples per class (None: every label)
    # Salimans et al. 2016 improved techniques, as switches.
    feature_matching: bool = False
    minibatch_features: int = 0
    historical_weight: float = 0.0
    real_target: float = 1.0  # < 1: one-sided label smoothing
    virtual_bn: bool = False
    # DiffAugment (Zhao 2020) policies through which D sees every image, real and fake: colour, translation, cutout
    diff_augment: tuple[str, ...] = ()

    def validate(self) -> None:
        """Reject combinations that cannot train, saying what to change."""
        problems = []
        if self.loss not in LOSSES:
            problems.append(f"loss {self.loss!r} unknown; choose one of {sorted(LOSSES)}")
        if self.gp_weight and self.d_norm == "batch":
            problems.append("gradient penalty needs d_norm 'layer' or 'none' (batch norm couples samples)")
        if self.d_head in ("projection", "aux") and not self.conditional:
            problems.append(f"d_head {self.d_head!r} needs conditional=True")
        if self.conditional and self.d_head not in ("projection", "aux"):
            problems.append("a conditional variant needs d_head 'projection' or 'aux'")
        if self.labels_per_class is not None and self.d_head != "sgan":
            problems.append("labels_per_class applies to d_head 'sgan' only")
        if (self.q_restyle or self.q_std or self.q_parity or self.code_stagger_epochs) and not self.codes:
            problems.append("q_restyle, q_std, q_parity and code_stagger_epochs need InfoGAN codes")
        if self.q_parity and self.q_std:
            problems.append("q_parity symmetrises Q's means only: it needs q_std False")
        if (
            self.q_parity
            and self.codes
            and (len(self.q_parity) != self.codes[1] or not set(self.q_parity) <= {"", *PARITIES})
        ):
            problems.append(f"q_parity needs one entry per continuous code, each '' or one of {', '.join(PARITIES)}")
        if self.arch == "mlp" and (self.virtual_bn or self.codes or self.d_fc or self.g_fc or self.d_layers != 2):
            problems.append("virtual_bn, codes, d_fc, g_fc and d_layers need arch 'conv'")
        if self.g_fc and self.virtual_bn:
            problems.append("g_fc's batch norm would use batch statistics; virtual_bn needs g_fc 0")
        if self.real_target != 1.0 and self.loss == "wasserstein":
            problems.append("label smoothing has no meaning for a Wasserstein critic")
        if unknown := set(self.diff_augment) - set(POLICIES):
            problems.append(f"diff_augment {sorted(unknown)} unknown; choose from {', '.join(POLICIES)}")
        if problems:
            raise ValueError(f"variant {self.name}: " + "; ".join(problems))

    def changes_from(self, record: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
        """{field: (recorded, declared)} where this declaration differs from a recorded one (a checkpoint's or a
        manifest's): fields declared since the record take their defaults, fields removed since mean nothing now,
        and a JSON list equals the tuple it was written from."""
        recorded = asdict(Variant(record["name"])) | record
        return {k: (recorded[k], v) for k, v in asdict(self).items() if json.dumps(recorded[k]) != json.dumps(v)}

    def model_config(self, num_classes: int, channels: int = 1, size: int = 28) -> ModelConfig:
        n_cat, n_cont = self.codes or (0, 0)
        return ModelConfig(
            arch=self.arch,
            latent_dim=self.latent_dim,
            channels=channels,
            size=size,
            width=self.width,
            d_width=self.d_width,
            num_classes=num_classes,
            conditional=self.conditional,
            n_cat=n_cat,
            n_cont=n_cont,
            q_std=self.q_std,
            d_head=self.d_head,
            g_norm="virtual" if self.virtual_bn else "batch",
            d_norm=self.d_norm,
            minibatch_features=self.minibatch_features,
            d_fc=self.d_fc,
            d_layers=self.d_layers,
            g_fc=self.g_fc,
            mlp_g_norm=self.mlp_g_norm,
        )

    def with_overrides(self, overrides: dict[str, Any]) -> Variant:
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown variant field(s) {sorted(unknown)}; known: {sorted(known)}")
        v = replace(self, **overrides)
        v.validate()
        return v


# InfoGAN's FC layers (D 1024, G 256) and its two time scales (G 1e-3, D 2e-4), which made InfoGAN the best
# model (FID 20.8), for every conv variant with a logistic or least-squares D: their G and D stay convolutional with
# batch norm. DCGAN probe FID after one epoch (5,000 samples): 389 with the FC layers at the paper's shared 2e-4,
# 53 with G at 1e-3 (the 2-conv nets without either: 272 after 12 epochs); classes max/min 3.2 against 1.5.
FC_TTUR: dict = {"d_fc": 1024, "g_fc": 256, "lr_g": 1e-3}
_dcgan = Variant("dcgan", **FC_TTUR)

VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        # Goodfellow 2014's MLP; batch norm between G's layers (probe, validation FID after 3 epochs: 677 with it; the
        # 10-epoch net without it drew many illegible shapes, test FID 356)
        Variant("vanilla", arch="mlp", width=64, mlp_g_norm=True),
        _dcgan,
        Variant("cgan", conditional=True, d_head="projection", **FC_TTUR),
        Variant("acgan", conditional=True, d_head="aux", **FC_TTUR),
        # The paper's MNIST nets: FC layers in D (1024) and G (256 here, for an ONNX under 8 MB). Code purity at 800
        # steps, seeds 0 and 1: 23% and 19% with neither, 41% with d_fc, 74% and 68% with both. Without q_restyle
        # two codes each drew both 4s and 9s, one slanted and thin, one upright and thick (89.5% at 8 epochs), for
        # every seed, λ, code weight, noise size and batch size tried; with it, 99.3% after 2,000 steps (seed 0).
        # The continuous codes (issue #24; README has the runs): at the paper's weight 0.1 for a fixed-σ Q they barely
        # moved the digit (|r| ≤ 0.26 with slant and width); at 1, slant −0.84 and width −0.54; at 2, slant −0.77 and
        # width +0.71, the width code also +0.46 with slant, as Q's squared error is the same for any rotation of the
        # code plane (a falling rate over epochs 10-12 kept it: −0.76 and +0.70). Read by parity from the start, c1
        # took slant but c2 thickness (mirror-even) or nothing visible (transpose-odd, seeds 0 and 1). So the codes find
        # slant and width freely at weight 2 for 10 epochs; then Q reads c1 by its mirror-odd part and c2 by its
        # transpose-odd part while the rates fall to 0 over epochs 11-12: slant −0.82 and width +0.73, test FID 13.2
        # (c2 by its mirror-even part: −0.80 and +0.73; so over epochs 11-14: −0.83 and +0.73, validation FID 13.0).
        Variant(
            "infogan",
            codes=(10, 2),
            latent_dim=62,
            lr_g=1e-3,
            d_fc=1024,
            g_fc=256,
            q_restyle=True,
            cont_weight=2.0,
            q_parity=("mirror-odd", "transpose-odd"),
            q_parity_epoch=10.0,
        ),
        # WGAN: weight clipping on InfoGAN's nets (D's FC layer of 1024 with batch norm, G's of 256) with Adam at one
        # shared rate and one critic step, as in Lucic et al. 2018's study (compare_gan): validation FID 202 and 86
        # after epochs 1 and 2 (at 1e-4: 441, 177, 113, 83 after epochs 1-4; clipping at 0.1: 751 after epoch 1).
        # The paper's RMSprop with a critic of convolutions only (2 critic steps per G step, layer norm, 3
        # convolutions) flattened near FID 240 after 60 epochs, and no change probed on it did better: lr 5e-5 or
        # 5e-4, 5 critic steps, no norm, batch norm, clipping at 0.05, a wider critic, G's FC layer at 1e-3, Adam with
        # D at 4x G's rate. Which of the new recipe's changes matters most was not isolated.
        Variant("wgan", loss="wasserstein", clip=0.01, d_fc=1024, g_fc=256),
        # WGAN-GP: five critic steps per G step left 2,400 G steps in 14 epochs (test FID 348). One critic step at
        # four times G's rate (two time scales, Heusel 2017) gives five times the G steps; G gets InfoGAN's FC layer
        # and the critic a third convolution.
        Variant(
            "wgan-gp",
            loss="wasserstein",
            lr_g=1e-4,
            lr_d=4e-4,
            betas=(0.5, 0.9),
            gp_weight=10.0,
            d_norm="layer",
            d_layers=3,
            g_fc=256,
        ),
        Variant("lsgan", loss="least_squares", **FC_TTUR),
        # SGAN: Odena 2016's non-saturating generator. Salimans 2016's feature matching, meant to classify better,
        # drew strokes here (FID 505) and classified worse (83.8% against 89.9% at 1 epoch): a study only.
        Variant("sgan", d_head="sgan", labels_per_class=10, **FC_TTUR),
        Variant("sgan-all-labels", d_head="sgan"),
        Variant("sgan-feature-matching", d_head="sgan", feature_matching=True, labels_per_class=10),
        # The improved-training ablation: DCGAN with one switch each.
        replace(_dcgan, name="dcgan-feature-matching", feature_matching=True),
        replace(_dcgan, name="dcgan-minibatch", minibatch_features=32),
        replace(_dcgan, name="dcgan-historical", historical_weight=1e-3),
        replace(_dcgan, name="dcgan-smoothing", real_target=0.9),
        replace(_dcgan, name="dcgan-vbn", virtual_bn=True, g_fc=0),  # VBN normalises feature maps only
    ]
}
for _v in VARIANTS.values():
    _v.validate()
