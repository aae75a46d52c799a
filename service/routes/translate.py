"""POST /translate: one image from a source domain to a target domain (CycleGAN)."""

from __future__ import annotations

import base64
import binascii
import secrets

import numpy as np
from fastapi import APIRouter, Request, Response

from service import imaging, sampling, uploads
from service.deps import StateDep
from service.errors import InputError
from service.pipelines import LoadedTranslator, to_model_range
from service.responses import PNG, json_response, sampling_responses
from service.schemas.translate import TranslateRequest, TranslateResponse

router = APIRouter(tags=["translation"])


def decode_b64(data: str) -> bytes:
    """Standard base64 (padding required) → bytes; 422 naming `image` otherwise."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("image", "not valid base64") from None


@router.post("/translate", response_model=None, responses=sampling_responses(TranslateResponse))
async def translate(body: TranslateRequest, state: StateDep, request: Request) -> Response:
    """Translate a PNG or JPEG (`image`) or the source-domain test image a `seed` picks; returns source and translation.

    `png`: a two-tile grid, source then translation. The same request always gives the same bytes.
    """
    model = state.pipeline(body.model, LoadedTranslator)
    direction = model.direction(body.direction)
    if body.image is not None and body.seed is not None:
        raise InputError("image", "give an image or a seed, not both")
    img = model.manifest.image
    seed, index = None, None
    if body.image is not None:
        pixels = uploads.read_image(decode_b64(body.image), img.height, img.width)
    else:
        seed = body.seed if body.seed is not None else secrets.randbelow(sampling.SEED_MODULUS)
        index = direction.bank_index(seed)
        pixels = direction.bank[index]
    source = to_model_range(pixels[None])
    translation = await state.sample(request, direction.runner, {"source": source})
    both = np.concatenate([source, translation])
    hdrs = {"X-Model": model.name, "X-Direction": direction.key} | ({} if seed is None else {"X-Seed": str(seed)})
    if body.format == "png":
        return Response(content=imaging.encode_grid(both, columns=2), media_type=PNG, headers=hdrs)
    src_png, out_png = (imaging.b64(p) for p in imaging.encode_each(both))
    out = TranslateResponse(
        model=model.name,
        direction=direction.key,
        source_domain=direction.source,
        target_domain=direction.target,
        seed=seed,
        bank_index=index,
        source=src_png,
        translation=out_png,
    )
    return json_response(out, hdrs)
