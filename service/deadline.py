"""Per-request deadlines: `X-Deadline-Ms: <ms>` bounds how long a request may wait for its images.

The middleware turns the header (or `GAN_DEFAULT_DEADLINE_MS`) into an absolute event-loop time held in
a context variable, so `ServiceState.sample` can read it without every route passing it along. When the
time passes, `sample` stops waiting and cancels the queued work, which the batcher then drops before
inference: nothing is computed for a client that has given up.

Whose deadline it was decides the answer: the client's own `X-Deadline-Ms` is a 408 (a 4xx, as Twirp maps
deadline_exceeded: the client set a budget its request did not fit, the server is not at fault), the server's
`GAN_DEFAULT_DEADLINE_MS` a 504. The body says which, and how many milliseconds it was.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import DeadlineExceeded
from service.middleware import send_json

HEADER = "X-Deadline-Ms"
MAX_MS = 3_600_000

CLIENT_STATUS, SERVER_STATUS = 408, 504
# (event-loop time it passes, its milliseconds, whether the client's header set it); one variable, one set per request
_deadline: ContextVar[tuple[float, int, bool] | None] = ContextVar("deadline", default=None)


def current() -> float | None:
    """This request's deadline on the event-loop clock, or None for no deadline."""
    found = _deadline.get()
    return None if found is None else found[0]


def expired(before: str) -> DeadlineExceeded:
    """The error for this request's deadline having passed `before` something: 408 the client's, 504 the server's."""
    _, ms, client = _deadline.get() or (0.0, 0, False)
    if client:
        return DeadlineExceeded(f"the client's deadline ({HEADER}: {ms}) passed {before}", CLIENT_STATUS)
    return DeadlineExceeded(f"the server's deadline (GAN_DEFAULT_DEADLINE_MS: {ms}) passed {before}", SERVER_STATUS)


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
        until = None if ms is None else (asyncio.get_running_loop().time() + ms / 1000, ms, raw is not None)
        token = _deadline.set(until)
        try:
            await self.app(scope, receive, send)
        finally:
            _deadline.reset(token)
