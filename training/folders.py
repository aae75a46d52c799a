"""Image folders: anyone's pictures as a dataset, decoded once and cached.

A folder of PNG/JPEG files of any size and mode becomes uint8 [N, C, S, S]: alpha composited on a declared
background, the image scaled to fit S×S with its aspect kept and centred on that background, then grey or RGB.
A file's class is the name of the folder it sits in, so `emoji/noto/animals-nature/x.png` and
`emoji/twemoji/animals-nature/y.png` are both "animals-nature".

Splits are drawn from each file's name without its extension (sha256 of the stem, modulo 10): 0 is the
validation split, 1 the test split, the rest is what a GAN trains on. A file keeps its split when others are
added, and files of the same name (the same emoji drawn by two vendors) share one.

Decoded arrays are cached under the runs directory, keyed by the bytes of every file and the decoding settings,
so epochs, reruns and evaluation never decode again, and any change to the folder decodes afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}
BACKGROUNDS = {"white": (255, 255, 255), "black": (0, 0, 0), "grey": (128, 128, 128)}
SIZES = (32, 64)
CACHE_VERSION = 1  # bump when decoding changes, so old caches are not read
SPLIT_BUCKETS = 10  # sha256(stem) % 10: 0 validation, 1 test, 2..9 fit


class FolderError(ValueError):
    """The folder cannot be read as a dataset; the message names the file or folder."""


@dataclass
class Folder:
    """A decoded image folder: images uint8 [N, C, S, S], labels, the split bucket of each image."""

    images: np.ndarray
    labels: np.ndarray
    buckets: np.ndarray
    class_names: tuple[str, ...]
    files: list[str]
    skipped: list[str] = field(default_factory=list)

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        keep = {
            "val": self.buckets == 0,
            "test": self.buckets == 1,
            "fit": self.buckets >= 2,
            "train": self.buckets != 1,  # what the IDX sets call train: everything but the test split
        }[name]
        return self.images[keep], self.labels[keep]


def scan(root: Path) -> tuple[list[Path], tuple[str, ...]]:
    """Image files under `root` (sorted) and the class names (sorted names of the folders holding them).

    An empty folder, or a leaf folder with no images (a class with none), is an error that names it."""
    root = Path(root)
    if not root.is_dir():
        raise FolderError(f"image folder {root} does not exist or is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS and not hidden(p, root))
    if not files:
        raise FolderError(f"image folder {root} holds no images ({', '.join(sorted(EXTENSIONS))})")
    holding = {p.parent for p in files}
    for d in sorted(p for p in root.rglob("*") if p.is_dir() and not hidden(p, root)):
        if not any(c.is_dir() and not hidden(c, root) for c in d.iterdir()) and d not in holding:
            raise FolderError(f"class folder {d} holds no images")
    return files, tuple(sorted({p.parent.name for p in files}))


def hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def decode(path: Path, size: int, channels: int, background: str) -> np.ndarray:
    """One file → uint8 [C, size, size]: alpha on `background`, scaled to fit with its aspect kept, centred."""
    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img)
        rgba = img.convert("RGBA")
    bg = BACKGROUNDS[background]
    flat = Image.alpha_composite(Image.new("RGBA", rgba.size, (*bg, 255)), rgba).convert("RGB")
    scale = size / max(flat.size)
    w, h = max(1, round(flat.width * scale)), max(1, round(flat.height * scale))
    canvas = Image.new("RGB", (size, size), bg)
    canvas.paste(flat.resize((w, h), Image.LANCZOS), ((size - w) // 2, (size - h) // 2))
    pixels = np.asarray(canvas.convert("L") if channels == 1 else canvas)
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)


def bucket(path: Path) -> int:
    return int.from_bytes(hashlib.sha256(path.stem.encode()).digest()[:8], "big") % SPLIT_BUCKETS


def load_folder(
    root: Path, size: int, channels: int, background: str, cache_dir: Path | None, skip_bad: bool = False
) -> Folder:
    """Read (or take from the cache) every image under `root`. A file that cannot be decoded is an error naming
    it, or with `skip_bad` is left out, counted and listed in the log and in `Folder.skipped`."""
    if size not in SIZES:
        raise FolderError(f"image size {size} unsupported: choose one of {SIZES}")
    if channels not in (1, 3):
        raise FolderError(f"channels must be 1 (grey) or 3 (RGB), not {channels}")
    if background not in BACKGROUNDS:
        raise FolderError(f"background {background!r} unknown: choose one of {', '.join(BACKGROUNDS)}")
    root = Path(root)
    files, class_names = scan(root)
    digest = hashlib.sha256(json.dumps([CACHE_VERSION, size, channels, background, skip_bad]).encode())
    for p in files:
        digest.update(str(p.relative_to(root)).encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    cached = Path(cache_dir) / f"{digest.hexdigest()[:24]}.npz" if cache_dir else None
    if cached and cached.exists():
        with np.load(cached, allow_pickle=False) as z:
            return Folder(
                z["images"], z["labels"], z["buckets"], tuple(z["class_names"]), list(z["files"]), list(z["skipped"])
            )
    images, kept, skipped = [], [], []
    for p in files:
        try:
            images.append(decode(p, size, channels, background))
            kept.append(p)
        except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
            if not skip_bad:
                raise FolderError(f"cannot read image {p}: {e} (--skip-bad leaves such files out)") from e
            skipped.append(str(p.relative_to(root)))
    if skipped:
        log.warning("%s: skipped %d unreadable file(s): %s", root, len(skipped), ", ".join(skipped))
    if not kept:
        raise FolderError(f"image folder {root}: no image could be read")
    if empty := sorted(set(class_names) - {p.parent.name for p in kept}):
        raise FolderError(f"image folder {root}: class(es) {', '.join(empty)} left with no readable image")
    index = {c: i for i, c in enumerate(class_names)}
    folder = Folder(
        np.stack(images),
        np.array([index[p.parent.name] for p in kept], dtype=np.int64),
        np.array([bucket(p) for p in kept], dtype=np.int64),
        class_names,
        [str(p.relative_to(root)) for p in kept],
        skipped,
    )
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            images=folder.images,
            labels=folder.labels,
            buckets=folder.buckets,
            class_names=np.array(class_names),
            files=np.array(folder.files),
            skipped=np.array(skipped, dtype=str),
        )
        tmp.replace(cached)
    log.info("%s: %d images in %d classes, decoded at %d×%d", root, len(kept), len(class_names), size, size)
    return folder
