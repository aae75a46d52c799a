"""Bodies of POST /translate."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import (
    PNG_B64,
    Format,
    Seed,
    request_config,
)


class TranslateRequest(BaseModel):
    """Body of POST /translate: a PNG to translate, or a seed that picks a source-domain test image."""

    model_config = request_config(
        {"model": "mnist-cyclegan", "direction": "a2b", "seed": 3, "format": "json"},
        {"model": "mnist-cyclegan", "direction": "b2a", "image": PNG_B64, "format": "png"},
    )

    model: str | None = Field(None, description="a translator from /models; absent: the first served one")
    direction: str = Field("a2b", max_length=32, description="a key of ModelInfo.directions")
    image: str | None = Field(
        None,
        description="base64 PNG or JPEG, 8..4096 pixels a side, read as grey at the model's size with the dataset's "
        "polarity (docs/API.md); GAN_MAX_BODY_BYTES bounds its length",
    )
    seed: Seed | None = Field(None, description="no image: picks the source image from the model's bank")
    format: Format = "png"


class TranslateResponse(BaseModel):
    """`format=json` answer of POST /translate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-cyclegan",
                    "direction": "a2b",
                    "source_domain": "mnist",
                    "target_domain": "mnist-thick",
                    "seed": 3,
                    "bank_index": 117,
                    "source": PNG_B64,
                    "translation": PNG_B64,
                }
            ]
        }
    )

    model: str
    direction: str
    source_domain: str
    target_domain: str
    seed: int | None = Field(description="null when an image was sent")
    bank_index: int | None = Field(description="the bank image the seed picked; null when an image was sent")
    source: str = Field(description="base64 PNG of the source image, as the model saw it")
    translation: str = Field(description="base64 PNG")
