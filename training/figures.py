"""Pictures of training: sample grids (Pillow) and loss curves (matplotlib)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def to_uint8(images: np.ndarray) -> np.ndarray:
    """float [N, C, H, W] in [-1, 1] → uint8 [N, H, W, C], rounding as the service does."""
    return np.clip(np.rint((images + 1.0) * 127.5), 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def grid(images: np.ndarray, cols: int, pad: int = 2) -> Image.Image:
    """Tile [N, C, H, W] images row-major into one picture with `pad` pixels of black between them."""
    pixels = to_uint8(images)
    n, h, w, c = pixels.shape
    rows = -(-n // cols)
    canvas = np.zeros((rows * (h + pad) + pad, cols * (w + pad) + pad, c), dtype=np.uint8)
    for i, img in enumerate(pixels):
        r, k = divmod(i, cols)
        canvas[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + k * (w + pad) : pad + k * (w + pad) + w] = img
    return Image.fromarray(canvas[..., 0] if c == 1 else canvas)


def save_grid(images: np.ndarray, cols: int, path: Path, scale: int = 2) -> None:
    img = grid(images, cols)
    img.resize((img.width * scale, img.height * scale), Image.NEAREST).save(path, optimize=True)


def save_loss_curves(history: list[dict[str, float]], path: Path, title: str) -> None:
    """One line per logged loss against generator steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    steps = [h["step"] for h in history]
    for key in sorted({k for h in history for k in h} - {"step", "epoch"}):
        ax.plot(steps, [h.get(key, np.nan) for h in history], label=key, linewidth=1)
    ax.set_xlabel("generator step")
    ax.set_title(title)
    if history:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
