"""uvicorn's httptools protocol, sending each response in one write instead of two, and saying at once when a
client leaves.

uvicorn writes a response's head as soon as the app sends `http.response.start` and its body when the app
sends `http.response.body`: two `send` system calls and, with TCP_NODELAY, two TCP segments for the client
to read. The app sends both in the same turn of the event loop, so writes made during one turn are joined
and handed to the socket at the start of the next: one system call and one segment per small response.

A request learns that its client left through the `Disconnect` in `scope["extensions"]`: the protocol calls
its callbacks when the connection closes before the response is complete. Reading `receive()` for
`http.disconnect` instead took a task of its own per request, about 5% of the event loop's time (docs/bench).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

DISCONNECT = "gan.disconnect"  # the key of a request's Disconnect in scope["extensions"]


class Disconnect:
    """Callbacks to run once, when the client's connection closes before its response is complete; one added
    after that runs at once."""

    __slots__ = ("_callbacks", "fired")

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], object]] = []
        self.fired = False

    def add(self, callback: Callable[[], object]) -> None:
        if self.fired:
            callback()
        else:
            self._callbacks.append(callback)

    def remove(self, callback: Callable[[], object]) -> None:
        with contextlib.suppress(ValueError):  # fired (and emptied) already
            self._callbacks.remove(callback)

    def fire(self) -> None:
        self.fired = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()


class CoalescingTransport:
    """A transport whose writes within one event-loop turn reach the real transport as one write.

    Everything else (close excepted, which writes what is pending first) is the real transport's own.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._pending = []
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteProtocol(HttpToolsProtocol):
    """`uvicorn.Config(http=OneWriteProtocol)`: httptools parsing, one write per response, a `Disconnect` per
    request."""

    # The ignores: uvicorn narrows asyncio's BaseTransport to Transport here too (with the same ignore), a
    # CoalescingTransport stands in for a Transport by delegating, and the ASGI types say every extension is a dict.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    def on_headers_complete(self) -> None:
        self.scope.setdefault("extensions", {})[DISCONNECT] = Disconnect()  # type: ignore[assignment]
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        cycle: RequestResponseCycle | None = self.cycle  # None before the first request (uvicorn types it as set)
        super().connection_lost(exc)
        if cycle is not None and cycle.disconnected:  # uvicorn's mark: closed before the response was complete
            cast(Disconnect, cycle.scope["extensions"][DISCONNECT]).fire()
