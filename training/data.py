"""The datasets: MNIST and Fashion-MNIST (IDX files) and image folders (folders.py); read, check, split and
batch them. Nothing here knows about models."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from .folders import load_folder, scan

IMAGE_MAGIC = 0x00000803  # unsigned byte, 3 dimensions
LABEL_MAGIC = 0x00000801  # unsigned byte, 1 dimension


@dataclass(frozen=True)
class DatasetInfo:
    folder: str  # sub-folder of --data-dir (an absolute path for a folder of one's own)
    class_names: tuple[str, ...]
    channels: int = 1
    height: int = 28
    width: int = 28
    source: Literal["idx", "images"] = "idx"  # images: a folder of pictures, one sub-folder per class (folders.py)
    background: str = "white"  # images: what transparent pixels and the margins of non-square pictures become
    credit: str = ""  # shown wherever samples of a model trained on it are (the licence may require it)


DATASETS: dict[str, DatasetInfo] = {
    "mnist": DatasetInfo("mnist", tuple(str(d) for d in range(10))),
    "fashion-mnist": DatasetInfo(
        "fashion-mnist",
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
    # 7,562 emoji (Noto and Twemoji, 64×64 RGBA) in their Unicode categories, on white, at 32×32: the size the
    # DCGAN nets train at on 2 CPU cores (a step at 64×64 cost 5 to 7 times as much: recipes.IMAGE_OVERRIDES)
    "emoji": DatasetInfo(
        "emoji",
        (
            "activities",
            "animals-nature",
            "flags",
            "food-drink",
            "objects",
            "people-body",
            "smileys-emotion",
            "symbols",
            "travel-places",
        ),
        channels=3,
        height=32,
        width=32,
        source="images",
        credit="Trained on Noto Emoji (Google, Apache 2.0) and Twemoji by Twitter, CC-BY 4.0",
    ),
}
DEFAULT_CACHE = Path("runs") / "datasets"  # decoded image folders (folders.py)

SPLIT_PREFIX = {"train": "train", "test": "t10k"}
# The last training images, held out from GAN training: validation FID picks checkpoints, so the test split is
# only ever used for the reported figures. "fit" is the rest of the training split.
VALIDATION_IMAGES = 5_000


class DataError(Exception):
    """A dataset file is missing or malformed; the message names the file."""


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read one IDX file (gzip or plain), checking its magic number and its length."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read {path}: {e}") from e
    if len(raw) < 4:
        raise DataError(f"{path} is truncated: {len(raw)} bytes, no room for a magic number")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise DataError(f"{path} has magic 0x{found:08x}, expected 0x{magic:08x}: not an IDX file of this kind")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path} is truncated: {len(raw)} bytes, shorter than its header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DataError(f"{path} is truncated: {len(raw) - header} data bytes, header promises {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def idx_path(data_dir: Path, dataset: str, stem: str) -> Path:
    """The file for `stem`, gzip preferred; a missing one is named in the error."""
    folder = Path(data_dir) / info(dataset).folder
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise DataError(f"missing dataset file: expected {folder / stem}.gz (or uncompressed {stem})")


def info(dataset: str | DatasetInfo) -> DatasetInfo:
    if isinstance(dataset, DatasetInfo):
        return dataset
    if dataset not in DATASETS:
        raise DataError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}, or an image folder (--data)")
    return DATASETS[dataset]


def image_folder(path: Path, size: int, channels: int, background: str = "white") -> DatasetInfo:
    """A folder of one's own pictures as a dataset: its classes are the names of the folders holding images."""
    _, class_names = scan(path)
    return DatasetInfo(str(Path(path).resolve()), class_names, channels, size, size, "images", background)


def load_split(
    data_dir: Path,
    dataset: str | DatasetInfo,
    split: str,
    cache_dir: Path = DEFAULT_CACHE,
    skip_bad: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, H, W] (IDX) or [N, C, H, W] (image folders) and labels int64 [N] of one split: "train"
    or "test" as published (an image folder's are drawn from its file names: folders.py), or the training split
    cut into "fit" (GAN training) and "val" (IDX: its last VALIDATION_IMAGES)."""
    d = info(dataset)
    if d.source == "images":
        folder = load_folder(Path(data_dir) / d.folder, d.height, d.channels, d.background, cache_dir, skip_bad)
        if folder.class_names != d.class_names:
            raise DataError(f"{d.folder}: classes {folder.class_names} differ from the declared {d.class_names}")
        return folder.split(split)
    if split in ("fit", "val"):
        images, labels = load_split(data_dir, dataset, "train")
        cut = slice(None, -VALIDATION_IMAGES) if split == "fit" else slice(-VALIDATION_IMAGES, None)
        return images[cut], labels[cut]
    prefix = SPLIT_PREFIX[split]
    images = read_idx(idx_path(data_dir, dataset, f"{prefix}-images-idx3-ubyte"), IMAGE_MAGIC)
    labels = read_idx(idx_path(data_dir, dataset, f"{prefix}-labels-idx1-ubyte"), LABEL_MAGIC)
    if len(images) != len(labels):
        raise DataError(f"{dataset}/{split}: {len(images)} images but {len(labels)} labels")
    return images, labels.astype(np.int64)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W] or [N, C, H, W] → float32 [N, C, H, W] in [-1, 1], the generators' output range."""
    x = torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)
    return x.unsqueeze(1) if x.ndim == 3 else x


def labelled_subset(labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    """Indices of a class-balanced subset: the SGAN's few labels."""
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))


def shuffled_batches(
    n: int, batch_size: int, seed: int, epoch: int, rank: int = 0, world: int = 1
) -> Iterator[np.ndarray]:
    """Index batches of one epoch, reproducible from (seed, epoch); each rank takes its own share."""
    order = np.random.default_rng((seed, epoch)).permutation(n)[rank::world]
    for start in range(0, len(order) - batch_size + 1, batch_size):
        yield order[start : start + batch_size]
