"""Answers of GET /models and GET /models/{name}: what a served model is and how it runs."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ImageShape(BaseModel):
    """Channels and size of one image."""

    channels: int
    height: int
    width: int


_MODEL_INFO_EXAMPLE: dict[str, Any] = {
    "name": "mnist-cgan",
    "variant": "cgan",
    "dataset": "mnist",
    "latent_dim": 100,
    "conditional": True,
    "num_classes": 10,
    "class_names": [str(i) for i in range(10)],
    "codes": None,
    "label_blend": False,
    "image": {"channels": 1, "height": 28, "width": 28},
    "sha256": "3545f85048b7ead8f3f50fc85fe0ffa62bae3cdaa44674af4f6792f5b69bc153",
    "provider": "CPUExecutionProvider",
    "batch_shapes": "dynamic",
    "identity": {
        "shapes": "dynamic",
        "max_batch": 64,
        "passes": 2,
        "identical": True,
        "seconds": 0.61,
        "cached": False,
    },
    "opset": 18,
    "metrics": {"fid": 3.1, "label_accuracy": 0.99},
}


class DirectionInfo(BaseModel):
    """One direction of a translator."""

    source: str
    target: str
    sha256: str
    bank_images: int = Field(description="source images a seed can pick")


class TextInfo(BaseModel):
    """How a text-to-image model reads text."""

    vocabulary: list[str]
    max_tokens: int
    class_words: list[str]
    attributes: dict[str, list[str]]


class IdentityInfo(BaseModel):
    """The start-up proof that batching changes no bit: every batch size the batcher can send was run `passes`
    times, with deterministic compute on, and each row compared with the same row run alone."""

    shapes: Literal["dynamic", "fixed"] = Field(description="exact batch sizes, or runs padded to GAN_MAX_BATCH")
    max_batch: int = Field(description="every batch size from 1 to this was run (GAN_MAX_BATCH)")
    passes: int
    identical: bool = Field(description="false only where GAN_BATCH_SHAPES forced a mode the proof refuted")
    seconds: float = Field(
        description="what the proof took when it ran, at this start or when the proof cache recorded it (all graphs)"
    )
    cached: bool = Field(
        False,
        description="true where this start found the proof in the proof cache (GAN_PROOF_CACHE_DIR) and skipped it",
    )


class ModelInfo(BaseModel):
    """What a served model is, how it runs and how well it scored at export."""

    model_config = ConfigDict(protected_namespaces=(), json_schema_extra={"examples": [_MODEL_INFO_EXAMPLE]})

    name: str
    kind: Literal["generator", "translator", "text2image"] = Field(
        "generator", description="which routes take it: /generate and co., /translate, /text2image"
    )
    directions: dict[str, DirectionInfo] | None = Field(None, description="translators only")
    text: TextInfo | None = Field(None, description="text2image models only")
    variant: str
    dataset: str
    latent_dim: int
    conditional: bool
    num_classes: int | None
    class_names: list[str] | None
    codes: dict[str, Any] | None
    label_blend: bool
    image: ImageShape
    sha256: str
    provider: str
    batch_shapes: Literal["dynamic", "fixed"]
    identity: IdentityInfo
    opset: int
    metrics: dict[str, float | None]
    encoder: dict[str, Any] | None = Field(
        None, description="addition: the encoder's sha256 and figures (POST /encode, `image`); null: takes no images"
    )
    credit: str | None = Field(None, description="addition: the training data's credit, to show with its samples")


class ModelsResponse(BaseModel):
    """Every served model and the default one."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"models": [_MODEL_INFO_EXAMPLE], "default": "mnist-cgan"}]}
    )

    models: list[ModelInfo]
    default: str | None
