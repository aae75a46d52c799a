"""`create_app(settings)`: the FastAPI app, its middleware, routers and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from service import __version__
from service.errors import install_error_handlers
from service.middleware import BodyLimitMiddleware, ObservabilityMiddleware
from service.routes import ROUTERS, playground
from service.settings import Settings, get_settings
from service.state import ServiceState

DESCRIPTION = """Samples GAN generators exported to ONNX.

Every image is defined by its seed: image `i` of `{seed: s, n: k}` is byte-identical to the single
image of seed `s + i`, whatever else the server is batching. See docs/API.md for the full contract."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build an app; nothing is loaded until its lifespan starts (then in the background)."""
    settings = settings or get_settings()
    state = ServiceState(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = asyncio.create_task(state.load(), name="load-models")
        try:
            yield
        finally:
            loader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loader
            await state.close()

    app = FastAPI(title="GAN sampling service", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.service = state
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(ObservabilityMiddleware, metrics=state.metrics)  # outermost: sees 413s too
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(playground.router)
    return app
