"""uvicorn's httptools protocol, sending each response in one write instead of two.

uvicorn writes a response's head as soon as the app sends `http.response.start` and its body when the app
sends `http.response.body`: two `send` system calls and, with TCP_NODELAY, two TCP segments for the client
to read. The app sends both in the same turn of the event loop, so writes made during one turn are joined
and handed to the socket at the start of the next: one system call and one segment per small response.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


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
    """`uvicorn.Config(http=OneWriteProtocol)`: httptools parsing, one write per response."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
