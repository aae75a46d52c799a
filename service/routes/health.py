"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from service.deps import StateDep
from service.metrics import CONTENT_TYPE
from service.schemas.health import HealthStatus, ReadyStatus

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> HealthStatus:
    """200 while the process serves HTTP, loaded or not."""
    return HealthStatus(status="ok")


@router.get(
    "/readyz",
    response_model=ReadyStatus,
    responses={503: {"model": ReadyStatus, "description": "still loading, nothing served, or draining"}},
)
async def readyz(state: StateDep, request: Request) -> JSONResponse:
    """200 once loading finished with at least one model served, 503 again from SIGTERM on. Open to probes
    without a key; `failed` (models refused) and `down` (lanes whose last batch failed) need a valid key
    when API keys are required."""
    status: Literal["ready", "loading", "unready", "draining"] = (
        "draining" if state.drain.draining else "ready" if state.ready else "loading" if state.loading else "unready"
    )
    body = ReadyStatus(
        status=status, models=state.served_names(), failed=state.registry.failed, down=state.lanes.down()
    )
    hidden = None if state.keys.admits(request.headers.raw) else {"failed", "down"}
    return JSONResponse(body.model_dump(exclude=hidden), status_code=200 if state.ready else 503)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(state: StateDep) -> Response:
    """Prometheus text exposition of this app's registry."""
    for name, batcher in state.lanes.batchers.items():
        state.metrics.queue_depth.labels(name).set(batcher.depth)
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
