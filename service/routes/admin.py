"""Operator routes under /admin; the auth middleware lets only admin keys through."""

from __future__ import annotations

from fastapi import APIRouter

from service.deps import StateDep
from service.schemas.admin import ReloadResponse

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post("/reload")
async def reload(state: StateDep) -> ReloadResponse:
    """Re-read the models directory: load new or changed models and swap them in, stop serving removed ones.

    Requests keep being served throughout; a model whose new version (or new manifest) fails its checks keeps
    its old one, and `failed` says why.
    """
    return await state.reload()
