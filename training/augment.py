"""What InfoGAN's Q head reads its codes from: restyled digits for the categorical code, mirrored ones for the
continuous codes' parity.

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


def mirror_parity(read: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Q's continuous codes read from `x` and from its left-right mirror: the first code by the part of the reading
    a mirror negates, the others by the part it keeps.

    Slant flips sign in a mirror while width, size and thickness stay, and this reading cannot see otherwise; Q
    cannot learn to tell mirrored digits apart and undo it, so G must put the first code where a mirror negates.
    """
    q, q_mirrored = read(x), read(x.flip(-1))
    parity = torch.ones(q.shape[1], device=q.device)
    parity[0] = -1.0
    return (q + parity * q_mirrored) / 2
