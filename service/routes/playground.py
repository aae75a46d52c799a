"""The web playground (GET /, /static/{file}) and each model's committed sample grid.

The page is plain static files that call the public API like any other client, so it needs no
build step and no template engine. Static files are served from a fixed listing made at import,
which keeps client-supplied names from ever becoming file paths.
"""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from service.deps import StateDep

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_FILES = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()} if STATIC_DIR.is_dir() else {}
REVALIDATE = {"Cache-Control": "no-cache"}  # a redeployed page must not run a stale module

router = APIRouter(tags=["playground"])


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """The playground page."""
    return FileResponse(STATIC_DIR / "index.html", headers=REVALIDATE)


@router.get("/static/{file}", include_in_schema=False)
async def static(file: str) -> FileResponse:
    """The playground's ES modules (app.js and those it imports) and style sheet."""
    if file not in STATIC_FILES:
        raise HTTPException(404, f"no static file {file!r}")
    return FileResponse(STATIC_FILES[file], headers=REVALIDATE)


def _model_folder(models_dir: Path, name: str) -> Path | None:
    """The folder whose manifest names `name` (folders are usually, but not necessarily, named after it)."""
    for manifest in sorted(models_dir.glob("*/manifest.json")):
        try:
            if json.loads(manifest.read_text()).get("name") == name:
                return manifest.parent
        except (OSError, ValueError):
            continue
    return None


@router.get(
    "/models/{name}/samples.png",
    tags=["models"],
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, 404: {"description": "unknown model, or it has no samples.png"}},
)
async def samples(name: str, state: StateDep) -> FileResponse:
    """The sample grid committed with a served model at export (`exported_models/<name>/samples.png`)."""
    model = state.served(name)  # 404 for unknown names, before any file is looked at
    folder = _model_folder(state.settings.models_dir, model.name)
    if folder is None or not (folder / "samples.png").is_file():
        raise HTTPException(404, f"model {model.name!r} has no samples.png")
    return FileResponse(folder / "samples.png", media_type="image/png")
