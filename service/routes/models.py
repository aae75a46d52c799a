"""GET /models and /models/{name}: what is served and how."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import StateDep
from service.registry import LoadedModel
from service.schemas import ImageShape, ModelInfo, ModelsResponse

router = APIRouter(prefix="/models", tags=["models"])


def model_info(model: LoadedModel) -> ModelInfo:
    """Manifest facts plus how this process runs the model (provider, batch shapes)."""
    m = model.manifest
    return ModelInfo(
        name=m.name,
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
        opset=m.opset,
        metrics=m.metrics,
    )


@router.get("")
async def list_models(state: StateDep) -> ModelsResponse:
    """Every served model, and the one used when a request names none."""
    models = [model_info(state.registry.models[name]) for name in state.registry.names()]
    return ModelsResponse(models=models, default=state.default_model)


@router.get("/{name}", responses={404: {"description": "unknown model"}})
async def get_model(name: str, state: StateDep) -> ModelInfo:
    """One model's description."""
    return model_info(state.model(name))
