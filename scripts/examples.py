"""Write docs/examples/: a few real test-split images as 28×28 PNGs, for the README's examples and the tests.

`python scripts/examples.py [--data-dir ../shared/data] [--out docs/examples]` (reads the IDX files with
training.data, so it needs the `train` extra). The images are the datasets' own: light on dark, 8-bit grey.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from training.data import load_split

REPO = Path(__file__).resolve().parents[1]
# file name → (dataset, index in the test split); the name says the class, which tests/test_examples.py checks
EXAMPLES = {
    "digit-7.png": ("mnist", 0),
    "digit-2.png": ("mnist", 1),
    "digit-3.png": ("mnist", 18),
    "fashion-ankle-boot.png": ("fashion-mnist", 0),
}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "examples")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (dataset, index) in EXAMPLES.items():
        images, _ = load_split(args.data_dir, dataset, "test")
        Image.fromarray(images[index]).save(args.out / name, optimize=True)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
