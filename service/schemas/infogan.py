"""Bodies of POST /infogan."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import (
    PNG_B64,
    Code,
    Columns,
    Format,
    ImageOut,
    Index,
    Int,
    Latent,
    Seed,
    Truncation,
    request_config,
)


class Sweep(BaseModel):
    """One code varied over `values`, noise and the other codes held fixed."""

    model_config = ConfigDict(strict=True, extra="forbid")

    code: str = Field(pattern=r"^(categorical|continuous:\d{1,2})$", examples=["categorical", "continuous:0"])
    values: list[Annotated[Int | Code, Field(union_mode="left_to_right")]] = Field(min_length=1, max_length=64)


class InfoGANRequest(BaseModel):
    """Body of POST /infogan (InfoGAN models only)."""

    model_config = request_config(
        {"model": "mnist-infogan", "seed": 5, "categorical": 3, "continuous": [0.5, -0.5]},
        {
            "model": "mnist-infogan",
            "seed": 5,
            "sweep": {"code": "continuous:0", "values": [-2, -1, 0, 1, 2]},
            "format": "json",
        },
    )

    model: str | None = None
    seed: Seed | None = Field(None, description="absent: the server draws one and reports it")
    categorical: Index | None = Field(None, description="absent: drawn from the seed")
    continuous: list[Code] | None = Field(None, max_length=64, description="absent: drawn from the seed")
    latent: Latent | None = Field(None, description="addition: z of every image in place of z(seed)")
    sweep: Sweep | None = None
    truncation: Truncation = None
    format: Format = "png"
    columns: Columns = None


class CodeImageOut(ImageOut):
    """One InfoGAN image with the codes it was generated from."""

    categorical: int
    continuous: list[float]


class InfoGANResponse(BaseModel):
    """`format=json` answer of POST /infogan."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-infogan",
                    "seed": 5,
                    "sweep": {"code": "categorical", "values": [0, 1]},
                    "images": [
                        {
                            "seed": 5,
                            "label": None,
                            "class_name": None,
                            "categorical": 0,
                            "continuous": [0.1, -0.4],
                            "png": PNG_B64,
                        },
                        {
                            "seed": 5,
                            "label": None,
                            "class_name": None,
                            "categorical": 1,
                            "continuous": [0.1, -0.4],
                            "png": PNG_B64,
                        },
                    ],
                }
            ]
        }
    )

    model: str
    seed: int
    sweep: Sweep | None
    images: list[CodeImageOut]
