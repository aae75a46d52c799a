"""POST /generate: n images from consecutive seeds."""

from __future__ import annotations

import secrets
from dataclasses import replace

import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service import latents, limits, sampling
from service.errors import InputError
from service.registry import LoadedModel
from service.responses import SAMPLING_DOCS, encode_b64, headers, png_response
from service.schemas.generate import Codes, GenerateRequest
from service.state import ServiceState

router = APIRouter(tags=["sampling"])


def given_codes(model: LoadedModel, codes: Codes) -> tuple[int, np.ndarray]:
    """A client's InfoGAN codes → (c_cat, float32 c_cont); InputError naming the field the model cannot take."""
    spec = model.manifest.codes
    if spec is None:
        raise InputError("codes", f"model {model.name!r} is not an InfoGAN model (it has no codes)")
    n_cat, k = spec.categorical[0], spec.continuous
    if codes.categorical >= n_cat:
        raise InputError("codes.categorical", f"index {codes.categorical} out of range [0, {n_cat - 1}]")
    if len(codes.continuous) != k:
        raise InputError("codes.continuous", f"expected {k} values, got {len(codes.continuous)}")
    return codes.categorical, np.asarray(codes.continuous, dtype=np.float32)


@router.post("/generate", response_model=None, responses=SAMPLING_DOCS["generate"])
async def generate(body: GenerateRequest, request: Request) -> Response:
    """Generate `n` images; image `i` uses seed `seed + i`, so it equals the single image of that seed.

    A `latent` (or an `image`'s encoding) replaces z of the one image it makes; the seed then gives only its
    label (and codes). `codes` replace every image's InfoGAN codes, so /encode's `latent` and `codes` sent back
    give its `reconstruction`."""
    # No StateDep: resolving a dependency cost every request ~11 µs, and service.fastpath calls this directly.
    state: ServiceState = request.app.state.service
    model = state.model(body.model)
    limits.check(body, model, state.settings)
    label = model.resolve_label(body.label, "label")
    seed = body.seed if body.seed is not None else secrets.randbelow(sampling.SEED_MODULUS)
    draws = model.draws(sampling.seeds_from(seed, body.n), body.truncation)
    if body.latent is not None or body.image is not None:
        if body.n != 1:
            raise InputError("n", f"a latent or an image makes one image: n must be 1, got {body.n}")
        draws = [await latents.slot(model, seed, body.latent, body.image, ("latent", "image"), label=label)]
    if body.codes is not None:
        c_cat, c_cont = given_codes(model, body.codes)
        draws = [replace(d, c_cat=c_cat, c_cont=c_cont) for d in draws]
    labels = [label if label is not None else d.label for d in draws]
    images = await state.sample(request, model, model.feeds_for(draws, label))
    hdrs = headers(model.name, seed, labels)
    if body.format == "png":
        return await png_response(images, body.columns, hdrs)
    pngs = await encode_b64(images)
    # GenerateResponse's JSON, built as plain data: validating 64 ImageOut models cost more than encoding their JSON.
    # tests/service/test_api_generate.py checks the body against the model.
    out = [
        {"seed": d.seed, "label": lab, "class_name": model.class_name(lab), "png": png}
        for d, lab, png in zip(draws, labels, pngs, strict=True)
    ]
    return JSONResponse({"model": model.name, "seed": seed, "n": body.n, "images": out}, headers=hdrs)
