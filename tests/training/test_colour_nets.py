"""The DCGAN paper's colour nets at 32×32 and 64×64 under every variant that builds on them (issue #36)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from training.config import TrainConfig
from training.diffaugment import POLICIES, diff_augment
from training.export import export
from training.models import Discriminator, Generator, doublings
from training.recipes import IMAGE_OVERRIDES
from training.trainer import Trainer
from training.variants import VARIANTS

from .test_own_pictures import shapes

VARIANTS_ON_COLOUR = ["dcgan", "cgan", "lsgan", "wgan-gp", "infogan"]


@pytest.mark.parametrize("size", [32, 64])
def test_the_papers_layout_doubles_from_4x4_and_halves_back(size):
    cfg = VARIANTS["dcgan"].with_overrides(IMAGE_OVERRIDES).model_config(num_classes=2, channels=3, size=size)
    g, d = Generator(cfg), Discriminator(cfg)
    ups = [m for m in g.net if isinstance(m, nn.ConvTranspose2d)]
    assert len(ups) == doublings(size) == {32: 3, 64: 4}[size]
    assert all(m.stride == (2, 2) and m.kernel_size == (4, 4) for m in ups)
    assert [m.out_channels for m in ups] == [cfg.width << k for k in range(len(ups) - 2, -1, -1)] + [3]
    assert isinstance(g.net[-1], nn.Tanh) and sum(isinstance(m, nn.BatchNorm2d) for m in g.net) == len(ups)
    convs = [m for m in d.trunk if isinstance(m, nn.Conv2d)]
    assert len(convs) == len(ups)
    assert {type(m) for m in g.net} >= {nn.ReLU} and nn.LeakyReLU not in {type(m) for m in g.net}  # ReLU in G
    assert nn.LeakyReLU in {type(m) for m in d.trunk} and nn.ReLU not in {type(m) for m in d.trunk}  # LeakyReLU in D
    x = g(torch.randn(5, cfg.latent_dim))
    assert x.shape == (5, 3, size, size) and d(x)["adv"].shape == (5,)
    assert d.trunk(x).shape[1] == convs[-1].out_channels * 4 * 4  # D ends at 4×4
    assert doublings(28) == 0  # the MNIST layout stays as it was


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("variant", VARIANTS_ON_COLOUR)
def test_each_variant_trains_on_colour_pictures(tmp_path_factory, variant, size):
    pics = tmp_path_factory.getbasetemp() / "colour-pics"
    if not pics.exists():
        shapes(pics, per_class=8)
    cfg = TrainConfig(
        model=f"pics-{variant}-{size}",
        dataset=str(pics),
        runs_dir=str(tmp_path_factory.mktemp("runs")),
        image_size=size,
        batch_size=8,
        max_steps=2,
        val_samples=0,
        tensorboard=False,
        calibration_batches=2,
    )
    t = Trainer(cfg, VARIANTS[variant].with_overrides(IMAGE_OVERRIDES))
    t.fit()
    assert t.step == 2 and t.images.shape[1:] == (3, size, size)
    if (variant, size) in {("cgan", 64), ("infogan", 32)}:  # export, parity and the manifest for two of them
        m = export(t.checkpoint_path, tmp_path_factory.mktemp("models"), cfg.model)
        assert m["image"] == {"channels": 3, "height": size, "width": size}
        assert m["parity_max_abs_diff"] <= 1e-4 and m["dataset"] == "colour-pics"


def test_diffaugment_keeps_shape_and_gradient_and_is_seeded():
    x = (torch.rand(6, 3, 32, 32) * 2 - 1).requires_grad_()
    for name in POLICIES:
        torch.manual_seed(0)
        y = diff_augment(x, (name,))
        torch.manual_seed(0)
        assert torch.equal(y, diff_augment(x, (name,))), f"{name} is not reproducible from the seed"
        assert y.shape == x.shape and not torch.equal(y, x), name
    y = diff_augment(x, tuple(POLICIES))
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0  # G learns through the augmentation
    assert diff_augment(x, ()) is x


def test_translation_and_cutout_move_and_blank_what_they_say():
    x = torch.ones(64, 3, 32, 32)
    shifted = POLICIES["translation"](x)
    blank_rows = (shifted == 0).all(dim=(1, 3)).sum(dim=1)  # rows uncovered by a vertical shift
    assert blank_rows.max() <= 4 and (blank_rows > 0).any()  # up to 1/8 of 32
    cut = POLICIES["cutout"](x)
    holes = (cut == 0).all(dim=1).sum(dim=(1, 2))
    assert holes.max() <= 16 * 16 and holes.min() > 0  # a square of half the size, clipped at the border
