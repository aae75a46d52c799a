"""Print the README's table of the committed generators from their manifests: `python -m scripts.models_table`.

MNIST first, then Fashion-MNIST, then the colour models, each dataset by FID;
`tests/training/test_committed_models.py` checks the README's copy against the manifests.
"""

from __future__ import annotations

import json
from pathlib import Path

from training.evaluate import is_generator
from training.recipes import QUALITY_BARS

MODELS_DIR = Path(__file__).resolve().parents[1] / "exported_models"
HEADER = [
    "| model | FID ↓ | precision | recall | train time | other figures | bars (issues #19, #38) |",
    "|---|---|---|---|---|---|---|",
]


def row(m: dict) -> str:
    x, t = m["metrics"], m["training"]
    other = []
    if "label_accuracy" in x:
        other.append(f"label accuracy {100 * x['label_accuracy']:.2f}%")
    if "code_purity" in x:
        other.append(f"code purity {100 * x['code_purity']:.2f}%")
    if "sgan_test_accuracy" in x:
        other.append(f"D test accuracy {100 * x['sgan_test_accuracy']:.1f}% with 100 labels")
    if "class_share_gap" in x:  # a colour dataset's classes are uneven by nature: the gap to its mix, not max/min
        other.append(f"class share gap {x['class_share_gap']:.2f}")
    elif "class_max_min" in x:
        other.append(f"classes max/min {x['class_max_min']:.2f}")
    missed = [f"{b.metric} {b}" for b in QUALITY_BARS[m["name"]] if x.get(b.metric) is None or not b.met(x[b.metric])]
    return (
        f"| {m['name']} | {x['fid']:.1f} | {x['precision']:.2f} | {x['recall']:.2f} | "
        f"{t['wall_time_s'] / 60:.0f} min | {'; '.join(other)} | {'misses ' + ', '.join(missed) if missed else 'all'} |"
    )


def table() -> list[str]:
    manifests = [json.loads(p.read_text()) for p in MODELS_DIR.glob("*/manifest.json")]
    generators = [m for m in manifests if is_generator(m)]
    order = {"mnist": 0, "fashion-mnist": 1}  # then the colour models
    generators.sort(key=lambda m: (order.get(m["dataset"], 2), m["metrics"]["fid"]))
    return HEADER + [row(m) for m in generators]


if __name__ == "__main__":
    print("\n".join(table()))
