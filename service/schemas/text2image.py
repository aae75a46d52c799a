"""Bodies of POST /text2image."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import (
    PNG_B64,
    Columns,
    Format,
    Int,
    Seed,
    request_config,
)


class Text2ImageRequest(BaseModel):
    """Body of POST /text2image."""

    model_config = request_config(
        {"model": "mnist-stackgan", "text": "a thick slanted seven", "seed": 1, "n": 8, "format": "png"},
        {"model": "mnist-stackgan", "text": "a small thin two", "seed": 5, "n": 2, "format": "json"},
    )

    model: str | None = Field(None, description="a text2image model from /models; absent: the first served one")
    text: str = Field(min_length=1, max_length=500, description="words outside the model's vocabulary are reported")
    n: Int = Field(1, ge=1, le=256, description="images; image i uses seed + i (mod 2^32)")
    seed: Seed | None = Field(None, description="absent: the server draws one and reports it")
    format: Format = "png"
    columns: Columns = None


class TextImageOut(BaseModel):
    """One text-to-image result with its Stage-I image."""

    seed: int
    png: str = Field(description="base64 PNG at the model's size")
    stage1: str = Field(description="base64 PNG of the low-resolution Stage-I image")


class Text2ImageResponse(BaseModel):
    """`format=json` answer of POST /text2image."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-stackgan",
                    "text": "a thick slanted sevn",
                    "words": ["a", "thick", "slanted"],
                    "unknown_words": ["sevn"],
                    "seed": 1,
                    "n": 1,
                    "images": [{"seed": 1, "png": PNG_B64, "stage1": PNG_B64}],
                }
            ]
        }
    )

    model: str
    text: str
    words: list[str] = Field(description="the words the model read, in order")
    unknown_words: list[str] = Field(description="words not in the vocabulary: not read by the model")
    seed: int
    n: int
    images: list[TextImageOut]
