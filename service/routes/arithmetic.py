"""POST /arithmetic: latent vector arithmetic over exemplar means (DCGAN §6.3)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from service import latents, limits, sampling
from service.deps import StateDep
from service.errors import InputError
from service.responses import encode_b64, headers, json_response, png_response, sampling_responses
from service.schemas.arithmetic import ArithmeticRequest, ArithmeticResponse, ArithmeticTerm, TermOut
from service.schemas.common import ImageOut

router = APIRouter(tags=["sampling"])


def _term_seeds(term: ArithmeticTerm, index: int) -> list[int]:
    """A term's seeds; a latent or image term's one seed (for its label and codes) is drawn when absent."""
    given = term.latent or term.image
    if given is not None and term.seeds is not None and len(term.seeds) > 1:
        raise InputError(
            f"terms.{index}.seeds", "a term with a latent or an image takes one seed at most (its label's)"
        )
    return term.seeds or [latents.seed_for(None, given, f"terms.{index}.seeds")]


@router.post("/arithmetic", response_model=None, responses=sampling_responses(ArithmeticResponse))
async def arithmetic(body: ArithmeticRequest, state: StateDep, request: Request) -> Response:
    """Result latent = sum(weight_j * mean(z(seeds_j))), a term's `latent` in place of its mean where given; one
    term of one seed equals /generate of it."""
    model = state.model(body.model)
    limits.check(body, model, state.settings)
    top_label = model.resolve_label(body.label, "label")
    term_labels = [model.resolve_label(t.label, f"terms.{i}.label") for i, t in enumerate(body.terms)]
    seeds = [_term_seeds(t, i) for i, t in enumerate(body.terms)]
    firsts = [
        await latents.slot(
            model, ss[0], t.latent, t.image, (f"terms.{i}.latent", f"terms.{i}.image"), body.truncation, lab
        )
        for i, (t, ss, lab) in enumerate(zip(body.terms, seeds, term_labels, strict=True))
    ]
    means = [
        d.z if t.latent or t.image else sampling.mean_latent([one.z for one in model.draws(ss, body.truncation)])
        for t, ss, d in zip(body.terms, seeds, firsts, strict=True)
    ]
    result = sampling.combine([(t.weight, m) for t, m in zip(body.terms, means, strict=True)])
    # Labels and InfoGAN codes of an image come from its first seed unless given, as in /generate.
    label = next((x for x in (top_label, term_labels[0], firsts[0].label) if x is not None), None)
    zs, labels, c_cat, c_cont = [result], [label], [firsts[0].c_cat], [firsts[0].c_cont]
    if body.format == "json":
        zs += means
        labels += [lab if lab is not None else d.label for lab, d in zip(term_labels, firsts, strict=True)]
        c_cat += [d.c_cat for d in firsts]
        c_cont += [d.c_cont for d in firsts]
    images = await state.sample(request, model, model.feeds(zs, labels, c_cat, c_cont))
    hdrs = headers(model.name, [s for ss in seeds for s in ss], [label])
    if body.format == "png":
        return await png_response(images[:1], None, hdrs)
    pngs = await encode_b64(images)
    terms = [
        TermOut(seeds=ss, weight=t.weight, label=lab, png=png)
        for t, ss, lab, png in zip(body.terms, seeds, labels[1:], pngs[1:], strict=True)
    ]
    one = len(body.terms) == 1 and not (body.terms[0].latent or body.terms[0].image) and len(seeds[0]) == 1
    seed = seeds[0][0] if one else None
    result_image = ImageOut(seed=seed, label=label, class_name=model.class_name(label), png=pngs[0])
    out = ArithmeticResponse(model=model.name, label=label, images=[result_image], terms=terms)
    return json_response(out, hdrs)
