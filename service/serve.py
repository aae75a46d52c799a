"""Run the service: one uvicorn process, or `GAN_WORKERS` of them accepting on one listening socket.

Each worker is a whole service (its own sessions, batchers, metrics and graceful drain), so byte identity
and the overload contract hold per process. The parent only binds the port, forwards SIGTERM/SIGINT
(each worker then drains on its own) and exits when the workers have; it does not respawn a worker that
dies, it stops the others and exits non-zero, so the orchestrator restarts the whole replica.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType

import uvicorn

from service.app import create_app
from service.logs import configure_logging
from service.protocol import OneWriteProtocol
from service.settings import Settings
from service.shutdown import GracefulServer

STARTUP_FAILURE = 3  # uvicorn's own code for a server that never started
BACKLOG = 2048  # uvicorn's default
log = logging.getLogger(__name__)


def serve(settings: Settings, sockets: list[socket.socket] | None = None) -> int:
    """Serve until drained; the exit status (`python -m service` documents it). Reports a fatal error on stderr."""
    app = create_app(settings)
    state = app.state.service
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=OneWriteProtocol,
        log_config=None,  # keep our JSON handler
        access_log=False,  # service.access logs every request with route and latency
        log_level=settings.log_level,
        timeout_keep_alive=settings.keepalive_s,
        backlog=BACKLOG,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_s)),
    )
    server = GracefulServer(
        config, state.drain, settings.shutdown_grace_s, settings.drain_delay_s, fatal=lambda: state.fatal
    )
    server.run(sockets)
    if state.fatal:
        print(f"service: {state.fatal}; exiting", file=sys.stderr)
        return 1
    return 0 if server.started else STARTUP_FAILURE


def _worker(settings: Settings, sock: socket.socket) -> None:
    """One worker process: a whole service on the parent's socket; it stops if the parent is gone."""
    os.setpgid(0, 0)  # a terminal's Ctrl-C reaches the parent only, which forwards it once
    configure_logging(settings.log_level)
    parent = os.getppid()

    def orphaned() -> None:  # a parent killed with SIGKILL cannot forward anything
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=orphaned, daemon=True, name="parent-watch").start()
    sys.exit(serve(settings, [sock]))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
    sock.set_inheritable(True)
    return sock


def supervise(settings: Settings) -> int:
    """Start `settings.workers` workers on one socket; forward signals; the first failure stops them all."""
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        print(f"service: cannot listen on {settings.host}:{settings.port}: {exc.strerror}", file=sys.stderr)
        return STARTUP_FAILURE
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter each: no ORT state shared through fork
    workers = [
        spawn.Process(target=_worker, args=(settings, sock), name=f"worker-{i}") for i in range(settings.workers)
    ]
    stopping = threading.Event()

    def forward(sig: int, frame: FrameType | None) -> None:
        stopping.set()
        for worker in workers:
            if worker.pid is not None and worker.exitcode is None:
                os.kill(worker.pid, sig)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, forward)
    for worker in workers:
        worker.start()
    log.info("serving on %s:%d with %d workers", settings.host, settings.port, settings.workers)
    status = 0
    while any(w.exitcode is None for w in workers):
        for worker in workers:
            worker.join(0.2)
            code = worker.exitcode
            if code is not None and code != 0 and not status:
                status = code if code > 0 else 1
                if not stopping.is_set():
                    log.error("%s exited with %s; stopping the others", worker.name, code)
                    forward(signal.SIGTERM, None)
    sock.close()
    return status
