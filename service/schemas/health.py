"""Answers of GET /healthz and GET /readyz."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class HealthStatus(BaseModel):
    """Liveness answer (/healthz): the process serves HTTP; /readyz answers a `ReadyStatus`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok", "models": [], "failed": {}}]})

    status: Literal["ok", "ready", "loading", "unready", "draining"]
    models: list[str] = []
    failed: dict[str, str] = {}


class ReadyStatus(BaseModel):
    """Readiness and the served models; the details (`failed`, `down`) only for a request with a valid API key
    when keys are required, since reasons carry paths and ONNX Runtime errors."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "ready", "models": ["mnist-cgan", "mnist-dcgan"], "failed": {}, "down": {}},
                {"status": "ready", "models": ["mnist-cgan", "mnist-dcgan"]},
                {"status": "loading", "models": []},
            ]
        }
    )

    status: Literal["ready", "loading", "unready", "draining"]
    models: list[str]
    failed: dict[str, str] = Field(
        default_factory=dict, description="models (or folders) not served, or served at a previous version, and why"
    )
    down: dict[str, str] = Field(
        default_factory=dict, description="lanes (model graphs) whose last batch failed, and why; empty once one works"
    )
