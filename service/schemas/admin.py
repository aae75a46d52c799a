"""Answer of POST /admin/reload."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReloadResponse(BaseModel):
    """What POST /admin/reload changed; `failed` names what on disk cannot be served, and why."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "added": ["mnist-wgan-gp"],
                    "updated": ["mnist-dcgan"],
                    "removed": ["mnist-old"],
                    "unchanged": ["mnist-cgan"],
                    "failed": {"mnist-broken": "sha256 of model.onnx is 3f…, manifest says 9a…"},
                    "models": ["mnist-cgan", "mnist-dcgan", "mnist-wgan-gp"],
                    "default": "mnist-cgan",
                }
            ]
        }
    )

    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    failed: dict[str, str]
    models: list[str]
    default: str | None
