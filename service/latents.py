"""Latents a client gives instead of drawing them from a seed (issue #21): `latent` lists and `image`s.

A client latent replaces only `z`: the label and InfoGAN codes still come from the request's seed (drawn by
the server and reported when absent), exactly as a client `label` replaces only the drawn label. So
`{latent: z(s), seed: s}` is byte-identical to `{seed: s}` on every model. Values are used as sent
(float64 JSON numbers rounded to float32), never truncated. An `image` is encoded first by the model's
encoder (service/encoders.py), which reads the label in effect for that image and, for InfoGAN, also gives
the codes; its latent then goes where a sent latent would.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from service import sampling, uploads
from service.encoders import Encoded, Encoder
from service.errors import InputError
from service.registry import LoadedModel


def check(model: LoadedModel, values: Sequence[float], field: str) -> np.ndarray:
    """A client latent → float32 [latent_dim]; InputError naming `field` when its length is not the model's."""
    dim = model.manifest.latent_dim
    if len(values) != dim:
        raise InputError(field, f"model {model.name!r} takes a latent of {dim} values, got {len(values)}")
    return np.asarray(values, dtype=np.float32)


def seed_for(seed: int | None, latent: object | None, field: str) -> int:
    """The seed of one latent slot: the client's; else, beside a latent or an image, one the server draws (for
    the label and codes); with none of them, InputError naming `field`."""
    if seed is not None:
        return seed
    if latent is None:
        raise InputError(field, f"give {field}, or a latent or an image in its place")
    return secrets.randbelow(sampling.SEED_MODULUS)


def encoder_of(model: LoadedModel, field: str) -> Encoder:
    """The model's encoder; InputError naming `field` for a model without one."""
    if model.encoder is None:
        raise InputError(field, f"model {model.name!r} has no encoder, so it takes no images; send a latent or a seed")
    return model.encoder


def decode_b64(data: str, field: str) -> bytes:
    """Standard base64 (padding required) → bytes; InputError naming `field` otherwise."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(field, "not valid base64") from None


def pixels(model: LoadedModel, data: bytes, field: str) -> np.ndarray:
    """A PNG or JPEG as the model reads it: float32 [C, H, W] in [-1, 1] (service/uploads.py's conversion: grey
    for a 1-channel model, colour on white for a 3-channel one)."""
    img = model.manifest.image
    if img.channels == 3:
        chw = uploads.read_rgb(data, img.height, img.width, field).transpose(2, 0, 1)
    else:
        chw = uploads.read_image(data, img.height, img.width, field)[None]
    return chw.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


async def encode(model: LoadedModel, image: np.ndarray, label: int | None, field: str) -> Encoded:
    """The encoder's reading of one image; `label` is what a conditional model's encoder is told."""
    encoder = encoder_of(model, field)
    return await encoder.encode(image, label if model.manifest.conditional else None)


async def slot(
    model: LoadedModel,
    seed: int,
    latent: Sequence[float] | None,
    image: str | None,
    fields: tuple[str, str],
    truncation: float | None = None,
    label: int | None = None,
) -> sampling.Draw:
    """One latent slot: the seed's draw, `z` replaced by the sent latent or by the image's encoding (and an
    InfoGAN's codes by the encoder's); `label` (given, else the seed's) is what the encoder reads."""
    latent_field, image_field = fields
    if image is None:
        return draw(model, seed, latent, latent_field, truncation)
    if latent is not None:
        raise InputError(image_field, f"give {latent_field} or {image_field}, not both")
    encoder_of(model, image_field)
    d = model.draw(seed)
    coded = await encode(
        model,
        pixels(model, decode_b64(image, image_field), image_field),
        label if label is not None else d.label,
        image_field,
    )
    c_cat = coded.c_cat if coded.c_cat is not None else d.c_cat
    c_cont = coded.c_cont if coded.c_cont is not None else d.c_cont
    return replace(d, z=coded.z, c_cat=c_cat, c_cont=c_cont)


def draw(
    model: LoadedModel, seed: int, latent: Sequence[float] | None, field: str, truncation: float | None = None
) -> sampling.Draw:
    """The seed's draw, with `z` replaced by the client's latent where one is given."""
    d = model.draw(seed, truncation)
    return d if latent is None else replace(d, z=check(model, latent, field))
