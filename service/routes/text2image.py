"""POST /text2image: images from a caption (StackGAN); words outside the vocabulary are reported."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response

from service import limits, sampling
from service.deps import StateDep
from service.pipelines import LoadedTextToImage
from service.responses import encode_b64, json_response, png_response, sampling_responses
from service.schemas.text2image import Text2ImageRequest, Text2ImageResponse, TextImageOut

router = APIRouter(tags=["text2image"])


@router.post("/text2image", response_model=None, responses=sampling_responses(Text2ImageResponse))
async def text2image(body: Text2ImageRequest, state: StateDep, request: Request) -> Response:
    """`n` images of one caption; image `i` uses seed `seed + i`, so it equals the single image of that seed.

    Unknown words are listed in `unknown_words` (json) and `X-Unknown-Words` (png); the model reads the rest.
    """
    model = state.pipeline(body.model, LoadedTextToImage)
    limits.check(body, model, state.settings)
    tokens, known, unknown = model.tokenize(body.text)
    seed = body.seed if body.seed is not None else secrets.randbelow(sampling.SEED_MODULUS)
    seeds = sampling.seeds_from(seed, body.n)
    out = await state.sample(request, model.runner, model.feeds(tokens, seeds))
    images, low = model.split(out)
    hdrs = {"X-Model": model.name, "X-Seed": str(seed), "X-Unknown-Words": ",".join(unknown)}
    if body.format == "png":
        return await png_response(images, body.columns, hdrs)
    pngs, lows = await encode_b64(images), await encode_b64(low)
    results = [TextImageOut(seed=s, png=p, stage1=q) for s, p, q in zip(seeds, pngs, lows, strict=True)]
    body_out = Text2ImageResponse(
        model=model.name, text=body.text, words=known, unknown_words=unknown, seed=seed, n=body.n, images=results
    )
    return json_response(body_out, hdrs)
