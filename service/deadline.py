"""Per-request deadlines: `X-Deadline-Ms: <ms>` bounds how long a request may wait for its images.

The middleware turns the header (or `GAN_DEFAULT_DEADLINE_MS`) into an absolute event-loop time held in
a context variable, so `ServiceState.sample` can read it without every route passing it along. When the
time passes, `sample` stops waiting and cancels the queued work, which the batcher then drops before
inference: nothing is computed for a client that has given up.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

from service.middleware import send_json

HEADER = "X-Deadline-Ms"
MAX_MS = 3_600_000

_deadline: ContextVar[float | None] = ContextVar("deadline", default=None)


def current() -> float | None:
    """This request's deadline on the event-loop clock, or None for no deadline."""
    return _deadline.get()


def parse_ms(raw: bytes) -> int | None:
    """A header value → milliseconds in 1..MAX_MS, or None when it is not one."""
    text = raw.strip()
    if not text.isdigit() or len(text) > 7:
        return None
    ms = int(text)
    return ms if 1 <= ms <= MAX_MS else None


class DeadlineMiddleware:
    """Sets the deadline of each POST request; a malformed header is a 422 naming it."""

    def __init__(self, app: ASGIApp, default_ms: int | None = None) -> None:
        self.app = app
        self.default_ms = default_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":  # only POST routes compute images
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == b"x-deadline-ms"), None)
        ms = self.default_ms if raw is None else parse_ms(raw)
        if raw is not None and ms is None:
            msg = f"must be a whole number of milliseconds in 1..{MAX_MS}"
            await send_json(send, 422, [{"loc": ["header", HEADER], "msg": msg, "type": "value_error"}])
            return
        token = _deadline.set(None if ms is None else asyncio.get_running_loop().time() + ms / 1000)
        try:
            await self.app(scope, receive, send)
        finally:
            _deadline.reset(token)
