"""Write the README's pictures from a running service: `python scripts/readme_figures.py [URL]`."""

from __future__ import annotations

import sys
from pathlib import Path

from gan_client import GanClient

DOCS = Path(__file__).resolve().parents[1] / "docs"


def main(url: str = "http://localhost:8000") -> None:
    with GanClient(url) as gan:
        figures = {
            "interpolation.png": gan.interpolate(
                11, 12, model="mnist-cgan", label_a=3, label_b=3, steps=10, method="slerp", columns=10
            ),
            "interpolation-dcgan.png": gan.interpolate(3, 8, model="mnist-dcgan", steps=10, columns=10),
            "interpolation-fashion.png": gan.interpolate(1, 4, model="fashion-dcgan", steps=10, columns=10),
            "interpolation-emoji.png": gan.interpolate(19, 27, model="emoji-dcgan", steps=10, columns=10),
        }
    for name, png in figures.items():
        (DOCS / name).write_bytes(png)
        print(f"wrote docs/{name}")


if __name__ == "__main__":
    main(*sys.argv[1:])
