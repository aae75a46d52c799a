"""Per-request limits from settings (`GAN_MAX_*`): a clear 422 naming the field, before any work is queued.

The request schemas keep the API's own maxima (docs/API.md), and these settings can only lower them.
`document()` writes the lowered values into the OpenAPI document, so clients and fuzzers see the
bounds this server really enforces. `max_pixels` bounds what one answer holds: every image of a JSON
answer, or every cell of a PNG grid (empty cells included), so a large model cannot be asked for a
response that would not fit in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from service.errors import InputError
from service.imaging import grid_columns
from service.pipelines import LoadedTextToImage
from service.registry import LoadedModel
from service.schemas.arithmetic import ArithmeticRequest
from service.schemas.generate import GenerateRequest
from service.schemas.infogan import InfoGANRequest
from service.schemas.interpolate import InterpolateRequest
from service.schemas.text2image import Text2ImageRequest
from service.settings import Settings

Count = tuple[str, int, str]  # (field path, how many, settings field that bounds it)

# The same bounds, as they appear in the OpenAPI document: (schema, property, keyword, settings field).
DOCUMENTED = (
    ("GenerateRequest", "n", "maximum", "max_n"),
    ("Text2ImageRequest", "n", "maximum", "max_n"),
    ("InterpolateRequest", "steps", "maximum", "max_steps"),
    ("Sweep", "values", "maxItems", "max_sweep"),
    ("ArithmeticRequest", "terms", "maxItems", "max_terms"),
    ("ArithmeticTerm", "seeds", "maxItems", "max_term_seeds"),
)


def _generate(body: Any) -> tuple[list[Count], int]:
    return [("n", body.n, "max_n")], body.n


def _interpolate(body: Any) -> tuple[list[Count], int]:
    return [("steps", body.steps, "max_steps")], body.steps


def _infogan(body: Any) -> tuple[list[Count], int]:
    if body.sweep is None:
        return [], 1
    return [("sweep.values", len(body.sweep.values), "max_sweep")], len(body.sweep.values)


def _arithmetic(body: Any) -> tuple[list[Count], int]:
    counts = [("terms", len(body.terms), "max_terms")]
    counts += [(f"terms.{i}.seeds", len(t.seeds or ()), "max_term_seeds") for i, t in enumerate(body.terms)]
    return counts, 1 if body.format == "png" else 1 + len(body.terms)  # json adds each term's mean image


COUNTERS: dict[type[BaseModel], Callable[[Any], tuple[list[Count], int]]] = {
    GenerateRequest: _generate,
    Text2ImageRequest: _generate,
    InterpolateRequest: _interpolate,
    InfoGANRequest: _infogan,
    ArithmeticRequest: _arithmetic,
}


def answer_pixels(images: int, model: LoadedModel | LoadedTextToImage, fmt: str, columns: int | None) -> int:
    """Pixels of the answer: each image for json, each grid cell for a PNG."""
    cells = images
    if fmt == "png" and images > 1:
        cols = grid_columns(images, columns)
        cells = cols * math.ceil(images / cols)
    return cells * model.manifest.image.height * model.manifest.image.width


def check(body: BaseModel, model: LoadedModel | LoadedTextToImage, settings: Settings) -> None:
    """Raise InputError (422) naming the first field past this server's limits."""
    counts, images = COUNTERS[type(body)](body)
    for field, count, limit_name in counts:
        limit = getattr(settings, limit_name)
        if count > limit:
            raise InputError(field, f"at most {limit} on this server (GAN_{limit_name.upper()}), got {count}")
    pixels = answer_pixels(images, model, getattr(body, "format", "png"), getattr(body, "columns", None))
    if pixels > settings.max_pixels:
        field = counts[0][0] if counts else "model"
        msg = f"the answer would hold {pixels} pixels, over this server's {settings.max_pixels} (GAN_MAX_PIXELS)"
        raise InputError(field, msg)


def document(openapi: dict[str, Any], settings: Settings) -> None:
    """Lower the request schemas' maxima in an OpenAPI document to this server's settings."""
    schemas = openapi.get("components", {}).get("schemas", {})
    for schema, prop, keyword, limit_name in DOCUMENTED:
        for name in (schema, f"{schema}-Input"):  # pydantic splits models used both ways
            spec = schemas.get(name, {}).get("properties", {}).get(prop)
            if spec is not None:
                spec[keyword] = min(spec.get(keyword, math.inf), getattr(settings, limit_name))
