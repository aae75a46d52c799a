"""A PyTorch generator defined outside the project, for `python -m training import --module` (test_import.py)."""

from __future__ import annotations

import torch
from torch import nn


class TinyColourGenerator(nn.Module):
    """z [N, 8] → RGB [N, 3, 16, 16] in [-1, 1]: Linear, then two transposed convolutions."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8 * 4 * 4)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(8, 4, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(4, 3, 4, 2, 1), nn.Tanh()
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(self.fc(z).view(-1, 8, 4, 4))
