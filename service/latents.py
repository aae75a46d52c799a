"""Latents a client gives instead of drawing them from a seed (issue #21): `latent` lists, checked here.

A client latent replaces only `z`: the label and InfoGAN codes still come from the request's seed (drawn by
the server and reported when absent), exactly as a client `label` replaces only the drawn label. So
`{latent: z(s), seed: s}` is byte-identical to `{seed: s}` on every model. Values are used as sent
(float64 JSON numbers rounded to float32), never truncated.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from service import sampling
from service.errors import InputError
from service.registry import LoadedModel


def check(model: LoadedModel, values: Sequence[float], field: str) -> np.ndarray:
    """A client latent → float32 [latent_dim]; InputError naming `field` when its length is not the model's."""
    dim = model.manifest.latent_dim
    if len(values) != dim:
        raise InputError(field, f"model {model.name!r} takes a latent of {dim} values, got {len(values)}")
    return np.asarray(values, dtype=np.float32)


def seed_for(seed: int | None, latent: Sequence[float] | None, field: str) -> int:
    """The seed of one latent slot: the client's; else, beside a latent, one the server draws (for the label
    and codes); with neither, InputError naming `field`."""
    if seed is not None:
        return seed
    if latent is None:
        raise InputError(field, f"give {field} or a latent in its place")
    return secrets.randbelow(sampling.SEED_MODULUS)


def draw(
    model: LoadedModel, seed: int, latent: Sequence[float] | None, field: str, truncation: float | None = None
) -> sampling.Draw:
    """The seed's draw, with `z` replaced by the client's latent where one is given."""
    d = model.draw(seed, truncation)
    return d if latent is None else replace(d, z=check(model, latent, field))
