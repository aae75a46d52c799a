"""Bodies of POST /generate."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import (
    PNG_B64,
    Code,
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


class Codes(BaseModel):
    """An InfoGAN model's codes, as POST /encode answers them: both, in place of the seed's."""

    model_config = ConfigDict(strict=True, extra="forbid")

    categorical: Int = Field(ge=0, description="index below codes.categorical[0] of ModelInfo")
    continuous: list[Code] = Field(max_length=64, description="codes.continuous values, each in [-100, 100]")


class GenerateRequest(BaseModel):
    """Body of POST /generate."""

    model_config = request_config(
        {"model": "mnist-dcgan", "n": 16, "seed": 42, "format": "png"},
        {"model": "mnist-cgan", "n": 4, "seed": 7, "label": "3", "format": "json"},
    )

    model: str | None = Field(None, description="a name from /models; absent: the server default")
    n: Int = Field(1, ge=1, le=256, description="images; image i uses seed + i (mod 2^32)")
    seed: Seed | None = Field(None, description="absent: the server draws one and reports it")
    label: Label | None = Field(None, description="conditional models only; absent: drawn per image")
    latent: Latent | None = Field(None, description="addition: z of the image (n must be 1)")
    image: Image | None = Field(None, description="addition: an image whose encoding is z (n must be 1)")
    codes: Codes | None = Field(
        None, description="addition, InfoGAN models: every image's codes (POST /encode's `codes`); absent: the seed's"
    )
    truncation: Truncation = None
    format: Format = "png"
    columns: Columns = None


class GenerateResponse(BaseModel):
    """`format=json` answer of POST /generate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-cgan",
                    "seed": 7,
                    "n": 2,
                    "images": [
                        {"seed": 7, "label": 3, "class_name": "3", "png": PNG_B64},
                        {"seed": 8, "label": 3, "class_name": "3", "png": PNG_B64},
                    ],
                }
            ]
        }
    )

    model: str
    seed: int
    n: int
    images: list[ImageOut]
