"""POST /interpolate: frames between the latents of two seeds."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service import latents, limits, sampling
from service.deps import StateDep
from service.responses import SAMPLING_DOCS, encode_b64, headers, json_response, png_response
from service.schemas.interpolate import FrameOut, InterpolateRequest, InterpolateResponse

router = APIRouter(tags=["sampling"])


@router.post("/interpolate", response_model=None, responses=SAMPLING_DOCS["interpolate"])
async def interpolate(body: InterpolateRequest, state: StateDep, request: Request) -> Response:
    """Frame k uses t = k/(steps-1); the first and last frames equal /generate of seed_a and seed_b (with
    latent_a and latent_b, or image_a and image_b, as their `latent` or `image` where given)."""
    model = state.model(body.model)
    limits.check(body, model, state.settings)
    seed_a = latents.seed_for(body.seed_a, body.latent_a or body.image_a, "seed_a")
    seed_b = latents.seed_for(body.seed_b, body.latent_b or body.image_b, "seed_b")
    label_a = model.resolve_label(body.label_a, "label_a")
    label_b = model.resolve_label(body.label_b, "label_b")
    if label_a is None:
        label_a = model.draw(seed_a).label
    if label_b is None:
        label_b = label_a
    a = await latents.slot(
        model, seed_a, body.latent_a, body.image_a, ("latent_a", "image_a"), body.truncation, label_a
    )
    b = await latents.slot(
        model, seed_b, body.latent_b, body.image_b, ("latent_b", "image_b"), body.truncation, label_b
    )
    times = sampling.frame_times(body.steps)
    zs = sampling.interpolate(a.z, b.z, body.steps, body.method)
    labels = [None if label_a is None or label_b is None else model.frame_label(label_a, label_b, t) for t in times]
    # InfoGAN codes: continuous codes move linearly, the categorical one switches halfway.
    c_cat = [a.c_cat if t < 0.5 else b.c_cat for t in times]
    c_cont = [None if a.c_cont is None or b.c_cont is None else sampling.lerp(a.c_cont, b.c_cont, t) for t in times]
    images = await state.sample(request, model, model.feeds(zs, labels, c_cat, c_cont))
    seeds = [seed_a, seed_b]
    hdrs = headers(model.name, seeds, [label_a, label_b])
    if body.format == "png":
        return await png_response(images, body.columns, hdrs)
    pngs = await encode_b64(images)
    frames = []
    for k, (t, png) in enumerate(zip(times, pngs, strict=True)):
        label = None if label_a is None else (label_a if t < 0.5 else label_b)
        seed = seed_a if k == 0 else seed_b if k == body.steps - 1 else None
        frames.append(FrameOut(t=t, seed=seed, label=label, class_name=model.class_name(label), png=png))
    out = InterpolateResponse(
        model=model.name,
        method=body.method,
        seed_a=seed_a,
        seed_b=seed_b,
        label_a=label_a,
        label_b=label_b,
        images=frames,
    )
    return json_response(out, hdrs)
