"""A lean path for the commonest request: POST /generate with a JSON body that validates.

FastAPI's handling of one request (routing over every mounted route, dependency resolution, JSON
decoding and validation, its exception and exit-stack middleware) was the largest single cost of an
n=1 request: this layer cut the event loop's CPU per request from 487 to 263 µs at concurrency 64
(`python -m bench.cpu`, docs/bench). It is the innermost of the app's middleware, validates the body
with the route's own model and calls the route function itself. Everything else goes on to FastAPI
untouched: other routes and methods, other content types, and every body that
`GenerateRequest.model_validate_json` refuses, so each 422 is still FastAPI's own. Exceptions the
route raises go to the app's exception handlers, as Starlette's ExceptionMiddleware would send them.
tests/service/test_fastpath.py checks that both paths give the same answers.
"""

from __future__ import annotations

import inspect
import itertools
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, HTTPExceptionHandler, Receive, Scope, Send

from service.middleware import replay_first
from service.routes.generate import generate, router
from service.schemas.generate import GenerateRequest

PATH = "/generate"
ROUTE = next(route for route in router.routes if getattr(route, "endpoint", None) is generate)


class GenerateFastPath:
    """Serve valid `POST /generate` JSON requests without FastAPI's per-request machinery."""

    def __init__(self, app: ASGIApp, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        if next((v for k, v in scope["headers"] if k == b"content-type"), None) != b"application/json":
            await self.app(scope, receive, send)
            return
        message = await receive()  # the body limit middleware replays the whole body in one message
        if message["type"] != "http.request" or message.get("more_body", False):
            await self.app(scope, replay_first(message, receive), send)
            return
        try:
            body = GenerateRequest.model_validate_json(message.get("body", b""))
        except ValidationError:
            await self.app(scope, replay_first(message, receive), send)  # FastAPI words the 422
            return
        scope["route"] = ROUTE  # as FastAPI's router sets it: the metrics label requests by its path
        request = Request(scope, receive, send)
        try:
            response = await generate(body, request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise  # a bug: ServerErrorMiddleware answers 500, as on FastAPI's path
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> HTTPExceptionHandler | None:
        """The app's handler for this exception (nearest class first), as ExceptionMiddleware finds it;
        never the `Exception` catch-all, which ServerErrorMiddleware runs outside every middleware."""
        handlers: dict[Any, HTTPExceptionHandler] = self.fastapi_app.exception_handlers
        classes = itertools.takewhile(lambda cls: cls is not Exception, type(exc).__mro__)
        return next((handlers[cls] for cls in classes if cls in handlers), None)
