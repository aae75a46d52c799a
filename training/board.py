"""TensorBoard event files for every run (`tensorboard --logdir runs/`): losses, validation FID, sample grids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.tensorboard import SummaryWriter

from .figures import grid


class Board:
    """Writes under `run_dir/tensorboard`. A resumed run drops events past its checkpoint's step, so the curves
    never double back."""

    def __init__(self, run_dir: Path, step: int, enabled: bool = True) -> None:
        self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=step or None) if enabled else None

    def scalars(self, step: int, values: dict[str, float], prefix: str = "loss") -> None:
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(f"{prefix}/{key}", value, step)

    def images(self, step: int, images: np.ndarray, tag: str = "samples") -> None:
        """[N, C, H, W] in [-1, 1] as one 8-wide grid, grey or colour."""
        if self.writer is not None:
            pixels = np.asarray(grid(images, 8))
            self.writer.add_image(tag, pixels, step, dataformats="HW" if pixels.ndim == 2 else "HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
