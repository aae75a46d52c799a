"""POST /encode: an image → the generator's latent for it, and what the generator makes of that latent."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from service import imaging, latents, uploads
from service.deps import StateDep
from service.errors import InputError
from service.schemas.encode import EncodeRequest, EncodeResponse

router = APIRouter(tags=["sampling"])

_FORM_SCHEMA = {
    "type": "object",
    "required": ["image"],
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "a PNG or JPEG file"},
        "model": {"type": "string"},
        "label": {"type": "string", "description": "class index or name (conditional models)"},
    },
}
_DOCS: dict[str, Any] = {
    "openapi_extra": {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": EncodeRequest.model_json_schema()},
                "multipart/form-data": {"schema": _FORM_SCHEMA},
            },
        }
    },
    "responses": {
        200: {"model": EncodeResponse, "description": "the latent, the image as read, its reconstruction"},
        404: {"description": "unknown model"},
        413: {"description": "request body too large"},
        415: {"description": "a body that is neither JSON nor multipart/form-data"},
        422: {"description": "invalid input; `detail[].loc` names the field (a model without an encoder: `model`)"},
        503: {"description": "loading or overloaded; see Retry-After"},
    },
}


def _form(fields: dict[str, bytes]) -> tuple[str | None, bytes, int | str | None]:
    """(model, image bytes, label) of a multipart upload; a label of digits is an index, as the CLI reads it."""
    unknown = sorted(set(fields) - {"model", "image", "label"})
    if unknown:
        raise InputError(unknown[0], "unknown form field; the fields are image, model and label")
    if "image" not in fields:
        raise InputError("image", "a multipart upload needs an `image` part holding a PNG or JPEG")
    try:
        model = fields["model"].decode() if "model" in fields else None
        text = fields["label"].decode() if "label" in fields else None
    except UnicodeDecodeError:
        raise InputError("model", "form fields model and label must be UTF-8 text") from None
    label: int | str | None = int(text) if text is not None and text.isdigit() else text
    return model, fields["image"], label


async def _read(request: Request) -> tuple[str | None, bytes, int | str | None]:
    body = await request.body()
    kind = request.headers.get("content-type", "")
    if kind.split(";")[0].strip().lower() == "multipart/form-data":
        return _form(uploads.form_fields(body, kind))
    if kind.split(";")[0].strip().lower() != "application/json":
        raise HTTPException(415, "send JSON (application/json) or a multipart/form-data upload")
    try:
        parsed = EncodeRequest.model_validate_json(body)
    except ValidationError as e:
        raise RequestValidationError([{**err, "loc": ("body", *err["loc"])} for err in e.errors()]) from None
    return parsed.model, latents.decode_b64(parsed.image, "image"), parsed.label


@router.post("/encode", response_model=None, **_DOCS)
async def encode(request: Request, state: StateDep) -> JSONResponse:
    """Encode a PNG or JPEG (base64 in JSON, or a multipart upload) with the model's encoder.

    The image is read as /translate reads it (grey, the dataset's polarity, the model's size), or for a colour
    model in colour, transparent pixels on white (service/uploads.py). The answer's
    `latent`, sent back as `latent` (with `codes` on an InfoGAN model), gives `reconstruction`, which is G(E(image)).
    """
    name, data, given = await _read(request)
    model = state.model(name)
    latents.encoder_of(model, "model")
    label = model.resolve_label(given, "label")
    if model.manifest.conditional and label is None:
        raise InputError("label", "this model is conditional: its encoder reads the image's class; give `label`")
    source = latents.pixels(model, data, "image")
    coded = await latents.encode(model, source, label, "image")
    feeds = model.feeds([coded.z], [label], [coded.c_cat], [coded.c_cont])
    recon = await state.sample(request, model, feeds)
    distance = float(np.abs(recon[0].astype(np.float64) - source).mean() / 2)
    source_png, recon_png = (imaging.b64(p) for p in imaging.encode_each(np.stack([source, recon[0]])))
    codes = None
    if coded.c_cat is not None and coded.c_cont is not None:
        codes = {"categorical": coded.c_cat, "continuous": coded.c_cont.tolist()}
    out = EncodeResponse(
        model=model.name,
        latent=coded.z.tolist(),
        label=label,
        class_name=model.class_name(label),
        codes=codes,
        source=source_png,
        reconstruction=recon_png,
        distance=round(distance, 6),
    )
    return JSONResponse(out.model_dump(mode="json"), headers={"X-Model": model.name})
