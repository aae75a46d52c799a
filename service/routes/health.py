"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from service.deps import StateDep
from service.metrics import CONTENT_TYPE
from service.schemas import HealthStatus

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> HealthStatus:
    """200 while the process serves HTTP, loaded or not."""
    return HealthStatus(status="ok")


@router.get(
    "/readyz", responses={503: {"model": HealthStatus, "description": "still loading, nothing served, or draining"}}
)
async def readyz(state: StateDep) -> JSONResponse:
    """200 once loading finished with at least one model served, 503 again from SIGTERM on; `failed` names
    models refused."""
    status: Literal["ready", "loading", "unready", "draining"] = (
        "draining" if state.drain.draining else "ready" if state.ready else "loading" if state.loading else "unready"
    )
    body = HealthStatus(status=status, models=state.served_names(), failed=state.registry.failed)
    return JSONResponse(body.model_dump(), status_code=200 if state.ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(state: StateDep) -> Response:
    """Prometheus text exposition of this app's registry."""
    for name, batcher in state.batchers.items():
        state.metrics.queue_depth.labels(name).set(batcher.depth)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
