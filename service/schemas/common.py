"""Field types and bodies that several resources share: bounded integers, seeds, labels, latents, images.

Requests are strict (no silent "5" → 5 coercion) and forbid unknown keys, so a typo such as
`"lable"` is a 422 naming the field instead of a silently ignored option.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _whole(value: object) -> object:
    """2.0 → 2: JSON (and JSON Schema's `integer`) does not tell 2 from 2.0; 2.5, "2" and true stay refused."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Int = Annotated[int, BeforeValidator(_whole)]  # every integer of a request body
# Bounds of an integer go inside, before the validator: put on `Int` itself (or on `Int | None`), pydantic checks them
# but writes them into the JSON schema as `ge`/`le`, words JSON Schema does not know, so the OpenAPI document lost them.
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="0..4294967295"), BeforeValidator(_whole)]
Index = Annotated[int, Field(ge=0), BeforeValidator(_whole)]
Label = Annotated[Int | str, Field(description="class index, or class name from ModelInfo.class_names")]
Code = Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]
Format = Literal["png", "json"]
Columns = Annotated[
    Annotated[int, Field(ge=1, le=256), BeforeValidator(_whole)] | None,
    Field(None, description="grid columns; default ceil(sqrt(n))"),
]
Truncation = Annotated[
    float | None,
    Field(
        None,
        gt=0.0,
        le=1.0,
        allow_inf_nan=False,
        description="ψ in (0, 1]: each drawn z is redrawn component-wise until |z_i| <= 2, then scaled by ψ "
        "(docs/API.md); absent: plain z(seed)",
    ),
]
Latent = Annotated[
    list[Annotated[float, Field(ge=-100.0, le=100.0, allow_inf_nan=False)]],
    Field(
        min_length=1,
        max_length=4096,
        description="latent_dim numbers in [-100, 100], used as z in place of the seed's (as float32, never "
        "truncated); the label and codes still come from the seed unless sent too (docs/API.md)",
    ),
]
Image = Annotated[
    str,
    Field(
        max_length=1 << 20,
        description="base64 PNG or JPEG, read as POST /encode reads it, encoded by the model's encoder; its latent "
        "goes where a sent latent would (docs/API.md)",
    ),
]
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAAAAABXZoBIAAAA..."  # the examples' PNG, cut short


def request_config(*examples: dict[str, Any]) -> ConfigDict:
    """A request body's config: strict and closed (the module docstring says why), with its OpenAPI examples."""
    return ConfigDict(strict=True, extra="forbid", json_schema_extra={"examples": list(examples)})


class ImageOut(BaseModel):
    """One generated image of a `format=json` answer."""

    seed: int | None
    label: int | None = None
    class_name: str | None = None
    png: str = Field(description="base64 PNG")
