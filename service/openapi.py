"""The OpenAPI document as this server really behaves: its limits, its keys, the answers middleware gives.

FastAPI documents what routes declare. Middleware answers (401/403 without the right key, 408 for a
slow body, 413, 503 while draining, 504 past a deadline), the `X-Deadline-Ms` header and the limits
lowered by settings exist only at run time, so they are written in here, once, when the document is
first built. Clients, and the fuzzing tests that check every response against the document, then see
the same contract the server enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from service import limits
from service.auth import OPEN_PATHS, KeyRing, is_admin_path
from service.deadline import HEADER, MAX_MS
from service.settings import Settings
from service.shutdown import PROBES

Operation = dict[str, Any]
_DETAIL = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
ANY_KEY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


def _respond(op: Operation, status: int, description: str, **extra: Any) -> None:
    """Document an error answer unless the route already does."""
    op.setdefault("responses", {}).setdefault(str(status), {"description": description, "content": _DETAIL, **extra})


def _document(path: str, method: str, op: Operation, keys: KeyRing) -> None:
    admin = is_admin_path(path)
    if admin or (keys.api_required and path not in OPEN_PATHS):
        op["security"] = ANY_KEY
        _respond(op, 401, "missing or invalid key; see WWW-Authenticate")
    elif path in OPEN_PATHS:
        op["security"] = []
    if admin:
        _respond(op, 403, "not an admin key, or the admin API is disabled")
    if path not in PROBES:
        _respond(op, 503, "loading, overloaded or shutting down", headers=_RETRY_AFTER)
    if "{" in path:
        _respond(op, 404, "no such model (or file)")
    if method != "post":
        return
    _respond(op, 408, "the request body did not arrive in time")
    _respond(op, 413, "request body too large")
    if admin:
        return
    _respond(op, 422, "invalid input; `detail[].loc` names the field")
    _respond(op, 504, f"the {HEADER} deadline passed before the images were ready")
    op.setdefault("parameters", []).append(
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "description": "milliseconds this request may wait for its images; queued work past it is dropped",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_MS},
        }
    )


def customize(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the document with this server's limits, keys and middleware answers."""
    build: Callable[[], dict[str, Any]] = app.openapi
    keys = KeyRing.from_settings(settings)

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        doc = build()  # FastAPI caches it in app.openapi_schema, so this runs once
        if fresh:
            components = doc.setdefault("components", {})
            schemas = components.setdefault("schemas", {})
            schemas["ErrorDetail"] = {
                "type": "object",
                "properties": {"detail": {"description": "what was wrong: a text, or FastAPI's list of field errors"}},
                "required": ["detail"],
            }
            components["securitySchemes"] = SECURITY_SCHEMES  # /admin/* always needs a key, so always refers to them
            for path, item in doc.get("paths", {}).items():
                for method, op in item.items():
                    _document(path, method, op, keys)
            limits.document(doc, settings)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]
