"""POST /arithmetic: latent vector arithmetic over exemplar means (DCGAN §6.3)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service import limits, sampling
from service.deps import StateDep
from service.responses import encode_b64, headers, json_response, png_response, sampling_responses
from service.schemas import ArithmeticRequest, ArithmeticResponse, ImageOut, TermOut

router = APIRouter(tags=["sampling"])


@router.post("/arithmetic", response_model=None, responses=sampling_responses(ArithmeticResponse))
async def arithmetic(body: ArithmeticRequest, state: StateDep, request: Request) -> Response:
    """Result latent = sum(weight_j * mean(z(seeds_j))); one term of one seed equals /generate of it."""
    model = state.model(body.model)
    limits.check(body, model, state.settings)
    top_label = model.resolve_label(body.label, "label")
    term_labels = [model.resolve_label(t.label, f"terms.{i}.label") for i, t in enumerate(body.terms)]
    firsts = [model.draw(t.seeds[0], body.truncation) for t in body.terms]
    means = [sampling.mean_latent([model.draw(s, body.truncation).z for s in t.seeds]) for t in body.terms]
    result = sampling.combine([(t.weight, m) for t, m in zip(body.terms, means, strict=True)])
    # Labels and InfoGAN codes of an image come from its first seed unless given, as in /generate.
    label = next((x for x in (top_label, term_labels[0], firsts[0].label) if x is not None), None)
    zs, labels, c_cat, c_cont = [result], [label], [firsts[0].c_cat], [firsts[0].c_cont]
    if body.format == "json":
        zs += means
        labels += [lab if lab is not None else d.label for lab, d in zip(term_labels, firsts, strict=True)]
        c_cat += [d.c_cat for d in firsts]
        c_cont += [d.c_cont for d in firsts]
    images = await state.sample(request.receive, model, model.feeds(zs, labels, c_cat, c_cont))
    seeds = [s for t in body.terms for s in t.seeds]
    hdrs = headers(model.name, seeds, [label])
    if body.format == "png":
        return await png_response(images[:1], None, hdrs)
    pngs = await encode_b64(images)
    terms = [
        TermOut(seeds=t.seeds, weight=t.weight, label=lab, png=png)
        for t, lab, png in zip(body.terms, labels[1:], pngs[1:], strict=True)
    ]
    seed = body.terms[0].seeds[0] if len(body.terms) == 1 and len(body.terms[0].seeds) == 1 else None
    result_image = ImageOut(seed=seed, label=label, class_name=model.class_name(label), png=pngs[0])
    out = ArithmeticResponse(model=model.name, label=label, images=[result_image], terms=terms)
    return json_response(out, hdrs)
