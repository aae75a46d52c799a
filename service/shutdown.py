"""Graceful shutdown: on SIGTERM stop being ready, refuse new work, finish what is in flight, then exit.

Plain uvicorn closes its listening socket at the first SIGTERM, so a load balancer polling `/readyz`
would see connection errors instead of a 503, and could keep routing clients to a closing process.
Here SIGTERM only starts a drain: `/readyz` answers 503, new requests get 503 with `Retry-After`
and `Connection: close`, and uvicorn is told to exit once no request is in flight (after at least
`GAN_DRAIN_DELAY_S`) or when `GAN_SHUTDOWN_GRACE_S` runs out, whichever comes first. A second
signal skips the drain; a third stops at once.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from service.middleware import send_json

log = logging.getLogger(__name__)

PROBES = frozenset({"/healthz", "/readyz", "/metrics"})  # still answered while draining
_EXIT_MARGIN_S = 1.5  # of the grace period, kept for uvicorn's own shutdown (at least 1 s) and the lifespan


@dataclass
class Drain:
    """Shared by the gate and the server: whether the process is draining, and what is in flight."""

    draining: bool = False
    inflight: int = 0
    since: float = 0.0  # time.monotonic() of the signal


class DrainGate:
    """Counts requests in flight; while draining, refuses new ones (probes excepted) with 503."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PROBES:
            await self.app(scope, receive, send)
            return
        if self.drain.draining:
            headers = {"Retry-After": "1", "Connection": "close"}
            await send_json(send, 503, "the server is shutting down; retry on another replica", headers)
            return
        self.drain.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.inflight -= 1


class GracefulServer(uvicorn.Server):
    """uvicorn's server, with SIGTERM/SIGINT starting a drain instead of closing the listener.

    `fatal()` is polled on uvicorn's tick: when it returns a message, the server stops (the caller
    reports it and exits non-zero).
    """

    def __init__(
        self,
        config: uvicorn.Config,
        drain: Drain,
        grace_s: float,
        delay_s: float = 0.0,
        fatal: Callable[[], str | None] = lambda: None,
    ) -> None:
        super().__init__(config)
        self.drain = drain
        self.grace_s = grace_s
        self.delay_s = delay_s
        self.fatal = fatal
        self._signal: str | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """First signal: drain. Second: exit without waiting for the drain. Third: stop now.

        Not calling uvicorn's handler keeps it from re-raising the signal after a clean
        shutdown, so a drained process exits 0.
        """
        if not self.started or self.should_exit:
            self.force_exit = self.should_exit
            self.should_exit = True
        elif self.drain.draining:
            self.should_exit = True
        else:
            self.drain.since = time.monotonic()
            self.drain.draining = True
            self._signal = signal.Signals(sig).name  # logged on the next tick, not inside the handler

    async def on_tick(self, counter: int) -> bool:
        if self.fatal() is not None:
            self.should_exit = True
        elif self.drain.draining and not self.should_exit:
            if self._signal:
                log.info("%s: draining; %d requests in flight", self._signal, self.drain.inflight)
                self._signal = None
            waited = time.monotonic() - self.drain.since
            idle = self.drain.inflight == 0 and waited >= self.delay_s
            if idle or waited >= self.grace_s - _EXIT_MARGIN_S:
                self.config.timeout_graceful_shutdown = max(1, int(self.grace_s - _EXIT_MARGIN_S - waited))
                self.should_exit = True
        return await super().on_tick(counter)
