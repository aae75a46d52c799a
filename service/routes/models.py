"""GET /models and /models/{name}: what is served and how."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import StateDep
from service.pipelines import LoadedTranslator, Pipeline
from service.proof import IdentityProof
from service.registry import LoadedModel
from service.schemas.models import DirectionInfo, IdentityInfo, ImageShape, ModelInfo, ModelsResponse, TextInfo

router = APIRouter(prefix="/models", tags=["models"])


def identity_info(proofs: list[IdentityProof | None]) -> IdentityInfo:
    """One model's proof: a translator's directions together (fixed if any is, identical if all are)."""
    done = [p for p in proofs if p is not None]
    assert done and len(done) == len(proofs), "every served graph passed through the identity proof"
    return IdentityInfo(
        shapes="fixed" if any(p.shapes == "fixed" for p in done) else "dynamic",
        max_batch=done[0].max_batch,
        passes=done[0].passes,
        identical=all(p.identical for p in done),
        seconds=round(sum(p.seconds for p in done), 3),
        cached=all(p.cached for p in done),
    )


def model_info(model: LoadedModel | Pipeline) -> ModelInfo:
    """Manifest facts plus how this process runs the model (provider, batch shapes)."""
    if not isinstance(model, LoadedModel):
        return pipeline_info(model)
    m = model.manifest
    return ModelInfo(
        name=m.name,
        kind="generator",
        directions=None,
        text=None,
        variant=m.variant,
        dataset=m.dataset,
        latent_dim=m.latent_dim,
        conditional=m.conditional,
        num_classes=m.num_classes if m.conditional else None,
        class_names=m.labels() if m.conditional else None,
        codes=m.codes.model_dump() if m.codes else None,
        label_blend=m.label_blend,
        image=ImageShape(**m.image.model_dump()),
        sha256=m.sha256,
        provider=model.provider,
        batch_shapes=model.batch_shapes,
        identity=identity_info([model.identity]),
        opset=m.opset,
        metrics=m.metrics,
        encoder=None if model.encoder is None else {"sha256": model.encoder.spec.sha256, **model.encoder.spec.metrics},
        credit=m.credit,
    )


def pipeline_info(model: Pipeline) -> ModelInfo:
    """A translator or text-to-image model in ModelInfo's terms: no labels or codes; a translator has no
    latent (latent_dim 0) and its `sha256` is that of its first direction's graph."""
    m = model.manifest
    directions, text, latent_dim = None, None, 0
    if isinstance(model, LoadedTranslator):
        directions = {
            k: DirectionInfo(
                source=d.source, target=d.target, sha256=model.manifest.directions[k].sha256, bank_images=len(d.bank)
            )
            for k, d in model.directions.items()
        }
    else:
        t = model.manifest.text
        text = TextInfo(
            vocabulary=t.vocabulary, max_tokens=t.max_tokens, class_words=t.class_words, attributes=t.attributes
        )
        latent_dim = model.manifest.latent_dim
    return ModelInfo(
        name=m.name,
        kind=m.kind,
        directions=directions,
        text=text,
        variant=m.variant,
        dataset=m.dataset,
        latent_dim=latent_dim,
        conditional=False,
        num_classes=None,
        class_names=None,
        codes=None,
        label_blend=False,
        image=ImageShape(**m.image.model_dump()),
        sha256=m.files()[0][1],
        provider=model.provider,
        batch_shapes="fixed" if any(r.batch_shapes == "fixed" for r in model.runners()) else "dynamic",
        identity=identity_info([r.identity for r in model.runners()]),
        opset=m.opset,
        metrics=m.metrics,
    )


@router.get("")
async def list_models(state: StateDep) -> ModelsResponse:
    """Every served model, and the one used when a request names none."""
    models = [model_info(state.served(name)) for name in state.served_names()]
    return ModelsResponse(models=models, default=state.default_model)


@router.get("/{name}", responses={404: {"description": "unknown model"}})
async def get_model(name: str, state: StateDep) -> ModelInfo:
    """One model's description."""
    return model_info(state.served(name))
