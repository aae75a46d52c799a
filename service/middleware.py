"""Pure-ASGI middleware: request-body limit (413), access log + request metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import Metrics
from service.settings import AccessLog

access_log = logging.getLogger("service.access")


async def send_json(send: Send, status: int, detail: object, headers: dict[str, str] | None = None) -> None:
    """A complete `{"detail": ...}` response, for middleware that answers before any route runs."""
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Read at most `limit` body bytes within `timeout_s`, answering 413 or 408 past them, then replay the body.

    Buffering is fine here: request bodies are small JSON. Because the whole body is read before any
    route runs, a slow uploader never holds a place in a batch, and the timeout frees its connection.
    Later `receive()` calls go to the server, so the app can still notice a client disconnecting.
    """

    def __init__(self, app: ASGIApp, limit: int, timeout_s: float = 10.0) -> None:
        self.app = app
        self.limit = limit
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await send_json(send, 400, "invalid Content-Length header")
                return
            if int(length) > self.limit:
                await send_json(send, 413, f"request body over {self.limit} bytes")
                return
        chunks: list[bytes] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                complete = await self._read(receive, chunks)
        except TimeoutError:
            detail = f"request body not received within {self.timeout_s:g} s"
            await send_json(send, 408, detail, {"Connection": "close"})
            return
        if complete is None:
            return  # the client left
        if not complete:
            await send_json(send, 413, f"request body over {self.limit} bytes")
            return
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, replay_first(body, receive), send)

    async def _read(self, receive: Receive, chunks: list[bytes]) -> bool | None:
        """Append body chunks; True when complete, False past the limit, None when the client left."""
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return False
            more = message.get("more_body", False)
        return True


class ObservabilityMiddleware:
    """One metrics observation per HTTP request, and a structured access-log line for the ones `access_log` names.

    `access_log="errors"` (the default) logs answers with status 400 and up: a JSON line for every
    request cost the event loop about 8% of its time per request, and the metrics count them all.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: AccessLog) -> None:
        self.app = app
        self.metrics = metrics
        self.log_from = {"all": 0, "errors": 400, "off": 1000}[access_log]  # lowest status logged

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app dies before answering, that is what the client sees

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "<unmatched>")
            self.metrics.observe_request(route, scope["method"], status, seconds)
            if status >= self.log_from and access_log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "route": route,
                        "status": status,
                        "ms": round(1000 * seconds, 2),
                        "client": f"{client[0]}:{client[1]}" if client else None,
                    },
                )


def replay_first(message: Message, receive: Receive) -> Receive:
    """`receive` giving `message` first, then whatever the server sends."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return message

    return replay
