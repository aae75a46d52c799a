"""Service-level errors and the handlers that turn them into JSON `{"detail": ...}` responses.

Routes raise these instead of building responses, so every error has one shape: 422 bodies
use FastAPI's own validation layout (`loc` names the field), and nothing a client sends can
reach the catch-all 500 handler, which exists only for real bugs.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from service.batcher import BatchFailed

log = logging.getLogger(__name__)


class InputError(Exception):
    """A well-formed request that the chosen model cannot honour (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class ModelNotFound(Exception):
    """No served model by that name (HTTP 404)."""

    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(f"unknown model {name!r}; served models: {', '.join(available) or 'none'}")


class Unavailable(Exception):
    """Loading, overloaded or shutting down: retry later (HTTP 503 with Retry-After)."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ClientGone(Exception):
    """The client disconnected before its images were ready; nobody reads the answer."""


class DeadlineExceeded(Exception):
    """The request's deadline passed before its images were ready: 408 for the client's X-Deadline-Ms, 504 for
    the server's default (service.deadline.expired builds it)."""

    def __init__(self, message: str, status: int = 504) -> None:
        super().__init__(message)
        self.status = status


def _retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, round(seconds)))}


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    loc = ["body", *exc.field.split(".")]
    detail = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 without echoing the input, which may be huge or not JSON-encodable (NaN)."""
    assert isinstance(exc, RequestValidationError)
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> Response:
    """HTTP errors as FastAPI answers them, except its 400 for a body it cannot decode (not UTF-8, or nested
    deeper than Python's JSON parser goes): that is bad input like any other, so 422."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        msg = "the body is not UTF-8 encoded JSON"
        if isinstance(exc.__cause__, RecursionError):
            msg = "the body's JSON nests too deeply"
        detail = [{"loc": ["body"], "msg": msg, "type": "json_invalid"}]
        return JSONResponse({"detail": detail}, status_code=422)
    return await http_exception_handler(request, exc)


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unavailable)
    return JSONResponse({"detail": str(exc)}, status_code=503, headers=_retry_after(exc.retry_after_s))


async def _deadline_exceeded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DeadlineExceeded)
    return JSONResponse({"detail": str(exc)}, status_code=exc.status)


async def _client_gone(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "client closed the request"}, status_code=499)


async def _batch_failed(request: Request, exc: Exception) -> JSONResponse:
    """A 500 without a second log line: the batcher logged the cause once for the whole batch."""
    assert isinstance(exc, BatchFailed)
    return JSONResponse({"detail": f"{exc.lane}: the model failed on this request's batch"}, status_code=500)


async def _server_bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Map the service's exceptions to responses; the `Exception` entry is the 500 catch-all."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(ModelNotFound, _not_found)
    app.add_exception_handler(Unavailable, _unavailable)
    app.add_exception_handler(ClientGone, _client_gone)
    app.add_exception_handler(DeadlineExceeded, _deadline_exceeded)
    app.add_exception_handler(BatchFailed, _batch_failed)
    app.add_exception_handler(Exception, _server_bug)
