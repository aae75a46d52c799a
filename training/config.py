"""`TrainConfig`: the settings of one GAN training run, from the command line or a recipe; its checkpoint keeps them
(`train_config`), so export reads them back from the checkpoint alone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .data import DATASETS, DatasetInfo, image_folder

# The exported generator averages the trained one's weights over about 1/(1 - this) steps; the default of a run, a
# recipe, and of a checkpoint or manifest older than the field.
DEFAULT_EMA_DECAY = 0.999
# Batches of 256 of G's own samples that re-estimate its batch norm for validation and export (export.py); the
# default of a run, and of a checkpoint older than the field.
DEFAULT_CALIBRATION_BATCHES = 40


@dataclass(frozen=True)
class TrainConfig:
    model: str  # output name, e.g. "mnist-dcgan"; the run folder is runs_dir / model
    dataset: str = "mnist"  # a key of data.DATASETS, or the path of a folder of one's own pictures
    variant: str = "dcgan"  # a key of variants.VARIANTS
    epochs: int = 5
    decay_epochs: int = 0  # both learning rates fall linearly to zero over the run's last this many epochs
    batch_size: int = 64  # Radford 2015
    seed: int = 0
    data_dir: str = "../shared/data"
    runs_dir: str = "runs"
    limit: int | None = None  # train on the first `limit` images only, SGAN tested on as many (tests, smoke runs)
    max_steps: int | None = None  # stop after this many generator steps (tests)
    checkpoint_every: int = 500  # discriminator iterations between checkpoints
    log_every: int = 50  # generator steps between loss-history points
    ema_decay: float = DEFAULT_EMA_DECAY  # exported generator = exponential moving average of the trained one's weights
    val_samples: int = 5_000  # samples for the validation FID after each epoch, which picks the exported weights
    # batch norm re-estimated over this many batches of 256 samples (validation, export); fewer only where the
    # figures do not matter (tests): it costs a smoke run more than its training steps
    calibration_batches: int = DEFAULT_CALIBRATION_BATCHES
    tensorboard: bool = True  # event files under run_dir/tensorboard
    device: str = "cpu"
    # a folder of one's own pictures (dataset a path): decoded at this size (32 or 64), grey (1) or RGB (3), alpha on
    # this background; with skip_bad, unreadable files are left out and listed instead of stopping the run
    image_size: int = 32
    channels: int = 3
    background: str = "white"
    skip_bad: bool = False

    @property
    def run_dir(self) -> Path:
        return Path(self.runs_dir) / self.model

    @property
    def cache_dir(self) -> Path:
        return Path(self.runs_dir) / "datasets"

    def dataset_info(self) -> DatasetInfo:
        if self.dataset in DATASETS:
            return DATASETS[self.dataset]
        return image_folder(Path(self.dataset), self.image_size, self.channels, self.background)
