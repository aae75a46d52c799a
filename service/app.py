"""`create_app(settings)`: the FastAPI app, its middleware, routers and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from service import __version__, openapi
from service.auth import AuthMiddleware, KeyRing
from service.deadline import DeadlineMiddleware
from service.errors import install_error_handlers
from service.fastpath import GenerateFastPath
from service.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from service.routes import ROUTERS, playground
from service.settings import Settings, get_settings
from service.shutdown import DrainGate
from service.state import ServiceState

DESCRIPTION = """Samples GAN generators exported to ONNX.

Every image is defined by its seed: image `i` of `{seed: s, n: k}` is byte-identical to the single
image of seed `s + i`, whatever else the server is batching. See docs/API.md for the full contract."""

CORS_HEADERS = ["Authorization", "Content-Type", "X-API-Key", "X-Deadline-Ms"]
EXPOSED_HEADERS = ["X-Model", "X-Seed", "X-Label", "X-Direction", "X-Unknown-Words", "Retry-After"]


def _telemetry(enabled: bool) -> dict[str, Any]:
    """FastAPI's native OpenTelemetry switched off unless `enabled` (FastAPI versions that have it)."""
    if enabled or "telemetry" not in inspect.signature(FastAPI).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build an app; nothing is loaded until its lifespan starts (then in the background)."""
    settings = settings or get_settings()
    state = ServiceState(settings, KeyRing.from_settings(settings))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = asyncio.create_task(state.load(), name="load-models")
        try:
            if settings.workers > 1:  # a worker takes no connection until its models are ready; the others serve
                await loader
            yield
        finally:
            loader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loader
            await state.close()

    # /docs and /redoc with Swagger UI's and ReDoc's files served from fastapi-offline's package, not a CDN: they
    # work air-gapped and in clusters without egress.
    app = FastAPIOffline(
        title="GAN sampling service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        **_telemetry(settings.otel),
    )
    app.state.service = state
    # Added innermost first. A request meets: metrics, CORS, keys, the drain gate, the body limit, its deadline,
    # then the lean path of valid POST /generate requests (everything else goes on to FastAPI's router).
    app.add_middleware(GenerateFastPath, fastapi_app=app)
    app.add_middleware(DeadlineMiddleware, default_ms=settings.default_deadline_ms)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes, timeout_s=settings.body_timeout_s)
    app.add_middleware(DrainGate, drain=state.drain)
    app.add_middleware(AuthMiddleware, keys=state.keys)  # before any body is read
    if settings.cors_origins:  # outside the keys: preflights carry none
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=CORS_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )
    # Outermost: sees 401s and 413s too.
    app.add_middleware(ObservabilityMiddleware, metrics=state.metrics, access_log=settings.access_log)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(playground.router)
    openapi.customize(app, settings)
    return app
