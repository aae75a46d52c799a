"""POST /infogan: images with chosen InfoGAN codes, or a sweep of one code."""

from __future__ import annotations

import secrets

import numpy as np
from fastapi import APIRouter, Request, Response

from service import latents, limits, sampling
from service.deps import StateDep
from service.errors import InputError
from service.registry import LoadedModel
from service.responses import SAMPLING_DOCS, encode_b64, headers, json_response, png_response
from service.schemas.infogan import CodeImageOut, InfoGANRequest, InfoGANResponse

router = APIRouter(tags=["sampling"])


def _codes(model: LoadedModel, body: InfoGANRequest, draw: sampling.Draw) -> list[tuple[int, np.ndarray]]:
    """(c_cat, c_cont) per image: drawn from the seed, replaced where given, swept where asked."""
    codes = model.manifest.codes
    if codes is None:
        raise InputError("model", f"model {model.name!r} is not an InfoGAN model (it has no codes)")
    n_cat, k = codes.categorical[0], codes.continuous
    assert draw.c_cat is not None and draw.c_cont is not None
    cat, cont = draw.c_cat, draw.c_cont
    if body.categorical is not None:
        if body.categorical >= n_cat:
            raise InputError("categorical", f"index {body.categorical} out of range [0, {n_cat - 1}]")
        cat = body.categorical
    if body.continuous is not None:
        if len(body.continuous) != k:
            raise InputError("continuous", f"expected {k} values, got {len(body.continuous)}")
        cont = np.asarray(body.continuous, dtype=np.float32)
    if body.sweep is None:
        return [(cat, cont)]
    values = body.sweep.values
    if body.sweep.code == "categorical":
        if not all(isinstance(v, int) and 0 <= v < n_cat for v in values):
            raise InputError("sweep.values", f"categorical values must be integers in [0, {n_cat - 1}]")
        return [(int(v), cont) for v in values]
    index = int(body.sweep.code.split(":")[1])
    if index >= k:
        raise InputError("sweep.code", f"continuous code index {index} out of range [0, {k - 1}]")
    if not all(abs(v) <= 100 for v in values):
        raise InputError("sweep.values", "continuous values must lie in [-100, 100]")
    swept = []
    for v in values:
        row = cont.copy()
        row[index] = v
        swept.append((cat, row))
    return swept


@router.post("/infogan", response_model=None, responses=SAMPLING_DOCS["infogan"])
async def infogan(body: InfoGANRequest, state: StateDep, request: Request) -> Response:
    """One image from z(seed) (or the sent `latent`) and the given codes, or one per value of the swept code."""
    model = state.model(body.model)
    limits.check(body, model, state.settings)
    seed = body.seed if body.seed is not None else secrets.randbelow(sampling.SEED_MODULUS)
    draw = latents.draw(model, seed, body.latent, "latent", body.truncation)
    codes = _codes(model, body, draw)
    n = len(codes)
    inputs = model.feeds([draw.z] * n, [draw.label] * n, [c for c, _ in codes], [v for _, v in codes])
    images = await state.sample(request, model, inputs)
    hdrs = headers(model.name, seed)
    if body.format == "png":
        return await png_response(images, body.columns, hdrs)
    pngs = await encode_b64(images)
    out = [
        CodeImageOut(seed=seed, label=draw.label, categorical=c, continuous=v.tolist(), png=png)
        for (c, v), png in zip(codes, pngs, strict=True)
    ]
    return json_response(InfoGANResponse(model=model.name, seed=seed, sweep=body.sweep, images=out), hdrs)
