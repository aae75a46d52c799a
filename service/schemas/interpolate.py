"""Bodies of POST /interpolate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import (
    PNG_B64,
    Columns,
    Format,
    Image,
    ImageOut,
    Int,
    Label,
    Latent,
    Seed,
    Truncation,
    request_config,
)


class InterpolateRequest(BaseModel):
    """Body of POST /interpolate."""

    model_config = request_config(
        {"model": "mnist-dcgan", "seed_a": 1, "seed_b": 2, "steps": 8, "method": "slerp"},
        {"model": "mnist-cgan", "seed_a": 1, "seed_b": 2, "label_a": 3, "label_b": 8, "format": "json"},
    )

    model: str | None = None
    seed_a: Seed | None = Field(None, description="required unless latent_a is given")
    seed_b: Seed | None = Field(None, description="required unless latent_b is given")
    latent_a: Latent | None = Field(None, description="addition: the first end's z; absent: z(seed_a)")
    latent_b: Latent | None = Field(None, description="addition: the last end's z; absent: z(seed_b)")
    image_a: Image | None = Field(None, description="addition: an image whose encoding is the first end")
    image_b: Image | None = Field(None, description="addition: an image whose encoding is the last end")
    label_a: Label | None = Field(None, description="conditional models; absent: drawn from seed_a")
    label_b: Label | None = Field(None, description="conditional models; absent: label_a")
    steps: Int = Field(8, ge=2, le=64)
    method: Literal["slerp", "lerp"] = "slerp"
    truncation: Truncation = None
    format: Format = "png"
    columns: Columns = None


class FrameOut(ImageOut):
    """One interpolation frame."""

    t: float


class InterpolateResponse(BaseModel):
    """`format=json` answer of POST /interpolate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-dcgan",
                    "method": "slerp",
                    "seed_a": 1,
                    "seed_b": 2,
                    "label_a": None,
                    "label_b": None,
                    "images": [
                        {"t": 0.0, "seed": 1, "label": None, "class_name": None, "png": PNG_B64},
                        {"t": 0.5, "seed": None, "label": None, "class_name": None, "png": PNG_B64},
                        {"t": 1.0, "seed": 2, "label": None, "class_name": None, "png": PNG_B64},
                    ],
                }
            ]
        }
    )

    model: str
    method: str
    seed_a: int
    seed_b: int
    label_a: int | None
    label_b: int | None
    images: list[FrameOut]
