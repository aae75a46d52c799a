"""Differentiable augmentation for D on little data (Zhao et al. 2020, DiffAugment).

With a few thousand images D memorises the training set and its feedback to G collapses. DiffAugment shows D
only augmented images, real and fake alike, in both players' steps; every operation is differentiable, so G
learns through it, and since fakes are augmented just as reals are, G is not pushed to draw the augmentations.
The policies are the paper's three: colour (brightness, saturation, contrast), translation (up to 1/8 of the
size, zero padding) and cutout (a square of half the size set to zero). Draws from torch's global generator, so
a seeded run augments the same way every time.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def colour(x: torch.Tensor) -> torch.Tensor:
    """Per image: brightness ±0.5, saturation ×[0, 2], contrast ×[0.5, 1.5] ([-1, 1] images)."""
    b = x.shape[0]

    def draw(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(b, 1, 1, 1, device=x.device)

    x = x + draw(-0.5, 0.5)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * draw(0.0, 2.0) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * draw(0.5, 1.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Per image: shift by up to `ratio` of its size in each direction; uncovered pixels become 0."""
    b, _, h, w = x.shape
    ph, pw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-ph, ph + 1, (b, 1, 1), device=x.device)
    dx = torch.randint(-pw, pw + 1, (b, 1, 1), device=x.device)
    rows = (torch.arange(h, device=x.device).view(1, h, 1) + dy + ph).expand(b, h, w)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) + dx + pw).expand(b, h, w)
    padded = F.pad(x, [pw, pw, ph, ph])
    batch = torch.arange(b, device=x.device).view(b, 1, 1).expand(b, h, w)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Per image: a square of `ratio` of the size, centred anywhere in the image, set to 0."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + 1 - ch % 2, (b, 1, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + 1 - cw % 2, (b, 1, 1), device=x.device) - cw // 2
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    hole = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    return x * (~hole).unsqueeze(1).to(x.dtype)


POLICIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "colour": colour,
    "translation": translation,
    "cutout": cutout,
}


def diff_augment(x: torch.Tensor, policy: tuple[str, ...]) -> torch.Tensor:
    """`x` through each named policy in turn; an empty policy returns `x` itself."""
    for name in policy:
        x = POLICIES[name](x)
    return x
