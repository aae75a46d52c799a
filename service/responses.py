"""Turning generator output into HTTP responses: PNG (one image or a grid) or JSON.

Large outputs are PNG-encoded in a worker thread so the event loop keeps accepting requests.
Small ones are encoded on the loop: a 28×28 PNG takes about 50 µs, less than the hop to a
thread and back, which `python -m bench.profile` showed on every n=1 request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from service import imaging
from service.schemas.generate import GenerateResponse
from service.schemas.infogan import InfoGANResponse
from service.schemas.interpolate import InterpolateResponse

PNG = "image/png"
INLINE_PIXELS = 1 << 12  # outputs up to this many pixels (five MNIST tiles) are encoded on the loop


def sampling_responses(json_model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a sampling route: PNG by default, `json_model` for format=json."""
    return {
        200: {
            "description": "`format=png`: one PNG (a grid for several images); `format=json`: the body below.",
            "content": {PNG: {"schema": {"type": "string", "format": "binary"}}},
            "model": json_model,
        },
        404: {"description": "unknown model"},
        413: {"description": "request body too large"},
        422: {"description": "invalid input; `detail[].loc` names the field"},
        503: {"description": "loading or overloaded; see Retry-After"},
    }


SAMPLING_DOCS = {
    "generate": sampling_responses(GenerateResponse),
    "interpolate": sampling_responses(InterpolateResponse),
    "infogan": sampling_responses(InfoGANResponse),
}


def headers(model: str, seeds: list[int] | int, labels: list[int | None] | None = None) -> dict[str, str]:
    """`X-Model` and `X-Seed` (comma-separated where several seeds define the result), `X-Label`."""
    seed_list = seeds if isinstance(seeds, list) else [seeds]
    out = {"X-Model": model, "X-Seed": ",".join(map(str, seed_list))}
    if labels and any(label is not None for label in labels):
        out["X-Label"] = ",".join("" if label is None else str(label) for label in labels)
    return out


async def png_response(images: np.ndarray, columns: int | None, hdrs: dict[str, str]) -> Response:
    if images.size <= INLINE_PIXELS:
        data = imaging.encode_grid(images, columns)
    else:
        data = await asyncio.to_thread(imaging.encode_grid, images, columns)
    return Response(content=data, media_type=PNG, headers=hdrs)


async def encode_b64(images: np.ndarray) -> list[str]:
    """One base64 PNG per image (encoded off the event loop unless the output is small)."""
    if images.size <= INLINE_PIXELS:
        pngs = imaging.encode_each(images)
    else:
        pngs = await asyncio.to_thread(imaging.encode_each, images)
    return [imaging.b64(p) for p in pngs]


def json_response(body: BaseModel, hdrs: dict[str, str]) -> JSONResponse:
    return JSONResponse(content=body.model_dump(mode="json"), headers=hdrs)
