"""Bodies of POST /arithmetic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import (
    PNG_B64,
    Format,
    Image,
    ImageOut,
    Label,
    Latent,
    Seed,
    Truncation,
    request_config,
)


class ArithmeticTerm(BaseModel):
    """One concept: the mean latent of its exemplar seeds, times `weight`."""

    model_config = ConfigDict(strict=True, extra="forbid")

    seeds: list[Seed] | None = Field(
        None, min_length=1, max_length=16, description="exemplars; the term is their mean (required without latent)"
    )
    latent: Latent | None = Field(
        None, description="addition: the term's latent instead of a mean; seeds (one at most) then give only its label"
    )
    image: Image | None = Field(None, description="addition: an image whose encoding is the term's latent")
    weight: float = Field(1.0, ge=-100.0, le=100.0, allow_inf_nan=False)
    label: Label | None = Field(None, description="conditional models: the label of this term's mean image")


class ArithmeticRequest(BaseModel):
    """Body of POST /arithmetic."""

    model_config = request_config(
        {
            "model": "mnist-dcgan",
            "terms": [{"seeds": [1, 2, 3], "weight": 1}, {"seeds": [4, 5], "weight": -1}, {"seeds": [6]}],
            "format": "json",
        },
        {"model": "mnist-cgan", "terms": [{"seeds": [10], "weight": 1}], "label": 7},
    )

    model: str | None = None
    terms: list[ArithmeticTerm] = Field(min_length=1, max_length=8)
    label: Label | None = Field(
        None, description="addition: conditional models, label of the result; absent: the first term's"
    )
    truncation: Truncation = None
    format: Format = "png"


class TermOut(BaseModel):
    """One arithmetic term and the image of its mean latent."""

    seeds: list[int]
    weight: float
    label: int | None
    png: str = Field(description="base64 PNG of this term's mean latent")


class ArithmeticResponse(BaseModel):
    """`format=json` answer of POST /arithmetic: the result and each term's mean image."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-dcgan",
                    "label": None,
                    "images": [{"seed": None, "label": None, "class_name": None, "png": PNG_B64}],
                    "terms": [
                        {"seeds": [1, 2, 3], "weight": 1.0, "label": None, "png": PNG_B64},
                        {"seeds": [4, 5], "weight": -1.0, "label": None, "png": PNG_B64},
                    ],
                }
            ]
        }
    )

    model: str
    label: int | None
    images: list[ImageOut]
    terms: list[TermOut]
