"""The OpenAPI document as this server really behaves: its limits, its keys, the answers middleware gives.

FastAPI documents what routes declare. Middleware answers (401/403 without the right key, 408 for a
slow body or the client's own deadline, 413, 503 while draining, 504 past the server's default deadline),
the `X-Deadline-Ms` header and the limits lowered by settings exist only at run time, so they are written
in here, and the request schemas are narrowed to the served models (`service.openapi_models`). The
document is rebuilt whenever the served models change. Clients, and the fuzzing tests that check every
response against the document, then see the same contract the server enforces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from service import limits, openapi_models
from service.auth import OPEN_PATHS, KeyRing, is_admin_path
from service.deadline import HEADER, MAX_MS
from service.settings import Settings
from service.shutdown import PROBES

Operation = dict[str, Any]
_DETAIL = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorDetail"}}}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}}
_CHALLENGE = {
    "WWW-Authenticate": {"description": "`Bearer realm=...`, how to authenticate", "schema": {"type": "string"}}
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}
ANY_KEY: list[dict[str, list[str]]] = [{"bearer": []}, {"apiKey": []}]


def _respond(op: Operation, status: int, description: str, **extra: Any) -> None:
    """Document an error answer unless the route already does."""
    op.setdefault("responses", {}).setdefault(str(status), {"description": description, "content": _DETAIL, **extra})


def _document(path: str, method: str, op: Operation, keys: KeyRing, settings: Settings) -> None:
    admin = is_admin_path(path)
    if admin or (keys.api_required and path not in OPEN_PATHS):
        op["security"] = ANY_KEY
        _respond(op, 401, "missing or invalid key; see WWW-Authenticate", headers=_CHALLENGE)
    elif path in OPEN_PATHS:
        op["security"] = []
    if admin:
        _respond(op, 403, "not an admin key, or the admin API is disabled")
    if path not in PROBES:
        _respond(op, 503, "loading, overloaded or shutting down", headers=_RETRY_AFTER)
        op["responses"]["503"].setdefault("headers", _RETRY_AFTER)  # also where the route declares its own 503
    if "{" in path:
        _respond(op, 404, "no such model (or file)")
    if method != "post":
        return
    if admin:
        _respond(op, 408, "the request body did not arrive within GAN_BODY_TIMEOUT_S")
        _respond(op, 413, "request body too large")
        return
    _respond(
        op,
        408,
        f"the body did not arrive within GAN_BODY_TIMEOUT_S, or the client's own {HEADER} passed "
        "before the images were ready; `detail` says which",
    )
    _respond(op, 413, "request body too large")
    _respond(op, 422, "invalid input; `detail[].loc` names the field")
    if settings.default_deadline_ms is not None:
        _respond(op, 504, "the server's GAN_DEFAULT_DEADLINE_MS passed before the images were ready")
    op.setdefault("parameters", []).append(
        {
            "name": HEADER,
            "in": "header",
            "required": False,
            "description": "milliseconds this request may wait for its images; queued work past it is dropped",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_MS},
        }
    )


def _served(app: FastAPI) -> tuple[object, ...]:
    """What the request schemas depend on: the served models (by digest) and the default."""
    state = app.state.service
    models = tuple(sorted((m.name, m.manifest.sha256) for m in state.registry.models.values()))
    return models, tuple(sorted(state.pipelines)), state.default_model


def customize(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the document with this server's limits, keys, middleware answers and models."""
    build: Callable[[], dict[str, Any]] = app.openapi
    keys = KeyRing.from_settings(settings)
    built_for: list[tuple[object, ...]] = []

    def openapi() -> dict[str, Any]:
        served = _served(app)
        if built_for != [served]:  # models loaded, reloaded or removed since: build it again
            app.openapi_schema = None
            built_for[:] = [served]
        fresh = app.openapi_schema is None
        doc = build()  # FastAPI caches it in app.openapi_schema, so this runs once per set of served models
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
                    if path.startswith("/v2/"):  # the protocol's {"error", "detail"}, or middleware's {"detail"}
                        for status, answer in op.get("responses", {}).items():
                            if status[0] in "45":
                                answer["content"] = _DETAIL
                    if path == "/v2/models/{name}/infer":  # the binary tensor extension answers in bytes
                        op["responses"]["200"]["content"]["application/octet-stream"] = {
                            "schema": {"type": "string", "format": "binary"}
                        }
                    _document(path, method, op, keys, settings)
            limits.document(doc, settings)
            state = app.state.service
            generators = list(state.registry.models.values())
            openapi_models.document(
                doc, generators, list(state.pipelines.values()), state.default_model, settings.max_n
            )
        return doc

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the document
