"""What InfoGAN's Q head reads its codes from: restyled digits for the categorical code, mirrored or transposed
ones for the continuous codes' parity.

Random restyling of digit images: slant, size, position and stroke width change, identity stays.

InfoGAN's Q head reads the categorical code from restyled fakes. Left to itself, a code value may name a style
(two once split 4s and 9s alike into thin-and-slanted and thick-and-upright); when style is shuffled before Q
looks, only what survives restyling, which digit it is, still tells the values apart. The idea of invariant
information clustering (Ji 2019), applied to the Q head only. Every operation is differentiable, so G learns
through it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


def restyle(x: torch.Tensor) -> torch.Tensor:
    """Per image: rotation ±20°, shear ±0.3, scale ±10%, shift ±10%; a quarter thickened, a quarter thinned.

    `x` is [B, C, H, W] in [-1, 1] with a background of -1, which is what fills the borders uncovered.
    Draws from torch's global generator, so a seeded run restyles the same way every time.
    """
    b, device = x.shape[0], x.device

    def uniform(scale: float) -> torch.Tensor:
        return (torch.rand(b, device=device) * 2 - 1) * scale

    angle, shear, scale, dx, dy = uniform(0.35), uniform(0.3), 1 + uniform(0.1), uniform(0.1), uniform(0.1)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos, shear - sin, dx], 1), torch.stack([sin, cos, dy], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    y = F.grid_sample(x + 1, grid, align_corners=False) - 1  # zero padding of x + 1 is background
    pick = torch.rand(b, 1, 1, 1, device=device)
    thicker, thinner = F.max_pool2d(y, 3, 1, 1), -F.max_pool2d(-y, 3, 1, 1)
    return torch.where(pick < 0.25, thicker, torch.where(pick < 0.5, thinner, y))


SYMMETRIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "mirror": lambda x: x.flip(-1),  # left to right: slant changes sign; width, size and thickness stay
    "transpose": lambda x: x.transpose(-2, -1),  # rows for columns: width and height swap, rotations turn back
}
PARITIES = tuple(f"{name}-{kind}" for name in SYMMETRIES for kind in ("odd", "even"))


def parity_reading(
    read: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, q: torch.Tensor, parity: tuple[str, ...]
) -> torch.Tensor:
    """Q's continuous codes, each read by the part of Q's output that its entry of `parity` names.

    `q` is `read(x)`. For "mirror-odd", code k is (q_k(x) - q_k(mirror x)) / 2, a reading a mirror negates
    whatever Q has learnt, so G can only carry the code in a feature a mirror negates; "-even" keeps the part a
    mirror keeps; "" reads q_k as it is. Q cannot learn to tell the transformed images apart and undo it. Each
    symmetry costs one more pass of `read`.
    """
    entries = [entry.partition("-") for entry in parity]  # (symmetry, "-", "odd" or "even"), or ("", "", "")
    named = {name for name, _, _ in entries}
    seen = {name: read(transform(x)) for name, transform in SYMMETRIES.items() if name in named}
    codes = [
        (q[:, k] + (-1 if kind == "odd" else 1) * seen[name][:, k]) / 2 if name else q[:, k]
        for k, (name, _, kind) in enumerate(entries)
    ]
    return torch.stack(codes, 1)
