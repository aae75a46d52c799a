"""Typed service settings, read from `GAN_*` environment variables.

Bounded fields make a bad deployment fail at start-up with a message naming the variable,
instead of misbehaving under load.
"""

from __future__ import annotations

import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MIN_KEY_LENGTH = 16  # shorter keys are guessable; a deployment with one fails at start-up
Keys = Annotated[tuple[SecretStr, ...], NoDecode]  # comma-separated in the environment
KeyKind = Literal["api", "admin"]
AccessLog = Literal["all", "errors", "off"]


class Settings(BaseSettings):
    """Every knob of the service; each field is `GAN_<FIELD>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="GAN_", extra="ignore", frozen=True, hide_input_in_errors=True)

    models_dir: Path = Path("exported_models")  # one folder per model: manifest.json + model.onnx
    # Used when a request names no model: the best MNIST unconditional generator (docs/MODELS.md). When it is not
    # served, the first served generator by name is used instead, with a warning at start-up.
    default_model: str = "mnist-dcgan"
    host: str = "0.0.0.0"  # the container must listen on every interface
    port: int = Field(default=8000, ge=0, le=65535)  # 0: let the OS pick (tests)
    # Uvicorn processes on the one port, each with its own sessions, batchers and metrics: more than one only pays
    # where the CPUs outnumber what one process's ORT threads and event loop use (docs/bench).
    workers: int = Field(default=1, ge=1, le=64)
    # Seconds an idle keep-alive connection stays open. Above the idle timeout of the proxies and client pools in
    # front (60 s on the common load balancers), so it is always the client that closes one: a server closing it
    # first races a client that is reusing it, and that request is lost with no answer (docs/OPERATIONS.md). Up to a
    # day, so it can outlast Envoy's 1 h idle timeout as that advice says.
    keepalive_s: int = Field(default=75, ge=1, le=86_400)
    max_batch: int = Field(default=64, ge=1, le=1024)  # images per ORT run; larger requests are chunked
    # off: requests are never merged, each ORT run holds one request's rows (up to max_batch): the benchmark's baseline
    batching: Literal["on", "off"] = "on"
    # How long the oldest image waits for company. 0: a batch forms as soon as the model's thread has room and takes
    # every image waiting then; under load the thread is busy, so batches fill meanwhile without a timer (with wrk at
    # n=1 and 64 clients, 5 ms of waiting cost a fifth to a third of the requests a second: docs/bench).
    max_wait_ms: float = Field(default=0.0, ge=0.0, le=1000.0)
    queue_images: int = Field(default=1024, ge=1)  # images waiting per model before new requests get 503
    threads: int = Field(default=0, ge=0, le=256)  # ORT intra-op threads; 0: the CPUs this process may use ÷ workers
    provider: Literal["auto", "cpu", "cuda"] = "auto"  # auto: CUDA when a session really runs on it
    batch_shapes: Literal["auto", "dynamic", "fixed"] = "auto"  # auto: probe batch-size invariance
    # Where identity proofs are recorded, so a restart with the same graphs, ONNX Runtime, CPU/GPU and settings skips
    # them (service/proofcache.py). Per user under the temporary directory by default: writable on a read-only root
    # with /tmp mounted, and nothing under $HOME. Empty: no cache, every start proves.
    # Graphs loading (and proving) at once at start-up and on reload; 0: the CPUs this process may use.
    load_parallel: int = Field(default=0, ge=0, le=64)
    proof_cache_dir: Path | None = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / f"gan-proofs-{os.getuid()}"
    )
    max_body_bytes: int = Field(default=65536, ge=1024)  # larger request bodies get 413
    warmup_delay_s: float = Field(default=0.0, ge=0.0, le=600.0)  # artificial delay before loading (tests)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Access-log lines: errors (status >= 400) by default. A line per request cost the event loop ~8% of its
    # time per request (docs/bench); gan_http_requests and gan_http_request_duration_seconds count every one.
    access_log: AccessLog = "errors"
    # FastAPI's own OpenTelemetry spans, metrics and logs, for a provider you configure (e.g. opentelemetry-instrument).
    # Off by default: FastAPI then looks for providers in the environment on every request, ~5% of the loop's time.
    otel: bool = False
    # Limits on one request (the API maxima by default; lower them to protect a small machine).
    max_n: int = Field(default=256, ge=1, le=256)  # /generate images
    max_steps: int = Field(default=64, ge=2, le=64)  # /interpolate frames
    max_sweep: int = Field(default=64, ge=1, le=64)  # /infogan sweep values
    max_terms: int = Field(default=8, ge=1, le=8)  # /arithmetic terms
    max_term_seeds: int = Field(default=16, ge=1, le=16)  # exemplar seeds per /arithmetic term
    max_pixels: int = Field(default=1 << 24, ge=1 << 12)  # pixels of one answer: all its images, or its grid
    body_timeout_s: float = Field(default=10.0, gt=0.0, le=600.0)  # a body still incomplete after this gets 408
    default_deadline_ms: int | None = Field(default=None, ge=1, le=3_600_000)  # X-Deadline-Ms when a request has none
    # Graceful shutdown: SIGTERM → /readyz 503, new requests refused, in-flight ones finish, exit.
    shutdown_grace_s: float = Field(default=25.0, gt=0.0, le=3600.0)  # exit by then; under Kubernetes' 30 s
    drain_delay_s: float = Field(default=0.0, ge=0.0, le=600.0)  # keep answering 503s at least this long first
    # Access control: no keys configured means an open API; admin routes always need an admin key.
    api_keys: Keys = ()  # keys for every route but /healthz and /readyz
    api_keys_file: Path | None = None  # one key per line (a mounted secret), added to api_keys
    admin_keys: Keys = ()  # keys for /admin/* (and, being stronger, for every other route)
    admin_keys_file: Path | None = None
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()  # browser origins allowed to call; "*" for any

    @field_validator("proof_cache_dir", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """GAN_PROOF_CACHE_DIR= (empty) turns the cache off."""
        return None if value == "" else value

    @field_validator("api_keys", "admin_keys", "cors_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        """`a,b` in the environment → ("a", "b"); blanks dropped."""
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _keys_are_usable(self) -> Settings:
        """Key files must be readable and every key long enough, so a bad secret stops start-up."""
        kinds: tuple[KeyKind, ...] = ("api", "admin")
        for kind in kinds:
            if any(len(key) < MIN_KEY_LENGTH for key in self.keys(kind)):
                raise ValueError(f"{kind}_keys: every key needs at least {MIN_KEY_LENGTH} characters")
        return self

    def keys(self, kind: KeyKind) -> frozenset[bytes]:
        """The configured keys of one kind: the variable's plus the file's (`#` lines are comments)."""
        inline: tuple[SecretStr, ...] = getattr(self, f"{kind}_keys")
        path: Path | None = getattr(self, f"{kind}_keys_file")
        found = [k.get_secret_value() for k in inline]
        if path is not None:
            try:
                lines = path.read_text().splitlines()
            except OSError as exc:
                raise ValueError(f"{kind}_keys_file: cannot read {path}: {exc.strerror}") from None
            found += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        return frozenset(k.encode() for k in found)

    def intra_op_threads(self) -> int:
        """ORT threads: the configured number, else a worker's share of the CPUs this process may run on (workers
        that each took every CPU would fight over them)."""
        if self.threads:
            return self.threads
        return max(1, self.cpus() // self.workers)

    def cpus(self) -> int:
        """The CPUs this process may run on."""
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # not Linux
            return os.cpu_count() or 1


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
