"""Generators and discriminators, built from one ModelConfig.

Conditioning, InfoGAN codes, the discriminator's heads and the improved-training layers are
switches on two architectures (an MLP and a DCGAN-style conv net), not separate classes. The conv net has two
layouts by image size: at 28×28 the MNIST nets (7×7 → 14 → 28); at 32 or 64 the DCGAN paper's (Radford 2015),
which starts at 4×4 and doubles until the size with channels halving, and whose D halves back down to 4×4.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    arch: Literal["mlp", "conv"] = "conv"  # mlp: Goodfellow 2014; conv: Radford 2015
    latent_dim: int = 100
    channels: int = 1  # image channels
    size: int = 28  # image height = width; the conv net needs a multiple of 4, or 32 or 64 for the paper's layout
    width: int = 64  # conv: channels of the last hidden layer; mlp: a quarter of the widest layer
    d_width: int = 0  # the same for D, where it differs from G's (0: width)
    num_classes: int = 0  # classes of the data: the size of the label input and of the class heads
    conditional: bool = False  # G takes `label` (cGAN, ACGAN)
    n_cat: int = 0  # InfoGAN categorical code values (0: none)
    n_cont: int = 0  # InfoGAN continuous codes
    q_std: bool = False  # InfoGAN: Q also predicts each continuous code's standard deviation (a factored Gaussian)
    d_head: Literal["adv", "projection", "aux", "sgan"] = "adv"  # what D predicts besides real/fake
    g_norm: Literal["batch", "virtual"] = "batch"  # virtual: Salimans 2016 §3.4
    d_norm: Literal["batch", "layer", "none"] = "batch"  # WGAN-GP forbids batch norm in the critic
    minibatch_features: int = 0  # > 0: minibatch discrimination (Salimans 2016 §3.2) with this many kernels
    ref_batch: int = 64  # size of VBN's fixed reference batch
    d_fc: int = 0  # conv: a hidden fully connected layer of this width atop D's convolutions (InfoGAN's 1024)
    d_layers: int = 2  # conv: D's strided convolutions; each beyond the second doubles the channels (3×3 kernels)
    g_fc: int = 0  # conv: a hidden fully connected layer of this width before G's first feature map (InfoGAN's)
    mlp_g_norm: bool = False  # mlp: batch norm after each hidden layer of G


def doublings(size: int) -> int:
    """The DCGAN paper's layout for a power of two from 32: how many times 4×4 doubles to reach it; 0 for the
    MNIST layout."""
    return size.bit_length() - 3 if size >= 32 and size & (size - 1) == 0 else 0


def one_hot(index: torch.Tensor, n: int) -> torch.Tensor:
    """One-hot rows via an identity lookup: exports to a single ONNX Gather."""
    return torch.eye(n, device=index.device)[index]


class VirtualBatchNorm(nn.Module):
    """Batch norm whose statistics come from a fixed reference batch, not the current one.

    In training the generator puts the reference rows first; their statistics normalise every row, so
    one sample never depends on its batch mates. Running averages of them serve at export.
    """

    def __init__(self, channels: int, ref_rows: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, affine=True)
        self.ref_rows = ref_rows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.bn(x)
        ref = x[: self.ref_rows]
        mean = ref.mean(dim=(0, 2, 3), keepdim=True)
        var = ref.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
        with torch.no_grad():
            m = self.bn.momentum or 0.1
            self.bn.running_mean.lerp_(mean.flatten(), m)
            self.bn.running_var.lerp_(var.flatten(), m)
        w = self.bn.weight.view(1, -1, 1, 1)
        b = self.bn.bias.view(1, -1, 1, 1)
        return (x - mean) / torch.sqrt(var + self.bn.eps) * w + b


class Generator(nn.Module):
    """(z [B, latent], label [B]?, c_cat [B]?, c_cont [B, k]?) → image [B, C, H, W] in [-1, 1]."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n_in = cfg.latent_dim + (cfg.num_classes if cfg.conditional else 0) + cfg.n_cat + cfg.n_cont
        out = cfg.channels * cfg.size * cfg.size
        if cfg.arch == "mlp":
            w = 4 * cfg.width
            hidden = []
            for i, o in ((n_in, w), (w, 2 * w), (2 * w, 4 * w)):
                hidden += [nn.Linear(i, o), *([nn.BatchNorm1d(o)] if cfg.mlp_g_norm else []), nn.LeakyReLU(0.2)]
            self.net = nn.Sequential(
                *hidden,
                nn.Linear(4 * w, out),
                nn.Tanh(),
                nn.Unflatten(1, (cfg.channels, cfg.size, cfg.size)),
            )
        else:
            w, s = cfg.width, cfg.size // 4

            def norm(c: int) -> nn.Module:
                return VirtualBatchNorm(c, cfg.ref_batch) if cfg.g_norm == "virtual" else nn.BatchNorm2d(c)

            hidden: list[nn.Module] = []
            if cfg.g_fc:  # lets codes and noise interact before the first feature map
                hidden = [nn.Linear(n_in, cfg.g_fc, bias=False), nn.BatchNorm1d(cfg.g_fc), nn.ReLU()]
            # channels of each feature map, first to last: 2w at 7×7 and w at 14×14 (MNIST), or 8w, 4w, 2w, w
            # from 4×4 doubling to 32×32 or 64×64 (the paper's layout, its last map at half the size)
            n = doublings(cfg.size)
            chans, s = ([w << k for k in range(n - 1, -1, -1)], 4) if n else ([2 * w, w], s)
            ups: list[nn.Module] = []
            for c_in, c_out in itertools.pairwise(chans):
                ups += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), norm(c_out), nn.ReLU()]
            self.net = nn.Sequential(
                *hidden,
                nn.Linear(cfg.g_fc or n_in, chans[0] * s * s, bias=False),
                nn.Unflatten(1, (chans[0], s, s)),
                norm(chans[0]),
                nn.ReLU(),
                *ups,
                nn.ConvTranspose2d(chans[-1], cfg.channels, 4, 2, 1),
                nn.Tanh(),
            )
        if cfg.g_norm == "virtual":
            # Fixed reference inputs (Salimans 2016): drawn once, saved with the weights.
            g = torch.Generator().manual_seed(1234)
            self.register_buffer("ref_z", torch.randn(cfg.ref_batch, n_in, generator=g))

    def encode(
        self,
        z: torch.Tensor,
        label: torch.Tensor | None = None,
        c_cat: torch.Tensor | None = None,
        c_cont: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Concatenate noise, one-hot label and codes into the network's input vector."""
        parts = [z]
        if self.cfg.conditional:
            assert label is not None, "this generator is class-conditional: pass label"
            parts.append(one_hot(label, self.cfg.num_classes))
        if self.cfg.n_cat:
            assert c_cat is not None and c_cont is not None, "InfoGAN generator: pass c_cat and c_cont"
            parts += [one_hot(c_cat, self.cfg.n_cat), c_cont]
        return torch.cat(parts, dim=1)

    def forward(
        self,
        z: torch.Tensor,
        label: torch.Tensor | None = None,
        c_cat: torch.Tensor | None = None,
        c_cont: torch.Tensor | None = None,
    ) -> torch.Tensor:
        h = self.encode(z, label, c_cat, c_cont)
        if self.cfg.g_norm == "virtual" and self.training:
            return self.net(torch.cat([self.ref_z, h]))[self.cfg.ref_batch :]
        return self.net(h)


class MinibatchDiscrimination(nn.Module):
    """Appends, per sample, its L1 closeness to the rest of the batch (Salimans 2016 §3.2).

    A collapsed generator makes every sample close to the others, which D can then see.
    """

    def __init__(self, n_in: int, kernels: int, dim: int = 5) -> None:
        super().__init__()
        self.T = nn.Parameter(torch.randn(n_in, kernels * dim) * 0.1)
        self.kernels, self.dim = kernels, dim

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        m = (h @ self.T).view(-1, self.kernels, self.dim)
        dist = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(-1)  # [B, B, kernels]
        closeness = torch.exp(-dist).sum(1) - 1.0  # minus the sample itself
        return torch.cat([h, closeness], dim=1)


class Discriminator(nn.Module):
    """image [B, C, H, W] (+ label for projection) → dict of named outputs.

    Always: `adv` [B] (the real/fake logit or critic value) and `features` [B, F] (for feature matching).
    aux/sgan heads add `class_logits` [B, K]; InfoGAN adds `q_cat` [B, n_cat] and `q_cont` [B, n_cont], and with
    q_std `q_log_std` [B, n_cont].
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        pixels = cfg.channels * cfg.size * cfg.size
        if cfg.arch == "mlp":
            w = 4 * (cfg.d_width or cfg.width)
            self.trunk = nn.Sequential(
                nn.Flatten(),
                nn.Linear(pixels, 2 * w),
                nn.LeakyReLU(0.2),
                nn.Dropout(0.3),
                nn.Linear(2 * w, w),
                nn.LeakyReLU(0.2),
                nn.Dropout(0.3),
            )
            n_feat = w
        else:
            norms = {
                "batch": lambda c: nn.BatchNorm2d(c),
                "layer": lambda c: nn.GroupNorm(1, c),
                "none": lambda c: nn.Identity(),
            }
            c, s = cfg.d_width or cfg.width, cfg.size // 2
            layers: list[nn.Module] = [nn.Conv2d(cfg.channels, c, 4, 2, 1), nn.LeakyReLU(0.2)]
            n = doublings(cfg.size)  # the paper's layout halves down to 4×4 whatever d_layers says
            for i in range(1, n or cfg.d_layers):
                k = 4 if i == 1 or n else 3  # 3×3, stride 2, padding 1 halves 7 to 4 (rounding up)
                layers += [nn.Conv2d(c, 2 * c, k, 2, 1, bias=cfg.d_norm == "none"), norms[cfg.d_norm](2 * c)]
                layers.append(nn.LeakyReLU(0.2))
                c, s = 2 * c, (s + 1) // 2
            self.trunk = nn.Sequential(*layers, nn.Flatten())
            n_feat = c * s * s
        self.fc = None
        norm1d = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm, "none": lambda c: nn.Identity()}[cfg.d_norm]
        if cfg.d_fc:
            self.fc = nn.Sequential(nn.Linear(n_feat, cfg.d_fc), norm1d(cfg.d_fc), nn.LeakyReLU(0.2))
        n_feat = cfg.d_fc or n_feat
        self.minibatch = MinibatchDiscrimination(n_feat, cfg.minibatch_features) if cfg.minibatch_features else None
        n_head = n_feat + cfg.minibatch_features
        k = cfg.num_classes
        self.adv = None if cfg.d_head == "sgan" else nn.Linear(n_head, 1)
        self.embed = nn.Embedding(k, n_head) if cfg.d_head == "projection" else None
        self.classify = nn.Linear(n_head, k) if cfg.d_head in ("aux", "sgan") else None
        q_out = cfg.n_cat + cfg.n_cont * (2 if cfg.q_std else 1)
        self.q = (  # the InfoGAN paper's Q: FC128-BN-lReLU-FC
            nn.Sequential(nn.Linear(n_head, 128), norm1d(128), nn.LeakyReLU(0.2), nn.Linear(128, q_out))
            if cfg.n_cat
            else None
        )

    def forward(self, x: torch.Tensor, label: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        features = self.trunk(x)
        if self.fc is not None:
            features = self.fc(features)
        h = self.minibatch(features) if self.minibatch is not None else features
        out = {"features": features}
        if self.classify is not None:
            out["class_logits"] = self.classify(h)
        if self.adv is None:
            # SGAN (Salimans 2016 §5): K class logits, the fake class's logit fixed at 0,
            # so the real/fake logit is logsumexp over the K real classes.
            out["adv"] = torch.logsumexp(out["class_logits"], dim=1)
        else:
            out["adv"] = self.adv(h).squeeze(1)
        if self.embed is not None:
            assert label is not None, "projection discriminator: pass label"
            out["adv"] = out["adv"] + (self.embed(label) * h).sum(1)  # Miyato & Koyama 2018
        if self.q is not None:
            q = self.q(h)
            k, n = self.cfg.n_cat, self.cfg.n_cont
            out["q_cat"], out["q_cont"] = q[:, :k], q[:, k : k + n]
            if self.cfg.q_std:
                out["q_log_std"] = q[:, k + n :]
        return out


class Classifier(nn.Module):
    """The evaluation classifier: its penultimate layer is the feature space FID is measured in."""

    def __init__(self, channels: int = 1, num_classes: int = 10, size: int = 28) -> None:
        super().__init__()
        s = size // 4
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(64 * s * s, 128),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
