"""Caption text → token ids, the way the text-to-image models were trained (no torch).

`training/captions.py` tokenizes its training captions with these very functions, so the service and
the exported text encoder cannot drift apart. Words the vocabulary lacks are returned, never dropped
silently: the route reports them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

WORD = re.compile(r"[a-z]+")


def words(text: str) -> list[str]:
    """Lower-case runs of the letters a-z; anything else separates words."""
    return WORD.findall(text.lower())


def tokenize(text: str, vocabulary: Sequence[str], max_tokens: int, pad: int = 0) -> tuple[np.ndarray, list[str]]:
    """Token ids int64 [max_tokens] (known words in order, then `pad`), and the unknown words in order.

    Known words past `max_tokens` are cut; callers that must not lose words check `len(known)` first.
    """
    index = {w: i for i, w in enumerate(vocabulary)}
    ws = words(text)
    ids = [index[w] for w in ws if w in index][:max_tokens]
    return np.array(ids + [pad] * (max_tokens - len(ids)), dtype=np.int64), [w for w in ws if w not in index]
