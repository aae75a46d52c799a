"""Bodies of POST /encode."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from service.schemas.common import (
    PNG_B64,
    Image,
    Label,
    request_config,
)


class EncodeRequest(BaseModel):
    """JSON body of POST /encode (the same fields also come as multipart/form-data, `image` a file)."""

    model_config = request_config({"model": "mnist-dcgan", "image": PNG_B64})

    model: str | None = Field(None, description="a generator with an encoder (ModelInfo.encoder); absent: the default")
    image: Image
    label: Label | None = Field(None, description="conditional models: the image's class, which their encoder reads")
    format: Literal["json"] = Field("json", description="the answer is always JSON")


class EncodeResponse(BaseModel):
    """Answer of POST /encode: the latent (send it as `latent` anywhere) and what the generator makes of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model": "mnist-dcgan",
                    "latent": [0.12, -1.3, 0.4],
                    "label": None,
                    "class_name": None,
                    "codes": None,
                    "source": PNG_B64,
                    "reconstruction": PNG_B64,
                    "distance": 0.071,
                }
            ]
        }
    )

    model: str
    latent: list[float] = Field(
        description="latent_dim float32 values: send back as `latent` (InfoGAN: with `codes`) for the same image"
    )
    label: int | None = Field(description="the label the encoder read (conditional models)")
    class_name: str | None
    codes: dict[str, Any] | None = Field(description="InfoGAN: {categorical, continuous} the encoder read")
    source: str = Field(description="base64 PNG of the image as the model read it (grey, its size and polarity)")
    reconstruction: str = Field(description="base64 PNG of G(E(image)): /generate with this latent")
    distance: float = Field(description="mean |reconstruction - source| over pixels, pixels in [0, 1]")
