"""FastAPI dependencies as `Annotated` aliases, so route signatures stay one line."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from service.settings import Settings
from service.state import ServiceState

# Dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in its thread
# pool, which cost every request a thread hop (15% of the event loop's time under load).


async def get_state(request: Request) -> ServiceState:
    """The state `create_app` attached to this app (never a module global)."""
    state: ServiceState = request.app.state.service
    return state


async def get_app_settings(request: Request) -> Settings:
    state: ServiceState = request.app.state.service
    return state.settings


StateDep = Annotated[ServiceState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
