"""Typed service settings, read from `GAN_*` environment variables.

Bounded fields make a bad deployment fail at start-up with a message naming the variable,
instead of misbehaving under load.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; each field is `GAN_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GAN_", extra="ignore", frozen=True)

    models_dir: Path = Path("exported_models")  # one folder per model: manifest.json + model.onnx
    default_model: str | None = None  # None: the first served model by name
    host: str = "0.0.0.0"  # the container must listen on every interface
    port: int = Field(default=8000, ge=0, le=65535)  # 0: let the OS pick (tests)
    max_batch: int = Field(default=64, ge=1, le=1024)  # images per ORT run; larger requests are chunked
    max_wait_ms: float = Field(default=5.0, ge=0.0, le=1000.0)  # how long the oldest image waits for company
    queue_images: int = Field(default=1024, ge=1)  # images waiting per model before new requests get 503
    threads: int = Field(default=0, ge=0, le=256)  # ORT intra-op threads; 0: the CPUs this process may use
    provider: Literal["auto", "cpu", "cuda"] = "auto"  # auto: CUDA when a session really runs on it
    batch_shapes: Literal["auto", "dynamic", "fixed"] = "auto"  # auto: probe batch-size invariance
    max_body_bytes: int = Field(default=65536, ge=1024)  # larger request bodies get 413
    warmup_delay_s: float = Field(default=0.0, ge=0.0, le=600.0)  # artificial delay before loading (tests)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def intra_op_threads(self) -> int:
        """ORT threads: the configured number, else every CPU this process is allowed to run on."""
        if self.threads:
            return self.threads
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not Linux
            return max(1, os.cpu_count() or 1)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
