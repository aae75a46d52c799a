"""Captions measured from the images themselves: class word plus stroke thickness, slant and size.

Each attribute is a number computed from pixel moments; its word is the image's tercile of that
number *within its own class* (a thick one and a thick eight differ in ink, not in rank). Captions drop
each attribute word with some probability in training, so a caption that names no thickness means
"any thickness". Pure NumPy: the same measures score the StackGAN's outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.text import tokenize as text_tokenize

CLASS_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ATTRIBUTES: dict[str, tuple[str, str, str]] = {  # low, middle, high tercile
    "thickness": ("thin", "regular", "thick"),
    "slant": ("leftward", "upright", "slanted"),
    "size": ("small", "medium", "large"),
}
FILLERS = ("a", "an", "the", "digit")  # in the vocabulary so that plain English costs no unknown word
PAD = 0
MAX_TOKENS = 8
VOCABULARY: tuple[str, ...] = ("<pad>", *FILLERS, *CLASS_WORDS, *(w for ws in ATTRIBUTES.values() for w in ws))
INK = 0.3  # pixel intensity (of 1) above which a pixel counts as ink for the bounding box


def measure(images: np.ndarray) -> dict[str, np.ndarray]:
    """Attribute values of uint8 or [0, 1] float images [N, H, W]; one float per image and attribute.

    thickness: ink mass per row of ink (≈ stroke width); slant: the moment shear μ11/μ02 (x drift per row,
    positive = leaning right); size: the radius of gyration √(μ20 + μ02) of the ink, in pixels (continuous,
    unlike a bounding box, so the per-class terciles have no ties); width: the horizontal spread √μ20 (not a
    caption word: it scores InfoGAN's continuous codes).
    """
    x = images.astype(np.float64)
    if images.dtype == np.uint8:
        x /= 255.0
    _, h, w = x.shape
    mass = x.sum((1, 2)) + 1e-6
    rows, cols = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    cy = (x * rows).sum((1, 2)) / mass
    cx = (x * cols).sum((1, 2)) / mass
    dy, dx = rows - cy[:, None, None], cols - cx[:, None, None]
    mu11 = (x * dx * dy).sum((1, 2)) / mass
    mu02 = (x * dy * dy).sum((1, 2)) / mass + 1e-6
    mu20 = (x * dx * dx).sum((1, 2)) / mass
    height = np.maximum((x > INK).any(2).sum(1), 1)
    # image rows grow downwards, so a digit leaning right has x falling as y grows: negate
    return {
        "thickness": mass / height,
        "slant": -mu11 / mu02,
        "size": np.sqrt(mu20 + mu02),
        "width": np.sqrt(mu20),
    }


def within_class(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each value z-scored within its class: what varies inside a class, not between classes (a one is narrower
    than a zero whatever its style), so a correlation with it measures style."""
    out = values.astype(np.float64).copy()
    for c in np.unique(labels):
        sel = labels == c
        out[sel] = (out[sel] - out[sel].mean()) / (out[sel].std() + 1e-9)
    return out


@dataclass(frozen=True)
class Terciles:
    """Per-class tercile edges of each attribute, fitted on the training split: [attribute][class] = (lo, hi)."""

    edges: dict[str, list[tuple[float, float]]]

    @classmethod
    def fit(cls, values: dict[str, np.ndarray], labels: np.ndarray) -> Terciles:
        edges = {
            a: [tuple(float(q) for q in np.quantile(v[labels == c], [1 / 3, 2 / 3])) for c in range(len(CLASS_WORDS))]
            for a, v in values.items()
            if a in ATTRIBUTES
        }
        return cls(edges)  # type: ignore[arg-type]

    def levels(self, values: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, np.ndarray]:
        """Level 0 (low), 1 (middle) or 2 (high) of each image's attributes within its class."""
        out = {}
        for a in ATTRIBUTES:
            v = values[a]
            e = np.asarray(self.edges[a])[labels]  # [N, 2]
            out[a] = (v > e[:, 0]).astype(np.int64) + (v > e[:, 1]).astype(np.int64)
        return out


def caption(label: int, levels: dict[str, int | None]) -> str:
    """'a thick slanted small seven'; an attribute whose level is None is left out."""
    words = [ATTRIBUTES[a][lv] for a, lv in levels.items() if lv is not None]
    return " ".join(["a", *words, CLASS_WORDS[label]])


def tokenize(text: str) -> tuple[np.ndarray, list[str]]:
    """Token ids int64 [MAX_TOKENS] and unknown words: the service's tokenizer over this vocabulary."""
    return text_tokenize(text, VOCABULARY, MAX_TOKENS, PAD)
